//! What membership needs from the other domains: its declared interface, implemented by
//! the app (its wiring module).

use crate::error::TxError;
use crate::{Address, ChainId, Symbol};

/// Where a partner stands in the alliance.
pub(crate) use crate::alliance::Status as PartnerStatus;
/// Partners' references (coupon and offer ids) are checked like a brand chain's.
pub(crate) use crate::brand::BrandState;
/// The exchange's event that membership credits LZM for.
pub(crate) use crate::exchange::Fill;

/// Membership's view of the alliance and the exchange.
pub(crate) trait MembershipNeeds {
    /// The chain of a partner whose issuer key is `issuer` and whose standing in the
    /// alliance passes `standing`.
    fn partner_of_issuer(
        &self,
        issuer: &Address,
        standing: fn(PartnerStatus) -> bool,
    ) -> Option<&ChainId>;

    /// MLK, the exchange's currency, and its decimals.
    fn mlk(&self) -> Result<(Symbol, u8), TxError>;
}
