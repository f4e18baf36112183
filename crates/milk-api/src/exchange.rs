//! The exchange: markets, quotes, candles, trades, the oracle and the treasury.

use milk_core::exchange::curve::Side;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One Brand Token market.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct MarketView {
    /// The Brand Token.
    pub asset: String,
    /// Its brand chain.
    pub chain: String,
    /// The current price, KRW per whole token × 10⁴.
    pub price_krw_e4: String,
    /// The price bounds, KRW per whole token × 10⁴: the partner's floor and 95 % of R.
    pub min_price_krw_e4: String,
    /// See `min_price_krw_e4`.
    pub max_price_krw_e4: String,
    /// R, KRW per whole token.
    pub redemption_value_krw: u64,
    /// The token's decimals.
    pub decimals: u8,
    /// The curve's capacity, base units.
    pub capacity: String,
    /// TICA's position on it, base units.
    pub position: String,
    /// The largest buy and sale the curve takes now (before per-order limits), base units.
    pub largest_buy: String,
    /// See `largest_buy`.
    pub largest_sell: String,
    /// The largest order, base units.
    pub max_order: String,
    /// What one customer may trade in a UTC day, base units.
    pub user_daily_limit: String,
    /// The fee, basis points.
    pub fee_bps: u16,
    /// Halted by TICA: no buys, and sales are given back.
    pub halted: bool,
}

/// A non-binding quote.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct QuoteView {
    /// The Brand Token.
    pub asset: String,
    /// `buy` or `sell`.
    #[schema(value_type = String)]
    pub side: Side,
    /// Tokens, base units.
    pub tokens: String,
    /// Their value on the curve, MLK base units (rounded against the customer).
    pub gross: String,
    /// TICA's fee, MLK base units.
    pub fee: String,
    /// What the customer would pay (buy) or get (sell), MLK base units.
    pub total: String,
    /// The average price of this order, KRW per whole token × 10⁴.
    pub price_krw_e4: String,
    /// MLK's price used, KRW per whole MLK × 10⁴.
    pub mlk_krw_e4: u64,
    /// The largest order possible now on this side, base units (curve, order limit and,
    /// for buys, TICA's inventory).
    pub largest_now: String,
}

/// One interval's prices, KRW per whole token × 10⁴, and volume in base units.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq, Eq)]
pub struct Candle {
    /// The interval's start, Unix ms.
    pub start_ms: u64,
    /// The first trade's price.
    pub open: String,
    /// The highest.
    pub high: String,
    /// The lowest.
    pub low: String,
    /// The last.
    pub close: String,
    /// Tokens traded, base units.
    pub volume: String,
    /// How many trades.
    pub trades: u64,
}

/// MLK's price as the center chain last recorded it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct OracleView {
    /// The latest reported price, KRW per whole MLK × 10⁴.
    pub krw_e4: u64,
    /// When the sources quoted it, Unix ms.
    pub observed_at_ms: u64,
    /// How old it is now.
    pub age_ms: u64,
    /// The oldest a trade may use.
    pub max_age_ms: u64,
    /// Whether trading may use the oracle now.
    pub fresh: bool,
    /// The price a buy uses now: the lowest accepted in the window (the customer pays the
    /// most MLK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy_krw_e4: Option<u64>,
    /// The price a sale uses now: the highest accepted in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sell_krw_e4: Option<u64>,
    /// A move beyond the band, waiting to settle or be confirmed: the level it reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsettled_krw_e4: Option<u64>,
    /// Why trading is halted (`oracle_stale`, `oracle_unsettled`, …), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<String>,
}

/// A trade and where it stands. Only `id` and `status` are always present: an order that
/// is not priced yet has no price, and one refused before reaching its chain may be known
/// only by its id.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct TradeView {
    /// The trade id: the customer's order transaction.
    pub id: String,
    /// `buy` or `sell`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub side: Option<Side>,
    /// The Brand Token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Where the order stands, in the one list every client shows: `pending` (sent, not on
    /// its chain yet: nothing locked), `locked` (on its chain, funds or tokens in escrow, not
    /// yet priced), `priced` (priced on the center chain, the other leg still to come),
    /// `filled`, `refused` (never filled; whatever was locked goes back) or `voided` (a buy
    /// TICA could not deliver: its MLK went back).
    pub status: String,
    /// Why it was refused or voided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Tokens, base units (absent while a buy sized in MLK is unpriced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<String>,
    /// While unpriced, the order's MLK limit, base units: the most a buy pays, the least a
    /// sale accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlk_limit: Option<String>,
    /// Value on the curve, MLK base units (from `priced` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross: Option<String>,
    /// Fee, MLK base units (from `priced` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    /// Paid (buy) or received (sell), MLK base units (from `priced` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// MLK's price used, KRW × 10⁴ (from `priced` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlk_krw_e4: Option<u64>,
    /// The average price, KRW per whole token × 10⁴ (from `priced` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_krw_e4: Option<String>,
    /// When it was priced, Unix ms (from `priced` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
}

/// A customer's signed order.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TradeRequest {
    /// The signed `Buy` (center chain) or `Sell` (the token's brand chain), canonical
    /// encoding, hex.
    pub tx: String,
}

/// TICA's treasury: what it holds to trade with, and what is in flight.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct TreasuryView {
    /// The MLK reserve, base units.
    pub reserve: String,
    /// Fees collected, MLK base units.
    pub fees: String,
    /// MLK in escrow for buys being settled, base units.
    pub escrow: String,
    /// Per market.
    pub markets: Vec<TreasuryMarket>,
}

/// TICA's position in one market.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct TreasuryMarket {
    /// The Brand Token.
    pub asset: String,
    /// Its inventory on the brand chain, base units.
    pub inventory: String,
    /// Tokens in escrow for sales being settled, base units.
    pub escrow: String,
    /// The curve position, base units.
    pub position: String,
    /// TICA's stock as the center chain accounts it (the inventory less the buys priced
    /// but not delivered), base units; never below the position.
    pub stock: String,
    /// Tokens of priced buys awaiting delivery, base units.
    pub awaiting: String,
    /// The inventory's value at the current price, KRW (rounded down): TICA's exposure.
    pub exposure_krw: String,
}

/// One of the oracle's price sources, as the node last asked it.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct SourceView {
    /// Where the node asks it.
    pub url: String,
    /// When the node last asked it, Unix ms.
    pub asked_at_ms: u64,
    /// Its last readable quote, KRW per whole MLK × 10⁴.
    pub krw_e4: Option<u64>,
    /// When that quote was made, by the source's own clock, Unix ms.
    pub quoted_at_ms: Option<u64>,
    /// Why the last answer was not read (down, or unreadable), if it was not.
    pub error: Option<String>,
}
