//! A replicated chain's worker: it makes blocks only while its node leads the chain, and
//! applies every block from the replicated log, its own included, before anyone hears that
//! a transaction is committed.
//!
//! The leader applies its own blocks as it seals them (so it can go on making the next) and
//! keeps them as proposals; when the log hands a proposal back, it is written as sealed. A
//! block from anyone else is checked like any replay (the producer's signature, every
//! transaction, the state root) before it is written. If a block other than the awaited
//! proposal arrives, the proposals are dead: their waiters hear `Unknown`, and the state goes
//! back to what is committed.

use super::{Applied, Outcome, Sealed, Worker, Write, release};
use milk_core::block::Block;
use milk_core::chain::{self, Produced};
use milk_core::state::ChainState;
use milk_store::{ChainStore, StoreImage};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

/// Whether this node makes the chain's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Another node leads, or none does: transactions go to the leader.
    Follower,
    /// This node leads: it admits transactions and proposes blocks.
    Leader,
}

/// A replicated chain's part of its worker.
pub struct Replicated {
    pub(super) role: Role,
    proposer: UnboundedSender<Vec<u8>>,
    pub(super) proposed: VecDeque<Sealed>,
    blank: Box<dyn Fn() -> ChainState + Send>,
}

impl Replicated {
    /// A follower whose blocks, once it leads, go to `proposer` (encoded), rebuilding its
    /// state from the store on `blank`.
    pub fn new(
        proposer: UnboundedSender<Vec<u8>>,
        blank: Box<dyn Fn() -> ChainState + Send>,
    ) -> Replicated {
        Replicated {
            role: Role::Follower,
            proposer,
            proposed: VecDeque::new(),
            blank,
        }
    }

    pub(super) fn propose(&mut self, sealed: Sealed) {
        // A proposal the log refuses (this node no longer leads) is settled by `Follow`.
        let _ = self.proposer.send(sealed.produced.block.encode_to_vec());
        self.proposed.push_back(sealed);
    }
}

impl Worker {
    pub(super) fn apply_entry(
        &mut self,
        position: Vec<u8>,
        block: Option<Box<Block>>,
        reply: Applied,
    ) {
        let Some(block) = block else {
            return self.write(Write::Position { position, reply });
        };
        let Some(replica) = self.replica.as_mut() else {
            let _ = reply.send(Err("the chain is not replicated".into()));
            return;
        };
        let own = replica
            .proposed
            .front()
            .is_some_and(|s| s.produced.block.hash() == block.hash());
        if own && let Some(mut sealed) = replica.proposed.pop_front() {
            sealed.applied = Some((position, reply));
            return self.write(Write::Block(Box::new(sealed)));
        }
        self.abandon();
        let started = Instant::now();
        let height = block.header.height;
        match chain::follow(&mut self.state, &self.head, &block) {
            Ok(delta) => {
                self.note_producers();
                let ids = block.txs.iter().map(|t| t.tx.id()).collect();
                self.head = block.header.clone();
                self.shared.blocks_in_flight.fetch_add(1, Ordering::SeqCst);
                let produced = Produced {
                    block: *block,
                    delta,
                    ids,
                };
                let sealed = Sealed {
                    produced,
                    waiters: Vec::new(),
                    started,
                    applied: Some((position, reply)),
                };
                self.write(Write::Block(Box::new(sealed)));
            }
            Err(e) => {
                // A majority committed a block this replica finds invalid: stop, loudly.
                tracing::error!(chain = %self.label, height, error = %e, "replicated block is invalid; halting chain");
                self.shared.halted.store(true, Ordering::SeqCst);
                let _ = reply.send(Err(format!("block {height}: {e}")));
            }
        }
    }

    /// Our proposals will not be committed as they are: their waiters hear `Unknown` (their
    /// transactions may yet be committed in another block) and the state goes back to what
    /// is committed.
    fn abandon(&mut self) {
        let Some(replica) = self.replica.as_mut() else {
            return;
        };
        if replica.proposed.is_empty() {
            return;
        }
        let dead = replica.proposed.len();
        for sealed in replica.proposed.drain(..) {
            release(sealed.waiters, Outcome::Unknown);
        }
        self.shared
            .blocks_in_flight
            .fetch_sub(dead, Ordering::SeqCst);
        self.reload();
    }

    /// Rebuilds the state and head from the store, once everything sent to it is written.
    fn reload(&mut self) {
        self.flush();
        let Some(replica) = self.replica.as_ref() else {
            return;
        };
        let mut state = (replica.blank)();
        let restored = match self.store.snapshot() {
            Ok(Some(snapshot)) => state.restore(snapshot.records).map(|()| snapshot.head),
            Ok(None) => Err("the store is empty".into()),
            Err(e) => Err(e.to_string()),
        };
        match restored {
            Ok(head) => {
                self.state = state;
                self.head = head;
                self.note_producers();
            }
            Err(e) => {
                tracing::error!(chain = %self.label, error = %e, "cannot reload the chain; halting");
                self.shared.halted.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Waits until the committer has written everything handed to it.
    fn flush(&mut self) {
        let (done, written) = oneshot::channel();
        self.write(Write::Barrier(done));
        let _ = written.blocking_recv();
    }

    /// This node leads from now on; everything committed before is applied.
    pub(super) fn lead(&mut self) {
        self.abandon();
        if let Some(replica) = self.replica.as_mut() {
            replica.role = Role::Leader;
        }
    }

    /// Another node leads: what waits in the pool will never be in this node's blocks, so
    /// its senders hear `Moved` and send it again, to the leader.
    pub(super) fn follow(&mut self) {
        let Some(replica) = self.replica.as_mut() else {
            return;
        };
        replica.role = Role::Follower;
        self.mempool.clear();
        release(self.waiters.drain(), Outcome::Moved);
        self.shared.mempool_len.store(0, Ordering::Relaxed);
    }

    /// Replaces the chain with `image` (checked to be one chain whose head a key of its
    /// producer set signed: the set it ends with, or the one this replica knows) and starts
    /// from it.
    pub(super) fn install(&mut self, image: &StoreImage) -> Result<(), String> {
        if self.replica.is_none() {
            return Err("the chain is not replicated".into());
        }
        let head = &image.head;
        let mut imaged = (self.replica.as_ref().expect("checked").blank)();
        let records = image.state().map_err(|e| e.to_string())?;
        imaged.restore(records)?;
        let signer = &head.producer;
        let known = imaged.producers().allows(signer) || self.state.producers().allows(signer);
        if head.chain != self.head.chain || !known {
            return Err(format!("the image is not chain {}'s", self.head.chain));
        }
        self.abandon();
        self.flush();
        self.store.install(image).map_err(|e| e.to_string())?;
        self.reload();
        *self.shared.head.write().expect("head lock") = self.head.clone();
        Ok(())
    }
}
