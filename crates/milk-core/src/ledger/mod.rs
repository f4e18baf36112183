//! The ledger every chain shares, naming no domain: assets and their supplies, balances,
//! sequence numbers, the per-block [`StateDelta`] and state root, and conservation.
//!
//! Domains never write balances directly: a checked action hands the ledger a [`Postings`]
//! (moves between accounts, mints, burns), which [`Ledger::check_postings`] checks as a whole
//! before [`Ledger::post`] applies it. Each domain keeps its own records behind
//! [`DomainRecords`]; the ledger only needs their namespaces to tell records apart.

use crate::codec::{Encode, MAX_TX_LIFETIME_MS, Writer};
pub mod error;

use crate::{Address, Amount, ChainId, Hash, Symbol};
pub use error::LedgerError;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// Milliseconds in the day used for daily limits (UTC days of block time).
pub const DAY_MS: u64 = 86_400_000;

/// An asset as genesis defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetSpec {
    /// The ticker.
    pub symbol: Symbol,
    /// A display name.
    pub name: String,
    /// How many decimals one whole unit has; fixed forever.
    pub decimals: u8,
    /// Who may mint it; `None` for a fixed supply.
    pub issuer: Option<Address>,
}

/// Keys of the ledger's persisted records: one namespace byte, then that namespace's own
/// bytes. Values are fixed-width big-endian integers.
pub mod record {
    use crate::{Address, Symbol};

    /// `BALANCE ‖ account (32) ‖ symbol` → `u128` base units. Absent means zero.
    pub const BALANCE: u8 = 1;
    /// `SEQUENCE ‖ account (32)` → `u64`, the account's next sequence number.
    pub const SEQUENCE: u8 = 2;
    /// `SUPPLY ‖ symbol` → `u128` base units.
    pub const SUPPLY: u8 = 3;
    /// `BURNED ‖ symbol` → `u128` base units destroyed since genesis. Absent means none.
    pub const BURNED: u8 = 4;
    /// The ledger's namespaces.
    pub const NAMESPACES: &[u8] = &[BALANCE, SEQUENCE, SUPPLY, BURNED];

    /// A per-partner key: `ns ‖ chain ‖ 0 ‖ rest`.
    pub fn partner_key(ns: u8, chain: &crate::ChainId, rest: &[u8]) -> Vec<u8> {
        let mut k = vec![ns];
        k.extend_from_slice(chain.as_str().as_bytes());
        k.push(0);
        k.extend_from_slice(rest);
        k
    }

    /// Splits a per-partner key, after its namespace byte, into the chain and the rest.
    pub fn split_partner_key(rest: &[u8]) -> Option<(crate::ChainId, &[u8])> {
        let split = rest.iter().position(|b| *b == 0)?;
        let chain = std::str::from_utf8(&rest[..split]).ok()?.parse().ok()?;
        Some((chain, &rest[split + 1..]))
    }

    /// The key of an account's balance of an asset.
    pub fn balance(account: &Address, asset: &Symbol) -> Vec<u8> {
        let mut k = Vec::with_capacity(1 + 32 + Symbol::MAX_LEN);
        k.push(BALANCE);
        k.extend_from_slice(account.as_bytes());
        k.extend_from_slice(asset.as_str().as_bytes());
        k
    }

    /// The key of an account's next sequence number.
    pub fn sequence(account: &Address) -> Vec<u8> {
        let mut k = Vec::with_capacity(33);
        k.push(SEQUENCE);
        k.extend_from_slice(account.as_bytes());
        k
    }

    /// The key of an asset's supply.
    pub fn supply(asset: &Symbol) -> Vec<u8> {
        let mut k = vec![SUPPLY];
        k.extend_from_slice(asset.as_str().as_bytes());
        k
    }

    /// The key of what was burned of an asset.
    pub fn burned(asset: &Symbol) -> Vec<u8> {
        let mut k = vec![BURNED];
        k.extend_from_slice(asset.as_str().as_bytes());
        k
    }

