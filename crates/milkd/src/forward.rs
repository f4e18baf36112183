//! Any node takes any request: on a replicated node, requests that change something (every
//! method but `GET` and `HEAD`) are passed, as they are, to the node that leads the chain
//! they write to, and its answer is passed back. A transaction submitted to a chain, a
//! partner's call on its own chain that signs nothing else, and a change of a chain's
//! members go to that chain's leader;
//! everything else (trades, which settle on two chains; the operator's and the alliance's
//! calls) to the center chain's leader, where settlement and the operator's lanes run and
//! which gathers the other chains' leadership ([`crate::leadership`]). Reads are answered
//! here, from committed data; a read sent with `X-Milk-Consistency: linearizable` is
//! answered by the leader of the chain it reads (passed there if need be), once that node
//! has confirmed with a majority that it still leads and has applied everything committed
//! before the read arrived: it sees every write acknowledged before it was sent. A
//! transaction's or an order's status is always answered by the leader, whose pool alone
//! knows what is pending.
//!
//! A node's call to stand for election is answered by the node it reaches.
//!
//! A request forwarded once is never forwarded again (leaders can change while it travels):
//! it is answered `503 no_leader`, which clients retry.

use crate::error::ApiError;
use crate::node::Node;
use crate::replica::cluster::ClusterNode;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
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

/// Asks for a read that sees every write acknowledged before it (`linearizable`).
pub const CONSISTENCY_HEADER: &str = "x-milk-consistency";

/// Marks a request one node has passed to another.
pub const FORWARDED_HEADER: &str = "x-milk-forwarded";

/// How long a forwarded request may take, answer included.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(60);

fn client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build_http())
}

/// How long a leader may take to hear from a majority before a linearizable read.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether this node, leading `chain`, is confirmed by a majority (within a second) and has
/// applied what was committed before now.
async fn confirmed(node: &Node, chain: &ChainId) -> bool {
    let Some(raft) = node.chain(chain).and_then(|h| h.raft().cloned()) else {
        return false;
    };
    let confirm = tokio::time::timeout(CONFIRM_TIMEOUT, raft.ensure_linearizable());
    matches!(confirm.await, Ok(Ok(_)))
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

/// The chain a write goes to: `/v1/chains/{chain}/txs`, a partner's transactions on its
/// own chain and a chain's membership changes name theirs; anything else goes to the center
/// chain.
fn target_chain(path: &str) -> ChainId {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let own = match parts.as_slice() {
        ["v1", "chains", chain, "txs"] => Some(*chain),
        ["v1", "cluster", chain, "learners" | "voters"] => Some(*chain),
        [
            "v1",
            "partners",
            chain,
            "links" | "conversions" | "redemptions" | "refunds" | "policy" | "sweeps",
        ] => Some(*chain),
        _ => None,
    };
    own.and_then(|c| c.parse().ok())
        .unwrap_or_else(ChainId::center)
}

/// Whether a request is about the node it reaches, whoever leads: a node standing for
/// election.
fn node_local(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(parts.as_slice(), ["v1", "cluster", _, "elect"])
}

/// Whether a read reports what waits in a pool (a transaction's or an order's status):
/// only the leader's pool holds it, so the leader answers.
fn reads_pending(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["v1", "chains", _, "txs", _] | ["v1", "trades", _]
    )
}

/// The chain a read is about: the one its path names, else the center chain.
fn read_chain(path: &str) -> ChainId {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let named = match parts.as_slice() {
        ["v1", "chains" | "partners", chain, ..] => Some(*chain),
        _ => None,
    };
    named
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(ChainId::center)
}

