//! Anchoring's refusals. Each has a stable code that clients, partners' systems and the tests rely on.

use crate::ChainId;
use thiserror::Error;

/// Anchoring's refusals.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnchorError {
    /// An anchor at or below the chain's last anchored height.
    #[error("chain {chain} is already anchored at height {anchored}")]
    AnchorNotNewer {
        /// The anchored chain.
        chain: ChainId,
        /// Its last anchored height.
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
