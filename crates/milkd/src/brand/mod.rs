//! The partner API: what a partner company's systems call, under `/v1/partners/{chain}`.
//!
//! Every request carries the partner's API credential (`Authorization: Bearer …`), scoped
//! to its own brand chain; another partner's credential gets 403. Every state-changing
//! request also carries a signed transaction: a conversion or refund signed by the
//! partner's issuer key, a link or redemption signed by the customer. So a leaked
//! credential alone can mint nothing.

pub mod batches;
pub mod coupons;
pub mod hooks;
pub mod inflight;
pub mod lots;
pub mod webhooks;

use crate::access::{body_error, caller, chain_of, require_chain};
use crate::auth::{Caller, Principal};
use crate::error::ApiError;
use crate::node::{ChainHandle, Node};
use crate::submit::{SubmitResult, submit_items};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
pub use milk_api::partner::{
    AuditorGrant, ConversionReceipt, EventPage, ExpiringLot, PartnerEvent, PartnerTxRequest,
    RedemptionReceipt, SupplyReport, TxRef,
};
pub use milk_api::wire::tx_hex;
use milk_core::brand::{Conversion, Redemption, Totals, record as brand_record};
use milk_core::error::ExchangeError;
use milk_core::tx::{Action, SignedTransaction};
use milk_core::tx::{BrandAction, TokenomicsAction};
use milk_core::{Address, Amount, ChainId, Hash};
use milk_store::ChainStore;
use serde::Deserialize;
use std::sync::Arc;

type Shared = Arc<Node>;

/// The partner routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/partners/{chain}/links", post(link))
        .route("/v1/partners/{chain}/conversions", post(convert))
        .route(
            "/v1/partners/{chain}/conversions/{reference}",
            get(conversion),
        )
        .route(
            "/v1/partners/{chain}/conversion-batches",
            post(batches::convert_batch),
        )
        .route(
            "/v1/partners/{chain}/conversion-batches/{tx}",
            get(batches::conversion_batch),
        )
        .route("/v1/partners/{chain}/redemptions", post(redeem))
        .route(
            "/v1/partners/{chain}/redemption-batches",
            post(batches::redeem_batch),
        )
        .route(
            "/v1/partners/{chain}/redemptions/{order_id}",
            get(redemption),
        )
        .route("/v1/partners/{chain}/refunds", post(refund))
        .route("/v1/partners/{chain}/coupons", post(coupons::report))
        .route("/v1/partners/{chain}/coupon-refunds", post(coupons::refund))
        .route("/v1/partners/{chain}/supply", get(supply))
        .route(
            "/v1/partners/{chain}/auditors",
            post(grant_auditor).get(list_auditors),
        )
        .route("/v1/partners/{chain}/auditors/{id}", delete(revoke_auditor))
        .route("/v1/partners/{chain}/events", get(events))
        .route("/v1/partners/{chain}/expiring", get(expiring))
        .route("/v1/accounts/{address}/expiring", get(lots::own_expiring))
        .route("/v1/partners/{chain}/sweeps", post(sweep))
        .route("/v1/partners/{chain}/policy", post(set_policy))
}

/// Checks the credential and returns the partner's chain. Auditors may read; only the
/// partner and the operator may submit.
pub(crate) fn authorize(
    node: &Node,
    headers: &HeaderMap,
    chain: &str,
    write: bool,
) -> Result<Arc<ChainHandle>, ApiError> {
    let handle = chain_of(node, chain)?;
    if handle.spec.partner.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_a_partner_chain",
            format!("{chain} is not a partner's brand chain"),
        ));
    }
    let caller = caller(node, headers)?;
    if caller == Caller::Anonymous {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the partner's API credential as `Authorization: Bearer <token>`",
        ));
    }
    require_chain(&caller, &handle)?;
    if write && matches!(caller, Caller::Credential(Principal::Auditor(_))) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "auditors may read, not submit",
        ));
    }
    Ok(handle)
}

