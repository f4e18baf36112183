//! Signed webhooks: a partner's events pushed to its own endpoint, at least once, in order.
//!
//! A partner registers an `https://` (or `http://`) endpoint for its brand chain and gets a secret, shown
//! once. The node then posts the chain's committed events (the same ones, with the same ids,
//! as `GET /v1/partners/{chain}/events`) in batches, oldest first. Each request carries
//! `Milk-Signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, so the partner
//! knows it comes from the node and is fresh. A batch is delivered when the endpoint answers
//! 2xx; only then does the webhook's cursor move past it, on disk, so a failure or a restart
//! sends it again (receivers drop ids they have seen). Failures back off exponentially.
//!
//! Once caught up, a webhook with `warn_days` also gets, once per UTC day, an
//! `expiry_warning` event for each lot of tokens that will expire within that many days
//! (id `warning:<day>:<account>:<expires_at_ms>`), so the partner can tell its customers.

use super::hooks::{Delivered, Hook, WebhookView};
use crate::brand::{authorize, event_page, expiring_lots, parse_cursor};
use crate::error::ApiError;
use crate::node::Node;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, post};
use axum::{Json, Router};
use hmac::{KeyInit, Mac};
pub use milk_api::partner::{WebhookCreated, WebhookRequest};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Shared = Arc<Node>;
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The most events in one delivery.
const BATCH: usize = 100;
/// The longest endpoint URL.
const MAX_URL_BYTES: usize = 2_048;
/// The most webhooks one chain may have.
const MAX_PER_CHAIN: usize = 8;
/// How long one delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header's value for `body` sent at `time_ms` with `secret`.
pub fn signature(secret: &[u8], time_ms: u64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(time_ms.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={time_ms},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Delivers due webhooks every `poll`, each endpoint on its own task, until aborted.
pub async fn deliver(node: Arc<Node>, poll: Duration, retry_base: Duration) {
    let max = Duration::from_secs(300);
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for hook in node.webhooks.due(Instant::now()) {
            let node = node.clone();
            tokio::spawn(async move {
                let id = hook.id.clone();
                match deliver_one(&node, hook).await {
                    Ok(delivered) => node.webhooks.delivered(&id, delivered),
                    Err(why) => node.webhooks.failed(&id, why, retry_base, max),
                }
            });
        }
    }
}

/// Sends the next batch of chain events or, once caught up, the day's expiry warnings.
async fn deliver_one(node: &Node, hook: Hook) -> Result<Delivered, String> {
    let Some(handle) = node.chain(&hook.chain) else {
        return Err(format!("chain {} is not hosted here", hook.chain));
    };
    let after = hook
        .cursor
        .as_deref()
        .map(parse_cursor)
        .transpose()
        .map_err(|e| e.message().to_owned())?;
    let events = event_page(&handle, after, BATCH).map_err(|e| e.message().to_owned())?;
    if let Some(last) = events.last().map(|e| e.id.clone()) {
        let events = serde_json::to_value(&events).map_err(|e| e.to_string())?;
        send_batch(node, &hook, events).await?;
        return Ok(Delivered::Events(last));
    }
    let now = node.clock.now_ms();
    let today = now / milk_core::brand::DAY_MS;
    let Some(days) = hook.warn_days else {
        return Ok(Delivered::Nothing);
    };
    if hook.warned_day.is_some_and(|d| d >= today) {
        return Ok(Delivered::Nothing);
    }
    let lots = expiring_lots(&handle, now, u64::from(days)).map_err(|e| e.message().to_owned())?;
    let warnings: Vec<serde_json::Value> = lots
        .iter()
        .filter(|l| !l.expired)
        .map(|l| {
            serde_json::json!({
                "id": format!("warning:{today}:{}:{}", l.account, l.expires_at_ms),
                "kind": "expiry_warning",
                "time_ms": now,
                "account": l.account,
                "amount": l.amount,
                "expires_at_ms": l.expires_at_ms,
            })
        })
        .collect();
    if !warnings.is_empty() {
        send_batch(node, &hook, serde_json::Value::Array(warnings)).await?;
    }
    Ok(Delivered::Warnings(today))
}

/// Posts one signed batch; `Ok` on a 2xx answer.
async fn send_batch(node: &Node, hook: &Hook, events: serde_json::Value) -> Result<(), String> {
    let body = serde_json::to_vec(&serde_json::json!({
        "webhook": hook.id,
        "chain": hook.chain,
        "events": events,
    }))
    .map_err(|e| e.to_string())?;
    let secret = hex::decode(&hook.secret).map_err(|e| format!("stored secret: {e}"))?;
    let signed = signature(&secret, node.clock.now_ms(), &body);
    let url = hook.url.clone();
    let status = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(DELIVERY_TIMEOUT))
            .build()
            .into();
        agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Milk-Signature", &signed)
            .send(&body[..])
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("endpoint answered HTTP {status}"))
    }
}

