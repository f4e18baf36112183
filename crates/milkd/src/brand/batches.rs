//! Batches through the partner API: many conversions in one transaction signed once by the
//! partner's issuer key, each item with its own reference and its own outcome; and many
//! customer-signed redemptions in one request, such as a point-of-sale system's end of day.

use super::{
    Shared, authorize, check_issuing, parse_partner_tx, partner_tx, read_record, receipt_after,
    recorded_conversion, submit_one, tx_ref,
};
use crate::access::body_error;
use crate::error::ApiError;
use crate::node::ChainHandle;
use crate::submit::submit_items;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use milk_api::error::ErrorBody;
use milk_api::partner::{
    BatchItemResult, ConversionBatchReceipt, PartnerTxsRequest, RedemptionBatchItem,
    RedemptionBatchReceipt,
};
use milk_core::brand::action::{ConversionItem, MAX_CONVERSION_BATCH};
use milk_core::brand::batch::{ItemOutcome, batch_key, decode_outcomes};
use milk_core::tx::{Action, BrandAction, SignedTransaction, TxId};
use milk_store::ChainStore;

/// Converts many customers' mileage at once: one `convert_batch` transaction, signed by
/// the partner's issuer key, of up to 1,000 items. Each item converts, replays (its
/// reference already converted exactly this: nothing is minted twice) or is refused on its
/// own; a refused item holds back none after it. Sending the same signed batch again
/// answers with its recorded outcomes (`replayed_batch: true`).
#[utoipa::path(post, path = "/v1/partners/{chain}/conversion-batches",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = milk_api::partner::PartnerTxRequest,
    responses((status = 200, description = "Each item's outcome", body = ConversionBatchReceipt),
        (status = 400, description = "Not a batch of conversions for this chain, or malformed (`malformed_tx`, `wrong_action`, `wrong_chain`)", body = crate::error::ErrorResponse),
        (status = 401, description = "No or unknown credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Another partner's credential", body = crate::error::ErrorResponse),
        (status = 409, description = "The partner is suspended (`partner_suspended`) or leaving (`partner_exiting`)", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused by the chain as a whole (code says why)", body = crate::error::ErrorResponse)))]
pub(crate) async fn convert_batch(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ConversionBatchReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (tx, bytes) = partner_tx(handle, body, "convert_batch", |a| {
        matches!(a, Action::Brand(BrandAction::ConvertBatch { .. }))
    })?;
    let id = tx.tx.id();
    // Concurrent retries of this batch take turns: each later one finds the first's.
    let _turn = node
        .inflight
        .turn(&handle.spec.id, "conversion_batch", &id.to_hex())
        .await;
    if committed(handle, &id)? {
        return batch_receipt(handle, &tx, true).map(Json);
    }
    check_issuing(&node, &handle.spec.id)?;
    match submit_one(&node, handle, bytes).await {
        Ok(_) => batch_receipt(handle, &tx, false).map(Json),
        Err(_) if committed(handle, &id)? => batch_receipt(handle, &tx, true).map(Json),
        Err(e) => Err(e),
    }
}

/// A committed batch of conversions by its transaction id, each item's outcome.
#[utoipa::path(get, path = "/v1/partners/{chain}/conversion-batches/{tx}",
    params(("chain" = String, Path, description = "The partner's brand chain"), ("tx" = String, Path, description = "The batch's transaction id, hex")),
    responses((status = 200, description = "Each item's outcome", body = ConversionBatchReceipt),
        (status = 404, description = "No committed batch with this id", body = crate::error::ErrorResponse)))]
pub(crate) async fn conversion_batch(
    State(node): State<Shared>,
    Path((chain, tx)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<ConversionBatchReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, false)?;
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_batch",
            format!("no committed batch of conversions with id {tx:?}"),
        )
    };
    let id = milk_core::Hash::from_hex(&tx).map_err(|_| unknown())?;
    let loc = (handle.store.tx_location(&id))
        .map_err(|e| ApiError::internal("tx location", e))?
        .ok_or_else(unknown)?;
    let block = crate::access::load_block(handle, loc.height)?;
    let signed = (block.txs.get(loc.index as usize))
        .filter(|t| matches!(t.tx.action, Action::Brand(BrandAction::ConvertBatch { .. })))
        .ok_or_else(unknown)?;
    batch_receipt(handle, signed, false).map(Json)
}

fn committed(handle: &ChainHandle, id: &TxId) -> Result<bool, ApiError> {
    (handle.store.tx_location(id))
        .map(|loc| loc.is_some())
        .map_err(|e| ApiError::internal("tx location", e))
}

