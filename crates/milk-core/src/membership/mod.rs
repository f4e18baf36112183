//! Membership on the center chain: LZM earned for activity, levels from what was earned in a
//! rolling window, and the rules that keep allocations locked.
//!
//! LZM comes out of two user pools: the activity pool (daily check-ins, Brand Token trades,
//! coupon payments a partner reports) and the burn pool (MLK burned → LZM at a rate). Each
//! credit is recorded with its reason and source, and counted on its UTC day; a user's level
//! is the highest threshold reached by what they *earned* in the window (90 days by
//! default), or TICA's floor for them if higher. Activity credits are capped per user per
//! day. When a pool is empty, its credits stop.
//!
//! Allocations with a role in the genesis (`AccountRole`) are either locked (until a time,
//! for the exchange only, until the user pools are exhausted, or last of all) or classed as
//! reserve or TICA-held; [`supply_report`] excludes all of them from the circulating supply.

pub(crate) mod rules;

pub mod action;
pub mod error;
pub(crate) mod needs;
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::{Address, Amount, Hash, Symbol};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Record namespaces of membership (center chain).
pub mod record {
    pub use crate::ledger::record::{partner_key, split_partner_key};
    /// `EARNED ‖ account ‖ day` → LZM base units the account earned that UTC day.
    pub const EARNED: u8 = 40;
    /// `CREDIT ‖ account ‖ time ‖ source` → `reason (u8) ‖ amount (u128) ‖ reference`.
    pub const CREDIT: u8 = 41;
    /// `RULES` → the earning rules in force.
    pub const RULES: u8 = 42;
    /// `FLOOR ‖ account` → `level (u8) ‖ reason`: TICA's floor for the account's level.
    pub const FLOOR: u8 = 43;
    /// `COUPON ‖ seal` → `member (32) ‖ reversed (u8)`: the coupon payment a partner
    /// reported on its chain under that seal (`brand::coupon_seal`) was credited to the
    /// member (and, once reversed, taken back).
    pub const COUPON: u8 = 44;
    /// `CHECKIN ‖ account ‖ day` → empty: the account checked in that UTC day.
    pub const CHECKIN: u8 = 45;
    /// `OFFER ‖ chain ‖ 0 ‖ id` → a premium offer (see [`super::Offer`]).
    pub const OFFER: u8 = 46;
    /// `PACK_SEASON` → the MiL.k Pack season in force.
    pub const PACK_SEASON: u8 = 49;
    /// `PACK ‖ account` → `amount (u128) ‖ since (u64)`: MLK committed to the Pack.
    pub const PACK: u8 = 50;
    /// `PACK_PAID ‖ season ‖ week` → empty: a week paid.
    pub const PACK_PAID: u8 = 51;
    /// `DEBT ‖ account` → `u128`: LZM of reversed credits the member had already spent,
    /// settled from their next credits before any of them counts.
    pub const DEBT: u8 = 58;
    /// This domain's namespaces.
    pub const NAMESPACES: &[u8] = &[
        EARNED,
        CREDIT,
        RULES,
        FLOOR,
        COUPON,
        CHECKIN,
        OFFER,
        PACK_SEASON,
        PACK,
        PACK_PAID,
        DEBT,
    ];

    /// The key of a partner's offer.
    pub fn offer(chain: &crate::ChainId, id: &str) -> Vec<u8> {
        partner_key(OFFER, chain, id.as_bytes())
    }

    /// The prefix of an account's credits.
    pub fn credits(account: &crate::Address) -> Vec<u8> {
        let mut k = vec![CREDIT];
        k.extend_from_slice(account.as_bytes());
        k
    }

    /// The prefix of an account's earnings by day.
    pub fn earned(account: &crate::Address) -> Vec<u8> {
        let mut k = vec![EARNED];
        k.extend_from_slice(account.as_bytes());
        k
    }

    /// The key of an account's level floor.
    pub fn floor(account: &crate::Address) -> Vec<u8> {
        let mut k = vec![FLOOR];
        k.extend_from_slice(account.as_bytes());
        k
    }

    /// The key of a coupon payment's record, by its report's seal.
    pub fn coupon(seal: &crate::Hash) -> Vec<u8> {
        let mut k = vec![COUPON];
        k.extend_from_slice(&seal.0);
        k
    }

