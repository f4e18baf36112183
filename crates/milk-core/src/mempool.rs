//! The bounded pool of verified transactions waiting for a block.
//!
//! Transactions leave in arrival order, except that one whose sequence number is ahead of
//! its sender's waits for the ones before it (clients may send a few at once over parallel
//! connections). Everything is bounded: the pool, and each sender's share of it, so one
//! sender cannot crowd out the rest.

use crate::Address;
use crate::state::{ChainState, TxError};
use crate::tx::{TxId, VerifiedTx};
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;
use thiserror::Error;

/// Why the pool refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MempoolError {
    /// The pool is full; try again shortly.
    #[error("the mempool is full ({0} transactions); retry shortly")]
    Full(usize),
    /// This sender already has the most pending transactions allowed.
    #[error("sender already has {0} pending transactions")]
    SenderFull(usize),
    /// The same transaction is already pending.
    #[error("transaction is already pending")]
    Duplicate,
}

impl MempoolError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MempoolError::Full(_) => "mempool_full",
            MempoolError::SenderFull(_) => "sender_pending_limit",
            MempoolError::Duplicate => "already_pending",
        }
    }
}

/// What a block takes from the pool.
#[derive(Debug, Default)]
pub struct Selection {
    /// Applied to the state, in order: the block's transactions.
    pub applied: Vec<VerifiedTx>,
    /// Dropped from the pool because they can never apply.
    pub rejected: Vec<(TxId, TxError)>,
}

/// The bounded pool.
#[derive(Debug)]
pub struct Mempool {
    capacity: usize,
    per_sender_limit: usize,
    txs: HashMap<TxId, VerifiedTx>,
    order: VecDeque<TxId>,
    per_sender: HashMap<Address, usize>,
}

impl Mempool {
    /// A pool holding at most `capacity` transactions, `per_sender_limit` from one sender.
    pub fn new(capacity: usize, per_sender_limit: usize) -> Mempool {
        Mempool {
            capacity,
            per_sender_limit,
            txs: HashMap::default(),
            order: VecDeque::new(),
            per_sender: HashMap::default(),
        }
    }

    /// How many transactions wait.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Whether this transaction waits here.
    pub fn contains(&self, id: &TxId) -> bool {
        self.txs.contains_key(id)
    }

    /// Adds a transaction.
    pub fn admit(&mut self, tx: VerifiedTx) -> Result<(), MempoolError> {
        if self.txs.contains_key(&tx.id()) {
            return Err(MempoolError::Duplicate);
        }
        if self.txs.len() >= self.capacity {
            return Err(MempoolError::Full(self.capacity));
        }
        let count = self.per_sender.entry(tx.tx().sender).or_default();
        if *count >= self.per_sender_limit {
            return Err(MempoolError::SenderFull(self.per_sender_limit));
        }
        *count += 1;
        self.order.push_back(tx.id());
        self.txs.insert(tx.id(), tx);
        Ok(())
    }

    fn remove(&mut self, id: &TxId) -> Option<VerifiedTx> {
        let tx = self.txs.remove(id)?;
        let sender = tx.tx().sender;
        let count = self.per_sender.get_mut(&sender).expect("counted on admit");
        *count -= 1;
        if *count == 0 {
            self.per_sender.remove(&sender);
        }
        Some(tx)
    }

    /// Applies up to `max` waiting transactions to `state` at block time `now_ms`, in
    /// arrival order; ones waiting for an earlier sequence number stay, ones that can never
    /// apply are dropped and reported.
    pub fn select(&mut self, state: &mut ChainState, now_ms: u64, max: usize) -> Selection {
        let mut out = Selection::default();
        // A few passes let a transaction that arrived before its predecessor follow it into
        // the same block; anything still waiting after that goes in a later block.
        for _pass in 0..4 {
            let mut progressed = false;
            let mut kept = VecDeque::with_capacity(self.order.len());
            while let Some(id) = self.order.pop_front() {
                if out.applied.len() >= max {
                    kept.push_back(id);
                    continue;
                }
                let Some(tx) = self.txs.get(&id) else {
                    continue;
                };
                match state.apply(tx.tx(), now_ms) {
                    Ok(()) => {
                        progressed = true;
                        out.applied.push(self.remove(&id).expect("present"));
                    }
                    Err(TxError::SequenceGap { .. }) => kept.push_back(id),
                    Err(e) => {
                        self.remove(&id);
                        out.rejected.push((id, e));
                    }
                }
            }
            self.order = kept;
            if !progressed || out.applied.len() >= max || self.order.is_empty() {
                break;
            }
        }
        out
    }
}
