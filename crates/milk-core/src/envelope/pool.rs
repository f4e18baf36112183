//! The bounded pool of verified transactions waiting for a block.
//!
//! Senders are served in the order their transactions arrived, and each sender's
//! transactions in sequence order: one that arrives ahead of its predecessors waits for
//! them (clients may send many at once over parallel connections). Everything is bounded:
//! the pool, and each sender's share of it and of each block (see [`super::admission`]),
//! so one sender cannot crowd out the rest.

pub use super::admission::{MempoolError, PoolLimits, Share, Standing};
use super::{Payload, Transaction, VerifiedTx};
use crate::amount::Whole;
use crate::hash::TxId;
use crate::ledger::LedgerError;
use crate::{Address, Symbol};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, VecDeque};

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
    /// The applied transactions' total weight ([`Payload::weight`]).
    pub weight: usize,
}

impl<A, E> Default for Selection<A, E> {
    fn default() -> Self {
        Selection {
            applied: Vec::new(),
            rejected: Vec::new(),
            weight: 0,
        }
    }
}

/// The bounded pool.
#[derive(Debug)]
pub struct Mempool<A> {
    limits: PoolLimits,
    txs: HashMap<TxId, VerifiedTx<A>>,
    /// Arrival order of senders' transactions: the order senders are served in.
    order: VecDeque<TxId>,
    /// Each sender's waiting transactions by sequence number.
    by_sender: HashMap<Address, BTreeMap<u64, TxId>>,
    /// Each waiting sender's share, as its last admission found it.
    shares: HashMap<Address, Share>,
    /// What each sender's waiting transactions plainly move, by asset.
    debits: HashMap<(Address, Symbol), u128>,
    /// Fresh keys' transactions admitted since the last block.
    fresh_admitted: usize,
    /// When each waiting transaction arrived, ms.
    arrived: HashMap<TxId, u64>,
    /// The waiting transactions' total weight: what the pool's capacity bounds.
    weight: usize,
}

impl<A> Mempool<A> {
    /// An empty pool within `limits`.
    pub fn new(limits: PoolLimits) -> Self {
        Mempool {
            limits,
            txs: HashMap::default(),
            order: VecDeque::new(),
            by_sender: HashMap::default(),
            shares: HashMap::default(),
            debits: HashMap::default(),
            fresh_admitted: 0,
            arrived: HashMap::default(),
            weight: 0,
        }
    }

    /// Empties the pool (a replica that stops leading its chain), returning the ids that
    /// waited.
    pub fn clear(&mut self) -> Vec<TxId> {
        let ids = self.txs.keys().copied().collect();
        *self = Mempool::new(self.limits);
        ids
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

    /// The transaction `id`, if it waits here.
    pub fn get(&self, id: &TxId) -> Option<&VerifiedTx<A>> {
        self.txs.get(id)
    }

    /// The sequence numbers `sender` has waiting.
    fn waiting(&self, sender: &Address) -> usize {
        self.by_sender.get(sender).map_or(0, BTreeMap::len)
    }
}

impl<A: Payload> Mempool<A> {
    /// Adds a transaction, if its sender's `standing` lets it wait (see
    /// [`super::admission`]). Of two with the same sender and sequence number the first
    /// stays.
    pub fn admit(&mut self, tx: VerifiedTx<A>, standing: &Standing) -> Result<(), MempoolError> {
        if self.txs.contains_key(&tx.id()) {
            return Err(MempoolError::Duplicate);
        }
        self.check_room(standing, tx.tx().action.weight())?;
        let (sender, sequence) = (tx.tx().sender, tx.tx().sequence);
        let waiting = self.waiting(&sender);
        if waiting >= standing.share.pending {
            return Err(MempoolError::SenderFull(standing.share.pending));
        }
        if self
            .by_sender
            .get(&sender)
            .is_some_and(|q| q.contains_key(&sequence))
        {
            return Err(MempoolError::SequencePending);
        }
        let limit = standing.next_sequence + waiting as u64 + standing.share.window;
        if sequence >= limit {
            return Err(MempoolError::TooFarAhead {
                got: sequence,
                limit,
            });
        }
        if standing.fresh {
            let now = sequence == standing.next_sequence;
            if !now || waiting > 0 || self.fresh_admitted >= self.limits.fresh_per_block {
                return Err(MempoolError::FreshKeyLimit);
            }
            self.fresh_admitted += 1;
        }
        if let (Some((asset, amount)), Some(holds)) = (tx.tx().action.spends(), standing.holds) {
            let pending = self.debits.get(&(sender, *asset)).copied().unwrap_or(0);
            let needed = pending.saturating_add(amount.units());
            if needed > holds.amount.units() {
                let (asset, needed) = (*asset, Whole::new(needed, holds.decimals));
                return Err(MempoolError::Unfunded {
                    asset,
                    holds,
                    needed,
                });
            }
            *self.debits.entry((sender, *asset)).or_default() = needed;
        }
        self.by_sender
            .entry(sender)
            .or_default()
            .insert(sequence, tx.id());
        self.shares.insert(sender, standing.share);
        self.order.push_back(tx.id());
        self.arrived.insert(tx.id(), standing.arrived_ms);
        self.weight += tx.tx().action.weight();
        self.txs.insert(tx.id(), tx);
        Ok(())
    }

