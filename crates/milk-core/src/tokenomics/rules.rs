//! The rules of tokenomics: contribution and trade rewards, linking rewards, phase-2 stakes,
//! partners' allocations, the allocation locks and the circulating supply.

use super::action::TokenomicsAction;
use super::needs::{
    Applied, BPS, Exited, Fill, Member, MembershipConfig, MembershipError, Status, TokenomicsNeeds,
};
use super::{STAKES, SupplyReport, record};
use crate::error::TxError;
use crate::error::{LedgerError, TokenomicsError};
use crate::ledger::Postings;
use crate::state::{ChainState, Change};
use crate::tokenomics::{Tokenomics, TokenomicsWrite};
use crate::tx::Transaction;
use crate::{Address, Amount, ChainId, Symbol};

impl ChainState {
    /// Tokenomics' records; they run wherever membership does.
    fn tokenomics_state(&self) -> Result<&Tokenomics, TxError> {
        (self.tokenomics.as_ref()).ok_or(TxError::Membership(MembershipError::NoMembership))
    }

    /// Membership's settings; tokenomics runs only where membership does.
    fn membership_settings(&self) -> Result<&MembershipConfig, TxError> {
        (self.membership_config()).ok_or(TxError::Membership(MembershipError::NoMembership))
    }

    /// A partner by its chain (an admitted or suspended one when `member_only`), or
    /// `unknown_application`.
    fn partner(&self, chain: &ChainId, member_only: bool) -> Result<&Member, TxError> {
        self.alliance_member(chain)
            .filter(|p| !member_only || p.status != Status::Applied)
            .ok_or(TxError::Tokenomics(TokenomicsError::UnknownPartner))
    }

    /// Checks a tokenomics action at block time `now_ms` and works out what it changes.
    pub(crate) fn check_tokenomics(
        &self,
        tx: &Transaction,
        action: &TokenomicsAction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        match action {
            TokenomicsAction::PayContribution { chain, epoch } => {
                self.pay_contribution(tx, chain, epoch, now_ms)
            }
            TokenomicsAction::RewardLink { user, link } => self.reward_link(tx, user, link),
            TokenomicsAction::StartPhase2 { stake } => self.start_phase2(tx, stake),
            TokenomicsAction::AllocatePartner { chain, amount } => {
                self.allocate_partner(tx, chain, amount)
            }
            TokenomicsAction::ClaimAllocation { chain } => self.claim_allocation(tx, chain, now_ms),
        }
    }

    /// `PayContribution`: TICA pays a partner its contribution reward for a finished epoch:
    fn pay_contribution(
        &self,
        tx: &Transaction,
        chain: &ChainId,
        epoch: &u64,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let t = self.tokenomics_state()?;
        let m = self.membership_settings()?;
        let mut change = Change::default();
        self.operator_only(tx)?;
        let rewards = &m.rewards;
        // The last epoch (`u64::MAX`) never ends.
        let epoch_end = epoch.saturating_add(1).saturating_mul(rewards.epoch_ms);
        if now_ms < epoch_end || *epoch == u64::MAX {
            return Err(TxError::Tokenomics(TokenomicsError::EpochNotOver));
        }
        let key = record::partner_key(record::CONTRIBUTION, chain, &epoch.to_be_bytes());
        if t.raw(&key).is_some() {
            return Err(TxError::Tokenomics(TokenomicsError::AlreadyPaid));
        }
        let partner = self.partner(chain, true)?;
        // A partner earns nothing for an epoch that ends after its exit started.
        if partner.exit.is_some_and(|e| epoch_end > e.started_ms) {
            return Err(TxError::Tokenomics(TokenomicsError::PartnerLeaving));
        }
        let currency = self.reward_currency()?.0;
        // X% of the volume, rounded down, while allocation B lasts.
        let owed = t.volume(chain, *epoch) * u128::from(rewards.rate_bps(*epoch)) / BPS;
        let paid = owed.min(self.balance(&rewards.partner_b, &currency).units());
        if paid > 0 {
            change.postings.moves.push((
                rewards.partner_b,
                partner.issuer,
                currency,
                Amount::new(paid),
            ));
        }
        change
            .tokenomics
            .push(TokenomicsWrite::Raw(key, Some(paid.to_be_bytes().to_vec())));

        Ok(change)
    }

    /// `RewardLink`: TICA pays a user's reward for linking a wallet to a partner, once per
    /// link (its seal), without naming the partner.
    fn reward_link(
        &self,
        tx: &Transaction,
        user: &Address,
        link: &crate::Hash,
    ) -> Result<Change, TxError> {
        let t = self.tokenomics_state()?;
        let m = self.membership_settings()?;
        let mut change = Change::default();
        self.operator_only(tx)?;
        let key = record::linked(link);
        if t.raw(&key).is_some() {
            return Err(TxError::Tokenomics(TokenomicsError::AlreadyPaid));
        }
        let rewards = &m.rewards;
        let currency = self.reward_currency()?.0;
        let reward = rewards
            .link_reward
            .min(self.balance(&rewards.user_bucket, &currency));
        if !reward.is_zero() {
            change
                .postings
                .moves
                .push((rewards.user_bucket, *user, currency, reward));
        }
        change
            .tokenomics
            .push(TokenomicsWrite::Raw(key, Some(Vec::new())));

        Ok(change)
    }

