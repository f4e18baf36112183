//! Anchoring's refusals. Each has a stable code that clients, partners' systems and the tests rely on.

use crate::ChainId;
use thiserror::Error;

/// Anchoring's refusals.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnchorError {
    /// An anchor that repeats the chain's last one: nothing new to anchor.
    #[error("chain {chain}'s last anchor (number {anchored}) has this seal already")]
    AnchorNotNewer {
        /// The anchored chain.
        chain: ChainId,
        /// Its last anchor's number.
        anchored: u64,
    },
}

impl AnchorError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AnchorError::AnchorNotNewer { .. } => "anchor_not_newer",
        }
    }
}
