//! Handles to the operator's lanes (the `lane` module runs them): what the rest of the node holds to
//! send the operator's actions, and why one did not commit.

use crate::outcome::Refusal;
use milk_core::ChainId;
use milk_core::state::TxError;
use milk_core::tx::Action;
use milk_store::TxLocation;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

/// Why the lane could not commit an action.
#[derive(Debug, Clone)]
pub enum LaneError {
    /// The chain refused it.
    Refused(Refusal),
    /// The chain stopped, or the node is stopping, before it committed.
    Halted,
    /// The chain did not take the batch (its queue is full).
    Busy,
    /// No such chain on this node.
    UnknownChain,
    /// The store could not be read.
    Internal(String),
    /// A settlement step, sent in a batch that committed, changed nothing: the batch
    /// recorded why.
    StepRefused {
        /// The rule's stable code (`trade_closed`: the step was done before).
        code: String,
        /// What a person reads.
        message: String,
    },
}

impl LaneError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            LaneError::Refused(r) => r.code(),
            LaneError::Halted => "chain_halted",
            LaneError::Busy => "chain_busy",
            LaneError::UnknownChain => "unknown_chain",
            LaneError::Internal(_) => "internal",
            LaneError::StepRefused { .. } => "step_refused",
        }
    }

    /// What went wrong, for a caller who gets the code beside it (the log's `Display`
    /// names the code too).
    pub fn message(&self) -> String {
        match self {
            LaneError::Refused(r) => r.to_string(),
            other => other.to_string(),
        }
    }

    /// The chain rule that refused it, if one did.
    pub fn chain_error(&self) -> Option<&TxError> {
        match self {
            LaneError::Refused(r) => r.chain_error(),
            _ => None,
        }
    }
}

impl std::fmt::Display for LaneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaneError::Refused(r) => write!(f, "{r} ({})", r.code()),
            LaneError::Halted => f.write_str("the chain stopped before committing it"),
            LaneError::Busy => f.write_str("the chain did not take the batch"),
            LaneError::UnknownChain => f.write_str("no such chain"),
            LaneError::Internal(e) => write!(f, "internal error: {e}"),
            LaneError::StepRefused { code, message } => {
                write!(f, "the step was refused: {message} ({code})")
            }
        }
    }
}

pub(crate) type Reply = oneshot::Sender<Result<TxLocation, LaneError>>;

/// A handle to one chain's operator lane.
#[derive(Debug, Clone)]
pub struct Lane {
    pub(crate) requests: mpsc::UnboundedSender<(Action, Reply)>,
}

impl Lane {
    /// Signs `action` with the operator's key, submits it and waits for its block.
    pub async fn submit(&self, action: Action) -> Result<TxLocation, LaneError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((action, reply))
            .map_err(|_| LaneError::Halted)?;
        answer.await.map_err(|_| LaneError::Halted)?
    }
}

/// The node's lanes, one per chain, started on first use.
#[derive(Debug, Default)]
pub struct Lanes {
    lanes: Mutex<HashMap<ChainId, Lane>>,
}

impl Lanes {
    /// The lane of `chain`, started by `start` if it has none yet.
    pub(crate) fn get_or_start(&self, chain: &ChainId, start: impl FnOnce() -> Lane) -> Lane {
        let mut lanes = self.lanes.lock().expect("lanes lock");
        lanes.entry(chain.clone()).or_insert_with(start).clone()
    }
}
