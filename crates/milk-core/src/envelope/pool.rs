//! The bounded pool of verified transactions waiting for a block.
//!
//! Senders are served in the order their transactions arrived, and each sender's
//! transactions in sequence order: one that arrives ahead of its predecessors waits for
//! them (clients may send many at once over parallel connections). Everything is bounded:
//! the pool, and each sender's share of it, so one sender cannot crowd out the rest.

use super::{Transaction, VerifiedTx};
use crate::Address;
use crate::hash::TxId;
use crate::ledger::LedgerError;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, VecDeque};
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
    /// Another transaction of the sender with this sequence number is already pending.
    #[error("another transaction with this sequence number is already pending")]
    SequencePending,
}

impl MempoolError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MempoolError::Full(_) => "mempool_full",
            MempoolError::SenderFull(_) => "sender_pending_limit",
            MempoolError::Duplicate => "already_pending",
            MempoolError::SequencePending => "sequence_pending",
        }
    }
}

/// The state a pool's transactions apply to: the app's chain state.
pub trait Machine<A> {
    /// Why a transaction does not apply; an expired one's is the ledger's.
    type Error: From<LedgerError>;

    /// The sequence number the account's next transaction must carry.
    fn next_sequence(&self, account: &Address) -> u64;

    /// Applies a transaction whose signature was checked, at block time `now_ms`; on error
    /// nothing changed.
    fn apply(&mut self, tx: &Transaction<A>, now_ms: u64) -> Result<(), Self::Error>;
}

/// What a block takes from the pool.
#[derive(Debug)]
pub struct Selection<A, E> {
    /// Applied to the state, in order: the block's transactions.
    pub applied: Vec<VerifiedTx<A>>,
    /// Dropped from the pool because they can never apply.
    pub rejected: Vec<(TxId, E)>,
}

impl<A, E> Default for Selection<A, E> {
    fn default() -> Self {
        Selection {
            applied: Vec::new(),
            rejected: Vec::new(),
        }
    }
}

/// The bounded pool.
#[derive(Debug)]
pub struct Mempool<A> {
    capacity: usize,
    per_sender_limit: usize,
    txs: HashMap<TxId, VerifiedTx<A>>,
    /// Arrival order of senders' transactions: the order senders are served in.
    order: VecDeque<TxId>,
    /// Each sender's waiting transactions by sequence number.
    by_sender: HashMap<Address, BTreeMap<u64, TxId>>,
}

impl<A> Mempool<A> {
    /// A pool holding at most `capacity` transactions, `per_sender_limit` from one sender.
    pub fn new(capacity: usize, per_sender_limit: usize) -> Self {
        Mempool {
            capacity,
            per_sender_limit,
            txs: HashMap::default(),
            order: VecDeque::new(),
            by_sender: HashMap::default(),
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

    /// Adds a transaction. A second transaction with the same sender and sequence number
    /// waits beside the first; whichever comes first in the block applies.
    pub fn admit(&mut self, tx: VerifiedTx<A>) -> Result<(), MempoolError> {
        if self.txs.contains_key(&tx.id()) {
            return Err(MempoolError::Duplicate);
        }
        if self.txs.len() >= self.capacity {
            return Err(MempoolError::Full(self.capacity));
        }
        let sender = tx.tx().sender;
        let queue = self.by_sender.entry(sender).or_default();
        if queue.len() >= self.per_sender_limit {
            return Err(MempoolError::SenderFull(self.per_sender_limit));
        }
        if queue.contains_key(&tx.tx().sequence) {
            // The same sequence number twice: keep the one that came first; the other could
            // never apply after it.
            return Err(MempoolError::SequencePending);
        }
        queue.insert(tx.tx().sequence, tx.id());
        self.order.push_back(tx.id());
        self.txs.insert(tx.id(), tx);
        Ok(())
    }

    fn remove(&mut self, id: &TxId) -> Option<VerifiedTx<A>> {
        let tx = self.txs.remove(id)?;
        let sender = tx.tx().sender;
        if let Some(queue) = self.by_sender.get_mut(&sender) {
            queue.remove(&tx.tx().sequence);
            if queue.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
        Some(tx)
    }

    /// Applies up to `max` waiting transactions to `state` at block time `now_ms`. Senders
    /// are served in the order their transactions arrived; each sender's transactions go in
    /// sequence order, as far as they run without a gap. Expired transactions, and ones that
    /// can never apply, are dropped and reported.
    pub fn select<M: Machine<A>>(
        &mut self,
        state: &mut M,
        now_ms: u64,
        max: usize,
    ) -> Selection<A, M::Error> {
        let mut out = Selection::default();
        let expired: Vec<TxId> = self
            .txs
            .iter()
            .filter(|(_, tx)| tx.tx().expires_at_ms <= now_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(tx) = self.remove(&id) {
                out.rejected.push((
                    id,
                    LedgerError::Expired {
                        expires_at_ms: tx.tx().expires_at_ms,
                        now_ms,
                    }
                    .into(),
                ));
            }
        }
        let mut served: HashSet<Address> = HashSet::default();
        for id in self.order.clone() {
            if out.applied.len() >= max {
                break;
            }
            let Some(sender) = self.txs.get(&id).map(|t| t.tx().sender) else {
                continue;
            };
            if !served.insert(sender) {
                continue;
            }
            self.drain_sender(&sender, state, now_ms, max, &mut out);
        }
        let txs = &self.txs;
        self.order.retain(|id| txs.contains_key(id));
        out
    }

    /// Applies one sender's run of consecutive sequence numbers.
    fn drain_sender<M: Machine<A>>(
        &mut self,
        sender: &Address,
        state: &mut M,
        now_ms: u64,
        max: usize,
        out: &mut Selection<A, M::Error>,
    ) {
        while out.applied.len() < max {
            let expected = state.next_sequence(sender);
            let Some((&sequence, &id)) = self.by_sender.get(sender).and_then(|q| q.iter().next())
            else {
                return;
            };
            if sequence > expected {
                return; // a gap: wait for the missing one
            }
            let tx = self
                .remove(&id)
                .expect("queued transactions are in the pool");
            match state.apply(tx.tx(), now_ms) {
                Ok(()) => out.applied.push(tx),
                Err(e) => {
                    out.rejected.push((id, e));
                    if sequence == expected {
                        self.evict_after_refused(sender, sequence, out);
                    }
                }
            }
        }
    }

    /// Drops what a sender queued behind its refused transaction: none of it can apply
    /// until the sender signs that sequence number again, so none of it waits for its
    /// expiry (nor holds back what the sender sends next).
    fn evict_after_refused<E: From<LedgerError>>(
        &mut self,
        sender: &Address,
        refused: u64,
        out: &mut Selection<A, E>,
    ) {
        let queued: Vec<TxId> = (self.by_sender.get(sender))
            .map(|q| q.values().copied().collect())
            .unwrap_or_default();
        for id in queued {
            if self.remove(&id).is_some() {
                out.rejected
                    .push((id, LedgerError::AfterRefused { refused }.into()));
            }
        }
    }
}
