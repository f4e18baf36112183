//! Partners' standing on their own chains: the center chain decides a suspension or an
//! exit, and the operator's node records it on the partner's brand chain (`SetStanding`,
//! `SetExit`), so that chain's own rules refuse a suspended or leaving partner's conversions
//! and, after its final date, redemptions, whichever way they are sent. The same task
//! finishes an exit on the center chain once its final date has passed (`FinishExit`; the
//! chain refuses it while a buy of the token is open, and it is tried again next tick), then
//! closes it on the brand chain, which burns TICA's remaining stock.

use crate::node::{ChainHandle, Node};
use milk_core::ChainId;
use milk_core::alliance::{Member, Status};
use milk_core::brand::ExitRecord;
use milk_core::brand::record::{EXIT, STANDING};
use milk_core::tx::{Action, AllianceAction, BrandAction};
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

/// On the operator's node: every `every`, brings each brand chain's recorded standing in
/// line with the center chain's registry, through that chain's operator lane, and finishes
/// the exits that are due.
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
            record_suspension(&node, handle, &member).await;
            record_exit(&node, handle, &member).await;
            finish_exit(&node, id, &member).await;
        }
    }
}

/// Records a suspension, or its end, on the partner's chain.
async fn record_suspension(node: &Arc<Node>, handle: &ChainHandle, member: &Member) {
    let suspended = member.status == Status::Suspended;
    let recorded = handle.store.record(&[STANDING]);
    let Ok(recorded) = recorded.map(|r| r.is_some()) else {
        return;
    };
    if suspended != recorded {
        let action = Action::Brand(BrandAction::SetStanding { suspended });
        let chain = &handle.spec.id;
        submit(node, chain, chain, action, "partner standing recorded").await;
    }
}

/// Records an exit on the partner's chain, and closes it there once the center chain has
/// finished it.
async fn record_exit(node: &Arc<Node>, handle: &ChainHandle, member: &Member) {
    let Some(exit) = member.exit else {
        return;
    };
    let wanted = ExitRecord {
        final_ms: exit.final_ms,
        closed: member.status == Status::Exited,
    };
    let Ok(recorded) = handle.store.record(&[EXIT]) else {
        return;
    };
    if recorded.as_deref().and_then(ExitRecord::from_bytes) != Some(wanted) {
        let action = Action::Brand(BrandAction::SetExit {
            final_ms: wanted.final_ms,
            closed: wanted.closed,
        });
        let chain = &handle.spec.id;
        submit(node, chain, chain, action, "partner exit recorded").await;
    }
}

/// Finishes a leaving partner's exit on the center chain once its final date has passed.
async fn finish_exit(node: &Arc<Node>, chain: &ChainId, member: &Member) {
    let due = (member.exit).is_some_and(|e| node.clock.now_ms() >= e.final_ms);
    if member.status != Status::Exiting || !due {
        return;
    }
    let action = Action::Alliance(AllianceAction::FinishExit {
        chain: chain.clone(),
    });
    submit(
        node,
        &ChainId::center(),
        chain,
        action,
        "partner exit finished",
    )
    .await;
}

/// Submits an operator action through the lane of `chain`, logging what came of it for
/// `partner`; a refusal is tried again at the next tick.
async fn submit(
    node: &Arc<Node>,
    chain: &ChainId,
    partner: &ChainId,
    action: Action,
    done: &'static str,
) {
    let Some(lane) = crate::lane::get(node, chain) else {
        return;
    };
    match lane.submit(action).await {
        Ok(_) => tracing::info!(partner = %partner, "{done}"),
        Err(e) => tracing::debug!(partner = %partner, error = %e, "{done}: not yet"),
    }
}
