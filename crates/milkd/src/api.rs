//! The HTTP/JSON API.
//!
//! Every error is JSON `{"error": {"code", "message"}}` with a stable code; nothing internal
//! leaks into a message. Bodies are size-limited, and every list is bounded.

pub use crate::error::{ApiError, ErrorBody};
pub use crate::submit::{SubmitRequest, SubmitResponse, SubmitResult};

use crate::access::{caller, chain_of, query_error, require_chain};
use crate::apidoc::Finish;
use crate::node::Node;
use crate::node::SendError;
use crate::worker::{Command, PendingStatus};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
pub use milk_api::chain::{
    AccountChainView, AccountView, AnchorView, AssetView, BalanceView, BlockSummary, BlockView,
    ChainInfo, HeadView, HealthView, ProofView, TxStatusView,
};
pub use milk_api::wire::{decode_raw_blocks, encode_batch};
use milk_core::block::{Block, leaf_of};
use milk_core::tx::SignedTransaction;
use milk_core::{Address, Hash};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use utoipa::{IntoParams, OpenApi};

/// The most blocks one list request returns.
pub const MAX_BLOCKS_PER_PAGE: u64 = 100;
/// The most blocks one raw export request returns.
pub const MAX_RAW_BLOCKS: u64 = 1_000;
/// A raw export stops after the block that takes it past this many bytes.
pub const MAX_RAW_BYTES: usize = 8 * 1024 * 1024;

type Shared = Arc<Node>;

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "MiL.k node API",
        description = "Chains, blocks, transactions and accounts of the MiL.k platform. Transactions are sent signed, in their canonical binary encoding as hex: version, chain, sender, sequence, expiry and action, big-endian, strings length-prefixed; the id is SHA-256(0x0a, \"milk/tx/v1\", bytes) and the sender signs it with Ed25519. docs/ENCODING.md in the repository gives every field and two worked examples."
    ),
    modifiers(&Finish),
    paths(
        health,
        metrics,
        genesis,
        chains,
        chain,
        blocks,
        block,
        raw_blocks,
        crate::submit::submit,
        tx_status,
        account,
        crate::history::history,
        anchors,
        crate::brand::link,
        crate::brand::convert,
        crate::brand::conversion,
        crate::brand::batches::convert_batch,
        crate::brand::batches::conversion_batch,
        crate::brand::redeem,
        crate::brand::batches::redeem_batch,
        crate::brand::redemption,
        crate::brand::refund,
        crate::brand::coupons::report,
        crate::brand::coupons::refund,
        crate::brand::supply,
        crate::brand::grant_auditor,
        crate::brand::list_auditors,
        crate::brand::revoke_auditor,
        crate::brand::events,
        crate::brand::expiring,
        crate::brand::lots::own_expiring,
        crate::brand::sweep,
        crate::brand::set_policy,
        crate::alliance::members,
        crate::alliance::member,
        crate::alliance::issue_credential,
        crate::brand::webhooks::register,
        crate::brand::webhooks::list,
        crate::brand::webhooks::remove,
        crate::exchange::markets,
        crate::exchange::market,
        crate::exchange::quote,
        crate::exchange::candles,
        crate::exchange::oracle,
        crate::exchange::oracle_sources,
        crate::exchange::trade,
        crate::exchange::status::trade_status,
        crate::exchange::treasury,
        crate::membership::member,
        crate::membership::rules,
        crate::membership::supply,
        crate::membership::offers,
        crate::membership::segment,
        crate::membership::segment_member,
        crate::operator::act,
        crate::cluster::cluster,
        crate::cluster::add_learner,
        crate::cluster::set_voters,
        crate::cluster::set_producers,
        crate::cluster::elect,
        crate::bridge::bridge,
        crate::bridge::withdrawals,
        crate::bridge::withdrawal,
        crate::bridge::deposits,
        crate::bridge::deposit_address
    ),
    components(schemas(
        ErrorBody,
        crate::error::ErrorResponse,
        HealthView,
        crate::cluster::ClusterView,
        crate::cluster::ReplicaView,
        crate::cluster::LearnerRequest,
        crate::cluster::VotersRequest,
        crate::cluster::ProducersRequest,
        ChainInfo,
        AssetView,
        HeadView,
        BlockSummary,
        BlockView,
        SubmitRequest,
        SubmitResponse,
        SubmitResult,
        milk_api::submit::OperatorActionRequest,
        TxStatusView,
        ProofView,
        AccountView,
        AccountChainView,
        BalanceView,
        milk_api::chain::HistoryView,
        milk_api::chain::HistoryLineView,
        milk_api::chain::ChangeView,
        AnchorView,
        crate::brand::PartnerTxRequest,
        crate::brand::ConversionReceipt,
        milk_api::partner::ConversionBatchReceipt,
        milk_api::partner::BatchItemResult,
        milk_api::partner::PartnerTxsRequest,
        milk_api::partner::RedemptionBatchItem,
        milk_api::partner::RedemptionBatchReceipt,
        crate::brand::coupons::CouponReceipt,
        crate::brand::RedemptionReceipt,
        crate::brand::SupplyReport,
        crate::brand::TxRef,
        crate::brand::AuditorGrant,
        crate::brand::PartnerEvent,
        crate::brand::EventPage,
        crate::brand::ExpiringLot,
        crate::brand::lots::OwnLotView,
        crate::alliance::MemberView,
        crate::alliance::PartnerCredential,
        milk_api::alliance::ExitView,
        crate::brand::webhooks::WebhookRequest,
        crate::brand::webhooks::WebhookCreated,
        crate::brand::hooks::WebhookView,
        crate::exchange::MarketView,
        crate::exchange::QuoteView,
        crate::exchange::Candle,
        crate::exchange::OracleView,
        crate::exchange::SourceView,
        crate::exchange::TradeView,
        crate::exchange::TradeRequest,
        crate::exchange::TreasuryView,
        crate::exchange::TreasuryMarket,
        crate::membership::MemberView,
        crate::membership::FloorView,
        crate::membership::LeavingView,
        crate::membership::CreditView,
        crate::membership::RulesView,
        crate::membership::SupplyView,
        crate::membership::BucketView,
        milk_api::membership::BridgedView,
        crate::membership::OfferView,
        crate::membership::SegmentMember,
        crate::membership::ConsentView,
        crate::membership::AccessView,
        crate::membership::PackView,
        milk_api::bridge::BridgeView,
        milk_api::bridge::MainChainView,
        milk_api::bridge::WithdrawalView,
        milk_api::bridge::BatchProofView,
        milk_api::bridge::DepositView,
        milk_api::bridge::DepositAddressView
    ))
)]
pub struct ApiDoc;

