//! The exchange as the API shows it: markets, quotes, trades, price history, MLK's oracle
//! price and TICA's treasury.
//!
//! Market data is public, like the center chain it comes from. A trade is the customer's
//! signed order (a `Buy` on the center chain, or a `Sell` on the token's brand chain)
//! posted to `/v1/trades`; the node locks it and settles both legs before answering.

pub mod oracle;
pub mod settlement;
pub mod settling;
pub mod sources;
pub(crate) mod status;
pub mod ticker;

use crate::access::{body_error, require_operator};
use crate::error::ApiError;
use crate::node::Node;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
pub use milk_api::exchange::{
    Candle, MarketView, OracleView, QuoteView, SourceView, TradeRequest, TradeView, TreasuryMarket,
    TreasuryView,
};
use milk_core::codec::Decode;
use milk_core::error::ExchangeError;
use milk_core::exchange::curve::{MlkPrice, Side};
use milk_core::exchange::oracle::{OracleState, Unpriced};
use milk_core::exchange::{self, MarketEntry, OracleRecord, Trade, TradeStatus};
use milk_core::tx::SignedTransaction;
use milk_core::{Amount, ChainId, Symbol};
use milk_store::ChainStore;
use serde::Deserialize;
use settlement::{DriveError, PlaceError};
use std::sync::Arc;
use utoipa::IntoParams;

type Shared = Arc<Node>;

/// The exchange routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/markets", get(markets))
        .route("/v1/markets/{asset}", get(market))
        .route("/v1/markets/{asset}/quote", get(quote))
        .route("/v1/markets/{asset}/candles", get(candles))
        .route("/v1/oracle", get(oracle))
        .route("/v1/oracle/sources", get(oracle_sources))
        .route("/v1/trades", post(trade))
        .route("/v1/trades/{id}", get(status::trade_status))
        .route("/v1/treasury", get(treasury))
}

fn center(node: &Node) -> Arc<crate::node::ChainHandle> {
    node.chain(&ChainId::center())
        .expect("every node hosts the center chain")
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("exchange", e)
}

fn config(node: &Node) -> Result<&exchange::ExchangeConfig, ApiError> {
    node.genesis.exchange.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_exchange",
            "this network has no exchange",
        )
    })
}

fn oracle_record(node: &Node) -> Result<Option<OracleRecord>, ApiError> {
    let v = center(node)
        .store
        .record(&[exchange::record::ORACLE])
        .map_err(internal)?;
    Ok(v.and_then(|v| {
        Some(OracleRecord {
            krw_e4: u64::from_be_bytes(v.get(..8)?.try_into().ok()?),
            observed_at_ms: u64::from_be_bytes(v.get(8..16)?.try_into().ok()?),
        })
    }))
}

fn all_markets(node: &Node) -> Result<Vec<(Symbol, MarketEntry)>, ApiError> {
    let records = center(node)
        .store
        .records_with_prefix(&[exchange::record::MARKET])
        .map_err(internal)?;
    records
        .into_iter()
        .map(|(k, v)| {
            let symbol: Symbol = std::str::from_utf8(&k[1..])
                .map_err(internal)?
                .parse()
                .map_err(internal)?;
            Ok((symbol, MarketEntry::from_bytes(&v).map_err(internal)?))
        })
        .collect()
}

fn one_market(node: &Node, asset: &str) -> Result<(Symbol, MarketEntry), ApiError> {
    let symbol: Symbol = asset
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_asset", e))?;
    let entry = settlement::market_record(node, &symbol)
        .map_err(internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_market",
                format!("no market for {symbol}"),
            )
        })?;
    Ok((symbol, entry))
}

/// The fee in force: the genesis's until TICA changes it.
fn fee_bps(node: &Node) -> Result<u16, ApiError> {
    let v = center(node)
        .store
        .record(&[exchange::record::FEE])
        .map_err(internal)?;
    match v.as_deref().map(<[u8; 2]>::try_from) {
        Some(Ok(b)) => Ok(u16::from_be_bytes(b)),
        Some(Err(_)) => Err(internal("malformed fee record")),
        None => Ok(config(node)?.fee_bps),
    }
}

