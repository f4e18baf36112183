//! The peer protocol's server: the peer address answers Raft messages from the nodes of the
//! cluster that hold the chain named, each checked against the sender's key before openraft
//! sees it. Anything else is refused: an unknown node, a chain the sender (or this node)
//! does not hold, a bad signature, an undecodable body.

use super::cluster::Cluster;
use super::network::{NODE_HEADER, SIGNATURE_HEADER, peer_message};
use super::{Raft, codec};
use crate::metrics::{Metrics, chain_label};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use milk_core::ChainId;
use milk_core::keys::{self, Signature};
use std::sync::Arc;

/// Finds this node's Raft group for a chain, if it holds the chain and its group runs.
pub type Groups = Arc<dyn Fn(&ChainId) -> Option<Raft> + Send + Sync>;

#[derive(Clone)]
struct Peers {
    cluster: Arc<Cluster>,
    groups: Groups,
    metrics: Arc<Metrics>,
}

/// The largest peer message: a batch of entries or one snapshot chunk.
const MAX_PEER_BODY: usize = 64 * 1024 * 1024;

/// The peer address's routes.
pub fn router(cluster: Arc<Cluster>, groups: Groups, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/raft/{chain}/{kind}", post(message))
        .layer(DefaultBodyLimit::max(MAX_PEER_BODY))
        .with_state(Peers {
            cluster,
            groups,
            metrics,
        })
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, why.to_owned()).into_response()
}

/// Checks who sent the message and that it may speak of `chain`.
fn authenticate(
    peers: &Peers,
    chain: &ChainId,
    kind: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), (StatusCode, &'static str)> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let sender = header(NODE_HEADER)
        .and_then(|v| v.parse::<u64>().ok())
        .and_then(|id| peers.cluster.node(id))
        .ok_or((StatusCode::UNAUTHORIZED, "unknown node"))?;
    let mut signature = [0u8; 64];
    header(SIGNATURE_HEADER)
        .and_then(|v| hex::decode_to_slice(v, &mut signature).ok())
        .ok_or((StatusCode::UNAUTHORIZED, "no signature"))?;
    if !keys::verify(
        &sender.key,
        &peer_message(chain, kind, body).0,
        &Signature(signature),
    ) {
        return Err((StatusCode::UNAUTHORIZED, "bad signature"));
    }
    if !sender.holds(chain) {
        return Err((StatusCode::FORBIDDEN, "the sender does not hold this chain"));
    }
    Ok(())
}

async fn message(
    State(peers): State<Peers>,
    Path((chain, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(chain) = chain.parse::<ChainId>() else {
        return refuse(StatusCode::NOT_FOUND, "no such chain");
    };
    if let Err((status, why)) = authenticate(&peers, &chain, &kind, &headers, &body) {
        return refuse(status, why);
    }
    peers
        .metrics
        .peer_messages
        .get_or_create(&chain_label(chain.as_str()))
        .inc();
    let Some(raft) = (peers.groups)(&chain) else {
        return refuse(StatusCode::NOT_FOUND, "this node does not hold the chain");
    };
    let answer = match kind.as_str() {
        "append" => match codec::decode(&body) {
            Ok(req) => codec::encode(&raft.append_entries(req).await),
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
        },
        "vote" => match codec::decode(&body) {
            Ok(req) => codec::encode(&raft.vote(req).await),
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
        },
        "snapshot" => match codec::decode(&body) {
            Ok(req) => codec::encode(&raft.install_snapshot(req).await),
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
        },
        _ => return refuse(StatusCode::NOT_FOUND, "no such message"),
    };
    (StatusCode::OK, answer).into_response()
}
