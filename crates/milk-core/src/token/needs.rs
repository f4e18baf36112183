//! What the token rules need from the other domains: their declared interface, implemented
//! by the app (its wiring module).

use crate::{Address, Amount};

/// The brand domain's write that moves expiring lots with a spend.
pub(crate) use crate::brand::BrandWrite;

/// The token rules' view of the brand chain they may run on.
pub(crate) trait TokenNeeds {
    /// Whether the partner lets its token be transferred (always, off brand chains).
    fn transfers_allowed(&self) -> bool;

    /// The expiring lots a spend of `amount` out of `account`'s `balance` takes at `now_ms`
    /// (see `BrandState::plan_spend`): `Ok(None)` when nothing is tracked, `Err(spendable)`
    /// when expired lots would have to be spent.
    fn plan_lots(
        &self,
        account: &Address,
        to: Option<Address>,
        balance: Amount,
        amount: Amount,
        now_ms: u64,
    ) -> Result<Option<BrandWrite>, Amount>;
}
