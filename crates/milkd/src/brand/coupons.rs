//! Coupon payments through the partner API. The partner's issuer key signs the report (or
//! the refund) for its own chain; the node commits it there, then credits (or takes back)
//! the LZM it earns on the center chain, under the report's seal, through the operator's
//! lane. A retried report or refund answers what the first did; a stop between the two
//! steps is caught up by the operator's node (`membership::pack::settle_missed_coupons`).

use super::{Shared, authorize, partner_tx, submit_one};
use crate::error::ApiError;
use crate::node::{ChainHandle, Node};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
pub use milk_api::partner::CouponReceipt;
use milk_core::brand::coupon::{CouponReport, report_key};
use milk_core::membership::{Reason, record};
use milk_core::tx::{Action, BrandAction, MembershipAction};
use milk_core::{Address, ChainId};
use milk_store::ChainStore;

/// Reports a customer's coupon payment: on the partner's chain, then its LZM on the center
/// chain. Idempotent by coupon id.
#[utoipa::path(post, path = "/v1/partners/{chain}/coupons",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = super::PartnerTxRequest,
    responses((status = 200, description = "Reported and credited (or the first result of this coupon id)", body = CouponReceipt),
        (status = 401, description = "No or unknown credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Another partner's credential", body = crate::error::ErrorResponse),
        (status = 409, description = "The coupon id was reported for another payment (`coupon_used`)", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse),
        (status = 503, description = "Reported, but its LZM is not credited yet (`coupon_pending`): the operator's node catches up", body = crate::error::ErrorResponse)))]
pub(crate) async fn report(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CouponReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (tx, bytes) = partner_tx(handle, body, "report_coupon", |a| {
        matches!(a, Action::Brand(BrandAction::ReportCoupon { .. }))
    })?;
    let Action::Brand(BrandAction::ReportCoupon {
        user,
        krw,
        coupon_id,
    }) = &tx.tx.action
    else {
        unreachable!("checked by partner_tx")
    };
    let _turn = node
        .inflight
        .turn(&handle.spec.id, "coupon", coupon_id)
        .await;
    let first = reported(handle, coupon_id)?;
    let report = commit_once(&node, handle, bytes, coupon_id, first).await?;
    if report.user != *user || report.krw != *krw {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "coupon_used",
            format!("coupon {coupon_id} was reported for another payment"),
        ));
    }
    settle_on_center(&node, &report).await?;
    receipt(&node, coupon_id, &report).map(Json)
}

/// Reports the refund of a reported coupon payment: on the partner's chain, then the LZM it
/// earned taken back on the center chain. Idempotent by coupon id.
#[utoipa::path(post, path = "/v1/partners/{chain}/coupon-refunds",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = super::PartnerTxRequest,
    responses((status = 200, description = "Refunded, and its LZM taken back", body = CouponReceipt),
        (status = 401, description = "No or unknown credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Another partner's credential", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse),
        (status = 503, description = "Refunded, but its LZM is not taken back yet (`coupon_pending`)", body = crate::error::ErrorResponse)))]
pub(crate) async fn refund(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CouponReceipt>, ApiError> {
    let handle = &authorize(&node, &headers, &chain, true)?;
    let (tx, bytes) = partner_tx(handle, body, "refund_coupon", |a| {
        matches!(a, Action::Brand(BrandAction::RefundCoupon { .. }))
    })?;
    let Action::Brand(BrandAction::RefundCoupon { user, coupon_id }) = &tx.tx.action else {
        unreachable!("checked by partner_tx")
    };
    let _turn = node
        .inflight
        .turn(&handle.spec.id, "coupon", coupon_id)
        .await;
    let first = reported(handle, coupon_id)?.filter(|r| r.user == *user && r.refunded);
    let report = commit_once(&node, handle, bytes, coupon_id, first).await?;
    settle_on_center(&node, &report).await?;
    receipt(&node, coupon_id, &report).map(Json)
}

/// A coupon's report on the partner's chain, if there is one.
fn reported(handle: &ChainHandle, coupon_id: &str) -> Result<Option<CouponReport>, ApiError> {
    let value = (handle.store.record(&report_key(coupon_id)))
        .map_err(|e| ApiError::internal("coupon", e))?;
    value
        .map(|v| CouponReport::from_bytes(&v).ok_or_else(|| lost("record")))
        .transpose()
}

/// The coupon's report as `first` found it (a retry), or as the partner's transaction
/// leaves it once committed.
async fn commit_once(
    node: &Shared,
    handle: &ChainHandle,
    bytes: Bytes,
    coupon_id: &str,
    first: Option<CouponReport>,
) -> Result<CouponReport, ApiError> {
    if let Some(first) = first {
        return Ok(first);
    }
    submit_one(node, handle, bytes).await?;
    reported(handle, coupon_id)?.ok_or_else(|| lost("report"))
}

fn lost(what: &str) -> ApiError {
    ApiError::internal("coupon", format!("the committed {what} is not recorded"))
}

/// The center-chain step a coupon report calls for and that is not taken yet: its credit,
/// then, once refunded, taking it back.
pub fn center_step(node: &Node, report: &CouponReport) -> Option<Action> {
    let center = node.chain(&ChainId::center())?;
    let state = center.store.record(&record::coupon(&report.seal)).ok()?;
    let (user, seal) = (report.user, report.seal);
    // Its record on the center chain: the member, then whether the credit was taken back.
    match state.as_deref().map(|v| v.get(32).copied()) {
        None => Some(MembershipAction::CreditCoupon {
            user,
            krw: report.krw,
            seal,
        }),
        Some(Some(0)) if report.refunded => Some(MembershipAction::ReverseCoupon { user, seal }),
        _ => None,
    }
    .map(Action::Membership)
}

/// Takes every center-chain step the report calls for, through the operator's lane.
pub async fn settle_on_center(node: &Shared, report: &CouponReport) -> Result<(), ApiError> {
    let pending =
        |why: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "coupon_pending", why);
    let lane = crate::lane::get(node, &ChainId::center())
        .ok_or_else(|| pending("this node cannot credit LZM; the operator's node will".into()))?;
    // At most two steps: the credit, then taking it back.
    for _ in 0..2 {
        let Some(step) = center_step(node, report) else {
            return Ok(());
        };
        lane.submit(step).await.map_err(|e| {
            pending(format!(
                "recorded on the partner's chain; its LZM is not settled yet: {e}"
            ))
        })?;
    }
    Ok(())
}

/// What the report did to the member's LZM, as the center chain now says.
fn receipt(node: &Node, coupon_id: &str, r: &CouponReport) -> Result<CouponReceipt, ApiError> {
    let m = crate::membership::member_records(node, &r.user)?;
    let seal = r.seal.to_hex();
    let sum = |reason: Reason| -> u128 {
        let ours = |c: &milk_core::membership::Credit| c.reason == reason && c.reference == seal;
        m.credits_of(&r.user)
            .filter(ours)
            .map(|c| c.amount.units())
            .sum()
    };
    let user: &Address = &r.user;
    let level = m.level(user, node.clock.now_ms());
    let (credited, taken_back) = (sum(Reason::Coupon), sum(Reason::Reversal));
    Ok(CouponReceipt {
        coupon_id: coupon_id.to_owned(),
        user: user.to_string(),
        krw: r.krw,
        seal,
        refunded: r.refunded,
        lzm_credited: credited.to_string(),
        lzm_taken_back: taken_back.to_string(),
        level: level.name,
        owed: m.debt_of(user).to_string(),
    })
}
