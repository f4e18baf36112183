//! The operator's lane: every transaction the operator's key sends on one chain goes through
//! one task, which numbers them.
//!
//! A key's transactions must carry consecutive sequence numbers, and a transaction dropped
//! at block time leaves a gap that holds back every later one until it expires. So the
//! settlement steps, anchors and oracle prices the node sends on a chain are queued here,
//! numbered from the lane's own counter, sent in batches and awaited. The steps are built
//! never to be refused (a refusal is recorded on the chain instead); if one still is, the
//! pool drops the steps behind it in the same block (`after_refused`), and the lane numbers
//! them again from the committed sequence and sends them with its next batch: a refused
//! step holds the others back by one block, never until they expire.

use crate::lanes::Reply;
pub use crate::lanes::{Lane, LaneError};
use crate::node::{ChainHandle, Node, SendError};
use crate::submit::{Refusal, Submitted, submit_verified};
use crate::worker::SubmitError;
use milk_core::state::TxError;
use milk_core::tx::{Action, Transaction};
use milk_core::{ChainId, Keypair};
use milk_store::{ChainStore, TxLocation};
use std::sync::{Arc, Weak};
use tokio::sync::mpsc;

/// How long the operator's transactions stay valid.
const LANE_TX_LIFETIME_MS: u64 = 30_000;
/// The most transactions in one batch.
const LANE_BATCH: usize = 512;

async fn run(
    node: Weak<Node>,
    chain: ChainId,
    key: Keypair,
    mut rx: mpsc::UnboundedReceiver<(Action, Reply)>,
) {
    let mut next: Option<u64> = None;
    let mut carried: Vec<Step> = Vec::new();
    loop {
        let mut batch = std::mem::take(&mut carried);
        if batch.is_empty() {
            match rx.recv().await {
                Some((action, reply)) => batch.push((action, reply, 0)),
                None => return,
            }
        }
        while batch.len() < LANE_BATCH {
            match rx.try_recv() {
                Ok((action, reply)) => batch.push((action, reply, 0)),
                Err(_) => break,
            }
        }
        let Some(node) = node.upgrade() else { return };
        let Some(handle) = node.chain(&chain) else {
            for (_, reply, _) in batch {
                let _ = reply.send(Err(LaneError::UnknownChain));
            }
            continue;
        };
        let sequence = match next {
            Some(n) => n,
            None => match handle.store.account(&key.address(), &[]) {
                Ok((_, n)) => n,
                Err(e) => {
                    for (_, reply, _) in batch {
                        let _ = reply.send(Err(LaneError::Internal(e.to_string())));
                    }
                    continue;
                }
            },
        };
        let outcomes = send_batch(&node, &handle, &key, sequence, &batch).await;
        // Every outcome is in; after a refusal the next batch is numbered from what is
        // committed, and the steps dropped behind the refused one go first in it.
        let clean = outcomes.iter().all(Result::is_ok);
        next = clean.then_some(sequence + batch.len() as u64);
        let mut clashed = false;
        for ((action, reply, tries), outcome) in batch.into_iter().zip(outcomes) {
            match outcome {
                Err(e) if renumber(&e) && tries < LANE_RENUMBERINGS => {
                    let after_refused = matches!(
                        e.chain_error(),
                        Some(TxError::Ledger(
                            milk_core::error::LedgerError::AfterRefused { .. }
                        ))
                    );
                    clashed |= !after_refused;
                    carried.push((action, reply, tries + 1));
                }
                outcome => {
                    let _ = reply.send(outcome);
                }
            }
        }
        if clashed {
            // Someone else's transaction holds the number: it commits within a block or two.
            tokio::time::sleep(node.config.block_interval * 2).await;
        }
    }
}

/// A step waiting to be sent: the action, who waits for it, and how often it was numbered
/// again.
type Step = (Action, Reply, u8);

/// How often one step is numbered again before its refusal is reported.
const LANE_RENUMBERINGS: u8 = 8;

/// Whether a refusal is about the step's number, not the step: it was held back by a
/// refused step, or the key's next number was taken by someone else signing with it (an
/// administrator's tool, say). Numbered again from what is committed, it goes through.
fn renumber(e: &LaneError) -> bool {
    use milk_core::error::LedgerError::{AfterRefused, SequenceUsed};
    use milk_core::mempool::MempoolError::SequencePending;
    let LaneError::Refused(refusal) = e else {
        return false;
    };
    let numbering = |e: &TxError| {
        matches!(
            e,
            TxError::Ledger(AfterRefused { .. } | SequenceUsed { .. })
        )
    };
    match refusal {
        Refusal::Admission(SubmitError::Mempool(SequencePending)) => true,
        Refusal::Admission(SubmitError::Tx(e)) | Refusal::Dropped(e) => numbering(e),
        _ => false,
    }
}

async fn send_batch(
    node: &Node,
    handle: &ChainHandle,
    key: &Keypair,
    first: u64,
    batch: &[Step],
) -> Vec<Result<TxLocation, LaneError>> {
    let expires_at_ms = node.clock.now_ms() + LANE_TX_LIFETIME_MS;
    let mut txs = Vec::with_capacity(batch.len());
    for (i, (action, _, _)) in batch.iter().enumerate() {
        let tx = Transaction {
            chain: handle.spec.id.clone(),
            sender: key.address(),
            sequence: first + i as u64,
            expires_at_ms,
            action: action.clone(),
        };
        match tx.sign(key).verify() {
            Ok(v) => txs.push(v),
            Err((_, e)) => {
                let refused = LaneError::Refused(Refusal::Invalid(e));
                return batch.iter().map(|_| Err(refused.clone())).collect();
            }
        }
    }
    let answers = match submit_verified(handle, txs, true, None).await {
        Ok(answers) => answers,
        Err(SendError::Busy) => return batch.iter().map(|_| Err(LaneError::Busy)).collect(),
        Err(SendError::Stopped) => return batch.iter().map(|_| Err(LaneError::Halted)).collect(),
    };
    answers
        .into_iter()
        .map(|(_, submitted)| match submitted {
            Submitted::Committed(loc) => Ok(loc),
            Submitted::Refused(r) => Err(LaneError::Refused(r)),
            Submitted::Halted => Err(LaneError::Halted),
            Submitted::Pending => Err(LaneError::Internal("accepted without a receipt".into())),
        })
        .collect()
}

/// The lane of `chain`, started on first use, if the node holds the operator's key.
pub fn get(node: &Arc<Node>, chain: &ChainId) -> Option<Lane> {
    let key = node.operator_key.clone()?;
    Some(node.lanes.get_or_start(chain, || {
        let (requests, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(Arc::downgrade(node), chain.clone(), key, rx));
        Lane { requests }
    }))
}
