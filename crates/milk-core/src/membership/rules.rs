//! Membership's rules: LZM credits from the user pools, check-ins, MLK burns, coupons,
//! TICA's settings, premium offers and the MiL.k Pack.

use super::action::MembershipAction;
use super::needs::{BrandState, Fill, MembershipNeeds, PartnerStatus};
use crate::error::TxError;
use crate::error::{AllianceError, LedgerError, MembershipError};
use crate::membership::{MAX_PACK_LEAD_MS, MAX_PACK_WEEKS};
use crate::membership::{Membership, MembershipWrite, Reason};
use crate::state::{ChainState, Change};
use crate::tx::Transaction;
use crate::{Address, Amount, ChainId, Hash, Symbol};

/// A planned credit: the LZM moves and records it makes.
pub(crate) struct Credit {
    pub(crate) moves: Vec<(Address, Address, Symbol, Amount)>,
    pub(crate) writes: Vec<MembershipWrite>,
}

impl ChainState {
    /// Membership, or `no_membership` on a chain without it.
    pub(crate) fn membership_state(&self) -> Result<&Membership, TxError> {
        (self.membership.as_ref()).ok_or(TxError::Membership(MembershipError::NoMembership))
    }

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
        // A debt of reversed LZM is settled first: that part stays in the pool and counts
        // for no level. The record keeps the whole credit, so reversing it is exact.
        let debt = m.debt_of(account);
        let paid = amount - amount.min(debt);
        let day = now_ms / crate::ledger::DAY_MS;
        let mut writes = vec![MembershipWrite::Credit {
            account: *account,
            time_ms: now_ms,
            source,
            reason,
            amount,
            reference,
        }];
        if debt > 0 {
            writes.push(MembershipWrite::Debt(*account, debt - (amount - paid)));
        }
        let mut moves = Vec::new();
        if paid > 0 {
            moves.push((pool, *account, config.token, Amount::new(paid)));
            writes.push(MembershipWrite::Earned(
                *account,
                day,
                m.earned_on(account, day) + paid,
            ));
        }
        Some(Credit { moves, writes })
    }

    /// Checks a membership action at block time `now_ms`.
    pub(crate) fn check_membership(
        &self,
        tx: &Transaction,
        action: &MembershipAction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        match action {
            MembershipAction::CheckIn => self.check_in(tx, now_ms),
            MembershipAction::BurnForLzm { amount } => self.burn_for_lzm(tx, amount, now_ms),
            MembershipAction::CreditCoupon { user, krw, seal } => {
                self.credit_coupon(tx, user, krw, seal, now_ms)
            }
            MembershipAction::ReverseCoupon { user, seal } => {
                self.reverse_coupon(tx, user, seal, now_ms)
            }
            MembershipAction::SetEarningRules { rules } => self.set_earning_rules(tx, rules),
            MembershipAction::SetLevelFloor {
                user,
                level,
                reason,
            } => self.set_level_floor(tx, user, level, reason),
            MembershipAction::PublishOffer {
                id,
                title,
                level,
                price,
                stock,
                opens_ms,
                closes_ms,
            } => self.publish_offer(tx, id, title, level, price, stock, opens_ms, closes_ms),
            MembershipAction::BuyOffer { chain, id } => self.buy_offer(tx, chain, id, now_ms),
            MembershipAction::OpenPackSeason {
                season,
                starts_ms,
                weeks,
                weekly_reward,
                lzm_per_week,
            } => self.open_pack_season(
                tx,
                season,
                starts_ms,
                weeks,
                weekly_reward,
                lzm_per_week,
                now_ms,
            ),
            MembershipAction::JoinPack { amount } => self.join_pack(tx, amount, now_ms),
            MembershipAction::LeavePack => self.leave_pack(tx),
            MembershipAction::PayPackWeek { week } => self.pay_pack_week(tx, week, now_ms),
        }
    }

    /// `CheckIn`: the daily check-in:
    fn check_in(&self, tx: &Transaction, now_ms: u64) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let day = now_ms / crate::ledger::DAY_MS;
        let mut change = Change::default();
        if m.checked_in(&tx.sender, day) {
            return Err(TxError::Membership(MembershipError::AlreadyCheckedIn));
        }
        let config = m.config();
        if self.balance(&config.activity_pool, &config.token).is_zero() {
            return Err(TxError::Membership(MembershipError::PoolExhausted));
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
            .ok_or(TxError::Membership(MembershipError::DailyCapReached))?;
        change.postings.moves = credit.moves;
        change.membership = credit.writes;
        change
            .membership
            .push(MembershipWrite::CheckIn(tx.sender, day));

        Ok(change)
    }

    /// `BurnForLzm`: burns the sender's MLK for LZM at TICA's rate (center chain).
    fn burn_for_lzm(
        &self,
        tx: &Transaction,
        amount: &Amount,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        let (currency, decimals) = self.mlk()?;
        if amount.is_zero() {
            return Err(TxError::Ledger(LedgerError::ZeroAmount));
        }
        let have = self.balance(&tx.sender, &currency);
        if have < *amount {
            return Err(TxError::Ledger(
                self.ledger().short(currency, have, *amount),
            ));
        }
        let wanted = amount
            .units()
            .checked_mul(m.rules().per_mlk_burned.units())
            .ok_or(TxError::Ledger(LedgerError::Overflow { asset: currency }))?
            / 10u128.pow(u32::from(decimals));
        if wanted == 0 {
            return Err(TxError::Membership(MembershipError::BurnTooSmall));
        }
        let config = m.config();
        if self.balance(&config.burn_pool, &config.token).units() < wanted {
            // Burning for less than the rate promises is refused, not half-paid.
            return Err(TxError::Membership(MembershipError::PoolExhausted));
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
            .ok_or(TxError::Membership(MembershipError::PoolExhausted))?;
        change.postings.burns.push((tx.sender, currency, *amount));
        change.postings.moves = credit.moves;
        change.membership = credit.writes;

        Ok(change)
    }

    /// The prelude of a coupon action: membership runs here, and only TICA sends it.
    fn coupon_prelude(&self, tx: &Transaction) -> Result<&super::Membership, TxError> {
        let m = self.membership_state()?;
        self.operator_only(tx)?;
        Ok(m)
    }

    /// `CreditCoupon`: TICA credits what a customer's coupon payment, reported on its
    /// partner's chain, earns in LZM (center chain), once per report's seal.
    fn credit_coupon(
        &self,
        tx: &Transaction,
        user: &Address,
        krw: &u64,
        key: &Hash,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let (m, key) = (self.coupon_prelude(tx)?, *key);
        let mut change = Change::default();
        if m.coupon_used(&key) {
            return Err(TxError::Membership(MembershipError::CouponUsed));
        }
        let wanted = u128::from(*krw / 1_000).saturating_mul(m.rules().per_1000_krw_coupon.units());
        // The coupon counts once, even when the cap or the pool leaves nothing.
        if let Some(credit) =
            self.plan_credit(user, Reason::Coupon, wanted, key, key.to_hex(), now_ms)
        {
            change.postings.moves = credit.moves;
            change.membership = credit.writes;
        }
        change.membership.push(MembershipWrite::Coupon(key, *user));

        Ok(change)
    }

    /// `ReverseCoupon`: after the partner reported on its chain that a coupon payment was
    /// refunded, TICA takes back the LZM credited for it, once. What the member still holds
    /// goes back to the activity pool; what they already spent or sent becomes a debt their
    /// next credits settle first. The level no longer counts any of it (on the credit's day).
    fn reverse_coupon(
        &self,
        tx: &Transaction,
        user: &Address,
        key: &Hash,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let (m, key) = (self.coupon_prelude(tx)?, *key);
        if m.coupon_reversed(&key) {
            return Err(TxError::Membership(MembershipError::CouponRefunded));
        }
        if m.coupon_user(&key) != Some(*user) {
            return Err(TxError::Membership(MembershipError::CouponUnknown));
        }
        // A payment that earned nothing (the cap or the pool was reached) has nothing to take
        // back; its refund is recorded all the same.
        let Some(credit) = m.credit_from(user, &key) else {
            let mut change = Change::default();
            change.membership.push(MembershipWrite::CouponReversed(key));
            return Ok(change);
        };
        let config = m.config();
        let amount = credit.amount.units();
        let take = amount.min(self.balance(user, &config.token).units());
        let mut change = Change::default();
        if take > 0 {
            let back = (*user, config.activity_pool, config.token, Amount::new(take));
            change.postings.moves.push(back);
        }
        let day = credit.time_ms / crate::ledger::DAY_MS;
        let counted = m.earned_on(user, day).saturating_sub(amount);
        change.membership = vec![
            MembershipWrite::CouponReversed(key),
            MembershipWrite::Earned(*user, day, counted),
            MembershipWrite::Credit {
                account: *user,
                time_ms: now_ms,
                source: tx.id(),
                reason: Reason::Reversal,
                amount,
                reference: credit.reference,
            },
        ];
        if take < amount {
            let owed = m.debt_of(user).saturating_add(amount - take);
            change.membership.push(MembershipWrite::Debt(*user, owed));
        }
        Ok(change)
    }

    /// `SetEarningRules`: TICA changes the earning rules (center chain).
    fn set_earning_rules(
        &self,
        tx: &Transaction,
        rules: &super::EarningRules,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        change
            .membership
            .push(MembershipWrite::Rules(rules.clone()));

        Ok(change)
    }

    /// `SetLevelFloor`: TICA sets a floor under a member's level, with its reason; level 0
    /// removes it.
    fn set_level_floor(
        &self,
        tx: &Transaction,
        user: &Address,
        level: &u8,
        reason: &str,
    ) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        self.operator_only(tx)?;
        if usize::from(*level) >= m.config().levels.len() {
            return Err(TxError::Membership(MembershipError::InvalidLevel));
        }
        let floor = (*level > 0).then(|| (*level, reason.to_owned()));
        change.membership.push(MembershipWrite::Floor(*user, floor));

        Ok(change)
    }

    /// `PublishOffer`: a partner publishes a premium offer for members of a level, paid in LZM
    /// (center chain; the partner's issuer key).
    #[expect(
        clippy::too_many_arguments,
        reason = "one parameter per field of the action it checks"
    )]
    fn publish_offer(
        &self,
        tx: &Transaction,
        id: &str,
        title: &str,
        level: &u8,
        price: &Amount,
        stock: &u32,
        opens_ms: &u64,
        closes_ms: &u64,
    ) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        BrandState::check_reference(id)?;
        let chain = (self.partner_of_issuer(&tx.sender, |s| s == PartnerStatus::Admitted))
            .ok_or(TxError::Alliance(AllianceError::NotAMember))?;
        if m.offer(chain, id).is_some() {
            return Err(TxError::Membership(MembershipError::OfferExists));
        }
        if usize::from(*level) >= m.config().levels.len() {
            return Err(TxError::Membership(MembershipError::InvalidLevel));
        }
        if price.is_zero() || *stock == 0 || closes_ms <= opens_ms || title.is_empty() {
            return Err(TxError::Membership(MembershipError::InvalidOffer(
                "a title, a price, some stock and a window that closes after it opens".into(),
            )));
        }
        change.membership.push(MembershipWrite::Offer(
            chain.clone(),
            id.to_owned(),
            crate::membership::Offer {
                title: title.to_owned(),
                level: *level,
                price: *price,
                stock: *stock,
                sold: 0,
                opens_ms: *opens_ms,
                closes_ms: *closes_ms,
                seller: tx.sender,
            },
        ));

        Ok(change)
    }

    /// `BuyOffer`: a member buys a premium offer:
    fn buy_offer(
        &self,
        tx: &Transaction,
        chain: &ChainId,
        id: &str,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        let offer = m
            .offer(chain, id)
            .ok_or(TxError::Membership(MembershipError::UnknownOffer))?;
        if now_ms < offer.opens_ms || now_ms >= offer.closes_ms {
            return Err(TxError::Membership(MembershipError::OfferClosed));
        }
        if offer.sold >= offer.stock {
            return Err(TxError::Membership(MembershipError::SoldOut));
        }
        let level = m.level(&tx.sender, now_ms);
        if level.index < offer.level {
            return Err(TxError::Membership(MembershipError::UnderLevel {
                level: level.name,
                needed: m.config().levels[usize::from(offer.level)].name.clone(),
            }));
        }
        let token = m.config().token;
        let have = self.balance(&tx.sender, &token);
        if have < offer.price {
            return Err(TxError::Ledger(self.ledger().short(
                token,
                have,
                offer.price,
            )));
        }
        change
            .postings
            .moves
            .push((tx.sender, offer.seller, token, offer.price));
        let mut offer = offer.clone();
        offer.sold += 1;
        change
            .membership
            .push(MembershipWrite::Offer(chain.clone(), id.to_owned(), offer));

        Ok(change)
    }

    /// `OpenPackSeason`: TICA opens a MiL.k Pack season (center chain).
    #[expect(
        clippy::too_many_arguments,
        reason = "one parameter per field of the action it checks"
    )]
    fn open_pack_season(
        &self,
        tx: &Transaction,
        season: &u32,
        starts_ms: &u64,
        weeks: &u32,
        weekly_reward: &Amount,
        lzm_per_week: &Amount,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        self.operator_only(tx)?;
        if m.season().is_some_and(|s| s.season >= *season) {
            return Err(TxError::Membership(MembershipError::Pack(
                "a season's number must be higher than the last".into(),
            )));
        }
        if *weeks == 0 || *starts_ms < now_ms {
            return Err(TxError::Membership(MembershipError::Pack(
                "a season runs at least a week and starts now or later".into(),
            )));
        }
        if *weeks > MAX_PACK_WEEKS || *starts_ms - now_ms > MAX_PACK_LEAD_MS {
            return Err(TxError::Membership(MembershipError::Pack(format!(
                "a season runs at most {MAX_PACK_WEEKS} weeks and opens at most a year ahead"
            ))));
        }
        change
            .membership
            .push(MembershipWrite::Season(crate::membership::PackSeason {
                season: *season,
                starts_ms: *starts_ms,
                weeks: *weeks,
                weekly_reward: *weekly_reward,
                lzm_per_week: *lzm_per_week,
            }));

        Ok(change)
    }

    /// `JoinPack`: a member commits MLK to the Pack (more joins add to it).
    fn join_pack(&self, tx: &Transaction, amount: &Amount, now_ms: u64) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        let season = m.season().ok_or_else(|| {
            TxError::Membership(MembershipError::Pack("no season is open".into()))
        })?;
        if now_ms >= season.week_start(season.weeks) {
            return Err(TxError::Membership(MembershipError::Pack(
                "the season is over".into(),
            )));
        }
        if amount.is_zero() {
            return Err(TxError::Ledger(LedgerError::ZeroAmount));
        }
        let currency = self.mlk()?.0;
        change
            .postings
            .moves
            .push((tx.sender, *crate::membership::PACK, currency, *amount));
        // Adding to a commitment restarts it: a week pays what was in it all week.
        let held = m.pack_of(&tx.sender).map_or(0, |(a, _)| a);
        change.membership.push(MembershipWrite::Pack(
            tx.sender,
            Some((held + amount.units(), now_ms)),
        ));

        Ok(change)
    }

    /// `LeavePack`: a member takes all their MLK out of the Pack; the week under way is
    /// forfeited.
    fn leave_pack(&self, tx: &Transaction) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        let (held, _) = m
            .pack_of(&tx.sender)
            .ok_or_else(|| TxError::Membership(MembershipError::Pack("not in the Pack".into())))?;
        let currency = self.mlk()?.0;
        change.postings.moves.push((
            *crate::membership::PACK,
            tx.sender,
            currency,
            Amount::new(held),
        ));
        change
            .membership
            .push(MembershipWrite::Pack(tx.sender, None));

        Ok(change)
    }

    /// `PayPackWeek`: TICA pays a finished week of the season (center chain; once per week).
    fn pay_pack_week(&self, tx: &Transaction, week: &u32, now_ms: u64) -> Result<Change, TxError> {
        let m = self.membership_state()?;
        let mut change = Change::default();
        self.operator_only(tx)?;
        let season = m
            .season()
            .ok_or_else(|| TxError::Membership(MembershipError::Pack("no season is open".into())))?
            .clone();
        if *week >= season.weeks {
            return Err(TxError::Membership(MembershipError::Pack(
                "the season has no such week".into(),
            )));
        }
        let (start, end) = (season.week_start(*week), season.week_start(*week + 1));
        if now_ms < end {
            return Err(TxError::Membership(MembershipError::Pack(
                "the week is not over".into(),
            )));
        }
        if m.week_paid(season.season, *week) {
            return Err(TxError::Membership(MembershipError::AlreadyPaid));
        }
        let currency = self.mlk()?.0;
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
                    .postings
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
                change.postings.moves.extend(credit.moves);
                change.membership.extend(credit.writes);
            }
        }
        change
            .membership
            .push(MembershipWrite::PackPaid(season.season, *week));

        Ok(change)
    }

    /// Credits the LZM a filled trade earns its customer, by its KRW volume.
    pub(crate) fn credit_trade(&self, change: &mut Change, fill: &Fill, now_ms: u64) {
        use ethnum::U256;
        let (Some(m), Ok((_, decimals))) = (self.membership.as_ref(), self.mlk()) else {
            return;
        };
        let krw = U256::from(fill.gross) * U256::from(fill.mlk_krw_e4)
            / U256::from(10u8).pow(u32::from(decimals) + 4);
        let wanted = krw / U256::from(1_000u32) * U256::from(m.rules().per_1000_krw_traded.units());
        let wanted = u128::try_from(wanted).unwrap_or(u128::MAX);
        let (id, reason) = (fill.trade, Reason::Trade);
        if let Some(c) = self.plan_credit(&fill.user, reason, wanted, id, id.to_hex(), now_ms) {
            change.postings.moves.extend(c.moves);
            change.membership.extend(c.writes);
        }
    }
}
