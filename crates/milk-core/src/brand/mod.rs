//! Brand-chain rules: a partner's policy, and the records behind account links,
//! conversions of mileage, redemptions and refunds.
//!
//! Lives beside the chain state (`state::ChainState`), which owns balances and supply: a conversion
//! mints, a redemption burns, a refund re-mints, and this module checks and records the
//! why (the partner's reference, the order, the customer link) so each happens once.

pub mod action;
pub mod batch;
pub mod consent;
pub mod coupon;
pub mod error;
pub(crate) mod needs;
mod policy;
pub(crate) mod rules;
use crate::amount::Whole;
use crate::hash::Hash;
use crate::hash::TxId;
use crate::{Address, Amount, ChainId};
use action::ConversionItem;
use consent::{Sharing, SharingWrite};
use coupon::{CouponReport, Coupons};
use error::BrandError;
pub use policy::PolicyTerms;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest partner reference or order id, in bytes.
pub use crate::codec::MAX_REFERENCE_BYTES;
use crate::codec::{Decode, Encode};
/// Checks that a partner's policy makes sense.
pub fn check_policy(p: &BrandPolicy) -> Result<(), String> {
    if p.redemption_value_krw == 0 {
        return Err("redemption value must be more than zero".into());
    }
    if p.min_price_bps == 0 || p.min_price_bps > needs::MAX_PRICE_BPS {
        return Err(format!(
            "minimum price must be 1 to {} basis points of the redemption value (the maximum price)",
            needs::MAX_PRICE_BPS
        ));
    }
    if p.units_per_mileage == 0 {
        return Err("units per mileage point must be more than zero".into());
    }
    if p.min_conversion > p.max_conversion || p.max_conversion.is_zero() {
        return Err("conversion minimum must not exceed a non-zero maximum".into());
    }
    if p.expiry_days == Some(0) {
        return Err("tokens that expire must live at least a day".into());
    }
    if p.daily_user_limit < p.min_conversion {
        return Err("the daily limit must allow at least one minimum conversion".into());
    }
    Ok(())
}

pub use crate::ledger::DAY_MS;

/// A partner's rules for its Brand Token, agreed at admission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandPolicy {
    /// Redemption value R: what one whole Brand Token is worth at the partner, in KRW.
    pub redemption_value_krw: u64,
    /// The lowest price TICA may quote, as basis points of R (agreed with the partner).
    pub min_price_bps: u16,
    /// Base units of the Brand Token minted per mileage point converted.
    pub units_per_mileage: u64,
    /// The smallest conversion, in base units.
    pub min_conversion: Amount,
    /// The largest single conversion, in base units.
    pub max_conversion: Amount,
    /// The most one customer may have converted in one UTC day, in base units.
    pub daily_user_limit: Amount,
    /// Whether customers may send the token to each other.
    pub transfers_allowed: bool,
    /// Days after which tokens minted by a conversion expire (the mileage's own expiry);
    /// `None` for tokens that never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_days: Option<u32>,
}

/// Record namespaces of brand chains (every namespace is listed in `state::NAMESPACES`).
pub mod record {
    /// `LINK ‖ account` → the salted hash of the partner's customer id (32 bytes).
    pub const LINK: u8 = 10;
    /// `CONVERSION ‖ reference` → `to (32) ‖ mileage (u64) ‖ amount (u128) ‖ tx id (32)`.
    pub const CONVERSION: u8 = 11;
    /// `REDEMPTION ‖ order id` → `redeemer (32) ‖ amount (u128) ‖ refunded (u8)`.
    pub const REDEMPTION: u8 = 12;
    /// `DAILY ‖ account ‖ day (u64)` → base units converted for the account that UTC day.
    pub const DAILY: u8 = 13;
    /// `TOTALS` → `issued ‖ redeemed ‖ refunded ‖ expired` (each u128), all-time, base units.
    pub const TOTALS: u8 = 14;
    /// `LOT ‖ account ‖ day (u64)` → base units of the account's tokens that expire at the
    /// start of that UTC day.
    pub const LOT: u8 = 15;
    /// `POLICY` → the partner's terms ([`super::PolicyTerms`]), once it changed them.
    pub const POLICY: u8 = 19;
    /// `STANDING` → empty, while the partner is suspended from the alliance.
    pub const STANDING: u8 = 22;
    /// `EXIT` → `final date (u64, Unix ms) ‖ closed (u8)`, once the partner started leaving.
    pub const EXIT: u8 = 59;
    pub use super::batch::CONVERSION_BATCH;
    pub use super::consent::{ACCESS, CONSENT};
    pub use super::coupon::COUPON_REPORT;
    /// This domain's namespaces.
    pub const NAMESPACES: &[u8] = &[
        LINK,
        CONVERSION,
        REDEMPTION,
        DAILY,
        TOTALS,
        LOT,
        POLICY,
        STANDING,
        EXIT,
        CONSENT,
        ACCESS,
        COUPON_REPORT,
        CONVERSION_BATCH,
    ];

