//! What the alliance needs from the other domains: its declared interface.

/// An application carries the brand chain's policy, checked as a brand chain's is.
pub use crate::brand::{BrandPolicy, check_policy};

/// What the alliance asks of the exchange.
pub(crate) trait AllianceNeeds {
    /// How many buys of `chain`'s token wait for their delivery.
    fn open_buys(&self, chain: &crate::ChainId) -> usize;
}
