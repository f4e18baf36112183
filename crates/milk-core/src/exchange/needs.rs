//! What the exchange needs from the other domains: its declared interface, implemented by
//! the app (its wiring module).

use crate::{ChainId, Symbol};

/// A partner of the alliance.
pub(crate) use crate::alliance::Member;
/// The brand domain's write that moves expiring lots with a spend, or gives them back.
pub(crate) use crate::brand::BrandWrite;
/// Which expiring lots a spend takes, asked as the token rules ask it.
pub(crate) use crate::token::needs::TokenNeeds as Lots;

/// Where a token's partner stands, as its market sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Trading both ways.
    Open,
    /// Suspended: no trading.
    Suspended,
    /// Leaving: customers may sell until the exit's final date (Unix ms), not buy.
    WindingDown(u64),
    /// Gone, or past its final date: no trading.
    Closed,
}

/// The exchange's view of the alliance and of the brand chain a trade's leg runs on.
pub(crate) trait ExchangeNeeds {
    /// Where the partner of a brand chain stands (alliance).
    fn partner_standing(&self, chain: &ChainId) -> Standing;

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