    /// Whether the pool has room for a transaction of `weight` from a sender with this
    /// standing.
    fn check_room(&self, standing: &Standing, weight: usize) -> Result<(), MempoolError> {
        let cap = self.limits.capacity;
        let open = if standing.share.reserved {
            cap
        } else {
            cap.saturating_sub(self.limits.reserved)
        };
        if self.weight + weight > open {
            return Err(MempoolError::Full(cap));
        }
        Ok(())
    }

    fn remove(&mut self, id: &TxId) -> Option<VerifiedTx<A>> {
        let tx = self.txs.remove(id)?;
        self.arrived.remove(id);
        self.weight -= tx.tx().action.weight();
        let sender = tx.tx().sender;
        if let Some(queue) = self.by_sender.get_mut(&sender) {
            queue.remove(&tx.tx().sequence);
            if queue.is_empty() {
                self.by_sender.remove(&sender);
                self.shares.remove(&sender);
            }
        }
        if let Some((asset, amount)) = tx.tx().action.spends() {
            let key = (sender, *asset);
            let left = self
                .debits
                .get(&key)
                .map_or(0, |d| d.saturating_sub(amount.units()));
            if left == 0 {
                self.debits.remove(&key);
            } else {
                self.debits.insert(key, left);
            }
        }
        Some(tx)
    }

    /// How many ids the arrival order holds: at most twice the waiting transactions, plus
    /// 1,024 (ids of transactions gone are dropped lazily).
    pub fn queued_ids(&self) -> usize {
        self.order.len()
    }

    /// Applies waiting transactions of up to `max` weight to `state` at block time
    /// `now_ms` (a heavier one than that still goes alone into an empty block). Senders
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
        self.fresh_admitted = 0;
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
        // By index: nothing below changes the order, and a block serves a handful of its
        // senders, so copying the whole queue each block would cost more than the block.
        for i in 0..self.order.len() {
            if out.weight >= max {
                break;
            }
            let id = self.order[i];
            let Some(sender) = self.txs.get(&id).map(|t| t.tx().sender) else {
                continue;
            };
            if !served.insert(sender) {
                continue;
            }
            self.drain_sender(&sender, state, now_ms, max, &mut out);
        }
        self.evict_stuck(state, now_ms, &mut out);
        self.forget_gone();
        out
    }

    /// Drops ids of transactions no longer waiting from the arrival order: those at its
    /// front (the oldest, served first) every block, the rest once they are as many as the
    /// waiting ones, so the order stays within twice the pool at a constant cost per
    /// transaction.
    fn forget_gone(&mut self) {
        while self
            .order
            .front()
            .is_some_and(|id| !self.txs.contains_key(id))
        {
            self.order.pop_front();
        }
        if self.order.len() > 2 * self.txs.len() + 1_024 {
            let txs = &self.txs;
            self.order.retain(|id| txs.contains_key(id));
        }
    }

    /// Drops the transactions of every sender whose next sequence number has been missing
    /// for longer than the pool's patience: they cannot apply until it comes, and waiting
    /// for their expiry would let never-applicable transactions hold the pool.
    fn evict_stuck<M: Machine<A>>(
        &mut self,
        state: &M,
        now_ms: u64,
        out: &mut Selection<A, M::Error>,
    ) {
        let patience = self.limits.gap_patience_ms;
        let mut stuck = Vec::new();
        for (sender, queue) in &self.by_sender {
            let expected = state.next_sequence(sender);
            let Some((&first, _)) = queue.iter().next() else {
                continue;
            };
            let oldest = (queue.values())
                .filter_map(|id| self.arrived.get(id))
                .min()
                .copied()
                .unwrap_or(now_ms);
            if first > expected && now_ms.saturating_sub(oldest) > patience {
                let ids: Vec<(TxId, u64)> = queue.iter().map(|(s, id)| (*id, *s)).collect();
                stuck.push((expected, ids));
            }
        }
        for (expected, ids) in stuck {
            for (id, got) in ids {
                if self.remove(&id).is_some() {
                    out.rejected
                        .push((id, LedgerError::SequenceGap { expected, got }.into()));
                }
            }
        }
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
        let share = self.shares.get(sender).map_or(usize::MAX, |s| s.per_block);
        let mut taken = 0;
        while out.weight < max && taken < share {
            let expected = state.next_sequence(sender);
            let Some((&sequence, &id)) = self.by_sender.get(sender).and_then(|q| q.iter().next())
            else {
                return;
            };
            if sequence > expected {
                return; // a gap: wait for the missing one
            }
            let weight = self.txs.get(&id).map_or(1, |t| t.tx().action.weight());
            if out.weight > 0 && out.weight + weight > max {
                return; // the next block takes it
            }
            let tx = self
                .remove(&id)
                .expect("queued transactions are in the pool");
            match state.apply(tx.tx(), now_ms) {
                Ok(()) => {
                    out.applied.push(tx);
                    out.weight += weight;
                    taken += 1;
                }
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
