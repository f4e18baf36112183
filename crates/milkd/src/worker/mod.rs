//! One thread per chain owns that chain's state, mempool and store writes.
//!
//! Everything that changes a chain goes through its worker's bounded command queue, so a
//! chain has exactly one writer and needs no locks on its state. Signatures are checked
//! before a command is sent (in parallel, off this thread); the worker admits, orders and
//! applies, then hands each sealed block to the chain's committer thread, which writes it
//! durably and only then tells waiters that their transactions are committed. While one
//! block is being written the worker keeps admitting, so under load the next block grows
//! and one fsync covers more transactions (group commit).

use crate::clock::Clock;
use crate::metrics::{Metrics, chain_label};
use milk_core::block::{Block, BlockHeader};
use milk_core::chain::{self, Produced};
use milk_core::error::LedgerError;
use milk_core::mempool::{Mempool, MempoolError, Share};
use milk_core::state::{ChainState, StateDelta, TxError};
use milk_core::tx::{SignedTransaction, TxId, VerifiedTx};
use milk_core::{Address, Keypair};
use milk_store::{RedbStore, StoreImage, TxLocation};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::oneshot;

mod committer;
mod role;
pub use committer::{Applied, POSITION_KEY};
use committer::{COMMIT_POLL, Committer, Write};
pub use role::{Replicated, Role};

/// The worker's queue is full or gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SendError {
    /// Too many requests queued; retry shortly.
    #[error("the chain is busy; retry shortly")]
    Busy,
    /// The worker has stopped.
    #[error("the chain is shutting down")]
    Stopped,
}

/// The most blocks a replicated chain's leader has between sealing and committing.
const REPLICA_IN_FLIGHT: usize = 8;

/// How many refused transaction ids a chain remembers for status queries.
const REJECTED_MEMORY: usize = 100_000;

/// What a chain's worker is asked to do.
#[derive(Debug)]
pub enum Command {
    /// Admit transactions whose signatures were checked.
    Submit {
        /// The transactions, in the order given.
        txs: Vec<VerifiedTx>,
        /// Whether to hand back a receiver that resolves when each is committed or dropped.
        wait: bool,
        /// Where the answers go, one per transaction.
        reply: oneshot::Sender<Vec<Admission>>,
    },
    /// Tell whether a transaction waits or was refused.
    Status {
        /// The transaction.
        id: TxId,
        /// Where the answer goes.
        reply: oneshot::Sender<PendingStatus>,
    },
    /// A replicated log entry to apply: a block (the leader's own, or another node's, which
    /// is checked here), or only a log position. Answered once durable.
    Apply {
        /// The log position, encoded, recorded with it.
        position: Vec<u8>,
        /// The block the entry carries, if any.
        block: Option<Box<Block>>,
        /// Where the answer goes.
        reply: Applied,
    },
    /// Replace the chain with a leader's image (a replica catching up).
    Install {
        /// The checked image.
        image: Box<StoreImage>,
        /// Where the answer goes.
        reply: Applied,
    },
    /// This node now leads the chain: everything committed before is applied.
    Lead,
    /// Another node leads (or none does): stop making blocks.
    Follow,
    /// Commit what waits, then stop.
    Shutdown,
}

/// The answer to one submitted transaction.
#[derive(Debug)]
pub enum Admission {
    /// In the mempool; `outcome` resolves when it is committed or dropped.
    Accepted {
        /// The transaction id.
        id: TxId,
        /// Present when the submitter asked to wait.
        outcome: Option<oneshot::Receiver<Outcome>>,
    },
    /// Refused; nothing was applied.
    Refused {
        /// The transaction id.
        id: TxId,
        /// Why.
        error: SubmitError,
    },
}

/// What finally happened to an accepted transaction.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Durably committed.
    Committed(TxLocation),
    /// Dropped at block time: it could no longer apply.
    Dropped(TxError),
    /// The chain stopped before committing it (storage failure or shutdown).
    Halted,
    /// This node stopped leading the chain before its block was known to be committed: it
    /// may still be; ask for its status.
    Unknown,
    /// This node stopped leading the chain before the transaction was in a block: it is not
    /// committed; send it again (to the new leader).
    Moved,
}