    /// The key of an account's debt of reversed LZM.
    pub fn debt(account: &crate::Address) -> Vec<u8> {
        let mut k = vec![DEBT];
        k.extend_from_slice(account.as_bytes());
        k
    }

    /// The key of an account's MLK committed to the Pack.
    pub fn pack(account: &crate::Address) -> Vec<u8> {
        let mut k = vec![PACK];
        k.extend_from_slice(account.as_bytes());
        k
    }
}

/// Why LZM was credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The daily check-in.
    CheckIn,
    /// A Brand Token trade, by its KRW volume.
    Trade,
    /// A coupon payment a partner reported, by its KRW amount.
    Coupon,
    /// MLK burned.
    MlkBurn,
    /// A week in the MiL.k Pack.
    Pack,
    /// A credit taken back: its source (a coupon payment) was refunded. The record's
    /// reference names the original.
    Reversal,
}

impl Reason {
    fn tag(self) -> u8 {
        match self {
            Reason::CheckIn => 1,
            Reason::Trade => 2,
            Reason::Coupon => 3,
            Reason::MlkBurn => 4,
            Reason::Pack => 5,
            Reason::Reversal => 6,
        }
    }

    fn from_tag(t: u8) -> Option<Reason> {
        Some(match t {
            1 => Reason::CheckIn,
            2 => Reason::Trade,
            3 => Reason::Coupon,
            4 => Reason::MlkBurn,
            5 => Reason::Pack,
            6 => Reason::Reversal,
            _ => return None,
        })
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::CheckIn => "check_in",
            Reason::Trade => "trade",
            Reason::Coupon => "coupon",
            Reason::MlkBurn => "mlk_burn",
            Reason::Pack => "pack",
            Reason::Reversal => "reversal",
        }
    }
}

/// How much LZM each activity earns (TICA sets them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningRules {
    /// LZM base units for the daily check-in.
    pub check_in: Amount,
    /// LZM base units per 1,000 KRW of Brand Tokens traded.
    pub per_1000_krw_traded: Amount,
    /// LZM base units per 1,000 KRW of coupon payment.
    pub per_1000_krw_coupon: Amount,
    /// LZM base units per whole MLK burned.
    pub per_mlk_burned: Amount,
    /// The most LZM base units one account earns from activity in a UTC day.
    pub daily_cap: Amount,
}

impl Encode for EarningRules {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.check_in)
            .put(&self.per_1000_krw_traded)
            .put(&self.per_1000_krw_coupon)
            .put(&self.per_mlk_burned)
            .put(&self.daily_cap);
    }
}

impl Decode for EarningRules {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(EarningRules {
            check_in: r.get()?,
            per_1000_krw_traded: r.get()?,
            per_1000_krw_coupon: r.get()?,
            per_mlk_burned: r.get()?,
            daily_cap: r.get()?,
        })
    }
}

/// A membership level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelSpec {
    /// Its name (Basic, Silver, Gold, VIP, …).
    pub name: String,
    /// LZM base units earned in the window that reach it.
    pub threshold: Amount,
}

/// Membership as the genesis sets it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipConfig {
    /// The membership token: LZM.
    pub token: Symbol,
    /// The user pool paying activity rewards.
    pub activity_pool: Address,
    /// The user pool paying for burned MLK.
    pub burn_pool: Address,
    /// The team's portion: locked until both user pools are exhausted.
    pub team: Address,
    /// The long-term reserve: released last.
    pub reserve: Address,
    /// The earning rules at genesis.
    pub rules: EarningRules,
    /// The levels, lowest first; the first is where everyone starts.
    pub levels: Vec<LevelSpec>,
    /// The rolling window for levels, days.
    pub window_days: u32,
    /// Where MiL.k Pack rewards come from: the MLK user-distribution bucket.
    pub pack_rewards_from: Address,
    /// MLK rewards for partners' contribution and for users' linking and trading.
    pub rewards: RewardConfig,
}

