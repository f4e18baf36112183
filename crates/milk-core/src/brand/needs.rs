//! What the brand rules need from the other domains: their declared interface, implemented
//! by the app (its wiring module).

use crate::error::TxError;
use crate::state::Change;
use crate::{Address, Amount, Symbol};

/// A partner's price floor is bounded like the exchange's prices.
pub(crate) use crate::exchange::curve::MAX_PRICE_BPS;

/// The brand rules' view of the token rules.
pub(crate) trait BrandNeeds {
    /// Plans burning `amount` of `sender`'s `asset` as any burn is (balance, expiring lots).
    fn plan_token_burn(
        &self,
        change: &mut Change,
        sender: &Address,
        asset: &Symbol,
        amount: Amount,
        now_ms: u64,
    ) -> Result<(), TxError>;

    /// TICA's inventory of `asset` on this brand chain (the exchange's stock): its account
    /// and balance, where there is one.
    fn tica_stock(&self, asset: &Symbol) -> Option<(Address, Amount)>;
}