/// Why a submission was refused.
#[derive(Debug, Clone, Error)]
pub enum SubmitError {
    /// The transaction breaks a chain rule.
    #[error("{0}")]
    Tx(TxError),
    /// The mempool cannot take it.
    #[error("{0}")]
    Mempool(MempoolError),
    /// This exact transaction is already committed.
    #[error("transaction is already committed at height {height}")]
    AlreadyCommitted {
        /// Its block.
        height: u64,
        /// Its position.
        index: u32,
    },
    /// The chain has stopped accepting transactions.
    #[error("chain is halted after a storage failure; restart the node")]
    Halted,
    /// Another node leads this chain; send it there.
    #[error("this node does not lead the chain; send the transaction to its leader")]
    NotLeader,
}

impl SubmitError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Tx(e) => e.code(),
            SubmitError::Mempool(e) => e.code(),
            SubmitError::AlreadyCommitted { .. } => "already_committed",
            SubmitError::Halted => "chain_halted",
            SubmitError::NotLeader => "not_leader",
        }
    }
}

/// A transaction's status as far as the worker knows (committed ones are in the store).
#[derive(Debug, Clone)]
pub enum PendingStatus {
    /// Waiting in the mempool (with the transaction), or in a block being made durable.
    Pending(Option<Box<SignedTransaction>>),
    /// Refused or dropped, with the reason.
    Rejected(SubmitError),
    /// Never seen, or forgotten.
    Unknown,
}

/// What readers see of a chain without asking its worker.
#[derive(Debug)]
pub struct ChainShared {
    /// The last committed block's header.
    pub head: RwLock<BlockHeader>,
    /// Set when a storage failure stopped the chain.
    pub halted: AtomicBool,
    /// Transactions waiting.
    pub mempool_len: AtomicUsize,
    /// Blocks sealed but not yet durably committed.
    pub blocks_in_flight: AtomicUsize,
    /// A replicated chain's leader as last heard (a node id; 0 when unknown or not
    /// replicated).
    pub leader: AtomicU64,
    /// Whether this node holds a key of the chain's producer set, and so may make its blocks.
    pub produces: AtomicBool,
    /// The chain's producer set, as of the last block this node applied.
    pub producers: RwLock<Vec<Address>>,
    /// Set while this node hands the chain's leadership to the center chain's leader: it
    /// neither sends heartbeats nor stands for election.
    pub yielding: AtomicBool,
}

/// Block-making settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The most transactions in one block.
    pub block_max_txs: usize,
    /// How long the first waiting transaction may wait.
    pub block_interval: Duration,
    /// The operator, whose share is the largest and who alone uses the pool's reserved room.
    pub operator: Address,
    /// An ordinary account's share of the pool and of each block.
    pub ordinary: Share,
    /// A partner's issuer key's share.
    pub issuer: Share,
}

impl WorkerConfig {
    /// The share of the pool and of each block `sender` gets here.
    fn share(&self, state: &ChainState, sender: &Address) -> Share {
        if *sender == self.operator {
            Share::OPERATOR
        } else if state.is_issuer(sender) {
            self.issuer
        } else {
            self.ordinary
        }
    }
}

/// A chain's single writer.
pub struct Worker {
    state: ChainState,
    mempool: Mempool,
    store: RedbStore,
    /// The last sealed block (committed or on its way).
    head: BlockHeader,
    /// The keys this node may sign blocks with; a block is signed by the first the chain's
    /// producer set allows.
    keys: Vec<Keypair>,
    /// Set once the node has said it holds no key of the set (said once, not per block).
    keyless: bool,
    config: WorkerConfig,
    shared: Arc<ChainShared>,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    waiters: HashMap<TxId, Vec<oneshot::Sender<Outcome>>>,
    rejected: HashMap<TxId, SubmitError>,
    rejected_order: VecDeque<TxId>,
    /// Ids of sealed blocks not yet known to be committed, by height.
    sealing: VecDeque<(u64, HashSet<TxId>)>,
    label: String,
    on_commit: Option<OnCommit>,
    /// Present when the chain is replicated.
    replica: Option<Replicated>,
    /// The committer's queue, while the worker runs.
    committer: Option<SyncSender<Write>>,
    /// When the last block was sealed: blocks come at most once per interval.
    last_sealed: Option<Instant>,
}

/// Called by a chain's committer with each block's state changes once they are durable, before
/// the block's waiters hear of it.
pub type OnCommit = Box<dyn Fn(&StateDelta) + Send>;

/// A sealed block on its way to disk, with whoever waits for its transactions.
struct Sealed {
    produced: Produced,
    waiters: Vec<(u32, Vec<oneshot::Sender<Outcome>>)>,
    started: Instant,
    /// A replica's log position, and who to tell once it is durable.
    applied: Option<(Vec<u8>, Applied)>,
}