/// MLK rewards (SPEC §7): partners' contribution rewards from partner allocation B, and the
/// user distribution's rewards for linking accounts and trading Brand Tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardConfig {
    /// Partner allocation B, which pays contribution rewards until it is exhausted.
    pub partner_b: Address,
    /// The user-distribution bucket, which pays users' rewards.
    pub user_bucket: Address,
    /// An epoch's length, ms: contribution rewards are paid per partner per epoch.
    pub epoch_ms: u64,
    /// When year 0 of the schedule starts (MLK's listing), Unix ms.
    pub schedule_start_ms: u64,
    /// X per year, basis points of the MLK volume a partner's customers traded: year 0
    /// first; after the last year, nothing.
    pub schedule_bps: Vec<u16>,
    /// Partner allocation A, from which TICA sets aside each partner's locked share.
    pub partner_a: Address,
    /// How long a partner's share stays locked after the later of its join date and the
    /// listing date (`schedule_start_ms`), ms.
    pub partner_lock_ms: u64,
    /// MLK base units for linking a wallet to a partner, once per partner.
    pub link_reward: Amount,
    /// Basis points of a filled trade's value paid to its customer in MLK.
    pub trade_reward_bps: u16,
}

impl RewardConfig {
    /// X for an epoch, basis points.
    pub fn rate_bps(&self, epoch: u64) -> u16 {
        let start = epoch.saturating_mul(self.epoch_ms);
        let Some(since) = start.checked_sub(self.schedule_start_ms) else {
            return self.schedule_bps.first().copied().unwrap_or(0);
        };
        let year = since / (365 * crate::ledger::DAY_MS);
        usize::try_from(year)
            .ok()
            .and_then(|y| self.schedule_bps.get(y))
            .copied()
            .unwrap_or(0)
    }
}

/// A MiL.k Pack season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackSeason {
    /// Its number.
    pub season: u32,
    /// When its first week starts, Unix ms.
    pub starts_ms: u64,
    /// How many weeks.
    pub weeks: u32,
    /// MLK paid each week, pro rata, base units.
    pub weekly_reward: Amount,
    /// LZM per participant per week, base units.
    pub lzm_per_week: Amount,
}

/// A week, ms.
pub const WEEK_MS: u64 = 7 * crate::ledger::DAY_MS;

/// The longest Pack season, in weeks: ten years.
pub const MAX_PACK_WEEKS: u32 = 520;

/// How far ahead a Pack season may be opened: a year.
pub const MAX_PACK_LEAD_MS: u64 = 366 * crate::ledger::DAY_MS;

impl PackSeason {
    /// When week `week` starts (the end of time for a week past it: a season's start and
    /// length are bounded when it opens, so that is never reached).
    pub fn week_start(&self, week: u32) -> u64 {
        let offset = u64::from(week).saturating_mul(WEEK_MS);
        self.starts_ms.saturating_add(offset)
    }
}

impl Encode for PackSeason {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.season)
            .u64(self.starts_ms)
            .u32(self.weeks)
            .put(&self.weekly_reward)
            .put(&self.lzm_per_week);
    }
}

impl Decode for PackSeason {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PackSeason {
            season: r.u32()?,
            starts_ms: r.u64()?,
            weeks: r.u32()?,
            weekly_reward: r.get()?,
            lzm_per_week: r.get()?,
        })
    }
}

/// The MiL.k Pack's holding account: a valid key nobody holds the secret of.
pub static PACK: std::sync::LazyLock<Address> =
    std::sync::LazyLock::new(|| Address::unowned("milk/pack/v1", &[]));

/// A partner's premium offer, paid in LZM, for members of a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// What it is.
    pub title: String,
    /// The lowest level that may buy it.
    pub level: u8,
    /// Its price, LZM base units.
    pub price: Amount,
    /// How many there are.
    pub stock: u32,
    /// How many were bought.
    pub sold: u32,
    /// When it opens, Unix ms.
    pub opens_ms: u64,
    /// When it closes, Unix ms.
    pub closes_ms: u64,
    /// Who is paid: the partner's issuer key.
    pub seller: Address,
}

impl Encode for Offer {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.title)
            .u8(self.level)
            .put(&self.price)
            .u32(self.stock)
            .u32(self.sold)
            .u64(self.opens_ms)
            .u64(self.closes_ms)
            .put(&self.seller);
    }
}

