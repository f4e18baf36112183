//! Each account's history: the committed transactions that concerned it (it sent them, or
//! a balance of its changed) on every chain the caller may read, newest first, each with the
//! account's balance changes in it. The store indexes them as it commits each block.

use crate::access::{caller, chain_of, load_block, query_error, require_chain};
use crate::error::ApiError;
use crate::node::{ChainHandle, Node};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use milk_api::chain::{ChangeView, HistoryLineView, HistoryView};
use milk_core::Address;
use milk_core::block::Block;
use milk_core::codec::Decode;
use milk_core::tx::{Action, ExchangeAction};
use milk_store::ChainStore;
use milk_store::{HistoryLine, MAX_HISTORY_PAGE};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// The history's route.
pub fn routes() -> Router<Arc<Node>> {
    Router::new().route("/v1/accounts/{address}/history", get(history))
}

/// Which lines.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// One chain only; its pages then follow one another with `before`.
    chain: Option<String>,
    /// With `chain`: the previous page's `next` (`height:index`).
    before: Option<String>,
    /// How many lines (default 50, at most 500).
    limit: Option<usize>,
}

/// An account's history, newest first: on the public center chain for anyone; on a brand
/// chain for the account itself (a signed read), its partner, TICA and the partner's
/// auditors. Without `chain`, the latest lines of every chain the caller may read.
#[utoipa::path(get, path = "/v1/accounts/{address}/history",
    params(("address" = String, Path, description = "A milk1… address"), HistoryQuery),
    responses((status = 200, description = "The account's history", body = HistoryView),
        (status = 400, description = "Malformed address, chain or `before` (`before` needs `chain`)", body = crate::error::ErrorResponse),
        (status = 401, description = "A brand chain asked for without a credential or signed read", body = crate::error::ErrorResponse),
        (status = 403, description = "A brand chain the caller may not read", body = crate::error::ErrorResponse),
        (status = 404, description = "Unknown chain", body = crate::error::ErrorResponse)))]
pub async fn history(
    State(node): State<Arc<Node>>,
    Path(address): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<HistoryView>, ApiError> {
    let addr: Address = address
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_address", e))?;
    let Query(q) = query.map_err(query_error)?;
    let caller = caller(&node, &headers)?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_HISTORY_PAGE);
    let (chains, before) = match &q.chain {
        Some(chain) => {
            let handle = chain_of(&node, chain)?;
            if !caller.is_account(&addr) {
                require_chain(&caller, &handle)?;
            }
            (
                vec![handle],
                q.before.as_deref().map(parse_before).transpose()?,
            )
        }
        None if q.before.is_some() => {
            let msg = "`before` pages through one chain: name it with `chain`";
            return Err(ApiError::bad_request("before_needs_chain", msg));
        }
        None => {
            let mut handles = node.chain_handles();
            handles.retain(|h| caller.is_account(&addr) || require_chain(&caller, h).is_ok());
            (handles, None)
        }
    };
    let mut lines = Vec::new();
    for handle in &chains {
        lines.extend(chain_lines(handle, &addr, before, limit)?);
    }
    // Newest first across chains; within a chain, by height and position.
    lines.sort_by(|a, b| {
        (b.time_ms, &b.chain, b.height, b.index).cmp(&(a.time_ms, &a.chain, a.height, a.index))
    });
    lines.truncate(limit);
    let next = match (&q.chain, lines.last()) {
        (Some(_), Some(last)) if lines.len() == limit => {
            Some(format!("{}:{}", last.height, last.index))
        }
        _ => None,
    };
    Ok(Json(HistoryView {
        address: addr.to_string(),
        lines,
        next,
    }))
}

fn parse_before(text: &str) -> Result<(u64, u32), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "malformed_before",
            format!("`before` is a page's `next`, `height:index`; got {text:?}"),
        )
    };
    let (height, index) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        height.parse().map_err(|_| bad())?,
        index.parse().map_err(|_| bad())?,
    ))
}

/// One chain's lines for `addr`, with their transactions.
fn chain_lines(
    handle: &ChainHandle,
    addr: &Address,
    before: Option<(u64, u32)>,
    limit: usize,
) -> Result<Vec<HistoryLineView>, ApiError> {
    let raw = handle
        .store
        .history(addr, before, limit)
        .map_err(|e| ApiError::internal("history", e))?;
    let mut block: Option<Block> = None;
    let mut out = Vec::with_capacity(raw.len());
    for line in raw {
        if block
            .as_ref()
            .is_none_or(|b| b.header.height != line.height)
        {
            block = Some(load_block(handle, line.height)?);
        }
        let b = block.as_ref().expect("just loaded");
        out.push(line_view(handle, b, line, addr)?);
    }
    Ok(out)
}

fn line_view(
    handle: &ChainHandle,
    block: &Block,
    line: HistoryLine,
    addr: &Address,
) -> Result<HistoryLineView, ApiError> {
    let tx = block
        .txs
        .get(line.index as usize)
        .ok_or_else(|| ApiError::internal("history", "a line names no transaction"))?;
    let action = match &tx.tx.action {
        Action::Exchange(ExchangeAction::SettleBatch { steps }) => batch_view(handle, steps, addr),
        other => serde_json::to_value(other),
    }
    .map_err(|e| ApiError::internal("history", e))?;
    let kind = action["type"].as_str().unwrap_or(tx.tx.action.kind());
    let changes = line
        .changes
        .iter()
        .map(|(asset, amount, credit)| {
            let decimals = (handle.spec.assets.iter())
                .find(|a| a.symbol == *asset)
                .map_or(0, |a| a.decimals);
            ChangeView {
                asset: asset.to_string(),
                direction: if *credit { "in" } else { "out" }.into(),
                amount: amount.units().to_string(),
                decimals,
                display: amount.to_decimal(decimals),
            }
        })
        .collect();
    Ok(HistoryLineView {
        chain: handle.spec.id.to_string(),
        height: line.height,
        index: line.index,
        time_ms: block.header.time_ms,
        tx: tx.tx.id().to_hex(),
        kind: kind.to_owned(),
        sender: tx.tx.sender.to_string(),
        changes,
        action,
    })
}

/// A settlement batch as one account's history shows it: the step of that account's own
/// trade (never the other customers' steps in the batch), or, for an account none of them
/// is about (TICA's), what the batch held.
fn batch_view(
    handle: &ChainHandle,
    steps: &[ExchangeAction],
    addr: &Address,
) -> Result<serde_json::Value, serde_json::Error> {
    let own = steps.iter().find(|step| step_concerns(handle, step, addr));
    match own {
        Some(step) => serde_json::to_value(step),
        None => Ok(serde_json::json!({ "type": "settle_batch", "steps": steps.len() })),
    }
}

/// Whether a settlement step is about `addr`'s trade.
fn step_concerns(handle: &ChainHandle, step: &ExchangeAction, addr: &Address) -> bool {
    use milk_core::exchange::{Escrow, Trade, desk, record};
    let read = |key: Vec<u8>| handle.store.record(&key).ok().flatten();
    match step {
        ExchangeAction::SettleSell { order } => order.tx.sender == *addr,
        ExchangeAction::DeliverBuy { to, .. } => to == addr,
        ExchangeAction::CompleteBuy { trade, .. } => read(record::trade(trade))
            .and_then(|v| Trade::from_bytes(&v).ok())
            .is_some_and(|t| t.user == *addr),
        ExchangeAction::ReleaseSell { trade, .. } => read(desk::record::escrow(trade))
            .and_then(|v| Escrow::from_record(&v))
            .is_some_and(|e| e.seller == *addr),
        _ => false,
    }
}