/// Parses the body's transaction and checks it is the kind this endpoint takes.
pub(crate) fn partner_tx(
    handle: &ChainHandle,
    body: Result<Bytes, BytesRejection>,
    kind: &str,
    is_kind: impl Fn(&Action) -> bool,
) -> Result<(SignedTransaction, Bytes), ApiError> {
    let body = body.map_err(body_error)?;
    let req: PartnerTxRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("expected {{\"tx\": hex}}: {e}"))
    })?;
    parse_partner_tx(handle, &req.tx, kind, is_kind)
}

/// Reads one signed transaction, hex, and checks it is the kind this endpoint takes, for
/// this chain.
fn parse_partner_tx(
    handle: &ChainHandle,
    text: &str,
    kind: &str,
    is_kind: impl Fn(&Action) -> bool,
) -> Result<(SignedTransaction, Bytes), ApiError> {
    let bytes = hex::decode(text.trim())
        .map_err(|e| ApiError::bad_request("malformed_tx", format!("not hex: {e}")))?;
    let tx = SignedTransaction::decode_checked(&bytes)
        .map_err(|e| ApiError::bad_request("malformed_tx", e.to_string()))?;
    if tx.tx.chain != handle.spec.id {
        return Err(ApiError::bad_request(
            "wrong_chain",
            format!(
                "transaction is for chain {}, not {}",
                tx.tx.chain, handle.spec.id
            ),
        ));
    }
    if !is_kind(&tx.tx.action) {
        return Err(ApiError::bad_request(
            "wrong_action",
            format!("this endpoint takes a {kind} transaction"),
        ));
    }
    Ok((tx, Bytes::from(bytes)))
}

/// Submits one transaction and waits for its block: the committed result, or the chain's
/// refusal as an error.
pub(crate) async fn submit_one(
    node: &Shared,
    handle: &ChainHandle,
    bytes: Bytes,
) -> Result<SubmitResult, ApiError> {
    let r = submit_items(node, handle, vec![Ok(bytes)], true)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("submit", "no result"))?;
    match (&r.error, r.status.as_str()) {
        (Some(e), _) => Err(ApiError::refused(e)),
        (None, "committed") => Ok(r),
        _ => Err(ApiError::new(
            StatusCode::ACCEPTED,
            "pending",
            format!(
                "accepted but not yet committed; poll /v1/chains/{}/txs/{}",
                handle.spec.id,
                r.id.unwrap_or_default()
            ),
        )),
    }
}

fn read_record(handle: &ChainHandle, key: &[u8]) -> Result<Option<Vec<u8>>, ApiError> {
    handle
        .store
        .record(key)
        .map_err(|e| ApiError::internal("record", e))
}

fn tx_ref(handle: &ChainHandle, id: &Hash) -> Result<TxRef, ApiError> {
    let loc = handle
        .store
        .tx_location(id)
        .map_err(|e| ApiError::internal("tx location", e))?
        .ok_or_else(|| ApiError::internal("tx location", "recorded transaction is not indexed"))?;
    Ok(TxRef {
        id: id.to_hex(),
        height: loc.height,
        index: loc.index,
    })
}

/// Links a customer's wallet: the customer-signed link, countersigned by the partner.
#[utoipa::path(post, path = "/v1/partners/{chain}/links",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = PartnerTxRequest,
    responses((status = 200, description = "Linked", body = SubmitResult),
        (status = 401, description = "No or unknown credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Another partner's credential", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse)))]