    /// The prefix of every lot.
    pub fn lots() -> Vec<u8> {
        vec![LOT]
    }

    /// The key of a conversion by its partner reference.
    pub fn conversion(reference: &str) -> Vec<u8> {
        let mut k = vec![CONVERSION];
        k.extend_from_slice(reference.as_bytes());
        k
    }

    /// The key of a redemption by its order id.
    pub fn redemption(order_id: &str) -> Vec<u8> {
        let mut k = vec![REDEMPTION];
        k.extend_from_slice(order_id.as_bytes());
        k
    }

    /// The key of the all-time totals.
    pub fn totals() -> Vec<u8> {
        vec![TOTALS]
    }
}

/// All-time flows of a Brand Token, in base units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Minted by conversions of mileage.
    pub issued: Amount,
    /// Burned by redemptions.
    pub redeemed: Amount,
    /// Re-minted by refunds.
    pub refunded: Amount,
    /// Retired by expiry sweeps.
    pub expired: Amount,
}

impl Totals {
    fn to_bytes(self) -> Vec<u8> {
        [self.issued, self.redeemed, self.refunded, self.expired]
            .iter()
            .flat_map(|a| a.units().to_be_bytes())
            .collect()
    }

    /// Decodes a `TOTALS` record.
    pub fn from_record(bytes: &[u8]) -> Option<Totals> {
        if bytes.len() != 64 {
            return None;
        }
        let at = |i: usize| {
            Amount::new(u128::from_be_bytes(
                bytes[i..i + 16].try_into().expect("16 bytes"),
            ))
        };
        Some(Totals {
            issued: at(0),
            redeemed: at(16),
            refunded: at(32),
            expired: at(48),
        })
    }
}

impl Conversion {
    /// Decodes a `CONVERSION` record's value.
    pub fn from_record(value: &[u8]) -> Option<Conversion> {
        if value.len() != 88 {
            return None;
        }
        Some(Conversion {
            to: Address::from_bytes(value[..32].try_into().ok()?).ok()?,
            mileage: u64::from_be_bytes(value[32..40].try_into().ok()?),
            amount: Amount::new(u128::from_be_bytes(value[40..56].try_into().ok()?)),
            tx: Hash(value[56..88].try_into().ok()?),
        })
    }
}

impl Redemption {
    /// Decodes a `REDEMPTION` record's value.
    pub fn from_record(value: &[u8]) -> Option<Redemption> {
        if value.len() != 49 || value[48] > 1 {
            return None;
        }
        Some(Redemption {
            redeemer: Address::from_bytes(value[..32].try_into().ok()?).ok()?,
            amount: Amount::new(u128::from_be_bytes(value[32..48].try_into().ok()?)),
            refunded: value[48] == 1,
        })
    }
}

/// The message a partner signs to vouch that `customer_hash` is the customer behind
/// `account` on `chain`. The user then sends the link; both have consented.
pub fn link_message(chain: &ChainId, account: &Address, customer_hash: &Hash) -> Hash {
    Hash::domain(
        "milk/link/v1",
        &[
            chain.as_str().as_bytes(),
            &[0],
            account.as_bytes(),
            &customer_hash.0,
        ],
    )
}

/// A link record (`LINK ‖ account` → customer hash) read back: `(account, customer hash)`.
pub fn link_of(key: &[u8], value: &[u8]) -> Option<(Address, Hash)> {
    let account = match key.split_first()? {
        (&record::LINK, rest) => Address::from_bytes(rest.try_into().ok()?).ok()?,
        _ => return None,
    };
    Some((account, Hash(value.try_into().ok()?)))
}

/// A link's seal: what the center chain records of a link when it pays its reward. It
/// commits to the partner's chain, the wallet and the partner's salted customer hash, which
/// only the partner's chain holds: whoever reads that chain can check a seal, and nobody
/// else can tell which partner a rewarded wallet linked to.
pub fn link_seal(chain: &ChainId, account: &Address, customer_hash: &Hash) -> Hash {
    Hash::domain(
        "milk/link-seal/v1",
        &[
            chain.as_str().as_bytes(),
            &[0],
            account.as_bytes(),
            &customer_hash.0,
        ],
    )
}

