//! The one way a transaction reaches a chain. HTTP submissions, the partner and exchange
//! endpoints, the operator's lane and settlement all hand verified transactions to
//! [`submit_verified`] and get a typed [`Submitted`] back: nothing is re-encoded on the way,
//! and nobody compares codes as strings.

use crate::access::{body_error, chain_of, query_error};
use crate::error::ApiError;
use crate::node::{ChainHandle, Node, SendError};
pub use crate::outcome::{Refusal, Submitted};
use crate::worker::{Admission, Command, Outcome, SubmitError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
pub use milk_api::submit::{SubmitRequest, SubmitResponse, SubmitResult};
use milk_core::codec::Reader;
use milk_core::error::LedgerError;
use milk_core::mempool::MempoolError;
use milk_core::state::TxError;
use milk_core::tx::{self, SignedTransaction, TxId, VerifiedTx};
use milk_store::ChainStore;
use rayon::prelude::*;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// Signatures per batch check: large enough to halve the cost per signature, small enough
/// to spread a request over every core.
const VERIFY_CHUNK: usize = 128;

type Shared = Arc<Node>;

impl Submitted {
    /// The result as the API reports it.
    pub fn to_result(&self, id: Option<TxId>) -> SubmitResult {
        let hex = id.map(|i| i.to_hex());
        match self {
            Submitted::Committed(loc) => SubmitResult {
                id: hex,
                status: "committed".into(),
                height: Some(loc.height),
                index: Some(loc.index),
                error: None,
            },
            Submitted::Pending => SubmitResult {
                id: hex,
                status: "pending".into(),
                height: None,
                index: None,
                error: None,
            },
            Submitted::Refused(r) => SubmitResult::rejected(id, r.code(), r.to_string()),
            Submitted::Halted => SubmitResult::rejected(
                id,
                SubmitError::Halted.code(),
                "the chain stopped before committing it; check its status after restart".into(),
            ),
        }
    }
}

/// Hands verified transactions to a chain, in order, and reports what became of each.
/// With `wait`, each answer waits for its block until `deadline` (`None`: as long as it
/// takes); without, accepted ones are `Pending`.
pub async fn submit_verified(
    handle: &ChainHandle,
    txs: Vec<VerifiedTx>,
    wait: bool,
    deadline: Option<tokio::time::Instant>,
) -> Result<Vec<(TxId, Submitted)>, SendError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    handle.send(Command::Submit { txs, wait, reply })?;
    let admissions = answer.await.map_err(|_| SendError::Stopped)?;
    let mut out = Vec::with_capacity(admissions.len());
    for admission in admissions {
        out.push(match admission {
            Admission::Refused { id, error } => {
                let error = explain_replay(handle, id, error);
                (id, Submitted::Refused(Refusal::Admission(error)))
            }
            Admission::Accepted { id, outcome: None } => (id, Submitted::Pending),
            Admission::Accepted {
                id,
                outcome: Some(rx),
            } => {
                let outcome = match deadline {
                    Some(d) => tokio::time::timeout_at(d, rx).await.ok(),
                    None => Some(rx.await),
                };
                let submitted = match outcome {
                    Some(Ok(Outcome::Committed(loc))) => Submitted::Committed(loc),
                    Some(Ok(Outcome::Dropped(e))) => Submitted::Refused(Refusal::Dropped(e)),
                    Some(Ok(Outcome::Halted)) | Some(Err(_)) => Submitted::Halted,
                    Some(Ok(Outcome::Unknown)) | None => Submitted::Pending,
                    Some(Ok(Outcome::Moved)) => {
                        Submitted::Refused(Refusal::Admission(SubmitError::NotLeader))
                    }
                };
                (id, submitted)
            }
        });
    }
    Ok(out)
}

/// A submitted transaction after its signature check.
#[expect(
    clippy::large_enum_variant,
    reason = "short-lived, one per submitted transaction; boxing would allocate for each"
)]
enum Checked {
    /// Verified: it goes to the chain.
    Verified(VerifiedTx),
    /// Refused before reaching the chain (its id, when it could be decoded).
    Refused(Option<TxId>, Refusal),
}

/// The widest sequence window any sender has (the operator's): past it, nothing can wait.
const WIDEST_WINDOW: u64 = milk_core::mempool::Share::OPERATOR.window;

