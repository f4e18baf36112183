//! The bridge to the main chain (an EVM chain, where exchanges trade MLK): withdrawals out
//! and deposits in, on the center chain.
//!
//! MLK's 1.3 billion span both sides. The main chain's MLK sits in TICA's vault while it is
//! on the center chain. A customer's withdrawal burns MLK here at once and joins the queue;
//! TICA seals the queue's front into a numbered batch whose Merkle root this chain computes
//! itself (`tree`), posts the root to the vault with its bridge key's signature, and the
//! vault releases each withdrawal once against its proof. A deposit into the vault names a
//! milk address; TICA records it here once per (main-chain transaction, log index) and the
//! chain mints it to that address, or holds it, when the address is not a usable key,
//! until TICA refunds it to the sender on the main chain, as a withdrawal.
//!
//! What a lying main-chain node can cost is bounded here: the chain never records more
//! deposits than the MLK that ever left it (withdrawals and refunds) plus the main chain's
//! float outside the vault at the start, so the center chain's MLK never exceeds what
//! genesis made.

pub mod action;
pub mod error;
pub mod main_address;
mod records;
pub(crate) mod rules;
pub mod tree;

pub use main_address::MainAddress;
pub use records::{Totals, record};

use crate::ledger::DAY_MS;
use crate::{Address, Amount, Hash, Symbol};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The most withdrawals one batch seals.
pub const MAX_BATCH: u32 = 256;

/// TICA's bridge policy: what a withdrawal costs and how much may leave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgePolicy {
    /// MLK base units TICA charges per withdrawal, on top of the amount.
    pub fee: Amount,
    /// The smallest withdrawal, MLK base units.
    pub minimum: Amount,
    /// The most one account may withdraw in one UTC day, MLK base units.
    pub daily_limit: Amount,
}

/// The bridge as genesis sets it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeConfig {
    /// The coin that crosses (MLK).
    pub asset: Symbol,
    /// The starting policy.
    pub policy: BridgePolicy,
    /// Main-chain MLK outside the vault when the bridge opened (none when TICA moved the
    /// whole main-chain supply into the vault).
    #[serde(default)]
    pub main_float: Amount,
}

/// One withdrawal (or refund of a held deposit) to the main chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Its id on the main chain: the center-chain transaction that made it.
    pub id: Hash,
    /// Who paid it (TICA, for a refund).
    pub account: Address,
    /// The main-chain address it goes to.
    pub to: MainAddress,
    /// MLK base units released on the main chain.
    pub amount: Amount,
    /// The fee paid on top.
    pub fee: Amount,
    /// Block time of the withdrawal.
    pub at_ms: u64,
    /// Whether it refunds a held deposit.
    pub refund: bool,
    /// The batch that sealed it, once sealed.
    pub batch: Option<u64>,
    /// The main-chain transaction that released it, once TICA recorded it.
    pub released: Option<Hash>,
}

impl Withdrawal {
    /// Its leaf in its batch's tree, as the vault checks it.
    pub fn leaf(&self) -> [u8; 32] {
        tree::leaf(&self.id.0, &self.to, self.amount)
    }

    /// The index records that find withdrawal `number`: by its id, and among its account's.
    fn indexes(&self, number: u64) -> [records::Touched; 2] {
        [
            records::Touched::WithdrawalId(self.id, number),
            records::Touched::Account(self.account, record::ACCOUNT_WITHDRAWAL, number),
        ]
    }
}

/// A sealed batch: withdrawals `first .. first + count`, and their Merkle root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Its first withdrawal's number.
    pub first: u64,
    /// How many withdrawals it seals.
    pub count: u32,
    /// The root of their tree (`tree`), hex.
    pub root: Hash,
    /// Block time of the seal.
    pub at_ms: u64,
}

/// A deposit into the vault, by its main-chain transaction and log index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DepositKey {
    /// The main-chain transaction's hash.
    pub tx: Hash,
    /// The deposit event's index in its block's logs.
    pub log_index: u64,
}

/// What became of a deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DepositStatus {
    /// Minted to the milk address it named.
    Credited,
    /// Held: the milk address it named is not a usable key. TICA may refund it.
    Held,
    /// Refunded to its sender on the main chain, as this withdrawal.
    Refunded {
        /// The refund's withdrawal number.
        withdrawal: u64,
    },
}

