//! Membership's rules: LZM credits from the user pools, check-ins, MLK burns, coupons,
//! TICA's settings, the allocation locks, and the circulating supply.

use crate::membership::{MembershipWrite, Reason, SupplyReport, coupon_key};
use crate::state::{ChainState, TxError};
use crate::tx::{Action, Transaction};
use crate::tx::{ExchangeAction, MembershipAction, TokenAction, TokenomicsAction};
use crate::{Address, Amount, Hash, Symbol};

/// What a checked membership action does.
pub(crate) struct MembershipChange {
    /// LZM (or MLK) moves `(from, to, asset, amount)`.
    moves: Vec<(Address, Address, Symbol, Amount)>,
    /// Burned: `(account, asset, amount)`.
    burn: Option<(Address, Symbol, Amount)>,
    writes: Vec<MembershipWrite>,
}

pub(crate) fn is_membership(action: &Action) -> bool {
    matches!(
        action,
        Action::Membership(MembershipAction::CheckIn)
            | Action::Membership(MembershipAction::BurnForLzm { .. })
            | Action::Membership(MembershipAction::ReportCoupon { .. })
            | Action::Membership(MembershipAction::SetEarningRules { .. })
            | Action::Membership(MembershipAction::SetLevelFloor { .. })
            | Action::Membership(MembershipAction::PublishOffer { .. })
            | Action::Membership(MembershipAction::BuyOffer { .. })
            | Action::Membership(MembershipAction::GrantConsent { .. })
            | Action::Membership(MembershipAction::WithdrawConsent { .. })
            | Action::Membership(MembershipAction::LogAccess { .. })
            | Action::Membership(MembershipAction::OpenPackSeason { .. })
            | Action::Membership(MembershipAction::JoinPack { .. })
            | Action::Membership(MembershipAction::LeavePack)
            | Action::Membership(MembershipAction::PayPackWeek { .. })
            | Action::Tokenomics(TokenomicsAction::PayContribution { .. })
            | Action::Tokenomics(TokenomicsAction::RewardLink { .. })
            | Action::Tokenomics(TokenomicsAction::StartPhase2 { .. })
            | Action::Tokenomics(TokenomicsAction::AllocatePartner { .. })
            | Action::Tokenomics(TokenomicsAction::ClaimAllocation { .. })
    )
}

/// A planned credit: the LZM moves and records it makes.
pub(crate) struct Credit {
    pub(crate) moves: Vec<(Address, Address, Symbol, Amount)>,
    pub(crate) writes: Vec<MembershipWrite>,
}

impl ChainState {
    /// Plans crediting `wanted` LZM to `account` for `reason` from the pool that pays it,
    /// at most what the pool holds and, for activity, what today's cap leaves. `None` on a
    /// chain without membership or when nothing can be credited.
    pub(crate) fn plan_credit(
        &self,
        account: &Address,
        reason: Reason,
        wanted: u128,
        source: Hash,
        reference: String,
        now_ms: u64,
    ) -> Option<Credit> {
        let m = self.membership.as_ref()?;
        let config = m.config();
        let pool = match reason {
            Reason::MlkBurn => config.burn_pool,
            _ => config.activity_pool,
        };
        let mut amount = wanted.min(self.balance(&pool, &config.token).units());
        if reason != Reason::MlkBurn {
            amount = amount.min(m.cap_left(account, now_ms));
        }
        if amount == 0 {
            return None;
        }
        let day = now_ms / crate::brand::DAY_MS;
        Some(Credit {
            moves: vec![(pool, *account, config.token, Amount::new(amount))],
            writes: vec![
                MembershipWrite::Earned(*account, day, m.earned_on(account, day) + amount),
                MembershipWrite::Credit {
                    account: *account,
                    time_ms: now_ms,
                    source,
                    reason,
                    amount,
                    reference,
                },
            ],
        })
    }

