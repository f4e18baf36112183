//! The alliance registry's refusals. Each has a stable code that clients, partners' systems and the tests rely on.

use thiserror::Error;

/// The alliance registry's refusals.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AllianceError {
    /// An application for a chain id that is taken.
    #[error("that chain id is taken")]
    ChainTaken,
    /// An application that breaks a rule.
    #[error("invalid application: {0}")]
    InvalidApplication(String),
    /// An application in a sector that has a partner (or an applicant) already.
    #[error("sector {sector:?} already has a partner; one partner per sector")]
    SectorOccupied {
        /// The sector.
        sector: String,
    },
    /// No pending application (or member) for that chain.
    #[error("no such application or partner")]
    UnknownApplication,
    /// Only a member partner may approve.
    #[error("only a member partner may approve an application")]
    NotAMember,
    /// The member approved this application already.
    #[error("already approved")]
    AlreadyApproved,
    /// Too few members approved the application yet.
    #[error("{have} of {need} required approvals")]
    QuorumNotReached {
        /// Approvals so far.
        have: u32,
        /// Approvals required.
        need: u32,
    },
    /// Suspending a partner that is not admitted, or reinstating one that is not suspended.
    #[error("the partner is not in the status this needs")]
    WrongPartnerStatus,
    /// Only the partner itself (its issuer key) or TICA may start its exit.
    #[error("only the partner's issuer key, or TICA's, may start its exit")]
    NotThePartner,
    /// An exit's final date too soon (less than the notice) or too far away.
    #[error(
        "the final date must be between {} and {}",
        crate::moment::utc(*earliest_ms),
        crate::moment::utc(*latest_ms)
    )]
    ExitDate {
        /// The earliest final date allowed, Unix ms.
        earliest_ms: u64,
        /// The latest, Unix ms.
        latest_ms: u64,
    },
    /// Finishing an exit before its final date.
    #[error("the exit can be finished from its final date, {}", crate::moment::utc(*final_ms))]
    ExitNotDue {
        /// The exit's final date, Unix ms.
        final_ms: u64,
    },
    /// Finishing an exit while buys of the partner's token wait for their delivery.
    #[error("{open} buys of the partner's token are still open")]
    TradesOpen {
        /// How many.
        open: usize,
    },
}

impl AllianceError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AllianceError::ChainTaken => "chain_taken",
            AllianceError::InvalidApplication(_) => "invalid_application",
            AllianceError::SectorOccupied { .. } => "sector_occupied",
            AllianceError::UnknownApplication => "unknown_application",
            AllianceError::NotAMember => "not_a_member",
            AllianceError::AlreadyApproved => "already_approved",
            AllianceError::QuorumNotReached { .. } => "quorum_not_reached",
            AllianceError::WrongPartnerStatus => "wrong_partner_status",
            AllianceError::NotThePartner => "not_the_partner",
            AllianceError::ExitDate { .. } => "exit_date",
            AllianceError::ExitNotDue { .. } => "exit_not_due",
            AllianceError::TradesOpen { .. } => "trades_open",
        }
    }
}
