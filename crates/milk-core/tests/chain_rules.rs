//! The chain rules, tested as features: random streams of transactions (valid and not)
//! go through the mempool and block producer, and a simple reference model, the replaying
//! verifier and the conservation checks must all agree after every block.

use milk_core::block::Block;
use milk_core::chain::{self, BlockError, Verifier};
use milk_core::error::LedgerError;
use milk_core::genesis::{Allocation, ChainKind, ChainSpec, Genesis, PartnerInfo};
use milk_core::mempool::{Mempool, MempoolError, PoolLimits, Share};
use milk_core::state::{AssetSpec, ChainState, MAX_TX_LIFETIME_MS, TxError};
use milk_core::tx::{Action, SignedTransaction, Transaction};
use milk_core::tx::{
    AllianceAction, AnchorAction, BrandAction, ExchangeAction, MembershipAction, ProducersAction,
    TokenAction, TokenomicsAction,
};
use milk_core::{Address, Amount, ChainId, Keypair, Symbol};
use proptest::prelude::*;
use std::collections::BTreeMap;

const T0: u64 = 1_800_000_000_000;
// Runs last minutes from T0 and must not cross a UTC day (lots would start to expire).
const _: () = assert!(T0 % milk_core::brand::DAY_MS < milk_core::brand::DAY_MS / 2);

fn key(i: usize) -> Keypair {
    Keypair::from_label(&format!("rules-{i}"))
}

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

fn policy() -> milk_core::brand::BrandPolicy {
    milk_core::brand::BrandPolicy {
        redemption_value_krw: 10,
        min_price_bps: 8_000,
        units_per_mileage: 1,
        min_conversion: Amount::new(1),
        max_conversion: Amount::new(1_000_000),
        daily_user_limit: Amount::new(10_000_000),
        transfers_allowed: true,
        // Lots are created and moved in every run; none expires within a run's minutes.
        expiry_days: Some(1),
    }
}

/// A brand chain with one mintable asset `PTS` (issuer = key 0) and a fixed-supply `FIX`.
fn genesis() -> Genesis {
    let chain: ChainId = "brand".parse().unwrap();
    let mut allocations = Vec::new();
    for i in 1..5 {
        for asset in ["PTS", "FIX"] {
            allocations.push(Allocation {
                label: format!("k{i}"),
                account: key(i).address(),
                asset: sym(asset),
                amount: Amount::new(1_000),
            });
        }
    }
    let producer = Keypair::from_label("producer").address();
    let center = ChainSpec {
        id: ChainId::center(),
        kind: ChainKind::Center,
        name: "center".into(),
        producer,
        partner: None,
        assets: vec![],
        allocations: vec![],
        created_ms: None,
    };
    let brand = ChainSpec {
        id: chain,
        kind: ChainKind::Brand,
        name: "brand".into(),
        producer,
        partner: Some(PartnerInfo {
            name: "P".into(),
            sector: "s".into(),
            policy: policy(),
        }),
        assets: vec![AssetSpec {
            symbol: sym("PTS"),
            name: "points".into(),
            decimals: 0,
            issuer: Some(key(0).address()),
        }],
        allocations,
        created_ms: None,
    };
    let mut g = Genesis {
        network: "test".into(),
        genesis_time_ms: T0,
        operator: producer,
        tica_inventory: key(4).address(),
        admission_quorum: None,
        exit_notice_ms: None,
        exchange: None,
        membership: None,
        roles: Vec::new(),
        bridge: None,
        chains: vec![center, brand],
    };
    // A second, fixed-supply asset lives on the same chain here, to test both kinds at once.
    g.chains[1].assets.push(AssetSpec {
        symbol: sym("FIX"),
        name: "fixed".into(),
        decimals: 0,
        issuer: None,
    });
    g
}

#[derive(Debug, Clone)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        fix: bool,
        amount: u128,
    },
    Mint {
        by: usize,
        to: usize,
        amount: u128,
    },
    Burn {
        from: usize,
        fix: bool,
        amount: u128,
    },
    /// Resend an earlier transaction exactly (a replay).
    Replay {
        back: usize,
    },
    /// Skip the sender's sequence ahead, or behind.
    SequenceSkew {
        from: usize,
        skew: i8,
    },
    Expired {
        from: usize,
    },
    /// Link a wallet to customer `customer`, countersigned by the partner or not.
    Link {
        user: usize,
        customer: u8,
        partner_signed: bool,
    },
    /// Convert mileage under one of a few references (so some repeat).
    Convert {
        by: usize,
        to: usize,
        mileage: u64,
        reference: u8,
    },
    /// Convert several at once, in one batch (references shared with single conversions,
    /// so some replay, conflict or repeat within the batch).
    ConvertBatch {
        by: usize,
        items: Vec<(usize, u64, u8)>,
    },
    Redeem {
        from: usize,
        amount: u128,
        order: u8,
    },
    Refund {
        by: usize,
        order: u8,
    },
    /// The partner (or an impostor) changes its terms.
    SetPolicy {
        by: usize,
        transfers_allowed: bool,
        min: u128,
        max: u128,
        daily: u128,
    },
    Block,
}

fn arb_op() -> impl Strategy<Value = Op> {
    let k = 0usize..5;
    let amt = prop_oneof![1u128..300, 0u128..1, 900u128..3_000, Just(u128::MAX)];
    prop_oneof![
        6 => (k.clone(), k.clone(), any::<bool>(), amt.clone())
            .prop_map(|(from, to, fix, amount)| Op::Transfer { from, to, fix, amount }),
        2 => (k.clone(), k.clone(), amt.clone()).prop_map(|(by, to, amount)| Op::Mint { by, to, amount }),
        2 => (k.clone(), any::<bool>(), amt).prop_map(|(from, fix, amount)| Op::Burn { from, fix, amount }),
        1 => (0usize..20).prop_map(|back| Op::Replay { back }),
        1 => (k.clone(), -2i8..3).prop_map(|(from, skew)| Op::SequenceSkew { from, skew }),
        1 => k.clone().prop_map(|from| Op::Expired { from }),
        2 => (k.clone(), 0u8..3, prop::bool::weighted(0.85))
            .prop_map(|(user, customer, partner_signed)| Op::Link { user, customer, partner_signed }),
        3 => (prop::sample::select(vec![0usize, 0, 0, 1]), k.clone(), prop_oneof![0u64..2_000, Just(0), 900_000u64..1_100_000], 0u8..12)
            .prop_map(|(by, to, mileage, reference)| Op::Convert { by, to, mileage, reference }),
        2 => (prop::sample::select(vec![0usize, 0, 0, 1]),
              prop::collection::vec((k.clone(), prop_oneof![0u64..2_000, Just(0), 900_000u64..1_100_000], 0u8..12), 1..6))
            .prop_map(|(by, items)| Op::ConvertBatch { by, items }),
        2 => (k.clone(), 0u128..400, 0u8..8).prop_map(|(from, amount, order)| Op::Redeem { from, amount, order }),
        1 => (prop::sample::select(vec![0usize, 0, 2]), 0u8..8).prop_map(|(by, order)| Op::Refund { by, order }),
        1 => (prop::sample::select(vec![0usize, 0, 3]), prop::bool::weighted(0.7), prop::sample::select(vec![1u128, 10, 2_000]),
              prop::sample::select(vec![5u128, 1_000, 1_000_000]), prop::sample::select(vec![0u128, 1_500, 10_000_000]))
            .prop_map(|(by, transfers_allowed, min, max, daily)| Op::SetPolicy { by, transfers_allowed, min, max, daily }),
        2 => Just(Op::Block),
    ]
}

/// The reference model: plain maps and the rules written as directly as possible.
#[derive(Default)]
struct Model {
    balances: BTreeMap<(Address, Symbol), u128>,
    supply: BTreeMap<Symbol, u128>,
    sequences: BTreeMap<Address, u64>,
    links: BTreeMap<Address, milk_core::Hash>,
    /// reference → (to, mileage)
    references: BTreeMap<String, (Address, u64)>,
    /// A batch's outcomes as the model sees them: `converted`, `replayed` or the code.
    batches: BTreeMap<milk_core::Hash, Vec<String>>,
    /// order → (redeemer, amount, refunded)
    redemptions: BTreeMap<String, (Address, u128, bool)>,
    converted_today: BTreeMap<Address, u128>,
    /// The partner's terms: transfers allowed, and the conversion minimum, maximum and
    /// daily limit.
    terms: (bool, u128, u128, u128),
}

fn customer_hash(customer: u8) -> milk_core::Hash {
    milk_core::Hash::domain("test/customer", &[&[customer]])
}

impl Model {
    /// A conversion of a fresh reference: test policy, 1 unit per mile, within the terms in
    /// force; the refusal's code if not.
    fn convert(&mut self, to: &Address, mileage: u64, reference: &str) -> Result<(), String> {
        let amount = u128::from(mileage);
        let today = self.converted_today.get(to).copied().unwrap_or(0);
        let (_, min, max, daily) = self.terms;
        if !self.links.contains_key(to) {
            return Err("not_linked".into());
        }
        if amount == 0 || !(min..=max).contains(&amount) {
            return Err("conversion_out_of_range".into());
        }
        if today + amount > daily {
            return Err("daily_limit".into());
        }
        self.references.insert(reference.to_owned(), (*to, mileage));
        self.converted_today.insert(*to, today + amount);
        self.credit(*to, &sym("PTS"), amount);
        Ok(())
    }

