//! Tokenomics' refusals: rewards, stakes, allocations and their locks. Each has a stable code that clients, partners' systems and the tests rely on.

use thiserror::Error;

/// Tokenomics' refusals: rewards, stakes, allocations and their locks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenomicsError {
    /// The account is a locked allocation.
    #[error("this allocation is locked: {0}")]
    AllocationLocked(String),
    /// Phase 2 has begun already.
    #[error("phase 2 has begun already")]
    Phase2Started,
    /// This reward or allocation was paid already (the code is the one clients know).
    #[error("this step of the trade is already done")]
    AlreadyPaid,
    /// A contribution reward for an epoch not over yet.
    #[error("MiL.k Pack: the epoch is not over")]
    EpochNotOver,
    /// No such partner (or only an applicant).
    #[error("no such application or partner")]
    UnknownPartner,
    /// A reward or allocation for a partner whose exit has started.
    #[error(
        "the partner is leaving the alliance: it earns no rewards or allocations from its exit on"
    )]
    PartnerLeaving,
}

impl TokenomicsError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenomicsError::AllocationLocked(_) => "allocation_locked",
            TokenomicsError::Phase2Started => "phase2_started",
            TokenomicsError::AlreadyPaid => "trade_closed",
            TokenomicsError::EpochNotOver => "pack_refused",
            TokenomicsError::UnknownPartner => "unknown_application",
            TokenomicsError::PartnerLeaving => "partner_leaving",
        }
    }
}
