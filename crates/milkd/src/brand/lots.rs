//! A customer's own expiring points: on every brand chain whose points expire, the lots the
//! account holds, soonest first, so a wallet can warn before they go.

use super::Shared;
use crate::access::{caller, require_chain};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::node::ChainHandle;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
pub use milk_api::partner::OwnLotView;
use milk_core::Address;
use milk_core::brand::{DAY_MS, record as brand_record};
use milk_store::ChainStore;

/// An account's points that expire, on every brand chain the caller may see them on.
#[utoipa::path(get, path = "/v1/accounts/{address}/expiring",
    params(("address" = String, Path, description = "The account (milk1…)")),
    responses((status = 200, description = "Lots, soonest first", body = Vec<OwnLotView>),
        (status = 400, description = "Not an address", body = crate::error::ErrorResponse),
        (status = 401, description = "Neither the account's signed read nor a credential", body = crate::error::ErrorResponse)))]
pub(crate) async fn own_expiring(
    State(node): State<Shared>,
    Path(address): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<OwnLotView>>, ApiError> {
    let account: Address = address
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_address", e))?;
    let caller = caller(&node, &headers)?;
    if caller == Caller::Anonymous {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a customer's points are theirs to read: sign the read with the account's key, or send a credential",
        ));
    }
    if matches!(&caller, Caller::Account(signer) if *signer != account) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a customer reads only their own points",
        ));
    }
    let now = node.clock.now_ms();
    let mut lots = Vec::new();
    for handle in node.chain_handles() {
        let readable = caller.is_account(&account) || require_chain(&caller, &handle).is_ok();
        if handle.spec.partner.is_some() && readable {
            lots.extend(account_lots(&handle, &account, now)?);
        }
    }
    lots.sort_by_key(|l| l.expires_at_ms);
    Ok(Json(lots))
}

/// The lots `account` holds on one brand chain.
fn account_lots(
    handle: &ChainHandle,
    account: &Address,
    now: u64,
) -> Result<Vec<OwnLotView>, ApiError> {
    let Some(asset) = handle.spec.assets.first() else {
        return Ok(Vec::new());
    };
    let mut prefix = brand_record::lots();
    prefix.extend_from_slice(account.as_bytes());
    let records = handle
        .store
        .records_with_prefix(&prefix)
        .map_err(|e| ApiError::internal("lots", e))?;
    records
        .into_iter()
        .map(|(k, v)| {
            let day = k.get(33..41).and_then(|b| b.try_into().ok());
            let amount = v.as_slice().try_into().ok().map(u128::from_be_bytes);
            let (Some(day), Some(amount)) = (day.map(u64::from_be_bytes), amount) else {
                return Err(ApiError::internal("lots", "malformed lot record"));
            };
            let at = day.saturating_mul(DAY_MS);
            Ok(OwnLotView {
                chain: handle.spec.id.to_string(),
                asset: asset.symbol.to_string(),
                amount: amount.to_string(),
                decimals: asset.decimals,
                expires_at_ms: at,
                expired: at <= now,
            })
        })
        .collect()
}
