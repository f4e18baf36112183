//! Allocation locks and the circulating supply (SPEC §7): which genesis accounts are locked
//! or reserves, partners' shares of allocation A and their phase-2 stakes, and each asset's
//! supply split into what circulates and what does not.

use super::needs::{ESCROW, MembershipConfig};
use super::record;
use crate::{Address, Amount, Symbol};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Where a partner's share of allocation A waits for its unlock: a valid key per partner
/// that nobody holds the secret of.
pub fn vesting_account(chain: &crate::ChainId) -> Address {
    Address::unowned("milk/vest/v1", &[chain.as_str().as_bytes()])
}

/// A `VEST` record as a locked bucket of the supply report: `(label, account, unlock ms)`;
/// `None` for any other record.
pub fn vesting_entry(key: &[u8], value: &[u8]) -> Option<(String, Address, u64)> {
    let (ns, rest) = key.split_first()?;
    if *ns != record::VEST {
        return None;
    }
    let (chain, _) = record::split_partner_key(rest)?;
    let (_, unlock, _) = decode_vest(value)?;
    Some((
        format!("partner-allocation:{chain}"),
        vesting_account(&chain),
        unlock,
    ))
}

/// A partner's share of allocation A as its record holds it: [`decode_vest`]'s inverse.
pub fn encode_vest(amount: u128, unlock_ms: u64, claimed: bool) -> Vec<u8> {
    let mut v = amount.to_be_bytes().to_vec();
    v.extend_from_slice(&unlock_ms.to_be_bytes());
    v.push(u8::from(claimed));
    v
}

/// A partner's share of allocation A: `(amount, unlock ms, claimed)`.
pub fn decode_vest(value: &[u8]) -> Option<(u128, u64, bool)> {
    Some((
        u128::from_be_bytes(value.get(..16)?.try_into().ok()?),
        u64::from_be_bytes(value.get(16..24)?.try_into().ok()?),
        *value.get(24)? == 1,
    ))
}

/// Where partners' phase-2 stakes are held: a valid key nobody holds the secret of.
pub static STAKES: std::sync::LazyLock<Address> =
    std::sync::LazyLock::new(|| Address::unowned("milk/stake/v1", &[]));

/// What keeps an allocation account from spending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LockRule {
    /// Until a time (Unix ms).
    Until {
        /// The unlock time.
        until_ms: u64,
    },
    /// Never spent by its holder: only the exchange moves it.
    ExchangeOnly,
    /// Until both user LZM pools are empty.
    AfterUserPools,
    /// Until both user pools and the team's portion are empty.
    Last,
}

/// What an allocation account is, for locks and for the circulating supply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum Role {
    /// Locked by a rule.
    Locked {
        /// The rule.
        rule: LockRule,
    },
    /// A reserve not in circulation (a reward pool not yet paid out).
    Reserve,
    /// Held by TICA.
    TicaHeld,
}

/// An allocation account's role in the genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRole {
    /// What it is for.
    pub label: String,
    /// The account.
    pub account: Address,
    /// The asset the role is about.
    pub asset: Symbol,
    /// Its role.
    pub role: Role,
}

/// One asset's supply, split into what circulates and what does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyReport {
    /// The asset.
    pub asset: Symbol,
    /// All of it.
    pub total: Amount,
    /// In accounts whose lock is in force now.
    pub locked: Amount,
    /// In reserves: the exchange's liquidity, reward pools not yet paid out, escrow.
    pub reserve: Amount,
    /// Held by TICA (fees, long-term operation).
    pub tica_held: Amount,
    /// `total − locked − reserve − tica_held`.
    pub circulating: Amount,
    /// Each excluded bucket: `(label, class, balance)`.
    pub buckets: Vec<(String, String, Amount)>,
}

