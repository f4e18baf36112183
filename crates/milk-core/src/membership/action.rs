//! Membership: LZM earning, levels, premium offers and the MiL.k Pack.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use crate::codec::{DecodeError, MAX_MEMO_BYTES, MAX_REFERENCE_BYTES, Reader, Writer};
use crate::{Address, Amount, ChainId, Hash};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MembershipAction {
    /// The daily check-in: earns LZM once per UTC day (center chain).
    CheckIn,
    /// Burns the sender's MLK for LZM at TICA's rate (center chain).
    BurnForLzm {
        /// MLK base units burned.
        amount: Amount,
    },
    /// TICA credits the LZM a coupon payment earned, once per payment (center chain;
    /// operator only). The partner reported the payment on its own chain; the center chain
    /// names neither the partner nor its coupon, only the report's seal
    /// (`brand::coupon_seal`), which those who read the partner's chain can check.
    CreditCoupon {
        /// The customer.
        user: Address,
        /// What the coupon paid, KRW.
        krw: u64,
        /// The partner's report's seal.
        seal: Hash,
    },
    /// TICA takes back what a coupon payment earned, once, after the partner reported its
    /// refund on its own chain (center chain; operator only). What the member already spent
    /// of it becomes a debt their next credits settle first.
    ReverseCoupon {
        /// The customer.
        user: Address,
        /// The partner's report's seal.
        seal: Hash,
    },
    /// TICA changes the earning rules (center chain).
    SetEarningRules {
        /// The new rules.
        rules: super::EarningRules,
    },
    /// TICA sets a floor under a member's level, with its reason; level 0 removes it.
    SetLevelFloor {
        /// The member.
        user: Address,
        /// The level's index.
        level: u8,
        /// Why.
        reason: String,
    },
    /// A partner publishes a premium offer for members of a level, paid in LZM (center
    /// chain; the partner's issuer key).
    PublishOffer {
        /// The partner's id for it (once per partner).
        id: String,
        /// What it is.
        title: String,
        /// The lowest level that may buy it.
        level: u8,
        /// Its price, LZM base units.
        price: Amount,
        /// How many there are.
        stock: u32,
        /// When it opens and closes, Unix ms.
        opens_ms: u64,
        /// See `opens_ms`.
        closes_ms: u64,
    },
    /// A member buys a premium offer: the LZM goes to the partner.
    BuyOffer {
        /// The partner's brand chain.
        chain: ChainId,
        /// The offer's id.
        id: String,
    },
    /// TICA opens a MiL.k Pack season (center chain).
    OpenPackSeason {
        /// The season's number, each higher than the last.
        season: u32,
        /// When its first week starts, Unix ms.
        starts_ms: u64,
        /// How many weeks it runs.
        weeks: u32,
        /// MLK paid out each week, pro rata, base units.
        weekly_reward: Amount,
        /// LZM each participant earns per week, base units.
        lzm_per_week: Amount,
    },
    /// A member commits MLK to the Pack (more joins add to it).
    JoinPack {
        /// MLK base units.
        amount: Amount,
    },
    /// A member takes all their MLK out of the Pack; the week under way is forfeited.
    LeavePack,
    /// TICA pays a finished week of the season (center chain; once per week).
    PayPackWeek {
        /// The week's index in the season, from 0.
        week: u32,
    },
}