async fn link(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitResult>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (tx, bytes) = partner_tx(handle, body, "link", |a| {
        matches!(a, Action::Brand(BrandAction::Link { .. }))
    })?;
    let result = submit_one(&node, handle, bytes).await?;
    // The user's reward for linking, from the user-distribution bucket, once per partner;
    // paid in the background (a node restart does not pay a missed one again).
    if node.genesis.membership.is_some()
        && let Some(lane) = crate::lane::get(&node, &milk_core::ChainId::center())
    {
        let Action::Brand(BrandAction::Link { customer_hash, .. }) = &tx.tx.action else {
            unreachable!("checked by partner_tx")
        };
        let link = milk_core::brand::link_seal(&handle.spec.id, &tx.tx.sender, customer_hash);
        let action = Action::Tokenomics(TokenomicsAction::RewardLink {
            user: tx.tx.sender,
            link,
        });
        tokio::spawn(async move {
            if let Err(e) = lane.submit(action).await
                && !matches!(
                    e.chain_error(),
                    Some(milk_core::state::TxError::Exchange(
                        ExchangeError::TradeClosed
                    ))
                )
            {
                tracing::warn!(error = %e, "linking reward not paid");
            }
        });
    }
    Ok(Json(result))
}

fn conversion_receipt(
    handle: &ChainHandle,
    reference: &str,
    c: &Conversion,
    replayed: bool,
) -> Result<ConversionReceipt, ApiError> {
    Ok(ConversionReceipt {
        reference: reference.to_owned(),
        to: c.to.to_string(),
        mileage: c.mileage,
        amount: c.amount.units().to_string(),
        tx: tx_ref(handle, &c.tx)?,
        replayed,
    })
}

/// A committed record, decoded.
fn read_decoded<T>(
    handle: &ChainHandle,
    key: &[u8],
    what: &str,
    decode: impl Fn(&[u8]) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    read_record(handle, key)?
        .map(|v| decode(&v).ok_or_else(|| ApiError::internal(what, "malformed record")))
        .transpose()
}

fn recorded_conversion(
    handle: &ChainHandle,
    reference: &str,
) -> Result<Option<Conversion>, ApiError> {
    read_decoded(
        handle,
        &brand_record::conversion(reference),
        "conversion",
        Conversion::from_record,
    )
}

/// The first result for a reference, or a conflict if the retry asks for something else.
fn replay(
    handle: &ChainHandle,
    reference: &str,
    to: &Address,
    mileage: u64,
    first: &Conversion,
) -> Result<ConversionReceipt, ApiError> {
    if first.to == *to && first.mileage == mileage {
        conversion_receipt(handle, reference, first, true)
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "reference_conflict",
            format!("reference {reference:?} was already used for a different conversion"),
        ))
    }
}

/// Refuses a conversion at once when the center chain has suspended the partner, or it is
/// leaving (the brand chain's own rules refuse it too, once the standing is recorded there):
/// its customers' redemptions go on.
fn check_issuing(node: &Node, chain: &ChainId) -> Result<(), ApiError> {
    use milk_core::alliance::Status;
    let status = crate::alliance::registered(node, chain)?.map(|m| m.status);
    let (code, why) = match status {
        Some(Status::Suspended) => (
            "partner_suspended",
            "is suspended: conversions are halted; redemptions and refunds go on",
        ),
        Some(Status::Exiting | Status::Exited) => (
            "partner_exiting",
            "is leaving the alliance: conversions have stopped; redemptions go on until its final date",
        ),
        _ => return Ok(()),
    };
    Err(ApiError::new(
        StatusCode::CONFLICT,
        code,
        format!("partner {chain} {why}"),
    ))
}

/// Converts a customer's mileage into Brand Tokens: a conversion signed by the partner's
/// issuer key. Idempotent by the partner's reference id: a retry returns the first result
/// (`replayed: true`); the same reference with a different payload is a conflict.
#[utoipa::path(post, path = "/v1/partners/{chain}/conversions",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = PartnerTxRequest,
    responses((status = 200, description = "Converted (or the first result of this reference)", body = ConversionReceipt),
        (status = 401, description = "No or unknown credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Another partner's credential", body = crate::error::ErrorResponse),
        (status = 409, description = "Reference already used for another conversion, or the partner is suspended (`partner_suspended`) or leaving (`partner_exiting`)", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse)))]
