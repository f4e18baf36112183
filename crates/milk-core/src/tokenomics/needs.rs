//! What tokenomics needs from the other domains: its declared interface, implemented by the
//! app (its wiring module).

use crate::error::TxError;
use crate::{ChainId, Symbol};

/// A partner of the alliance, where it stands, and the event of its application.
pub(crate) use crate::alliance::{Applied, Exited, Member, Status};
/// Basis points, as the exchange counts them.
pub(crate) use crate::exchange::curve::BPS;
/// The exchange's escrow (a reserve) and its event that tokenomics rewards.
pub(crate) use crate::exchange::{ESCROW, Fill};
/// Membership's settings: its pools (the locks wait on them) and the reward rates.
pub(crate) use crate::membership::MembershipConfig;
/// Tokenomics runs only where membership does.
pub(crate) use crate::membership::error::MembershipError;

/// Tokenomics' view of membership, the alliance and the exchange.
pub(crate) trait TokenomicsNeeds {
    /// Membership's settings, where membership runs.
    fn membership_config(&self) -> Option<&MembershipConfig>;

    /// A partner by its chain (alliance).
    fn alliance_member(&self, chain: &ChainId) -> Option<&Member>;

    /// MLK, the exchange's currency, and its decimals.
    fn reward_currency(&self) -> Result<(Symbol, u8), TxError>;
}
