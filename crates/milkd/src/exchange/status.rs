//! Where an order stands, from the moment it is sent: `pending` in its chain's pool,
//! `locked` (a sale in escrow on its brand chain), then the trade the center chain records
//! (`priced`, `filled`, `refused`, `voided`).

use super::{Shared, all_markets, internal, settlement};
use crate::error::ApiError;
use crate::node::{ChainHandle, Node};
use crate::worker::{Command, PendingStatus};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use milk_api::exchange::TradeView;
use milk_core::exchange::curve::Side;
use milk_core::exchange::{EscrowStatus, Trade, TradeStatus};
use milk_core::tx::{Action, ExchangeAction, OrderSize, SignedTransaction, TxId};
use milk_core::{ChainId, Hash, Symbol};
use milk_store::ChainStore;

/// A trade by id.
#[utoipa::path(get, path = "/v1/trades/{id}",
    params(("id" = String, Path, description = "The trade id (the order's transaction id)")),
    responses((status = 200, description = "The order or trade, as it stands", body = TradeView),
        (status = 404, description = "No such order", body = crate::error::ErrorResponse)))]
pub(crate) async fn trade_status(
    State(node): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<TradeView>, ApiError> {
    let id = Hash::from_hex(&id).map_err(|e| ApiError::bad_request("malformed_id", e))?;
    if let Some(t) = settlement::trade_record(&node, &id).map_err(internal)? {
        return Ok(Json(trade_view(&node, &id, &t)));
    }
    match before_pricing(&node, &id).await? {
        Some(view) => Ok(Json(view)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_trade",
            "no order with this id: not waiting, not on any chain, not refused lately",
        )),
    }
}

/// A trade the center chain records.
pub(super) fn trade_view(node: &Node, id: &TxId, t: &Trade) -> TradeView {
    let market = settlement::market_record(node, &t.asset).ok().flatten();
    let decimals = market.as_ref().map_or(0, |m| m.market.curve.decimals);
    let (mut status, code) = match &t.status {
        // A buy priced, its MLK in escrow, waiting for its delivery.
        TradeStatus::Pending => ("priced", None),
        TradeStatus::Filled => ("filled", None),
        TradeStatus::Refunded => ("voided", Some("inventory_short".to_owned())),
        TradeStatus::Refused(c) => ("refused", Some(c.clone())),
    };
    // A sale is over only once its escrow is released (filled) or returned (refused):
    // until then a filled one is priced, a refused one still locked.
    if t.side == Side::Sell
        && let Some(m) = &market
        && settlement::escrow_record(node, &m.chain, id)
            .ok()
            .flatten()
            .is_some_and(|e| e.status == EscrowStatus::Locked)
    {
        status = if status == "filled" {
            "priced"
        } else {
            "locked"
        };
    }
    TradeView {
        id: id.to_hex(),
        side: Some(t.side),
        asset: Some(t.asset.to_string()),
        user: Some(t.user.to_string()),
        status: status.to_owned(),
        code,
        tokens: Some(t.tokens.to_string()),
        mlk_limit: None,
        gross: Some(t.gross.to_string()),
        fee: Some(t.fee.to_string()),
        total: Some(t.total.to_string()),
        mlk_krw_e4: Some(t.mlk_krw_e4),
        price_krw_e4: Some(t.price_krw_e4(decimals, 8).to_string()),
        time_ms: Some(t.time_ms),
    }
}

/// An order the center chain has not priced: waiting in a pool, refused there, or a sale
/// locked on its brand chain. `None` when no chain that can hold an order knows it.
async fn before_pricing(node: &Node, id: &TxId) -> Result<Option<TradeView>, ApiError> {
    let mut chains: Vec<(ChainId, Option<Symbol>)> = vec![(ChainId::center(), None)];
    for (symbol, m) in all_markets(node)? {
        if !chains.iter().any(|(c, _)| *c == m.chain) {
            chains.push((m.chain, Some(symbol)));
        }
    }
    for (chain, asset) in chains {
        let Some(handle) = node.chain(&chain) else {
            continue;
        };
        if let Some(loc) = handle.store.tx_location(id).map_err(internal)? {
            let block = crate::access::load_block(&handle, loc.height)?;
            let order = &block.txs[loc.index as usize];
            return committed(node, &chain, id, order, asset.as_ref());
        }
        match pool_status(&handle, id).await? {
            PendingStatus::Pending(Some(order)) => {
                return order_view(id, "pending", &order, &chain, asset.as_ref()).map(Some);
            }
            PendingStatus::Pending(None) => return Ok(Some(bare(id, "pending", None))),
            PendingStatus::Rejected(e) if chain == ChainId::center() || asset.is_some() => {
                return Ok(Some(bare(id, "refused", Some(e.code().to_owned()))));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// An order on its chain but not priced: only a sale can be (its tokens in escrow).
fn committed(
    node: &Node,
    chain: &ChainId,
    id: &TxId,
    order: &SignedTransaction,
    asset: Option<&Symbol>,
) -> Result<Option<TradeView>, ApiError> {
    match settlement::escrow_record(node, chain, id).map_err(internal)? {
        Some(_) => order_view(id, "locked", order, chain, asset).map(Some),
        None => Err(not_an_order(id, chain)),
    }
}

fn not_an_order(id: &TxId, chain: &ChainId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_an_order",
        format!("transaction {id} on chain {chain} is not a Buy or a Sell"),
    )
}

async fn pool_status(handle: &ChainHandle, id: &TxId) -> Result<PendingStatus, ApiError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    handle.send(Command::Status { id: *id, reply })?;
    answer
        .await
        .map_err(|_| ApiError::from(crate::node::SendError::Stopped))
}

/// What the order itself says: side, asset, customer, size and limit.
fn order_view(
    id: &TxId,
    status: &str,
    order: &SignedTransaction,
    chain: &ChainId,
    brand_asset: Option<&Symbol>,
) -> Result<TradeView, ApiError> {
    let mut view = bare(id, status, None);
    view.user = Some(order.tx.sender.to_string());
    match &order.tx.action {
        Action::Exchange(ExchangeAction::Buy {
            asset,
            size,
            max_in,
            ..
        }) => {
            view.side = Some(Side::Buy);
            view.asset = Some(asset.to_string());
            view.mlk_limit = Some(max_in.units().to_string());
            if let OrderSize::Tokens(t) = size {
                view.tokens = Some(t.units().to_string());
            }
        }
        Action::Exchange(ExchangeAction::Sell { amount, min_out }) => {
            view.side = Some(Side::Sell);
            view.asset = brand_asset.map(Symbol::to_string);
            view.tokens = Some(amount.units().to_string());
            view.mlk_limit = Some(min_out.units().to_string());
        }
        _ => return Err(not_an_order(id, chain)),
    }
    Ok(view)
}

fn bare(id: &TxId, status: &str, code: Option<String>) -> TradeView {
    TradeView {
        id: id.to_hex(),
        side: None,
        asset: None,
        user: None,
        status: status.to_owned(),
        code,
        tokens: None,
        mlk_limit: None,
        gross: None,
        fee: None,
        total: None,
        mlk_krw_e4: None,
        price_krw_e4: None,
        time_ms: None,
    }
}
