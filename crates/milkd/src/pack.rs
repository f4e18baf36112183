//! The MiL.k Pack's weekly payouts: the operator's node pays each finished week of the
//! season in force, once, through its lane (the chain refuses a second payment anyway).

use crate::node::Node;
use milk_core::ChainId;
use milk_core::codec::Decode;
use milk_core::membership::{PackSeason, record};
use milk_core::tx::Action;
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

/// The weeks of the season in force that are over and not yet paid.
pub fn due_weeks(node: &Node) -> Vec<u32> {
    let Some(center) = node.chain(&ChainId::center()) else {
        return Vec::new();
    };
    let Ok(Some(v)) = center.store.record(&[record::PACK_SEASON]) else {
        return Vec::new();
    };
    let Ok(season) = PackSeason::from_bytes(&v) else {
        return Vec::new();
    };
    let now = node.clock.now_ms();
    (0..season.weeks)
        .filter(|w| season.week_start(w + 1) <= now)
        .filter(|w| {
            let mut k = vec![record::PACK_PAID];
            k.extend_from_slice(&season.season.to_be_bytes());
            k.extend_from_slice(&w.to_be_bytes());
            center.store.record(&k).ok().flatten().is_none()
        })
        .collect()
}

/// Pays due weeks every `every`, on the node that holds the operator's key.
pub async fn payouts(node: Arc<Node>, every: Duration) {
    let Some(lane) = node.lanes.get(&node, &ChainId::center()) else {
        return;
    };
    if node.genesis.membership.is_none() {
        return;
    }
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        for week in due_weeks(&node) {
            match lane.submit(Action::PayPackWeek { week }).await {
                Ok(_) => tracing::info!(week, "MiL.k Pack week paid"),
                Err(e) => tracing::warn!(week, error = %e, "MiL.k Pack week not paid yet"),
            }
        }
    }
}
