//! The operator's view and control of replication: `GET /v1/cluster`, each chain's
//! replication on this node (its leader, this node's role, term, applied entry, head, state
//! root and producer set; brand chains' heads are private), the chains' membership changes
//! (add a learner, set the voters), made on the chain's leader, the producer set (signed
//! by TICA's key, on the center chain's leader), and a node's call to stand for election.

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
pub use milk_api::cluster::{
    ClusterView, LearnerRequest, ProducersRequest, ReplicaView, VotersRequest,
};
use milk_core::Address;
use milk_core::tx::{Action, ProducersAction};
use openraft::{BasicNode, ServerState};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/v1/cluster", get(cluster))
        .route("/v1/cluster/{chain}/learners", post(add_learner))
        .route("/v1/cluster/{chain}/voters", put(set_voters))
        .route("/v1/cluster/{chain}/producers", put(set_producers))
        .route("/v1/cluster/{chain}/elect", post(elect))
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
        (status = 400, description = "Unknown node, or not replicated", body = crate::error::ErrorResponse),
        (status = 401, description = "No credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Not the operator's credential", body = crate::error::ErrorResponse),
        (status = 409, description = "This node does not lead the chain, or openraft refused", body = crate::error::ErrorResponse)))]
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
        (status = 400, description = "Unknown node, no voter, or not replicated", body = crate::error::ErrorResponse),
        (status = 401, description = "No credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Not the operator's credential", body = crate::error::ErrorResponse),
        (status = 409, description = "This node does not lead the chain, or openraft refused", body = crate::error::ErrorResponse)))]
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
    (status = 401, description = "No credential", body = crate::error::ErrorResponse),
    (status = 403, description = "Not the operator's credential", body = crate::error::ErrorResponse)))]
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
        producers: (handle.shared.producers.read().expect("producers lock"))
            .iter()
            .map(ToString::to_string)
            .collect(),
        produces: handle.shared.produces.load(Ordering::SeqCst),
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

/// Names the keys that may sign a chain's blocks from its next block on: TICA signs the
/// change with the operator's key. Each key must be the chain's genesis producer or the node
/// key of a node the cluster file lets hold the chain (so every producer is a node that can
/// make blocks). Answers once the change is committed. Operator only.
#[utoipa::path(put, path = "/v1/cluster/{chain}/producers", tag = "operator",
    params(("chain" = String, Path, description = "The chain")),
    request_body = ProducersRequest,
    responses(
        (status = 200, description = "The chain's replication with its new producer set", body = ReplicaView),
        (status = 400, description = "A malformed or unknown key, or a set of the wrong size", body = crate::error::ErrorResponse),
        (status = 401, description = "No credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Not the operator's credential", body = crate::error::ErrorResponse),
        (status = 422, description = "Refused by the chain (code says why)", body = crate::error::ErrorResponse),
        (status = 503, description = "This node does not hold the operator's key", body = crate::error::ErrorResponse)))]
pub async fn set_producers(
    State(node): State<Arc<Node>>,
    Path(chain): Path<String>,
    headers: HeaderMap,
    body: Result<Json<ProducersRequest>, JsonRejection>,
) -> Result<Json<ReplicaView>, ApiError> {
    require_operator(&node, &headers, "changing a chain's producers")?;
    let Json(req) = body.map_err(json_error)?;
    let handle = chain_of(&node, &chain)?;
    let producers = producer_keys(&node, &handle, &req.producers)?;
    let lane = crate::lane::get(&node, &handle.spec.id).ok_or_else(|| {
        let msg = "this node does not hold the operator's key";
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_operator_key", msg)
    })?;
    let action = Action::Producers(ProducersAction::SetProducers { producers });
    if let Err(e) = lane.submit(action).await {
        let status = match e.chain_error() {
            Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
            None => StatusCode::SERVICE_UNAVAILABLE,
        };
        return Err(ApiError::new(status, e.code(), e.message()));
    }
    Ok(Json(replica_view(&handle)))
}

/// Parses and checks a producer set: usable keys, each the chain's genesis producer or the
/// key of a node that may hold the chain (unreplicated: this node's producer key).
fn producer_keys(
    node: &Node,
    handle: &ChainHandle,
    keys: &[String],
) -> Result<Vec<Address>, ApiError> {
    let parsed: Vec<Address> = keys
        .iter()
        .map(|k| {
            k.parse()
                .map_err(|e: String| ApiError::bad_request("bad_address", e))
        })
        .collect::<Result<_, _>>()?;
    milk_core::producers::check(&parsed)
        .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
    let chain = &handle.spec.id;
    let holds = |key: &Address| match node.replication() {
        Some(r) => (r.cluster.nodes.iter()).any(|n| n.key == *key && n.holds(chain)),
        None => node.producer_address() == *key,
    };
    if let Some(stranger) = parsed
        .iter()
        .find(|k| **k != handle.spec.producer && !holds(k))
    {
        return Err(ApiError::bad_request(
            "unknown_producer",
            format!(
                "{stranger} is neither {chain}'s genesis producer nor the key of a node that \
                 holds {chain}"
            ),
        ));
    }
    Ok(parsed)
}

/// How long a node standing for election waits to hear that it won.
const ELECTION_WAIT: Duration = Duration::from_secs(3);

/// Asks this node (not the leader: the node the request reaches) to stand for election in a
/// chain now, for instance to move a chain's blocks to it before another node's
/// maintenance. Only a voter holding a key of the producer set may. Answers with the chain's
/// replication once this node leads or after 3 s; the center chain's leader takes back any
/// chain it can produce within a few seconds. Operator only.
#[utoipa::path(post, path = "/v1/cluster/{chain}/elect", tag = "operator",
    params(("chain" = String, Path, description = "The chain")),
    responses(
        (status = 200, description = "The chain's replication after the election", body = ReplicaView),
        (status = 400, description = "Not replicated", body = crate::error::ErrorResponse),
        (status = 401, description = "No credential", body = crate::error::ErrorResponse),
        (status = 403, description = "Not the operator's credential", body = crate::error::ErrorResponse),
        (status = 409, description = "This node holds no key of the producer set, or does not vote", body = crate::error::ErrorResponse)))]
pub async fn elect(
    State(node): State<Arc<Node>>,
    Path(chain): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ReplicaView>, ApiError> {
    require_operator(&node, &headers, "standing for election")?;
    let handle = chain_of(&node, &chain)?;
    let (Some(raft), Some(r)) = (handle.raft(), node.replication()) else {
        return Err(ApiError::bad_request(
            "not_replicated",
            "this node's chains are not replicated",
        ));
    };
    let id = &handle.spec.id;
    if !handle.shared.produces.load(Ordering::SeqCst) {
        let msg = format!("this node holds no key of {id}'s producer set");
        return Err(ApiError::new(StatusCode::CONFLICT, "not_a_producer", msg));
    }
    let membership = raft.metrics().borrow().membership_config.clone();
    if !membership.membership().voter_ids().any(|v| v == r.me.id) {
        let msg = format!("this node does not vote in {id}; make it a voter first");
        return Err(ApiError::new(StatusCode::CONFLICT, "not_a_voter", msg));
    }
    raft.trigger().elect().await.map_err(raft_error)?;
    let until = tokio::time::Instant::now() + ELECTION_WAIT;
    while !node.leads(id) && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Json(replica_view(&handle)))
}
