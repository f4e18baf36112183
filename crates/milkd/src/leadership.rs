//! Where the blocks are made: the node that leads the center chain runs settlement, the
//! oracle, anchoring and the Pack, and sends the operator's steps to every chain, so it
//! also stands for election in any chain another node leads and whose producer set holds
//! its key. Elections are tried at most every [`GATHER_EVERY`] per chain, and only while
//! this node leads the center chain: a node whose log is behind simply loses, and the
//! chain's leader stays put.
//!
//! Followers refuse to vote while they hear from a live leader (openraft's leader lease),
//! so in a group of four or more voters that election alone cannot win. So a node that
//! leads a chain of which the center chain's leader is a voter hands it over: for
//! [`YIELD_FOR`] it sends no heartbeats and stands for nothing, the followers' leases run
//! out, and the next election (the center leader's, or a follower's that then hands over
//! in turn) moves the chain.

use crate::node::Node;
use milk_core::ChainId;
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often a brand chain led elsewhere is asked to elect this node.
pub const GATHER_EVERY: Duration = Duration::from_secs(2);

/// How long a node handing a chain over stays quiet.
pub const YIELD_FOR: Duration = Duration::from_secs(3);

/// Runs until the node is gone.
pub async fn gather(node: Weak<Node>) {
    let mut tick = tokio::time::interval(GATHER_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(node) = node.upgrade() else { return };
        if node.leads_center() {
            stand_everywhere(&node).await;
        } else {
            hand_over(&node);
        }
    }
}

/// Hands each chain this node leads to the center chain's leader, where it votes in it.
fn hand_over(node: &Node) {
    let Some(center) = node.leader_elsewhere(&ChainId::center()) else {
        return;
    };
    for handle in node.chain_handles() {
        let id = &handle.spec.id;
        let Some(raft) = handle
            .raft()
            .filter(|_| *id != ChainId::center() && node.leads(id))
        else {
            continue;
        };
        let membership = raft.metrics().borrow().membership_config.clone();
        if !membership.membership().voter_ids().any(|v| v == center.id)
            || handle.shared.yielding.swap(true, Ordering::SeqCst)
        {
            continue;
        }
        tracing::info!(chain = %id, to = center.id, "handing the chain to the center chain's leader");
        crate::replica::group::stand(raft, &handle.shared, true);
        let (raft, handle) = (raft.clone(), handle.clone());
        tokio::spawn(async move {
            tokio::time::sleep(YIELD_FOR).await;
            handle.shared.yielding.store(false, Ordering::SeqCst);
            let leads = raft.metrics().borrow().state == openraft::ServerState::Leader;
            crate::replica::group::stand(&raft, &handle.shared, leads);
        });
    }
}

/// Stands for election in each chain another node leads and this node may produce.
async fn stand_everywhere(node: &Node) {
    for handle in node.chain_handles() {
        let id = &handle.spec.id;
        // A chain whose producer set holds none of this node's keys is left to those whose
        // keys it holds.
        let produces = handle.shared.produces.load(Ordering::SeqCst);
        if *id == ChainId::center() || node.leads(id) || !produces {
            continue;
        }
        if let Some(raft) = handle.raft() {
            tracing::info!(chain = %id, "standing for election: the center chain's leader makes every chain's blocks");
            let _ = raft.trigger().elect().await;
        }
    }
}
