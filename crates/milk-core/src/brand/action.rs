//! A partner's brand chain: links, conversions, redemptions, refunds and expiry.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use crate::codec::{DecodeError, MAX_MEMO_BYTES, MAX_REFERENCE_BYTES, Reader, Writer};
use crate::{Address, Amount, ChainId, Hash, Signature};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BrandAction {
    /// Links the sender's wallet to a customer of the chain's partner (brand chains). The
    /// chain stores only `customer_hash`, the partner's salted hash of its customer id.
    Link {
        /// The partner's salted hash of the customer id.
        customer_hash: Hash,
        /// The partner's signature over [`crate::brand::link_message`].
        partner_signature: Signature,
    },
    /// Mints Brand Tokens for converted mileage, at the partner's rate; only the issuer may.
    Convert {
        /// The linked customer's wallet.
        to: Address,
        /// Mileage points converted.
        mileage: u64,
        /// The partner's own reference id: each is used once.
        reference: String,
    },
    /// Many conversions in one transaction, signed once by the issuer; only the issuer may.
    /// Each item applies or is refused on its own (a refused item holds back none after
    /// it), and the chain records each item's outcome under the transaction's id.
    ConvertBatch {
        /// The conversions, at most [`MAX_CONVERSION_BATCH`].
        items: Vec<ConversionItem>,
    },
    /// Spends the sender's Brand Tokens at the partner: they are burned, and the partner
    /// owes the service at value R per unit.
    Redeem {
        /// How much, in base units; never zero.
        amount: Amount,
        /// The partner's order id: each is used once.
        order_id: String,
    },
    /// Gives a redemption back: re-mints its amount to the redeemer, once; only the issuer.
    Refund {
        /// The redemption's order id.
        order_id: String,
    },
    /// The partner changes its terms after admission: whether its token may be transferred,
    /// and its conversion limits; only the issuer. They apply from the next transaction on.
    SetPolicy {
        /// The new terms.
        terms: super::PolicyTerms,
    },
    /// Retires an account's expired Brand Tokens (burns its expired lots); only the issuer.
    Expire {
        /// The account swept.
        account: Address,
    },
    /// Records on the brand chain where its partner stands in the alliance, as the center
    /// chain decided: a suspended partner converts nothing; only the operator.
    SetStanding {
        /// Whether the partner is suspended.
        suspended: bool,
    },
    /// A member consents to share membership data with this chain's partner, on the
    /// partner's own chain: nobody but the member, the partner and TICA learns of it.
    GrantConsent {
        /// The partner's brand chain, the recipient: this chain.
        chain: ChainId,
        /// What the partner may use it for.
        purpose: String,
        /// The data items shared: `level`, `activity`.
        items: Vec<String>,
        /// How long the partner may keep what it reads, days.
        retention_days: u32,
    },
    /// A member withdraws a consent.
    WithdrawConsent {
        /// The partner's brand chain: this chain.
        chain: ChainId,
    },
    /// TICA's node records the partner's read of consenting members' data, on the
    /// partner's own chain; only the operator.
    LogAccess {
        /// The partner's brand chain: this chain.
        chain: ChainId,
        /// The members read.
        users: Vec<Address>,
    },
    /// The partner reports a customer's coupon payment, once per coupon id; only the issuer.
    /// TICA credits the LZM it earns on the center chain under the report's seal.
    ReportCoupon {
        /// The customer.
        user: Address,
        /// What the coupon paid, KRW.
        krw: u64,
        /// The partner's coupon id.
        coupon_id: String,
    },
    /// The partner reports that a reported coupon payment was refunded, once; only the
    /// issuer. TICA takes back the LZM it earned on the center chain.
    RefundCoupon {
        /// The customer.
        user: Address,
        /// The coupon id the payment was reported under.
        coupon_id: String,
    },
    /// Records on the brand chain the partner's exit, as the center chain decided: from
    /// now on it converts nothing, and from `final_ms` nothing is redeemed or refunded; once
    /// `closed` (the exit finished, past the final date), TICA's remaining stock of the token
    /// is burned. Only the operator; the final date never changes once recorded.
    SetExit {
        /// The exit's final date, Unix ms.
        final_ms: u64,
        /// Whether the exit is finished.
        closed: bool,
    },
}

