//! Who may call what: the caller of a request (a credential, a customer's signed read, or
//! nobody), the operator-only and chain-read checks, and the refusals of malformed requests.

use crate::auth::{
    ACCOUNT_HEADER, Caller, EXPIRES_HEADER, Principal, READ_SIGNATURE_MAX_AGE_MS, SIGNATURE_HEADER,
    read_message,
};
use crate::error::ApiError;
use crate::node::{ChainHandle, Node};
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::{HeaderMap, StatusCode, header};
use milk_core::block::Block;
use milk_core::{Address, ChainId};
use std::sync::Arc;

/// Who is calling: a credential (`Authorization: Bearer …`), a customer who signed the
/// request (`X-Milk-Account`, `X-Milk-Expires`, `X-Milk-Signature`), or nobody.
pub(crate) fn caller(node: &Node, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let unauthorized =
        |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("send a credential as `Authorization: Bearer <token>`"))?;
        return node
            .credentials
            .principal(token.trim())
            .map(Caller::Credential)
            .ok_or_else(|| unauthorized("unknown API credential"));
    }
    let Some(account) = headers.get(ACCOUNT_HEADER) else {
        return Ok(Caller::Anonymous);
    };
    let text = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("");
    let account: Address = account
        .to_str()
        .unwrap_or("")
        .parse()
        .map_err(|e: String| unauthorized(&e))?;
    let expires: u64 = text(EXPIRES_HEADER)
        .parse()
        .map_err(|_| unauthorized("X-Milk-Expires must be Unix milliseconds"))?;
    let now = node.clock.now_ms();
    if expires <= now || expires > now + READ_SIGNATURE_MAX_AGE_MS {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "read_signature_expired",
            "a signed read must expire within the next five minutes",
        ));
    }
    let mut signature = [0u8; 64];
    hex::decode_to_slice(text(SIGNATURE_HEADER), &mut signature)
        .map_err(|_| unauthorized("X-Milk-Signature must be 128 hex digits"))?;
    let message = read_message(&account, expires);
    if !milk_core::keys::verify(&account, &message.0, &milk_core::Signature(signature)) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_read_signature",
            "the read signature does not match the account",
        ));
    }
    Ok(Caller::Account(account))
}

/// Refuses anyone but the operator: 401 without a credential, 403 with another one.
/// `what` names what is refused ("issuing partner credentials", "the treasury").
pub(crate) fn require_operator(
    node: &Node,
    headers: &HeaderMap,
    what: &str,
) -> Result<(), ApiError> {
    match caller(node, headers)? {
        Caller::Credential(Principal::Operator) => Ok(()),
        Caller::Anonymous => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!(
                "{what} is for the operator: send its API credential as `Authorization: Bearer <token>`"
            ),
        )),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("{what} is for the operator only"),
        )),
    }
}

/// Refuses a caller who may not read all of a chain: 401 without a credential, 403 with
/// someone else's.
pub(crate) fn require_chain(caller: &Caller, handle: &ChainHandle) -> Result<(), ApiError> {
    if caller.reads_chain(&handle.spec.id, handle.spec.partner.is_some()) {
        return Ok(());
    }
    let message = format!(
        "chain {} is private to its partner, TICA and the partner's auditors",
        handle.spec.id
    );
    Err(match caller {
        Caller::Anonymous => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message),
        _ => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
    })
}

pub(crate) fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            e.body_text(),
        )
    } else {
        ApiError::bad_request("malformed_body", e.body_text())
    }
}

pub(crate) fn json_error(e: JsonRejection) -> ApiError {
    ApiError::bad_request("malformed_json", e.body_text())
}

pub(crate) fn query_error(e: QueryRejection) -> ApiError {
    ApiError::bad_request("malformed_query", e.body_text())
}

pub(crate) fn chain_of(node: &Node, id: &str) -> Result<Arc<ChainHandle>, ApiError> {
    let id: ChainId = id
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_chain_id", e))?;
    node.chain(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_chain",
            format!("no chain {id} on this node"),
        )
    })
}

/// A block of a chain, or `unknown_block`.
pub(crate) fn load_block(handle: &ChainHandle, height: u64) -> Result<Block, ApiError> {
    use milk_store::ChainStore;
    handle
        .store
        .block(height)
        .map_err(|e| ApiError::internal("block", e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_block",
                format!("chain {} has no block {height}", handle.spec.id),
            )
        })
}