    /// Each item on its own: a repeat within the batch or a changed item under a used
    /// reference is refused, the same item again replays, the rest convert or not.
    fn convert_batch(&mut self, items: &[milk_core::brand::action::ConversionItem]) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for item in items {
            let outcome = if !seen.insert(item.reference.clone()) {
                "reference_used".to_owned()
            } else {
                match self.references.get(&item.reference) {
                    Some(first) if *first == (item.to, item.mileage) => "replayed".to_owned(),
                    Some(_) => "reference_used".to_owned(),
                    None => match self.convert(&item.to, item.mileage, &item.reference) {
                        Ok(()) => "converted".to_owned(),
                        Err(code) => code,
                    },
                }
            };
            out.push(outcome);
        }
        out
    }

    fn credit(&mut self, to: Address, asset: &Symbol, amount: u128) {
        *self.balances.entry((to, *asset)).or_default() += amount;
        *self.supply.get_mut(asset).unwrap() += amount;
    }

    fn apply(&mut self, tx: &Transaction, issuer: Address) -> bool {
        let next = self.sequences.get(&tx.sender).copied().unwrap_or(0);
        if tx.sequence != next {
            return false;
        }
        let bal =
            |m: &Model, a: &Address, s: &Symbol| m.balances.get(&(*a, *s)).copied().unwrap_or(0);
        let ok = match &tx.action {
            Action::Token(TokenAction::Transfer {
                to, asset, amount, ..
            }) => {
                let from = bal(self, &tx.sender, asset);
                let to_self = *to == tx.sender;
                if amount.units() == 0 || !self.terms.0 || from < amount.units() || to_self {
                    false
                } else {
                    self.balances
                        .insert((tx.sender, *asset), from - amount.units());
                    let to_bal = bal(self, to, asset);
                    self.balances.insert((*to, *asset), to_bal + amount.units());
                    true
                }
            }
            Action::Token(TokenAction::Mint { to, asset, amount }) => {
                let supply = self.supply[asset];
                let allowed = amount.units() != 0 && tx.sender == issuer && asset.as_str() == "PTS";
                if !allowed || supply.checked_add(amount.units()).is_none() {
                    false
                } else {
                    self.supply.insert(*asset, supply + amount.units());
                    let to_bal = bal(self, to, asset);
                    self.balances.insert((*to, *asset), to_bal + amount.units());
                    true
                }
            }
            Action::Token(TokenAction::Burn { asset, amount }) => {
                let from = bal(self, &tx.sender, asset);
                if amount.units() == 0 || from < amount.units() {
                    false
                } else {
                    self.balances
                        .insert((tx.sender, *asset), from - amount.units());
                    *self.supply.get_mut(asset).unwrap() -= amount.units();
                    true
                }
            }
            Action::Brand(BrandAction::Link {
                customer_hash,
                partner_signature,
            }) => {
                let message = milk_core::brand::link_message(&tx.chain, &tx.sender, customer_hash);
                let signed = milk_core::keys::verify(&issuer, &message.0, partner_signature);
                let free = self
                    .links
                    .get(&tx.sender)
                    .is_none_or(|h| h == customer_hash);
                if signed && free {
                    self.links.insert(tx.sender, *customer_hash);
                }
                signed && free
            }
            Action::Brand(BrandAction::Convert {
                to,
                mileage,
                reference,
            }) => {
                let ok = tx.sender == issuer && !self.references.contains_key(reference);
                ok && self.convert(to, *mileage, reference).is_ok()
            }
            Action::Brand(BrandAction::ConvertBatch { items }) => {
                let ok = tx.sender == issuer;
                if ok {
                    let outcomes = self.convert_batch(items);
                    self.batches.insert(tx.id(), outcomes);
                }
                ok
            }
            Action::Brand(BrandAction::Redeem { amount, order_id }) => {
                let pts = sym("PTS");
                let from = bal(self, &tx.sender, &pts);
                let ok = amount.units() > 0
                    && !order_id.is_empty()
                    && !self.redemptions.contains_key(order_id)
                    && from >= amount.units();
                if ok {
                    self.balances
                        .insert((tx.sender, pts), from - amount.units());
                    *self.supply.get_mut(&pts).unwrap() -= amount.units();
                    self.redemptions
                        .insert(order_id.clone(), (tx.sender, amount.units(), false));
                }
                ok
            }
            // Anchors belong on the center chain; this is a brand chain. Nothing expires
            // within a run, so there is never anything to sweep. This genesis has no
            // exchange (tests/exchange.rs covers it).
            Action::Anchor(AnchorAction::Anchor { .. })
            | Action::Bridge(_)
            | Action::Brand(BrandAction::Expire { .. })
            | Action::Alliance(AllianceAction::Apply { .. })
            | Action::Alliance(AllianceAction::Approve { .. })
            | Action::Alliance(AllianceAction::SignAgreement { .. })
            | Action::Alliance(AllianceAction::Suspend { .. })
            | Action::Alliance(AllianceAction::Reinstate { .. })
            | Action::Alliance(AllianceAction::StartExit { .. })
            | Action::Alliance(AllianceAction::FinishExit { .. })
            | Action::Exchange(ExchangeAction::OraclePrice { .. })
            | Action::Exchange(ExchangeAction::ConfirmPrice { .. })
            | Action::Exchange(ExchangeAction::HaltMarket { .. })
            | Action::Exchange(ExchangeAction::SetFee { .. })
            | Action::Exchange(ExchangeAction::SetFloor { .. })
            | Action::Exchange(ExchangeAction::SetMaxPrice { .. })
            | Action::Exchange(ExchangeAction::SetMarket { .. })
            | Action::Exchange(ExchangeAction::Buy { .. })
            | Action::Exchange(ExchangeAction::CompleteBuy { .. })
            | Action::Exchange(ExchangeAction::Sell { .. })
            | Action::Exchange(ExchangeAction::SettleSell { .. })
            | Action::Exchange(ExchangeAction::ReleaseSell { .. })
            | Action::Exchange(ExchangeAction::DeliverBuy { .. })
            | Action::Exchange(ExchangeAction::SettleBatch { .. })
            | Action::Membership(MembershipAction::CheckIn)
            | Action::Membership(MembershipAction::BurnForLzm { .. })
            | Action::Membership(MembershipAction::CreditCoupon { .. })
            | Action::Membership(MembershipAction::ReverseCoupon { .. })
            | Action::Membership(MembershipAction::SetEarningRules { .. })
            | Action::Membership(MembershipAction::SetLevelFloor { .. })
            | Action::Membership(MembershipAction::PublishOffer { .. })
            | Action::Membership(MembershipAction::BuyOffer { .. })
            | Action::Membership(MembershipAction::OpenPackSeason { .. })
            | Action::Membership(MembershipAction::JoinPack { .. })
            | Action::Membership(MembershipAction::LeavePack)
            | Action::Membership(MembershipAction::PayPackWeek { .. })
            | Action::Tokenomics(TokenomicsAction::PayContribution { .. })
            | Action::Tokenomics(TokenomicsAction::RewardLink { .. })
            | Action::Tokenomics(TokenomicsAction::StartPhase2 { .. })
            | Action::Tokenomics(TokenomicsAction::AllocatePartner { .. })
            | Action::Tokenomics(TokenomicsAction::ClaimAllocation { .. })
            | Action::Producers(ProducersAction::SetProducers { .. }) => false,
            Action::Brand(BrandAction::SetPolicy { terms }) => {
                let (min, max, daily) = (
                    terms.min_conversion.units(),
                    terms.max_conversion.units(),
                    terms.daily_user_limit.units(),
                );
                let ok = tx.sender == issuer && min <= max && max > 0 && daily >= min;
                if ok {
                    self.terms = (terms.transfers_allowed, min, max, daily);
                }
                ok
            }
            // Only the operator records a partner's standing, and no sender of these
            // streams is the operator: the chain refuses it, as the model does.
            Action::Brand(BrandAction::SetStanding { .. } | BrandAction::SetExit { .. }) => false,
            Action::Brand(
                BrandAction::GrantConsent { .. }
                | BrandAction::WithdrawConsent { .. }
                | BrandAction::LogAccess { .. }
                | BrandAction::ReportCoupon { .. }
                | BrandAction::RefundCoupon { .. },
            ) => unreachable!("the streams carry no data-sharing or coupon actions"),
            Action::Brand(BrandAction::Refund { order_id }) => {
                match self.redemptions.get(order_id).copied() {
                    Some((redeemer, amount, false)) if tx.sender == issuer => {
                        self.redemptions
                            .insert(order_id.clone(), (redeemer, amount, true));
                        self.credit(redeemer, &sym("PTS"), amount);
                        true
                    }
                    _ => false,
                }
            }
        };
        if ok {
            self.sequences.insert(tx.sender, next + 1);
        }
        ok
    }
}

struct Harness {
    genesis: Genesis,
    chain: ChainId,
    state: ChainState,
    mempool: Mempool,
    blocks: Vec<Block>,
    producer: Keypair,
    model: Model,
    next_seq: BTreeMap<usize, u64>,
    sent: Vec<SignedTransaction>,
    now: u64,
}

impl Harness {
    fn new() -> Harness {
        let genesis = genesis();
        let spec = genesis.chains[1].clone();
        let (block, state) = genesis.genesis_block(&spec).unwrap();
        let p = policy();
        let mut model = Model {
            terms: (
                p.transfers_allowed,
                p.min_conversion.units(),
                p.max_conversion.units(),
                p.daily_user_limit.units(),
            ),
            ..Model::default()
        };
        for (a, s, v) in state.balances() {
            model.balances.insert((*a, *s), v.units());
        }
        for (spec, supply) in state.assets() {
            model.supply.insert(spec.symbol, supply.units());
        }
        Harness {
            chain: spec.id.clone(),
            genesis,
            state,
            mempool: Mempool::new(PoolLimits::new(10_000)),
            blocks: vec![block],
            producer: Keypair::from_label("producer"),
            model,
            next_seq: BTreeMap::new(),
            sent: Vec::new(),
            now: T0 + 1,
        }
    }