    /// The lock in force on `account`'s `asset` at `now_ms`, described, if any.
    pub fn lock_in_force(&self, account: &Address, asset: &Symbol, now_ms: u64) -> Option<String> {
        crate::membership::lock_in_force(
            &self.roles,
            self.membership.as_ref().map(|m| m.config()),
            |a, s| self.balance(a, s),
            account,
            asset,
            now_ms,
        )
    }

    /// Refuses a transaction that would spend from a locked allocation.
    pub(crate) fn check_locks(&self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        if self.roles.is_empty() {
            return Ok(());
        }
        let spent: Option<Symbol> = match &tx.action {
            Action::Token(TokenAction::Transfer { asset, .. })
            | Action::Token(TokenAction::Burn { asset, .. }) => Some(*asset),
            Action::Exchange(ExchangeAction::Buy { pay, .. }) => Some(*pay),
            Action::Membership(MembershipAction::BurnForLzm { .. }) => {
                self.currency().ok().map(|c| c.0)
            }
            Action::Membership(MembershipAction::BuyOffer { .. }) => {
                self.membership.as_ref().map(|m| m.config().token)
            }
            Action::Membership(MembershipAction::JoinPack { .. }) => {
                self.currency().ok().map(|c| c.0)
            }
            _ => None,
        };
        match spent.and_then(|a| self.lock_in_force(&tx.sender, &a, now_ms)) {
            Some(why) => Err(TxError::AllocationLocked(why)),
            None => Ok(()),
        }
    }

