//! What the alliance needs from the other domains: its declared interface.

/// An application carries the brand chain's policy, checked as a brand chain's is.
pub use crate::brand::{BrandPolicy, check_policy};