async fn convert(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ConversionReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (tx, bytes) = partner_tx(handle, body, "convert", |a| {
        matches!(a, Action::Brand(BrandAction::Convert { .. }))
    })?;
    let Action::Brand(BrandAction::Convert {
        to,
        mileage,
        reference,
    }) = &tx.tx.action
    else {
        unreachable!("checked by partner_tx")
    };
    // Concurrent retries of this reference take turns: each later one finds the first's.
    let _turn = node
        .inflight
        .turn(&handle.spec.id, "conversion", reference)
        .await;
    if let Some(first) = recorded_conversion(handle, reference)? {
        return replay(handle, reference, to, *mileage, &first).map(Json);
    }
    check_issuing(&node, &handle.spec.id)?;
    match submit_one(&node, handle, bytes).await {
        Ok(_) => {
            let c = recorded_conversion(handle, reference)?
                .ok_or_else(|| ApiError::internal("conversion", "committed but not recorded"))?;
            conversion_receipt(handle, reference, &c, c.tx != tx.tx.id()).map(Json)
        }
        Err(e) => match recorded_conversion(handle, reference)? {
            // A concurrent retry won the race: answer as a retry.
            Some(first) => replay(handle, reference, to, *mileage, &first).map(Json),
            None => Err(e),
        },
    }
}

/// A conversion by the partner's reference id.
#[utoipa::path(get, path = "/v1/partners/{chain}/conversions/{reference}",
    params(("chain" = String, Path, description = "The partner's brand chain"), ("reference" = String, Path, description = "The partner's reference id")),
    responses((status = 200, description = "The conversion", body = ConversionReceipt),
        (status = 404, description = "No conversion with this reference", body = crate::error::ErrorResponse)))]
async fn conversion(
    State(node): State<Shared>,
    Path((chain, reference)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<ConversionReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, false)?;
    let c = recorded_conversion(handle, &reference)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_conversion",
            format!("no conversion with reference {reference:?}"),
        )
    })?;
    conversion_receipt(handle, &reference, &c, false).map(Json)
}

fn recorded_redemption(
    handle: &ChainHandle,
    order_id: &str,
) -> Result<Option<Redemption>, ApiError> {
    read_decoded(
        handle,
        &brand_record::redemption(order_id),
        "redemption",
        Redemption::from_record,
    )
}

fn redemption_receipt(
    handle: &ChainHandle,
    order_id: &str,
    r: &Redemption,
    tx: Option<TxRef>,
) -> RedemptionReceipt {
    let policy = &handle
        .spec
        .partner
        .as_ref()
        .expect("a partner chain")
        .policy;
    let decimals = handle.spec.assets[0].decimals;
    // KRW value = units × R / 10^decimals, rounded down: the receipt never overstates it.
    let value = r
        .amount
        .units()
        .checked_mul(u128::from(policy.redemption_value_krw))
        .map(|v| v / 10u128.pow(decimals.into()));
    RedemptionReceipt {
        order_id: order_id.to_owned(),
        redeemer: r.redeemer.to_string(),
        amount: r.amount.units().to_string(),
        value_krw: value.map_or_else(|| "overflow".to_owned(), |v| v.to_string()),
        refunded: r.refunded,
        tx,
    }
}

fn receipt_after(
    handle: &ChainHandle,
    order_id: &str,
    result: &SubmitResult,
) -> Result<RedemptionReceipt, ApiError> {
    let r = recorded_redemption(handle, order_id)?
        .ok_or_else(|| ApiError::internal("redemption", "committed but not recorded"))?;
    let tx = TxRef {
        id: result.id.clone().unwrap_or_default(),
        height: result.height.unwrap_or_default(),
        index: result.index.unwrap_or_default(),
    };
    Ok(redemption_receipt(handle, order_id, &r, Some(tx)))
}

/// Takes a customer's redemption (signed by the customer): the tokens are burned and the
/// partner owes the service at value R per unit. Returns the receipt.
#[utoipa::path(post, path = "/v1/partners/{chain}/redemptions",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = PartnerTxRequest,
    responses((status = 200, description = "Redeemed", body = RedemptionReceipt),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse)))]
