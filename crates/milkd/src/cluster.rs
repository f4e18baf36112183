//! The operator's view and control of replication: `GET /v1/cluster`, each chain's
//! replication on this node (its leader, this node's role, term, applied entry, head and
//! state root; brand chains' heads are private), and the chains' membership changes (add a
//! learner, set the voters), made on the chain's leader.

use crate::access::{chain_of, json_error, require_operator};
use crate::error::ApiError;
use crate::node::{ChainHandle, Node};
use crate::replica::Raft;
use crate::replica::cluster::Cluster;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
pub use milk_api::cluster::{ClusterView, LearnerRequest, ReplicaView, VotersRequest};
use openraft::{BasicNode, ServerState};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/v1/cluster", get(cluster))
        .route("/v1/cluster/{chain}/learners", post(add_learner))
        .route("/v1/cluster/{chain}/voters", put(set_voters))
}

/// The chain's group, on the node that leads it; refuses a node the cluster file does not
/// let hold the chain.
fn leading_group(
    node: &Node,
    chain: &str,
    nodes: &[u64],
) -> Result<(Raft, Arc<Cluster>), ApiError> {
    let handle = chain_of(node, chain)?;
    let (Some(raft), Some(r)) = (handle.raft(), node.replication()) else {
        return Err(ApiError::bad_request(
            "not_replicated",
            "this node's chains are not replicated",
        ));
    };
    if let Some(bad) = nodes.iter().find(|id| {
        !r.cluster
            .node(**id)
            .is_some_and(|n| n.holds(&handle.spec.id))
    }) {
        return Err(ApiError::bad_request(
            "unknown_node",
            format!(
                "node {bad} is not in the cluster file as a holder of {}",
                handle.spec.id
            ),
        ));
    }
    if !node.leads(&handle.spec.id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_leader",
            format!("this node does not lead {}; ask its leader", handle.spec.id),
        ));
    }
    Ok((raft.clone(), r.cluster.clone()))
}

fn raft_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "membership_refused", e.to_string())
}

/// Adds a node of the cluster file to a chain's group as a learner (it receives the chain
/// and votes in nothing); answers once it has caught up. Operator only.
#[utoipa::path(post, path = "/v1/cluster/{chain}/learners", tag = "operator",
    params(("chain" = String, Path, description = "The chain")),
    request_body = LearnerRequest,
    responses(
        (status = 200, description = "The chain's replication with the new learner", body = ReplicaView),
        (status = 400, description = "Unknown node, or not replicated", body = crate::error::ErrorBody),
        (status = 401, description = "No credential", body = crate::error::ErrorBody),
        (status = 403, description = "Not the operator's credential", body = crate::error::ErrorBody),
        (status = 409, description = "This node does not lead the chain, or openraft refused", body = crate::error::ErrorBody)))]
pub async fn add_learner(
    State(node): State<Arc<Node>>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Json<LearnerRequest>, JsonRejection>,
) -> Result<Json<ReplicaView>, ApiError> {
    require_operator(&node, &headers, "changing a chain's members")?;
    let Json(req) = body.map_err(json_error)?;
    let (raft, cluster) = leading_group(&node, &chain, &[req.node])?;
    let peer = cluster
        .node(req.node)
        .map(|n| n.peer.to_string())
        .unwrap_or_default();
    raft.add_learner(req.node, BasicNode::new(peer), true)
        .await
        .map_err(raft_error)?;
    Ok(Json(replica_view(&*chain_of(&node, &chain)?)))
}

/// Sets a chain's voters (learners among them are promoted; a voter left out is removed
/// from the group). Answers once the new membership is committed. Operator only.
#[utoipa::path(put, path = "/v1/cluster/{chain}/voters", tag = "operator",
    params(("chain" = String, Path, description = "The chain")),
    request_body = VotersRequest,
    responses(
        (status = 200, description = "The chain's replication with its new voters", body = ReplicaView),
        (status = 400, description = "Unknown node, no voter, or not replicated", body = crate::error::ErrorBody),
        (status = 401, description = "No credential", body = crate::error::ErrorBody),
        (status = 403, description = "Not the operator's credential", body = crate::error::ErrorBody),
        (status = 409, description = "This node does not lead the chain, or openraft refused", body = crate::error::ErrorBody)))]
pub async fn set_voters(
    State(node): State<Arc<Node>>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Json<VotersRequest>, JsonRejection>,
) -> Result<Json<ReplicaView>, ApiError> {
    require_operator(&node, &headers, "changing a chain's members")?;
    let Json(req) = body.map_err(json_error)?;
    if req.nodes.is_empty() {
        return Err(ApiError::bad_request(
            "no_voters",
            "a chain needs at least one voter",
        ));
    }
    let (raft, _) = leading_group(&node, &chain, &req.nodes)?;
    let voters: BTreeSet<u64> = req.nodes.iter().copied().collect();
    raft.change_membership(voters, false)
        .await
        .map_err(raft_error)?;
    Ok(Json(replica_view(&*chain_of(&node, &chain)?)))
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