    fn tx(
        &mut self,
        from: usize,
        action: Action,
        seq: Option<u64>,
        expires_at_ms: u64,
    ) -> SignedTransaction {
        let s = self.next_seq.entry(from).or_insert(0);
        let sequence = seq.unwrap_or(*s);
        if seq.is_none() {
            *s += 1;
        }
        Transaction {
            chain: self.chain.clone(),
            sender: key(from).address(),
            sequence,
            expires_at_ms,
            action,
        }
        .sign(&key(from))
    }

    fn submit(&mut self, signed: SignedTransaction) {
        self.sent.push(signed.clone());
        let standing = self.state.standing(&signed.tx, Share::ORDINARY, self.now);
        let verified = signed.verify().expect("test signs correctly");
        // Admission refuses what could not apply soon (a transfer of more than the sender
        // holds, a sequence far ahead); the rest is decided in the block.
        match self.mempool.admit(verified, &standing) {
            Ok(())
            | Err(
                MempoolError::Duplicate
                | MempoolError::SequencePending
                | MempoolError::Unfunded { .. }
                | MempoolError::TooFarAhead { .. }
                | MempoolError::FreshKeyLimit,
            ) => {}
            Err(e) => panic!("unexpected mempool refusal: {e}"),
        }
    }

    fn block(&mut self) {
        self.now += 1_000;
        let parent = self.blocks.last().unwrap().header.clone();
        let (produced, _rejected) = chain::produce(
            &mut self.state,
            &mut self.mempool,
            &parent,
            self.now,
            &self.producer,
            5_000,
        );
        let issuer = key(0).address();
        if let Some(p) = produced {
            for tx in &p.block.txs {
                assert!(
                    self.model.apply(&tx.tx, issuer),
                    "state applied what the model refuses: {:?}",
                    tx.tx
                );
            }
            self.check_batches(&p.block);
            self.blocks.push(p.block);
        }
        // Like a wallet, take the next sequence numbers from the chain: a transaction that
        // failed did not use its number.
        for i in 0..5 {
            self.next_seq
                .insert(i, self.state.next_sequence(&key(i).address()));
        }
        self.state.check_conservation().unwrap();
        // The model and the state agree on every balance and supply.
        for ((a, s), v) in &self.model.balances {
            assert_eq!(self.state.balance(a, s).units(), *v);
        }
        for (s, v) in &self.model.supply {
            assert_eq!(self.state.supply(s).unwrap().units(), *v);
        }
    }
}

impl Harness {
    /// The chain recorded each batch's outcomes, item by item, as the model decided them.
    fn check_batches(&self, block: &Block) {
        use milk_core::brand::batch::ItemOutcome;
        let batches = self.state.brand().unwrap().batches();
        for tx in &block.txs {
            let Some(model) = self.model.batches.get(&tx.tx.id()) else {
                continue;
            };
            let recorded: Vec<String> = (batches.outcomes(&tx.tx.id()).unwrap().iter())
                .map(|o| match o {
                    ItemOutcome::Converted => "converted".to_owned(),
                    ItemOutcome::Replayed => "replayed".to_owned(),
                    ItemOutcome::Refused { code, .. } => code.clone(),
                })
                .collect();
            assert_eq!(&recorded, model, "batch outcomes of {:?}", tx.tx.action);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Supply is conserved, only authorized mints and burns change it, nothing is applied
    /// twice, and a replaying verifier accepts exactly the chain that was produced.
    #[test]
    fn random_streams_conserve_supply_and_replay_exactly(ops in prop::collection::vec(arb_op(), 1..120)) {
        let mut h = Harness::new();
        let exp = T0 + 3_600_000;
        for op in ops {
            match op {
                Op::Transfer { from, to, fix, amount } => {
                    let asset = sym(if fix { "FIX" } else { "PTS" });
                    let tx = h.tx(from, Action::Token(TokenAction::Transfer { to: key(to).address(), asset, amount: Amount::new(amount), memo: "gift".into() }), None, exp);
                    h.submit(tx);
                }
                Op::Mint { by, to, amount } => {
                    let tx = h.tx(by, Action::Token(TokenAction::Mint { to: key(to).address(), asset: sym("PTS"), amount: Amount::new(amount) }), None, exp);
                    h.submit(tx);
                }
                Op::Burn { from, fix, amount } => {
                    let asset = sym(if fix { "FIX" } else { "PTS" });
                    let tx = h.tx(from, Action::Token(TokenAction::Burn { asset, amount: Amount::new(amount) }), None, exp);
                    h.submit(tx);
                }
                Op::Replay { back } => {
                    if let Some(old) = h.sent.iter().rev().nth(back).cloned() {
                        h.submit(old);
                    }
                }
                Op::SequenceSkew { from, skew } => {
                    let base = *h.next_seq.get(&from).unwrap_or(&0) as i64;
                    let seq = (base + i64::from(skew)).max(0) as u64;
                    let tx = h.tx(from, Action::Token(TokenAction::Burn { asset: sym("PTS"), amount: Amount::new(1) }), Some(seq), exp);
                    h.submit(tx);
                }
                Op::Expired { from } => {
                    let tx = h.tx(from, Action::Token(TokenAction::Burn { asset: sym("PTS"), amount: Amount::new(1) }), Some(0), T0);
                    h.submit(tx);
                }
                Op::Link { user, customer, partner_signed } => {
                    let hash = customer_hash(customer);
                    let message = milk_core::brand::link_message(&h.chain, &key(user).address(), &hash);
                    let signer = if partner_signed { key(0) } else { key(3) };
                    let tx = h.tx(user, Action::Brand(BrandAction::Link { customer_hash: hash, partner_signature: signer.sign(&message.0) }), None, exp);
                    h.submit(tx);
                }
                Op::Convert { by, to, mileage, reference } => {
                    let tx = h.tx(by, Action::Brand(BrandAction::Convert { to: key(to).address(), mileage, reference: format!("ref-{reference}") }), None, exp);
                    h.submit(tx);
                }
                Op::ConvertBatch { by, items } => {
                    let items = items.into_iter().map(|(to, mileage, reference)| milk_core::brand::action::ConversionItem {
                        to: key(to).address(), mileage, reference: format!("ref-{reference}"),
                    }).collect();
                    let tx = h.tx(by, Action::Brand(BrandAction::ConvertBatch { items }), None, exp);
                    h.submit(tx);
                }
                Op::Redeem { from, amount, order } => {
                    let tx = h.tx(from, Action::Brand(BrandAction::Redeem { amount: Amount::new(amount), order_id: format!("order-{order}") }), None, exp);
                    h.submit(tx);
                }
                Op::Refund { by, order } => {
                    let tx = h.tx(by, Action::Brand(BrandAction::Refund { order_id: format!("order-{order}") }), None, exp);
                    h.submit(tx);
                }
                Op::SetPolicy { by, transfers_allowed, min, max, daily } => {
                    let terms = milk_core::brand::PolicyTerms {
                        transfers_allowed,
                        min_conversion: Amount::new(min),
                        max_conversion: Amount::new(max),
                        daily_user_limit: Amount::new(daily),
                    };
                    let tx = h.tx(by, Action::Brand(BrandAction::SetPolicy { terms }), None, exp);
                    h.submit(tx);
                }
                Op::Block => h.block(),
            }
        }
        h.block();

        // Every transaction in the chain is distinct: none was applied twice.
        let mut ids = std::collections::HashSet::new();
        for b in &h.blocks {
            for tx in &b.txs {
                prop_assert!(ids.insert(tx.tx.id()), "applied twice");
            }
        }
        // The verifier replays the produced chain to the same state.
        let mut v = Verifier::start(&h.genesis, &h.chain, &h.blocks[0]).unwrap();
        for b in &h.blocks[1..] {
            v.apply(b).unwrap();
        }
        prop_assert_eq!(v.head(), &h.blocks.last().unwrap().header);
        for ((a, s), val) in &h.model.balances {
            prop_assert_eq!(v.state().balance(a, s).units(), *val);
        }
    }
}

fn one_block_chain() -> Harness {
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    for i in 1..4 {
        let tx = h.tx(
            i,
            Action::Token(TokenAction::Transfer {
                to: key(4).address(),
                asset: sym("PTS"),
                amount: Amount::new(5),
                memo: String::new(),
            }),
            None,
            exp,
        );
        h.submit(tx);
    }
    h.block();
    assert_eq!(h.blocks.len(), 2);
    h
}

fn verify_all(h: &Harness, blocks: &[Block]) -> Result<(), BlockError> {
    let mut v = Verifier::start(&h.genesis, &h.chain, &h.blocks[0]).unwrap();
    blocks.iter().try_for_each(|b| v.apply(b))
}

#[test]
fn verifier_names_each_kind_of_tampering() {
    let h = one_block_chain();
    let good = h.blocks[1].clone();
    assert_eq!(verify_all(&h, std::slice::from_ref(&good)), Ok(()));

    let mut b = good.clone();
    b.header.height = 5;
    assert!(matches!(
        verify_all(&h, &[b]),
        Err(BlockError::WrongHeight { .. })
    ));

    let mut b = good.clone();
    b.header.prev_hash = milk_core::Hash::ZERO;
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::PrevHashMismatch));

    let mut b = good.clone();
    b.header.time_ms = T0 - 1;
    assert!(matches!(
        verify_all(&h, &[b]),
        Err(BlockError::TimeWentBack { .. })
    ));