/// The router over a started node.
pub fn router(node: Shared) -> Router {
    let body_limit = node.config.max_body_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/genesis", get(genesis))
        .route("/v1/chains", get(chains))
        .route("/v1/chains/{chain}", get(chain))
        .route("/v1/chains/{chain}/blocks", get(blocks))
        .route("/v1/chains/{chain}/blocks/{height}", get(block))
        .route("/v1/chains/{chain}/raw-blocks", get(raw_blocks))
        .route("/v1/chains/{chain}/txs", post(crate::submit::submit))
        .route("/v1/chains/{chain}/txs/{id}", get(tx_status))
        .route("/v1/accounts/{address}", get(account))
        .route("/v1/anchors/{chain}", get(anchors))
        .merge(crate::history::routes())
        .merge(crate::brand::routes())
        .merge(crate::bridge::routes())
        .merge(crate::alliance::routes())
        .merge(crate::brand::webhooks::routes())
        .merge(crate::exchange::routes())
        .merge(crate::membership::routes())
        .merge(crate::operator::routes())
        .merge(crate::cluster::routes())
        .merge(crate::web::routes())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint; see /openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; see /openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            node.clone(),
            crate::forward::to_the_leader,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (node.config.body_timeout, body_limit),
            crate::listener::read_body,
        ))
        .with_state(node)
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the document serializes"),
    )
}