    /// Reads a `u128` value.
    pub fn u128_value(bytes: &[u8]) -> Option<u128> {
        bytes.try_into().ok().map(u128::from_be_bytes)
    }

    /// Reads a `u64` value.
    pub fn u64_value(bytes: &[u8]) -> Option<u64> {
        bytes.try_into().ok().map(u64::from_be_bytes)
    }
}

/// What one domain keeps in the store: its own namespaces of records.
///
/// The chain state asks each domain for what a block changed (`take_records`), for every
/// record (`records`, which `milk verify` compares with the store) and to load a stored
/// record at start (`restore`); it routes a record by its first byte, the namespace.
pub trait DomainRecords {
    /// The namespaces this domain owns.
    fn namespaces(&self) -> &'static [u8];
    /// The records changed since the last call (`None`: deleted).
    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)>;
    /// Every record.
    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)>;
    /// Loads one stored record; `false` if it is malformed.
    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool;
}

/// The records behind `keys` (touched since the last block, perhaps more than once), each
/// once, in key order, with its value now (`None`: deleted): what a domain's
/// `take_records` returns.
pub fn touched_records(
    mut keys: Vec<Vec<u8>>,
    value: impl Fn(&[u8]) -> Option<Vec<u8>>,
) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let v = value(&k);
            (k, v)
        })
        .collect()
}

/// What one block changed: the new value of every record it touched (`None`: deleted),
/// sorted by key, so it encodes (and hashes) the same on every node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDelta {
    /// `(key, new value)`, sorted by key, each key once.
    pub entries: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Whom each of the block's transactions concerned, in order: not part of the state or
    /// its root, but what a node indexes each account's history by.
    #[serde(skip)]
    pub effects: Vec<TxEffects>,
}

/// One account's net change of one asset in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    /// The account.
    pub account: Address,
    /// The asset.
    pub asset: Symbol,
    /// How much, in base units.
    pub amount: Amount,
    /// Credited (`true`) or debited.
    pub credit: bool,
}

/// Whom one transaction concerned: its sender, the account its action names (a
/// recipient, a member whose credit is taken back), and every balance it changed (net, per
/// account and asset, in the order the accounts were first touched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxEffects {
    /// The transaction's sender.
    pub sender: Address,
    /// The account its action names, if any.
    pub named: Option<Address>,
    /// The balances it changed.
    pub changes: Vec<BalanceChange>,
}

impl TxEffects {
    /// What `postings`, sent by `sender` in an action naming `named`, change.
    pub fn of(sender: Address, named: Option<Address>, postings: &Postings) -> TxEffects {
        // (account, asset) → (credited, debited): a batch's postings are many.
        let mut net: std::collections::BTreeMap<(Address, Symbol), (u128, u128)> =
            std::collections::BTreeMap::new();
        for (account, asset, amount, credit) in effects(postings) {
            let (credited, debited) = net.entry((account, asset)).or_default();
            let side = if credit { credited } else { debited };
            *side = side.saturating_add(amount.units());
        }
        let changes = net
            .into_iter()
            .filter(|(_, (c, d))| c != d)
            .map(|((account, asset), (c, d))| BalanceChange {
                account,
                asset,
                amount: Amount::new(c.abs_diff(d)),
                credit: c > d,
            })
            .collect();
        TxEffects {
            sender,
            named,
            changes,
        }
    }

    /// Every account concerned, each once: the sender first.
    pub fn accounts(&self) -> Vec<Address> {
        let mut out = vec![self.sender];
        let mut seen = std::collections::BTreeSet::from([self.sender]);
        let changed = self.changes.iter().map(|c| c.account);
        for a in self.named.into_iter().chain(changed) {
            if seen.insert(a) {
                out.push(a);
            }
        }
        out
    }
}