/// A salted hash of a partner's customer id: what a link stores instead of the id. The salt
/// is the partner's secret, so the hash reveals nothing to anyone else. Partners may use
/// their own scheme; this one is what the CLI uses.
pub fn customer_hash(salt: &str, customer_id: &str) -> Hash {
    Hash::domain(
        "milk/customer/v1",
        &[
            &(salt.len() as u64).to_be_bytes(),
            salt.as_bytes(),
            customer_id.as_bytes(),
        ],
    )
}

/// A recorded conversion: what the partner's reference id was used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    /// Who received the tokens.
    pub to: Address,
    /// The mileage converted.
    pub mileage: u64,
    /// The base units minted.
    pub amount: Amount,
    /// The transaction that did it.
    pub tx: TxId,
}

/// A recorded redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redemption {
    /// Who redeemed.
    pub redeemer: Address,
    /// The base units burned.
    pub amount: Amount,
    /// Whether the partner refunded it (re-minted once).
    pub refunded: bool,
}

/// A write that a checked brand action makes, applied by [`BrandState::write`].
#[derive(Debug, Clone)]
pub(crate) enum BrandWrite {
    Link(Address, Hash),
    /// Lots leave `from` (expiring ones first) and, for a transfer, join `to`.
    Lots {
        from: Address,
        to: Option<Address>,
        moves: Vec<(u64, Amount)>,
    },
    /// Expired lots retired (burned).
    Expire {
        account: Address,
        days: Vec<u64>,
        amount: Amount,
    },
    Convert {
        /// The UTC day the minted tokens expire, if the policy says they do.
        expires_on: Option<u64>,
        reference: String,
        conversion: Conversion,
        day: u64,
        converted_today: Amount,
    },
    Redeem(String, Redemption),
    Refund(String),
    /// Lots given back to an account (an unfilled sale's escrow returned).
    LotsBack {
        to: Address,
        lots: Vec<(u64, Amount)>,
    },
    /// The partner's new terms.
    Terms(PolicyTerms),
    /// The partner suspended (`true`) or reinstated.
    Standing(bool),
    /// The partner's exit: its final date, and whether it is finished.
    Exit(ExitRecord),
    /// A consent, or a read of a member's data.
    Sharing(SharingWrite),
    /// A coupon payment reported, or its refund.
    Coupon(String, CouponReport),
    /// A batch's outcomes, item by item.
    Batch(TxId, Vec<batch::ItemOutcome>),
}

/// A leaving partner's exit, as its brand chain records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitRecord {
    /// The final date, Unix ms: no redemption or refund from then on.
    pub final_ms: u64,
    /// Whether the exit is finished (TICA's stock burned).
    pub closed: bool,
}

impl ExitRecord {
    fn to_bytes(self) -> Vec<u8> {
        let mut v = self.final_ms.to_be_bytes().to_vec();
        v.push(u8::from(self.closed));
        v
    }

    /// Reads a recorded exit; `None` if malformed.
    pub fn from_bytes(v: &[u8]) -> Option<ExitRecord> {
        let final_ms = u64::from_be_bytes(v.get(..8)?.try_into().ok()?);
        let closed = match v.get(8..)? {
            [0] => false,
            [1] => true,
            _ => return None,
        };
        Some(ExitRecord { final_ms, closed })
    }
}

/// A brand chain's partner records.
#[derive(Debug, Clone)]
pub struct BrandState {
    policy: BrandPolicy,
    // Whether the partner changed its terms since genesis (then they are a record).
    terms_changed: bool,
    // Whether the partner is suspended from the alliance (as the center chain decided).
    suspended: bool,
    // The partner's exit, once started (as the center chain decided).
    exit: Option<ExitRecord>,
    // Members' consents to the partner, and its reads of their data.
    sharing: Sharing,
    // The coupon payments the partner reported.
    coupons: Coupons,
    // The outcomes of its batches of conversions.
    batches: batch::Batches,
    links: HashMap<Address, Hash>,
    conversions: HashMap<String, Conversion>,
    redemptions: HashMap<String, Redemption>,
    daily: HashMap<(Address, u64), Amount>,
    lots: HashMap<Address, BTreeMap<u64, Amount>>,
    totals: Totals,
    touched: Vec<Vec<u8>>,
}

