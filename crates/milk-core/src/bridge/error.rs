//! The bridge's refusals. Each has a stable code that clients, partners' systems and the
//! tests rely on.

use crate::Hash;
use crate::amount::Whole;
use thiserror::Error;

/// The bridge's refusals.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BridgeError {
    /// The chain has no bridge (only the center chain of a network with one does).
    #[error("this chain has no bridge to the main chain")]
    NoBridge,
    /// Below the policy's minimum.
    #[error("the smallest withdrawal is {minimum} MLK")]
    BelowMinimum {
        /// The minimum.
        minimum: Whole,
    },
    /// The fee in force is more than the customer agreed to.
    #[error("the withdrawal fee is {fee} MLK, more than the {max_fee} MLK agreed")]
    FeeAboveMax {
        /// The fee in force.
        fee: Whole,
        /// What the transaction agreed to.
        max_fee: Whole,
    },
    /// Over the account's daily limit.
    #[error("the daily withdrawal limit is {limit} MLK and {used} MLK were withdrawn today")]
    DailyLimit {
        /// The limit.
        limit: Whole,
        /// What the account withdrew today already.
        used: Whole,
    },
    /// A batch number other than the next.
    #[error("the next batch is number {expected}")]
    NotNextBatch {
        /// The next batch's number.
        expected: u64,
    },
    /// A batch of no withdrawals, or more than are waiting or than one batch holds.
    #[error("a batch seals 1 to {max} withdrawals and {waiting} are waiting")]
    BadBatchSize {
        /// The most one batch seals.
        max: u32,
        /// How many are unsealed.
        waiting: u64,
    },
    /// No such withdrawal.
    #[error("no withdrawal number {number}")]
    UnknownWithdrawal {
        /// The number asked for.
        number: u64,
    },
    /// A release recorded for a withdrawal that no batch sealed yet.
    #[error("withdrawal {number} is not in a batch yet")]
    NotSealed {
        /// The withdrawal.
        number: u64,
    },
    /// A release recorded twice.
    #[error("withdrawal {number} was released already, by {main_tx}")]
    AlreadyReleased {
        /// The withdrawal.
        number: u64,
        /// The main-chain transaction recorded.
        main_tx: Hash,
    },
    /// A deposit recorded twice.
    #[error("this deposit was recorded already")]
    DepositRecorded,
    /// More deposits than MLK ever left: the main chain's node is wrong or lying.
    #[error("deposits would reach {would_be} MLK, more than the {bound} MLK that ever left")]
    DepositsExceedOutflow {
        /// Deposits with this one.
        would_be: Whole,
        /// What ever left, with the main chain's starting float.
        bound: Whole,
    },
    /// No such deposit.
    #[error("no such deposit")]
    UnknownDeposit,
    /// A refund of a deposit that is not held.
    #[error("only a held deposit is refunded")]
    NotHeld,
    /// A policy whose minimum exceeds its daily limit.
    #[error("the minimum withdrawal must not exceed the daily limit")]
    BadPolicy,
}

impl BridgeError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BridgeError::NoBridge => "no_bridge",
            BridgeError::BelowMinimum { .. } => "below_minimum",
            BridgeError::FeeAboveMax { .. } => "fee_above_max",
            BridgeError::DailyLimit { .. } => "daily_limit",
            BridgeError::NotNextBatch { .. } => "not_next_batch",
            BridgeError::BadBatchSize { .. } => "bad_batch_size",
            BridgeError::UnknownWithdrawal { .. } => "unknown_withdrawal",
            BridgeError::NotSealed { .. } => "not_sealed",
            BridgeError::AlreadyReleased { .. } => "already_released",
            BridgeError::DepositRecorded => "deposit_recorded",
            BridgeError::DepositsExceedOutflow { .. } => "deposits_exceed_outflow",
            BridgeError::UnknownDeposit => "unknown_deposit",
            BridgeError::NotHeld => "not_held",
            BridgeError::BadPolicy => "bad_policy",
        }
    }
}
