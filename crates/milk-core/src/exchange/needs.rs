//! What the exchange needs from the other domains: its declared interface, implemented by
//! the app (its wiring module).

use crate::{ChainId, Symbol};

/// A partner of the alliance.
pub(crate) use crate::alliance::Member;
/// The brand domain's write that moves expiring lots with a spend, or gives them back.
pub(crate) use crate::brand::BrandWrite;
/// Which expiring lots a spend takes, asked as the token rules ask it.
pub(crate) use crate::token::needs::TokenNeeds as Lots;

/// The exchange's view of the alliance and of the brand chain a trade's leg runs on.
pub(crate) trait ExchangeNeeds {
    /// Whether the partner of a brand chain is suspended from trading (alliance).
    fn partner_suspended(&self, chain: &ChainId) -> bool;

    /// The admitted (or suspended) partner whose token is `asset`; `None` where no alliance
    /// runs.
    fn listed_partner(&self, asset: &Symbol) -> Option<Option<&Member>>;

    /// The token of the partner whose brand chain is `chain`, market open or not.
    fn partner_token(&self, chain: &ChainId) -> Option<Symbol>;

    /// The MLK reward a filled trade earns, basis points of its value (tokenomics): it
    /// offsets the fee for anyone trading in and out.
    fn trade_reward_bps(&self) -> u16;

    /// This brand chain's token, if this is a brand chain.
    fn brand_token(&self) -> Option<Symbol>;
}
