//! Why a transaction cannot be applied: one enum, each variant with a stable code that
//! clients, partners' systems and the tests rely on.

use crate::codec::MAX_TX_LIFETIME_MS;
use crate::{Amount, ChainId, Symbol};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a transaction cannot be applied. Each variant has a stable [`code`](TxError::code).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TxError {
    /// Signed for another chain.
    #[error("transaction is for chain {got}, not {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The chain the transaction names.
        got: ChainId,
    },
    /// The signature does not match the sender.
    #[error("signature is not valid for the sender")]
    BadSignature,
    /// The transaction expired.
    #[error("transaction expired at {expires_at_ms} (now {now_ms})")]
    Expired {
        /// Its expiry.
        expires_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// The expiry is further away than allowed.
    #[error("expiry {expires_at_ms} is more than {MAX_TX_LIFETIME_MS} ms ahead of {now_ms}")]
    ExpiryTooFar {
        /// Its expiry.
        expires_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// The sequence number was already used: a replay or a duplicate.
    #[error("sequence {got} already used; next is {expected}")]
    SequenceUsed {
        /// The sender's next sequence number.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// An earlier sequence number has not been seen yet.
    #[error("sequence {got} is ahead; next is {expected}")]
    SequenceGap {
        /// The sender's next sequence number.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The asset does not exist on this chain.
    #[error("asset {asset} does not exist on this chain")]
    UnknownAsset {
        /// The asset named.
        asset: Symbol,
    },
    /// An amount of zero.
    #[error("amount must be more than zero")]
    ZeroAmount,
    /// The sender does not hold enough.
    #[error("insufficient {asset}: {available} available, {needed} needed (base units)")]
    InsufficientBalance {
        /// The asset.
        asset: Symbol,
        /// What the sender holds.
        available: Amount,
        /// What the transaction needs.
        needed: Amount,
    },
    /// A balance or supply would exceed the largest amount.
    #[error("amount overflows the largest representable {asset} balance")]
    Overflow {
        /// The asset.
        asset: Symbol,
    },
    /// Only the asset's issuer may mint it.
    #[error("only the issuer may mint {asset}")]
    NotIssuer {
        /// The asset.
        asset: Symbol,
    },
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
    #[error("daily conversion limit {limit} reached ({used} converted today, base units)")]
    DailyLimit {
        /// The limit.
        limit: Amount,
        /// Already converted today.
        used: Amount,
    },
    /// Refunding an order that was never redeemed.
    #[error("no redemption with this order id")]
    UnknownRedemption,
    /// Refunding twice.
    #[error("this redemption was already refunded")]
    AlreadyRefunded,
    /// An application for a chain id that is taken.
    #[error("that chain id is taken")]
    ChainTaken,
    /// An application that breaks a rule.
    #[error("invalid application: {0}")]
    InvalidApplication(String),
    /// An application in a sector that has a partner (or an applicant) already.
    #[error("sector {sector:?} already has a partner; one partner per sector")]
    SectorOccupied {
        /// The sector.
        sector: String,
    },
    /// No pending application (or member) for that chain.
    #[error("no such application or partner")]
    UnknownApplication,
    /// Only a member partner may approve.
    #[error("only a member partner may approve an application")]
    NotAMember,
    /// The member approved this application already.
    #[error("already approved")]
    AlreadyApproved,
    /// Too few members approved the application yet.
    #[error("{have} of {need} required approvals")]
    QuorumNotReached {
        /// Approvals so far.
        have: u32,
        /// Approvals required.
        need: u32,
    },
    /// Suspending a partner that is not admitted, or reinstating one that is not suspended.
    #[error("the partner is not in the status this needs")]
    WrongPartnerStatus,
    /// A partner's new terms that break a rule.
    #[error("invalid policy: {0}")]
    InvalidPolicy(String),
    /// Sweeping an account with no expired tokens.
    #[error("the account has no expired tokens")]
    NothingExpired,
    /// Only the operator may do this (on the center chain).
    #[error("only the operator may do this, on the center chain")]
    NotOperator,
    /// An anchor at or below the chain's last anchored height.
    #[error("chain {chain} is already anchored at height {anchored}")]
    AnchorNotNewer {
        /// The anchored chain.
        chain: ChainId,
        /// Its last anchored height.
        anchored: u64,
    },
    /// This chain has no exchange.
    #[error("there is no exchange on this chain")]
    NoExchange,
    /// Only the oracle key may record MLK's price.
    #[error("only the oracle key may record MLK's price")]
    NotOracle,
    /// A price of zero.
    #[error("a price must be more than zero")]
    InvalidPrice,
    /// An oracle price not newer than the last, or from the future.
    #[error("the oracle price must be newer than the last and not ahead of the block")]
    OracleNotNewer,
    /// No MLK price was ever recorded.
    #[error("no MLK price yet: trading waits for the oracle")]
    OracleMissing,
    /// MLK's price is too old to trade on.
    #[error(
        "MLK's price is {age_ms} ms old, more than {max_ms} ms: trading is halted until the oracle reports"
    )]
    OracleStale {
        /// Its age.
        age_ms: u64,
        /// The most allowed.
        max_ms: u64,
    },
    /// No market for that token.
    #[error("no market for {asset}")]
    UnknownMarket {
        /// The token.
        asset: Symbol,
    },
    /// A market setting that breaks a rule.
    #[error("invalid market: {0}")]
    InvalidMarket(String),
    /// A largest order that would let someone profit from moving the price against others.
    #[error(
        "the largest order must be at most {bound} base units, or moving the price against another order could pay more than the fees"
    )]
    MaxOrderUnsafe {
        /// The sandwich-safe bound.
        bound: u128,
    },
    /// A depth change that would move the price.
    #[error("that capacity would move the price; use a multiple of {step} base units")]
    DepthWouldMovePrice {
        /// Capacities that keep the price are its multiples.
        step: u128,
    },
    /// Paying with something other than MLK.
    #[error("{asset} cannot pay for Brand Tokens: only MLK does (LZM never does)")]
    PaymentNotAccepted {
        /// What was offered.
        asset: Symbol,
    },
    /// The token's partner is suspended: its trading is halted.
    #[error("the partner is suspended: its token's trading is halted")]
    PartnerSuspended,
    /// The order would take the price past its bound.
    #[error(
        "the order would cross the price bound; the largest size allowed now is {largest} base units"
    )]
    BoundReached {
        /// The largest size allowed, token base units.
        largest: u128,
    },
    /// The order is worth nothing after rounding and the fee.
    #[error("the order is too small to trade")]
    OrderTooSmall,
    /// The order is larger than the market allows.
    #[error("the order is larger than the market's largest, {max} base units")]
    OrderTooLarge {
        /// The largest order.
        max: u128,
    },
    /// The customer's daily volume in this market would be exceeded.
    #[error("daily trading limit {limit} reached ({used} traded today, base units)")]
    DailyVolume {
        /// The limit.
        limit: u128,
        /// Traded today.
        used: u128,
    },
    /// The price moved past the order's limit.
    #[error(
        "the order's limit was missed: it would be {total} MLK base units against a limit of {limit}"
    )]
    LimitMissed {
        /// What the order would pay or get.
        total: u128,
        /// The order's limit.
        limit: u128,
    },
    /// No such trade.
    #[error("no such trade")]
    UnknownTrade,
    /// The trade's step is already done.
    #[error("this step of the trade is already done")]
    TradeClosed,
    /// An embedded order that is not a sale.
    #[error("the embedded order is not a sale")]
    NotASale,
    /// TICA's inventory cannot deliver.
    #[error("TICA's inventory holds only {available} base units")]
    InventoryShort {
        /// What it holds.
        available: u128,
    },
    /// TICA's reserve cannot pay.
    #[error("TICA's reserve holds only {available} MLK base units")]
    ReserveShort {
        /// What it holds.
        available: u128,
    },
    /// The customer's order expired before it settled.
    #[error("the order expired before it could settle")]
    OrderExpired,
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
    /// A level that does not exist.
    #[error("there is no such level")]
    InvalidLevel,
    /// The account is a locked allocation.
    #[error("this allocation is locked: {0}")]
    AllocationLocked(String),
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
    /// No consent to read this member's data (never given, or withdrawn).
    #[error("the member has not consented to share data with this partner")]
    NoConsent,
    /// Phase 2 has begun already.
    #[error("phase 2 has begun already")]
    Phase2Started,
    /// No Pack season, or the action does not fit it.
    #[error("MiL.k Pack: {0}")]
    Pack(String),
    /// A consent that breaks a rule.
    #[error("invalid consent: {0}")]
    InvalidConsent(String),
    /// The member's level is below the offer's.
    #[error("the offer is for {needed} members and up; this member is {level}")]
    UnderLevel {
        /// The member's level.
        level: String,
        /// The offer's.
        needed: String,
    },
}

