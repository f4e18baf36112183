//! The committer: writes a chain's sealed blocks durably, in order, and only then answers
//! whoever waits for them.

use super::{ChainShared, OnCommit, Outcome, Sealed, release};
use crate::metrics::{Metrics, chain_label};
use milk_store::{RedbStore, TxLocation};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::time::Duration;
use tokio::sync::oneshot;

/// How soon a due block is looked at again while the committer is still writing.
pub(super) const COMMIT_POLL: Duration = Duration::from_millis(1);

/// Writes sealed blocks in order and answers their waiters.
pub(super) struct Committer {
    pub(super) store: RedbStore,
    pub(super) shared: Arc<ChainShared>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) label: String,
    pub(super) on_commit: Option<OnCommit>,
}

/// What the committer is asked to write.
pub(super) enum Write {
    /// A block, with its waiters.
    Block(Box<Sealed>),
    /// A replicated log entry that carries no block: only its position is recorded.
    Position {
        /// The encoded log position.
        position: Vec<u8>,
        /// Told once it is durable.
        reply: Applied,
    },
    /// Answered once everything sent before it is written.
    Barrier(oneshot::Sender<()>),
}

/// Where a replica's state machine hears that a log entry is applied and durable.
pub type Applied = oneshot::Sender<Result<(), String>>;

/// The meta key under which a replica records its last applied log entry.
pub const POSITION_KEY: &str = "raft_applied";

impl Committer {
    pub(super) fn run(self, writes: Receiver<Write>) {
        for write in writes {
            match write {
                Write::Block(sealed) => {
                    self.commit(*sealed);
                    self.shared.blocks_in_flight.fetch_sub(1, Ordering::SeqCst);
                }
                Write::Position { position, reply } => {
                    let written = self.store.put_meta(&[(POSITION_KEY, &position)]);
                    let _ = reply.send(written.map_err(|e| self.fail(e)));
                }
                Write::Barrier(reply) => {
                    let _ = reply.send(());
                }
            }
        }
    }

    /// Memory is now ahead of the disk: stop writing. A restart resumes from the last
    /// committed block; nothing unacknowledged was promised.
    fn fail(&self, e: milk_store::StoreError) -> String {
        tracing::error!(chain = %self.label, error = %e, "commit failed; halting chain");
        self.shared.halted.store(true, Ordering::SeqCst);
        e.to_string()
    }

    fn commit(&self, sealed: Sealed) {
        let Sealed {
            produced: p,
            waiters,
            started,
            applied,
        } = sealed;
        let (position, reply) = match applied {
            Some((position, reply)) => (Some(position), Some(reply)),
            None => (None, None),
        };
        let answer = |result: Result<(), String>| {
            if let Some(reply) = reply {
                let _ = reply.send(result);
            }
        };
        if self.shared.halted.load(Ordering::SeqCst) {
            answer(Err("the chain is halted".into()));
            return release(waiters, Outcome::Halted);
        }
        let height = p.block.header.height;
        let meta: Vec<(&str, &[u8])> = position
            .iter()
            .map(|p| (POSITION_KEY, p.as_slice()))
            .collect();
        let committed = {
            let _spent = crate::cpu::Spent::start(&self.metrics.cpu.commit);
            self.store.commit_with(&p.block, &p.ids, &p.delta, &meta)
        };
        if let Err(e) = committed {
            answer(Err(self.fail(e)));
            return release(waiters, Outcome::Halted);
        }
        *self.shared.head.write().expect("head lock") = p.block.header.clone();
        if let Some(hook) = &self.on_commit {
            hook(&p.delta);
        }
        answer(Ok(()));
        for (index, senders) in waiters {
            for s in senders {
                let _ = s.send(Outcome::Committed(TxLocation { height, index }));
            }
        }
        let label = chain_label(&self.label);
        self.metrics
            .txs_committed
            .get_or_create(&label)
            .inc_by(p.block.txs.len() as u64);
        self.metrics.blocks_committed.get_or_create(&label).inc();
        self.metrics
            .head_height
            .get_or_create(&label)
            .set(height as i64);
        self.metrics
            .block_commit_seconds
            .observe(started.elapsed().as_secs_f64());
    }
}