/// The middleware: writes go to the leader of the chain they write to, linearizable reads
/// to the leader of the chain they read. While an election is under way (no leader known,
/// or the one known unreachable) it waits up to [`ELECTION_WAIT`] for one.
pub async fn to_the_leader(
    State(node): State<Arc<Node>>,
    request: Request,
    next: Next,
) -> Response {
    let write = !matches!(*request.method(), Method::GET | Method::HEAD);
    let linearizable = (request.headers().get(CONSISTENCY_HEADER))
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"linearizable"));
    let pending = !write && reads_pending(request.uri().path());
    let here = node_local(request.uri().path());
    if node.replication().is_none() || here || !(write || linearizable || pending) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    let target = if write {
        target_chain(path)
    } else {
        read_chain(path)
    };
    let forwarded = request.headers().contains_key(FORWARDED_HEADER);
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return no_leader();
    };
    let until = tokio::time::Instant::now() + ELECTION_WAIT;
    while tokio::time::Instant::now() < until {
        if node.leads(&target) {
            if linearizable && !write && !confirmed(&node, &target).await {
                return no_leader();
            }
            return next.run(Request::from_parts(parts, Body::from(body))).await;
        }
        if !forwarded
            && let Some(leader) = node.leader_elsewhere(&target)
            && let Some(answer) = pass(&leader, parts.clone(), body.clone()).await
        {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    no_leader()
}

/// How long a request waits for a leader to be elected (or reachable).
const ELECTION_WAIT: Duration = Duration::from_secs(3);

/// Passes the request to `leader` and its answer back; `None` if the leader cannot be
/// reached (it may have just died: the caller waits for the next one).
async fn pass(leader: &ClusterNode, mut parts: Parts, body: Bytes) -> Option<Response> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("http://{}{path}", leader.api).parse().ok()?;
    parts.headers.remove(header::HOST);
    parts
        .headers
        .insert(FORWARDED_HEADER, HeaderValue::from_static("1"));
    let forwarded = hyper::Request::from_parts(parts, Body::from(body));
    match tokio::time::timeout(FORWARD_TIMEOUT, client().request(forwarded)).await {
        Ok(Ok(response)) => {
            let (parts, body) = response.into_parts();
            Some(Response::from_parts(parts, Body::new(body.map_err(axum::Error::new))))
        }
        Ok(Err(e)) if e.is_connect() => None,
        Ok(Err(e)) => {
            tracing::warn!(leader = leader.id, error = %e, "the leader did not answer");
            Some(
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "leader_unreachable",
                    "the leading node stopped answering; the request may have taken effect: check before sending it again",
                )
                .into_response(),
            )
        }
        Err(_) => Some(
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "leader_timeout",
                "the leading node did not answer in time; the request may have taken effect: check before sending it again",
            )
            .into_response(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::target_chain;

    #[test]
    fn writes_go_to_the_chain_they_write_to() {
        let chain = |p: &str| target_chain(p).to_string();
        assert_eq!(chain("/v1/chains/cinema/txs"), "cinema");
        assert_eq!(chain("/v1/partners/skyway/conversions"), "skyway");
        assert_eq!(chain("/v1/partners/skyway/sweeps"), "skyway");
        assert_eq!(chain("/v1/cluster/dailymart/voters"), "dailymart");
        // Trades settle on two chains; webhooks, credentials and operator actions are the
        // center leader's; a malformed chain name is the center's too (it answers 404).
        assert_eq!(chain("/v1/trades"), "center");
        assert_eq!(chain("/v1/partners/skyway/webhooks"), "center");
        assert_eq!(chain("/v1/operator/actions"), "center");
        assert_eq!(chain("/v1/chains/NOT A CHAIN/txs"), "center");
        let read = |p: &str| super::read_chain(p).to_string();
        assert_eq!(read("/v1/chains/skyway/blocks/3"), "skyway");
        assert_eq!(read("/v1/partners/cinema/supply"), "cinema");
        assert_eq!(read("/v1/accounts/milk1xyz"), "center");
        // A status can say `pending`: the leader's pool answers it.
        assert!(super::reads_pending("/v1/chains/cinema/txs/ab12"));
        assert!(super::reads_pending("/v1/trades/ab12"));
        assert!(!super::reads_pending("/v1/chains/cinema/txs"));
        assert!(!super::reads_pending("/v1/trades/ab12/extra"));
        // Standing for election is the reached node's own act; the producer set is signed
        // by TICA's key, on the center chain's leader.
        assert!(super::node_local("/v1/cluster/cinema/elect"));
        assert!(!super::node_local("/v1/cluster/cinema/voters"));
        assert_eq!(chain("/v1/cluster/cinema/producers"), "center");
        assert_eq!(read("/v1/trades/ab12"), "center");
    }
}
