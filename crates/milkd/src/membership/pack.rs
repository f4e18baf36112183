//! Scheduled rewards: the operator's node pays each finished MiL.k Pack week of the season
//! in force, each partner's contribution reward for each finished epoch, and (at start)
//! linking rewards a stop cut off, once each, through its lane (the chain refuses a second
//! payment anyway).

use crate::node::Node;
use milk_core::ChainId;
use milk_core::codec::Decode;
use milk_core::membership::{PackSeason, record};
use milk_core::tokenomics;
use milk_core::tx::Action;
use milk_core::tx::{MembershipAction, TokenomicsAction};
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
    let Ok(volumes) = center
        .store
        .records_with_prefix(&[tokenomics::record::VOLUME])
    else {
        return Vec::new();
    };
    volumes
        .into_iter()
        .filter_map(|(k, _)| {
            let (chain, epoch) = record::split_partner_key(&k[1..])?;
            let epoch = u64::from_be_bytes(epoch.try_into().ok()?);
            (epoch < current).then_some((chain, epoch))
        })
        .filter(|(chain, epoch)| {
            let key = tokenomics::record::partner_key(
                tokenomics::record::CONTRIBUTION,
                chain,
                &epoch.to_be_bytes(),
            );
            center.store.record(&key).ok().flatten().is_none()
        })
        .collect()
}

/// Links on brand chains whose linking reward was never recorded on the center chain (a
/// stop between the link and its reward): `(user, the link's seal)`.
pub fn unrewarded_links(node: &Node) -> Vec<(milk_core::Address, milk_core::Hash)> {
    let Some(center) = node.chain(&ChainId::center()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for handle in (node.chain_handles().iter()).filter(|h| h.spec.partner.is_some()) {
        let links = handle
            .store
            .records_with_prefix(&[milk_core::brand::record::LINK]);
        for (k, v) in links.unwrap_or_default() {
            let Some((user, hash)) = milk_core::brand::link_of(&k, &v) else {
                continue;
            };
            let seal = milk_core::brand::link_seal(&handle.spec.id, &user, &hash);
            let key = tokenomics::record::linked(&seal);
            if center.store.record(&key).ok().flatten().is_none() {
                out.push((user, seal));
            }
        }
    }
    out
}

async fn pay_missed_links(node: &Arc<Node>, lane: &crate::lane::Lane) {
    for (user, link) in unrewarded_links(node) {
        let action = Action::Tokenomics(TokenomicsAction::RewardLink { user, link });
        if let Err(e) = lane.submit(action).await {
            tracing::warn!(error = %e, "linking reward not paid");
        }
    }
}

/// Coupon payments reported on partners' chains whose center-chain step (the credit, or
/// taking it back after a refund) a stop cut off: each step taken now.
pub async fn settle_missed_coupons(node: &Arc<Node>) {
    use milk_core::brand::coupon::{COUPON_REPORT, CouponReport};
    for handle in (node.chain_handles().iter()).filter(|h| h.spec.partner.is_some()) {
        let reports = handle.store.records_with_prefix(&[COUPON_REPORT]);
        for (_, v) in reports.unwrap_or_default() {
            let Some(report) = CouponReport::from_bytes(&v) else {
                continue;
            };
            if let Err(e) = crate::brand::coupons::settle_on_center(node, &report).await {
                tracing::warn!(error = %e.message(), "a coupon's LZM is not settled yet");
            }
        }
    }
}

/// Pays due weeks every `every`, on the node that holds the operator's key and leads the
/// center chain.
pub async fn payouts(node: Arc<Node>, every: Duration) {
    let Some(lane) = crate::lane::get(&node, &ChainId::center()) else {
        return;
    };
    if node.genesis.membership.is_none() {
        return;
    }
    let mut tick = tokio::time::interval(every);
    let mut links_checked = false;
    loop {
        tick.tick().await;
        if !node.leads_center() {
            links_checked = false;
            continue;
        }
        if !links_checked {
            // Once each time this node starts leading: linking rewards and coupon credits a
            // stop (or a failover) may have cut off.
            pay_missed_links(&node, &lane).await;
            settle_missed_coupons(&node).await;
            links_checked = true;
        }
        for week in due_weeks(&node) {
            match lane
                .submit(Action::Membership(MembershipAction::PayPackWeek { week }))
                .await
            {
                Ok(_) => tracing::info!(week, "MiL.k Pack week paid"),
                Err(e) => tracing::warn!(week, error = %e, "MiL.k Pack week not paid yet"),
            }
        }
        for (chain, epoch) in due_contributions(&node) {
            let action = Action::Tokenomics(TokenomicsAction::PayContribution {
                chain: chain.clone(),
                epoch,
            });
            match lane.submit(action).await {
                Ok(_) => tracing::info!(%chain, epoch, "contribution reward paid"),
                Err(e) => {
                    tracing::warn!(%chain, epoch, error = %e, "contribution reward not paid yet")
                }
            }
        }
    }
}