/// The node's metrics in the OpenMetrics text format (per chain: blocks, transactions,
/// refusals by code, pool sizes, commit times; replication's peer messages and snapshots).
/// Operator only: per-chain counts would tell one partner about another's flows.
#[utoipa::path(get, path = "/metrics", tag = "operator", responses(
    (status = 200, description = "The metrics", content_type = "application/openmetrics-text", body = String),
    (status = 401, description = "No credential", body = crate::error::ErrorResponse),
    (status = 403, description = "Not the operator's credential", body = crate::error::ErrorResponse)))]
async fn metrics(State(node): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    // Per-chain counts would tell one partner about another's flows: operators only.
    crate::access::require_operator(&node, &headers, "the metrics")?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        node.metrics.render(),
    )
        .into_response())
}

/// Whether the node serves, with every chain's head.
#[utoipa::path(get, path = "/health", responses(
    (status = 200, description = "All chains accept transactions", body = HealthView),
    (status = 503, description = "A chain halted after a storage failure", body = HealthView)))]
async fn health(
    State(node): State<Shared>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<HealthView>), ApiError> {
    let caller = caller(&node, &headers)?;
    let ok = node
        .chain_handles()
        .iter()
        .all(|c| !c.shared.halted.load(Ordering::Relaxed));
    // Heads only of the chains the caller may read: a head's height tells of its flows.
    let chains: Vec<HeadView> = node
        .chain_handles()
        .iter()
        .filter(|c| require_chain(&caller, c).is_ok())
        .map(|c| c.head_view())
        .collect();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let view = HealthView {
        status: if ok { "ok" } else { "degraded" }.to_owned(),
        warnings: clock_warnings(node.clock.now_ms(), &chains),
        chains,
    };
    Ok((status, Json(view)))
}

/// How far this node's clock may lag a chain's head before `/health` warns: clients sign
/// transactions to expire a minute or so after their own clock.
const CLOCK_LAG_WARNING_MS: u64 = 5_000;

