//! Scheduled rewards: the operator's node pays each finished MiL.k Pack week of the season
//! in force, and each partner's contribution reward for each finished epoch, once, through
//! its lane (the chain refuses a second payment anyway).

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

/// Partners' finished epochs with volume and no contribution reward paid yet:
/// `(chain, epoch)`.
pub fn due_contributions(node: &Node) -> Vec<(ChainId, u64)> {
    let (Some(center), Some(config)) = (
        node.chain(&ChainId::center()),
        node.genesis.membership.as_ref(),
    ) else {
        return Vec::new();
    };
    let current = node.clock.now_ms() / config.rewards.epoch_ms.max(1);
    let Ok(volumes) = center.store.records_with_prefix(&[record::VOLUME]) else {
        return Vec::new();
    };
    volumes
        .into_iter()
        .filter_map(|(k, _)| {
            let rest = &k[1..];
            let split = rest.iter().position(|b| *b == 0)?;
            let chain: ChainId = std::str::from_utf8(&rest[..split]).ok()?.parse().ok()?;
            let epoch = u64::from_be_bytes(rest.get(split + 1..)?.try_into().ok()?);
            (epoch < current).then_some((chain, epoch))
        })
        .filter(|(chain, epoch)| {
            let key = record::partner_key(record::CONTRIBUTION, chain, &epoch.to_be_bytes());
            center.store.record(&key).ok().flatten().is_none()
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
        for (chain, epoch) in due_contributions(&node) {
            let action = Action::PayContribution {
                chain: chain.clone(),
                epoch,
            };
            match lane.submit(action).await {
                Ok(_) => tracing::info!(%chain, epoch, "contribution reward paid"),
                Err(e) => {
                    tracing::warn!(%chain, epoch, error = %e, "contribution reward not paid yet")
                }
            }
        }
    }
}
