//! What anchoring needs from the other domains: its declared interface, implemented by the
//! app (its wiring module).

/// Anchoring's view of where it runs.
pub(crate) trait AnchorNeeds {
    /// Whether this is the center chain (where the alliance's registry is kept).
    fn center_chain(&self) -> bool;
}
