//! The alliance as the API shows it: partners and applicants from the center chain's
//! registry, and the operator's issuing of a new partner's API credential.
//!
//! Applying, approving, signing the agreement, suspending and reinstating are ordinary
//! signed center-chain transactions (`POST /v1/chains/center/txs`): the registry is public,
//! like the rest of the center chain.

pub mod anchoring;
pub mod standing;

use crate::access::require_operator;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::node::Node;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
pub use milk_api::alliance::{MemberView, PartnerCredential};
use milk_core::ChainId;
use milk_core::alliance::{Member, PARTNER_RECORD, Status};
use milk_core::codec::Decode;
use milk_store::ChainStore;
use std::sync::Arc;

type Shared = Arc<Node>;

/// The alliance routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/alliance", get(members))
        .route("/v1/alliance/{chain}", get(member))
        .route("/v1/partners/{chain}/credentials", post(issue_credential))
}

/// The registry's members, read from the center chain's committed state.
pub(crate) fn registry(node: &Node) -> Result<Vec<Member>, ApiError> {
    let center = node
        .chain(&ChainId::center())
        .expect("every node hosts the center chain");
    let records = center
        .store
        .records_with_prefix(&[PARTNER_RECORD])
        .map_err(|e| ApiError::internal("alliance", e))?;
    records
        .iter()
        .map(|(_, v)| Member::from_bytes(v).map_err(|e| ApiError::internal("alliance", e)))
        .collect()
}

/// One partner's registry record, if it has one.
pub(crate) fn registered(node: &Node, chain: &ChainId) -> Result<Option<Member>, ApiError> {
    let center = node
        .chain(&ChainId::center())
        .expect("every node hosts the center chain");
    let mut key = vec![PARTNER_RECORD];
    key.extend_from_slice(chain.as_str().as_bytes());
    center
        .store
        .record(&key)
        .map_err(|e| ApiError::internal("alliance", e))?
        .map(|v| Member::from_bytes(&v).map_err(|e| ApiError::internal("alliance", e)))
        .transpose()
}

fn view(node: &Node, m: &Member) -> MemberView {
    let a = &m.application;
    let chain_spec = if node.genesis.chain(&a.chain).is_some() {
        None
    } else {
        node.genesis.admitted_chain(m)
    };
    MemberView {
        chain: a.chain.to_string(),
        name: a.name.clone(),
        sector: a.sector.clone(),
        symbol: a.symbol.to_string(),
        decimals: a.decimals,
        status: m.status,
        exit: m.exit.map(Into::into),
        issuer: m.issuer.to_string(),
        approvals: m.approvals.iter().map(ToString::to_string).collect(),
        quorum: m.quorum,
        admitted_at_ms: m.admitted_at_ms,
        initial_float: a.initial_float.to_decimal(a.decimals),
        policy: a.policy.clone(),
        hosted: node.chain(&a.chain).is_some(),
        chain_spec,
    }
}

/// Every partner and applicant.
#[utoipa::path(get, path = "/v1/alliance",
    responses((status = 200, description = "Partners and applicants, by chain", body = Vec<MemberView>)))]
async fn members(State(node): State<Shared>) -> Result<Json<Vec<MemberView>>, ApiError> {
    Ok(Json(
        registry(&node)?.iter().map(|m| view(&node, m)).collect(),
    ))
}

/// One partner or applicant.
#[utoipa::path(get, path = "/v1/alliance/{chain}",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    responses((status = 200, description = "The record", body = MemberView),
        (status = 404, description = "No such partner or applicant", body = crate::error::ErrorResponse)))]
async fn member(
    State(node): State<Shared>,
    Path(chain): Path<String>,
) -> Result<Json<MemberView>, ApiError> {
    let id: ChainId = chain
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_chain_id", e))?;
    let m = registered(&node, &id)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_partner",
            format!("no partner or applicant {id}"),
        )
    })?;
    Ok(Json(view(&node, &m)))
}

/// Issues an API credential for an admitted partner (operator only).
#[utoipa::path(post, path = "/v1/partners/{chain}/credentials",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    responses((status = 201, description = "Issued", body = PartnerCredential),
        (status = 403, description = "Not the operator", body = crate::error::ErrorResponse),
        (status = 404, description = "No admitted partner with this chain", body = crate::error::ErrorResponse)))]
async fn issue_credential(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<PartnerCredential>), ApiError> {
    require_operator(&node, &headers, "issuing partner credentials")?;
    let id: ChainId = chain
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_chain_id", e))?;
    let admitted = registered(&node, &id)?.is_some_and(|m| m.status != Status::Applied);
    if !admitted || node.chain(&id).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_partner",
            format!("no admitted partner {id} on this node"),
        ));
    }
    let secret: [u8; 32] = rand::random();
    let token = format!("mkp_{}", hex::encode(secret));
    let credential = node
        .credentials
        .grant(&Principal::Partner(id.clone()), &token)
        .map_err(|e| ApiError::internal("issue credential", e))?;
    Ok((
        StatusCode::CREATED,
        Json(PartnerCredential {
            chain: id.to_string(),
            id: credential,
            token,
        }),
    ))
}
