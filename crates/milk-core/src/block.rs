//! The app's blocks: the envelope's blocks carrying the domains' actions.

pub use crate::envelope::block::{BlockHeader, MAX_BLOCK_TXS, leaf_of};

/// A header, its producer's signature, and the transactions.
pub type Block = crate::envelope::block::Block<crate::tx::Action>;