impl Encode for StateDelta {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.entries.len() as u32);
        for (k, v) in &self.entries {
            w.bytes(k);
            match v {
                Some(v) => w.u8(1).bytes(v),
                None => w.u8(0),
            };
        }
    }
}

/// The state commitment after a block: a hash chain over every block's delta.
///
/// `root(h) = H(root(h-1) ‖ h ‖ delta(h))`, with `root(-1) = 0` and genesis's delta being
/// the whole initial state. It costs time proportional to the block, not to the state, and
/// anyone who replays the chain from genesis recomputes it exactly.
pub fn state_root(prev_root: &Hash, height: u64, delta: &StateDelta) -> Hash {
    let mut w = Writer::new();
    w.put(prev_root).u64(height).put(delta);
    Hash::domain("milk/state/v1", &[&w.into_bytes()])
}

/// Conservation broke: the sum of balances differs from the recorded supply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{asset}: supply {supply} but balances sum to {sum}")]
pub struct ConservationError {
    /// The asset.
    pub asset: Symbol,
    /// The recorded supply.
    pub supply: Amount,
    /// The sum of balances (saturating).
    pub sum: Amount,
}

/// What the ledger checks of every transaction, whatever it does.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// The chain it names.
    pub chain: &'a ChainId,
    /// Who signs and pays.
    pub sender: &'a Address,
    /// The sender's sequence number it carries.
    pub sequence: u64,
    /// When it expires, block time (Unix ms).
    pub expires_at_ms: u64,
}

/// A balance move: `(from, to, asset, amount)`.
pub type Move = (Address, Address, Symbol, Amount);

/// What an action does to balances and supplies, applied in this order: moves, then mints,
/// then burns. Built by a domain's check; checked whole before anything is written.
#[derive(Debug, Clone, Default)]
pub struct Postings {
    /// Amounts moved between accounts.
    pub moves: Vec<Move>,
    /// `(to, asset, amount)`: new supply credited to `to`.
    pub mints: Vec<(Address, Symbol, Amount)>,
    /// `(from, asset, amount)`: supply destroyed from `from`'s balance.
    pub burns: Vec<(Address, Symbol, Amount)>,
}

/// Every balance change postings make, in the order they apply: `(account, asset, amount,
/// credit)`.
fn effects(p: &Postings) -> impl Iterator<Item = (Address, Symbol, Amount, bool)> + '_ {
    let moves =
        (p.moves.iter())
            .filter(|m| !m.3.is_zero())
            .flat_map(|&(from, to, asset, amount)| {
                [(from, asset, amount, false), (to, asset, amount, true)]
            });
    let mints = (p.mints.iter()).map(|&(to, asset, amount)| (to, asset, amount, true));
    let burns = (p.burns.iter()).map(|&(from, asset, amount)| (from, asset, amount, false));
    moves.chain(mints).chain(burns)
}

#[derive(Debug, Clone)]
struct AssetState {
    spec: AssetSpec,
    supply: Amount,
    burned: Amount,
}

/// A chain's accounts, sequence numbers and asset supplies.
#[derive(Debug, Clone)]
pub struct Ledger {
    chain: ChainId,
    assets: BTreeMap<Symbol, AssetState>,
    balances: HashMap<(Address, Symbol), Amount>,
    sequences: HashMap<Address, u64>,
    // Entries changed since the last `take_delta`, with their values before.
    touched_balances: HashMap<(Address, Symbol), Amount>,
    touched_sequences: HashMap<Address, u64>,
    touched_supplies: HashMap<Symbol, Amount>,
    touched_burned: BTreeSet<Symbol>,
}