impl Decode for Offer {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Offer {
            title: r
                .str("offer title", crate::codec::MAX_MEMO_BYTES)?
                .to_owned(),
            level: r.u8()?,
            price: r.get()?,
            stock: r.u32()?,
            sold: r.u32()?,
            opens_ms: r.u64()?,
            closes_ms: r.u64()?,
            seller: r.get()?,
        })
    }
}

/// The pseudonymous id under which a partner sees a member: it differs per partner, so
/// partners cannot match their segments.
pub fn member_pseudonym(chain: &crate::ChainId, account: &Address) -> Hash {
    Hash::domain(
        "milk/vip/v1",
        &[chain.as_str().as_bytes(), account.as_bytes()],
    )
}

/// A changed membership record.
#[derive(Debug, Clone)]
pub(crate) enum MembershipWrite {
    Earned(Address, u64, u128),
    Credit {
        account: Address,
        time_ms: u64,
        source: Hash,
        reason: Reason,
        amount: u128,
        reference: String,
    },
    Rules(EarningRules),
    Floor(Address, Option<(u8, String)>),
    Coupon(Hash, Address),
    /// A credited coupon payment refunded: its credit was taken back.
    CouponReversed(Hash),
    /// What a member owes of reversed LZM (0: nothing).
    Debt(Address, u128),
    CheckIn(Address, u64),
    Offer(crate::ChainId, String, Offer),
    Season(PackSeason),
    /// `(account, Some((amount, since)))`, or `None` when it left.
    Pack(Address, Option<(u128, u64)>),
    PackPaid(u32, u32),
}

/// One credit, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// When (block time).
    pub time_ms: u64,
    /// Why.
    pub reason: Reason,
    /// LZM base units.
    pub amount: Amount,
    /// Its source (a transaction or trade id, or the partner's coupon id).
    pub reference: String,
}

/// A decoded credit record key and value.
pub fn decode_credit(key: &[u8], value: &[u8]) -> Option<(Address, Credit)> {
    let account = Address::from_bytes(key.get(1..33)?.try_into().ok()?).ok()?;
    let time_ms = u64::from_be_bytes(key.get(33..41)?.try_into().ok()?);
    let reason = Reason::from_tag(*value.first()?)?;
    let amount = u128::from_be_bytes(value.get(1..17)?.try_into().ok()?);
    let reference = std::str::from_utf8(value.get(17..)?).ok()?.to_owned();
    Some((
        account,
        Credit {
            time_ms,
            reason,
            amount: Amount::new(amount),
            reference,
        },
    ))
}

/// Membership's records on the center chain.
#[derive(Debug, Clone)]
pub struct Membership {
    config: MembershipConfig,
    rules: EarningRules,
    earned: HashMap<(Address, u64), u128>,
    credits: BTreeMap<Vec<u8>, Vec<u8>>,
    floors: HashMap<Address, (u8, String)>,
    coupons: HashMap<Hash, Address>,
    reversed: HashSet<Hash>,
    debts: HashMap<Address, u128>,
    checkins: HashSet<(Address, u64)>,
    offers: BTreeMap<(crate::ChainId, String), Offer>,
    season: Option<PackSeason>,
    pack: BTreeMap<Address, (u128, u64)>,
    pack_paid: BTreeSet<(u32, u32)>,
    touched: Vec<Vec<u8>>,
}

/// A user's level at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelView {
    /// The level's index (0 = the first).
    pub index: u8,
    /// Its name.
    pub name: String,
    /// LZM base units earned in the window.
    pub earned_in_window: Amount,
    /// The next level's name and what is still needed, if any.
    pub next: Option<(String, Amount)>,
    /// TICA's floor, with its reason, if one is set.
    pub floor: Option<(u8, String)>,
    /// When earnings leave the window: `(time ms, base units)`, soonest first.
    pub leaving: Vec<(u64, Amount)>,
}

impl Membership {
    /// Membership as configured.
    pub fn new(config: MembershipConfig) -> Membership {
        Membership {
            rules: config.rules.clone(),
            config,
            earned: HashMap::new(),
            credits: BTreeMap::new(),
            floors: HashMap::new(),
            coupons: HashMap::new(),
            reversed: HashSet::new(),
            debts: HashMap::new(),
            checkins: HashSet::new(),
            offers: BTreeMap::new(),
            season: None,
            pack: BTreeMap::new(),
            pack_paid: BTreeSet::new(),
            touched: Vec::new(),
        }
    }