/// The receipt of a committed batch: its recorded outcomes, with each converted or
/// replayed item's amount from its reference's conversion.
fn batch_receipt(
    handle: &ChainHandle,
    signed: &SignedTransaction,
    replayed_batch: bool,
) -> Result<ConversionBatchReceipt, ApiError> {
    let Action::Brand(BrandAction::ConvertBatch { items }) = &signed.tx.action else {
        return Err(ApiError::internal("batch", "not a batch of conversions"));
    };
    let id = signed.tx.id();
    let outcomes = read_record(handle, &batch_key(&id))?
        .and_then(|v| decode_outcomes(&v))
        .filter(|o| o.len() == items.len())
        .ok_or_else(|| {
            ApiError::internal("batch", "committed but its outcomes are not recorded")
        })?;
    let mut receipt = ConversionBatchReceipt {
        tx: tx_ref(handle, &id)?,
        converted: 0,
        replayed: 0,
        refused: 0,
        items: Vec::with_capacity(items.len()),
        replayed_batch,
    };
    for (item, outcome) in items.iter().zip(outcomes) {
        *match outcome {
            ItemOutcome::Converted => &mut receipt.converted,
            ItemOutcome::Replayed => &mut receipt.replayed,
            ItemOutcome::Refused { .. } => &mut receipt.refused,
        } += 1;
        receipt.items.push(item_result(handle, item, outcome)?);
    }
    Ok(receipt)
}

fn item_result(
    handle: &ChainHandle,
    item: &ConversionItem,
    outcome: ItemOutcome,
) -> Result<BatchItemResult, ApiError> {
    let (status, error) = match outcome {
        ItemOutcome::Converted => ("converted", None),
        ItemOutcome::Replayed => ("replayed", None),
        ItemOutcome::Refused { code, message } => ("refused", Some(ErrorBody { code, message })),
    };
    let amount = match error {
        Some(_) => None,
        None => recorded_conversion(handle, &item.reference)?.map(|c| c.amount.units().to_string()),
    };
    Ok(BatchItemResult {
        reference: item.reference.clone(),
        to: item.to.to_string(),
        mileage: item.mileage,
        status: status.to_owned(),
        amount,
        error,
    })
}

/// Takes many customers' redemptions at once (each signed by its customer, as a
/// point-of-sale system collects them), up to 1,000: one result per transaction, in
/// order, a receipt or why it was refused. Each redemption stands alone.
#[utoipa::path(post, path = "/v1/partners/{chain}/redemption-batches",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = PartnerTxsRequest,
    responses((status = 200, description = "One result per redemption", body = RedemptionBatchReceipt),
        (status = 400, description = "Malformed body or too many transactions", body = crate::error::ErrorResponse),
        (status = 401, description = "No or unknown credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Another partner's credential", body = crate::error::ErrorResponse)))]
pub(crate) async fn redeem_batch(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RedemptionBatchReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let body = body.map_err(body_error)?;
    let req: PartnerTxsRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            format!("expected {{\"txs\": [hex, …]}}: {e}"),
        )
    })?;
    if req.txs.is_empty() || req.txs.len() > MAX_CONVERSION_BATCH {
        return Err(ApiError::bad_request(
            "batch_size",
            format!(
                "send 1 to {MAX_CONVERSION_BATCH} redemptions, not {}",
                req.txs.len()
            ),
        ));
    }
    let parsed: Vec<_> = (req.txs.iter()).map(|t| redemption(handle, t)).collect();
    let orders: Vec<Option<String>> = (parsed.iter())
        .map(|p| p.as_ref().ok().map(|(_, order)| order.clone()))
        .collect();
    let items = parsed.into_iter().map(|p| p.map(|(b, _)| b)).collect();
    let results = submit_items(&node, handle, items, true).await?;
    let mut out = Vec::with_capacity(results.len());
    for (result, order) in results.into_iter().zip(orders) {
        out.push(match (result.error.clone(), order) {
            (Some(error), _) => RedemptionBatchItem {
                receipt: None,
                error: Some(error),
            },
            (None, Some(order)) if result.status == "committed" => RedemptionBatchItem {
                receipt: Some(receipt_after(handle, &order, &result)?),
                error: None,
            },
            _ => RedemptionBatchItem {
                receipt: None,
                error: Some(ErrorBody {
                    code: "pending".into(),
                    message: "accepted but not yet committed; read it back by its order id".into(),
                }),
            },
        });
    }
    Ok(Json(RedemptionBatchReceipt { results: out }))
}

/// One item's bytes and order id, if it is a redemption on this chain (else why not, as
/// its result).
fn redemption(handle: &ChainHandle, text: &str) -> Result<(Bytes, String), String> {
    let (tx, bytes) = parse_partner_tx(handle, text, "redemption", |a| {
        matches!(a, Action::Brand(BrandAction::Redeem { .. }))
    })
    .map_err(|e| e.message().to_owned())?;
    match tx.tx.action {
        Action::Brand(BrandAction::Redeem { order_id, .. }) => Ok((bytes, order_id)),
        _ => unreachable!("checked by parse_partner_tx"),
    }
}