impl Ledger {
    /// An empty ledger with these assets, all of zero supply.
    pub fn new(chain: ChainId, assets: Vec<AssetSpec>) -> Ledger {
        let assets = assets
            .into_iter()
            .map(|spec| {
                let (supply, burned) = (Amount::ZERO, Amount::ZERO);
                let state = AssetState {
                    spec,
                    supply,
                    burned,
                };
                (state.spec.symbol, state)
            })
            .collect();
        Ledger {
            chain,
            assets,
            balances: HashMap::default(),
            sequences: HashMap::default(),
            touched_balances: HashMap::default(),
            touched_sequences: HashMap::default(),
            touched_supplies: HashMap::default(),
            touched_burned: BTreeSet::new(),
        }
    }

    /// The chain this ledger belongs to.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// The assets, in symbol order, with their supplies.
    pub fn assets(&self) -> impl Iterator<Item = (&AssetSpec, Amount)> {
        self.assets.values().map(|a| (&a.spec, a.supply))
    }

    /// An asset's decimals (0 for an asset this chain does not have).
    pub fn decimals(&self, symbol: &Symbol) -> u8 {
        self.asset(symbol).map_or(0, |a| a.decimals)
    }

    /// The refusal of a spend of `needed` by someone holding `available`, in whole units.
    pub fn short(&self, asset: Symbol, available: Amount, needed: Amount) -> LedgerError {
        let decimals = self.decimals(&asset);
        LedgerError::InsufficientBalance {
            asset,
            available: crate::amount::Whole::new(available.units(), decimals),
            needed: crate::amount::Whole::new(needed.units(), decimals),
        }
    }

    /// One asset's definition.
    pub fn asset(&self, symbol: &Symbol) -> Option<&AssetSpec> {
        self.assets.get(symbol).map(|a| &a.spec)
    }

    /// The total supply of an asset.
    pub fn supply(&self, symbol: &Symbol) -> Option<Amount> {
        self.assets.get(symbol).map(|a| a.supply)
    }

    /// What was burned of an asset since genesis, whatever the reason.
    pub fn burned(&self, symbol: &Symbol) -> Amount {
        self.assets.get(symbol).map_or(Amount::ZERO, |a| a.burned)
    }

    /// An account's balance of an asset.
    pub fn balance(&self, account: &Address, asset: &Symbol) -> Amount {
        self.balances
            .get(&(*account, *asset))
            .copied()
            .unwrap_or_default()
    }

    /// The sequence number the account's next transaction must carry.
    pub fn next_sequence(&self, account: &Address) -> u64 {
        self.sequences.get(account).copied().unwrap_or(0)
    }

    /// How many (account, asset) balances are non-zero.
    pub fn account_entries(&self) -> usize {
        self.balances.len()
    }

    /// Every non-zero balance, in no particular order.
    pub fn balances(&self) -> impl Iterator<Item = (&Address, &Symbol, Amount)> {
        self.balances.iter().map(|((a, s), v)| (a, s, *v))
    }

    /// Every account's next sequence number.
    pub fn sequences(&self) -> impl Iterator<Item = (&Address, u64)> {
        self.sequences.iter().map(|(a, n)| (a, *n))
    }

    /// The checks that do not depend on the action: chain, expiry, sequence.
    pub fn check_envelope(&self, tx: &Envelope<'_>, now_ms: u64) -> Result<(), LedgerError> {
        if *tx.chain != self.chain {
            return Err(LedgerError::WrongChain {
                expected: self.chain.clone(),
                got: tx.chain.clone(),
            });
        }
        if tx.expires_at_ms <= now_ms {
            return Err(LedgerError::Expired {
                expires_at_ms: tx.expires_at_ms,
                now_ms,
            });
        }
        if tx.expires_at_ms > now_ms.saturating_add(MAX_TX_LIFETIME_MS) {
            return Err(LedgerError::ExpiryTooFar {
                expires_at_ms: tx.expires_at_ms,
                now_ms,
            });
        }
        let expected = self.next_sequence(tx.sender);
        if tx.sequence < expected {
            return Err(LedgerError::SequenceUsed {
                expected,
                got: tx.sequence,
            });
        }
        if tx.sequence > expected {
            return Err(LedgerError::SequenceGap {
                expected,
                got: tx.sequence,
            });
        }
        Ok(())
    }