    /// The Pack season in force.
    pub fn season(&self) -> Option<&PackSeason> {
        self.season.as_ref()
    }

    /// What `account` committed to the Pack and since when.
    pub fn pack_of(&self, account: &Address) -> Option<(u128, u64)> {
        self.pack.get(account).copied()
    }

    /// Every Pack commitment.
    pub fn pack_members(&self) -> impl Iterator<Item = (&Address, &(u128, u64))> {
        self.pack.iter()
    }

    /// Whether a season's week was paid.
    pub fn week_paid(&self, season: u32, week: u32) -> bool {
        self.pack_paid.contains(&(season, week))
    }

    /// An account's credits held here, oldest first.
    pub fn credits_of<'a>(&'a self, account: &Address) -> impl Iterator<Item = Credit> + 'a {
        let prefix = record::credits(account);
        self.credits
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, v)| decode_credit(k, v).map(|(_, c)| c))
    }

    /// A partner's offer.
    pub fn offer(&self, chain: &crate::ChainId, id: &str) -> Option<&Offer> {
        self.offers.get(&(chain.clone(), id.to_owned()))
    }

    /// The configuration from the genesis.
    pub fn config(&self) -> &MembershipConfig {
        &self.config
    }

    /// The earning rules in force.
    pub fn rules(&self) -> &EarningRules {
        &self.rules
    }

    /// LZM base units `account` earned on UTC day `day`.
    pub fn earned_on(&self, account: &Address, day: u64) -> u128 {
        self.earned.get(&(*account, day)).copied().unwrap_or(0)
    }

    /// Whether `account` checked in on `day`.
    pub fn checked_in(&self, account: &Address, day: u64) -> bool {
        self.checkins.contains(&(*account, day))
    }

    /// Whether a coupon was already credited.
    pub fn coupon_used(&self, key: &Hash) -> bool {
        self.coupons.contains_key(key)
    }

    /// The member a coupon payment was credited to.
    pub fn coupon_user(&self, key: &Hash) -> Option<Address> {
        self.coupons.get(key).copied()
    }

    /// Whether a credited coupon payment was refunded (its credit taken back).
    pub fn coupon_reversed(&self, key: &Hash) -> bool {
        self.reversed.contains(key)
    }

    /// What `account` owes of reversed LZM it had already spent.
    pub fn debt_of(&self, account: &Address) -> u128 {
        self.debts.get(account).copied().unwrap_or(0)
    }

    /// The credit `account` got from `source`, if any.
    pub fn credit_from(&self, account: &Address, source: &Hash) -> Option<Credit> {
        let prefix = record::credits(account);
        (self.credits.range(prefix.clone()..))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .find(|(k, _)| k.get(41..) == Some(&source.0[..]))
            .and_then(|(k, v)| decode_credit(k, v).map(|(_, c)| c))
    }

    /// An account's level at `now_ms`.
    pub fn level(&self, account: &Address, now_ms: u64) -> LevelView {
        let today = now_ms / crate::ledger::DAY_MS;
        let window = u64::from(self.config.window_days.max(1));
        let first = (today + 1).saturating_sub(window);
        let mut days: Vec<(u64, u128)> = self
            .earned
            .iter()
            .filter(|((a, d), _)| a == account && *d >= first && *d <= today)
            .map(|((_, d), v)| (*d, *v))
            .collect();
        days.sort_unstable();
        let earned: u128 = days.iter().map(|(_, v)| v).sum();
        let reached = self
            .config
            .levels
            .iter()
            .rposition(|l| l.threshold.units() <= earned)
            .unwrap_or(0);
        let floor = self.floors.get(account).cloned();
        let index = reached.max(floor.as_ref().map_or(0, |f| usize::from(f.0)));
        let index = index.min(self.config.levels.len().saturating_sub(1));
        let next = self.config.levels.get(index + 1).map(|l| {
            (
                l.name.clone(),
                Amount::new(l.threshold.units().saturating_sub(earned)),
            )
        });
        LevelView {
            index: index as u8,
            name: self
                .config
                .levels
                .get(index)
                .map_or_else(String::new, |l| l.name.clone()),
            earned_in_window: Amount::new(earned),
            next,
            floor,
            leaving: days
                .into_iter()
                .map(|(d, v)| ((d + window) * crate::ledger::DAY_MS, Amount::new(v)))
                .collect(),
        }
    }

    /// What `account` earned on the UTC day of `now_ms` from activity (capped) so far.
    pub(crate) fn cap_left(&self, account: &Address, now_ms: u64) -> u128 {
        let today = now_ms / crate::ledger::DAY_MS;
        let activity: u128 = self
            .credits
            .range(Self::credit_prefix_day(account, today)..)
            .take_while(|(k, _)| {
                k.starts_with(&record::credits(account))
                    && k.get(33..41)
                        .and_then(|b| b.try_into().ok())
                        .map(u64::from_be_bytes)
                        .is_some_and(|t| t / crate::ledger::DAY_MS == today)
            })
            .filter_map(|(k, v)| decode_credit(k, v))
            .filter(|(_, c)| !matches!(c.reason, Reason::MlkBurn | Reason::Reversal))
            .map(|(_, c)| c.amount.units())
            .sum();
        self.rules.daily_cap.units().saturating_sub(activity)
    }

    fn credit_prefix_day(account: &Address, day: u64) -> Vec<u8> {
        let mut k = record::credits(account);
        k.extend_from_slice(&(day * crate::ledger::DAY_MS).to_be_bytes());
        k
    }

    fn credit_key(account: &Address, time_ms: u64, source: &Hash) -> Vec<u8> {
        let mut k = record::credits(account);
        k.extend_from_slice(&time_ms.to_be_bytes());
        k.extend_from_slice(&source.0);
        k
    }

    fn earned_key(account: &Address, day: u64) -> Vec<u8> {
        let mut k = record::earned(account);
        k.extend_from_slice(&day.to_be_bytes());
        k
    }

    fn checkin_key(account: &Address, day: u64) -> Vec<u8> {
        let mut k = vec![record::CHECKIN];
        k.extend_from_slice(account.as_bytes());
        k.extend_from_slice(&day.to_be_bytes());
        k
    }

    fn pack_key(account: &Address) -> Vec<u8> {
        record::pack(account)
    }

    fn paid_key(season: u32, week: u32) -> Vec<u8> {
        let mut k = vec![record::PACK_PAID];
        k.extend_from_slice(&season.to_be_bytes());
        k.extend_from_slice(&week.to_be_bytes());
        k
    }

    fn coupon_key(key: &Hash) -> Vec<u8> {
        record::coupon(key)
    }

    pub(crate) fn write(&mut self, w: MembershipWrite) {
        match w {
            MembershipWrite::Earned(a, day, v) => {
                self.touched.push(Self::earned_key(&a, day));
                self.earned.insert((a, day), v);
            }
            MembershipWrite::Credit {
                account,
                time_ms,
                source,
                reason,
                amount,
                reference,
            } => {
                let key = Self::credit_key(&account, time_ms, &source);
                let mut v = vec![reason.tag()];
                v.extend_from_slice(&amount.to_be_bytes());
                v.extend_from_slice(reference.as_bytes());
                self.credits.insert(key.clone(), v);
                self.touched.push(key);
            }
            MembershipWrite::Rules(r) => {
                self.rules = r;
                self.touched.push(vec![record::RULES]);
            }
            MembershipWrite::Floor(a, f) => {
                self.touched.push(record::floor(&a));
                match f {
                    Some(f) => {
                        self.floors.insert(a, f);
                    }
                    None => {
                        self.floors.remove(&a);
                    }
                }
            }
            MembershipWrite::Coupon(..)
            | MembershipWrite::CouponReversed(_)
            | MembershipWrite::Debt(..) => self.write_coupon(w),
            MembershipWrite::CheckIn(a, day) => {
                self.touched.push(Self::checkin_key(&a, day));
                self.checkins.insert((a, day));
            }
            MembershipWrite::Offer(chain, id, offer) => {
                self.touched.push(record::offer(&chain, &id));
                self.offers.insert((chain, id), offer);
            }
            MembershipWrite::Season(season) => {
                self.touched.push(vec![record::PACK_SEASON]);
                self.season = Some(season);
            }
            MembershipWrite::Pack(account, entry) => {
                self.touched.push(Self::pack_key(&account));
                match entry {
                    Some(e) => {
                        self.pack.insert(account, e);
                    }
                    None => {
                        self.pack.remove(&account);
                    }
                }
            }
            MembershipWrite::PackPaid(season, week) => {
                self.touched.push(Self::paid_key(season, week));
                self.pack_paid.insert((season, week));
            }
        }
    }

    /// [`Self::write`] for coupons and the debts their refunds leave.
    fn write_coupon(&mut self, w: MembershipWrite) {
        match w {
            MembershipWrite::Coupon(h, user) => {
                self.touched.push(Self::coupon_key(&h));
                self.coupons.insert(h, user);
            }
            MembershipWrite::CouponReversed(h) => {
                self.touched.push(Self::coupon_key(&h));
                self.reversed.insert(h);
            }
            MembershipWrite::Debt(a, owed) => {
                self.touched.push(record::debt(&a));
                match owed {
                    0 => self.debts.remove(&a),
                    owed => self.debts.insert(a, owed),
                };
            }
            _ => unreachable!("write sends only coupon and debt records here"),
        }
    }

    fn value(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (ns, rest) = key.split_first()?;
        let account = || Some(Address::from_stored(rest.get(..32)?.try_into().ok()?));
        let day = || rest.get(32..40)?.try_into().ok().map(u64::from_be_bytes);
        match *ns {
            record::EARNED => {
                let (a, d) = (account()?, day()?);
                self.earned.get(&(a, d)).map(|v| v.to_be_bytes().to_vec())
            }
            record::CREDIT => self.credits.get(key).cloned(),
            record::RULES => (self.rules != self.config.rules).then(|| self.rules.to_bytes()),
            record::FLOOR => self.floors.get(&account()?).map(|(l, why)| {
                let mut v = vec![*l];
                v.extend_from_slice(why.as_bytes());
                v
            }),
            record::COUPON => {
                let h = Hash(rest.try_into().ok()?);
                let user = self.coupons.get(&h)?;
                let mut v = user.as_bytes().to_vec();
                v.push(u8::from(self.reversed.contains(&h)));
                Some(v)
            }
            record::DEBT => self
                .debts
                .get(&account()?)
                .map(|v| v.to_be_bytes().to_vec()),
            record::CHECKIN => self.checkins.contains(&(account()?, day()?)).then(Vec::new),
            record::OFFER => {
                let (chain, id) = record::split_partner_key(rest)?;
                let id = std::str::from_utf8(id).ok()?.to_owned();
                self.offers.get(&(chain, id)).map(Encode::to_bytes)
            }
            record::PACK_SEASON => self.season.as_ref().map(Encode::to_bytes),
            record::PACK => self.pack.get(&account()?).map(|(a, since)| {
                let mut v = a.to_be_bytes().to_vec();
                v.extend_from_slice(&since.to_be_bytes());
                v
            }),
            record::PACK_PAID => {
                let season = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
                let week = u32::from_be_bytes(rest.get(4..8)?.try_into().ok()?);
                self.pack_paid.contains(&(season, week)).then(Vec::new)
            }
            _ => None,
        }
    }

    /// Restores one persisted record (for readers that rebuild a member's view from a
    /// store); `false` if it is not a membership record or is malformed.
    pub fn restore_record(&mut self, key: &[u8], value: &[u8]) -> bool {
        let ok = crate::ledger::DomainRecords::restore(self, key, value);
        self.touched.clear();
        ok
    }
}