/// What the center chain keeps of the oracle's reports.
fn oracle_state(node: &Node) -> Result<OracleState, ApiError> {
    let v = center(node)
        .store
        .record(&[exchange::record::ORACLE_STATE])
        .map_err(internal)?;
    match v {
        Some(v) => OracleState::from_bytes(&v).map_err(internal),
        None => Ok(OracleState::default()),
    }
}

/// The MLK price a trade on `side` would use now, as the chain prices it (the window's
/// lowest for a buy, its highest for a sale), or why trading is halted.
fn trade_price(node: &Node, side: Side) -> Result<MlkPrice, ApiError> {
    let config = config(node)?;
    let krw_e4 = oracle_state(node)?
        .price_for(&config.oracle_rules(), side, node.clock.now_ms())
        .map_err(|why| {
            let e = match why {
                Unpriced::Missing => ExchangeError::OracleMissing,
                Unpriced::Stale(age_ms, max_ms) => ExchangeError::OracleStale { age_ms, max_ms },
                Unpriced::Unsettled(level) => ExchangeError::OracleUnsettled { level },
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
        })?;
    let decimals = node
        .genesis
        .center()
        .assets
        .iter()
        .find(|a| a.symbol == config.currency)
        .map_or(8, |a| a.decimals);
    Ok(MlkPrice { krw_e4, decimals })
}

fn market_view(node: &Node, symbol: &Symbol, m: &MarketEntry) -> Result<MarketView, ApiError> {
    let c = m.market.curve;
    let at = |x: u128| {
        milk_core::exchange::curve::Curve { position: x, ..c }
            .price_krw_e4()
            .to_string()
    };
    Ok(MarketView {
        asset: symbol.to_string(),
        chain: m.chain.to_string(),
        price_krw_e4: c.price_krw_e4().to_string(),
        min_price_krw_e4: at(c.capacity),
        max_price_krw_e4: at(0),
        redemption_value_krw: c.redemption_value_krw,
        decimals: c.decimals,
        capacity: c.capacity.to_string(),
        position: c.position.to_string(),
        largest_buy: c.largest(Side::Buy).to_string(),
        largest_sell: c.largest(Side::Sell).to_string(),
        max_order: m.market.max_order.to_string(),
        user_daily_limit: m.market.user_daily_limit.to_string(),
        fee_bps: fee_bps(node)?,
        halted: m.market.halted,
    })
}

/// Every Brand Token market.
#[utoipa::path(get, path = "/v1/markets",
    responses((status = 200, description = "The markets", body = Vec<MarketView>)))]
async fn markets(State(node): State<Shared>) -> Result<Json<Vec<MarketView>>, ApiError> {
    config(&node)?;
    all_markets(&node)?
        .iter()
        .map(|(s, m)| market_view(&node, s, m))
        .collect::<Result<_, _>>()
        .map(Json)
}

/// One market.
#[utoipa::path(get, path = "/v1/markets/{asset}",
    params(("asset" = String, Path, description = "The Brand Token")),
    responses((status = 200, description = "The market", body = MarketView),
        (status = 404, description = "No such market", body = crate::error::ErrorResponse)))]
async fn market(
    State(node): State<Shared>,
    Path(asset): Path<String>,
) -> Result<Json<MarketView>, ApiError> {
    config(&node)?;
    let (s, m) = one_market(&node, &asset)?;
    market_view(&node, &s, &m).map(Json)
}

/// What to quote.
#[derive(Deserialize, IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// `buy` or `sell` (the customer's side).
    #[param(value_type = String)]
    side: Side,
    /// Tokens, base units.
    tokens: Option<String>,
    /// Or MLK, base units: a buy's budget, fee included, or what a sale should bring.
    mlk: Option<String>,
}

fn parse_units(text: &str, what: &str) -> Result<u128, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad_request(
            "malformed_amount",
            format!("{what}: {text:?} is not a base-unit amount"),
        )
    })
}

fn brand_inventory(node: &Node, chain: &ChainId, asset: &Symbol) -> Result<u128, ApiError> {
    let Some(handle) = node.chain(chain) else {
        return Ok(0);
    };
    let (amounts, _) = handle
        .store
        .account(&node.genesis.tica_inventory, &[*asset])
        .map_err(internal)?;
    Ok(amounts.first().map_or(0, |a| a.units()))
}

