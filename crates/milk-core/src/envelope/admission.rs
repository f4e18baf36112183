//! Who may wait in the pool, and how much of it they may take.
//!
//! A transaction waits only if it can apply soon: its sequence number is close behind what
//! its sender has committed and pending, its sender holds what it plainly moves (with what
//! its pending transactions move), and a fresh key (one that holds nothing and has sent
//! nothing) gets one transaction at a time, one that can apply now, within a small number
//! per block for all fresh keys together. Transactions waiting for a missing sequence
//! number leave after a short patience, not at their expiry. Each sender's share of the pool and of each block is bounded; the
//! operator and the partners' issuer keys get larger shares, and the operator alone the
//! room kept back at the top of the pool.

use crate::Symbol;
use crate::amount::Whole;
use thiserror::Error;

/// How much of the pool and of each block one sender may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// How far past its committed and pending transactions its next may arrive.
    pub window: u64,
    /// The most it may have waiting.
    pub pending: usize,
    /// The most of its transactions one block takes.
    pub per_block: usize,
    /// Whether it may use the room kept back at the top of the pool.
    pub reserved: bool,
    /// Whether the chain knows the key (the operator, a partner's issuer): never treated as
    /// a fresh key, whatever it holds.
    pub known: bool,
}

impl Share {
    /// An ordinary account's share.
    pub const ORDINARY: Share = Share {
        window: 64,
        pending: 1_024,
        per_block: 1_024,
        reserved: false,
        known: false,
    };

    /// The operator's: the widest window, no cap per block, and the reserved room.
    pub const OPERATOR: Share = Share {
        window: 4_096,
        pending: 16_384,
        per_block: usize::MAX,
        reserved: true,
        known: true,
    };
}

/// What the chain says of a sender when one of its transactions asks to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The sequence number its next transaction must carry, as committed.
    pub next_sequence: u64,
    /// Whether it holds nothing here and has sent nothing.
    pub fresh: bool,
    /// What it holds of the asset the transaction plainly moves, if it moves one that
    /// exists here (an unknown asset is the chain's to refuse), with the asset's decimals.
    pub holds: Option<Whole>,
    /// Its share.
    pub share: Share,
    /// When the transaction arrived (the node's clock, Unix ms).
    pub arrived_ms: u64,
}

/// The pool's own bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// The most transactions waiting.
    pub capacity: usize,
    /// Room at the top kept for senders with a reserved share (the operator).
    pub reserved: usize,
    /// The most transactions of fresh keys admitted between two blocks.
    pub fresh_per_block: usize,
    /// How long a sender's transactions may wait for a missing sequence number before
    /// they leave the pool, ms.
    pub gap_patience_ms: u64,
}

impl PoolLimits {
    /// A pool of `capacity`, a tenth of it reserved, a thousand fresh keys per block, and
    /// two seconds' patience for a missing sequence number.
    pub fn new(capacity: usize) -> PoolLimits {
        PoolLimits {
            capacity,
            reserved: capacity / 10,
            fresh_per_block: 1_000,
            gap_patience_ms: 2_000,
        }
    }
}

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
    /// The sequence number is too far past what the sender committed and has waiting.
    #[error("sequence {got} is too far ahead: send up to {limit} first")]
    TooFarAhead {
        /// The transaction's.
        got: u64,
        /// The first sequence number that would be refused.
        limit: u64,
    },
    /// A fresh key already has a transaction waiting, or this block's room for fresh keys
    /// is taken.
    #[error(
        "a key that holds nothing sends one transaction at a time, as room allows; retry after the next block"
    )]
    FreshKeyLimit,
    /// The sender does not hold what this and its waiting transactions move.
    #[error("holds {holds} {asset} but this and the waiting transactions move {needed} {asset}")]
    Unfunded {
        /// The asset.
        asset: Symbol,
        /// What it holds.
        holds: Whole,
        /// What this and its waiting transactions move.
        needed: Whole,
    },
}

impl MempoolError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MempoolError::Full(_) => "mempool_full",
            MempoolError::SenderFull(_) => "sender_pending_limit",
            MempoolError::Duplicate => "already_pending",
            MempoolError::SequencePending => "sequence_pending",
            MempoolError::TooFarAhead { .. } => "sequence_gap",
            MempoolError::FreshKeyLimit => "fresh_key_limit",
            MempoolError::Unfunded { .. } => "insufficient_balance",
        }
    }
}