    let mut b = good.clone();
    b.signature.0[0] ^= 1;
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::BadSignature));

    // A transaction changed after sealing: the Merkle root no longer matches.
    let mut b = good.clone();
    b.txs[0].signature.0[5] ^= 1;
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::TxRootMismatch));

    // A producer who re-seals a block with a forged transaction is caught by its signature.
    let mut b = good.clone();
    b.txs[0].signature.0[5] ^= 1;
    b.header.tx_root = b.computed_tx_root();
    let b = Block::seal(b.header, b.txs, &h.producer);
    assert_eq!(
        verify_all(&h, &[b]),
        Err(BlockError::InvalidTx {
            index: 0,
            reason: milk_core::tx::VerifyError::BadSignature
        })
    );

    // A producer who lies about the resulting state is caught by replay.
    let mut b = good.clone();
    b.header.state_root = milk_core::Hash::ZERO;
    let b = Block::seal(b.header, b.txs, &h.producer);
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::StateRootMismatch));

    // A block signed by someone else.
    let mut b = good;
    let other = Keypair::from_label("intruder");
    b.header.producer = other.address();
    let b = Block::seal(b.header, b.txs, &other);
    assert!(matches!(
        verify_all(&h, &[b]),
        Err(BlockError::WrongProducer { .. })
    ));
}

#[test]
fn each_bad_transaction_gets_its_own_error_and_changes_nothing() {
    let g = genesis();
    let (_, state) = g.genesis_block(&g.chains[1]).unwrap();
    let now = T0 + 10;
    let tx = |from: usize, seq: u64, exp: u64, action: Action| Transaction {
        chain: "brand".parse().unwrap(),
        sender: key(from).address(),
        sequence: seq,
        expires_at_ms: exp,
        action,
    };
    let pay = |amount: u128| {
        Action::Token(TokenAction::Transfer {
            to: key(2).address(),
            asset: sym("PTS"),
            amount: Amount::new(amount),
            memo: String::new(),
        })
    };
    let exp = now + 1_000;
    let cases: Vec<(Transaction, &str)> = vec![
        (
            Transaction {
                chain: ChainId::center(),
                ..tx(1, 0, exp, pay(1))
            },
            "wrong_chain",
        ),
        (tx(1, 0, now, pay(1)), "expired"),
        (
            tx(1, 0, now + MAX_TX_LIFETIME_MS + 1, pay(1)),
            "expiry_too_far",
        ),
        (tx(1, 1, exp, pay(1)), "sequence_gap"),
        (tx(1, 0, exp, pay(0)), "zero_amount"),
        (tx(2, 0, exp, pay(1)), "self_transfer"),
        (tx(1, 0, exp, pay(1_001)), "insufficient_balance"),
        (
            tx(
                1,
                0,
                exp,
                Action::Token(TokenAction::Burn {
                    asset: sym("NOPE"),
                    amount: Amount::new(1),
                }),
            ),
            "unknown_asset",
        ),
        (
            tx(
                1,
                0,
                exp,
                Action::Token(TokenAction::Mint {
                    to: key(1).address(),
                    asset: sym("PTS"),
                    amount: Amount::new(1),
                }),
            ),
            "not_issuer",
        ),
        (
            tx(
                0,
                0,
                exp,
                Action::Token(TokenAction::Mint {
                    to: key(1).address(),
                    asset: sym("PTS"),
                    amount: Amount::MAX,
                }),
            ),
            "overflow",
        ),
    ];
    for (t, code) in cases {
        let mut s = state.clone();
        let err = s.apply(&t, now).unwrap_err();
        assert_eq!(err.code(), code, "{t:?}");
        assert_eq!(s.take_delta(), Default::default(), "{code} changed state");
    }
    // A replay: the same transaction applied a second time.
    let mut s = state.clone();
    let t = tx(1, 0, exp, pay(1));
    s.apply(&t, now).unwrap();
    assert!(matches!(
        s.apply(&t, now),
        Err(TxError::Ledger(LedgerError::SequenceUsed {
            expected: 1,
            got: 0
        }))
    ));
}

#[test]
fn out_of_order_arrivals_still_apply_in_sequence() {
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let txs: Vec<_> = (0..3)
        .map(|_| {
            h.tx(
                1,
                Action::Token(TokenAction::Burn {
                    asset: sym("PTS"),
                    amount: Amount::new(1),
                }),
                None,
                exp,
            )
        })
        .collect();
    for t in txs.into_iter().rev() {
        h.submit(t);
    }
    h.block();
    assert_eq!(h.blocks[1].txs.len(), 3);
    assert_eq!(h.state.next_sequence(&key(1).address()), 3);
}

#[test]
fn what_a_refused_transaction_held_back_leaves_the_pool_in_the_same_block() {
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let burn = |amount| {
        Action::Token(TokenAction::Burn {
            asset: sym("PTS"),
            amount: Amount::new(amount),
        })
    };
    // Sequence 0 mints without being the issuer (only the block can tell); 1 and 2 could
    // only follow it.
    let mint = TokenAction::Mint {
        to: key(1).address(),
        asset: sym("PTS"),
        amount: Amount::new(1),
    };
    let refused = h.tx(1, Action::Token(mint), None, exp);
    let behind: Vec<_> = (0..2).map(|_| h.tx(1, burn(1), None, exp)).collect();
    let other = h.tx(2, burn(1), None, exp);
    for t in std::iter::once(refused)
        .chain(behind.clone())
        .chain([other])
    {
        let standing = h.state.standing(&t.tx, Share::ORDINARY, T0);
        h.mempool.admit(t.verify().unwrap(), &standing).unwrap();
    }
    let parent = h.blocks.last().unwrap().header.clone();
    let (produced, rejected) = chain::produce(
        &mut h.state,
        &mut h.mempool,
        &parent,
        T0 + 1_000,
        &h.producer,
        100,
    );
    assert_eq!(
        produced.unwrap().block.txs.len(),
        1,
        "the other sender's burn applies"
    );
    let codes: Vec<&str> = rejected.iter().map(|(_, e)| e.code()).collect();
    assert_eq!(codes, ["not_issuer", "after_refused", "after_refused"]);
    let evicted: Vec<_> = rejected[1..].iter().map(|(id, _)| *id).collect();
    assert_eq!(
        evicted,
        behind.iter().map(|t| t.tx.id()).collect::<Vec<_>>()
    );
    assert!(h.mempool.is_empty(), "nothing waits for its expiry");
    // Signed again from the refused number, they apply.
    let again: Vec<_> = (0..2).map(|s| h.tx(1, burn(1), Some(s), exp)).collect();
    for t in again {
        let standing = h.state.standing(&t.tx, Share::ORDINARY, T0);
        h.mempool.admit(t.verify().unwrap(), &standing).unwrap();
    }
    let parent = h.blocks.last().unwrap().header.clone();
    let (produced, rejected) = chain::produce(
        &mut h.state,
        &mut h.mempool,
        &parent,
        T0 + 2_000,
        &h.producer,
        100,
    );
    assert!(rejected.is_empty());
    assert_eq!(produced.unwrap().block.txs.len(), 2);
}

#[test]
fn a_sequence_gap_is_waited_for_briefly_not_until_expiry() {
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let burn = Action::Token(TokenAction::Burn {
        asset: sym("PTS"),
        amount: Amount::new(1),
    });
    // Sequence 1 arrives; 0 never does.
    let ahead = h.tx(1, burn, Some(1), exp);
    let standing = h.state.standing(&ahead.tx, Share::ORDINARY, T0);
    h.mempool.admit(ahead.verify().unwrap(), &standing).unwrap();
    let parent = h.blocks.last().unwrap().header.clone();
    let mut at = |ms| chain::produce(&mut h.state, &mut h.mempool, &parent, ms, &h.producer, 10).1;
    assert!(at(T0 + 1_000).is_empty(), "it waits a little");
    let gone = at(T0 + 2_001);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].1.code(), "sequence_gap");
    assert!(h.mempool.is_empty());
}

#[test]
fn the_mempool_is_bounded() {
    let limits = PoolLimits {
        capacity: 4,
        reserved: 1,
        fresh_per_block: 10,
        gap_patience_ms: 2_000,
    };
    let mut pool = Mempool::new(limits);
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let share = Share {
        pending: 2,
        ..Share::ORDINARY
    };
    let burn = Action::Token(TokenAction::Burn {
        asset: sym("PTS"),
        amount: Amount::new(1),
    });
    let mut t = |from, share| {
        let tx = h.tx(from, burn.clone(), None, exp);
        (h.state.standing(&tx.tx, share, T0), tx.verify().unwrap())
    };
    let (s, a) = t(1, share);
    pool.admit(a.clone(), &s).unwrap();
    assert_eq!(pool.admit(a, &s), Err(MempoolError::Duplicate));
    let (s, b) = t(1, share);
    pool.admit(b, &s).unwrap();
    let (s, c) = t(1, share);
    assert_eq!(pool.admit(c, &s), Err(MempoolError::SenderFull(2)));
    let (s, d) = t(2, share);
    pool.admit(d, &s).unwrap();
    // The last place is kept for a reserved share (the operator's).
    let (s, e) = t(3, share);
    assert_eq!(pool.admit(e, &s), Err(MempoolError::Full(4)));
    let reserved = Share {
        reserved: true,
        ..share
    };
    let (s, f) = t(3, reserved);
    pool.admit(f, &s).unwrap();
}