/// Why a quote cannot be priced, as the exchange's own refusals say it (in whole tokens).
fn quote_refused(e: milk_core::exchange::curve::MarketError, decimals: u8) -> ApiError {
    use milk_core::exchange::curve::MarketError;
    let e = match e {
        MarketError::BoundReached { largest } => {
            let largest = milk_core::amount::Whole::new(largest, decimals);
            ExchangeError::BoundReached { largest }
        }
        MarketError::TooSmall => ExchangeError::OrderTooSmall,
        MarketError::ZeroSize => {
            let msg = "the order is for nothing";
            return ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "zero_amount", msg);
        }
        other => ExchangeError::InvalidMarket(other.to_string()),
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
}

/// A non-binding quote: price, MLK amount, fee, and the largest size available now.
#[utoipa::path(get, path = "/v1/markets/{asset}/quote",
    params(("asset" = String, Path, description = "The Brand Token"), QuoteQuery),
    responses((status = 200, description = "The quote", body = QuoteView),
        (status = 422, description = "Not possible now (code says why: bound_reached, oracle_stale, …)", body = crate::error::ErrorResponse)))]
async fn quote(
    State(node): State<Shared>,
    Path(asset): Path<String>,
    q: Result<Query<QuoteQuery>, QueryRejection>,
) -> Result<Json<QuoteView>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("malformed_query", e.body_text()))?;
    let fee_bps = fee_bps(&node)?;
    let (symbol, m) = one_market(&node, &asset)?;
    if m.market.halted {
        let e = ExchangeError::MarketHalted;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            e.to_string(),
        ));
    }
    let price = trade_price(&node, q.side)?;
    let curve = m.market.curve;
    let fill = match (&q.tokens, &q.mlk) {
        (Some(t), None) => curve.quote(q.side, parse_units(t, "tokens")?, price, fee_bps),
        (None, Some(v)) => curve.quote_mlk(q.side, parse_units(v, "mlk")?, price, fee_bps),
        _ => {
            return Err(ApiError::bad_request(
                "malformed_query",
                "give exactly one of tokens and mlk",
            ));
        }
    }
    .map_err(|e| quote_refused(e, curve.decimals))?;
    // What `buy` or `sell` would refuse, the quote refuses too.
    if fill.bt > m.market.max_order {
        let max = milk_core::amount::Whole::new(m.market.max_order, curve.decimals);
        let e = ExchangeError::OrderTooLarge { max };
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            e.to_string(),
        ));
    }
    // The curve's bound (TICA's position never exceeds its stock, so it is the stock's
    // bound too; the exact stock stays TICA's to know) and the market's largest order.
    let mut largest = curve.largest(q.side).min(m.market.max_order);
    if q.side == Side::Sell {
        largest = largest.min(
            (curve.capacity - curve.position.min(curve.capacity)).saturating_sub(m.market.awaiting),
        );
    }
    let trade = Trade {
        user: node.genesis.operator,
        asset: symbol,
        side: q.side,
        tokens: fill.bt,
        gross: fill.gross,
        fee: fill.fee,
        total: fill.total,
        mlk_krw_e4: price.krw_e4,
        time_ms: 0,
        status: TradeStatus::Pending,
    };
    Ok(Json(QuoteView {
        asset: symbol.to_string(),
        side: q.side,
        tokens: fill.bt.to_string(),
        gross: fill.gross.to_string(),
        fee: fill.fee.to_string(),
        total: fill.total.to_string(),
        price_krw_e4: trade
            .price_krw_e4(curve.decimals, price.decimals)
            .to_string(),
        mlk_krw_e4: price.krw_e4,
        largest_now: largest.to_string(),
    }))
}

/// Which candles.
#[derive(Deserialize, IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct CandleQuery {
    /// The candle length, ms (default a minute, at least a second).
    interval_ms: Option<u64>,
    /// At most this many, the newest (default 100, at most 1,000).
    limit: Option<usize>,
}

/// Price history: OHLC candles of filled trades.
#[utoipa::path(get, path = "/v1/markets/{asset}/candles",
    params(("asset" = String, Path, description = "The Brand Token"), CandleQuery),
    responses((status = 200, description = "Candles, oldest first", body = Vec<Candle>)))]