fn key(namespace: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![namespace];
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

impl BrandState {
    /// No records yet, under `policy`.
    pub fn new(policy: BrandPolicy) -> BrandState {
        BrandState {
            policy,
            terms_changed: false,
            suspended: false,
            exit: None,
            sharing: Sharing::default(),
            coupons: Coupons::default(),
            batches: batch::Batches::default(),
            links: HashMap::default(),
            conversions: HashMap::default(),
            redemptions: HashMap::default(),
            daily: HashMap::default(),
            lots: HashMap::default(),
            totals: Totals::default(),
            touched: Vec::new(),
        }
    }

    /// All-time issued, redeemed and refunded amounts.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Whether the partner is suspended (as recorded on this chain).
    pub fn suspended(&self) -> bool {
        self.suspended
    }

    /// The partner's exit, once started (as recorded on this chain).
    pub fn exit(&self) -> Option<ExitRecord> {
        self.exit
    }

    /// Members' consents to the partner, and its reads of their data.
    pub fn sharing(&self) -> &Sharing {
        &self.sharing
    }

    /// The coupon payments the partner reported.
    pub fn coupons(&self) -> &Coupons {
        &self.coupons
    }

    /// The outcomes of the partner's batches of conversions.
    pub fn batches(&self) -> &batch::Batches {
        &self.batches
    }

    /// Checks recording `next` as the partner's exit at block time `now_ms`: the final date
    /// never changes, and the exit closes once, from its final date.
    pub(crate) fn plan_exit(
        &self,
        next: ExitRecord,
        now_ms: u64,
    ) -> Result<BrandWrite, BrandError> {
        let early_close = next.closed && now_ms < next.final_ms;
        let changed = self
            .exit
            .is_some_and(|e| e.final_ms != next.final_ms || e.closed);
        if early_close || changed || (self.exit.is_some() && !next.closed) {
            return Err(BrandError::ExitRecorded);
        }
        Ok(BrandWrite::Exit(next))
    }

    /// Refuses a redemption, a refund or a coupon report from the partner's final date on.
    pub(crate) fn check_honoured(&self, now_ms: u64) -> Result<(), BrandError> {
        match self.exit {
            Some(e) if now_ms >= e.final_ms => Err(BrandError::RedemptionsClosed {
                final_ms: e.final_ms,
            }),
            _ => Ok(()),
        }
    }

    /// The partner's policy.
    pub fn policy(&self) -> &BrandPolicy {
        &self.policy
    }

    /// The customer hash linked to an account.
    pub fn link(&self, account: &Address) -> Option<&Hash> {
        self.links.get(account)
    }

    /// What a partner reference was used for.
    pub fn conversion(&self, reference: &str) -> Option<&Conversion> {
        self.conversions.get(reference)
    }

    /// A redemption by order id.
    pub fn redemption(&self, order_id: &str) -> Option<&Redemption> {
        self.redemptions.get(order_id)
    }

    /// Base units an account has converted on the UTC day of `now_ms`.
    pub fn converted_on_day(&self, account: &Address, now_ms: u64) -> Amount {
        self.daily
            .get(&(*account, now_ms / DAY_MS))
            .copied()
            .unwrap_or_default()
    }

    /// An account's expiring lots: `(expires at the start of UTC day, base units)`.
    pub fn lots(&self, account: &Address) -> impl Iterator<Item = (u64, Amount)> + '_ {
        self.lots
            .get(account)
            .into_iter()
            .flat_map(|l| l.iter().map(|(d, a)| (*d, *a)))
    }

    /// What of an account's tokens has expired by `now_ms` and may no longer be spent.
    pub fn expired(&self, account: &Address, now_ms: u64) -> Amount {
        let today = now_ms / DAY_MS;
        self.lots(account)
            .filter(|(day, _)| *day <= today)
            .fold(Amount::ZERO, |sum, (_, a)| {
                sum.checked_add(a).expect("lots never exceed a balance")
            })
    }

    /// Plans spending `amount` of `account`'s `balance` at `now_ms`: expired lots cannot be
    /// spent; unexpired lots go first, soonest-expiring first, then tokens that never expire.
    /// `Ok(None)` when the account has no lots (nothing to track). Refuses with the amount
    /// that is spendable.
    pub(crate) fn plan_spend(
        &self,
        account: &Address,
        to: Option<Address>,
        balance: Amount,
        amount: Amount,
        now_ms: u64,
    ) -> Result<Option<BrandWrite>, Amount> {
        let Some(lots) = self.lots.get(account) else {
            return Ok(None);
        };
        let today = now_ms / DAY_MS;
        let spendable = balance
            .checked_sub(self.expired(account, now_ms))
            .expect("lots never exceed a balance");
        if amount > spendable {
            return Err(spendable);
        }
        let mut left = amount;
        let mut moves = Vec::new();
        for (day, lot) in lots.range(today + 1..) {
            if left.is_zero() {
                break;
            }
            let take = left.min(*lot);
            moves.push((*day, take));
            left = left.checked_sub(take).expect("took at most what was left");
        }
        Ok(Some(BrandWrite::Lots {
            from: *account,
            to,
            moves,
        }))
    }

    /// Plans retiring an account's expired lots at `now_ms`.
    pub(crate) fn plan_expire(
        &self,
        account: &Address,
        now_ms: u64,
    ) -> Result<(Amount, BrandWrite), BrandError> {
        let today = now_ms / DAY_MS;
        let expired: Vec<(u64, Amount)> = self.lots(account).filter(|(d, _)| *d <= today).collect();
        if expired.is_empty() {
            return Err(BrandError::NothingExpired);
        }
        let amount = expired.iter().fold(Amount::ZERO, |s, (_, a)| {
            s.checked_add(*a).expect("lots never exceed a balance")
        });
        let write = BrandWrite::Expire {
            account: *account,
            days: expired.iter().map(|(d, _)| *d).collect(),
            amount,
        };
        Ok((amount, write))
    }

    fn lot_key(account: &Address, day: u64) -> Vec<u8> {
        key(record::LOT, &[account.as_bytes(), &day.to_be_bytes()])
    }

    fn add_lot(&mut self, account: Address, day: u64, amount: Amount) {
        let lot = self
            .lots
            .entry(account)
            .or_default()
            .entry(day)
            .or_default();
        *lot = lot
            .checked_add(amount)
            .expect("lots never exceed a balance");
        self.touched.push(Self::lot_key(&account, day));
    }

    fn take_lot(&mut self, account: Address, day: u64, amount: Amount) {
        let lots = self
            .lots
            .get_mut(&account)
            .expect("planned on existing lots");
        let lot = lots.get_mut(&day).expect("planned on an existing lot");
        *lot = lot.checked_sub(amount).expect("planned within the lot");
        if lot.is_zero() {
            lots.remove(&day);
            if lots.is_empty() {
                self.lots.remove(&account);
            }
        }
        self.touched.push(Self::lot_key(&account, day));
    }

    pub(crate) fn check_link(
        &self,
        account: &Address,
        customer_hash: &Hash,
    ) -> Result<(), BrandError> {
        match self.links.get(account) {
            Some(h) if h != customer_hash => Err(BrandError::AlreadyLinked),
            _ => Ok(()),
        }
    }

    pub(crate) fn check_reference(reference: &str) -> Result<(), BrandError> {
        if reference.is_empty() || reference.len() > MAX_REFERENCE_BYTES {
            return Err(BrandError::InvalidReference);
        }
        Ok(())
    }

    /// Whether the partner converts at all: not while suspended, nor once leaving.
    pub(crate) fn check_converting(&self) -> Result<(), BrandError> {
        if self.suspended {
            return Err(BrandError::PartnerSuspended);
        }
        if self.exit.is_some() {
            return Err(BrandError::PartnerExiting);
        }
        Ok(())
    }

    /// Checks a conversion and works out what it mints (the token has `decimals` decimals,
    /// for the refusals' amounts).
    pub(crate) fn plan_convert(
        &self,
        item: &ConversionItem,
        tx: TxId,
        now_ms: u64,
        decimals: u8,
    ) -> Result<BrandWrite, BrandError> {
        Self::check_reference(&item.reference)?;
        if self.conversions.contains_key(&item.reference) {
            return Err(BrandError::ReferenceUsed);
        }
        self.check_converting()?;
        self.plan_minting(item, tx, now_ms, decimals, Amount::ZERO)
    }

    /// What a conversion of a fresh reference mints, to a linked wallet, within the
    /// partner's limits; `earlier` is what the same transaction already converted for the
    /// customer today.
    pub(crate) fn plan_minting(
        &self,
        item: &ConversionItem,
        tx: TxId,
        now_ms: u64,
        decimals: u8,
        earlier: Amount,
    ) -> Result<BrandWrite, BrandError> {
        let (to, mileage) = (&item.to, item.mileage);
        if !self.links.contains_key(to) {
            return Err(BrandError::NotLinked);
        }
        let amount = u128::from(mileage)
            .checked_mul(u128::from(self.policy.units_per_mileage))
            .map(Amount::new)
            .ok_or(BrandError::ConversionOutOfRange)?;
        if amount < self.policy.min_conversion
            || amount > self.policy.max_conversion
            || amount.is_zero()
        {
            return Err(BrandError::ConversionOutOfRange);
        }
        // Both are within the daily limit, so the sum cannot overflow; if it did, the limit
        // would refuse it.
        let converted =
            (self.converted_on_day(to, now_ms).checked_add(earlier)).unwrap_or(Amount::MAX);
        let converted_today = converted
            .checked_add(amount)
            .filter(|total| *total <= self.policy.daily_user_limit)
            .ok_or(BrandError::DailyLimit {
                limit: Whole::new(self.policy.daily_user_limit.units(), decimals),
                used: Whole::new(converted.units(), decimals),
            })?;
        Ok(BrandWrite::Convert {
            expires_on: self
                .policy
                .expiry_days
                .map(|d| now_ms / DAY_MS + u64::from(d)),
            reference: item.reference.clone(),
            conversion: Conversion {
                to: *to,
                mileage,
                amount,
                tx,
            },
            day: now_ms / DAY_MS,
            converted_today,
        })
    }

    pub(crate) fn plan_redeem(
        &self,
        redeemer: &Address,
        amount: Amount,
        order_id: &str,
        now_ms: u64,
    ) -> Result<BrandWrite, BrandError> {
        Self::check_reference(order_id)?;
        self.check_honoured(now_ms)?;
        if self.redemptions.contains_key(order_id) {
            return Err(BrandError::ReferenceUsed);
        }
        Ok(BrandWrite::Redeem(
            order_id.to_owned(),
            Redemption {
                redeemer: *redeemer,
                amount,
                refunded: false,
            },
        ))
    }

    pub(crate) fn plan_refund(
        &self,
        order_id: &str,
        now_ms: u64,
    ) -> Result<(Redemption, BrandWrite), BrandError> {
        self.check_honoured(now_ms)?;
        let r = self
            .redemptions
            .get(order_id)
            .ok_or(BrandError::UnknownRedemption)?;
        if r.refunded {
            return Err(BrandError::AlreadyRefunded);
        }
        Ok((*r, BrandWrite::Refund(order_id.to_owned())))
    }

    pub(crate) fn write(&mut self, w: BrandWrite) {
        match w {
            BrandWrite::Lots { from, to, moves } => {
                for (day, amount) in moves {
                    self.take_lot(from, day, amount);
                    if let Some(to) = to {
                        self.add_lot(to, day, amount);
                    }
                }
            }
            BrandWrite::Expire {
                account,
                days,
                amount,
            } => {
                for day in days {
                    let lot = self.lots(&account).find(|(d, _)| *d == day).map(|(_, a)| a);
                    self.take_lot(account, day, lot.expect("planned on an existing lot"));
                }
                self.add_total(|t| &mut t.expired, amount);
            }
            BrandWrite::Link(account, hash) => {
                self.links.insert(account, hash);
                self.touched.push(key(record::LINK, &[account.as_bytes()]));
            }
            w @ BrandWrite::Convert { .. } => self.write_conversion(w),
            BrandWrite::Redeem(order, r) => {
                self.touched
                    .push(key(record::REDEMPTION, &[order.as_bytes()]));
                self.add_total(|t| &mut t.redeemed, r.amount);
                self.redemptions.insert(order, r);
            }
            BrandWrite::LotsBack { to, lots } => {
                for (day, amount) in lots {
                    self.add_lot(to, day, amount);
                }
            }
            w @ (BrandWrite::Standing(_)
            | BrandWrite::Exit(_)
            | BrandWrite::Sharing(_)
            | BrandWrite::Coupon(..)
            | BrandWrite::Batch(..)) => {
                let key = self.write_partner_record(w);
                self.touched.push(key);
            }
            BrandWrite::Terms(terms) => {
                self.touched.push(vec![record::POLICY]);
                self.policy = terms.applied_to(&self.policy);
                self.terms_changed = true;
            }
            BrandWrite::Refund(order) => {
                self.touched
                    .push(key(record::REDEMPTION, &[order.as_bytes()]));
                let r = self
                    .redemptions
                    .get_mut(&order)
                    .expect("planned on a known redemption");
                r.refunded = true;
                let amount = r.amount;
                self.add_total(|t| &mut t.refunded, amount);
            }
        }
    }

    /// [`Self::write`] for a conversion: its lot, its record, the customer's day and the
    /// issued total.
    fn write_conversion(&mut self, w: BrandWrite) {
        let BrandWrite::Convert {
            expires_on,
            reference,
            conversion,
            day,
            converted_today,
        } = w
        else {
            unreachable!("write sends only a conversion here")
        };
        if let Some(expires_on) = expires_on {
            self.add_lot(conversion.to, expires_on, conversion.amount);
        }
        self.touched
            .push(key(record::CONVERSION, &[reference.as_bytes()]));
        self.touched.push(key(
            record::DAILY,
            &[conversion.to.as_bytes(), &day.to_be_bytes()],
        ));
        self.daily.insert((conversion.to, day), converted_today);
        self.add_total(|t| &mut t.issued, conversion.amount);
        self.conversions.insert(reference, conversion);
    }

    /// Restores where the partner stands, its members' consents and reads, and its coupon
    /// reports; `false` if the record is malformed.
    fn restore_partner_record(&mut self, key: &[u8], value: &[u8]) -> bool {
        match key {
            [record::STANDING] if value.is_empty() => {
                self.suspended = true;
                true
            }
            [record::EXIT] => {
                self.exit = ExitRecord::from_bytes(value);
                self.exit.is_some()
            }
            [record::CONSENT | record::ACCESS, ..] => self.sharing.restore(key, value),
            [record::COUPON_REPORT, ..] => self.coupons.restore(key, value),
            [record::CONVERSION_BATCH, ..] => self.batches.restore(key, value),
            _ => false,
        }
    }

    /// [`Self::write`] for where the partner stands, its members' consents and reads, and its
    /// coupon reports; returns the key it touched.
    fn write_partner_record(&mut self, w: BrandWrite) -> Vec<u8> {
        match w {
            BrandWrite::Standing(suspended) => {
                self.suspended = suspended;
                vec![record::STANDING]
            }
            BrandWrite::Exit(exit) => {
                self.exit = Some(exit);
                vec![record::EXIT]
            }
            BrandWrite::Sharing(w) => self.sharing.write(w),
            BrandWrite::Coupon(id, report) => self.coupons.write(id, report),
            BrandWrite::Batch(tx, outcomes) => self.batches.write(tx, outcomes),
            _ => unreachable!("write sends only the partner's records here"),
        }
    }

    fn add_total(&mut self, field: impl Fn(&mut Totals) -> &mut Amount, amount: Amount) {
        let f = field(&mut self.totals);
        // Totals are bounded by flows of supply, which are checked against overflow first.
        *f = f
            .checked_add(amount)
            .expect("totals never exceed what supply allowed");
        self.touched.push(record::totals());
    }

    fn value(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (ns, rest) = key.split_first()?;
        match *ns {
            record::LINK => {
                let a = Address::from_stored(rest.try_into().ok()?);
                self.links.get(&a).map(|h| h.0.to_vec())
            }
            record::CONVERSION => {
                let c = self.conversions.get(std::str::from_utf8(rest).ok()?)?;
                let mut v = Vec::with_capacity(88);
                v.extend_from_slice(c.to.as_bytes());
                v.extend_from_slice(&c.mileage.to_be_bytes());
                v.extend_from_slice(&c.amount.units().to_be_bytes());
                v.extend_from_slice(&c.tx.0);
                Some(v)
            }
            record::REDEMPTION => {
                let r = self.redemptions.get(std::str::from_utf8(rest).ok()?)?;
                let mut v = Vec::with_capacity(49);
                v.extend_from_slice(r.redeemer.as_bytes());
                v.extend_from_slice(&r.amount.units().to_be_bytes());
                v.push(u8::from(r.refunded));
                Some(v)
            }
            record::DAILY if rest.len() == 40 => {
                let a = Address::from_stored(rest[..32].try_into().ok()?);
                let day = u64::from_be_bytes(rest[32..].try_into().ok()?);
                self.daily
                    .get(&(a, day))
                    .map(|v| v.units().to_be_bytes().to_vec())
            }
            record::LOT if rest.len() == 40 => {
                let a = Address::from_stored(rest[..32].try_into().ok()?);
                let day = u64::from_be_bytes(rest[32..].try_into().ok()?);
                self.lots
                    .get(&a)?
                    .get(&day)
                    .map(|v| v.units().to_be_bytes().to_vec())
            }
            record::TOTALS if rest.is_empty() => {
                (self.totals != Totals::default()).then(|| self.totals.to_bytes())
            }
            record::STANDING if rest.is_empty() => self.suspended.then(Vec::new),
            record::EXIT if rest.is_empty() => self.exit.map(ExitRecord::to_bytes),
            record::CONSENT | record::ACCESS => self.sharing.value(key),
            record::COUPON_REPORT => self.coupons.value(key),
            record::CONVERSION_BATCH => self.batches.value(key),
            record::POLICY if rest.is_empty() => self
                .terms_changed
                .then(|| PolicyTerms::of(&self.policy).to_bytes()),
            _ => None,
        }
    }
}