/// Refuses, before the costly signature check, what the pool would refuse whatever the
/// signature says: a fresh key's transaction other than its first (a key that holds nothing
/// on this chain and has sent nothing, and that the chain does not know as its operator or
/// an issuer), and a sequence number past any sender's window. So a flood of
/// never-applicable transactions costs the node a store read each, not a signature check.
fn screen(node: &Node, handle: &ChainHandle, tx: &SignedTransaction) -> Option<Refusal> {
    // The envelope's own refusals (another chain, expired) come first, as the chain says.
    let live = tx.tx.expires_at_ms > node.clock.now_ms();
    if tx.tx.chain != handle.spec.id || !live {
        return None;
    }
    let sender = &tx.tx.sender;
    let assets: Vec<_> = handle.spec.assets.iter().map(|a| a.symbol).collect();
    let (balances, next) = handle.store.account(sender, &assets).ok()?;
    let known = *sender == node.genesis.operator
        || handle.spec.assets.iter().any(|a| a.issuer == Some(*sender));
    let fresh = !known && next == 0 && balances.iter().all(|b| b.is_zero());
    let error = if fresh && tx.tx.sequence != 0 {
        SubmitError::Mempool(MempoolError::FreshKeyLimit)
    } else if tx.tx.sequence >= next.saturating_add(WIDEST_WINDOW) {
        let (expected, got) = (next, tx.tx.sequence);
        SubmitError::Tx(TxError::Ledger(LedgerError::SequenceGap { expected, got }))
    } else {
        return None;
    };
    Some(Refusal::Admission(error))
}

/// Decodes and checks the signatures of encoded transactions in parallel (after the
/// [`screen`]): each verified, or refused with why.
fn decode_and_verify(
    node: &Node,
    handle: &ChainHandle,
    items: Vec<Result<Bytes, String>>,
) -> Vec<Checked> {
    let mut out: Vec<Option<Checked>> = Vec::new();
    let mut good = Vec::new();
    let mut slots = Vec::new();
    for item in items {
        let decoded =
            item.and_then(|b| SignedTransaction::decode_checked(&b).map_err(|e| e.to_string()));
        match decoded {
            Ok(tx) => {
                slots.push(out.len());
                good.push(tx);
                out.push(None);
            }
            Err(e) => out.push(Some(Checked::Refused(None, Refusal::Malformed(e)))),
        }
    }
    let mut chunks = Vec::with_capacity(good.len().div_ceil(VERIFY_CHUNK));
    let mut rest = good.into_iter();
    loop {
        let chunk: Vec<SignedTransaction> = rest.by_ref().take(VERIFY_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let keys = &node.keys;
    let verified: Vec<_> = chunks
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let (mut passed, mut order) = (Vec::with_capacity(chunk.len()), Vec::new());
            for tx in chunk {
                match screen(node, handle, &tx) {
                    Some(refusal) => order.push(Some(Checked::Refused(Some(tx.tx.id()), refusal))),
                    None => {
                        passed.push(tx);
                        order.push(None);
                    }
                }
            }
            let spent = crate::cpu::Spent::start(&node.metrics.cpu.signatures);
            let mut checked = tx::verify_batch(passed, |a| keys.resolve(a)).into_iter();
            drop(spent);
            let verdict = move |slot: Option<Checked>| {
                slot.unwrap_or_else(|| match checked.next().expect("one verdict each") {
                    Ok(v) => Checked::Verified(v),
                    Err((s, e)) => Checked::Refused(Some(s.tx.id()), Refusal::Invalid(e)),
                })
            };
            order.into_iter().map(verdict).collect::<Vec<_>>()
        })
        .collect();
    for (slot, v) in slots.into_iter().zip(verified) {
        out[slot] = Some(v);
    }
    out.into_iter()
        .map(|o| o.expect("every slot filled"))
        .collect()
}

