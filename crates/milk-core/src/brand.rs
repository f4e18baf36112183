//! Brand-chain rules: a partner's policy, and the records behind account links,
//! conversions of mileage, redemptions and refunds.
//!
//! Lives beside [`crate::state::ChainState`], which owns balances and supply: a conversion
//! mints, a redemption burns, a refund re-mints, and this module checks and records the
//! why (the partner's reference, the order, the customer link) so each happens once.

use crate::hash::Hash;
use crate::state::TxError;
use crate::tx::TxId;
use crate::{Address, Amount, ChainId};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

/// The longest partner reference or order id, in bytes.
pub const MAX_REFERENCE_BYTES: usize = 64;
/// Milliseconds in the day used for daily limits (UTC days of block time).
pub const DAY_MS: u64 = 86_400_000;

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
}

/// Record namespaces of brand chains (see [`crate::state::record`]).
pub mod record {
    /// `LINK ‖ account` → the salted hash of the partner's customer id (32 bytes).
    pub const LINK: u8 = 10;
    /// `CONVERSION ‖ reference` → `to (32) ‖ mileage (u64) ‖ amount (u128) ‖ tx id (32)`.
    pub const CONVERSION: u8 = 11;
    /// `REDEMPTION ‖ order id` → `redeemer (32) ‖ amount (u128) ‖ refunded (u8)`.
    pub const REDEMPTION: u8 = 12;
    /// `DAILY ‖ account ‖ day (u64)` → base units converted for the account that UTC day.
    pub const DAILY: u8 = 13;
    /// `TOTALS` → `issued (u128) ‖ redeemed (u128) ‖ refunded (u128)`, all-time, base units.
    pub const TOTALS: u8 = 14;

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
}

impl Totals {
    fn to_bytes(self) -> Vec<u8> {
        [self.issued, self.redeemed, self.refunded]
            .iter()
            .flat_map(|a| a.units().to_be_bytes())
            .collect()
    }

    /// Decodes a `TOTALS` record.
    pub fn from_record(bytes: &[u8]) -> Option<Totals> {
        if bytes.len() != 48 {
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
    Convert {
        reference: String,
        conversion: Conversion,
        day: u64,
        converted_today: Amount,
    },
    Redeem(String, Redemption),
    Refund(String),
}

/// A brand chain's partner records.
#[derive(Debug, Clone)]
pub struct BrandState {
    policy: BrandPolicy,
    links: HashMap<Address, Hash>,
    conversions: HashMap<String, Conversion>,
    redemptions: HashMap<String, Redemption>,
    daily: HashMap<(Address, u64), Amount>,
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
            links: HashMap::default(),
            conversions: HashMap::default(),
            redemptions: HashMap::default(),
            daily: HashMap::default(),
            totals: Totals::default(),
            touched: Vec::new(),
        }
    }

    /// All-time issued, redeemed and refunded amounts.
    pub fn totals(&self) -> Totals {
        self.totals
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

    pub(crate) fn check_link(
        &self,
        account: &Address,
        customer_hash: &Hash,
    ) -> Result<(), TxError> {
        match self.links.get(account) {
            Some(h) if h != customer_hash => Err(TxError::AlreadyLinked),
            _ => Ok(()),
        }
    }

    pub(crate) fn check_reference(reference: &str) -> Result<(), TxError> {
        if reference.is_empty() || reference.len() > MAX_REFERENCE_BYTES {
            return Err(TxError::InvalidReference);
        }
        Ok(())
    }

    /// Checks a conversion and works out what it mints.
    pub(crate) fn plan_convert(
        &self,
        to: &Address,
        mileage: u64,
        reference: &str,
        tx: TxId,
        now_ms: u64,
    ) -> Result<BrandWrite, TxError> {
        Self::check_reference(reference)?;
        if self.conversions.contains_key(reference) {
            return Err(TxError::ReferenceUsed);
        }
        if !self.links.contains_key(to) {
            return Err(TxError::NotLinked);
        }
        let amount = u128::from(mileage)
            .checked_mul(u128::from(self.policy.units_per_mileage))
            .map(Amount::new)
            .ok_or(TxError::ConversionOutOfRange)?;
        if amount < self.policy.min_conversion
            || amount > self.policy.max_conversion
            || amount.is_zero()
        {
            return Err(TxError::ConversionOutOfRange);
        }
        let converted = self.converted_on_day(to, now_ms);
        let converted_today = converted
            .checked_add(amount)
            .filter(|total| *total <= self.policy.daily_user_limit)
            .ok_or(TxError::DailyLimit {
                limit: self.policy.daily_user_limit,
                used: converted,
            })?;
        Ok(BrandWrite::Convert {
            reference: reference.to_owned(),
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
    ) -> Result<BrandWrite, TxError> {
        Self::check_reference(order_id)?;
        if self.redemptions.contains_key(order_id) {
            return Err(TxError::ReferenceUsed);
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

    pub(crate) fn plan_refund(&self, order_id: &str) -> Result<(Redemption, BrandWrite), TxError> {
        let r = self
            .redemptions
            .get(order_id)
            .ok_or(TxError::UnknownRedemption)?;
        if r.refunded {
            return Err(TxError::AlreadyRefunded);
        }
        Ok((*r, BrandWrite::Refund(order_id.to_owned())))
    }

    pub(crate) fn write(&mut self, w: BrandWrite) {
        match w {
            BrandWrite::Link(account, hash) => {
                self.links.insert(account, hash);
                self.touched.push(key(record::LINK, &[account.as_bytes()]));
            }
            BrandWrite::Convert {
                reference,
                conversion,
                day,
                converted_today,
            } => {
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
            BrandWrite::Redeem(order, r) => {
                self.touched
                    .push(key(record::REDEMPTION, &[order.as_bytes()]));
                self.add_total(|t| &mut t.redeemed, r.amount);
                self.redemptions.insert(order, r);
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
                let a = Address::from_bytes(rest.try_into().ok()?).ok()?;
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
                let a = Address::from_bytes(rest[..32].try_into().ok()?).ok()?;
                let day = u64::from_be_bytes(rest[32..].try_into().ok()?);
                self.daily
                    .get(&(a, day))
                    .map(|v| v.units().to_be_bytes().to_vec())
            }
            record::TOTALS if rest.is_empty() => {
                (self.totals != Totals::default()).then(|| self.totals.to_bytes())
            }
            _ => None,
        }
    }

    /// The records changed since the last call, with their new values.
    pub(crate) fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut keys = std::mem::take(&mut self.touched);
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .map(|k| {
                let v = self.value(&k);
                (k, v)
            })
            .collect()
    }

    /// Every record.
    pub(crate) fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
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
            .chain(std::iter::once(record::totals()));
        keys.filter_map(|k| self.value(&k).map(|v| (k, v)))
            .collect()
    }

    /// Restores one persisted record; `false` if it is not a brand record or is malformed.
    pub(crate) fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
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
            _ => false,
        }
    }
}