impl crate::ledger::DomainRecords for BrandState {
    fn namespaces(&self) -> &'static [u8] {
        record::NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let touched = std::mem::take(&mut self.touched);
        crate::ledger::touched_records(touched, |k| self.value(k))
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let keys = self
            .links
            .keys()
            .map(|a| key(record::LINK, &[a.as_bytes()]))
            .chain(
                self.conversions
                    .keys()
                    .map(|r| key(record::CONVERSION, &[r.as_bytes()])),
            )
            .chain(
                self.redemptions
                    .keys()
                    .map(|o| key(record::REDEMPTION, &[o.as_bytes()])),
            )
            .chain(
                self.daily
                    .keys()
                    .map(|(a, d)| key(record::DAILY, &[a.as_bytes(), &d.to_be_bytes()])),
            )
            .chain(self.lots.iter().flat_map(|(a, lots)| {
                lots.keys()
                    .map(move |d| key(record::LOT, &[a.as_bytes(), &d.to_be_bytes()]))
            }))
            .chain(std::iter::once(record::totals()))
            .chain(std::iter::once(vec![record::POLICY]))
            .chain(std::iter::once(vec![record::STANDING]))
            .chain(std::iter::once(vec![record::EXIT]))
            .chain(self.sharing.keys())
            .chain(self.coupons.keys())
            .chain(self.batches.keys());
        keys.filter_map(|k| self.value(&k).map(|v| (k, v)))
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let Some((ns, rest)) = key.split_first() else {
            return false;
        };
        let addr = |b: &[u8]| b.try_into().ok().and_then(|b| Address::from_bytes(b).ok());
        let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_owned);
        let u128_at = |b: &[u8]| b.try_into().ok().map(u128::from_be_bytes);
        match *ns {
            record::LINK => match (addr(rest), <[u8; 32]>::try_from(value)) {
                (Some(a), Ok(h)) => {
                    self.links.insert(a, Hash(h));
                    true
                }
                _ => false,
            },
            record::CONVERSION => match (text(rest), Conversion::from_record(value)) {
                (Some(r), Some(c)) => {
                    self.conversions.insert(r, c);
                    true
                }
                _ => false,
            },
            record::REDEMPTION => match (text(rest), Redemption::from_record(value)) {
                (Some(o), Some(r)) => {
                    self.redemptions.insert(o, r);
                    true
                }
                _ => false,
            },
            record::LOT if rest.len() == 40 => {
                let day = u64::from_be_bytes(rest[32..].try_into().expect("8 bytes"));
                match (addr(&rest[..32]), u128_at(value)) {
                    (Some(a), Some(v)) if v > 0 => {
                        self.lots.entry(a).or_default().insert(day, Amount::new(v));
                        true
                    }
                    _ => false,
                }
            }
            record::TOTALS if rest.is_empty() => match Totals::from_record(value) {
                Some(t) => {
                    self.totals = t;
                    true
                }
                None => false,
            },
            record::DAILY if rest.len() == 40 => {
                let day = u64::from_be_bytes(rest[32..].try_into().expect("8 bytes"));
                match (addr(&rest[..32]), u128_at(value)) {
                    (Some(a), Some(v)) => {
                        self.daily.insert((a, day), Amount::new(v));
                        true
                    }
                    _ => false,
                }
            }
            record::STANDING
            | record::CONSENT
            | record::ACCESS
            | record::COUPON_REPORT
            | record::CONVERSION_BATCH
            | record::EXIT => self.restore_partner_record(key, value),
            record::POLICY if rest.is_empty() => match PolicyTerms::from_bytes(value) {
                Ok(terms) => {
                    self.policy = terms.applied_to(&self.policy);
                    self.terms_changed = true;
                    true
                }
                Err(_) => false,
            },
            _ => false,
        }
    }
}