async fn candles(
    State(node): State<Shared>,
    Path(asset): Path<String>,
    q: Result<Query<CandleQuery>, QueryRejection>,
) -> Result<Json<Vec<Candle>>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("malformed_query", e.body_text()))?;
    let (symbol, _) = one_market(&node, &asset)?;
    let interval = q.interval_ms.unwrap_or(60_000).max(1_000);
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let prefix = exchange::record::ticks(&symbol);
    let records = center(&node)
        .store
        .records_with_prefix(&prefix)
        .map_err(internal)?;
    let mut out: Vec<(u64, u128, u128, u128, u128, u128, u64)> = Vec::new();
    for (k, v) in records {
        let (Some((time, _)), Some((price, tokens))) = (
            exchange::tick_key(&k[prefix.len()..]),
            exchange::tick_value(&v),
        ) else {
            return Err(internal("malformed tick"));
        };
        let start = time / interval * interval;
        match out.last_mut() {
            Some(c) if c.0 == start => {
                c.2 = c.2.max(price);
                c.3 = c.3.min(price);
                c.4 = price;
                c.5 += tokens;
                c.6 += 1;
            }
            _ => out.push((start, price, price, price, price, tokens, 1)),
        }
    }
    let skip = out.len().saturating_sub(limit);
    Ok(Json(
        out.into_iter()
            .skip(skip)
            .map(|(start_ms, o, h, l, c, v, n)| Candle {
                start_ms,
                open: o.to_string(),
                high: h.to_string(),
                low: l.to_string(),
                close: c.to_string(),
                volume: v.to_string(),
                trades: n,
            })
            .collect(),
    ))
}

/// MLK's oracle price.
#[utoipa::path(get, path = "/v1/oracle",
    responses((status = 200, description = "The price", body = OracleView),
        (status = 404, description = "No price yet", body = crate::error::ErrorResponse)))]
async fn oracle(State(node): State<Shared>) -> Result<Json<OracleView>, ApiError> {
    let max_age_ms = config(&node)?.oracle_max_age_ms;
    let o = oracle_record(&node)?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "oracle_missing", "no MLK price yet")
    })?;
    let age_ms = node.clock.now_ms().saturating_sub(o.observed_at_ms);
    let (buy, sell) = (
        trade_price(&node, Side::Buy),
        trade_price(&node, Side::Sell),
    );
    let halted = buy.as_ref().err().map(|e| e.code().to_owned());
    Ok(Json(OracleView {
        krw_e4: o.krw_e4,
        observed_at_ms: o.observed_at_ms,
        age_ms,
        max_age_ms,
        fresh: buy.is_ok(),
        buy_krw_e4: buy.ok().map(|p| p.krw_e4),
        sell_krw_e4: sell.ok().map(|p| p.krw_e4),
        unsettled_krw_e4: oracle_state(&node)?.jump.map(|(level, _)| level),
        halted,
    }))
}

/// What each of the oracle's price sources last said (the operator only): the one that is
/// down, stale or far from the others shows here before the quorum leaves it out.
#[utoipa::path(get, path = "/v1/oracle/sources",
    responses((status = 200, description = "The sources this node asks", body = Vec<SourceView>),
        (status = 401, description = "No credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Not the operator", body = crate::error::ErrorResponse)))]