impl crate::ledger::DomainRecords for Membership {
    fn namespaces(&self) -> &'static [u8] {
        record::NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let touched = std::mem::take(&mut self.touched);
        crate::ledger::touched_records(touched, |k| self.value(k))
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut keys: Vec<Vec<u8>> = self
            .earned
            .keys()
            .map(|(a, d)| Self::earned_key(a, *d))
            .collect();
        keys.extend(self.credits.keys().cloned());
        keys.push(vec![record::RULES]);
        keys.extend(self.floors.keys().map(record::floor));
        keys.extend(self.coupons.keys().map(Self::coupon_key));
        keys.extend(self.debts.keys().map(record::debt));
        keys.extend(self.checkins.iter().map(|(a, d)| Self::checkin_key(a, *d)));
        keys.extend(self.offers.keys().map(|(c, id)| record::offer(c, id)));
        keys.push(vec![record::PACK_SEASON]);
        keys.extend(self.pack.keys().map(Self::pack_key));
        keys.extend(self.pack_paid.iter().map(|(s, w)| Self::paid_key(*s, *w)));
        keys.into_iter()
            .filter_map(|k| {
                let v = self.value(&k)?;
                Some((k, v))
            })
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let Some((ns, rest)) = key.split_first() else {
            return false;
        };
        let restored = match *ns {
            record::EARNED => self.restore_earned(rest, value),
            record::CREDIT => self.restore_credit(key, value),
            record::RULES => EarningRules::from_bytes(value).ok().map(|r| self.rules = r),
            record::FLOOR => self.restore_floor(rest, value),
            record::COUPON => self.restore_coupon(rest, value),
            record::DEBT => self.restore_debt(rest, value),
            record::CHECKIN => self.restore_checkin(rest, value),
            record::OFFER => self.restore_offer(rest, value),
            record::PACK_SEASON => PackSeason::from_bytes(value)
                .ok()
                .map(|s| self.season = Some(s)),
            record::PACK => self.restore_pack(rest, value),
            record::PACK_PAID => self.restore_pack_paid(rest, value),
            _ => None,
        };
        restored.is_some()
    }
}

