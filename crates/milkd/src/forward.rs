//! Any node takes any request: on a replicated node that does not lead the center chain,
//! requests that change something (every method but `GET` and `HEAD`) are passed, as they
//! are, to the node that does, and its answer is passed back. The center chain's leader is
//! where settlement and the operator's lanes run, and it gathers the leadership of the
//! other chains ([`crate::leadership`]), so one hop reaches the node that makes the blocks.
//! Reads are answered here, from committed data.
//!
//! A request forwarded once is never forwarded again (leaders can change while it travels):
//! it is answered `503 no_leader`, which clients retry.

use crate::error::ApiError;
use crate::node::Node;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use milk_core::ChainId;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Marks a request one node has passed to another.
pub const FORWARDED_HEADER: &str = "x-milk-forwarded";

/// How long a forwarded request may take, answer included.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(60);

fn client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

fn no_leader() -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_leader",
        "no node leads the chains right now (an election is under way); retry in a second",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// The middleware: writes go to the center chain's leader.
pub async fn writes_to_leader(
    State(node): State<Arc<Node>>,
    request: Request,
    next: Next,
) -> Response {
    let write = !matches!(*request.method(), Method::GET | Method::HEAD);
    if !write || node.replication().is_none() || node.leads_center() {
        return next.run(request).await;
    }
    if request.headers().contains_key(FORWARDED_HEADER) {
        return no_leader();
    }
    let Some(leader) = node.leader_elsewhere(&ChainId::center()) else {
        return no_leader();
    };
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("http://{}{path}", leader.api).parse() else {
        return no_leader();
    };
    parts.uri = uri;
    parts.headers.remove(header::HOST);
    parts
        .headers
        .insert(FORWARDED_HEADER, HeaderValue::from_static("1"));
    let forwarded = hyper::Request::from_parts(parts, body);
    match tokio::time::timeout(FORWARD_TIMEOUT, client().request(forwarded)).await {
        Ok(Ok(response)) => {
            let (parts, body) = response.into_parts();
            Response::from_parts(parts, Body::new(body.map_err(axum::Error::new)))
        }
        Ok(Err(e)) => {
            tracing::warn!(leader = leader.id, error = %e, "cannot reach the leader");
            no_leader()
        }
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "leader_timeout",
            "the leading node did not answer in time; the request may have taken effect: check before sending it again",
        )
        .into_response(),
    }
}