/// Blocks of ten served from a pool of 3,000 transactions of four senders: every one leaves
/// the pool, and the arrival order never holds more than twice the pool's ids (plus 1,024)
/// however few each block takes.
#[test]
fn the_pools_arrival_order_stays_bounded_as_blocks_take_from_it() {
    let mut h = Harness::new();
    let mut pool = Mempool::new(PoolLimits::new(10_000));
    let burn = Action::Token(TokenAction::Burn {
        asset: sym("PTS"),
        amount: Amount::new(1),
    });
    let (exp, share) = (
        T0 + 3_600_000,
        Share {
            window: 1_000,
            pending: 1_000,
            ..Share::ORDINARY
        },
    );
    for i in 0..3_000 {
        let tx = h.tx(1 + i % 4, burn.clone(), None, exp);
        let standing = h.state.standing(&tx.tx, share, T0);
        pool.admit(tx.verify().unwrap(), &standing).unwrap();
    }
    let mut blocks = 0;
    while !pool.is_empty() {
        let picked = pool.select(&mut h.state, T0 + 1, 10);
        assert!(
            pool.queued_ids() <= 2 * pool.len() + 1_024,
            "{} ids for {}",
            pool.queued_ids(),
            pool.len()
        );
        assert_eq!(
            picked.applied.len(),
            10.min(picked.applied.len() + pool.len())
        );
        blocks += 1;
    }
    assert_eq!(blocks, 300);
    assert_eq!(pool.queued_ids(), 0);
}

/// A batch of conversions weighs its item count: in the pool's capacity, and in how much
/// one block takes (a batch heavier than a block's room still goes alone).
#[test]
fn a_batch_weighs_its_items_in_the_pool_and_in_a_block() {
    let limits = PoolLimits {
        capacity: 10,
        reserved: 0,
        fresh_per_block: 10,
        gap_patience_ms: 2_000,
    };
    let mut h = Harness::new();
    h.mempool = Mempool::new(limits);
    let exp = T0 + 3_600_000;
    let batch = |n: usize, first: usize| {
        let items = (first..first + n)
            .map(|i| milk_core::brand::action::ConversionItem {
                to: key(1).address(),
                mileage: 1,
                reference: format!("w-{i}"),
            })
            .collect();
        Action::Brand(BrandAction::ConvertBatch { items })
    };
    let issuer = Share {
        known: true,
        ..Share::ORDINARY
    };
    let admit = |h: &mut Harness, action| {
        let tx = h.tx(0, action, None, exp);
        let standing = h.state.standing(&tx.tx, issuer, T0);
        h.mempool.admit(tx.verify().unwrap(), &standing)
    };
    admit(&mut h, batch(6, 0)).unwrap();
    admit(&mut h, batch(3, 6)).unwrap();
    assert_eq!(admit(&mut h, batch(2, 9)), Err(MempoolError::Full(10)));
    assert_eq!(h.mempool.len(), 2);
    // A block with room for 4 takes the first batch alone, the next the second.
    let parent = h.blocks.last().unwrap().header.clone();
    let (first, _) = chain::produce(
        &mut h.state,
        &mut h.mempool,
        &parent,
        T0 + 1_000,
        &h.producer,
        4,
    );
    assert_eq!(first.unwrap().block.txs.len(), 1);
    assert_eq!(h.mempool.len(), 1);
    let (second, _) = chain::produce(
        &mut h.state,
        &mut h.mempool,
        &parent,
        T0 + 2_000,
        &h.producer,
        4,
    );
    assert_eq!(second.unwrap().block.txs.len(), 1);
    assert!(h.mempool.is_empty());
}

/// The decoder refuses an empty or oversized batch on the wire; the rules refuse one made
/// in-process too, so no block can hold a transaction a replica could not decode.
#[test]
fn a_batch_of_no_items_or_too_many_is_refused_by_the_rules() {
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let item = |i: usize| milk_core::brand::action::ConversionItem {
        to: key(1).address(),
        mileage: 1,
        reference: format!("n-{i}"),
    };
    let max = milk_core::brand::action::MAX_CONVERSION_BATCH;
    for items in [vec![], (0..=max).map(item).collect()] {
        let tx = h.tx(
            0,
            Action::Brand(BrandAction::ConvertBatch { items }),
            Some(0),
            exp,
        );
        let refused = h.state.apply(&tx.tx, T0 + 1).unwrap_err();
        assert_eq!(refused.code(), "batch_size");
    }
}

#[test]
fn a_transaction_waits_only_if_it_can_apply_soon() {
    let mut pool = Mempool::new(PoolLimits {
        capacity: 100,
        reserved: 0,
        fresh_per_block: 1,
        gap_patience_ms: 2_000,
    });
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let burn = |amount| {
        Action::Token(TokenAction::Burn {
            asset: sym("PTS"),
            amount: Amount::new(amount),
        })
    };
    let mut admit = |h: &mut Harness, from, action, seq| {
        let tx = h.tx(from, action, Some(seq), exp);
        let standing = h.state.standing(&tx.tx, Share::ORDINARY, T0);
        pool.admit(tx.verify().unwrap(), &standing)
    };
    // A sequence number far past what is committed and waiting.
    let far = Share::ORDINARY.window;
    assert_eq!(
        admit(&mut h, 1, burn(1), far),
        Err(MempoolError::TooFarAhead {
            got: far,
            limit: Share::ORDINARY.window
        })
    );
    // What the sender holds covers this and its waiting transactions, no more.
    let held = h.state.balance(&key(1).address(), &sym("PTS")).units();
    admit(&mut h, 1, burn(held - 1), 0).unwrap();
    admit(&mut h, 1, burn(1), 1).unwrap();
    let over = admit(&mut h, 1, burn(1), 2);
    assert!(
        matches!(over, Err(MempoolError::Unfunded { needed, .. }) if needed.amount.units() == held + 1),
        "{over:?}"
    );
    // Fresh keys (holding nothing, having sent nothing): one at a time, a few per block.
    let mint = |to: usize| {
        Action::Token(TokenAction::Mint {
            to: key(to).address(),
            asset: sym("PTS"),
            amount: Amount::new(1),
        })
    };
    assert_eq!(
        admit(&mut h, 7, mint(7), 1),
        Err(MempoolError::FreshKeyLimit)
    );
    admit(&mut h, 7, mint(7), 0).unwrap();
    assert_eq!(
        admit(&mut h, 7, mint(7), 1),
        Err(MempoolError::FreshKeyLimit)
    );
    assert_eq!(
        admit(&mut h, 8, mint(8), 0),
        Err(MempoolError::FreshKeyLimit)
    );
}

#[test]
fn persisted_records_restore_the_same_state_and_malformed_ones_are_refused() {
    let mut h = one_block_chain();
    h.block();
    let records = h.state.records();
    let spec = &h.genesis.chains[1];
    let mut restored = spec.empty_state();
    restored.restore(records.clone()).unwrap();
    assert_eq!(restored.records(), records);

    let fresh = || spec.empty_state();
    let mut bad_value = records.clone();
    bad_value[0].1.pop();
    assert!(
        fresh()
            .restore(bad_value)
            .unwrap_err()
            .contains("malformed")
    );
    let unknown_namespace = vec![(vec![0xee, 1, 2], vec![0u8; 16])];
    assert!(
        fresh()
            .restore(unknown_namespace)
            .unwrap_err()
            .contains("malformed")
    );
    // A lost balance record breaks conservation, and restoring says so.
    let balance_key = records
        .iter()
        .position(|(k, _)| k[0] == milk_core::state::record::BALANCE)
        .unwrap();
    let mut missing = records.clone();
    missing.remove(balance_key);
    assert!(fresh().restore(missing).is_err());
}

/// Applies one transaction as a block of its own: on success the block closes (its delta is
/// taken); a refusal must have changed nothing, and its code is returned.
fn apply_checked(state: &mut ChainState, tx: &Transaction, at_ms: u64) -> Result<(), &'static str> {
    match state.apply(tx, at_ms) {
        Ok(()) => {
            state.take_delta();
            Ok(())
        }
        Err(e) => {
            assert_eq!(
                state.take_delta(),
                Default::default(),
                "{} changed state",
                e.code()
            );
            Err(e.code())
        }
    }
}