async fn redeem(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RedemptionReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (tx, bytes) = partner_tx(handle, body, "redeem", |a| {
        matches!(a, Action::Brand(BrandAction::Redeem { .. }))
    })?;
    let Action::Brand(BrandAction::Redeem { order_id, .. }) = &tx.tx.action else {
        unreachable!("checked by partner_tx")
    };
    let result = submit_one(&node, handle, bytes).await?;
    receipt_after(handle, order_id, &result).map(Json)
}

/// Refunds a redemption (signed by the partner's issuer key): re-mints it, once.
#[utoipa::path(post, path = "/v1/partners/{chain}/refunds",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = PartnerTxRequest,
    responses((status = 200, description = "Refunded", body = RedemptionReceipt),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse)))]
async fn refund(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RedemptionReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (tx, bytes) = partner_tx(handle, body, "refund", |a| {
        matches!(a, Action::Brand(BrandAction::Refund { .. }))
    })?;
    let Action::Brand(BrandAction::Refund { order_id }) = &tx.tx.action else {
        unreachable!("checked by partner_tx")
    };
    let result = submit_one(&node, handle, bytes).await?;
    receipt_after(handle, order_id, &result).map(Json)
}

/// A redemption by the partner's order id.
#[utoipa::path(get, path = "/v1/partners/{chain}/redemptions/{order_id}",
    params(("chain" = String, Path, description = "The partner's brand chain"), ("order_id" = String, Path, description = "The partner's order id")),
    responses((status = 200, description = "The redemption", body = RedemptionReceipt),
        (status = 404, description = "No redemption with this order id", body = crate::error::ErrorResponse)))]
async fn redemption(
    State(node): State<Shared>,
    Path((chain, order_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<RedemptionReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, false)?;
    let r = recorded_redemption(handle, &order_id)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_redemption",
            format!("no redemption with order id {order_id:?}"),
        )
    })?;
    Ok(Json(redemption_receipt(handle, &order_id, &r, None)))
}

/// Issued, redeemed, refunded, outstanding, and what TICA holds.
#[utoipa::path(get, path = "/v1/partners/{chain}/supply",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    responses((status = 200, description = "The report", body = SupplyReport),
        (status = 401, description = "No or unknown credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Another partner's credential", body = crate::error::ErrorResponse)))]
async fn supply(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SupplyReport>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, false)?;
    let asset = &handle.spec.assets[0];
    let outstanding = handle
        .store
        .supplies(&[asset.symbol])
        .map_err(|e| ApiError::internal("supply", e))?[0];
    let (held, _) = handle
        .store
        .account(&node.genesis.tica_inventory, &[asset.symbol])
        .map_err(|e| ApiError::internal("supply", e))?;
    let totals = read_decoded(
        handle,
        &brand_record::totals(),
        "totals",
        Totals::from_record,
    )?
    .unwrap_or_default();
    let customers = outstanding.checked_sub(held[0]).unwrap_or(Amount::ZERO);
    let standing = handle.store.record(&[brand_record::STANDING]);
    let suspended = standing
        .map_err(|e| ApiError::internal("supply", e))?
        .is_some();
    let exit = read_decoded(handle, &[brand_record::EXIT], "exit", |v| {
        milk_core::brand::ExitRecord::from_bytes(v)
    })?;
    Ok(Json(SupplyReport {
        chain: handle.spec.id.to_string(),
        asset: asset.symbol.to_string(),
        decimals: asset.decimals,
        outstanding: outstanding.units().to_string(),
        issued: totals.issued.units().to_string(),
        redeemed: totals.redeemed.units().to_string(),
        refunded: totals.refunded.units().to_string(),
        expired: totals.expired.units().to_string(),
        held_by_tica: held[0].units().to_string(),
        held_by_customers: customers.units().to_string(),
        suspended,
        leaving_until_ms: exit.map(|e| e.final_ms),
        exit_closed: exit.is_some_and(|e| e.closed),
    }))
}