/// The webhook routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/partners/{chain}/webhooks", post(register).get(list))
        .route("/v1/partners/{chain}/webhooks/{id}", delete(remove))
}

/// Registers an endpoint for this chain's events.
#[utoipa::path(post, path = "/v1/partners/{chain}/webhooks",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    request_body = WebhookRequest,
    responses((status = 201, description = "Registered; the secret is shown once", body = WebhookCreated),
        (status = 400, description = "Not an http(s):// URL, or a malformed cursor", body = crate::error::ErrorResponse),
        (status = 403, description = "Not this chain's partner or the operator", body = crate::error::ErrorResponse),
        (status = 409, description = "Too many webhooks on this chain", body = crate::error::ErrorResponse)))]
async fn register(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Json<WebhookRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<WebhookCreated>), ApiError> {
    let handle = authorize(&node, &headers, &chain, true)?;
    let Json(req) = body.map_err(crate::access::json_error)?;
    check_url(&req.url)?;
    if let Some(after) = &req.after {
        parse_cursor(after)?;
    }
    if req.warn_days.is_some_and(|d| d == 0 || d > 3_650) {
        return Err(ApiError::bad_request(
            "invalid_warn_days",
            "warn_days must be 1 to 3,650",
        ));
    }
    let id = format!("wh_{}", hex::encode(rand::random::<[u8; 8]>()));
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let hook = Hook {
        id: id.clone(),
        chain: handle.spec.id.clone(),
        url: req.url.clone(),
        secret: secret.clone(),
        cursor: req.after,
        warn_days: req.warn_days,
        warned_day: None,
    };
    let added = node
        .webhooks
        .update(|f| {
            if f.hooks.iter().filter(|h| h.chain == hook.chain).count() >= MAX_PER_CHAIN {
                return false;
            }
            f.hooks.push(hook);
            true
        })
        .map_err(|e| ApiError::internal("register webhook", e))?;
    if !added {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_webhooks",
            format!("a chain may have at most {MAX_PER_CHAIN} webhooks; remove one first"),
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreated {
            id,
            url: req.url,
            secret,
        }),
    ))
}

fn check_url(url: &str) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::bad_request("invalid_url", format!("{url:?}: {why}"));
    if url.len() > MAX_URL_BYTES {
        return Err(bad("too long"));
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Err(bad("must start with https:// or http://"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) || url.contains(char::is_control) {
        return Err(bad("names no host"));
    }
    Ok(())
}

/// This chain's webhooks and how their deliveries go (secrets are never shown again).
#[utoipa::path(get, path = "/v1/partners/{chain}/webhooks",
    params(("chain" = String, Path, description = "The partner's brand chain")),
    responses((status = 200, description = "The webhooks", body = Vec<WebhookView>)))]
async fn list(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let handle = authorize(&node, &headers, &chain, true)?;
    Ok(Json(node.webhooks.views(&handle.spec.id)))
}

/// Removes a webhook.
#[utoipa::path(delete, path = "/v1/partners/{chain}/webhooks/{id}",
    params(("chain" = String, Path, description = "The partner's brand chain"), ("id" = String, Path, description = "The webhook's id")),
    responses((status = 200, description = "Removed"),
        (status = 404, description = "No such webhook on this chain", body = crate::error::ErrorResponse)))]
async fn remove(
    State(node): State<Shared>,
    Path((chain, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let handle = authorize(&node, &headers, &chain, true)?;
    let removed = node
        .webhooks
        .update(|f| {
            let before = f.hooks.len();
            f.hooks
                .retain(|h| !(h.id == id && h.chain == handle.spec.id));
            f.hooks.len() != before
        })
        .map_err(|e| ApiError::internal("remove webhook", e))?;
    if !removed {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_webhook",
            format!("no webhook {id} on {chain}"),
        ));
    }
    Ok(Json(serde_json::json!({ "removed": id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_rfc_4231_hmac_sha256_over_time_and_body() {
        // The MAC itself: RFC 4231, test case 2.

        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The header covers the time and the body; changing either changes it.
        let a = signature(b"k", 1, b"{}");
        assert!(a.starts_with("t=1,v1="));
        assert_ne!(a, signature(b"k", 2, b"{}"));
        assert_ne!(a, signature(b"k", 1, b"{ }"));
        assert_ne!(a, signature(b"j", 1, b"{}"));
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_are_taken() {
        assert!(check_url("http://127.0.0.1:9000/hooks").is_ok());
        assert!(check_url("https://partner.example/hooks").is_ok());
        assert!(check_url("http:///nohost").is_err());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url(&format!("http://x/{}", "a".repeat(3_000))).is_err());
    }
}