/// The lock in force on `account`'s `asset` at `now_ms`, described, if any; `balance` reads
/// the center chain's balances (the pool-based locks depend on them).
pub fn lock_in_force(
    roles: &[AccountRole],
    config: Option<&MembershipConfig>,
    balance: impl Fn(&Address, &Symbol) -> Amount,
    account: &Address,
    asset: &Symbol,
    now_ms: u64,
) -> Option<String> {
    let pools_left = || {
        config.is_some_and(|c| {
            !balance(&c.activity_pool, &c.token).is_zero()
                || !balance(&c.burn_pool, &c.token).is_zero()
        })
    };
    let team_left = || config.is_some_and(|c| !balance(&c.team, &c.token).is_zero());
    roles
        .iter()
        .filter(|r| r.account == *account && r.asset == *asset)
        .find_map(|r| match &r.role {
            Role::Locked { rule } => match rule {
                LockRule::Until { until_ms } if now_ms < *until_ms => {
                    Some(format!("{} unlocks at {until_ms} (Unix ms)", r.label))
                }
                LockRule::ExchangeOnly => {
                    Some(format!("{} is moved by the exchange only", r.label))
                }
                LockRule::AfterUserPools if pools_left() => Some(format!(
                    "{} unlocks once both user LZM pools are paid out",
                    r.label
                )),
                LockRule::Last if pools_left() || team_left() => Some(format!(
                    "{} unlocks last, once the user pools and the team's portion are paid out",
                    r.label
                )),
                _ => None,
            },
            Role::Reserve | Role::TicaHeld => None,
        })
}

/// Each asset's supply less what does not circulate: balances of accounts whose lock is in
/// force (`locked`), of reserves (the exchange's liquidity, reward pools not yet paid out,
/// and the exchange's escrow) and of TICA's own accounts (`tica_held`).
pub fn supply_report(
    roles: &[AccountRole],
    config: Option<&MembershipConfig>,
    assets: &[(Symbol, Amount)],
    vesting: &[(String, Address, u64)],
    balance: impl Fn(&Address, &Symbol) -> Amount,
    now_ms: u64,
) -> Vec<SupplyReport> {
    assets
        .iter()
        .map(|(symbol, total)| {
            let mut buckets = Vec::new();
            let (mut locked, mut reserve, mut tica) = (0u128, 0u128, 0u128);
            let mut seen = HashSet::new();
            for r in roles.iter().filter(|r| r.asset == *symbol) {
                if !seen.insert(r.account) {
                    continue;
                }
                let held = balance(&r.account, symbol);
                let class = match &r.role {
                    Role::Locked {
                        rule: LockRule::ExchangeOnly,
                    } => "reserve",
                    Role::Locked { .. } => {
                        if lock_in_force(roles, config, &balance, &r.account, symbol, now_ms)
                            .is_some()
                        {
                            "locked"
                        } else {
                            continue;
                        }
                    }
                    Role::Reserve => "reserve",
                    Role::TicaHeld => "tica_held",
                };
                match class {
                    "locked" => locked += held.units(),
                    "reserve" => reserve += held.units(),
                    _ => tica += held.units(),
                }
                buckets.push((r.label.clone(), class.to_owned(), held));
            }
            let escrow = *ESCROW;
            if !seen.contains(&escrow) {
                let held = balance(&escrow, symbol);
                if !held.is_zero() {
                    reserve += held.units();
                    buckets.push(("escrow".to_owned(), "reserve".to_owned(), held));
                }
            }
            // Partners' shares of allocation A, until they unlock.
            for (label, account, unlock_ms) in vesting {
                let held = balance(account, symbol);
                if now_ms < *unlock_ms && !held.is_zero() {
                    locked += held.units();
                    buckets.push((label.clone(), "locked".to_owned(), held));
                }
            }
            // Partners' phase-2 stakes are locked while they are members.
            let stakes = balance(&STAKES, symbol);
            if !stakes.is_zero() {
                locked += stakes.units();
                buckets.push(("partner-stakes".to_owned(), "locked".to_owned(), stakes));
            }
            SupplyReport {
                asset: *symbol,
                total: *total,
                locked: Amount::new(locked),
                reserve: Amount::new(reserve),
                tica_held: Amount::new(tica),
                circulating: Amount::new(total.units().saturating_sub(locked + reserve + tica)),
                buckets,
            }
        })
        .collect()
}
