//! Transactions: what a key holder asks a chain to do, signed.

use crate::Symbol;
pub use crate::alliance::action::AllianceAction;
pub use crate::anchor::action::AnchorAction;
pub use crate::brand::action::BrandAction;
pub use crate::bridge::action::BridgeAction;
pub use crate::codec::MAX_MEMO_BYTES;
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
pub use crate::exchange::action::OrderSize;
use crate::keys::Address;
pub use crate::membership::action::MembershipAction;
pub use crate::producers::action::ProducersAction;
pub use crate::token::action::TokenAction;
pub use crate::tokenomics::action::TokenomicsAction;
use serde::{Deserialize, Serialize};

pub use crate::envelope::{MAX_TX_BYTES, Payload, VerifyError, verify_batch};
pub use crate::hash::TxId;

/// An unsigned transaction carrying one of the domains' actions.
pub type Transaction = crate::envelope::Transaction<Action>;
/// A transaction with its sender's signature, not yet checked.
pub type SignedTransaction = crate::envelope::SignedTransaction<Action>;
/// A signed transaction whose signature has been checked.
pub type VerifiedTx = crate::envelope::VerifiedTx<Action>;

/// The exchange's actions, whose `SettleSell` embeds a customer's signed order.
pub type ExchangeAction = crate::exchange::action::ExchangeAction<SignedTransaction>;

/// What a transaction does: one domain's action. The dispatch of every rule, encoding and
/// query starts with a match on this enum and hands off to the domain.
///
/// On the wire an action is its one-byte tag and then its fields; the tags are unique
/// across domains (checked at compile time below). In JSON it is the domain action's own
/// object, `{"type": "<action>", …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Action {
    /// The ledger's own: transfer, mint, burn.
    Token(TokenAction),
    /// A partner's brand chain.
    Brand(BrandAction),
    /// The alliance's registry.
    Alliance(AllianceAction),
    /// Anchoring brand chains on the center chain.
    Anchor(AnchorAction),
    /// The exchange.
    Exchange(ExchangeAction),
    /// Membership.
    Membership(MembershipAction),
    /// Tokenomics.
    Tokenomics(TokenomicsAction),
    /// Who may sign the chain's blocks.
    Producers(ProducersAction),
    /// The bridge to the main chain.
    Bridge(BridgeAction),
}

/// Every domain's tags, which must never overlap.
const ACTION_TAGS: [&[u8]; 9] = [
    TokenAction::TAGS,
    BrandAction::TAGS,
    AllianceAction::TAGS,
    AnchorAction::TAGS,
    ExchangeAction::TAGS,
    MembershipAction::TAGS,
    TokenomicsAction::TAGS,
    ProducersAction::TAGS,
    BridgeAction::TAGS,
];
const _: () = assert!(
    crate::codec::disjoint(&ACTION_TAGS),
    "two domains use one action tag"
);

impl Action {
    /// The asset this action names, if it names one (brand actions move the chain's own
    /// Brand Token).
    pub fn asset(&self) -> Option<&Symbol> {
        match self {
            Action::Token(a) => Some(a.asset()),
            _ => None,
        }
    }

    /// The event kind a feed names it by (`transfer`, `conversion`, `sale`, …; a center-chain
    /// domain's actions by the domain's name).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Token(a) => a.kind(),
            Action::Brand(a) => a.kind(),
            Action::Alliance(_) => "alliance",
            Action::Anchor(_) => "anchor",
            Action::Exchange(a) => a.kind(),
            Action::Membership(_) | Action::Tokenomics(_) => "membership",
            Action::Producers(_) => "producers",
            Action::Bridge(a) => a.kind(),
        }
    }

    /// The account this action pays, other than the sender, if any.
    pub fn recipient(&self) -> Option<&Address> {
        match self {
            Action::Token(a) => a.recipient(),
            Action::Brand(BrandAction::Convert { to, .. })
            | Action::Brand(BrandAction::Expire { account: to }) => Some(to),
            Action::Exchange(ExchangeAction::DeliverBuy { to, .. })
            | Action::Tokenomics(TokenomicsAction::RewardLink { user: to, .. })
            | Action::Brand(BrandAction::ReportCoupon { user: to, .. })
            | Action::Brand(BrandAction::RefundCoupon { user: to, .. })
            | Action::Membership(MembershipAction::CreditCoupon { user: to, .. })
            | Action::Membership(MembershipAction::ReverseCoupon { user: to, .. })
            | Action::Membership(MembershipAction::SetLevelFloor { user: to, .. }) => Some(to),
            _ => None,
        }
    }
}

