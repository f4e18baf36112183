//! The app's wiring of the domains' declared interfaces: each domain states in its `needs`
//! what it reads of the others, and here the chain state answers from the domain that owns
//! it. Nothing else in a domain reads another's state.

use crate::alliance::needs::AllianceNeeds;
use crate::alliance::{Member, Status};
use crate::anchor::needs::AnchorNeeds;
use crate::brand::BrandWrite;
use crate::brand::needs::BrandNeeds;
use crate::error::TxError;
use crate::exchange::needs::{ExchangeNeeds, Standing};
use crate::membership::MembershipConfig;
use crate::membership::needs::MembershipNeeds;
use crate::state::{ChainState, Change};
use crate::token::needs::TokenNeeds;
use crate::tokenomics::needs::TokenomicsNeeds;
use crate::{Address, Amount, ChainId, Symbol};

impl AllianceNeeds for ChainState {
    fn open_buys(&self, chain: &ChainId) -> usize {
        let Some(exchange) = self.exchange() else {
            return 0;
        };
        (exchange.market_of_chain(chain)).map_or(0, |(asset, _)| exchange.open_buys(asset))
    }
}

impl TokenNeeds for ChainState {
    fn transfers_allowed(&self) -> bool {
        self.brand().is_none_or(|b| b.policy().transfers_allowed)
    }

    fn plan_lots(
        &self,
        account: &Address,
        to: Option<Address>,
        balance: Amount,
        amount: Amount,
        now_ms: u64,
    ) -> Result<Option<BrandWrite>, Amount> {
        match self.brand() {
            Some(brand) => brand.plan_spend(account, to, balance, amount, now_ms),
            None => Ok(None),
        }
    }
}

impl BrandNeeds for ChainState {
    fn plan_token_burn(
        &self,
        change: &mut Change,
        sender: &Address,
        asset: &Symbol,
        amount: Amount,
        now_ms: u64,
    ) -> Result<(), TxError> {
        self.plan_burn(change, sender, asset, amount, now_ms)
    }

    fn tica_stock(&self, asset: &Symbol) -> Option<(Address, Amount)> {
        let inventory = self.inventory?;
        Some((inventory, self.balance(&inventory, asset)))
    }
}

impl ExchangeNeeds for ChainState {
    fn partner_standing(&self, chain: &ChainId) -> Standing {
        let member = self.alliance().and_then(|a| a.member(chain));
        match member.map(|m| (m.status, m.exit)) {
            Some((Status::Suspended, _)) => Standing::Suspended,
            Some((Status::Exiting, Some(exit))) => Standing::WindingDown(exit.final_ms),
            Some((Status::Exiting | Status::Exited, _)) => Standing::Closed,
            _ => Standing::Open,
        }
    }

    fn listed_partner(&self, asset: &Symbol) -> Option<Option<&Member>> {
        let mut members = self.alliance()?.members().map(|(_, m)| m);
        Some(members.find(|m| m.application.symbol == *asset && m.status != Status::Applied))
    }

    fn trade_reward_bps(&self) -> u16 {
        self.membership_config()
            .map_or(0, |m| m.rewards.trade_reward_bps)
    }

    fn partner_token(&self, chain: &ChainId) -> Option<Symbol> {
        Some(self.alliance()?.member(chain)?.application.symbol)
    }

    fn brand_token(&self) -> Option<Symbol> {
        self.brand.as_ref().map(|(symbol, _)| *symbol)
    }
}

impl MembershipNeeds for ChainState {
    fn partner_of_issuer(
        &self,
        issuer: &Address,
        standing: fn(Status) -> bool,
    ) -> Option<&ChainId> {
        let alliance = self.alliance()?;
        let mut members = alliance.members();
        members
            .find(|(_, p)| p.issuer == *issuer && standing(p.status))
            .map(|(chain, _)| chain)
    }

    fn mlk(&self) -> Result<(Symbol, u8), TxError> {
        self.currency()
    }
}

impl AnchorNeeds for ChainState {
    fn center_chain(&self) -> bool {
        self.alliance().is_some()
    }
}

impl TokenomicsNeeds for ChainState {
    fn membership_config(&self) -> Option<&MembershipConfig> {
        self.membership().map(|m| m.config())
    }

    fn alliance_member(&self, chain: &ChainId) -> Option<&Member> {
        self.alliance()?.member(chain)
    }

    fn reward_currency(&self) -> Result<(Symbol, u8), TxError> {
        self.currency()
    }
}
