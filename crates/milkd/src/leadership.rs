//! Where the blocks are made: the node that leads the center chain runs settlement, the
//! oracle, anchoring and the Pack, and sends the operator's steps to every chain, so it
//! also stands for election in any chain another node leads. Elections are tried at most
//! every [`GATHER_EVERY`] per chain, and only while this node leads the center chain: a
//! node whose log is behind simply loses, and the chain's leader stays put.

use crate::node::Node;
use milk_core::ChainId;
use std::sync::Weak;
use std::time::Duration;

/// How often a brand chain led elsewhere is asked to elect this node.
pub const GATHER_EVERY: Duration = Duration::from_secs(2);

/// Runs until the node is gone.
pub async fn gather(node: Weak<Node>) {
    let mut tick = tokio::time::interval(GATHER_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(node) = node.upgrade() else { return };
        if !node.leads_center() {
            continue;
        }
        for handle in node.chain_handles() {
            let id = &handle.spec.id;
            if *id == ChainId::center() || node.leads(id) {
                continue;
            }
            if let Some(raft) = handle.raft() {
                tracing::info!(chain = %id, "standing for election: the center chain's leader makes every chain's blocks");
                let _ = raft.trigger().elect().await;
            }
        }
    }
}