impl Payload for Action {
    fn recipient(&self) -> Option<&Address> {
        Action::recipient(self)
    }

    fn spends(&self) -> Option<(&Symbol, crate::Amount)> {
        match self {
            Action::Token(TokenAction::Transfer { asset, amount, .. })
            | Action::Token(TokenAction::Burn { asset, amount }) => Some((asset, *amount)),
            _ => None,
        }
    }

    fn weight(&self) -> usize {
        match self {
            Action::Brand(BrandAction::ConvertBatch { items }) => items.len().max(1),
            Action::Exchange(ExchangeAction::SettleBatch { steps }) => steps.len().max(1),
            _ => 1,
        }
    }

    fn max_bytes(&self) -> usize {
        match self {
            Action::Brand(BrandAction::ConvertBatch { .. })
            | Action::Exchange(ExchangeAction::SettleBatch { .. }) => {
                crate::envelope::MAX_BATCH_TX_BYTES
            }
            _ => MAX_TX_BYTES,
        }
    }

    fn recipients(&self) -> Vec<&Address> {
        let Action::Exchange(ExchangeAction::SettleBatch { steps }) = self else {
            return self.recipient().into_iter().collect();
        };
        (steps.iter())
            .filter_map(|step| match step {
                ExchangeAction::DeliverBuy { to, .. } => Some(to),
                _ => None,
            })
            .collect()
    }

    fn embedded(&self) -> Vec<&SignedTransaction> {
        fn order(a: &ExchangeAction) -> Option<&SignedTransaction> {
            match a {
                ExchangeAction::SettleSell { order } => Some(order.as_ref()),
                _ => None,
            }
        }
        match self {
            Action::Exchange(ExchangeAction::SettleBatch { steps }) => {
                steps.iter().filter_map(order).collect()
            }
            Action::Exchange(a) => order(a).into_iter().collect(),
            _ => Vec::new(),
        }
    }
}

impl Encode for Action {
    fn encode(&self, w: &mut Writer) {
        match self {
            Action::Token(a) => a.encode_into(w),
            Action::Brand(a) => a.encode_into(w),
            Action::Alliance(a) => a.encode_into(w),
            Action::Anchor(a) => a.encode_into(w),
            Action::Exchange(a) => a.encode_into(w),
            Action::Membership(a) => a.encode_into(w),
            Action::Tokenomics(a) => a.encode_into(w),
            Action::Producers(a) => a.encode_into(w),
            Action::Bridge(a) => a.encode_into(w),
        }
    }
}

impl Decode for Action {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.u8()?;
        let has = |tags: &[u8]| tags.contains(&tag);
        Ok(if has(TokenAction::TAGS) {
            Action::Token(TokenAction::decode_fields(tag, r)?)
        } else if has(BrandAction::TAGS) {
            Action::Brand(BrandAction::decode_fields(tag, r)?)
        } else if has(AllianceAction::TAGS) {
            Action::Alliance(AllianceAction::decode_fields(tag, r)?)
        } else if has(AnchorAction::TAGS) {
            Action::Anchor(AnchorAction::decode_fields(tag, r)?)
        } else if has(ExchangeAction::TAGS) {
            Action::Exchange(ExchangeAction::decode_fields(tag, r)?)
        } else if has(MembershipAction::TAGS) {
            Action::Membership(MembershipAction::decode_fields(tag, r)?)
        } else if has(TokenomicsAction::TAGS) {
            Action::Tokenomics(TokenomicsAction::decode_fields(tag, r)?)
        } else if has(ProducersAction::TAGS) {
            Action::Producers(ProducersAction::decode_fields(tag, r)?)
        } else if has(BridgeAction::TAGS) {
            Action::Bridge(BridgeAction::decode_fields(tag, r)?)
        } else {
            return Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            });
        })
    }
}