    /// `StartPhase2`: TICA switches the alliance to phase 2:
    fn start_phase2(&self, tx: &Transaction, stake: &Amount) -> Result<Change, TxError> {
        let t = self.tokenomics_state()?;
        let mut change = Change::default();
        self.operator_only(tx)?;
        if t.phase2_stake().is_some() {
            return Err(TxError::Tokenomics(TokenomicsError::Phase2Started));
        }
        change.tokenomics.push(TokenomicsWrite::Raw(
            vec![record::PHASE2],
            Some(stake.units().to_be_bytes().to_vec()),
        ));

        Ok(change)
    }

    /// `AllocatePartner`: TICA sets aside a partner's share of partner allocation A, locked 3
    /// years from the later of the partner's join date and MLK's listing date (center chain;
    /// once per partner).
    fn allocate_partner(
        &self,
        tx: &Transaction,
        chain: &ChainId,
        amount: &Amount,
    ) -> Result<Change, TxError> {
        let t = self.tokenomics_state()?;
        let m = self.membership_settings()?;
        let mut change = Change::default();
        self.operator_only(tx)?;
        let key = record::partner_key(record::VEST, chain, &[]);
        if t.raw(&key).is_some() {
            return Err(TxError::Tokenomics(TokenomicsError::AlreadyPaid));
        }
        let partner = self.partner(chain, true)?;
        if partner.exit.is_some() {
            return Err(TxError::Tokenomics(TokenomicsError::PartnerLeaving));
        }
        if amount.is_zero() {
            return Err(TxError::Ledger(LedgerError::ZeroAmount));
        }
        let rewards = &m.rewards;
        let joined = partner.admitted_at_ms.unwrap_or(0);
        let unlock = joined
            .max(rewards.schedule_start_ms)
            .saturating_add(rewards.partner_lock_ms);
        let currency = self.reward_currency()?.0;
        change.postings.moves.push((
            rewards.partner_a,
            super::vesting_account(chain),
            currency,
            *amount,
        ));
        let v = super::encode_vest(amount.units(), unlock, false);
        change.tokenomics.push(TokenomicsWrite::Raw(key, Some(v)));

        Ok(change)
    }

    /// `ClaimAllocation`: a partner claims its allocation once unlocked (its issuer key).
    fn claim_allocation(
        &self,
        tx: &Transaction,
        chain: &ChainId,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let t = self.tokenomics_state()?;
        let mut change = Change::default();
        let key = record::partner_key(record::VEST, chain, &[]);
        let (amount, unlock, claimed) = t
            .raw(&key)
            .and_then(|v| super::decode_vest(v))
            .ok_or(TxError::Tokenomics(TokenomicsError::UnknownPartner))?;
        let partner = self.partner(chain, false)?;
        if partner.issuer != tx.sender {
            return Err(TxError::Ledger(LedgerError::NotIssuer {
                asset: partner.application.symbol,
            }));
        }
        if claimed {
            return Err(TxError::Tokenomics(TokenomicsError::AlreadyPaid));
        }
        if now_ms < unlock {
            return Err(TxError::Tokenomics(TokenomicsError::AllocationLocked(
                format!("{chain}'s share of partner allocation A unlocks at {unlock} (Unix ms)"),
            )));
        }
        let currency = self.reward_currency()?.0;
        pay_vest(&mut change, chain, tx.sender, currency, (amount, unlock));
        Ok(change)
    }

    /// Adds a filled trade to its partner's volume for the epoch (for its contribution
    /// reward), and pays the customer's trade reward from the user-distribution bucket while
    /// it lasts.
    pub(crate) fn reward_trade(&self, change: &mut Change, fill: &Fill, now_ms: u64) {
        let Some(m) = self.membership_config() else {
            return;
        };
        let Some(t) = self.tokenomics.as_ref() else {
            return;
        };
        let rewards = &m.rewards;
        if let Some(chain) = &fill.chain {
            let epoch = now_ms / rewards.epoch_ms.max(1);
            let volume = t.volume(chain, epoch).saturating_add(fill.gross);
            let key = record::partner_key(record::VOLUME, chain, &epoch.to_be_bytes());
            let value = Some(volume.to_be_bytes().to_vec());
            change.tokenomics.push(TokenomicsWrite::Raw(key, value));
        }
        let Ok((currency, _)) = self.reward_currency() else {
            return;
        };
        let planned: u128 = (change.postings.moves.iter())
            .filter(|mv| mv.0 == rewards.user_bucket && mv.2 == currency)
            .map(|mv| mv.3.units())
            .sum();
        let available =
            (self.balance(&rewards.user_bucket, &currency).units()).saturating_sub(planned);
        let bps = u128::from(rewards.trade_reward_bps);
        let reward = (fill.gross * bps / BPS).min(available);
        if reward > 0 {
            let paid = (
                rewards.user_bucket,
                fill.user,
                currency,
                Amount::new(reward),
            );
            change.postings.moves.push(paid);
        }
    }

