//! The exchange's refusals: the oracle, markets, orders and settlement steps. Each has a stable code that clients, partners' systems and the tests rely on.

use crate::Symbol;
use crate::amount::Whole;
use thiserror::Error;

/// The exchange's refusals: the oracle, markets, orders and settlement steps.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExchangeError {
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
    /// MLK's price moved beyond the oracle's band: trading waits until it settles.
    #[error(
        "MLK's price moved beyond the oracle's band (to {level} KRW × 10⁴): trading waits until the sources agree on it or TICA confirms it"
    )]
    OracleUnsettled {
        /// The level the move reached.
        level: u64,
    },
    /// A confirmation that names no move waiting, or another level.
    #[error("no move of MLK's price to that level waits to be confirmed")]
    NothingToConfirm,
    /// The reserve paid out its limit for this window.
    #[error(
        "the reserve's MLK outflow limit for this window is reached: sales resume in the next window"
    )]
    OutflowPaused,
    /// This block's trading in that direction is full.
    #[error(
        "this block already trades the market's largest order in that direction; {largest} base units fit now, more in the next block"
    )]
    BlockFull {
        /// What still fits in this block.
        largest: u128,
    },
    /// TICA halted this market.
    #[error("this market is halted by TICA: no buys, and sales are given back")]
    MarketHalted,
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
    /// The token's partner is leaving the alliance: its customers may sell, not buy.
    #[error(
        "the partner is leaving the alliance: its token can be sold until {}, no longer bought",
        crate::moment::utc(*final_ms)
    )]
    MarketWindingDown {
        /// The exit's final date, Unix ms.
        final_ms: u64,
    },
    /// The token's partner has left the alliance: its market is closed.
    #[error("the partner has left the alliance: its token's market is closed")]
    MarketClosed,
    /// The order would take the price past its bound.
    #[error(
        "the order would cross the price bound; the largest size allowed now is {largest} tokens"
    )]
    BoundReached {
        /// The largest size allowed, in tokens.
        largest: Whole,
    },
    /// The order is worth nothing after rounding and the fee.
    #[error("the order is too small to trade")]
    OrderTooSmall,
    /// The order is larger than the market allows.
    #[error("the order is larger than the market's largest, {max} tokens")]
    OrderTooLarge {
        /// The largest order, in tokens.
        max: Whole,
    },
    /// The customer's daily volume in this market would be exceeded.
    #[error("daily trading limit of {limit} tokens reached ({used} traded today)")]
    DailyVolume {
        /// The limit, in tokens.
        limit: Whole,
        /// Traded today.
        used: Whole,
    },
    /// The price moved past the order's limit.
    #[error("the order's limit was missed: it would be {total} MLK against a limit of {limit} MLK")]
    LimitMissed {
        /// What the order would pay or get, MLK.
        total: Whole,
        /// The order's limit, MLK.
        limit: Whole,
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
    /// A depth whose position would exceed TICA's stock: buys could be priced that the
    /// inventory cannot deliver.
    #[error("that depth would put TICA's position above the stock its inventory holds")]
    DepthExceedsStock,
    /// A depth change while buys of the market await delivery.
    #[error("buys of this market are still settling: change its depth once they are done")]
    BuysSettling,
    /// TICA's inventory signs nothing: its tokens leave only as a delivery of a priced buy.
    #[error("TICA's inventory is the exchange's stock: its tokens leave only by delivering a buy")]
    InventoryReserved,
    /// TICA's reserve cannot pay.
    #[error("TICA's reserve holds only {available} MLK")]
    ReserveShort {
        /// What it holds, MLK.
        available: Whole,
    },
    /// The customer's order expired before it settled.
    #[error("the order expired before it could settle")]
    OrderExpired,
    /// A settlement batch holding something other than settlement steps.
    #[error("a settlement batch holds only settlement steps")]
    NotAStep,
    /// A settlement batch of no steps or too many.
    #[error("a settlement batch holds 1 to {max} steps")]
    BatchSize {
        /// The most a batch may hold.
        max: usize,
    },
}

impl ExchangeError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ExchangeError::NoExchange => "no_exchange",
            ExchangeError::NotOracle => "not_oracle",
            ExchangeError::InvalidPrice => "invalid_price",
            ExchangeError::OracleNotNewer => "oracle_not_newer",
            ExchangeError::OracleMissing => "oracle_missing",
            ExchangeError::OracleStale { .. } => "oracle_stale",
            ExchangeError::OracleUnsettled { .. } => "oracle_unsettled",
            ExchangeError::NothingToConfirm => "nothing_to_confirm",
            ExchangeError::OutflowPaused => "outflow_paused",
            ExchangeError::MarketHalted => "market_halted",
            ExchangeError::BlockFull { .. } => "block_full",
            ExchangeError::UnknownMarket { .. } => "unknown_market",
            ExchangeError::InvalidMarket(_) => "invalid_market",
            ExchangeError::MaxOrderUnsafe { .. } => "max_order_unsafe",
            ExchangeError::DepthWouldMovePrice { .. } => "depth_would_move_price",
            ExchangeError::PaymentNotAccepted { .. } => "payment_not_accepted",
            ExchangeError::PartnerSuspended => "partner_suspended",
            ExchangeError::MarketWindingDown { .. } => "market_winding_down",
            ExchangeError::MarketClosed => "market_closed",
            ExchangeError::BoundReached { .. } => "bound_reached",
            ExchangeError::OrderTooSmall => "order_too_small",
            ExchangeError::OrderTooLarge { .. } => "order_too_large",
            ExchangeError::DailyVolume { .. } => "daily_volume",
            ExchangeError::LimitMissed { .. } => "limit_missed",
            ExchangeError::UnknownTrade => "unknown_trade",
            ExchangeError::TradeClosed => "trade_closed",
            ExchangeError::NotASale => "not_a_sale",
            ExchangeError::DepthExceedsStock => "depth_exceeds_stock",
            ExchangeError::InventoryReserved => "inventory_reserved",
            ExchangeError::BuysSettling => "buys_settling",
            ExchangeError::ReserveShort { .. } => "reserve_short",
            ExchangeError::OrderExpired => "order_expired",
            ExchangeError::BatchSize { .. } => "batch_size",
            ExchangeError::NotAStep => "not_a_step",
        }
    }
}