/// A deposit as the center chain recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Its number, in the order deposits were recorded.
    pub number: u64,
    /// The main-chain account that sent it.
    pub from: MainAddress,
    /// The 32 bytes it named as a milk address.
    pub milk: Hash,
    /// MLK base units.
    pub amount: Amount,
    /// The main-chain block it was in.
    pub block: u64,
    /// Block time (center) of the record.
    pub at_ms: u64,
    /// What became of it.
    pub status: DepositStatus,
}

impl Deposit {
    /// Deposit `number` as it arrives at block time `at_ms`: credited if the 32 bytes it
    /// names are a usable key, else held.
    pub fn arrived(
        number: u64,
        from: MainAddress,
        milk: Hash,
        amount: Amount,
        block: u64,
        at_ms: u64,
    ) -> Deposit {
        let status = match Address::from_bytes(milk.0) {
            Ok(_) => DepositStatus::Credited,
            Err(_) => DepositStatus::Held,
        };
        Deposit {
            number,
            from,
            milk,
            amount,
            block,
            at_ms,
            status,
        }
    }

    /// The account it credited, if it named a usable key.
    pub fn account(&self) -> Option<Address> {
        Address::from_bytes(self.milk.0).ok()
    }

    /// The index records that find deposit `key`: by its number, and among its account's.
    fn indexes(&self, key: &DepositKey) -> Vec<records::Touched> {
        let mut out = vec![records::Touched::DepositNumber(self.number, *key)];
        if let Some(a) = self.account() {
            out.push(records::Touched::Account(
                a,
                record::ACCOUNT_DEPOSIT,
                self.number,
            ));
        }
        out
    }
}

/// A change the bridge's rules write.
#[derive(Debug, Clone)]
pub(crate) enum BridgeWrite {
    Withdrawal(u64, Withdrawal),
    Batch(u64, Batch),
    Deposit(DepositKey, Deposit),
    Daily(Address, u64, Amount),
    Policy(BridgePolicy),
}

/// The bridge's state on the center chain.
#[derive(Debug, Clone)]
pub struct Bridge {
    config: BridgeConfig,
    policy: BridgePolicy,
    withdrawals: BTreeMap<u64, Withdrawal>,
    batches: BTreeMap<u64, Batch>,
    deposits: BTreeMap<DepositKey, Deposit>,
    daily: BTreeMap<Address, (u64, Amount)>,
    // The totals behind the deposit cap, kept as records are written and restored.
    out_total: u128,
    released_total: u128,
    in_total: u128,
    held_total: u128,
    refund_total: u128,
    touched: BTreeSet<records::Touched>,
}

impl Bridge {
    /// The bridge at genesis.
    pub fn new(config: BridgeConfig) -> Bridge {
        Bridge {
            policy: config.policy.clone(),
            config,
            withdrawals: BTreeMap::new(),
            batches: BTreeMap::new(),
            deposits: BTreeMap::new(),
            daily: BTreeMap::new(),
            out_total: 0,
            released_total: 0,
            in_total: 0,
            held_total: 0,
            refund_total: 0,
            touched: BTreeSet::new(),
        }
    }

    /// The coin that crosses.
    pub fn asset(&self) -> Symbol {
        self.config.asset
    }

    /// The policy in force.
    pub fn policy(&self) -> &BridgePolicy {
        &self.policy
    }

    /// Main-chain MLK outside the vault when the bridge opened.
    pub fn main_float(&self) -> Amount {
        self.config.main_float
    }

    /// One withdrawal by its number.
    pub fn withdrawal(&self, number: u64) -> Option<&Withdrawal> {
        self.withdrawals.get(&number)
    }

    /// Every withdrawal from number `from` on, in order.
    pub fn withdrawals_from(&self, from: u64) -> impl Iterator<Item = (u64, &Withdrawal)> {
        self.withdrawals.range(from..).map(|(n, w)| (*n, w))
    }

    /// The number the next withdrawal takes.
    pub fn next_withdrawal(&self) -> u64 {
        self.withdrawals.last_key_value().map_or(0, |(n, _)| n + 1)
    }

    /// The first withdrawal no batch has sealed yet.
    pub fn first_unsealed(&self) -> u64 {
        (self.batches.last_key_value()).map_or(0, |(_, b)| b.first + u64::from(b.count))
    }

    /// One batch by its number.
    pub fn batch(&self, number: u64) -> Option<&Batch> {
        self.batches.get(&number)
    }

    /// Every batch, in order.
    pub fn batches(&self) -> impl Iterator<Item = (u64, &Batch)> {
        self.batches.iter().map(|(n, b)| (*n, b))
    }

