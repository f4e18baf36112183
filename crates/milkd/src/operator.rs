//! TICA's administrative actions through the node: the operator's credential asks, the node
//! signs with the operator's key in its lane. So the key is used by the node alone, and an
//! administrator's action never takes a number the lane has planned.

use crate::access::require_operator;
use crate::error::ApiError;
use crate::node::Node;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use milk_api::submit::{OperatorActionRequest, SubmitResult};
use milk_core::ChainId;
use std::sync::Arc;

type Shared = Arc<Node>;

/// The operator's routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/v1/operator/actions", post(act))
}

/// Signs an action with the operator's key and commits it.
#[utoipa::path(post, path = "/v1/operator/actions",
    request_body = OperatorActionRequest,
    responses((status = 200, description = "Committed", body = SubmitResult),
        (status = 401, description = "No credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Not the operator's credential", body = crate::error::ErrorResponse),
        (status = 404, description = "No such chain", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse),
        (status = 503, description = "This node does not hold the operator's key", body = crate::error::ErrorResponse)))]
pub(crate) async fn act(
    State(node): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<OperatorActionRequest>, JsonRejection>,
) -> Result<Json<SubmitResult>, ApiError> {
    require_operator(&node, &headers, "signing with the operator's key")?;
    let Json(req) = body.map_err(crate::access::json_error)?;
    let chain: ChainId = match req.chain.as_deref() {
        Some(c) => c
            .parse()
            .map_err(|e: String| ApiError::bad_request("bad_chain", e))?,
        None => ChainId::center(),
    };
    let action = req.checked_action(&chain).cloned();
    let action = action.map_err(|e| ApiError::bad_request("malformed_action", e))?;
    if node.chain(&chain).is_none() {
        let msg = format!("no chain {chain} on this node");
        return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_chain", msg));
    }
    let lane = crate::lane::get(&node, &chain).ok_or_else(|| {
        let msg = "this node does not hold the operator's key";
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_operator_key", msg)
    })?;
    match lane.submit(action).await {
        Ok(at) => Ok(Json(SubmitResult {
            id: None,
            status: "committed".into(),
            height: Some(at.height),
            index: Some(at.index),
            error: None,
        })),
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            e.message(),
        )),
    }
}
