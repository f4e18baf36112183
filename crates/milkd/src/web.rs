//! The pages the node serves to people: the wallet and the explorer at `/`, their assets
//! under `/assets/`, and `/live`, a server-sent-events feed of new chain heads.
//!
//! The assets are compiled into the binary (no build step, nothing fetched): plain HTML,
//! CSS and JavaScript modules, with one vendored library (`@noble/ed25519`, its licence
//! beside it). The pages talk to the same JSON API as the CLI; keys stay in the browser.
//! A strict content security policy lets the pages load nothing but their own assets and
//! talk to nothing but this node.

use crate::access::caller;
use crate::error::ApiError;
use crate::node::Node;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{self, Stream};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

type Shared = Arc<Node>;

/// One embedded file: its name under `/assets/`, its media type, its bytes.
struct Asset {
    name: &'static str,
    media: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";

/// An asset compiled in from `milkd/web/` (its file `$file`, served as `$name`).
macro_rules! asset {
    ($name:literal, $media:expr) => {
        asset!($name, $name, $media)
    };
    ($name:literal, $file:literal, $media:expr) => {
        Asset {
            name: $name,
            media: $media,
            bytes: include_bytes!(concat!("../web/", $file)),
        }
    };
}

const ASSETS: [Asset; 16] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("ui.js", JS),
    asset!("explorer.js", JS),
    asset!("consoles.js", JS),
    asset!("chart.js", JS),
    asset!("wallet.js", JS),
    asset!("wire.js", JS),
    asset!("ed25519.js", "vendor/ed25519.js", JS),
    asset!("noble-sha3.js", "vendor/noble-sha3.js", JS),
    asset!("noble-u64.js", "vendor/noble-u64.js", JS),
    asset!("noble-utils.js", "vendor/noble-utils.js", JS),
    asset!("noble-crypto.js", "vendor/noble-crypto.js", JS),
    asset!(
        "LICENSE-noble-hashes.txt",
        "vendor/LICENSE-noble-hashes.txt",
        "text/plain; charset=utf-8"
    ),
    asset!(
        "LICENSE-ed25519.txt",
        "vendor/LICENSE-ed25519.txt",
        "text/plain; charset=utf-8"
    ),
];

/// The pages load only their own assets and talk only to this node.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// How often the live feed looks at the chains' heads.
const LIVE_EVERY: Duration = Duration::from_millis(200);

/// The pages' routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
        .route("/live", get(live))
}

fn serve(file: &Asset) -> Response {
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.media));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn index() -> Response {
    serve(&ASSETS[0])
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(file) => serve(file),
        None => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such asset").into_response(),
    }
}

/// New heads of the chains the caller may read, as server-sent events named `head`, each
/// a chain's head as `/v1/chains` gives it. The first events give every head as it is.
async fn live(
    State(node): State<Shared>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let caller = caller(&node, &headers)?;
    let seen: HashMap<String, u64> = HashMap::new();
    let heads = stream::unfold(
        (node, caller, seen),
        |(node, caller, mut seen)| async move {
            loop {
                let events = fresh_heads(&node, &caller, &mut seen);
                if !events.is_empty() {
                    return Some((stream::iter(events), (node, caller, seen)));
                }
                tokio::time::sleep(LIVE_EVERY).await;
            }
        },
    );
    let events = futures_util::StreamExt::flatten(heads);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The heads that moved since `seen`, which they update.
fn fresh_heads(
    node: &Node,
    caller: &crate::auth::Caller,
    seen: &mut HashMap<String, u64>,
) -> Vec<Result<Event, Infallible>> {
    let mut out = Vec::new();
    for handle in node.chain_handles() {
        if !caller.reads_chain(&handle.spec.id, handle.spec.partner.is_some()) {
            continue;
        }
        let view = handle.head_view();
        if seen.get(&view.chain) == Some(&view.height) {
            continue;
        }
        seen.insert(view.chain.clone(), view.height);
        let data = serde_json::to_string(&view).expect("a head serializes");
        out.push(Ok(Event::default().event("head").data(data)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages stay light: their scripts, styles and markup together under 150 KB before
    /// compression (about a third of that compressed), the vendored library included.
    #[test]
    fn the_pages_weigh_under_150_kb() {
        let total: usize = ASSETS
            .iter()
            .filter(|a| !a.name.ends_with(".txt"))
            .map(|a| a.bytes.len())
            .sum();
        assert!(total < 150 * 1024, "the pages weigh {total} bytes");
    }

    /// Every module an asset imports is served.
    #[test]
    fn every_imported_module_is_served() {
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(a.bytes).unwrap();
            let imports = text
                .lines()
                .filter(|l| l.starts_with("import ") && l.contains("from './"));
            for line in imports {
                let name = line.rsplit("'./").next().unwrap().trim_end_matches("';");
                assert!(
                    ASSETS.iter().any(|b| b.name == name),
                    "{} imports {name}, which is not served",
                    a.name
                );
            }
        }
    }
}
