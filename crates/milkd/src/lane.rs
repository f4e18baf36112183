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
//!
//! Settlement steps travel together: every step queued when a batch leaves goes in one
//! `SettleBatch` transaction, signed once. Two batches may be on their way at once (one
//! committing while the next waits for its block), numbered one after the other; after a
//! refusal the lane lets both land before numbering again from what is committed.

use crate::lanes::Reply;
pub use crate::lanes::{Lane, LaneError};
use crate::node::{ChainHandle, Node, SendError};
use crate::submit::{Refusal, Submitted, submit_verified};
use crate::worker::SubmitError;
use milk_core::exchange::settlement::{self, MAX_SETTLEMENT_STEPS, StepRefusal};
use milk_core::state::TxError;
use milk_core::tx::{Action, ExchangeAction, Transaction, TxId};
use milk_core::{ChainId, Keypair};
use milk_store::{ChainStore, TxLocation};
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use tokio::sync::mpsc;

/// How long the operator's transactions stay valid.
const LANE_TX_LIFETIME_MS: u64 = 30_000;
/// The most transactions in one batch.
const LANE_BATCH: usize = 512;

/// How many batches a lane has on their way at once: one being committed while the next
/// waits for its block, so a step queued meanwhile waits for a block, not for a commit and
/// then a block.
const IN_FLIGHT: usize = 2;

/// A batch that went its way: its steps with their outcomes.
type Landed = (Vec<Step>, Vec<Result<TxLocation, LaneError>>);

/// A batch on its way.
type Flight = tokio::task::JoinHandle<Landed>;

async fn run(
    node: Weak<Node>,
    chain: ChainId,
    key: Keypair,
    mut rx: mpsc::UnboundedReceiver<(Action, Reply)>,
) {
    let mut next: Option<u64> = None;
    let mut waiting: Vec<Step> = Vec::new();
    let mut flying: VecDeque<Flight> = VecDeque::new();
    let mut open = true;
    loop {
        while waiting.len() < LANE_BATCH {
            match rx.try_recv() {
                Ok((action, reply)) => waiting.push((action, reply, 0)),
                Err(_) => break,
            }
        }
        // After a refusal, numbers are read again from what is committed, once nothing
        // is on its way.
        let room = flying.len() < IN_FLIGHT && (next.is_some() || flying.is_empty());
        if room && !waiting.is_empty() {
            let Some(node) = node.upgrade() else { return };
            let batch = std::mem::take(&mut waiting);
            if let Some((flight, after)) = launch(&node, &chain, &key, next, batch) {
                flying.push_back(flight);
                next = Some(after);
            }
            continue;
        }
        let Some(front) = flying.front_mut() else {
            if !open {
                return;
            }
            match rx.recv().await {
                Some((action, reply)) => waiting.push((action, reply, 0)),
                None => return,
            }
            continue;
        };
        tokio::select! {
            landed = front => {
                flying.pop_front();
                let Some(node) = node.upgrade() else { return };
                if !land(&node, landed, &mut waiting).await {
                    next = None;
                }
            }
            request = rx.recv(), if room && open => match request {
                Some((action, reply)) => waiting.push((action, reply, 0)),
                None => open = false,
            },
        }
    }
}

/// Numbers `batch` from `next` (or from what is committed) and sends it on its way: the
/// flight, and the number after its last transaction. `None` if it could not be sent (its
/// steps were answered).
fn launch(
    node: &Arc<Node>,
    chain: &ChainId,
    key: &Keypair,
    next: Option<u64>,
    batch: Vec<Step>,
) -> Option<(Flight, u64)> {
    let fail = |batch: Vec<Step>, e: LaneError| {
        for (_, reply, _) in batch {
            let _ = reply.send(Err(e.clone()));
        }
    };
    let Some(handle) = node.chain(chain) else {
        fail(batch, LaneError::UnknownChain);
        return None;
    };
    let first = match next {
        Some(n) => n,
        None => match handle.store.account(&key.address(), &[]) {
            Ok((_, n)) => n,
            Err(e) => {
                fail(batch, LaneError::Internal(e.to_string()));
                return None;
            }
        },
    };
    let units = transactions(&batch);
    let after = first + units.len() as u64;
    let (node, key) = (node.clone(), key.clone());
    let flight = tokio::spawn(async move {
        let outcomes = send_batch(&node, &handle, &key, first, &batch, units).await;
        (batch, outcomes)
    });
    Some((flight, after))
}

