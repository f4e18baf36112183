//! Who the nodes are: the cluster file every node of a network is started with.
//!
//! ```json
//! { "nodes": [
//!     { "id": 1, "api": "127.0.0.1:7071", "peer": "127.0.0.1:7171", "key": "milk1…" },
//!     { "id": 4, "api": "127.0.0.1:7074", "peer": "127.0.0.1:7174", "key": "milk1…",
//!       "holds": ["cinema"] } ] }
//! ```
//! A node holds every chain unless `holds` names the ones it holds; a chain's Raft group
//! starts as the nodes that hold it, but for those marked `"joining": true`, which wait
//! until the operator adds them (`milk cluster add-learner`, then `milk cluster voters`). `key` is the node's own key (`<data-dir>/node.key`), with which
//! it signs every message to its peers; a peer's message is taken only from a node of the
//! cluster, about a chain that node holds.

use milk_core::{Address, ChainId};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

/// One node of the cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterNode {
    /// Its number, unique in the cluster, from 1.
    pub id: u64,
    /// Where its HTTP API listens (clients are sent here).
    pub api: SocketAddr,
    /// Where it listens to its peers.
    pub peer: SocketAddr,
    /// Its node key.
    pub key: Address,
    /// The chains it holds; all of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds: Option<Vec<ChainId>>,
    /// A node added to a running cluster: it is not in its chains' first membership and waits
    /// until the operator adds it (as a learner, then a voter).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub joining: bool,
}

impl ClusterNode {
    /// A node that holds every chain from the start.
    pub fn new(id: u64, api: SocketAddr, peer: SocketAddr, key: Address) -> ClusterNode {
        ClusterNode {
            id,
            api,
            peer,
            key,
            holds: None,
            joining: false,
        }
    }

    /// Whether this node holds `chain`.
    pub fn holds(&self, chain: &ChainId) -> bool {
        self.holds.as_ref().is_none_or(|h| h.contains(chain))
    }
}

/// The cluster file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// Every node.
    pub nodes: Vec<ClusterNode>,
}

impl Cluster {
    /// Reads and checks a cluster file.
    pub fn load(path: &Path) -> Result<Cluster, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let cluster: Cluster =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        cluster.check()?;
        Ok(cluster)
    }

    /// Writes the cluster file (every node of the network is started with the same one).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("a cluster serializes");
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Ids from 1, each once; keys and addresses each once.
    pub fn check(&self) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("the cluster names no node".into());
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.id == 0 {
                return Err("node ids start at 1".into());
            }
            for m in &self.nodes[..i] {
                if m.id == n.id || m.key == n.key || m.api == n.api || m.peer == n.peer {
                    return Err(format!(
                        "nodes {} and {} share an id, key or address",
                        m.id, n.id
                    ));
                }
            }
        }
        Ok(())
    }

    /// The node numbered `id`.
    pub fn node(&self, id: u64) -> Option<&ClusterNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The nodes that hold `chain`.
    pub fn group(&self, chain: &ChainId) -> Vec<&ClusterNode> {
        self.nodes.iter().filter(|n| n.holds(chain)).collect()
    }

    /// `chain`'s first membership: the nodes that hold it, but for joining ones.
    pub fn founders(&self, chain: &ChainId) -> Vec<&ClusterNode> {
        self.group(chain)
            .into_iter()
            .filter(|n| !n.joining)
            .collect()
    }
}