/// The most conversions one batch carries.
pub const MAX_CONVERSION_BATCH: usize = 1_000;

/// One conversion of a [`BrandAction::ConvertBatch`]: what a single `Convert` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionItem {
    /// The linked customer's wallet.
    pub to: Address,
    /// Mileage points converted.
    pub mileage: u64,
    /// The partner's own reference id: each is used once.
    pub reference: String,
}

impl BrandAction {
    /// The event kind a partner's feed names it by.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Link { .. } => "link",
            Self::Convert { .. } => "conversion",
            Self::ConvertBatch { .. } => "conversion_batch",
            Self::Redeem { .. } => "redemption",
            Self::Refund { .. } => "refund",
            Self::Expire { .. } => "expiry",
            Self::SetPolicy { .. } => "policy",
            Self::SetStanding { .. } => "standing",
            Self::SetExit { .. } => "exit",
            Self::GrantConsent { .. } => "consent",
            Self::WithdrawConsent { .. } => "consent_withdrawn",
            Self::LogAccess { .. } => "access",
            Self::ReportCoupon { .. } => "coupon",
            Self::RefundCoupon { .. } => "coupon_refund",
        }
    }

    const LINK: u8 = 4;
    const CONVERT: u8 = 5;
    const REDEEM: u8 = 6;
    const REFUND: u8 = 7;
    const EXPIRE: u8 = 9;
    const SET_POLICY: u8 = 42;
    const SET_STANDING: u8 = 43;
    const SET_EXIT: u8 = 53;
    const GRANT_CONSENT: u8 = 30;
    const WITHDRAW_CONSENT: u8 = 31;
    const LOG_ACCESS: u8 = 32;
    const REPORT_COUPON: u8 = 54;
    const REFUND_COUPON: u8 = 55;
    const CONVERT_BATCH: u8 = 56;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[
        Self::LINK,
        Self::CONVERT,
        Self::CONVERT_BATCH,
        Self::REDEEM,
        Self::REFUND,
        Self::EXPIRE,
        Self::SET_POLICY,
        Self::SET_STANDING,
        Self::SET_EXIT,
        Self::GRANT_CONSENT,
        Self::WITHDRAW_CONSENT,
        Self::LOG_ACCESS,
        Self::REPORT_COUPON,
        Self::REFUND_COUPON,
    ];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::Link {
                customer_hash,
                partner_signature,
            } => {
                w.u8(Self::LINK).put(customer_hash).put(partner_signature);
            }
            Self::Convert {
                to,
                mileage,
                reference,
            } => {
                w.u8(Self::CONVERT).put(to).u64(*mileage).str(reference);
            }
            Self::ConvertBatch { items } => {
                w.u8(Self::CONVERT_BATCH).u32(items.len() as u32);
                for i in items {
                    w.put(&i.to).u64(i.mileage).str(&i.reference);
                }
            }
            Self::Redeem { amount, order_id } => {
                w.u8(Self::REDEEM).put(amount).str(order_id);
            }
            Self::Refund { order_id } => {
                w.u8(Self::REFUND).str(order_id);
            }
            Self::SetPolicy { terms } => {
                w.u8(Self::SET_POLICY).put(terms);
            }
            Self::Expire { account } => {
                w.u8(Self::EXPIRE).put(account);
            }
            Self::SetStanding { suspended } => {
                w.u8(Self::SET_STANDING).u8(u8::from(*suspended));
            }
            Self::SetExit { final_ms, closed } => {
                w.u8(Self::SET_EXIT).u64(*final_ms).u8(u8::from(*closed));
            }
            Self::GrantConsent { .. } | Self::WithdrawConsent { .. } | Self::LogAccess { .. } => {
                self.encode_sharing(w);
            }
            Self::ReportCoupon {
                user,
                krw,
                coupon_id,
            } => {
                w.u8(Self::REPORT_COUPON).put(user).u64(*krw).str(coupon_id);
            }
            Self::RefundCoupon { user, coupon_id } => {
                w.u8(Self::REFUND_COUPON).put(user).str(coupon_id);
            }
        }
    }

    /// [`Self::encode_into`] for the data-sharing actions.
    fn encode_sharing(&self, w: &mut Writer) {
        match self {
            Self::GrantConsent {
                chain,
                purpose,
                items,
                retention_days,
            } => {
                w.u8(Self::GRANT_CONSENT)
                    .put(chain)
                    .str(purpose)
                    .u32(items.len() as u32);
                for i in items {
                    w.str(i);
                }
                w.u32(*retention_days);
            }
            Self::WithdrawConsent { chain } => {
                w.u8(Self::WITHDRAW_CONSENT).put(chain);
            }
            Self::LogAccess { chain, users } => {
                w.u8(Self::LOG_ACCESS).put(chain).u32(users.len() as u32);
                for u in users {
                    w.put(u);
                }
            }
            _ => unreachable!("encode_into sends only data-sharing actions here"),
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::LINK => Ok(Self::Link {
                customer_hash: r.get()?,
                partner_signature: r.get()?,
            }),
            Self::CONVERT => Ok(Self::Convert {
                to: r.get()?,
                mileage: r.u64()?,
                reference: r.str("reference", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::CONVERT_BATCH => Self::decode_batch(r),
            Self::REDEEM => Ok(Self::Redeem {
                amount: r.get()?,
                order_id: r.str("order id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::REFUND => Ok(Self::Refund {
                order_id: r.str("order id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::SET_POLICY => Ok(Self::SetPolicy { terms: r.get()? }),
            Self::EXPIRE => Ok(Self::Expire { account: r.get()? }),
            Self::SET_STANDING => Ok(Self::SetStanding {
                suspended: crate::codec::flag(r, "suspended")?,
            }),
            Self::SET_EXIT => Ok(Self::SetExit {
                final_ms: r.u64()?,
                closed: crate::codec::flag(r, "closed")?,
            }),
            Self::GRANT_CONSENT | Self::WITHDRAW_CONSENT | Self::LOG_ACCESS => {
                Self::decode_sharing(tag, r)
            }
            Self::REPORT_COUPON => Ok(Self::ReportCoupon {
                user: r.get()?,
                krw: r.u64()?,
                coupon_id: r.str("coupon id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::REFUND_COUPON => Ok(Self::RefundCoupon {
                user: r.get()?,
                coupon_id: r.str("coupon id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }

    /// [`Self::decode_fields`] for a batch of conversions: one to [`MAX_CONVERSION_BATCH`].
    fn decode_batch(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.u32()? as usize;
        if n == 0 || n > MAX_CONVERSION_BATCH {
            return Err(DecodeError::Invalid {
                what: "conversion batch",
                reason: format!("1 to {MAX_CONVERSION_BATCH} conversions, not {n}"),
            });
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(ConversionItem {
                to: r.get()?,
                mileage: r.u64()?,
                reference: r.str("reference", MAX_REFERENCE_BYTES)?.to_owned(),
            });
        }
        Ok(Self::ConvertBatch { items })
    }

    /// [`Self::decode_fields`] for the data-sharing actions.
    fn decode_sharing(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::GRANT_CONSENT => {
                let chain = r.get()?;
                let purpose = r.str("purpose", MAX_MEMO_BYTES)?.to_owned();
                let n = r.u32()?;
                if n > 8 {
                    return Err(DecodeError::Invalid {
                        what: "data items",
                        reason: "at most 8".into(),
                    });
                }
                let items = (0..n)
                    .map(|_| r.str("data item", 32).map(str::to_owned))
                    .collect::<Result<_, _>>()?;
                Ok(Self::GrantConsent {
                    chain,
                    purpose,
                    items,
                    retention_days: r.u32()?,
                })
            }
            Self::WITHDRAW_CONSENT => Ok(Self::WithdrawConsent { chain: r.get()? }),
            Self::LOG_ACCESS => {
                let chain = r.get()?;
                let n = r.u32()?;
                if n > 24 {
                    return Err(DecodeError::Invalid {
                        what: "members read",
                        reason: "at most 24 per record".into(),
                    });
                }
                let users = (0..n).map(|_| r.get()).collect::<Result<_, _>>()?;
                Ok(Self::LogAccess { chain, users })
            }
            _ => unreachable!("decode_fields sends only data-sharing tags here"),
        }
    }
}