    /// Checks a membership action at block time `now_ms`.
    pub(crate) fn check_membership(
        &self,
        tx: &Transaction,
        now_ms: u64,
    ) -> Result<MembershipChange, TxError> {
        let m = self.membership.as_ref().ok_or(TxError::NoMembership)?;
        let mut change = MembershipChange {
            moves: Vec::new(),
            burn: None,
            writes: Vec::new(),
        };
        let day = now_ms / crate::brand::DAY_MS;
        match &tx.action {
            Action::Membership(MembershipAction::CheckIn) => {
                if m.checked_in(&tx.sender, day) {
                    return Err(TxError::AlreadyCheckedIn);
                }
                let config = m.config();
                if self.balance(&config.activity_pool, &config.token).is_zero() {
                    return Err(TxError::PoolExhausted);
                }
                let credit = self
                    .plan_credit(
                        &tx.sender,
                        Reason::CheckIn,
                        m.rules().check_in.units(),
                        tx.id(),
                        tx.id().to_hex(),
                        now_ms,
                    )
                    .ok_or(TxError::DailyCapReached)?;
                change.moves = credit.moves;
                change.writes = credit.writes;
                change.writes.push(MembershipWrite::CheckIn(tx.sender, day));
            }
            Action::Membership(MembershipAction::BurnForLzm { amount }) => {
                let (currency, decimals) = self.currency()?;
                if amount.is_zero() {
                    return Err(TxError::ZeroAmount);
                }
                let have = self.balance(&tx.sender, &currency);
                if have < *amount {
                    return Err(TxError::InsufficientBalance {
                        asset: currency,
                        available: have,
                        needed: *amount,
                    });
                }
                let wanted = amount
                    .units()
                    .checked_mul(m.rules().per_mlk_burned.units())
                    .ok_or(TxError::Overflow { asset: currency })?
                    / 10u128.pow(u32::from(decimals));
                if wanted == 0 {
                    return Err(TxError::BurnTooSmall);
                }
                let config = m.config();
                if self.balance(&config.burn_pool, &config.token).units() < wanted {
                    // Burning for less than the rate promises is refused, not half-paid.
                    return Err(TxError::PoolExhausted);
                }
                let credit = self
                    .plan_credit(
                        &tx.sender,
                        Reason::MlkBurn,
                        wanted,
                        tx.id(),
                        tx.id().to_hex(),
                        now_ms,
                    )
                    .ok_or(TxError::PoolExhausted)?;
                change.burn = Some((tx.sender, currency, *amount));
                change.moves = credit.moves;
                change.writes = credit.writes;
            }
            Action::Membership(MembershipAction::ReportCoupon {
                user,
                krw,
                coupon_id,
            }) => {
                crate::brand::BrandState::check_reference(coupon_id)?;
                let (alliance, _) = self.alliance.as_ref().ok_or(TxError::NotAMember)?;
                let (chain, _) = alliance
                    .members()
                    .find(|(_, p)| {
                        p.issuer == tx.sender && p.status != crate::alliance::Status::Applied
                    })
                    .ok_or(TxError::NotAMember)?;
                let key = coupon_key(chain, coupon_id);
                if m.coupon_used(&key) {
                    return Err(TxError::CouponUsed);
                }
                let wanted =
                    u128::from(*krw / 1_000).saturating_mul(m.rules().per_1000_krw_coupon.units());
                // The coupon counts once, even when the cap or the pool leaves nothing.
                if let Some(credit) = self.plan_credit(
                    user,
                    Reason::Coupon,
                    wanted,
                    key,
                    format!("{chain}:{coupon_id}"),
                    now_ms,
                ) {
                    change.moves = credit.moves;
                    change.writes = credit.writes;
                }
                change.writes.push(MembershipWrite::Coupon(key));
            }
            Action::Membership(MembershipAction::SetEarningRules { rules }) => {
                self.operator_only(tx)?;
                change.writes.push(MembershipWrite::Rules(rules.clone()));
            }
            Action::Membership(MembershipAction::SetLevelFloor {
                user,
                level,
                reason,
            }) => {
                self.operator_only(tx)?;
                if usize::from(*level) >= m.config().levels.len() {
                    return Err(TxError::InvalidLevel);
                }
                let floor = (*level > 0).then(|| (*level, reason.clone()));
                change.writes.push(MembershipWrite::Floor(*user, floor));
            }
            Action::Membership(MembershipAction::PublishOffer {
                id,
                title,
                level,
                price,
                stock,
                opens_ms,
                closes_ms,
            }) => {
                crate::brand::BrandState::check_reference(id)?;
                let (alliance, _) = self.alliance.as_ref().ok_or(TxError::NotAMember)?;
                let (chain, _) = alliance
                    .members()
                    .find(|(_, p)| {
                        p.issuer == tx.sender && p.status == crate::alliance::Status::Admitted
                    })
                    .ok_or(TxError::NotAMember)?;
                if m.offer(chain, id).is_some() {
                    return Err(TxError::OfferExists);
                }
                if usize::from(*level) >= m.config().levels.len() {
                    return Err(TxError::InvalidLevel);
                }
                if price.is_zero() || *stock == 0 || closes_ms <= opens_ms || title.is_empty() {
                    return Err(TxError::InvalidOffer(
                        "a title, a price, some stock and a window that closes after it opens"
                            .into(),
                    ));
                }
                change.writes.push(MembershipWrite::Offer(
                    chain.clone(),
                    id.clone(),
                    crate::membership::Offer {
                        title: title.clone(),
                        level: *level,
                        price: *price,
                        stock: *stock,
                        sold: 0,
                        opens_ms: *opens_ms,
                        closes_ms: *closes_ms,
                        seller: tx.sender,
                    },
                ));
            }
            Action::Membership(MembershipAction::BuyOffer { chain, id }) => {
                let offer = m.offer(chain, id).ok_or(TxError::UnknownOffer)?;
                if now_ms < offer.opens_ms || now_ms >= offer.closes_ms {
                    return Err(TxError::OfferClosed);
                }
                if offer.sold >= offer.stock {
                    return Err(TxError::SoldOut);
                }
                let level = m.level(&tx.sender, now_ms);
                if level.index < offer.level {
                    return Err(TxError::UnderLevel {
                        level: level.name,
                        needed: m.config().levels[usize::from(offer.level)].name.clone(),
                    });
                }
                let token = m.config().token;
                let have = self.balance(&tx.sender, &token);
                if have < offer.price {
                    return Err(TxError::InsufficientBalance {
                        asset: token,
                        available: have,
                        needed: offer.price,
                    });
                }
                change
                    .moves
                    .push((tx.sender, offer.seller, token, offer.price));
                let mut offer = offer.clone();
                offer.sold += 1;
                change
                    .writes
                    .push(MembershipWrite::Offer(chain.clone(), id.clone(), offer));
            }
            Action::Membership(MembershipAction::GrantConsent {
                chain,
                purpose,
                items,
                retention_days,
            }) => {
                let member = self
                    .alliance
                    .as_ref()
                    .and_then(|(a, _)| a.member(chain))
                    .is_some_and(|p| p.status != crate::alliance::Status::Applied);
                if !member {
                    return Err(TxError::UnknownApplication);
                }
                let known = items
                    .iter()
                    .all(|i| crate::membership::DATA_ITEMS.contains(&i.as_str()));
                if purpose.trim().is_empty() || items.is_empty() || !known || *retention_days == 0 {
                    return Err(TxError::InvalidConsent(format!(
                        "name a purpose, a retention of at least a day, and items among {:?}",
                        crate::membership::DATA_ITEMS
                    )));
                }
                change.writes.push(MembershipWrite::Consent(
                    chain.clone(),
                    tx.sender,
                    crate::membership::Consent {
                        purpose: purpose.clone(),
                        items: items.clone(),
                        retention_days: *retention_days,
                        granted_ms: now_ms,
                        withdrawn_ms: None,
                    },
                ));
            }
            Action::Membership(MembershipAction::WithdrawConsent { chain }) => {
                let mut consent = m
                    .consent(chain, &tx.sender)
                    .filter(|c| c.active())
                    .cloned()
                    .ok_or(TxError::NoConsent)?;
                consent.withdrawn_ms = Some(now_ms);
                change
                    .writes
                    .push(MembershipWrite::Consent(chain.clone(), tx.sender, consent));
            }
            Action::Membership(MembershipAction::LogAccess { chain, users }) => {
                self.operator_only(tx)?;
                // Only consenting members' data is ever read, so only they are logged.
                for u in users {
                    if !m.consent(chain, u).is_some_and(|c| c.active()) {
                        return Err(TxError::NoConsent);
                    }
                    change
                        .writes
                        .push(MembershipWrite::Access(*u, now_ms, tx.id(), chain.clone()));
                }
            }
            Action::Membership(MembershipAction::OpenPackSeason {
                season,
                starts_ms,
                weeks,
                weekly_reward,
                lzm_per_week,
            }) => {
                self.operator_only(tx)?;
                if m.season().is_some_and(|s| s.season >= *season) {
                    return Err(TxError::Pack(
                        "a season's number must be higher than the last".into(),
                    ));
                }
                if *weeks == 0 || *starts_ms < now_ms {
                    return Err(TxError::Pack(
                        "a season runs at least a week and starts now or later".into(),
                    ));
                }
                change
                    .writes
                    .push(MembershipWrite::Season(crate::membership::PackSeason {
                        season: *season,
                        starts_ms: *starts_ms,
                        weeks: *weeks,
                        weekly_reward: *weekly_reward,
                        lzm_per_week: *lzm_per_week,
                    }));
            }
            Action::Membership(MembershipAction::JoinPack { amount }) => {
                let season = m
                    .season()
                    .ok_or_else(|| TxError::Pack("no season is open".into()))?;
                if now_ms >= season.week_start(season.weeks) {
                    return Err(TxError::Pack("the season is over".into()));
                }
                if amount.is_zero() {
                    return Err(TxError::ZeroAmount);
                }
                let currency = self.currency()?.0;
                change
                    .moves
                    .push((tx.sender, *crate::membership::PACK, currency, *amount));
                // Adding to a commitment restarts it: a week pays what was in it all week.
                let held = m.pack_of(&tx.sender).map_or(0, |(a, _)| a);
                change.writes.push(MembershipWrite::Pack(
                    tx.sender,
                    Some((held + amount.units(), now_ms)),
                ));
                self.check_moves(&change.moves)?;
            }
            Action::Membership(MembershipAction::LeavePack) => {
                let (held, _) = m
                    .pack_of(&tx.sender)
                    .ok_or_else(|| TxError::Pack("not in the Pack".into()))?;
                let currency = self.currency()?.0;
                change.moves.push((
                    *crate::membership::PACK,
                    tx.sender,
                    currency,
                    Amount::new(held),
                ));
                change.writes.push(MembershipWrite::Pack(tx.sender, None));
            }
            Action::Membership(MembershipAction::PayPackWeek { week }) => {
                self.operator_only(tx)?;
                let season = m
                    .season()
                    .ok_or_else(|| TxError::Pack("no season is open".into()))?
                    .clone();
                if *week >= season.weeks {
                    return Err(TxError::Pack("the season has no such week".into()));
                }
                let (start, end) = (season.week_start(*week), season.week_start(*week + 1));
                if now_ms < end {
                    return Err(TxError::Pack("the week is not over".into()));
                }
                if m.week_paid(season.season, *week) {
                    return Err(TxError::TradeClosed);
                }
                let currency = self.currency()?.0;
                // Those in the Pack the whole week, still in it now, share the week's MLK
                // in proportion to what they committed; rounding leaves dust in the bucket.
                let members: Vec<(Address, u128)> = m
                    .pack_members()
                    .filter(|(_, (amount, since))| *amount > 0 && *since <= start)
                    .map(|(a, (amount, _))| (*a, *amount))
                    .collect();
                let total: u128 = members.iter().map(|(_, a)| a).sum();
                let bucket = m.config().pack_rewards_from;
                let pot = season
                    .weekly_reward
                    .units()
                    .min(self.balance(&bucket, &currency).units());
                let source = Hash::domain(
                    "milk/pack/week",
                    &[&season.season.to_be_bytes(), &week.to_be_bytes()],
                );
                for (account, amount) in &members {
                    let share = (ethnum::U256::from(pot) * ethnum::U256::from(*amount)
                        / ethnum::U256::from(total))
                    .as_u128();
                    if share > 0 {
                        change
                            .moves
                            .push((bucket, *account, currency, Amount::new(share)));
                    }
                }
                // LZM for taking part, while the activity pool lasts.
                let config = m.config();
                let mut left = self.balance(&config.activity_pool, &config.token).units();
                for (account, _) in &members {
                    let wanted = season.lzm_per_week.units().min(left);
                    if wanted == 0 {
                        break;
                    }
                    if let Some(credit) = self.plan_credit(
                        account,
                        Reason::Pack,
                        wanted,
                        source,
                        format!("pack:{}:{week}", season.season),
                        now_ms,
                    ) {
                        left -= credit.moves.iter().map(|m| m.3.units()).sum::<u128>();
                        change.moves.extend(credit.moves);
                        change.writes.extend(credit.writes);
                    }
                }
                change
                    .writes
                    .push(MembershipWrite::PackPaid(season.season, *week));
                self.check_moves(&change.moves)?;
            }
            Action::Tokenomics(TokenomicsAction::PayContribution { chain, epoch }) => {
                self.operator_only(tx)?;
                let rewards = &m.config().rewards;
                if now_ms < (epoch + 1).saturating_mul(rewards.epoch_ms) {
                    return Err(TxError::Pack("the epoch is not over".into()));
                }
                let key = crate::membership::record::partner_key(
                    crate::membership::record::CONTRIBUTION,
                    chain,
                    &epoch.to_be_bytes(),
                );
                if m.raw(&key).is_some() {
                    return Err(TxError::TradeClosed);
                }
                let partner = self
                    .alliance
                    .as_ref()
                    .and_then(|(a, _)| a.member(chain))
                    .filter(|p| p.status != crate::alliance::Status::Applied)
                    .ok_or(TxError::UnknownApplication)?;
                let currency = self.currency()?.0;
                // X% of the volume, rounded down, while allocation B lasts.
                let owed = m.volume(chain, *epoch) * u128::from(rewards.rate_bps(*epoch))
                    / crate::exchange::curve::BPS;
                let paid = owed.min(self.balance(&rewards.partner_b, &currency).units());
                if paid > 0 {
                    change.moves.push((
                        rewards.partner_b,
                        partner.issuer,
                        currency,
                        Amount::new(paid),
                    ));
                }
                change
                    .writes
                    .push(MembershipWrite::Raw(key, Some(paid.to_be_bytes().to_vec())));
            }
            Action::Tokenomics(TokenomicsAction::RewardLink { user, chain }) => {
                self.operator_only(tx)?;
                let key = crate::membership::record::partner_key(
                    crate::membership::record::LINKED,
                    chain,
                    user.as_bytes(),
                );
                if m.raw(&key).is_some() {
                    return Err(TxError::TradeClosed);
                }
                let rewards = &m.config().rewards;
                let currency = self.currency()?.0;
                let reward = rewards
                    .link_reward
                    .min(self.balance(&rewards.user_bucket, &currency));
                if !reward.is_zero() {
                    change
                        .moves
                        .push((rewards.user_bucket, *user, currency, reward));
                }
                change
                    .writes
                    .push(MembershipWrite::Raw(key, Some(Vec::new())));
            }
            Action::Tokenomics(TokenomicsAction::StartPhase2 { stake }) => {
                self.operator_only(tx)?;
                if m.phase2_stake().is_some() {
                    return Err(TxError::Phase2Started);
                }
                change.writes.push(MembershipWrite::Raw(
                    vec![crate::membership::record::PHASE2],
                    Some(stake.units().to_be_bytes().to_vec()),
                ));
            }
            Action::Tokenomics(TokenomicsAction::AllocatePartner { chain, amount }) => {
                self.operator_only(tx)?;
                let key = crate::membership::record::partner_key(
                    crate::membership::record::VEST,
                    chain,
                    &[],
                );
                if m.raw(&key).is_some() {
                    return Err(TxError::TradeClosed);
                }
                let partner = self
                    .alliance
                    .as_ref()
                    .and_then(|(a, _)| a.member(chain))
                    .filter(|p| p.status != crate::alliance::Status::Applied)
                    .ok_or(TxError::UnknownApplication)?;
                if amount.is_zero() {
                    return Err(TxError::ZeroAmount);
                }
                let rewards = &m.config().rewards;
                let joined = partner.admitted_at_ms.unwrap_or(0);
                let unlock = joined
                    .max(rewards.schedule_start_ms)
                    .saturating_add(rewards.partner_lock_ms);
                let currency = self.currency()?.0;
                change.moves.push((
                    rewards.partner_a,
                    crate::membership::vesting_account(chain),
                    currency,
                    *amount,
                ));
                let mut v = amount.units().to_be_bytes().to_vec();
                v.extend_from_slice(&unlock.to_be_bytes());
                v.push(0);
                change.writes.push(MembershipWrite::Raw(key, Some(v)));
                self.check_moves(&change.moves)?;
            }
            Action::Tokenomics(TokenomicsAction::ClaimAllocation { chain }) => {
                let key = crate::membership::record::partner_key(
                    crate::membership::record::VEST,
                    chain,
                    &[],
                );
                let (amount, unlock, claimed) = m
                    .raw(&key)
                    .and_then(|v| crate::membership::decode_vest(v))
                    .ok_or(TxError::UnknownApplication)?;
                let partner = self
                    .alliance
                    .as_ref()
                    .and_then(|(a, _)| a.member(chain))
                    .ok_or(TxError::UnknownApplication)?;
                if partner.issuer != tx.sender {
                    return Err(TxError::NotIssuer {
                        asset: partner.application.symbol,
                    });
                }
                if claimed {
                    return Err(TxError::TradeClosed);
                }
                if now_ms < unlock {
                    return Err(TxError::AllocationLocked(format!(
                        "{chain}'s share of partner allocation A unlocks at {unlock} (Unix ms)"
                    )));
                }
                let currency = self.currency()?.0;
                change.moves.push((
                    crate::membership::vesting_account(chain),
                    tx.sender,
                    currency,
                    Amount::new(amount),
                ));
                let mut v = amount.to_be_bytes().to_vec();
                v.extend_from_slice(&unlock.to_be_bytes());
                v.push(1);
                change.writes.push(MembershipWrite::Raw(key, Some(v)));
            }
            _ => unreachable!("called for membership actions only"),
        }
        Ok(change)
    }