macro_rules! action_from {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for Action {
            fn from(a: $ty) -> Action {
                Action::$variant(a)
            }
        }
    )*};
}
action_from!(
    Token(TokenAction),
    Brand(BrandAction),
    Alliance(AllianceAction),
    Anchor(AnchorAction),
    Exchange(ExchangeAction),
    Membership(MembershipAction),
    Tokenomics(TokenomicsAction),
    Producers(ProducersAction),
    Bridge(BridgeAction)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Amount;
    use crate::{ChainId, Hash, Keypair, Signature};
    use proptest::prelude::*;

    fn sample() -> Transaction {
        Transaction {
            chain: ChainId::center(),
            sender: Keypair::from_label("alice").address(),
            sequence: 7,
            expires_at_ms: 1_800_000_000_000,
            action: Action::Token(TokenAction::Transfer {
                to: Keypair::from_label("bob").address(),
                asset: "MLK".parse().unwrap(),
                amount: Amount::new(1_250_000_000),
                memo: "for lunch".to_owned(),
            }),
        }
    }

    /// Golden vector: if this changes, every signature ever made changes with it.
    #[test]
    fn transaction_encoding_is_stable() {
        let tx = sample();
        let bytes = tx.to_bytes();
        assert_eq!(
            hex::encode(&bytes),
            concat!(
                "01",                                                               // version
                "0000000663656e746572",                                             // chain
                "a19dbcbe1455e09714a8fb48efd306aebf9a26e02959e1a4ee85dcefc8ab93ab", // sender
                "0000000000000007",                                                 // sequence
                "000001a3185c5000",                                                 // expiry
                "01",                                                               // transfer
                "10ad98685b7ff709ca008452e1f3e24f1dcc79eb2c9ff96a3f020c3fa26440ef", // to
                "000000034d4c4b",                                                   // asset
                "0000000000000000000000004a817c80",                                 // amount
                "00000009666f72206c756e6368",                                       // memo
            )
        );
        assert_eq!(
            tx.id().to_hex(),
            "0d518139c4456197d5e8025d0631d7d6c9f0d97f8d7344aed981972b1d3a4433"
        );
        assert_eq!(Transaction::from_bytes(&bytes), Ok(tx.clone()));
        // Ed25519 signatures are deterministic, so the signature is a golden value too.
        let signed = tx.sign(&Keypair::from_label("alice"));
        assert_eq!(
            hex::encode(signed.signature.0),
            "f4ec408fac3dc1d1cda23586acd75846d007926e50c3a750f198d0272093b6d19d3e20e45727f986e9502721ae82c5d5b7a4c13319999e721133bfcc681eaa0e"
        );
        assert_eq!(
            signed.tx.sender.to_string(),
            "milk15xwme0s52hsfw99gldywl5cx46le5fhq99v7rf8wshwwlj9tjw4sg0dq95"
        );
    }

    /// The JSON of an action is the domain action's own object, tagged by `type`: the
    /// dispatch enum adds no layer of its own, in either direction.
    #[test]
    fn action_json_is_flat() {
        let action = sample().action;
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json["type"], "transfer");
        assert_eq!(json["memo"], "for lunch");
        assert_eq!(serde_json::from_value::<Action>(json).unwrap(), action);
        let check_in = Action::Membership(MembershipAction::CheckIn);
        let json = serde_json::to_string(&check_in).unwrap();
        assert_eq!(json, r#"{"type":"check_in"}"#);
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), check_in);
    }

    /// Every tag a domain's decoder reads is in that domain's `TAGS`, and nothing else is:
    /// the list the compile-time disjointness check reads cannot leave an action out.
    #[test]
    fn each_domains_tags_are_exactly_what_it_decodes() {
        fn decodes(f: impl Fn(u8, &mut Reader<'_>) -> Result<(), DecodeError>) -> Vec<u8> {
            (0..=u8::MAX)
                .filter(|&tag| {
                    let unknown = Err(DecodeError::UnknownTag {
                        what: "action",
                        tag,
                    });
                    f(tag, &mut Reader::new(&[])) != unknown
                })
                .collect()
        }
        let sorted = |tags: &[u8]| {
            let mut v = tags.to_vec();
            v.sort_unstable();
            v
        };
        macro_rules! check {
            ($($ty:ty),*) => {$(
                assert_eq!(
                    decodes(|t, r| <$ty>::decode_fields(t, r).map(|_| ())),
                    sorted(<$ty>::TAGS),
                    "{}",
                    stringify!($ty)
                );
            )*};
        }
        check!(
            TokenAction,
            BrandAction,
            AllianceAction,
            AnchorAction,
            ExchangeAction,
            MembershipAction,
            TokenomicsAction
        );
    }

    #[test]
    fn signature_binds_every_field() {
        let key = Keypair::from_label("alice");
        let signed = sample().sign(&key);
        assert!(signed.clone().verify().is_ok());
        let mut other_chain = signed.clone();
        other_chain.tx.chain = "skyway".parse().unwrap();
        assert!(other_chain.verify().is_err());
        let mut bad_recipient = sample();
        if let Action::Token(TokenAction::Transfer { to, .. }) = &mut bad_recipient.action {
            let mut identity = [0u8; 32];
            identity[0] = 1;
            *to = Address::decode(&mut Reader::new(&identity)).unwrap();
        }
        assert_eq!(
            bad_recipient.sign(&key).verify().unwrap_err().1,
            VerifyError::InvalidAddress("recipient")
        );
        let mut other_seq = signed.clone();
        other_seq.tx.sequence += 1;
        assert!(other_seq.verify().is_err());
    }

    #[test]
    fn oversized_or_truncated_input_is_refused() {
        let bytes = sample().sign(&Keypair::from_label("alice")).to_bytes();
        assert!(SignedTransaction::decode_checked(&bytes).is_ok());
        assert!(SignedTransaction::decode_checked(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            SignedTransaction::decode_checked(&long),
            Err(DecodeError::TrailingBytes(1))
        );
        assert!(matches!(
            SignedTransaction::decode_checked(&[0; crate::envelope::MAX_BATCH_TX_BYTES + 1]),
            Err(DecodeError::TooLong { .. })
        ));
    }

    #[test]
    fn a_full_batch_of_the_longest_items_fits_and_one_more_item_does_not_decode() {
        use crate::brand::action::{ConversionItem, MAX_CONVERSION_BATCH};
        let item = |i: usize| ConversionItem {
            to: Keypair::from_label("alice").address(),
            mileage: u64::MAX,
            reference: format!("{i:064}"),
        };
        let batch = |n: usize| Transaction {
            action: Action::Brand(BrandAction::ConvertBatch {
                items: (0..n).map(item).collect(),
            }),
            ..sample()
        };
        let bytes = batch(MAX_CONVERSION_BATCH)
            .sign(&Keypair::from_label("alice"))
            .to_bytes();
        assert!(bytes.len() > MAX_TX_BYTES);
        let decoded = SignedTransaction::decode_checked(&bytes).unwrap();
        assert_eq!(decoded.tx.action, batch(MAX_CONVERSION_BATCH).action);
        let over = batch(MAX_CONVERSION_BATCH + 1).sign(&Keypair::from_label("alice"));
        assert!(matches!(
            SignedTransaction::decode_checked(&over.to_bytes()),
            Err(DecodeError::Invalid {
                what: "conversion batch",
                ..
            })
        ));
        let empty = batch(0).sign(&Keypair::from_label("alice"));
        assert!(SignedTransaction::decode_checked(&empty.to_bytes()).is_err());
    }

    #[test]
    fn a_full_settlement_batch_of_the_longest_steps_fits_and_one_more_step_does_not_decode() {
        use crate::exchange::settlement::MAX_SETTLEMENT_STEPS;
        let customer = Keypair::from_label("alice");
        let longest_chain: ChainId = "c".repeat(ChainId::MAX_LEN).parse().unwrap();
        let order = |i: usize| {
            Transaction {
                chain: longest_chain.clone(),
                sender: customer.address(),
                sequence: i as u64,
                expires_at_ms: u64::MAX,
                action: Action::Exchange(ExchangeAction::Sell {
                    amount: Amount::new(u128::MAX),
                    min_out: Amount::new(u128::MAX),
                }),
            }
            .sign(&customer)
        };
        let operator = Keypair::from_label("operator");
        let batch = |n: usize| Transaction {
            chain: longest_chain.clone(),
            sender: operator.address(),
            action: Action::Exchange(ExchangeAction::SettleBatch {
                steps: (0..n)
                    .map(|i| ExchangeAction::SettleSell {
                        order: Box::new(order(i)),
                    })
                    .collect(),
            }),
            ..sample()
        };
        let full = batch(MAX_SETTLEMENT_STEPS).sign(&operator);
        let bytes = full.to_bytes();
        assert!(bytes.len() > MAX_TX_BYTES);
        assert_eq!(SignedTransaction::decode_checked(&bytes), Ok(full.clone()));
        assert_eq!(full.tx.action.weight(), MAX_SETTLEMENT_STEPS);
        assert_eq!(full.tx.action.embedded().len(), MAX_SETTLEMENT_STEPS);
        let over = batch(MAX_SETTLEMENT_STEPS + 1).sign(&operator);
        assert!(matches!(
            SignedTransaction::decode_checked(&over.to_bytes()),
            Err(DecodeError::Invalid {
                what: "settlement batch",
                ..
            })
        ));
        assert!(SignedTransaction::decode_checked(&batch(0).sign(&operator).to_bytes()).is_err());
        // A batch holds settlement steps only: nothing else decodes inside one.
        let mut inner = Writer::new();
        inner.u8(57).u32(1);
        ExchangeAction::SetFee { fee_bps: 1 }.encode_into(&mut inner);
        assert!(matches!(
            Action::from_bytes(&inner.into_bytes()),
            Err(DecodeError::Invalid {
                what: "settlement batch",
                ..
            })
        ));
    }

    fn arb_action() -> impl Strategy<Value = Action> {
        let addr = (0u8..4).prop_map(|i| Keypair::from_label(&format!("p{i}")).address());
        let addr2 = addr.clone();
        let asset = prop::sample::select(vec!["MLK", "LZM", "SKY"])
            .prop_map(|s| s.parse::<Symbol>().unwrap());
        let amount = any::<u128>().prop_map(Amount::new);
        prop_oneof![
            (addr.clone(), asset.clone(), amount.clone(), "[ -~]{0,140}").prop_map(
                |(to, asset, amount, memo)| Action::Token(TokenAction::Transfer {
                    to,
                    asset,
                    amount,
                    memo
                })
            ),
            (addr, asset.clone(), amount.clone()).prop_map(|(to, asset, amount)| Action::Token(
                TokenAction::Mint { to, asset, amount }
            )),
            (asset, amount.clone())
                .prop_map(|(asset, amount)| Action::Token(TokenAction::Burn { asset, amount })),
            (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(h, s)| Action::Brand(
                BrandAction::Link {
                    customer_hash: Hash(h),
                    partner_signature: Signature([s, s].concat().try_into().unwrap()),
                }
            )),
            (addr2, any::<u64>(), "[ -~]{0,64}").prop_map(|(to, mileage, reference)| {
                Action::Brand(BrandAction::Convert {
                    to,
                    mileage,
                    reference,
                })
            }),
            prop::collection::vec((any::<u8>(), any::<u64>(), "[ -~]{0,64}"), 1..4).prop_map(
                |items| Action::Brand(BrandAction::ConvertBatch {
                    items: (items.into_iter())
                        .map(
                            |(k, mileage, reference)| crate::brand::action::ConversionItem {
                                to: Keypair::from_label(&format!("b{}", k % 4)).address(),
                                mileage,
                                reference,
                            }
                        )
                        .collect(),
                })
            ),
            (amount, "[ -~]{0,64}").prop_map(|(amount, order_id)| Action::Brand(
                BrandAction::Redeem { amount, order_id }
            )),
            "[ -~]{0,64}".prop_map(|order_id| Action::Brand(BrandAction::Refund { order_id })),
            (any::<bool>(), any::<u128>(), any::<u128>(), any::<u128>()).prop_map(
                |(transfers_allowed, min, max, daily)| {
                    Action::Brand(BrandAction::SetPolicy {
                        terms: crate::brand::PolicyTerms {
                            transfers_allowed,
                            min_conversion: Amount::new(min),
                            max_conversion: Amount::new(max),
                            daily_user_limit: Amount::new(daily),
                        },
                    })
                }
            ),
            any::<[u8; 32]>().prop_map(|h| Action::Anchor(AnchorAction::Anchor {
                chain: "skyway".parse().unwrap(),
                seal: Hash(h),
            })),
            prop::collection::vec((0u8..3, any::<[u8; 32]>(), any::<u128>()), 1..4).prop_map(
                |steps| Action::Exchange(ExchangeAction::SettleBatch {
                    steps: steps
                        .into_iter()
                        .map(|(kind, h, n)| arb_step(kind, h, n))
                        .collect(),
                })
            ),
        ]
    }

    /// A settlement step of kind `kind` (a sale's settlement, release, or a delivery).
    fn arb_step(kind: u8, h: [u8; 32], n: u128) -> ExchangeAction {
        match kind {
            0 => ExchangeAction::SettleSell {
                order: Box::new(sample().sign(&Keypair::from_label("alice"))),
            },
            1 => ExchangeAction::ReleaseSell {
                trade: Hash(h),
                filled: n.is_multiple_of(2),
            },
            _ => ExchangeAction::DeliverBuy {
                trade: Hash(h),
                to: Keypair::from_label("bob").address(),
                amount: Amount::new(n),
            },
        }
    }

    proptest! {
        #[test]
        fn encoding_round_trips(seq in any::<u64>(), exp in any::<u64>(), action in arb_action()) {
            let tx = Transaction {
                chain: "skyway".parse().unwrap(),
                sender: Keypair::from_label("s").address(),
                sequence: seq,
                expires_at_ms: exp,
                action,
            };
            let signed = tx.sign(&Keypair::from_label("s"));
            let bytes = signed.to_bytes();
            prop_assert_eq!(SignedTransaction::decode_checked(&bytes), Ok(signed));
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = SignedTransaction::decode_checked(&bytes);
        }
    }
}