/// A warning for each chain whose head is ahead of this node's clock by more than
/// [`CLOCK_LAG_WARNING_MS`].
fn clock_warnings(now_ms: u64, heads: &[milk_api::chain::HeadView]) -> Vec<String> {
    let behind = heads
        .iter()
        .filter(|h| h.time_ms > now_ms.saturating_add(CLOCK_LAG_WARNING_MS));
    behind
        .map(|h| {
            format!(
                "this node's clock is {} s behind the {} chain's head: a transaction that \
                 expires sooner than the head's time is refused as expired; check the clock \
                 (NTP)",
                (h.time_ms - now_ms) / 1_000,
                h.chain
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(chain: &str, time_ms: u64) -> milk_api::chain::HeadView {
        milk_api::chain::HeadView {
            chain: chain.into(),
            height: 1,
            hash: String::new(),
            time_ms,
            state_root: String::new(),
            halted: false,
            pending: 0,
        }
    }

    #[test]
    fn health_warns_of_a_clock_behind_a_head_only() {
        let now = 1_900_000_000_000;
        let heads = [
            head("center", now + 75_000),
            head("skyway", now + CLOCK_LAG_WARNING_MS),
            head("cinema", now - 60_000),
        ];
        let warnings = clock_warnings(now, &heads);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("this node's clock is 75 s behind the center chain's head"),
            "{}",
            warnings[0]
        );
        assert!(
            clock_warnings(now, &heads[1..]).is_empty(),
            "within the margin"
        );
    }
}

/// The genesis this node started from (JSON, as in the genesis file).
#[utoipa::path(get, path = "/v1/genesis", responses((status = 200, description = "The genesis file", body = Object)))]
async fn genesis(
    State(node): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<milk_core::genesis::Genesis>, ApiError> {
    let caller = caller(&node, &headers)?;
    let mut g = node.genesis.clone();
    // A brand chain's initial balances are its partner's business.
    for spec in &mut g.chains {
        if !caller.reads_chain(&spec.id, spec.partner.is_some()) {
            spec.allocations.clear();
        }
    }
    Ok(Json(g))
}

/// A chain's description; `full` adds its supply and head (for those who may read it).
fn chain_info(handle: &crate::node::ChainHandle, full: bool) -> Result<ChainInfo, ApiError> {
    let spec = &handle.spec;
    let mut assets = Vec::new();
    let snapshot_supplies = supplies(handle)?;
    for a in &spec.assets {
        let supply = snapshot_supplies
            .iter()
            .find(|(s, _)| s == &a.symbol)
            .map_or(0, |(_, v)| *v);
        assets.push(AssetView {
            symbol: a.symbol.to_string(),
            name: a.name.clone(),
            decimals: a.decimals,
            supply: full.then(|| supply.to_string()),
            issuer: a.issuer.map(|i| i.to_string()),
        });
    }
    Ok(ChainInfo {
        id: spec.id.to_string(),
        kind: match spec.kind {
            milk_core::genesis::ChainKind::Center => "center",
            milk_core::genesis::ChainKind::Brand => "brand",
        }
        .to_owned(),
        name: spec.name.clone(),
        partner: spec.partner.as_ref().map(|p| p.name.clone()),
        sector: spec.partner.as_ref().map(|p| p.sector.clone()),
        producer: spec.producer.to_string(),
        assets,
        head: full.then(|| handle.head_view()),
    })
}

/// The committed supplies, from the store (so they match the committed head).
fn supplies(handle: &crate::node::ChainHandle) -> Result<Vec<(milk_core::Symbol, u128)>, ApiError> {
    use milk_store::ChainStore;
    let symbols: Vec<_> = handle.spec.assets.iter().map(|a| a.symbol).collect();
    let supplies = handle
        .store
        .supplies(&symbols)
        .map_err(|e| ApiError::internal("supplies", e))?;
    Ok(symbols
        .into_iter()
        .zip(supplies)
        .map(|(s, v)| (s, v.units()))
        .collect())
}

/// Every chain this node hosts.
#[utoipa::path(get, path = "/v1/chains", responses((status = 200, description = "The chains", body = Vec<ChainInfo>)))]
async fn chains(
    State(node): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<Vec<ChainInfo>>, ApiError> {
    let caller = caller(&node, &headers)?;
    node.chain_handles()
        .iter()
        .map(|c| chain_info(c, require_chain(&caller, c).is_ok()))
        .collect::<Result<_, _>>()
        .map(Json)
}

/// One chain.
#[utoipa::path(get, path = "/v1/chains/{chain}",
    params(("chain" = String, Path, description = "Chain id")),
    responses((status = 200, description = "The chain", body = ChainInfo),
        (status = 404, description = "Unknown chain", body = crate::error::ErrorResponse)))]
async fn chain(
    State(node): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ChainInfo>, ApiError> {
    let handle = &chain_of(&node, &id)?;
    require_chain(&caller(&node, &headers)?, handle)?;
    chain_info(handle, true).map(Json)
}

/// A page of blocks.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// First height (default: the newest page).
    from: Option<u64>,
    /// How many (default 20, at most 100; 1000 for raw blocks).
    limit: Option<u64>,
}

fn summary(block: &Block) -> BlockSummary {
    let h = &block.header;
    BlockSummary {
        height: h.height,
        hash: h.hash().to_hex(),
        prev_hash: h.prev_hash.to_hex(),
        time_ms: h.time_ms,
        tx_count: h.tx_count,
        tx_root: h.tx_root.to_hex(),
        state_root: h.state_root.to_hex(),
        producer: h.producer.to_string(),
    }
}

fn tx_json(tx: &SignedTransaction) -> serde_json::Value {
    serde_json::json!({
        "id": tx.tx.id().to_hex(),
        "tx": tx.tx,
        "signature": tx.signature,
        "raw": hex::encode(milk_core::codec::Encode::to_bytes(tx)),
    })
}

fn page(q: &PageQuery, head: u64, max: u64) -> (u64, u64) {
    let limit = q.limit.unwrap_or(20).clamp(1, max);
    let from = q.from.unwrap_or_else(|| head.saturating_sub(limit - 1));
    let to = from.saturating_add(limit - 1).min(head);
    (from, to)
}

/// Block headers, oldest first.
#[utoipa::path(get, path = "/v1/chains/{chain}/blocks",
    params(("chain" = String, Path, description = "Chain id"), PageQuery),
    responses((status = 200, description = "Blocks", body = Vec<BlockSummary>),
        (status = 404, description = "Unknown chain", body = crate::error::ErrorResponse)))]
