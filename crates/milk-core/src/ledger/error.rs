//! The ledger's refusals: the envelope (chain, expiry, sequence), assets and balances, and who may act. Each has a stable code that clients, partners' systems and the tests rely on.

use crate::amount::Whole;
use crate::codec::MAX_TX_LIFETIME_MS;
use crate::{ChainId, Symbol};
use thiserror::Error;

/// The ledger's refusals: the envelope (chain, expiry, sequence), assets and balances, and who may act.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LedgerError {
    /// Signed for another chain.
    #[error("transaction is for chain {got}, not {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The chain the transaction names.
        got: ChainId,
    },
    /// The signature does not match the sender.
    #[error("signature is not valid for the sender")]
    BadSignature,
    /// The transaction expired.
    #[error("transaction expired at {expires_at_ms} (now {now_ms})")]
    Expired {
        /// Its expiry.
        expires_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// The expiry is further away than allowed.
    #[error("expiry {expires_at_ms} is more than {MAX_TX_LIFETIME_MS} ms ahead of {now_ms}")]
    ExpiryTooFar {
        /// Its expiry.
        expires_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// The sequence number was already used: a replay or a duplicate.
    #[error("sequence {got} already used; next is {expected}")]
    SequenceUsed {
        /// The sender's next sequence number.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// An earlier sequence number has not been seen yet.
    #[error("sequence {got} is ahead; next is {expected}")]
    SequenceGap {
        /// The sender's next sequence number.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The sender's transaction before it was refused, so this one could never apply: it
    /// left the pool at once. Sign again from the refused sequence number.
    #[error("sequence {refused}, before this one, was refused; sign again from {refused}")]
    AfterRefused {
        /// The refused transaction's sequence number.
        refused: u64,
    },
    /// The asset does not exist on this chain.
    #[error("asset {asset} does not exist on this chain")]
    UnknownAsset {
        /// The asset named.
        asset: Symbol,
    },
    /// An amount of zero.
    #[error("amount must be more than zero")]
    ZeroAmount,
    /// A transfer to its own sender: it would change nothing but use a sequence number.
    #[error("a transfer to oneself changes nothing")]
    SelfTransfer,
    /// The sender does not hold enough.
    #[error("insufficient {asset}: {available} available, {needed} needed")]
    InsufficientBalance {
        /// The asset.
        asset: Symbol,
        /// What the sender holds.
        available: Whole,
        /// What the transaction needs.
        needed: Whole,
    },
    /// A balance or supply would exceed the largest amount.
    #[error("amount overflows the largest representable {asset} balance")]
    Overflow {
        /// The asset.
        asset: Symbol,
    },
    /// Only the asset's issuer may mint it.
    #[error("only the issuer may mint {asset}")]
    NotIssuer {
        /// The asset.
        asset: Symbol,
    },
    /// Only the operator may do this (on the center chain).
    #[error("only the operator may do this, on the center chain")]
    NotOperator,
    /// The action belongs to a part of the platform that does not run on this chain
    /// (membership on a brand chain, a brand's rules on the center chain, …).
    #[error("{part} does not run on chain {chain}")]
    NotOnThisChain {
        /// This chain.
        chain: ChainId,
        /// What does not run here.
        part: &'static str,
    },
}

impl LedgerError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::WrongChain { .. } => "wrong_chain",
            LedgerError::BadSignature => "bad_signature",
            LedgerError::Expired { .. } => "expired",
            LedgerError::ExpiryTooFar { .. } => "expiry_too_far",
            LedgerError::SequenceUsed { .. } => "sequence_used",
            LedgerError::SequenceGap { .. } => "sequence_gap",
            LedgerError::AfterRefused { .. } => "after_refused",
            LedgerError::UnknownAsset { .. } => "unknown_asset",
            LedgerError::ZeroAmount => "zero_amount",
            LedgerError::SelfTransfer => "self_transfer",
            LedgerError::InsufficientBalance { .. } => "insufficient_balance",
            LedgerError::Overflow { .. } => "overflow",
            LedgerError::NotIssuer { .. } => "not_issuer",
            LedgerError::NotOperator => "not_operator",
            LedgerError::NotOnThisChain { .. } => "not_on_this_chain",
        }
    }
}
