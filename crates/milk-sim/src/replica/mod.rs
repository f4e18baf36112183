//! The center chain replicated on three or five nodes in one process, from a seed: the
//! nodes' Raft groups (openraft, as `milkd` runs them) talk through a simulated network that
//! loses, delays and reorders messages and splits the nodes into partitions; nodes crash and
//! restart from their disks; a node that fell behind catches up from a snapshot. Whoever
//! leads makes blocks of customers' transfers as a node's worker does (on the chain as its
//! own replica applied it, once everything committed before its term is applied), and every
//! replica checks and applies each committed block as a replica applies its leader's.
//! Time is tokio's paused clock (it moves only when every task waits) and openraft's random
//! election timeouts come from the seed (`runtime`), so a seed replays the same run.
//!
//! Checked throughout: never two different blocks at one height on any replicas, and every
//! committed block valid where it is applied. At the end, with the network healed and every
//! node up: every replica holds the same blocks and the same state, every block a leader
//! acknowledged among them, and MLK's supply what genesis made it, its balances summing to it.

mod checks;
mod cluster;
mod net;
mod runtime;
mod store;

pub use cluster::{Report, run};
use std::io::Cursor;

openraft::declare_raft_types!(
    /// The simulated chain's Raft types: encoded blocks as entries, on the seeded runtime.
    pub C:
        D = Vec<u8>,
        R = (),
        AsyncRuntime = runtime::SimRuntime,
);

/// A node's Raft.
type Raft = openraft::Raft<C>;

type StorageResult<T> = Result<T, openraft::StorageError<u64>>;