/// Grants an auditor read access to this brand chain.
#[utoipa::path(post, path = "/v1/partners/{chain}/auditors",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    responses((status = 201, description = "Granted", body = AuditorGrant),
        (status = 403, description = "Not this chain's partner or the operator", body = crate::error::ErrorResponse)))]
async fn grant_auditor(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<AuditorGrant>), ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let secret: [u8; 32] = rand::random();
    let token = format!("mka_{}", hex::encode(secret));
    let id = node
        .credentials
        .grant_auditor(&handle.spec.id, &token)
        .map_err(|e| ApiError::internal("grant auditor", e))?;
    Ok((
        StatusCode::CREATED,
        Json(AuditorGrant {
            chain: handle.spec.id.to_string(),
            id,
            token,
        }),
    ))
}

/// The ids of this brand chain's auditor credentials.
#[utoipa::path(get, path = "/v1/partners/{chain}/auditors",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    responses((status = 200, description = "Credential ids", body = Vec<String>)))]
async fn list_auditors(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<String>>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    Ok(Json(node.credentials.auditors(&handle.spec.id)))
}

/// Revokes an auditor credential.
#[utoipa::path(delete, path = "/v1/partners/{chain}/auditors/{id}",
    params(("chain" = String, Path, description = "The partner's brand chain"), ("id" = String, Path, description = "The credential's id")),
    responses((status = 200, description = "Revoked"),
        (status = 404, description = "No such credential", body = crate::error::ErrorResponse)))]
async fn revoke_auditor(
    State(node): State<Shared>,
    Path((chain, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let revoked = node
        .credentials
        .revoke_auditor(&handle.spec.id, &id)
        .map_err(|e| ApiError::internal("revoke auditor", e))?;
    if !revoked {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_credential",
            format!("no auditor credential {id}"),
        ));
    }
    Ok(Json(serde_json::json!({ "revoked": id })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EventQuery {
    /// Return events after this id (`height:index`); from the start if absent.
    after: Option<String>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<usize>,
}

pub(crate) fn parse_cursor(text: &str) -> Result<(u64, u32), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "malformed_cursor",
            format!("{text:?} is not an event id (height:index)"),
        )
    };
    let (h, i) = text.split_once(':').ok_or_else(bad)?;
    Ok((h.parse().map_err(|_| bad())?, i.parse().map_err(|_| bad())?))
}

/// The partner's events, in chain order, from committed blocks: a feed a partner polls and
/// resumes from its last id, so nothing is missed (at-least-once, with stable ids).
#[utoipa::path(get, path = "/v1/partners/{chain}/events",
    params(("chain" = String, Path, description = "The partner's brand chain"), EventQuery),
    responses((status = 200, description = "Events after the cursor", body = EventPage),
        (status = 400, description = "Malformed cursor", body = crate::error::ErrorResponse)))]
async fn events(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    q: Result<axum::extract::Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, false)?;
    let axum::extract::Query(q) =
        q.map_err(|e| ApiError::bad_request("malformed_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let after = q.after.as_deref().map(parse_cursor).transpose()?;
    let out = event_page(handle, after, limit)?;
    let next = out
        .last()
        .map(|e| e.id.clone())
        .or(q.after)
        .unwrap_or_else(|| "0:0".to_owned());
    Ok(Json(EventPage { events: out, next }))
}

/// Up to `limit` committed events of a brand chain after the cursor `(height, index)` (from
/// the start without one), oldest first.
pub(crate) fn event_page(
    handle: &ChainHandle,
    after: Option<(u64, u32)>,
    limit: usize,
) -> Result<Vec<PartnerEvent>, ApiError> {
    let head = handle.head().height;
    // Genesis (height 0) holds no transactions; a cursor points at the last event seen.
    let (mut height, mut skip) = match after {
        None | Some((0, _)) => (1, 0),
        Some((h, i)) => (h, i as usize + 1),
    };
    let mut out = Vec::new();
    while height <= head && out.len() < limit {
        let block = crate::access::load_block(handle, height)?;
        for (index, tx) in block.txs.iter().enumerate().skip(skip) {
            if out.len() >= limit {
                break;
            }
            let kind = tx.tx.action.kind();
            out.push(PartnerEvent {
                id: format!("{height}:{index}"),
                kind: kind.to_owned(),
                time_ms: block.header.time_ms,
                tx: tx.tx.id().to_hex(),
                action: serde_json::to_value(&tx.tx.action)
                    .map_err(|e| ApiError::internal("event", e))?,
                sender: tx.tx.sender.to_string(),
            });
        }
        skip = 0;
        height += 1;
    }
    Ok(out)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExpiringQuery {
    /// Lots expiring within this many days from now (default 30); 0 for the expired only.
    within_days: Option<u64>,
}

/// Lots that have expired or will within N days: the warning to give customers ahead, and
/// what a sweep would retire now.
#[utoipa::path(get, path = "/v1/partners/{chain}/expiring",
    params(("chain" = String, Path, description = "The partner's brand chain"), ExpiringQuery),
    responses((status = 200, description = "Lots, soonest first", body = Vec<ExpiringLot>)))]