    /// Uses the sender's sequence number.
    pub fn bump_sequence(&mut self, sender: Address) {
        let before = self.next_sequence(&sender);
        self.touched_sequences.entry(sender).or_insert(before);
        self.sequences.insert(sender, before + 1);
    }

    fn set_balance(&mut self, account: Address, asset: Symbol, value: Amount) {
        let key = (account, asset);
        let before = self.balances.get(&key).copied().unwrap_or_default();
        self.touched_balances.entry(key).or_insert(before);
        if value.is_zero() {
            self.balances.remove(&key);
        } else {
            self.balances.insert(key, value);
        }
    }

    fn set_supply(&mut self, asset: Symbol, supply: Amount) {
        let state = self.assets.get_mut(&asset).expect("a known asset");
        self.touched_supplies.entry(asset).or_insert(state.supply);
        state.supply = supply;
    }

    /// Checks postings as a whole, in order: no asset unknown, no account overdrawn, no
    /// balance or supply overflowing. Writes nothing.
    pub fn check_postings(&self, p: &Postings) -> Result<(), LedgerError> {
        // Each posting's effect on one balance, in order. A balance's value before an effect
        // is the ledger's plus the effects before it on the same balance; postings are a
        // handful, so this rescans them instead of allocating a map per transaction.
        for (k, (account, asset, amount, credit)) in effects(p).enumerate() {
            if !self.assets.contains_key(&asset) {
                return Err(LedgerError::UnknownAsset { asset });
            }
            let mut now = self.balance(&account, &asset);
            for (a, s, x, up) in effects(p).take(k) {
                if (a, s) == (account, asset) {
                    let next = if up {
                        now.checked_add(x)
                    } else {
                        now.checked_sub(x)
                    };
                    now = next.expect("an earlier effect already checked");
                }
            }
            if credit {
                now.checked_add(amount)
                    .ok_or(LedgerError::Overflow { asset })?;
            } else if now < amount {
                return Err(self.short(asset, now, amount));
            }
        }
        for (k, (_, asset, amount)) in p.mints.iter().enumerate() {
            let earlier = p.mints[..k].iter().filter(|m| m.1 == *asset);
            let supply = earlier.fold(self.assets[asset].supply, |s, m| {
                s.checked_add(m.2).expect("an earlier mint already checked")
            });
            supply
                .checked_add(*amount)
                .ok_or(LedgerError::Overflow { asset: *asset })?;
        }
        Ok(())
    }

    /// Applies checked postings.
    pub fn post(&mut self, p: Postings) {
        for (from, to, asset, amount) in p.moves {
            if amount.is_zero() {
                continue;
            }
            let f = self.balance(&from, &asset).checked_sub(amount);
            self.set_balance(from, asset, f.expect("checked"));
            let t = self.balance(&to, &asset).checked_add(amount);
            self.set_balance(to, asset, t.expect("checked"));
        }
        for (to, asset, amount) in p.mints {
            let t = self.balance(&to, &asset).checked_add(amount);
            self.set_balance(to, asset, t.expect("checked"));
            let s = self.assets[&asset].supply.checked_add(amount);
            self.set_supply(asset, s.expect("checked"));
        }
        for (from, asset, amount) in p.burns {
            let f = self.balance(&from, &asset).checked_sub(amount);
            self.set_balance(from, asset, f.expect("checked"));
            let s = self.assets[&asset].supply.checked_sub(amount);
            self.set_supply(asset, s.expect("a balance never exceeds its supply"));
            let state = self.assets.get_mut(&asset).expect("a known asset");
            // Never more than was ever minted, which fits a u128.
            state.burned = state.burned.checked_add(amount).expect("burns fit");
            self.touched_burned.insert(asset);
        }
    }