#[test]
fn brand_rules_link_convert_redeem_refund_each_once() {
    let g = genesis();
    let (_, mut state) = g.genesis_block(&g.chains[1]).unwrap();
    let chain: ChainId = "brand".parse().unwrap();
    let now = T0 + 10;
    let issuer = key(0);
    let pts = sym("PTS");
    let mut seqs = [0u64; 5];
    let mut run =
        |state: &mut ChainState, from: usize, action: Action| -> Result<(), &'static str> {
            let tx = Transaction {
                chain: chain.clone(),
                sender: key(from).address(),
                sequence: seqs[from],
                expires_at_ms: now + 1_000,
                action,
            };
            apply_checked(state, &tx, now).inspect(|()| seqs[from] += 1)
        };
    let link = |user: usize, customer: u8, signer: &Keypair| {
        let hash = customer_hash(customer);
        let message = milk_core::brand::link_message(&chain, &key(user).address(), &hash);
        Action::Brand(BrandAction::Link {
            customer_hash: hash,
            partner_signature: signer.sign(&message.0),
        })
    };
    let convert = |to: usize, mileage: u64, reference: &str| {
        Action::Brand(BrandAction::Convert {
            to: key(to).address(),
            mileage,
            reference: reference.into(),
        })
    };

    // Links: countersigned by the partner, one customer per wallet.
    assert_eq!(
        run(&mut state, 1, link(1, 7, &key(2))),
        Err("bad_partner_signature")
    );
    assert_eq!(run(&mut state, 1, link(1, 7, &issuer)), Ok(()));
    assert_eq!(
        run(&mut state, 1, link(1, 7, &issuer)),
        Ok(()),
        "the same link again is harmless"
    );
    assert_eq!(
        run(&mut state, 1, link(1, 8, &issuer)),
        Err("already_linked")
    );
    assert_eq!(
        state.brand().unwrap().link(&key(1).address()),
        Some(&customer_hash(7))
    );

    // Conversions: by the issuer, to linked wallets, within limits, each reference once.
    let supply = state.supply(&pts).unwrap().units();
    let before = state.balance(&key(1).address(), &pts).units();
    assert_eq!(run(&mut state, 2, convert(1, 10, "r1")), Err("not_issuer"));
    assert_eq!(run(&mut state, 0, convert(2, 10, "r1")), Err("not_linked"));
    assert_eq!(
        run(&mut state, 0, convert(1, 0, "r1")),
        Err("conversion_out_of_range")
    );
    assert_eq!(
        run(&mut state, 0, convert(1, 1_000_001, "r1")),
        Err("conversion_out_of_range")
    );
    assert_eq!(
        run(&mut state, 0, convert(1, 10, "")),
        Err("invalid_reference")
    );
    assert_eq!(run(&mut state, 0, convert(1, 250, "r1")), Ok(()));
    assert_eq!(
        run(&mut state, 0, convert(1, 250, "r1")),
        Err("reference_used")
    );
    assert_eq!(state.balance(&key(1).address(), &pts).units(), before + 250);
    assert_eq!(state.supply(&pts).unwrap().units(), supply + 250);
    let recorded = state.brand().unwrap().conversion("r1").copied().unwrap();
    assert_eq!(
        (recorded.to, recorded.mileage, recorded.amount.units()),
        (key(1).address(), 250, 250)
    );
    // The daily limit (10,000,000 in the test policy) counts what was converted today.
    for i in 0..9 {
        assert_eq!(
            run(&mut state, 0, convert(1, 1_000_000, &format!("big{i}"))),
            Ok(())
        );
    }
    assert_eq!(
        run(&mut state, 0, convert(1, 1_000_000, "big9")),
        Err("daily_limit")
    );
    assert_eq!(run(&mut state, 0, convert(1, 999_750, "big9")), Ok(()));
    state.check_conservation().unwrap();

    // Redemptions burn, each order once; refunds re-mint, once, by the issuer only.
    let supply = state.supply(&pts).unwrap().units();
    let redeem = |amount: u128, order: &str| {
        Action::Brand(BrandAction::Redeem {
            amount: Amount::new(amount),
            order_id: order.into(),
        })
    };
    assert_eq!(run(&mut state, 1, redeem(0, "o1")), Err("zero_amount"));
    assert_eq!(
        run(&mut state, 1, redeem(u128::MAX, "o1")),
        Err("insufficient_balance")
    );
    assert_eq!(run(&mut state, 1, redeem(100, "o1")), Ok(()));
    assert_eq!(run(&mut state, 1, redeem(100, "o1")), Err("reference_used"));
    assert_eq!(state.supply(&pts).unwrap().units(), supply - 100);
    let refund = |order: &str| {
        Action::Brand(BrandAction::Refund {
            order_id: order.into(),
        })
    };
    assert_eq!(run(&mut state, 1, refund("o1")), Err("not_issuer"));
    assert_eq!(
        run(&mut state, 0, refund("nope")),
        Err("unknown_redemption")
    );
    assert_eq!(run(&mut state, 0, refund("o1")), Ok(()));
    assert_eq!(run(&mut state, 0, refund("o1")), Err("already_refunded"));
    assert_eq!(state.supply(&pts).unwrap().units(), supply);
    state.check_conservation().unwrap();
    let totals = state.brand().unwrap().totals();
    assert_eq!(
        (
            totals.issued.units(),
            totals.redeemed.units(),
            totals.refunded.units()
        ),
        (10_000_000, 100, 100)
    );

    // Every record persists and restores.
    let mut restored = g.chains[1].empty_state();
    restored.restore(state.records()).unwrap();
    assert_eq!(restored.records(), state.records());
    assert!(restored.brand().unwrap().redemption("o1").unwrap().refunded);
    assert_eq!(restored.brand().unwrap().totals(), totals);

    // A partner who disallows transfers; and partner actions on a chain without a partner.
    let mut strict = g.clone();
    strict.chains[1]
        .partner
        .as_mut()
        .unwrap()
        .policy
        .transfers_allowed = false;
    let (_, mut strict_state) = strict.genesis_block(&strict.chains[1]).unwrap();
    let pay = Action::Token(TokenAction::Transfer {
        to: key(2).address(),
        asset: pts,
        amount: Amount::new(1),
        memo: String::new(),
    });
    assert_eq!(run(&mut strict_state, 3, pay), Err("transfers_disabled"));
    let center = Transaction {
        chain: ChainId::center(),
        sender: key(1).address(),
        sequence: 0,
        expires_at_ms: now + 1_000,
        action: redeem(1, "o9"),
    };
    let (_, mut center_state) = g.genesis_block(&g.chains[0]).unwrap();
    assert_eq!(
        center_state.apply(&center, now).unwrap_err().code(),
        "not_brand_chain"
    );
}

#[test]
fn only_the_operator_anchors_brand_chains_and_only_forward() {
    let g = genesis();
    let (_, mut center) = g.genesis_block(&g.chains[0]).unwrap();
    let operator = Keypair::from_label("producer");
    let now = T0 + 10;
    let mut seq = 0;
    let brand: ChainId = "brand".parse().unwrap();
    let block_hash = |height: u64| milk_core::Hash::domain("h", &[&height.to_be_bytes()]);
    let anchor = |state: &mut ChainState, key: &Keypair, height: u64, seq: u64| {
        let tx = Transaction {
            chain: state.chain().clone(),
            sender: key.address(),
            sequence: seq,
            expires_at_ms: now + 1_000,
            action: Action::Anchor(AnchorAction::Anchor {
                chain: brand.clone(),
                seal: milk_core::anchor::anchor_seal(&brand, height, &block_hash(height)),
            }),
        };
        state.apply(&tx, now).map_err(|e| e.code())
    };
    assert_eq!(anchor(&mut center, &key(1), 5, 0), Err("not_operator"));
    assert_eq!(anchor(&mut center, &operator, 5, seq), Ok(()));
    seq += 1;
    assert_eq!(
        anchor(&mut center, &operator, 5, seq),
        Err("anchor_not_newer")
    );
    assert_eq!(anchor(&mut center, &operator, 9, seq), Ok(()));
    // Numbered in order; the center chain holds seals only, never a height or a hash.
    let anchors: Vec<(u64, milk_core::Hash)> = center.anchors_of(&brand).collect();
    let seal = |h: u64| milk_core::anchor::anchor_seal(&brand, h, &block_hash(h));
    assert_eq!(anchors, [(0, seal(5)), (1, seal(9))]);
    let records = format!("{:?}", center.records());
    assert!(!records.contains(&format!("{:?}", block_hash(9).0)));
    // Anchors persist as records and restore.
    center.take_delta();
    let mut restored = g.empty_state(&g.chains[0]);
    restored.restore(center.records()).unwrap();
    assert_eq!(restored.records(), center.records());
    // A brand chain has no operator: nobody anchors there.
    let (_, mut brand_state) = g.genesis_block(&g.chains[1]).unwrap();
    assert_eq!(
        anchor(&mut brand_state, &operator, 1, 0),
        Err("not_operator")
    );
}

