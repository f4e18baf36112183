//! Anchoring: the operator's node records a seal of each brand chain's new head on the
//! public center chain every few seconds, so no partner can rewrite its own chain's history
//! without every verifier noticing (`milk verify` checks brand chains against these), while
//! the public learns neither the chain's height nor its block hashes.

use crate::node::Node;
use milk_core::tx::Action;
use milk_core::tx::AnchorAction;
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

/// The anchors recorded for a brand chain, `(number, seal)` in order, from the center store.
pub fn anchors_of(
    node: &Node,
    chain: &milk_core::ChainId,
) -> Result<Vec<(u64, milk_core::Hash)>, milk_store::StoreError> {
    let center = node
        .chain(&milk_core::ChainId::center())
        .expect("every node hosts the center chain");
    let prefix = milk_core::state::record::anchor_prefix(chain);
    let records = center.store.records_with_prefix(&prefix)?;
    Ok(records
        .into_iter()
        .filter_map(|(k, v)| {
            let number = milk_core::state::record::u64_value(&k[prefix.len()..])?;
            let seal: [u8; 32] = v.try_into().ok()?;
            Some((number, milk_core::Hash(seal)))
        })
        .collect())
}

/// On the operator's node: every `every`, records each brand chain's new head on the center
/// chain, through the operator's lane (which numbers all of the operator's transactions).
pub async fn anchor(node: Arc<Node>, every: Duration) {
    let center_id = milk_core::ChainId::center();
    let Some(lane) = crate::lane::get(&node, &center_id) else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if !node.leads_center() {
            continue;
        }
        let mut anchors = Vec::new();
        for handle in node
            .chain_handles()
            .iter()
            .filter(|h| h.spec.partner.is_some())
        {
            let id = &handle.spec.id;
            let head = handle.head();
            let seal = milk_core::anchor::anchor_seal(id, head.height, &head.hash());
            let anchored = match anchors_of(&node, id) {
                Ok(a) => a.last().map(|(_, s)| *s),
                Err(e) => {
                    tracing::warn!(chain = %id, error = %e, "anchoring: cannot read anchors");
                    continue;
                }
            };
            if head.height == 0 || anchored == Some(seal) {
                continue;
            }
            let lane = lane.clone();
            let action = Action::Anchor(AnchorAction::Anchor {
                chain: id.clone(),
                seal,
            });
            // Sent together, so the lane puts them in one batch.
            anchors.push(tokio::spawn(async move { lane.submit(action).await }));
        }
        // Wait for the block, so the next round reads the anchors it made.
        for a in anchors {
            if let Ok(Err(e)) = a.await {
                tracing::warn!(error = %e, "anchoring: an anchor did not commit");
            }
        }
    }
}