async fn blocks(
    State(node): State<Shared>,
    Path(id): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Vec<BlockSummary>>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let handle = &chain_of(&node, &id)?;
    require_chain(&caller(&node, &headers)?, handle)?;
    let (from, to) = page(&q, handle.head().height, MAX_BLOCKS_PER_PAGE);
    (from..=to)
        .map(|h| crate::access::load_block(handle, h).map(|b| summary(&b)))
        .collect::<Result<_, _>>()
        .map(Json)
}

/// One block with its transactions.
#[utoipa::path(get, path = "/v1/chains/{chain}/blocks/{height}",
    params(("chain" = String, Path, description = "Chain id"), ("height" = u64, Path, description = "Height")),
    responses((status = 200, description = "The block", body = BlockView),
        (status = 404, description = "Unknown chain or block", body = crate::error::ErrorResponse)))]
async fn block(
    State(node): State<Shared>,
    Path((id, height)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<BlockView>, ApiError> {
    let handle = &chain_of(&node, &id)?;
    require_chain(&caller(&node, &headers)?, handle)?;
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request(
            "malformed_height",
            format!("{height:?} is not a block height"),
        )
    })?;
    let b = crate::access::load_block(handle, height)?;
    Ok(Json(BlockView {
        summary: summary(&b),
        signature: hex::encode(b.signature.0),
        txs: b.txs.iter().map(tx_json).collect(),
    }))
}

/// Blocks in their canonical encoding, for verification: each is a 4-byte big-endian
/// length followed by the block. A page stops early past 8 MiB; ask again from the next
/// height.
#[utoipa::path(get, path = "/v1/chains/{chain}/raw-blocks",
    params(("chain" = String, Path, description = "Chain id"), PageQuery),
    responses((status = 200, description = "Length-prefixed encoded blocks", content_type = "application/octet-stream"),
        (status = 404, description = "Unknown chain", body = crate::error::ErrorResponse)))]
async fn raw_blocks(
    State(node): State<Shared>,
    Path(id): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use milk_store::ChainStore;
    let Query(q) = q.map_err(query_error)?;
    let handle = &chain_of(&node, &id)?;
    require_chain(&caller(&node, &headers)?, handle)?;
    let (from, to) = page(&q, handle.head().height, MAX_RAW_BLOCKS);
    let mut out = Vec::new();
    for h in from..=to {
        let bytes = handle
            .store
            .block_bytes(h)
            .map_err(|e| ApiError::internal("raw block", e))?
            .ok_or_else(|| ApiError::internal("raw block", format!("missing block {h}")))?;
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&bytes);
        if out.len() >= MAX_RAW_BYTES {
            break;
        }
    }
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], out).into_response())
}

/// A transaction's status; once committed, with its Merkle inclusion proof.
#[utoipa::path(get, path = "/v1/chains/{chain}/txs/{id}",
    params(("chain" = String, Path, description = "Chain id"), ("id" = String, Path, description = "Transaction id, hex")),
    responses((status = 200, description = "Status", body = TxStatusView),
        (status = 404, description = "Unknown chain or transaction", body = crate::error::ErrorResponse)))]