async fn oracle_sources(
    State(node): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<Vec<SourceView>>, ApiError> {
    require_operator(&node, &headers, "the oracle's sources")?;
    Ok(Json(node.oracle_sources.view()))
}

/// Places an order and settles it across both chains before answering.
#[utoipa::path(post, path = "/v1/trades",
    request_body = TradeRequest,
    responses((status = 200, description = "Settled: filled, refused or voided", body = TradeView),
        (status = 202, description = "`pending`: the order waits for its block, nothing locked yet (the message says until when it may still commit); `locked`: on its chain and in escrow, still settling (poll /v1/trades/{id})", body = crate::error::ErrorResponse),
        (status = 400, description = "Not an order", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused before anything was locked (code says why)", body = crate::error::ErrorResponse)))]
async fn trade(
    State(node): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<TradeView>, ApiError> {
    let body = body.map_err(body_error)?;
    let req: TradeRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("expected {{\"tx\": hex}}: {e}"))
    })?;
    let bytes = hex::decode(req.tx.trim())
        .map_err(|e| ApiError::bad_request("malformed_tx", format!("not hex: {e}")))?;
    let order = SignedTransaction::decode_checked(&bytes)
        .map_err(|e| ApiError::bad_request("malformed_tx", e.to_string()))?;
    let (id, order_chain, expires) = (
        order.tx.id(),
        order.tx.chain.clone(),
        order.tx.expires_at_ms,
    );
    match settlement::place(&node, order).await {
        Ok(id) => {
            let t = settlement::trade_record(&node, &id)
                .map_err(internal)?
                .ok_or_else(|| internal("settled trade has no record"))?;
            Ok(Json(status::trade_view(&node, &id, &t)))
        }
        Err(PlaceError::NotAnOrder) => Err(ApiError::bad_request(
            "wrong_action",
            "an order is a signed Buy (center chain) or Sell (brand chain)",
        )),
        Err(PlaceError::WrongChain) => Err(ApiError::bad_request(
            "wrong_chain",
            "a Buy goes on the center chain",
        )),
        Err(PlaceError::UnknownChain) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_chain",
            "no such chain on this node",
        )),
        Err(PlaceError::Refused(r)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            r.code(),
            r.to_string(),
        )),
        Err(PlaceError::Send(e)) => Err(e.into()),
        // The order itself is not on its chain yet: nothing is locked, and it may still be
        // refused or expire.
        Err(PlaceError::Pending) => Err(ApiError::new(
            StatusCode::ACCEPTED,
            "pending",
            format!(
                "the order waits for its block; nothing is locked yet: poll /v1/chains/{}/txs/{}. \
                 If it is not there by {}, when it expires, it never will be: sign it anew",
                order_chain,
                id.to_hex(),
                milk_core::moment::utc(expires)
            ),
        )),
        Err(PlaceError::Settle(DriveError::Busy)) => Err(ApiError::new(
            StatusCode::ACCEPTED,
            "locked",
            format!("locked, settling: poll /v1/trades/{}", id.to_hex()),
        )),
        Err(PlaceError::Settle(e)) => {
            tracing::warn!(trade = %id, error = %e, "trade locked, settlement continues in recovery");
            Err(ApiError::new(
                StatusCode::ACCEPTED,
                "locked",
                format!(
                    "locked; settlement continues ({e}): poll /v1/trades/{}",
                    id.to_hex()
                ),
            ))
        }
    }
}

/// TICA's treasury (the operator only).
#[utoipa::path(get, path = "/v1/treasury",
    responses((status = 200, description = "The treasury", body = TreasuryView),
        (status = 403, description = "Not the operator", body = crate::error::ErrorResponse)))]
async fn treasury(
    State(node): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<TreasuryView>, ApiError> {
    require_operator(&node, &headers, "the treasury")?;
    let config = config(&node)?;
    let center = center(&node);
    let mlk = |who: &milk_core::Address| -> Result<Amount, ApiError> {
        let (a, _) = center
            .store
            .account(who, &[config.currency])
            .map_err(internal)?;
        Ok(a.first().copied().unwrap_or_default())
    };
    let mut markets = Vec::new();
    for (symbol, m) in all_markets(&node)? {
        let inventory = brand_inventory(&node, &m.chain, &symbol)?;
        let escrow = match node.chain(&m.chain) {
            Some(h) => h
                .store
                .account(&exchange::ESCROW, &[symbol])
                .map_err(internal)?
                .0
                .first()
                .map_or(0, |a| a.units()),
            None => 0,
        };
        let c = m.market.curve;
        let exposure = inventory.saturating_mul(c.price_krw_e4())
            / 10u128.pow(u32::from(c.decimals))
            / u128::from(milk_core::exchange::curve::PRICE_SCALE);
        markets.push(TreasuryMarket {
            asset: symbol.to_string(),
            inventory: inventory.to_string(),
            escrow: escrow.to_string(),
            position: c.position.to_string(),
            stock: m.market.stock.to_string(),
            awaiting: m.market.awaiting.to_string(),
            exposure_krw: exposure.to_string(),
        });
    }
    Ok(Json(TreasuryView {
        reserve: mlk(&config.liquidity)?.units().to_string(),
        fees: mlk(&config.fees)?.units().to_string(),
        escrow: mlk(&exchange::ESCROW)?.units().to_string(),
        markets,
    }))
}
