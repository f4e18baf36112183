//! `GET /v1/cluster`: each chain's replication on this node (its leader, this node's role,
//! term, applied entry, head and state root), for the operator: brand chains' heads are
//! private.

use crate::access::require_operator;
use crate::error::ApiError;
use crate::node::{ChainHandle, Node};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
pub use milk_api::cluster::{ClusterView, ReplicaView};
use openraft::ServerState;
use std::sync::Arc;

/// The routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new().route("/v1/cluster", get(cluster))
}

/// Each chain's replication on this node; operator only.
#[utoipa::path(get, path = "/v1/cluster", tag = "operator", responses(
    (status = 200, description = "Each chain's replication here", body = ClusterView),
    (status = 401, description = "No credential", body = crate::error::ErrorBody),
    (status = 403, description = "Not the operator's credential", body = crate::error::ErrorBody)))]
pub async fn cluster(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
) -> Result<Json<ClusterView>, ApiError> {
    require_operator(&node, &headers, "the cluster view")?;
    let chains = node
        .chain_handles()
        .iter()
        .map(|h| replica_view(h))
        .collect();
    Ok(Json(ClusterView {
        node: node.replication().map(|r| r.me.id),
        chains,
    }))
}

fn replica_view(handle: &ChainHandle) -> ReplicaView {
    let head = handle.head();
    let mut view = ReplicaView {
        chain: handle.spec.id.to_string(),
        leader: None,
        role: "solo".into(),
        term: 0,
        applied: None,
        voters: Vec::new(),
        height: head.height,
        hash: head.hash().to_hex(),
        state_root: head.state_root.to_hex(),
    };
    if let Some(raft) = handle.raft() {
        let m = raft.metrics().borrow().clone();
        view.leader = m.current_leader;
        view.role = match m.state {
            ServerState::Leader => "leader",
            ServerState::Follower => "follower",
            ServerState::Candidate => "candidate",
            ServerState::Learner => "learner",
            ServerState::Shutdown => "stopped",
        }
        .into();
        view.term = m.current_term;
        view.applied = m.last_applied.map(|l| l.index);
        view.voters = m.membership_config.membership().voter_ids().collect();
    }
    view
}