impl Worker {
    /// A worker resuming at `head` with `state`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        state: ChainState,
        mempool: Mempool,
        store: RedbStore,
        head: BlockHeader,
        keys: Vec<Keypair>,
        config: WorkerConfig,
        shared: Arc<ChainShared>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        on_commit: Option<OnCommit>,
    ) -> Worker {
        let label = state.chain().to_string();
        let mut worker = Worker {
            state,
            mempool,
            store,
            head,
            keys,
            keyless: false,
            config,
            shared,
            metrics,
            clock,
            waiters: HashMap::default(),
            rejected: HashMap::default(),
            rejected_order: VecDeque::new(),
            sealing: VecDeque::new(),
            label,
            on_commit,
            replica: None,
            committer: None,
            last_sealed: None,
        };
        worker.note_producers();
        worker
    }

    /// Makes the chain a replica that starts as a follower: its blocks go to `replica`'s
    /// proposer and are committed once applied from the replicated log.
    pub fn replicated(mut self, replica: Replicated) -> Worker {
        self.replica = Some(replica);
        self
    }

    /// Runs until told to shut down or every sender is gone; commits what waits first.
    pub fn run(mut self, commands: Receiver<Command>) {
        let (to_committer, committer_rx) = sync_channel::<Write>(64);
        let committer = Committer {
            store: self.store.clone(),
            shared: self.shared.clone(),
            metrics: self.metrics.clone(),
            label: self.label.clone(),
            on_commit: self.on_commit.take(),
        };
        let committer = std::thread::Builder::new()
            .name(format!("commit-{}", self.label))
            .spawn(move || committer.run(committer_rx))
            .expect("spawning a thread");
        self.committer = Some(to_committer);
        let mut deadline: Option<Instant> = None;
        loop {
            let first = match deadline {
                None => commands.recv().ok(),
                Some(d) => match commands.recv_timeout(d.saturating_duration_since(Instant::now()))
                {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            let mut stop = deadline.is_none() && first.is_none();
            // Take what else is queued, so a burst becomes one block.
            let mut next = first;
            let mut taken = 0;
            while let Some(cmd) = next.take() {
                if let Command::Shutdown = cmd {
                    stop = true;
                    break;
                }
                self.handle(cmd);
                taken += 1;
                if taken < 1024 && self.mempool.len() < self.config.block_max_txs {
                    next = commands.try_recv().ok();
                }
            }
            if stop {
                break;
            }
            deadline = self.seal_when_due(deadline);
        }
        self.stop(committer);
    }

    /// Seals a block when one is due (or the pool is full) and the committer has room;
    /// returns when to look again. A block is due an interval after the last one: a
    /// transaction reaching a chain that sealed nothing for that long goes into a block at
    /// once, and under load transactions gather for an interval per block.
    fn seal_when_due(&mut self, mut deadline: Option<Instant>) -> Option<Instant> {
        let now = Instant::now();
        if !self.mempool.is_empty() && deadline.is_none() {
            deadline = Some(self.due(now));
        }
        // One block is written while the next fills; a full pool may queue one more (a
        // replica pipelines a few more through its log).
        let in_flight = self.shared.blocks_in_flight.load(Ordering::SeqCst);
        let (idle, most) = match &self.replica {
            None => (1, 2),
            Some(_) => (REPLICA_IN_FLIGHT / 2, REPLICA_IN_FLIGHT),
        };
        let full = self.mempool.len() >= self.config.block_max_txs;
        let due = deadline.is_some_and(|d| now >= d);
        if (due && in_flight < idle) || (full && in_flight < most) {
            self.seal_block();
            return (!self.mempool.is_empty()).then(|| Instant::now() + self.config.block_interval);
        }
        // The committer is busy: look again shortly; the pool keeps filling meanwhile.
        if due {
            Some(now + COMMIT_POLL)
        } else {
            deadline
        }
    }

    /// When a block is due for a transaction reaching an empty pool at `now`: an interval
    /// after the last block (at once if that was longer ago). A replicated chain waits an
    /// interval from `now`, so its leader's log takes fewer, fuller entries.
    fn due(&self, now: Instant) -> Instant {
        let interval = self.config.block_interval;
        match (&self.replica, self.last_sealed) {
            (None, Some(last)) => (last + interval).max(now),
            (None, None) => now,
            (Some(_), _) => now + interval,
        }
    }

    /// Shutting down: seals what was accepted (a replica's pool is its leader's to seal), lets
    /// the committer finish, and releases the rest.
    fn stop(mut self, committer: std::thread::JoinHandle<()>) {
        while self.replica.is_none()
            && !self.mempool.is_empty()
            && !self.shared.halted.load(Ordering::SeqCst)
        {
            let before = self.mempool.len();
            self.seal_block();
            if self.mempool.len() == before {
                break;
            }
        }
        self.committer = None;
        if let Some(replica) = self.replica.as_mut() {
            for sealed in replica.proposed.drain(..) {
                release(sealed.waiters, Outcome::Unknown);
            }
        }
        let _ = committer.join();
        release(self.waiters.drain(), Outcome::Halted);
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Submit { txs, wait, reply } => {
                let answers: Vec<Admission> =
                    txs.into_iter().map(|tx| self.admit(tx, wait)).collect();
                let accepted = answers
                    .iter()
                    .filter(|a| matches!(a, Admission::Accepted { .. }))
                    .count();
                self.metrics
                    .txs_accepted
                    .get_or_create(&chain_label(&self.label))
                    .inc_by(accepted as u64);
                self.shared
                    .mempool_len
                    .store(self.mempool.len(), Ordering::Relaxed);
                let _ = reply.send(answers);
            }
            Command::Status { id, reply } => {
                self.prune_sealing();
                let status = if let Some(tx) = self.mempool.get(&id) {
                    PendingStatus::Pending(Some(Box::new(tx.signed().clone())))
                } else if self.sealing.iter().any(|(_, ids)| ids.contains(&id)) {
                    PendingStatus::Pending(None)
                } else if let Some(e) = self.rejected.get(&id) {
                    PendingStatus::Rejected(e.clone())
                } else {
                    PendingStatus::Unknown
                };
                let _ = reply.send(status);
            }
            Command::Apply {
                position,
                block,
                reply,
            } => self.apply_entry(position, block, reply),
            Command::Install { image, reply } => {
                let _ = reply.send(self.install(&image));
            }
            Command::Lead => self.lead(),
            Command::Follow => self.follow(),
            Command::Shutdown => unreachable!("handled by run"),
        }
    }

    fn admit(&mut self, tx: VerifiedTx, wait: bool) -> Admission {
        let id = tx.id();
        let refuse = |this: &mut Worker, error: SubmitError| {
            this.metrics.reject(&this.label, error.code());
            let keeps_status = matches!(
                error,
                SubmitError::Tx(TxError::Ledger(LedgerError::SequenceUsed { .. }))
                    | SubmitError::Mempool(MempoolError::Duplicate)
            );
            if !keeps_status {
                this.remember_rejected(id, error.clone());
            }
            Admission::Refused { id, error }
        };
        if self.shared.halted.load(Ordering::SeqCst) {
            return refuse(self, SubmitError::Halted);
        }
        if self
            .replica
            .as_ref()
            .is_some_and(|r| r.role != Role::Leader)
        {
            return refuse(self, SubmitError::NotLeader);
        }
        match self.state.check_envelope(tx.tx(), self.clock.now_ms()) {
            Ok(()) => {}
            // Transactions may arrive ahead of their predecessors and wait for them, as far
            // ahead as the sender's share lets them (the pool decides).
            Err(TxError::Ledger(LedgerError::SequenceGap { .. })) => {}
            // Whether a used sequence number is an exact replay of a committed transaction
            // is looked up by the API, on the requester's thread, not here on the writer's.
            Err(e) => return refuse(self, SubmitError::Tx(e)),
        }
        let share = self.config.share(&self.state, &tx.tx().sender);
        let standing = self.state.standing(tx.tx(), share, self.clock.now_ms());
        if let Err(e) = self.mempool.admit(tx, &standing) {
            return refuse(self, SubmitError::Mempool(e));
        }
        let outcome = wait.then(|| {
            let (tx, rx) = oneshot::channel();
            self.waiters.entry(id).or_default().push(tx);
            rx
        });
        Admission::Accepted { id, outcome }
    }

    fn prune_sealing(&mut self) {
        let committed = self.shared.head.read().expect("head lock").height;
        while self.sealing.front().is_some_and(|(h, _)| *h <= committed) {
            self.sealing.pop_front();
        }
    }

    fn seal_block(&mut self) {
        if self.shared.halted.load(Ordering::SeqCst) {
            return;
        }
        let Some(key) = self.signing_key().cloned() else {
            return self.no_signing_key();
        };
        let started = Instant::now();
        self.last_sealed = Some(started);
        let spent = crate::cpu::Spent::start(&self.metrics.cpu.apply);
        let (produced, dropped) = chain::produce(
            &mut self.state,
            &mut self.mempool,
            &self.head,
            self.clock.now_ms(),
            &key,
            self.config.block_max_txs,
        );
        drop(spent);
        self.note_producers();
        for (id, error) in dropped {
            self.metrics.reject(&self.label, error.code());
            self.notify(&id, Outcome::Dropped(error.clone()));
            self.remember_rejected(id, SubmitError::Tx(error));
        }
        if let Some(p) = produced {
            let waiters = p
                .ids
                .iter()
                .enumerate()
                .filter_map(|(i, id)| self.waiters.remove(id).map(|w| (i as u32, w)))
                .collect();
            self.prune_sealing();
            self.sealing
                .push_back((p.block.header.height, p.ids.iter().copied().collect()));
            self.head = p.block.header.clone();
            self.shared.blocks_in_flight.fetch_add(1, Ordering::SeqCst);
            let sealed = Sealed {
                produced: p,
                waiters,
                started,
                applied: None,
            };
            match self.replica.as_mut() {
                Some(replica) => replica.propose(sealed),
                None => self.write(Write::Block(Box::new(sealed))),
            }
        }
        self.shared
            .mempool_len
            .store(self.mempool.len(), Ordering::Relaxed);
        self.metrics
            .mempool_size
            .get_or_create(&chain_label(&self.label))
            .set(self.mempool.len() as i64);
    }

    /// The first of this node's keys that the chain's producer set allows.
    fn signing_key(&self) -> Option<&Keypair> {
        let set = self.state.producers();
        self.keys.iter().find(|k| set.allows(&k.address()))
    }

    /// Records whether this node may make the chain's next block (a replicated node stands
    /// for election only while it may).
    fn note_producers(&mut self) {
        let produces = self.signing_key().is_some();
        self.shared.produces.store(produces, Ordering::SeqCst);
        let set = self.state.producers().keys();
        let mut shared = self.shared.producers.write().expect("producers lock");
        if shared.as_slice() != set {
            *shared = set.to_vec();
        }
        drop(shared);
        if produces {
            self.keyless = false;
        }
    }

    /// This node holds no key of the producer set: its transactions wait for a node that does
    /// (a replicated chain's leader steps down; see `replica::group`).
    fn no_signing_key(&mut self) {
        self.note_producers();
        if !std::mem::replace(&mut self.keyless, true) {
            let set: Vec<String> = (self.state.producers().keys().iter())
                .map(ToString::to_string)
                .collect();
            tracing::warn!(chain = %self.label, producers = ?set, "this node holds no key of the chain's producer set: it makes no blocks");
        }
    }

    /// Hands a write to the committer; if it is gone (it panicked), the chain halts.
    fn write(&mut self, write: Write) {
        let sent = match &self.committer {
            Some(c) => c.send(write).map_err(|e| e.0),
            None => Err(write),
        };
        if let Err(unsent) = sent {
            self.shared.halted.store(true, Ordering::SeqCst);
            match unsent {
                Write::Block(sealed) => {
                    if let Some((_, reply)) = sealed.applied {
                        let _ = reply.send(Err("the chain is halted".into()));
                    }
                    release(sealed.waiters, Outcome::Halted);
                }
                Write::Position { reply, .. } => {
                    let _ = reply.send(Err("the chain is halted".into()));
                }
                Write::Barrier(_) => {}
            }
        }
    }

    fn notify(&mut self, id: &TxId, outcome: Outcome) {
        if let Some(senders) = self.waiters.remove(id) {
            for s in senders {
                let _ = s.send(outcome.clone());
            }
        }
    }

    fn remember_rejected(&mut self, id: TxId, error: SubmitError) {
        if self.rejected.insert(id, error).is_none() {
            self.rejected_order.push_back(id);
        }
        while self.rejected_order.len() > REJECTED_MEMORY {
            if let Some(old) = self.rejected_order.pop_front() {
                self.rejected.remove(&old);
            }
        }
    }
}

/// Answers every waiter in `waiters` with the same outcome.
fn release<K>(
    waiters: impl IntoIterator<Item = (K, Vec<oneshot::Sender<Outcome>>)>,
    outcome: Outcome,
) {
    for (_, senders) in waiters {
        for s in senders {
            let _ = s.send(outcome.clone());
        }
    }
}
