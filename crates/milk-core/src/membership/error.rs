//! Membership's refusals: LZM earning, levels, offers and the Pack. Each has a stable code that clients, partners' systems and the tests rely on.

use thiserror::Error;

/// Membership's refusals: LZM earning, levels, offers and the Pack.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MembershipError {
    /// This chain has no membership.
    #[error("there is no membership on this chain")]
    NoMembership,
    /// A second check-in on the same UTC day.
    #[error("already checked in today")]
    AlreadyCheckedIn,
    /// The account's daily LZM cap is reached.
    #[error("today's LZM earning cap is reached")]
    DailyCapReached,
    /// The pool that pays this is empty.
    #[error("the LZM pool paying this is exhausted")]
    PoolExhausted,
    /// Too little MLK burned to earn a base unit of LZM.
    #[error("too little MLK to earn any LZM")]
    BurnTooSmall,
    /// The coupon was credited already.
    #[error("this coupon was already credited")]
    CouponUsed,
    /// A refund of a coupon payment this partner never reported (or reported for nothing).
    #[error(
        "no LZM was credited to this member for a coupon payment with this id from this partner"
    )]
    CouponUnknown,
    /// A second refund of one coupon payment.
    #[error("this coupon payment was already refunded: its LZM was taken back")]
    CouponRefunded,
    /// A level that does not exist.
    #[error("there is no such level")]
    InvalidLevel,
    /// An offer id the partner used already.
    #[error("the partner already published an offer with this id")]
    OfferExists,
    /// An offer that breaks a rule.
    #[error("invalid offer: {0}")]
    InvalidOffer(String),
    /// No such offer.
    #[error("no such offer")]
    UnknownOffer,
    /// The offer is not open now.
    #[error("the offer is not open now")]
    OfferClosed,
    /// Every unit of the offer was bought.
    #[error("the offer is sold out")]
    SoldOut,
    /// No Pack season, or the action does not fit it.
    #[error("MiL.k Pack: {0}")]
    Pack(String),
    /// The member's level is below the offer's.
    #[error("the offer is for {needed} members and up; this member is {level}")]
    UnderLevel {
        /// The member's level.
        level: String,
        /// The offer's.
        needed: String,
    },
    /// This Pack week was paid already.
    #[error("this step of the trade is already done")]
    AlreadyPaid,
}

impl MembershipError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MembershipError::NoMembership => "no_membership",
            MembershipError::AlreadyCheckedIn => "already_checked_in",
            MembershipError::DailyCapReached => "daily_cap_reached",
            MembershipError::PoolExhausted => "pool_exhausted",
            MembershipError::BurnTooSmall => "burn_too_small",
            MembershipError::CouponUsed => "coupon_used",
            MembershipError::CouponUnknown => "coupon_unknown",
            MembershipError::CouponRefunded => "coupon_refunded",
            MembershipError::InvalidLevel => "invalid_level",
            MembershipError::OfferExists => "offer_exists",
            MembershipError::InvalidOffer(_) => "invalid_offer",
            MembershipError::UnknownOffer => "unknown_offer",
            MembershipError::OfferClosed => "offer_closed",
            MembershipError::SoldOut => "sold_out",
            MembershipError::Pack(_) => "pack_refused",
            MembershipError::UnderLevel { .. } => "under_level",
            MembershipError::AlreadyPaid => "trade_closed",
        }
    }
}
