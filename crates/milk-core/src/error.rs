//! Why a transaction cannot be applied: the ledger's refusal or one domain's, each with the
//! stable code that clients, partners' systems and the tests rely on.

pub use crate::alliance::error::AllianceError;
pub use crate::anchor::error::AnchorError;
pub use crate::brand::error::BrandError;
pub use crate::bridge::error::BridgeError;
pub use crate::exchange::error::ExchangeError;
pub use crate::ledger::error::LedgerError;
pub use crate::membership::error::MembershipError;
pub use crate::producers::error::ProducersError;
pub use crate::tokenomics::error::TokenomicsError;
use thiserror::Error;

/// Why a transaction cannot be applied: whose rule refused it, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// The envelope, an asset or a balance.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A brand chain's rules.
    #[error(transparent)]
    Brand(#[from] BrandError),
    /// The alliance's rules.
    #[error(transparent)]
    Alliance(#[from] AllianceError),
    /// Anchoring's rules.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// The exchange's rules.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    /// Membership's rules.
    #[error(transparent)]
    Membership(#[from] MembershipError),
    /// Tokenomics' rules.
    #[error(transparent)]
    Tokenomics(#[from] TokenomicsError),
    /// The producer set's rules.
    #[error(transparent)]
    Producers(#[from] ProducersError),
    /// The bridge's rules.
    #[error(transparent)]
    Bridge(#[from] BridgeError),
}

impl TxError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Ledger(e) => e.code(),
            TxError::Brand(e) => e.code(),
            TxError::Alliance(e) => e.code(),
            TxError::Anchor(e) => e.code(),
            TxError::Exchange(e) => e.code(),
            TxError::Membership(e) => e.code(),
            TxError::Tokenomics(e) => e.code(),
            TxError::Producers(e) => e.code(),
            TxError::Bridge(e) => e.code(),
        }
    }
}