/// Checks and submits encoded transactions to a chain: one result each, in order.
pub(crate) async fn submit_items(
    node: &Shared,
    handle: &ChainHandle,
    items: Vec<Result<Bytes, String>>,
    wait: bool,
) -> Result<Vec<SubmitResult>, ApiError> {
    // Decode and check signatures in parallel, off the async runtime.
    let checked = {
        let node = node.clone();
        let handle = node
            .chain(&handle.spec.id)
            .ok_or_else(|| ApiError::internal("verify", "chain gone"))?;
        tokio::task::spawn_blocking(move || decode_and_verify(&node, &handle, items))
            .await
            .map_err(|e| ApiError::internal("verify", e))?
    };
    let mut results: Vec<Option<SubmitResult>> = Vec::with_capacity(checked.len());
    let mut to_send = Vec::new();
    for c in checked {
        match c {
            Checked::Verified(v) => {
                to_send.push(v);
                results.push(None);
            }
            Checked::Refused(id, refusal) => {
                node.metrics.reject(handle.spec.id.as_str(), refusal.code());
                results.push(Some(Submitted::Refused(refusal).to_result(id)));
            }
        }
    }
    if !to_send.is_empty() {
        let deadline = tokio::time::Instant::now() + node.config.commit_wait;
        let answers = submit_verified(handle, to_send, wait, Some(deadline)).await?;
        let mut answers = answers.into_iter();
        for slot in results.iter_mut().filter(|r| r.is_none()) {
            let (id, submitted) = answers.next().expect("one answer per transaction sent");
            *slot = Some(submitted.to_result(Some(id)));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every slot filled"))
        .collect())
}

/// A used sequence number on a transaction that is already committed is a replay: say so,
/// with where it is.
fn explain_replay(handle: &ChainHandle, id: TxId, error: SubmitError) -> SubmitError {
    use milk_store::ChainStore;
    if !matches!(
        error,
        SubmitError::Tx(TxError::Ledger(LedgerError::SequenceUsed { .. }))
    ) {
        return error;
    }
    match handle.store.tx_location(&id) {
        Ok(Some(loc)) => SubmitError::AlreadyCommitted {
            height: loc.height,
            index: loc.index,
        },
        Ok(None) => error,
        Err(e) => {
            tracing::error!(error = %e, "replay lookup failed");
            error
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SubmitQuery {
    /// Answer only when every accepted transaction is committed or dropped.
    wait: Option<bool>,
}

/// Splits a body into encoded transactions: JSON `{"txs": [hex, …]}`, or, with
/// `Content-Type: application/octet-stream`, 4-byte big-endian lengths each followed by a
/// transaction.
fn split_body(
    headers: &HeaderMap,
    body: &Bytes,
    max: usize,
) -> Result<Vec<Result<Bytes, String>>, ApiError> {
    let binary = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    let items = if binary {
        // Each item is a view into the body: no copy.
        let mut r = Reader::new(body);
        let mut out = Vec::new();
        while r.remaining() > 0 {
            let start = body.len() - r.remaining() + 4;
            let raw = r.bytes("transaction", tx::MAX_TX_BYTES).map_err(|e| {
                ApiError::bad_request("malformed_body", format!("transaction {}: {e}", out.len()))
            })?;
            out.push(Ok(body.slice(start..start + raw.len())));
            if out.len() > max {
                break;
            }
        }
        out
    } else {
        let req: SubmitRequest = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("expected {{\"txs\": [hex, …]}}: {e}"),
            )
        })?;
        req.txs
            .into_iter()
            .map(|h| {
                hex::decode(h)
                    .map(Bytes::from)
                    .map_err(|e| format!("not hex: {e}"))
            })
            .collect()
    };
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "empty_batch",
            "no transactions given",
        ));
    }
    if items.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("at most {max} transactions per request"),
        ));
    }
    Ok(items)
}

/// Submits signed transactions to a chain.
///
/// Signatures are checked here; the chain then admits, orders and commits. Each transaction
/// gets its own result. With `wait=true` the answer comes once every accepted transaction
/// is durably committed (`committed`, with its block) or dropped (`rejected`).
#[utoipa::path(post, path = "/v1/chains/{chain}/txs",
    params(("chain" = String, Path, description = "Chain id"), SubmitQuery),
    request_body(content = SubmitRequest, description = "JSON with hex transactions, or application/octet-stream with length-prefixed ones"),
    responses((status = 200, description = "One result per transaction", body = SubmitResponse),
        (status = 400, description = "Malformed body", body = crate::error::ErrorResponse),
        (status = 404, description = "Unknown chain", body = crate::error::ErrorResponse),
        (status = 413, description = "Body or batch too large", body = crate::error::ErrorResponse),
        (status = 503, description = "Busy or shutting down; retry", body = crate::error::ErrorResponse)))]
pub(crate) async fn submit(
    State(node): State<Shared>,
    Path(id): Path<String>,
    q: Result<Query<SubmitQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitResponse>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let handle = &chain_of(&node, &id)?;
    let body = body.map_err(body_error)?;
    let items = split_body(&headers, &body, node.config.max_batch_txs)?;
    let results = submit_items(&node, handle, items, q.wait.unwrap_or(false)).await?;
    Ok(Json(SubmitResponse { results }))
}
