//! What became of a transaction given to a chain, as every caller sees it: committed,
//! pending, refused (with why) or cut off by a halt.

use crate::worker::SubmitError;
use milk_core::state::TxError;
use milk_core::tx::VerifyError;
use milk_store::TxLocation;

/// Why a transaction did not commit.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Its bytes are not a transaction.
    Malformed(String),
    /// Its signature, or an address it names, is not valid.
    Invalid(VerifyError),
    /// The chain did not admit it: nothing was applied.
    Admission(SubmitError),
    /// Admitted, then dropped at block time: it could no longer apply.
    Dropped(TxError),
}

impl Refusal {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed_tx",
            Refusal::Invalid(e) => e.code(),
            Refusal::Admission(e) => e.code(),
            Refusal::Dropped(e) => e.code(),
        }
    }

    /// The chain rule that refused it, if one did.
    pub fn chain_error(&self) -> Option<&TxError> {
        match self {
            Refusal::Admission(SubmitError::Tx(e)) | Refusal::Dropped(e) => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Malformed(m) => f.write_str(m),
            Refusal::Invalid(e) => write!(f, "{e}"),
            Refusal::Admission(e) => write!(f, "{e}"),
            Refusal::Dropped(e) => write!(f, "{e}"),
        }
    }
}

/// What became of one transaction given to a chain.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Durably committed, there.
    Committed(TxLocation),
    /// Accepted and not committed yet (nobody waited, or the wait ran out): its status can
    /// be asked for.
    Pending,
    /// Not committed, and it never will be.
    Refused(Refusal),
    /// The chain stopped before committing it; its status after a restart says.
    Halted,
}
