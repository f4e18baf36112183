//! Anchoring: the operator's node records each brand chain's new head hash on the public
//! center chain every few seconds, so no partner can rewrite its own chain's history
//! without every verifier noticing (`milk verify` checks brand chains against these).

use crate::node::Node;
use crate::worker::Command;
use milk_core::tx::{Action, Transaction};
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

/// The anchors recorded for a brand chain, `(height, hash)` by height, from the center store.
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
            let height = milk_core::state::record::u64_value(&k[prefix.len()..])?;
            let hash: [u8; 32] = v.try_into().ok()?;
            Some((height, milk_core::Hash(hash)))
        })
        .collect())
}

/// On the operator's node: every `every`, records each brand chain's new head on the center
/// chain, through the same admission path as API submissions.
pub async fn anchor(node: Arc<Node>, every: Duration) {
    let Some(operator) = node.operator_key.clone() else {
        return;
    };
    let center_id = milk_core::ChainId::center();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let Some(center) = node.chain(&center_id) else {
            return;
        };
        let mut sequence = match center.store.account(&operator.address(), &[]) {
            Ok((_, seq)) => seq,
            Err(e) => {
                tracing::warn!(error = %e, "anchoring: cannot read the operator's account");
                continue;
            }
        };
        let mut txs = Vec::new();
        for handle in node
            .chain_handles()
            .iter()
            .filter(|h| h.spec.partner.is_some())
        {
            let id = &handle.spec.id;
            let head = handle.head();
            let anchored = match anchors_of(&node, id) {
                Ok(a) => a.last().map(|(h, _)| *h),
                Err(e) => {
                    tracing::warn!(chain = %id, error = %e, "anchoring: cannot read anchors");
                    continue;
                }
            };
            if head.height == 0 || anchored.is_some_and(|h| h >= head.height) {
                continue;
            }
            let tx = Transaction {
                chain: center_id.clone(),
                sender: operator.address(),
                sequence,
                expires_at_ms: node.clock.now_ms() + 60_000,
                action: Action::Anchor {
                    chain: id.clone(),
                    height: head.height,
                    hash: head.hash(),
                },
            };
            sequence += 1;
            if let Ok(v) = tx.sign(&operator).verify() {
                txs.push(v);
            }
        }
        if txs.is_empty() {
            continue;
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        if center
            .send(Command::Submit {
                txs,
                wait: true,
                reply,
            })
            .is_err()
        {
            return;
        }
        let Ok(admissions) = answer.await else { return };
        // Wait for the block, so the next round reads the anchors and the sequence it made.
        for a in admissions {
            if let crate::worker::Admission::Accepted {
                outcome: Some(rx), ..
            } = a
            {
                let _ = rx.await;
            }
        }
    }
}