#[test]
fn expiring_tokens_are_spent_first_move_with_transfers_and_are_swept_once_expired() {
    use milk_core::brand::DAY_MS;
    let mut g = genesis();
    g.chains[1].partner.as_mut().unwrap().policy.expiry_days = Some(30);
    let (_, mut state) = g.genesis_block(&g.chains[1]).unwrap();
    let chain: ChainId = "brand".parse().unwrap();
    let pts = sym("PTS");
    let day0 = T0 / DAY_MS;
    let mut seqs = [0u64; 5];
    let mut run = |state: &mut ChainState,
                   from: usize,
                   at_ms: u64,
                   action: Action|
     -> Result<(), &'static str> {
        let tx = Transaction {
            chain: chain.clone(),
            sender: key(from).address(),
            sequence: seqs[from],
            expires_at_ms: at_ms + 1_000,
            action,
        };
        apply_checked(state, &tx, at_ms).inspect(|()| seqs[from] += 1)
    };
    let hash = customer_hash(1);
    let message = milk_core::brand::link_message(&chain, &key(1).address(), &hash);
    run(
        &mut state,
        1,
        T0,
        Action::Brand(BrandAction::Link {
            customer_hash: hash,
            partner_signature: key(0).sign(&message.0),
        }),
    )
    .unwrap();
    // Key 1 holds 1,000 that never expire (genesis); it converts 300 on day 0 and 200 a
    // week later: two lots, expiring on days 30 and 37.
    let convert = |mileage, reference: &str| {
        Action::Brand(BrandAction::Convert {
            to: key(1).address(),
            mileage,
            reference: reference.into(),
        })
    };
    run(&mut state, 0, T0, convert(300, "a")).unwrap();
    run(&mut state, 0, T0 + 7 * DAY_MS, convert(200, "b")).unwrap();
    let lots = |state: &ChainState, k: usize| {
        state
            .brand()
            .unwrap()
            .lots(&key(k).address())
            .map(|(d, a)| (d - day0, a.units()))
            .collect::<Vec<_>>()
    };
    assert_eq!(lots(&state, 1), [(30, 300), (37, 200)]);

    // Spending takes the soonest-expiring lot first; a transfer carries the lots it takes.
    let pay = |amount| {
        Action::Token(TokenAction::Transfer {
            to: key(2).address(),
            asset: pts,
            amount: Amount::new(amount),
            memo: String::new(),
        })
    };
    run(&mut state, 1, T0 + 8 * DAY_MS, pay(250)).unwrap();
    assert_eq!(lots(&state, 1), [(30, 50), (37, 200)]);
    assert_eq!(lots(&state, 2), [(30, 250)]);
    // Past day 30, what was left of the first lot has expired: it cannot be spent.
    let later = T0 + 31 * DAY_MS;
    assert_eq!(
        state
            .brand()
            .unwrap()
            .expired(&key(1).address(), later)
            .units(),
        50
    );
    let balance = state.balance(&key(1).address(), &pts).units(); // 1,000 + 500 − 250
    assert_eq!(balance, 1_250);
    assert_eq!(
        run(&mut state, 1, later, pay(1_201)),
        Err("insufficient_balance")
    );
    // Spending what is left takes the unexpired lot first, then tokens that never expire.
    run(&mut state, 1, later, pay(300)).unwrap();
    assert_eq!(lots(&state, 1), [(30, 50)]);

    // The sweep: only the issuer, only what has expired, exactly once.
    let supply = state.supply(&pts).unwrap().units();
    let sweep = |k: usize| {
        Action::Brand(BrandAction::Expire {
            account: key(k).address(),
        })
    };
    assert_eq!(run(&mut state, 1, later, sweep(1)), Err("not_issuer"));
    assert_eq!(
        run(&mut state, 0, T0 + 29 * DAY_MS, sweep(1)),
        Err("nothing_expired")
    );
    run(&mut state, 0, later, sweep(1)).unwrap();
    assert_eq!(
        state.balance(&key(1).address(), &pts).units(),
        balance - 300 - 50
    );
    assert_eq!(state.supply(&pts).unwrap().units(), supply - 50);
    assert_eq!(lots(&state, 1), []);
    assert_eq!(run(&mut state, 0, later, sweep(1)), Err("nothing_expired"));
    // Key 2's 250, received with the first lot's expiry, is swept too.
    run(&mut state, 0, later, sweep(2)).unwrap();
    assert_eq!(state.brand().unwrap().totals().expired.units(), 300);
    state.check_conservation().unwrap();

    // Lots persist as records and restore.
    let mut restored = g.empty_state(&g.chains[1]);
    restored.restore(state.records()).unwrap();
    assert_eq!(restored.records(), state.records());
}

#[test]
fn joining_the_alliance_takes_a_free_sector_member_approvals_and_ticas_signature() {
    use milk_core::alliance::{Application, Status};
    use milk_core::genesis::demo_key;
    let check = |quorum: Option<u32>| {
        let mut g = Genesis::demo();
        g.admission_quorum = quorum;
        let (_, mut center) = g.genesis_block(g.center()).unwrap();
        let now = g.genesis_time_ms + 10;
        let mut seqs: BTreeMap<Address, u64> = BTreeMap::new();
        let mut run =
            |state: &mut ChainState, key: &Keypair, action: Action| -> Result<(), &'static str> {
                let seq = seqs.entry(key.address()).or_default();
                let tx = Transaction {
                    chain: ChainId::center(),
                    sender: key.address(),
                    sequence: *seq,
                    expires_at_ms: now + 1_000,
                    action,
                };
                apply_checked(state, &tx, now).inspect(|()| *seq += 1)
            };
        let policy = g.chains[1].partner.as_ref().unwrap().policy.clone();
        let application = |chain: &str, sector: &str, symbol: &str| Application {
            chain: chain.parse().unwrap(),
            name: "Paper Lantern Books".into(),
            sector: sector.into(),
            symbol: symbol.parse().unwrap(),
            decimals: 2,
            policy: policy.clone(),
            initial_float: Amount::new(1_000_000),
        };
        let apply = |a: Application| Action::Alliance(AllianceAction::Apply { application: a });
        let (newco, other) = (
            Keypair::from_label("newco"),
            Keypair::from_label("other-co"),
        );
        let operator = demo_key("operator");
        let members = ["skyway", "cinema", "dailymart"].map(|c| demo_key(&format!("partner:{c}")));
        let books: ChainId = "bookshop".parse().unwrap();

        assert_eq!(
            run(
                &mut center,
                &other,
                apply(application("airline2", "travel", "FLY"))
            ),
            Err("sector_occupied")
        );
        // Case and surrounding spaces do not make another sector.
        for sector in ["Travel", " TRAVEL "] {
            let taken = apply(application("airline2", sector, "FLY"));
            assert_eq!(run(&mut center, &other, taken), Err("sector_occupied"));
        }
        assert_eq!(
            run(
                &mut center,
                &other,
                apply(application("skyway", "books", "BOOK"))
            ),
            Err("chain_taken")
        );
        assert_eq!(
            run(
                &mut center,
                &other,
                apply(application("bookshop", "books", "SKY"))
            ),
            Err("invalid_application")
        );
        assert_eq!(
            run(
                &mut center,
                &members[0],
                apply(application("bookshop", "books", "BOOK"))
            ),
            Err("invalid_application")
        );
        assert_eq!(
            run(
                &mut center,
                &newco,
                apply(application("bookshop", "books", "BOOK"))
            ),
            Ok(())
        );
        // A second applicant in the same sector, even while the first is pending.
        assert_eq!(
            run(
                &mut center,
                &other,
                apply(application("bookclub", "books", "CLUB"))
            ),
            Err("sector_occupied")
        );

        let sign = Action::Alliance(AllianceAction::SignAgreement {
            chain: books.clone(),
        });
        let need = quorum.unwrap_or(3);
        assert_eq!(
            run(&mut center, &operator, sign.clone()),
            Err("quorum_not_reached")
        );
        let approve = Action::Alliance(AllianceAction::Approve {
            chain: books.clone(),
        });
        assert_eq!(
            run(&mut center, &demo_key("alice"), approve.clone()),
            Err("not_a_member")
        );
        assert_eq!(
            run(&mut center, &newco, approve.clone()),
            Err("not_a_member")
        );
        for (i, m) in members.iter().enumerate().take(need as usize) {
            if i + 1 < need as usize {
                assert_eq!(
                    run(&mut center, &operator, sign.clone()),
                    Err("quorum_not_reached")
                );
            }
            assert_eq!(run(&mut center, m, approve.clone()), Ok(()));
            assert_eq!(
                run(&mut center, m, approve.clone()),
                Err("already_approved")
            );
        }
        assert_eq!(
            run(&mut center, &members[0], sign.clone()),
            Err("not_operator")
        );
        assert_eq!(run(&mut center, &operator, sign.clone()), Ok(()));
        let member = center.alliance().unwrap().member(&books).unwrap().clone();
        assert_eq!(member.status, Status::Admitted);
        assert_eq!(member.admitted_at_ms, Some(now));
        // Its brand chain follows from the record alone: it starts at the admitting block's
        // time, with the partner as issuer and the float in TICA's inventory.
        let spec = g.admitted_chain(&member).unwrap();
        let (block, brand) = g.genesis_block(&spec).unwrap();
        assert_eq!(block.header.time_ms, now);
        assert_eq!(block.header.chain, books);
        let book: Symbol = "BOOK".parse().unwrap();
        assert_eq!(brand.asset(&book).unwrap().issuer, Some(newco.address()));
        assert_eq!(brand.balance(&g.tica_inventory, &book).units(), 1_000_000);
        assert_eq!(brand.supply(&book).unwrap().units(), 1_000_000);
        assert_eq!(brand.brand().unwrap().policy(), &policy);
        let network = g.with_admitted(center.alliance().unwrap().members().map(|(_, m)| m));
        assert_eq!(network.chains.len(), g.chains.len() + 1);
        assert_eq!(network.chains.last(), Some(&spec));
        // The network view rebuilds the same center chain: admitted partners are not
        // mistaken for genesis partners.
        assert_eq!(
            network.genesis_block(network.center()).unwrap().0,
            g.genesis_block(g.center()).unwrap().0
        );
        assert_eq!(
            network.empty_state(network.center()).records(),
            g.empty_state(g.center()).records()
        );
        assert_eq!(
            run(&mut center, &operator, sign),
            Err("unknown_application")
        );

        // Suspension and reinstatement, by TICA only, each from the right status.
        let suspend = Action::Alliance(AllianceAction::Suspend {
            chain: books.clone(),
        });
        assert_eq!(
            run(&mut center, &newco, suspend.clone()),
            Err("not_operator")
        );
        assert_eq!(run(&mut center, &operator, suspend.clone()), Ok(()));
        assert_eq!(
            run(&mut center, &operator, suspend),
            Err("wrong_partner_status")
        );
        assert_eq!(
            run(
                &mut center,
                &operator,
                Action::Alliance(AllianceAction::Reinstate {
                    chain: books.clone()
                })
            ),
            Ok(())
        );
        // The new member now approves newcomers too.
        assert_eq!(
            run(
                &mut center,
                &other,
                apply(application("bookclub", "clubs", "CLUB"))
            ),
            Ok(())
        );
        assert_eq!(
            run(
                &mut center,
                &newco,
                Action::Alliance(AllianceAction::Approve {
                    chain: "bookclub".parse().unwrap()
                })
            ),
            Ok(())
        );

        // The registry persists and restores, and a restored state has nothing to persist.
        let mut restored = g.empty_state(g.center());
        restored.restore(center.records()).unwrap();
        assert_eq!(restored.records(), center.records());
        assert_eq!(restored.take_delta(), Default::default());
    };
    check(None);
    check(Some(2));
}