impl TxError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::WrongChain { .. } => "wrong_chain",
            TxError::BadSignature => "bad_signature",
            TxError::Expired { .. } => "expired",
            TxError::ExpiryTooFar { .. } => "expiry_too_far",
            TxError::SequenceUsed { .. } => "sequence_used",
            TxError::SequenceGap { .. } => "sequence_gap",
            TxError::UnknownAsset { .. } => "unknown_asset",
            TxError::ZeroAmount => "zero_amount",
            TxError::InsufficientBalance { .. } => "insufficient_balance",
            TxError::Overflow { .. } => "overflow",
            TxError::NotIssuer { .. } => "not_issuer",
            TxError::NotBrandChain => "not_brand_chain",
            TxError::TransfersDisabled => "transfers_disabled",
            TxError::BadPartnerSignature => "bad_partner_signature",
            TxError::AlreadyLinked => "already_linked",
            TxError::NotLinked => "not_linked",
            TxError::InvalidReference => "invalid_reference",
            TxError::ReferenceUsed => "reference_used",
            TxError::ConversionOutOfRange => "conversion_out_of_range",
            TxError::DailyLimit { .. } => "daily_limit",
            TxError::UnknownRedemption => "unknown_redemption",
            TxError::AlreadyRefunded => "already_refunded",
            TxError::NotOperator => "not_operator",
            TxError::NothingExpired => "nothing_expired",
            TxError::InvalidPolicy(_) => "invalid_policy",
            TxError::ChainTaken => "chain_taken",
            TxError::InvalidApplication(_) => "invalid_application",
            TxError::SectorOccupied { .. } => "sector_occupied",
            TxError::UnknownApplication => "unknown_application",
            TxError::NotAMember => "not_a_member",
            TxError::AlreadyApproved => "already_approved",
            TxError::QuorumNotReached { .. } => "quorum_not_reached",
            TxError::WrongPartnerStatus => "wrong_partner_status",
            TxError::AnchorNotNewer { .. } => "anchor_not_newer",
            TxError::NoExchange => "no_exchange",
            TxError::NotOracle => "not_oracle",
            TxError::InvalidPrice => "invalid_price",
            TxError::OracleNotNewer => "oracle_not_newer",
            TxError::OracleMissing => "oracle_missing",
            TxError::OracleStale { .. } => "oracle_stale",
            TxError::UnknownMarket { .. } => "unknown_market",
            TxError::InvalidMarket(_) => "invalid_market",
            TxError::MaxOrderUnsafe { .. } => "max_order_unsafe",
            TxError::DepthWouldMovePrice { .. } => "depth_would_move_price",
            TxError::PaymentNotAccepted { .. } => "payment_not_accepted",
            TxError::PartnerSuspended => "partner_suspended",
            TxError::BoundReached { .. } => "bound_reached",
            TxError::OrderTooSmall => "order_too_small",
            TxError::OrderTooLarge { .. } => "order_too_large",
            TxError::DailyVolume { .. } => "daily_volume",
            TxError::LimitMissed { .. } => "limit_missed",
            TxError::UnknownTrade => "unknown_trade",
            TxError::TradeClosed => "trade_closed",
            TxError::NotASale => "not_a_sale",
            TxError::InventoryShort { .. } => "inventory_short",
            TxError::ReserveShort { .. } => "reserve_short",
            TxError::OrderExpired => "order_expired",
            TxError::NoMembership => "no_membership",
            TxError::AlreadyCheckedIn => "already_checked_in",
            TxError::DailyCapReached => "daily_cap_reached",
            TxError::PoolExhausted => "pool_exhausted",
            TxError::BurnTooSmall => "burn_too_small",
            TxError::CouponUsed => "coupon_used",
            TxError::InvalidLevel => "invalid_level",
            TxError::AllocationLocked(_) => "allocation_locked",
            TxError::OfferExists => "offer_exists",
            TxError::InvalidOffer(_) => "invalid_offer",
            TxError::UnknownOffer => "unknown_offer",
            TxError::OfferClosed => "offer_closed",
            TxError::SoldOut => "sold_out",
            TxError::UnderLevel { .. } => "under_level",
            TxError::NoConsent => "no_consent",
            TxError::Pack(_) => "pack_refused",
            TxError::Phase2Started => "phase2_started",
            TxError::InvalidConsent(_) => "invalid_consent",
        }
    }
}
