//! A brand chain's refusals: links, conversions, redemptions, refunds, expiry and terms. Each has a stable code that clients, partners' systems and the tests rely on.

use crate::amount::Whole;
use thiserror::Error;

/// A brand chain's refusals: links, conversions, redemptions, refunds, expiry and terms.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BrandError {
    /// A partner action on a chain that has no partner.
    #[error("this is not a brand chain")]
    NotBrandChain,
    /// The partner does not allow transfers between customers.
    #[error("the partner does not allow transfers of its token")]
    TransfersDisabled,
    /// The partner's countersignature of a link is missing or wrong.
    #[error("the partner's signature of the link is not valid")]
    BadPartnerSignature,
    /// The wallet is already linked to another customer.
    #[error("this wallet is already linked to another customer of the partner")]
    AlreadyLinked,
    /// Converting to a wallet that is not linked to a customer.
    #[error("the wallet is not linked to a customer of the partner")]
    NotLinked,
    /// A reference or order id that is empty or too long.
    #[error("reference must be 1 to 64 bytes")]
    InvalidReference,
    /// A partner reference or order id used before.
    #[error("this reference was already used")]
    ReferenceUsed,
    /// A conversion below the partner's minimum or above its maximum.
    #[error("conversion amount is outside the partner's minimum and maximum")]
    ConversionOutOfRange,
    /// A conversion over the customer's daily limit.
    #[error("daily conversion limit of {limit} reached ({used} converted today)")]
    DailyLimit {
        /// The limit, in tokens.
        limit: Whole,
        /// Already converted today.
        used: Whole,
    },
    /// Refunding an order that was never redeemed.
    #[error("no redemption with this order id")]
    UnknownRedemption,
    /// Refunding twice.
    #[error("this redemption was already refunded")]
    AlreadyRefunded,
    /// Sweeping an account with no expired tokens.
    #[error("the account has no expired tokens")]
    NothingExpired,
    /// A partner's new terms that break a rule.
    #[error("invalid policy: {0}")]
    InvalidPolicy(String),
    /// The partner is suspended from the alliance: it issues nothing new.
    #[error("the partner is suspended: conversions are halted; redemptions and refunds go on")]
    PartnerSuspended,
    /// The partner is leaving the alliance: it issues nothing new.
    #[error(
        "the partner is leaving the alliance: conversions have stopped; redemptions go on until its final date"
    )]
    PartnerExiting,
    /// The partner's final date has passed: it honours no more redemptions.
    #[error("the partner left the alliance on {}: its points can no longer be redeemed or refunded", crate::moment::utc(*final_ms))]
    RedemptionsClosed {
        /// The exit's final date, Unix ms.
        final_ms: u64,
    },
    /// An exit recorded already, with another final date, or closed.
    #[error("this chain records another exit already")]
    ExitRecorded,
    /// No consent to read this member's data (never given, or withdrawn).
    #[error("the member has not consented to share data with this partner")]
    NoConsent,
    /// A consent that breaks a rule.
    #[error("invalid consent: {0}")]
    InvalidConsent(String),
    /// A coupon id reported already.
    #[error("this coupon was already reported")]
    CouponUsed,
    /// A coupon payment of nothing.
    #[error("a coupon payment must be worth at least KRW 1")]
    InvalidCoupon,
    /// A refund of a coupon payment never reported for this customer.
    #[error("no coupon payment of this customer was reported under this coupon id")]
    CouponUnknown,
    /// A batch of conversions with no items, or more than a batch may hold (the decoder
    /// refuses these on the wire; the rule keeps a block from holding one a replica could
    /// not read).
    #[error("a batch holds 1 to {max} conversions")]
    BatchSize {
        /// The most a batch may hold.
        max: usize,
    },
    /// A second refund of one coupon payment.
    #[error("this coupon payment was already refunded: its LZM was taken back")]
    CouponRefunded,
}

impl BrandError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BrandError::NotBrandChain => "not_brand_chain",
            BrandError::PartnerSuspended => "partner_suspended",
            BrandError::PartnerExiting => "partner_exiting",
            BrandError::RedemptionsClosed { .. } => "redemptions_closed",
            BrandError::ExitRecorded => "exit_recorded",
            BrandError::NoConsent => "no_consent",
            BrandError::InvalidConsent(_) => "invalid_consent",
            BrandError::CouponUsed => "coupon_used",
            BrandError::InvalidCoupon => "invalid_coupon",
            BrandError::CouponUnknown => "coupon_unknown",
            BrandError::CouponRefunded => "coupon_refunded",
            BrandError::BatchSize { .. } => "batch_size",
            BrandError::TransfersDisabled => "transfers_disabled",
            BrandError::BadPartnerSignature => "bad_partner_signature",
            BrandError::AlreadyLinked => "already_linked",
            BrandError::NotLinked => "not_linked",
            BrandError::InvalidReference => "invalid_reference",
            BrandError::ReferenceUsed => "reference_used",
            BrandError::ConversionOutOfRange => "conversion_out_of_range",
            BrandError::DailyLimit { .. } => "daily_limit",
            BrandError::UnknownRedemption => "unknown_redemption",
            BrandError::AlreadyRefunded => "already_refunded",
            BrandError::NothingExpired => "nothing_expired",
            BrandError::InvalidPolicy(_) => "invalid_policy",
        }
    }
}