    /// In phase 2, what an application's stake moves and records; refused if the applicant
    /// cannot put it up. `None` before phase 2.
    pub(crate) fn plan_stake(
        &self,
        applicant: Address,
        chain: &crate::ChainId,
    ) -> Result<Option<MembershipChange>, TxError> {
        let Some(stake) = self.membership.as_ref().and_then(|m| m.phase2_stake()) else {
            return Ok(None);
        };
        let currency = self.currency()?.0;
        let have = self.balance(&applicant, &currency);
        if have.units() < stake {
            return Err(TxError::InsufficientBalance {
                asset: currency,
                available: have,
                needed: Amount::new(stake),
            });
        }
        Ok(Some(MembershipChange {
            moves: vec![(
                applicant,
                *crate::membership::STAKES,
                currency,
                Amount::new(stake),
            )],
            burn: None,
            writes: vec![MembershipWrite::Raw(
                crate::membership::record::partner_key(
                    crate::membership::record::STAKE,
                    chain,
                    &[],
                ),
                Some(stake.to_be_bytes().to_vec()),
            )],
        }))
    }

    /// Applies a checked membership change.
    pub(crate) fn apply_membership(&mut self, change: MembershipChange) {
        if let Some((account, asset, amount)) = change.burn {
            let after = self
                .balance(&account, &asset)
                .checked_sub(amount)
                .expect("checked");
            self.set_balance(account, asset, after);
            let state = self.assets.get_mut(&asset).expect("checked");
            self.touched_supplies.entry(asset).or_insert(state.supply);
            state.supply = state.supply.checked_sub(amount).expect("checked");
        }
        self.apply_moves(change.moves);
        for w in change.writes {
            self.membership
                .as_mut()
                .expect("planned with membership")
                .write(w);
        }
    }

    /// Applies balance moves that were checked.
    pub(crate) fn apply_moves(&mut self, moves: Vec<(Address, Address, Symbol, Amount)>) {
        for (from, to, asset, amount) in moves {
            if amount.is_zero() {
                continue;
            }
            let f = self
                .balance(&from, &asset)
                .checked_sub(amount)
                .expect("checked");
            self.set_balance(from, asset, f);
            let t = self
                .balance(&to, &asset)
                .checked_add(amount)
                .expect("checked");
            self.set_balance(to, asset, t);
        }
    }

    /// Each center asset's supply, with what does not circulate taken out: accounts whose
    /// lock is in force, reserves (the exchange's liquidity, reward pools, escrow) and what
    /// TICA holds.
    pub fn supply_report(&self, now_ms: u64) -> Vec<SupplyReport> {
        let assets: Vec<(Symbol, Amount)> = self.assets().map(|(s, t)| (s.symbol, t)).collect();
        let vesting = self
            .membership
            .as_ref()
            .map(|m| m.vesting())
            .unwrap_or_default();
        crate::membership::supply_report(
            &self.roles,
            self.membership.as_ref().map(|m| m.config()),
            &assets,
            &vesting,
            |a, s| self.balance(a, s),
            now_ms,
        )
    }
}