    /// In phase 2, plans what an application's stake moves and records; refused if the
    /// applicant cannot put it up. Nothing before phase 2.
    pub(crate) fn plan_stake(&self, change: &mut Change, applied: &Applied) -> Result<(), TxError> {
        let (applicant, chain) = (applied.applicant, &applied.chain);
        let Some(stake) = self.tokenomics.as_ref().and_then(|t| t.phase2_stake()) else {
            return Ok(());
        };
        let currency = self.reward_currency()?.0;
        let have = self.balance(&applicant, &currency);
        if have.units() < stake {
            let needed = Amount::new(stake);
            return Err(TxError::Ledger(self.ledger().short(currency, have, needed)));
        }
        let staked = (applicant, *STAKES, currency, Amount::new(stake));
        change.postings.moves.push(staked);
        let key = record::partner_key(record::STAKE, chain, &[]);
        let value = stake.to_be_bytes().to_vec();
        change
            .tokenomics
            .push(TokenomicsWrite::Raw(key, Some(value)));
        Ok(())
    }

    /// Plans giving a partner that has left what it is owed at block time `now_ms`: its
    /// phase-2 stake, and its share of allocation A if it has unlocked and is unclaimed (a
    /// share still locked is claimed at its unlock time, as any partner's).
    pub(crate) fn plan_release(&self, change: &mut Change, exited: &Exited, now_ms: u64) {
        let (Some(t), Ok((currency, _))) = (self.tokenomics.as_ref(), self.reward_currency())
        else {
            return;
        };
        let (chain, issuer) = (&exited.chain, exited.issuer);
        let stake_key = record::partner_key(record::STAKE, chain, &[]);
        let stake = (t.raw(&stake_key))
            .and_then(|v| Some(u128::from_be_bytes(v.as_slice().try_into().ok()?)));
        if let Some(stake) = stake.filter(|s| *s > 0) {
            let back = (*STAKES, issuer, currency, Amount::new(stake));
            change.postings.moves.push(back);
            change
                .tokenomics
                .push(TokenomicsWrite::Raw(stake_key, None));
        }
        let vest_key = record::partner_key(record::VEST, chain, &[]);
        let vest = t.raw(&vest_key).and_then(|v| super::decode_vest(v));
        if let Some((amount, unlock, false)) = vest.filter(|v| now_ms >= v.1) {
            pay_vest(change, chain, issuer, currency, (amount, unlock));
        }
    }

    /// The lock in force on `account`'s `asset` at `now_ms`, described, if any.
    pub fn lock_in_force(&self, account: &Address, asset: &Symbol, now_ms: u64) -> Option<String> {
        super::lock_in_force(
            &self.roles,
            self.membership_config(),
            |a, s| self.balance(a, s),
            account,
            asset,
            now_ms,
        )
    }

    /// Refuses a change that spends from a locked allocation: a debit of the sender's own
    /// balance (a move from it, or a burn) of an asset its lock is in force on. The lock
    /// judges the ledger's postings, whatever action made them.
    pub(crate) fn check_locks(
        &self,
        sender: &Address,
        postings: &Postings,
        now_ms: u64,
    ) -> Result<(), TxError> {
        if self.roles.is_empty() {
            return Ok(());
        }
        let moved = postings
            .moves
            .iter()
            .map(|(from, _, asset, _)| (from, asset));
        let burned = postings.burns.iter().map(|(from, asset, _)| (from, asset));
        let spent = moved.chain(burned).filter(|(from, _)| *from == sender);
        for (from, asset) in spent {
            if let Some(why) = self.lock_in_force(from, asset, now_ms) {
                return Err(TxError::Tokenomics(TokenomicsError::AllocationLocked(why)));
            }
        }
        Ok(())
    }

    /// Each center asset's supply, with what does not circulate taken out: accounts whose
    /// lock is in force, reserves (the exchange's liquidity, reward pools, escrow) and what
    /// TICA holds.
    pub fn supply_report(&self, now_ms: u64) -> Vec<SupplyReport> {
        let assets: Vec<(Symbol, Amount)> = self.assets().map(|(s, t)| (s.symbol, t)).collect();
        let vesting = (self.tokenomics.as_ref())
            .map(|t| t.vesting())
            .unwrap_or_default();
        super::supply_report(
            &self.roles,
            self.membership_config(),
            &assets,
            &vesting,
            |a, s| self.balance(a, s),
            now_ms,
        )
    }
}

/// Pays a partner's unlocked share of allocation A, `(amount, unlock ms)`, to `to` and
/// records it claimed.
fn pay_vest(
    change: &mut Change,
    chain: &ChainId,
    to: Address,
    currency: Symbol,
    vest: (u128, u64),
) {
    let (amount, unlock) = vest;
    let paid = (
        super::vesting_account(chain),
        to,
        currency,
        Amount::new(amount),
    );
    change.postings.moves.push(paid);
    let key = record::partner_key(record::VEST, chain, &[]);
    let v = super::encode_vest(amount, unlock, true);
    change.tokenomics.push(TokenomicsWrite::Raw(key, Some(v)));
}
