//! A replicated node's view of its cluster.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// This node and each chain's replication, as this node sees them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClusterView {
    /// This node's number; absent when the node is not replicated.
    pub node: Option<u64>,
    /// Each hosted chain.
    pub chains: Vec<ReplicaView>,
}

/// One chain's replication on this node.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplicaView {
    /// The chain.
    pub chain: String,
    /// The leader's node number as last heard (absent: none known, or not replicated).
    pub leader: Option<u64>,
    /// This node's part: `leader`, `follower`, `candidate`, `learner` or `solo`.
    pub role: String,
    /// The current term.
    pub term: u64,
    /// The last log entry applied here.
    pub applied: Option<u64>,
    /// The chain's members (node numbers) that vote.
    pub voters: Vec<u64>,
    /// The committed head's height here.
    pub height: u64,
    /// Its block hash, hex.
    pub hash: String,
    /// Its state root, hex: replicas at the same height must agree on it.
    pub state_root: String,
    /// The keys that may sign the chain's next block (its producer set), `milk1…`.
    pub producers: Vec<String>,
    /// Whether this node holds one of them, and so may lead the chain.
    pub produces: bool,
}

/// A node to add to a chain's group as a learner.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LearnerRequest {
    /// Its number in the cluster file.
    pub node: u64,
}

/// A chain's voters from now on.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VotersRequest {
    /// Their numbers in the cluster file.
    pub nodes: Vec<u64>,
}

/// The keys that may sign a chain's blocks from now on.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProducersRequest {
    /// `milk1…` keys: the chain's genesis producer (TICA's) or node keys of cluster nodes
    /// that hold the chain; 1 to 16, each once.
    pub producers: Vec<String>,
}