#[test]
fn a_partner_changes_its_terms_after_admission_and_they_survive_a_restart() {
    let g = genesis();
    let spec = &g.chains[1];
    let (_, mut state) = g.genesis_block(spec).unwrap();
    let chain: ChainId = "brand".parse().unwrap();
    let now = T0 + 10;
    let mut seqs = [0u64; 5];
    let mut run =
        |state: &mut ChainState, from: usize, action: Action| -> Result<(), &'static str> {
            let tx = Transaction {
                chain: chain.clone(),
                sender: key(from).address(),
                sequence: seqs[from],
                expires_at_ms: now + 1_000,
                action,
            };
            apply_checked(state, &tx, now).inspect(|()| seqs[from] += 1)
        };
    let terms = |transfers_allowed, min: u128, max: u128, daily: u128| {
        Action::Brand(BrandAction::SetPolicy {
            terms: milk_core::brand::PolicyTerms {
                transfers_allowed,
                min_conversion: Amount::new(min),
                max_conversion: Amount::new(max),
                daily_user_limit: Amount::new(daily),
            },
        })
    };
    let transfer = |to: usize| {
        Action::Token(TokenAction::Transfer {
            to: key(to).address(),
            asset: sym("PTS"),
            amount: Amount::new(5),
            memo: String::new(),
        })
    };
    let convert = |mileage: u64, reference: &str| {
        Action::Brand(BrandAction::Convert {
            to: key(1).address(),
            mileage,
            reference: reference.into(),
        })
    };
    let hash = customer_hash(1);
    let message = milk_core::brand::link_message(&chain, &key(1).address(), &hash);
    let link = Action::Brand(BrandAction::Link {
        customer_hash: hash,
        partner_signature: key(0).sign(&message.0),
    });
    run(&mut state, 1, link).unwrap();
    assert_eq!(run(&mut state, 1, transfer(2)), Ok(()));

    // Only the partner's issuer key sets its terms, and only terms that make sense.
    assert_eq!(
        run(&mut state, 3, terms(false, 1, 100, 150)),
        Err("not_issuer")
    );
    assert_eq!(
        run(&mut state, 0, terms(false, 200, 100, 150)),
        Err("invalid_policy")
    );
    assert_eq!(
        run(&mut state, 0, terms(false, 1, 0, 150)),
        Err("invalid_policy")
    );
    assert_eq!(
        run(&mut state, 0, terms(false, 10, 100, 5)),
        Err("invalid_policy")
    );

    // Transfers stop; conversions keep to the new limits from the next transaction on.
    assert_eq!(run(&mut state, 0, terms(false, 1, 100, 150)), Ok(()));
    assert_eq!(run(&mut state, 1, transfer(2)), Err("transfers_disabled"));
    assert_eq!(
        run(&mut state, 0, convert(101, "c-1")),
        Err("conversion_out_of_range")
    );
    assert_eq!(run(&mut state, 0, convert(100, "c-2")), Ok(()));
    assert_eq!(run(&mut state, 0, convert(60, "c-3")), Err("daily_limit"));
    let policy = state.brand().unwrap().policy().clone();
    assert!(!policy.transfers_allowed);
    assert_eq!(policy.max_conversion, Amount::new(100));
    // What is not a term stays as admitted.
    assert_eq!(policy.units_per_mileage, self::policy().units_per_mileage);
    assert_eq!(
        policy.redemption_value_krw,
        self::policy().redemption_value_krw
    );

    // The terms are a record of their own: a restarted node restores them exactly.
    let records = state.records();
    assert!(
        records
            .iter()
            .any(|(k, _)| k[..] == [milk_core::brand::record::POLICY])
    );
    let mut restored = spec.empty_state();
    restored.restore(records.clone()).unwrap();
    assert_eq!(restored.records(), records);
    assert_eq!(restored.brand().unwrap().policy(), &policy);
    // And changing them back opens transfers again.
    assert_eq!(
        run(&mut state, 0, terms(true, 1, 1_000_000, 10_000_000)),
        Ok(())
    );
    assert_eq!(run(&mut state, 1, transfer(2)), Ok(()));
}

/// Admits a signed transaction to a pool, as a node would.
fn admit(state: &ChainState, pool: &mut Mempool, signed: SignedTransaction, now: u64) {
    let standing = state.standing(&signed.tx, Share::ORDINARY, now);
    pool.admit(signed.verify().unwrap(), &standing).unwrap();
}

/// A `SetProducers` action naming `keys`.
fn producers(keys: &[&Keypair]) -> Action {
    let producers = keys.iter().map(|k| k.address()).collect();
    Action::Producers(ProducersAction::SetProducers { producers })
}

/// A transaction on the test brand chain, signed by `from`.
fn brand_tx(from: &Keypair, sequence: u64, action: Action) -> SignedTransaction {
    let t = Transaction {
        chain: "brand".parse().unwrap(),
        sender: from.address(),
        sequence,
        expires_at_ms: T0 + 3_600_000,
        action,
    };
    t.sign(from)
}

#[test]
fn only_tica_changes_the_producer_set_to_a_usable_one_that_keeps_its_key() {
    let g = genesis();
    let (_, state) = g.genesis_block(&g.chains[1]).unwrap();
    let (tica, node) = (Keypair::from_label("producer"), Keypair::from_label("node"));
    let code = |t: SignedTransaction| state.check(&t.tx, T0 + 10).map_err(|e| e.code());
    let both = producers(&[&tica, &node]);
    assert_eq!(
        code(brand_tx(&key(0), 0, both.clone())),
        Err("not_operator")
    );
    assert_eq!(
        code(brand_tx(&tica, 0, producers(&[]))),
        Err("bad_producer_set")
    );
    let twice = producers(&[&tica, &node, &node]);
    assert_eq!(code(brand_tx(&tica, 0, twice)), Err("duplicate_producer"));
    let alone = producers(&[&node]);
    assert_eq!(
        code(brand_tx(&tica, 0, alone)),
        Err("genesis_producer_required")
    );
    let many: Vec<Keypair> = (0..17).map(key).collect();
    let many = producers(&many.iter().collect::<Vec<_>>());
    assert_eq!(
        code(brand_tx(&tica, 0, many.clone())),
        Err("bad_producer_set")
    );
    // Seventeen keys do not even decode.
    let bytes = milk_core::codec::Encode::to_bytes(&brand_tx(&tica, 0, many));
    assert!(SignedTransaction::decode_checked(&bytes).is_err());
    assert_eq!(code(brand_tx(&tica, 0, both)), Ok(()));
    assert_eq!(state.producers().keys(), [tica.address()]);
}

#[test]
fn each_block_answers_to_its_parents_producer_set() {
    let g = genesis();
    let spec = g.chains[1].clone();
    let (genesis_block, mut state) = g.genesis_block(&spec).unwrap();
    let (tica, node) = (Keypair::from_label("producer"), Keypair::from_label("node"));
    let (set, tx) = (producers, brand_tx);
    let both = || set(&[&tica, &node]);
    // Block 1, signed by TICA, lets the partner's node sign from block 2 on; block 2, signed
    // by the node, takes it back from block 3 on.
    let mut pool = Mempool::new(PoolLimits::new(100));
    admit(&state, &mut pool, tx(&tica, 0, both()), T0 + 10);
    let mut blocks = vec![genesis_block.clone()];
    let mut make = |state: &mut ChainState, pool: &mut Mempool, by: &Keypair| {
        let (parent, at) = (
            &blocks.last().unwrap().header,
            T0 + 1_000 * blocks.len() as u64,
        );
        let b = chain::produce(state, pool, parent, at, by, 100)
            .0
            .unwrap()
            .block;
        blocks.push(b.clone());
        b
    };
    let b1 = make(&mut state, &mut pool, &tica);
    assert_eq!(state.producers().keys(), [tica.address(), node.address()]);
    admit(&state, &mut pool, tx(&tica, 1, set(&[&tica])), T0 + 1_100);
    let b2 = make(&mut state, &mut pool, &node);
    assert_eq!(state.producers().keys(), [tica.address()]);
    let transfer = Action::Token(TokenAction::Transfer {
        to: key(2).address(),
        asset: sym("PTS"),
        amount: Amount::new(3),
        memo: String::new(),
    });
    admit(&state, &mut pool, tx(&key(1), 0, transfer), T0 + 2_100);
    let b3 = make(&mut state, &mut pool, &tica);
    let replay = |blocks: &[&Block]| {
        let mut v = Verifier::start(&g, &spec.id, &genesis_block).unwrap();
        blocks.iter().try_for_each(|b| v.apply(b))
    };
    assert_eq!(replay(&[&b1, &b2, &b3]), Ok(()));

    // Signed by a key outside its parent's set, each block is refused.
    let resign = |b: &Block, by: &Keypair| {
        let mut header = b.header.clone();
        header.producer = by.address();
        Block::seal(header, b.txs.clone(), by)
    };
    let wrong = |k: &Keypair| Err(BlockError::WrongProducer { got: k.address() });
    assert_eq!(replay(&[&resign(&b1, &node)]), wrong(&node));
    let intruder = Keypair::from_label("intruder");
    assert_eq!(replay(&[&b1, &resign(&b2, &intruder)]), wrong(&intruder));
    assert_eq!(replay(&[&b1, &b2, &resign(&b3, &node)]), wrong(&node));

    // The set persists as a record and restores; a malformed record is refused.
    let mut restored = g.empty_state(&spec);
    restored.restore(state.records()).unwrap();
    assert_eq!(restored.producers().keys(), [tica.address()]);
    let record = milk_core::producers::record::PRODUCERS;
    let mut broken = g.empty_state(&spec);
    assert!(broken.restore([(vec![record], vec![7u8; 31])]).is_err());
}