impl MembershipAction {
    const CHECK_IN: u8 = 23;
    const BURN_FOR_LZM: u8 = 24;
    const CREDIT_COUPON: u8 = 25;
    const SET_EARNING_RULES: u8 = 26;
    const SET_LEVEL_FLOOR: u8 = 27;
    const PUBLISH_OFFER: u8 = 28;
    const BUY_OFFER: u8 = 29;
    const OPEN_PACK_SEASON: u8 = 33;
    const JOIN_PACK: u8 = 34;
    const LEAVE_PACK: u8 = 35;
    const PAY_PACK_WEEK: u8 = 36;
    const REVERSE_COUPON: u8 = 50;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[
        Self::CHECK_IN,
        Self::BURN_FOR_LZM,
        Self::CREDIT_COUPON,
        Self::SET_EARNING_RULES,
        Self::SET_LEVEL_FLOOR,
        Self::PUBLISH_OFFER,
        Self::BUY_OFFER,
        Self::OPEN_PACK_SEASON,
        Self::JOIN_PACK,
        Self::LEAVE_PACK,
        Self::PAY_PACK_WEEK,
        Self::REVERSE_COUPON,
    ];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::CheckIn => {
                w.u8(Self::CHECK_IN);
            }
            Self::BurnForLzm { amount } => {
                w.u8(Self::BURN_FOR_LZM).put(amount);
            }
            Self::CreditCoupon { user, krw, seal } => {
                w.u8(Self::CREDIT_COUPON).put(user).u64(*krw).put(seal);
            }
            Self::ReverseCoupon { user, seal } => {
                w.u8(Self::REVERSE_COUPON).put(user).put(seal);
            }
            Self::SetEarningRules { rules } => {
                w.u8(Self::SET_EARNING_RULES).put(rules);
            }
            Self::SetLevelFloor {
                user,
                level,
                reason,
            } => {
                w.u8(Self::SET_LEVEL_FLOOR).put(user).u8(*level).str(reason);
            }
            Self::PublishOffer {
                id,
                title,
                level,
                price,
                stock,
                opens_ms,
                closes_ms,
            } => {
                w.u8(Self::PUBLISH_OFFER)
                    .str(id)
                    .str(title)
                    .u8(*level)
                    .put(price)
                    .u32(*stock)
                    .u64(*opens_ms)
                    .u64(*closes_ms);
            }
            Self::BuyOffer { chain, id } => {
                w.u8(Self::BUY_OFFER).put(chain).str(id);
            }
            Self::OpenPackSeason { .. }
            | Self::JoinPack { .. }
            | Self::LeavePack
            | Self::PayPackWeek { .. } => self.encode_pack(w),
        }
    }

    /// [`Self::encode_into`] for the MiL.k Pack's actions.
    fn encode_pack(&self, w: &mut Writer) {
        match self {
            Self::OpenPackSeason {
                season,
                starts_ms,
                weeks,
                weekly_reward,
                lzm_per_week,
            } => {
                w.u8(Self::OPEN_PACK_SEASON)
                    .u32(*season)
                    .u64(*starts_ms)
                    .u32(*weeks)
                    .put(weekly_reward)
                    .put(lzm_per_week);
            }
            Self::JoinPack { amount } => {
                w.u8(Self::JOIN_PACK).put(amount);
            }
            Self::LeavePack => {
                w.u8(Self::LEAVE_PACK);
            }
            Self::PayPackWeek { week } => {
                w.u8(Self::PAY_PACK_WEEK).u32(*week);
            }
            _ => unreachable!("encode_into sends only the Pack's actions here"),
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::CHECK_IN => Ok(Self::CheckIn),
            Self::BURN_FOR_LZM => Ok(Self::BurnForLzm { amount: r.get()? }),
            Self::CREDIT_COUPON => Ok(Self::CreditCoupon {
                user: r.get()?,
                krw: r.u64()?,
                seal: r.get()?,
            }),
            Self::SET_EARNING_RULES => Ok(Self::SetEarningRules { rules: r.get()? }),
            Self::SET_LEVEL_FLOOR => Ok(Self::SetLevelFloor {
                user: r.get()?,
                level: r.u8()?,
                reason: r.str("reason", MAX_MEMO_BYTES)?.to_owned(),
            }),
            Self::PUBLISH_OFFER => Ok(Self::PublishOffer {
                id: r.str("offer id", MAX_REFERENCE_BYTES)?.to_owned(),
                title: r.str("offer title", MAX_MEMO_BYTES)?.to_owned(),
                level: r.u8()?,
                price: r.get()?,
                stock: r.u32()?,
                opens_ms: r.u64()?,
                closes_ms: r.u64()?,
            }),
            Self::BUY_OFFER => Ok(Self::BuyOffer {
                chain: r.get()?,
                id: r.str("offer id", MAX_REFERENCE_BYTES)?.to_owned(),
            }),
            Self::OPEN_PACK_SEASON => Ok(Self::OpenPackSeason {
                season: r.u32()?,
                starts_ms: r.u64()?,
                weeks: r.u32()?,
                weekly_reward: r.get()?,
                lzm_per_week: r.get()?,
            }),
            Self::JOIN_PACK => Ok(Self::JoinPack { amount: r.get()? }),
            Self::LEAVE_PACK => Ok(Self::LeavePack),
            Self::PAY_PACK_WEEK => Ok(Self::PayPackWeek { week: r.u32()? }),
            Self::REVERSE_COUPON => Ok(Self::ReverseCoupon {
                user: r.get()?,
                seal: r.get()?,
            }),
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }
}