/// Answers a landed batch's steps, keeping in `waiting` those to number again; whether it
/// went through cleanly (a step refused inside a committed batch used no number of its own).
async fn land(
    node: &Node,
    landed: Result<Landed, tokio::task::JoinError>,
    waiting: &mut Vec<Step>,
) -> bool {
    // A flight that panicked dropped its steps: their drivers hear the lane halted.
    let Ok((batch, outcomes)) = landed else {
        return false;
    };
    let clean = (outcomes.iter()).all(|o| matches!(o, Ok(_) | Err(LaneError::StepRefused { .. })));
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
                waiting.push((action, reply, tries + 1));
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
    clean
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

/// How a lane batch travels: settlement steps together in one `SettleBatch` transaction
/// (up to [`MAX_SETTLEMENT_STEPS`] each), every other action in one of its own. Each holds
/// the positions, in the lane batch, of the steps it carries.
fn transactions(batch: &[Step]) -> Vec<(Action, Vec<usize>)> {
    let mut out: Vec<(Action, Vec<usize>)> = Vec::new();
    let mut steps: Vec<usize> = Vec::new();
    for (i, (action, _, _)) in batch.iter().enumerate() {
        match action {
            Action::Exchange(a) if a.is_step() => steps.push(i),
            other => out.push((other.clone(), vec![i])),
        }
    }
    for chunk in steps.chunks(MAX_SETTLEMENT_STEPS) {
        let steps = (chunk.iter())
            .filter_map(|i| match &batch[*i].0 {
                Action::Exchange(a) => Some(a.clone()),
                _ => None,
            })
            .collect();
        let action = Action::Exchange(ExchangeAction::SettleBatch { steps });
        out.push((action, chunk.to_vec()));
    }
    out
}

/// Signs and sends a lane batch as its transactions `units`, numbered from `first`: each
/// step's outcome, in order.
async fn send_batch(
    node: &Node,
    handle: &ChainHandle,
    key: &Keypair,
    first: u64,
    batch: &[Step],
    units: Vec<(Action, Vec<usize>)>,
) -> Vec<Result<TxLocation, LaneError>> {
    // From the later of the clock and the head's time: blocks never go back in time, so a
    // clock set back (corrected by NTP, say) would otherwise make every step expire at
    // once, and settlement would stall until the clock caught up with the chain.
    let chain_time = handle.head().time_ms;
    let expires_at_ms = node.clock.now_ms().max(chain_time) + LANE_TX_LIFETIME_MS;
    // The node's own signatures, made here: checking them again would only cost time, and
    // the orders a settlement embeds come from committed blocks or were checked on arrival.
    let spent = crate::cpu::Spent::start(&node.metrics.cpu.signatures);
    let txs: Vec<_> = (units.iter().enumerate())
        .map(|(i, (action, _))| {
            Transaction {
                chain: handle.spec.id.clone(),
                sender: key.address(),
                sequence: first + i as u64,
                expires_at_ms,
                action: action.clone(),
            }
            .sign_own(key)
        })
        .collect();
    drop(spent);
    let ids: Vec<_> = txs.iter().map(|t| t.id()).collect();
    let all = |e: LaneError| batch.iter().map(|_| Err(e.clone())).collect();
    let answers = match submit_verified(handle, txs, true, None).await {
        Ok(answers) => answers,
        Err(SendError::Busy) => return all(LaneError::Busy),
        Err(SendError::Stopped) => return all(LaneError::Halted),
    };
    let mut out: Vec<Result<TxLocation, LaneError>> =
        batch.iter().map(|_| Err(LaneError::Halted)).collect();
    for (((action, positions), id), (_, submitted)) in units.iter().zip(&ids).zip(answers) {
        let outcome = match submitted {
            Submitted::Committed(loc) => Ok(loc),
            Submitted::Refused(r) => Err(LaneError::Refused(r)),
            Submitted::Halted => Err(LaneError::Halted),
            Submitted::Pending => Err(LaneError::Internal("accepted without a receipt".into())),
        };
        let refused = match (&outcome, action) {
            (Ok(_), Action::Exchange(ExchangeAction::SettleBatch { .. })) => {
                let point = format!("batch:{}", handle.spec.id);
                node.crash_point(&point);
                refusals(handle, id)
            }
            _ => Ok(Vec::new()),
        };
        for (n, position) in positions.iter().enumerate() {
            out[*position] = step_outcome(&outcome, &refused, n);
        }
    }
    out
}

/// The refused steps a committed settlement batch recorded.
fn refusals(handle: &ChainHandle, id: &TxId) -> Result<Vec<StepRefusal>, LaneError> {
    match handle.store.record(&settlement::key(id)) {
        Ok(None) => Ok(Vec::new()),
        Ok(Some(v)) => settlement::decode(&v)
            .ok_or_else(|| LaneError::Internal("a malformed settlement record".into())),
        Err(e) => Err(LaneError::Internal(e.to_string())),
    }
}

/// What became of the `n`th step of a transaction whose outcome is `outcome`.
fn step_outcome(
    outcome: &Result<TxLocation, LaneError>,
    refused: &Result<Vec<StepRefusal>, LaneError>,
    n: usize,
) -> Result<TxLocation, LaneError> {
    let loc = outcome.clone()?;
    let refused = refused.as_ref().map_err(Clone::clone)?;
    match refused.iter().find(|r| r.index as usize == n) {
        Some(r) => Err(LaneError::StepRefused {
            code: r.code.clone(),
            message: r.message.clone(),
        }),
        None => Ok(loc),
    }
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