    /// The number the next batch takes.
    pub fn next_batch(&self) -> u64 {
        self.batches.last_key_value().map_or(0, |(n, _)| n + 1)
    }

    /// One deposit by its main-chain transaction and log index.
    pub fn deposit(&self, key: &DepositKey) -> Option<&Deposit> {
        self.deposits.get(key)
    }

    /// Every deposit, by key.
    pub fn deposits(&self) -> impl Iterator<Item = (&DepositKey, &Deposit)> {
        self.deposits.iter()
    }

    /// MLK that left the center chain (withdrawals and refunds), base units.
    pub fn out_total(&self) -> Amount {
        Amount::new(self.out_total)
    }

    /// MLK whose release on the main chain TICA recorded, base units.
    pub fn released_total(&self) -> Amount {
        Amount::new(self.released_total)
    }

    /// MLK deposits recorded (credited, held or refunded), base units.
    pub fn in_total(&self) -> Amount {
        Amount::new(self.in_total)
    }

    /// What `account` has withdrawn on the UTC day of `now_ms`.
    pub fn used_today(&self, account: &Address, now_ms: u64) -> Amount {
        match self.daily.get(account) {
            Some((day, used)) if *day == now_ms / DAY_MS => *used,
            _ => Amount::ZERO,
        }
    }

    /// The tree of batch `number`'s withdrawals, to prove one of them.
    pub fn batch_tree(&self, number: u64) -> Option<tree::Tree> {
        let b = self.batches.get(&number)?;
        self.tree_of(b.first, b.count)
    }

    /// The tree over withdrawals `first .. first + count`, if they all exist.
    pub(crate) fn tree_of(&self, first: u64, count: u32) -> Option<tree::Tree> {
        let range = first..first.checked_add(u64::from(count))?;
        let leaves: Option<Vec<_>> = range
            .map(|n| (self.withdrawals.get(&n)).map(|w| w.leaf()))
            .collect();
        tree::Tree::new(leaves?)
    }

    /// Where the queue stands and what crossed.
    pub fn totals(&self) -> Totals {
        Totals {
            next_withdrawal: self.next_withdrawal(),
            first_unsealed: self.first_unsealed(),
            next_batch: self.next_batch(),
            out_total: self.out_total(),
            released_total: self.released_total(),
            in_total: self.in_total(),
            next_deposit: self.next_deposit(),
            held_total: Amount::new(self.held_total),
            refund_total: Amount::new(self.refund_total),
        }
    }

    /// The number the next deposit takes.
    pub fn next_deposit(&self) -> u64 {
        self.deposits.len() as u64
    }

    fn write_deposit(&mut self, k: DepositKey, d: Deposit) {
        let held = |d: &Deposit| (d.status == DepositStatus::Held) as u128 * d.amount.units();
        let (now_held, indexes) = (held(&d), d.indexes(&k));
        match self.deposits.insert(k, d) {
            None => {
                self.in_total += self.deposits[&k].amount.units();
                self.touched.extend(indexes);
            }
            Some(old) => self.held_total -= held(&old),
        }
        self.held_total += now_held;
        self.touched.insert(records::Touched::Deposit(k));
    }

    /// Writes a checked change.
    pub(crate) fn write(&mut self, w: BridgeWrite) {
        use records::Touched;
        if !matches!(w, BridgeWrite::Daily(..) | BridgeWrite::Policy(_)) {
            self.touched.insert(Touched::Totals);
        }
        match w {
            BridgeWrite::Withdrawal(n, wd) => {
                let (amount, now_released) = (wd.amount.units(), wd.released.is_some());
                let (indexes, refund) = (wd.indexes(n), wd.refund);
                let old = self.withdrawals.insert(n, wd);
                if old.is_none() {
                    self.out_total += amount;
                    self.refund_total += u128::from(refund) * amount;
                    self.touched.extend(indexes);
                }
                if now_released && old.is_none_or(|o| o.released.is_none()) {
                    self.released_total += amount;
                }
                self.touched.insert(Touched::Withdrawal(n));
            }
            BridgeWrite::Batch(n, b) => {
                self.batches.insert(n, b);
                self.touched.insert(Touched::Batch(n));
            }
            BridgeWrite::Deposit(k, d) => self.write_deposit(k, d),
            BridgeWrite::Daily(a, day, used) => {
                self.daily.insert(a, (day, used));
                self.touched.insert(Touched::Daily(a));
            }
            BridgeWrite::Policy(p) => {
                self.policy = p;
                self.touched.insert(Touched::Policy);
            }
        }
    }
}