/// Restoring each kind of membership record: `None` when it is malformed.
impl Membership {
    fn restore_earned(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        let (a, d) = account_day(rest)?;
        let v = u128::from_be_bytes(value.try_into().ok()?);
        self.earned.insert((a, d), v);
        Some(())
    }

    fn restore_credit(&mut self, key: &[u8], value: &[u8]) -> Option<()> {
        decode_credit(key, value)?;
        (key.len() == 73).then_some(())?;
        self.credits.insert(key.to_vec(), value.to_vec());
        Some(())
    }

    fn restore_coupon(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        let h = Hash(rest.try_into().ok()?);
        let user = Address::from_bytes(value.get(..32)?.try_into().ok()?).ok()?;
        match value.get(32..)? {
            [0] => {}
            [1] => {
                self.reversed.insert(h);
            }
            _ => return None,
        }
        self.coupons.insert(h, user);
        Some(())
    }

    fn restore_debt(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        let a = Address::from_bytes(rest.try_into().ok()?).ok()?;
        let owed = u128::from_be_bytes(value.try_into().ok()?);
        (owed > 0).then_some(())?;
        self.debts.insert(a, owed);
        Some(())
    }

    fn restore_floor(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        let a = Address::from_bytes(rest.try_into().ok()?).ok()?;
        let (level, why) = value.split_first()?;
        let why = std::str::from_utf8(why).ok()?.to_owned();
        self.floors.insert(a, (*level, why));
        Some(())
    }