async fn expiring(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    q: Result<axum::extract::Query<ExpiringQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ExpiringLot>>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, false)?;
    let axum::extract::Query(q) =
        q.map_err(|e| ApiError::bad_request("malformed_query", e.body_text()))?;
    expiring_lots(handle, node.clock.now_ms(), q.within_days.unwrap_or(30)).map(Json)
}

/// The lots of a brand chain that have expired or expire within `within_days` of `now`,
/// soonest first.
pub(crate) fn expiring_lots(
    handle: &ChainHandle,
    now: u64,
    within_days: u64,
) -> Result<Vec<ExpiringLot>, ApiError> {
    use milk_core::brand::DAY_MS;
    let horizon = now.saturating_add(within_days.saturating_mul(DAY_MS));
    let records = handle
        .store
        .records_with_prefix(&brand_record::lots())
        .map_err(|e| ApiError::internal("lots", e))?;
    let mut lots = Vec::new();
    for (k, v) in records {
        let (Some(account), Some(day), Some(amount)) = (
            k.get(1..33)
                .and_then(|b| Address::from_bytes(b.try_into().ok()?).ok()),
            k.get(33..41)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes),
            v.as_slice().try_into().ok().map(u128::from_be_bytes),
        ) else {
            return Err(ApiError::internal("lots", "malformed lot record"));
        };
        let at = day.saturating_mul(DAY_MS);
        if at <= horizon {
            lots.push(ExpiringLot {
                account: account.to_string(),
                amount: amount.to_string(),
                expires_at_ms: at,
                expired: at <= now,
            });
        }
    }
    lots.sort_by_key(|l| l.expires_at_ms);
    Ok(lots)
}

/// Retires an account's expired tokens: an expiry signed by the partner's issuer key.
#[utoipa::path(post, path = "/v1/partners/{chain}/sweeps",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = PartnerTxRequest,
    responses((status = 200, description = "Swept", body = SubmitResult),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse)))]
async fn sweep(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitResult>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (_, bytes) = partner_tx(handle, body, "expire", |a| {
        matches!(a, Action::Brand(BrandAction::Expire { .. }))
    })?;
    submit_one(&node, handle, bytes).await.map(Json)
}

/// Changes the partner's terms (whether its token may be transferred, its conversion
/// limits): a `SetPolicy` signed by the partner's issuer key. They apply from the next
/// transaction on the chain.
#[utoipa::path(post, path = "/v1/partners/{chain}/policy",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = PartnerTxRequest,
    responses((status = 200, description = "The new terms are in force", body = SubmitResult),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse)))]
pub(crate) async fn set_policy(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitResult>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (_, bytes) = partner_tx(handle, body, "set_policy", |a| {
        matches!(a, Action::Brand(BrandAction::SetPolicy { .. }))
    })?;
    submit_one(&node, handle, bytes).await.map(Json)
}
