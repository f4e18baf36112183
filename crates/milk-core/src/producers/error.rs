//! The producer set's refusals. Each has a stable code that clients and the tests rely on.

use crate::Address;
use thiserror::Error;

/// The producer set's refusals.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProducersError {
    /// An empty set, or one larger than the limit.
    #[error("a producer set holds 1 to {max} keys, not {got}")]
    BadSize {
        /// The keys named.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// A key named twice.
    #[error("producer {0} is named twice")]
    Duplicate(Address),
    /// A key that is not a usable public key: nobody could sign with it.
    #[error("producer {0} is not a valid public key")]
    InvalidKey(Address),
    /// A set without the chain's genesis producer (TICA's key).
    #[error("the set must keep the chain's genesis producer {0}")]
    GenesisProducerMissing(Address),
}

impl ProducersError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProducersError::BadSize { .. } => "bad_producer_set",
            ProducersError::Duplicate(_) => "duplicate_producer",
            ProducersError::InvalidKey(_) => "invalid_producer_key",
            ProducersError::GenesisProducerMissing(_) => "genesis_producer_required",
        }
    }
}