    fn restore_checkin(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        let (a, d) = account_day(rest)?;
        value.is_empty().then_some(())?;
        self.checkins.insert((a, d));
        Some(())
    }

    fn restore_offer(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        let (chain, id) = record::split_partner_key(rest)?;
        let id = std::str::from_utf8(id).ok()?.to_owned();
        let offer = Offer::from_bytes(value).ok()?;
        self.offers.insert((chain, id), offer);
        Some(())
    }

    fn restore_pack(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        let a = Address::from_bytes(rest.try_into().ok()?).ok()?;
        let amount = u128::from_be_bytes(value.get(..16)?.try_into().ok()?);
        let since = u64::from_be_bytes(value.get(16..)?.try_into().ok()?);
        self.pack.insert(a, (amount, since));
        Some(())
    }

    fn restore_pack_paid(&mut self, rest: &[u8], value: &[u8]) -> Option<()> {
        value.is_empty().then_some(())?;
        let season = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        let week = u32::from_be_bytes(rest.get(4..)?.try_into().ok()?);
        self.pack_paid.insert((season, week));
        Some(())
    }
}

/// `account (32) ‖ UTC day (u64)`, the key of a per-account, per-day record.
fn account_day(rest: &[u8]) -> Option<(Address, u64)> {
    (rest.len() == 40).then_some(())?;
    let a = Address::from_bytes(rest[..32].try_into().ok()?).ok()?;
    Some((a, u64::from_be_bytes(rest[32..].try_into().ok()?)))
}