async fn tx_status(
    State(node): State<Shared>,
    Path((chain, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<TxStatusView>, ApiError> {
    use milk_store::ChainStore;
    let handle = &chain_of(&node, &chain)?;
    let id = Hash::from_hex(&id).map_err(|e| ApiError::bad_request("malformed_tx_id", e))?;
    let caller = caller(&node, &headers)?;
    // On a private chain a customer may see a committed transaction they sent or received.
    let reader = require_chain(&caller, handle);
    let mut view = TxStatusView {
        id: id.to_hex(),
        status: "pending".into(),
        height: None,
        block_hash: None,
        index: None,
        tx: None,
        proof: None,
        error: None,
    };
    if let Some(loc) = handle
        .store
        .tx_location(&id)
        .map_err(|e| ApiError::internal("tx status", e))?
    {
        let b = crate::access::load_block(handle, loc.height)?;
        let tx = &b.txs[loc.index as usize];
        let own = caller.is_account(&tx.tx.sender)
            || tx
                .tx
                .action
                .recipient()
                .is_some_and(|to| caller.is_account(to));
        if !own {
            reader?;
        }
        let proof = b
            .prove(loc.index as usize)
            .ok_or_else(|| ApiError::internal("proof", "index out of range"))?;
        view.status = "committed".into();
        view.height = Some(loc.height);
        view.block_hash = Some(b.hash().to_hex());
        view.index = Some(loc.index);
        view.tx = Some(tx_json(tx));
        view.proof = Some(ProofView {
            leaf: leaf_of(tx).to_hex(),
            index: proof.index,
            leaf_count: proof.leaf_count,
            siblings: proof.siblings.iter().map(Hash::to_hex).collect(),
            tx_root: b.header.tx_root.to_hex(),
        });
        return Ok(Json(view));
    }
    reader?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    handle.send(Command::Status { id, reply })?;
    match answer
        .await
        .map_err(|_| ApiError::from(SendError::Stopped))?
    {
        PendingStatus::Pending(_) => Ok(Json(view)),
        PendingStatus::Rejected(e) => {
            view.status = "rejected".into();
            view.error = Some(ErrorBody {
                code: e.code().to_owned(),
                message: e.to_string(),
            });
            Ok(Json(view))
        }
        PendingStatus::Unknown => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_tx",
            format!("no transaction {id} on chain {}", handle.spec.id),
        )),
    }
}

/// An address's committed balances and next sequence number on every chain.
#[utoipa::path(get, path = "/v1/accounts/{address}",
    params(("address" = String, Path, description = "A milk1… address")),
    responses((status = 200, description = "The account", body = AccountView),
        (status = 400, description = "Malformed address", body = crate::error::ErrorResponse)))]
async fn account(
    State(node): State<Shared>,
    Path(address): Path<String>,
    headers: HeaderMap,
) -> Result<Json<AccountView>, ApiError> {
    use milk_store::ChainStore;
    let addr: Address = address
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_address", e))?;
    let caller = caller(&node, &headers)?;
    let mut chains = Vec::new();
    // The center chain for anyone; a brand chain for its readers and the account's owner.
    let handles = node.chain_handles();
    let visible = handles
        .iter()
        .filter(|h| caller.is_account(&addr) || require_chain(&caller, h).is_ok());
    for handle in visible {
        let symbols: Vec<_> = handle.spec.assets.iter().map(|a| a.symbol).collect();
        let (amounts, next_sequence) = handle
            .store
            .account(&addr, &symbols)
            .map_err(|e| ApiError::internal("account", e))?;
        let balances = handle
            .spec
            .assets
            .iter()
            .zip(amounts)
            .map(|(a, v)| BalanceView {
                asset: a.symbol.to_string(),
                amount: v.units().to_string(),
                decimals: a.decimals,
                display: v.to_decimal(a.decimals),
            })
            .collect();
        chains.push(AccountChainView {
            chain: handle.spec.id.to_string(),
            next_sequence,
            balances,
        });
    }
    Ok(Json(AccountView {
        address: addr.to_string(),
        chains,
    }))
}

/// The anchors of a brand chain, from the public center chain.
#[utoipa::path(get, path = "/v1/anchors/{chain}",
    params(("chain" = String, Path, description = "A brand chain")),
    responses((status = 200, description = "Anchors, in order", body = Vec<AnchorView>),
        (status = 404, description = "Unknown chain", body = crate::error::ErrorResponse)))]
async fn anchors(
    State(node): State<Shared>,
    Path(chain): Path<String>,
) -> Result<Json<Vec<AnchorView>>, ApiError> {
    let handle = &chain_of(&node, &chain)?;
    let anchors = crate::alliance::anchoring::anchors_of(&node, &handle.spec.id)
        .map_err(|e| ApiError::internal("anchors", e))?;
    Ok(Json(
        anchors
            .into_iter()
            .map(|(number, seal)| AnchorView {
                number,
                seal: seal.to_hex(),
            })
            .collect(),
    ))
}