    /// Credits a genesis allocation, creating supply. Only for building genesis.
    pub fn allocate(
        &mut self,
        account: Address,
        asset: &Symbol,
        amount: Amount,
    ) -> Result<(), LedgerError> {
        let p = Postings {
            mints: vec![(account, *asset, amount)],
            ..Postings::default()
        };
        self.check_postings(&p)?;
        self.post(p);
        Ok(())
    }

    /// Loads one stored ledger record; `Ok(false)` if the key is not the ledger's.
    pub fn restore(&mut self, key: &[u8], value: &[u8]) -> Result<bool, String> {
        let bad = || format!("malformed state record {}", hex::encode(key));
        let account = |bytes: &[u8]| -> Result<Address, String> {
            let raw: [u8; 32] = bytes
                .get(..32)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(bad)?;
            Address::from_bytes(raw)
        };
        let symbol = |bytes: &[u8]| -> Result<Symbol, String> {
            std::str::from_utf8(bytes)
                .map_err(|e| e.to_string())?
                .parse()
        };
        match key.first() {
            Some(&record::BALANCE) if key.len() > 33 => {
                let asset = symbol(&key[33..])?;
                if !self.assets.contains_key(&asset) {
                    return Err(format!("stored balance of unknown asset {asset}"));
                }
                let v = record::u128_value(value).ok_or_else(bad)?;
                if v != 0 {
                    let owner = account(&key[1..])?;
                    self.balances.insert((owner, asset), Amount::new(v));
                }
            }
            Some(&record::SEQUENCE) if key.len() == 33 => {
                let n = record::u64_value(value).ok_or_else(bad)?;
                self.sequences.insert(account(&key[1..])?, n);
            }
            Some(&record::SUPPLY) => {
                let asset = symbol(&key[1..])?;
                let v = record::u128_value(value).ok_or_else(bad)?;
                self.assets
                    .get_mut(&asset)
                    .ok_or_else(|| format!("stored supply of unknown asset {asset}"))?
                    .supply = Amount::new(v);
            }
            Some(&record::BURNED) => {
                let asset = symbol(&key[1..])?;
                let v = record::u128_value(value).ok_or_else(bad)?;
                self.assets
                    .get_mut(&asset)
                    .ok_or_else(|| format!("stored burns of unknown asset {asset}"))?
                    .burned = Amount::new(v);
            }
            Some(ns) if record::NAMESPACES.contains(ns) => return Err(bad()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Every ledger record.
    pub fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let balances = self
            .balances
            .iter()
            .map(|((a, s), v)| (record::balance(a, s), v.units().to_be_bytes().to_vec()));
        let sequences = self
            .sequences
            .iter()
            .map(|(a, n)| (record::sequence(a), n.to_be_bytes().to_vec()));
        let supplies = self
            .assets
            .iter()
            .map(|(s, a)| (record::supply(s), a.supply.units().to_be_bytes().to_vec()));
        let burned = (self.assets.iter())
            .filter(|(_, a)| !a.burned.is_zero())
            .map(|(s, a)| (record::burned(s), a.burned.units().to_be_bytes().to_vec()));
        balances
            .chain(sequences)
            .chain(supplies)
            .chain(burned)
            .collect()
    }

    /// Takes the ledger records changed since the last call, and asserts that the change
    /// conserved every asset: the balances moved by exactly what supply moved.
    pub fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.assert_conserved();
        let mut entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = self
            .touched_balances
            .keys()
            .map(|(account, asset)| {
                let v = self.balance(account, asset);
                let value = (!v.is_zero()).then(|| v.units().to_be_bytes().to_vec());
                (record::balance(account, asset), value)
            })
            .collect();
        entries.extend(self.touched_sequences.keys().map(|a| {
            let next = self.next_sequence(a).to_be_bytes().to_vec();
            (record::sequence(a), Some(next))
        }));
        entries.extend(self.touched_supplies.keys().map(|s| {
            let supply = self.assets[s].supply.units().to_be_bytes().to_vec();
            (record::supply(s), Some(supply))
        }));
        entries.extend(self.touched_burned.iter().map(|s| {
            let burned = self.assets[s].burned.units().to_be_bytes().to_vec();
            (record::burned(s), Some(burned))
        }));
        self.touched_balances.clear();
        self.touched_sequences.clear();
        self.touched_supplies.clear();
        self.touched_burned.clear();
        entries
    }

    /// Asserts, for the changes since the last `take_records`, that every asset's balances
    /// moved by exactly what its supply moved.
    fn assert_conserved(&self) {
        let mut gained: BTreeMap<&Symbol, u128> = BTreeMap::new();
        let mut lost: BTreeMap<&Symbol, u128> = BTreeMap::new();
        for ((account, asset), before) in &self.touched_balances {
            let after = self.balance(account, asset);
            if after >= *before {
                *gained.entry(asset).or_default() += after.units() - before.units();
            } else {
                *lost.entry(asset).or_default() += before.units() - after.units();
            }
        }
        for (symbol, state) in &self.assets {
            let supply_before = self.touched_supplies.get(symbol).copied();
            let supply_before = supply_before.unwrap_or(state.supply).units();
            let g = gained.get(symbol).copied().unwrap_or(0);
            let l = lost.get(symbol).copied().unwrap_or(0);
            assert_eq!(
                supply_before.checked_add(g).and_then(|x| x.checked_sub(l)),
                Some(state.supply.units()),
                "conservation broken for {symbol} on {}",
                self.chain
            );
        }
    }

    /// Checks, over the whole ledger, that every asset's supply equals the sum of its
    /// balances.
    pub fn check_conservation(&self) -> Result<(), ConservationError> {
        let mut sums: BTreeMap<&Symbol, u128> = BTreeMap::new();
        for ((_, asset), v) in &self.balances {
            let s = sums.entry(asset).or_default();
            *s = s.saturating_add(v.units());
        }
        for (symbol, state) in &self.assets {
            let sum = Amount::new(sums.get(symbol).copied().unwrap_or(0));
            if sum != state.supply {
                return Err(ConservationError {
                    asset: *symbol,
                    supply: state.supply,
                    sum,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keypair;

    fn ledger() -> (Ledger, [Address; 3], Symbol) {
        let sym: Symbol = "PTS".parse().unwrap();
        let spec = AssetSpec {
            symbol: sym,
            name: "points".into(),
            decimals: 0,
            issuer: None,
        };
        let mut l = Ledger::new("brand".parse().unwrap(), vec![spec]);
        let k = |i: u8| Keypair::from_label(&format!("ledger-{i}")).address();
        let accounts = [k(0), k(1), k(2)];
        l.allocate(accounts[0], &sym, Amount::new(100)).unwrap();
        l.take_records();
        (l, accounts, sym)
    }

    /// Burns are counted per asset, written with the block that made them, and restored.
    #[test]
    fn burns_are_counted_written_and_restored() {
        let (mut l, [a, b, _], pts) = ledger();
        assert_eq!(l.burned(&pts), Amount::ZERO);
        assert!(
            l.records().iter().all(|(k, _)| k[0] != record::BURNED),
            "none yet"
        );
        let burn = |from, n| Postings {
            burns: vec![(from, pts, Amount::new(n))],
            ..Postings::default()
        };
        l.post(Postings {
            moves: vec![(a, b, pts, Amount::new(30))],
            ..burn(a, 7)
        });
        l.post(burn(b, 5));
        assert_eq!(
            (l.burned(&pts), l.supply(&pts)),
            (Amount::new(12), Some(Amount::new(88)))
        );
        let written = l.take_records();
        let burned = (record::burned(&pts), Some(12u128.to_be_bytes().to_vec()));
        assert!(written.contains(&burned), "{written:?}");
        let mut back = Ledger::new(
            "brand".parse().unwrap(),
            l.assets().map(|(s, _)| s.clone()).collect(),
        );
        for (k, v) in l.records() {
            assert_eq!(back.restore(&k, &v), Ok(true));
        }
        assert_eq!(back.burned(&pts), Amount::new(12));
        assert_eq!(back.records().len(), l.records().len());
        l.post(Postings::default());
        assert!(
            l.take_records().is_empty(),
            "a block without burns writes no count"
        );
    }

    /// A transaction's effects are each account's net change per asset: moves both ways
    /// net out, a mint credits, a burn debits, and the sender is concerned even when none of
    /// its balances changed.
    #[test]
    fn effects_net_each_accounts_changes() {
        let (_, [a, b, c], pts) = ledger();
        let mlk: Symbol = "MLK".parse().unwrap();
        let amt = Amount::new;
        let p = Postings {
            moves: vec![
                (a, b, mlk, amt(5)),
                (b, a, mlk, amt(2)),
                (b, a, pts, amt(4)),
            ],
            mints: vec![(a, pts, amt(1))],
            burns: vec![(a, pts, amt(5))],
        };
        let e = TxEffects::of(c, None, &p);
        let change = |account, asset, amount, credit| BalanceChange {
            account,
            asset,
            amount: amt(amount),
            credit,
        };
        assert_eq!(
            e.changes,
            [
                change(a, mlk, 3, false),
                change(b, mlk, 3, true),
                change(b, pts, 4, false)
            ]
        );
        assert_eq!(e.accounts(), [c, a, b]);
    }

    /// Postings check in order and as a whole: a move may spend what an earlier one in the
    /// same change credited, and nothing is written unless all of them pass.
    #[test]
    fn postings_check_in_order_and_as_a_whole() {
        let (mut l, [a, b, c], pts) = ledger();
        let amt = Amount::new;
        let chained = Postings {
            moves: vec![(a, b, pts, amt(60)), (b, c, pts, amt(60))],
            ..Postings::default()
        };
        assert_eq!(l.check_postings(&chained), Ok(()));
        let reversed = Postings {
            moves: vec![(b, c, pts, amt(60)), (a, b, pts, amt(60))],
            ..Postings::default()
        };
        assert!(matches!(
            l.check_postings(&reversed),
            Err(LedgerError::InsufficientBalance { available, .. }) if available.amount.is_zero()
        ));
        let overdrawn = Postings {
            moves: vec![(a, b, pts, amt(60)), (a, c, pts, amt(41))],
            ..Postings::default()
        };
        assert!(matches!(
            l.check_postings(&overdrawn),
            Err(LedgerError::InsufficientBalance { available, .. }) if available.amount == amt(40)
        ));
        let burn_after = Postings {
            moves: vec![(a, b, pts, amt(100))],
            burns: vec![(b, pts, amt(100))],
            ..Postings::default()
        };
        assert_eq!(l.check_postings(&burn_after), Ok(()));
        let supply_overflow = Postings {
            mints: vec![(b, pts, amt(u128::MAX - 100)), (c, pts, amt(1))],
            ..Postings::default()
        };
        assert!(matches!(
            l.check_postings(&supply_overflow),
            Err(LedgerError::Overflow { .. })
        ));
        let unknown = Postings {
            moves: vec![(a, b, "NOPE".parse().unwrap(), amt(1))],
            ..Postings::default()
        };
        assert!(matches!(
            l.check_postings(&unknown),
            Err(LedgerError::UnknownAsset { .. })
        ));
        // Applying the chained moves conserves supply, and the block's records say so.
        l.post(chained);
        assert_eq!(
            (
                l.balance(&a, &pts),
                l.balance(&b, &pts),
                l.balance(&c, &pts)
            ),
            (amt(40), amt(0), amt(60))
        );
        assert_eq!(
            l.take_records().len(),
            3,
            "three balances changed, b back to none"
        );
        assert_eq!(l.check_conservation(), Ok(()));
    }
}
