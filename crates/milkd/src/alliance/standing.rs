//! Partners' standing on their own chains: the center chain decides a suspension, and the
//! operator's node records it on the partner's brand chain (`SetStanding`), so that chain's
//! own rules refuse a suspended partner's conversions, whichever way they are sent.

use crate::node::Node;
use milk_core::alliance::Status;
use milk_core::brand::record::STANDING;
use milk_core::tx::{Action, BrandAction};
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

/// On the operator's node: every `every`, brings each brand chain's recorded standing in
/// line with the center chain's registry, through that chain's operator lane.
pub async fn propagate(node: Arc<Node>, every: Duration) {
    if node.operator_key.is_none() {
        return;
    }
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if !node.leads_center() {
            continue;
        }
        for handle in (node.chain_handles().iter()).filter(|h| h.spec.partner.is_some()) {
            let id = &handle.spec.id;
            let Ok(Some(member)) = super::registered(&node, id) else {
                continue;
            };
            let suspended = member.status == Status::Suspended;
            let recorded = handle.store.record(&[STANDING]);
            let Ok(recorded) = recorded.map(|r| r.is_some()) else {
                continue;
            };
            if suspended == recorded {
                continue;
            }
            let Some(lane) = crate::lane::get(&node, id) else {
                return;
            };
            let action = Action::Brand(BrandAction::SetStanding { suspended });
            match lane.submit(action).await {
                Ok(_) => tracing::info!(chain = %id, suspended, "partner standing recorded"),
                Err(e) => tracing::warn!(chain = %id, error = %e, "recording a standing failed"),
            }
        }
    }
}
