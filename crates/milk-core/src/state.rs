//! The state of one chain: the [`Ledger`] and the domains that run on it, and the one
//! dispatch that hands each action to its domain.
//!
//! Applying a transaction is all-or-nothing. A domain's check reads the state and returns a
//! [`Change`]: the ledger's postings, the records it writes, and the events it raises (a
//! trade's fill), which other domains answer with changes of their own. Only when the whole
//! change checks is anything written. The state remembers which entries a block touched, so
//! the block's [`StateDelta`] is exact, conservation is checked in time proportional to the
//! block, and the store persists only what changed.

use crate::alliance::{Alliance, AllianceWrite, Applied, Exited};
use crate::anchor::Anchors;
use crate::brand::{BrandPolicy, BrandState, BrandWrite};
use crate::bridge::{Bridge, BridgeWrite};
use crate::error::LedgerError;
pub use crate::error::TxError;
use crate::exchange::desk::{Desk, DeskWrite};
use crate::exchange::settlement::{Settlements, StepRefusal};
use crate::exchange::{Exchange, ExchangeWrite, Fill};
use crate::hash::TxId;
use crate::ledger::{DomainRecords, Envelope, Ledger, Postings};
use crate::membership::{Membership, MembershipWrite};
use crate::producers::Producers;
use crate::tokenomics::AccountRole;
use crate::tokenomics::{Tokenomics, TokenomicsWrite};
use crate::tx::{Action, ExchangeAction, Transaction};
use crate::{Address, Amount, ChainId, Hash, Symbol};
use std::collections::BTreeSet;

pub use crate::codec::MAX_TX_LIFETIME_MS;
pub use crate::ledger::{
    AssetSpec, BalanceChange, ConservationError, StateDelta, TxEffects, state_root,
};

/// Keys of the persisted state: one namespace byte, then that namespace's own bytes.
///
/// The store keeps every piece of chain state as such a record, so a new kind of state
/// needs a namespace in its domain and nothing new in the store. [`NAMESPACES`] lists every
/// domain's; a compile-time check keeps them apart.
pub mod record {
    pub use crate::anchor::record::{ANCHOR, anchor, anchor_prefix};
    pub use crate::ledger::record::*;
}

/// Every namespace byte, by owner: the ledger's, then each domain's.
pub const NAMESPACES: [(&str, &[u8]); 11] = [
    ("ledger", crate::ledger::record::NAMESPACES),
    ("brand", crate::brand::record::NAMESPACES),
    ("anchor", crate::anchor::record::NAMESPACES),
    ("alliance", crate::alliance::NAMESPACES),
    ("exchange", crate::exchange::record::NAMESPACES),
    ("exchange desk", crate::exchange::desk::record::NAMESPACES),
    ("membership", crate::membership::record::NAMESPACES),
    ("tokenomics", crate::tokenomics::NAMESPACES),
    ("producers", crate::producers::record::NAMESPACES),
    (
        "exchange settlements",
        crate::exchange::settlement::NAMESPACES,
    ),
    ("bridge", crate::bridge::record::NAMESPACES),
];
const _: () = {
    let mut lists: [&[u8]; NAMESPACES.len()] = [&[]; NAMESPACES.len()];
    let mut i = 0;
    while i < NAMESPACES.len() {
        lists[i] = NAMESPACES[i].1;
        i += 1;
    }
    assert!(
        crate::codec::disjoint(&lists),
        "two domains share a namespace"
    );
};

/// What happened in a domain that other domains act on.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A trade filled (center chain): membership credits LZM, tokenomics volume and rewards.
    Fill(Fill),
    /// A partner applied (center chain): tokenomics takes its phase-2 stake, if any.
    Applied(Applied),
    /// A partner left (center chain): tokenomics gives its stake back.
    Exited(Exited),
}

/// What a checked action does: postings for the ledger, records for the domains, and the
/// events it raised.
#[derive(Debug, Default)]
pub(crate) struct Change {
    pub(crate) postings: Postings,
    pub(crate) brand: Vec<BrandWrite>,
    pub(crate) exchange: Vec<ExchangeWrite>,
    pub(crate) desk: Vec<DeskWrite>,
    pub(crate) membership: Vec<MembershipWrite>,
    pub(crate) tokenomics: Vec<TokenomicsWrite>,
    pub(crate) alliance: Option<AllianceWrite>,
    pub(crate) anchor: Option<(ChainId, u64, Hash)>,
    pub(crate) producers: Option<Vec<Address>>,
    pub(crate) bridge: Vec<BridgeWrite>,
    pub(crate) events: Vec<Event>,
}

/// A chain's ledger and the domains that run on it.
#[derive(Debug, Clone)]
pub struct ChainState {
    pub(crate) ledger: Ledger,
    // A brand chain's Brand Token and partner records.
    pub(crate) brand: Option<(Symbol, BrandState)>,
    // On the center chain: who may anchor, admit and run the exchange.
    pub(crate) operator: Option<Address>,
    pub(crate) alliance: Option<(Alliance, BTreeSet<Symbol>)>,
    pub(crate) anchors: Anchors,
    // On the center chain: the exchange.
    pub(crate) exchange: Option<Exchange>,
    // On a brand chain: the exchange's escrows and deliveries.
    pub(crate) desk: Option<Desk>,
    // On a brand chain: TICA's inventory of the token.
    pub(crate) inventory: Option<Address>,
    // On the center chain: membership, and the allocation accounts' roles.
    pub(crate) membership: Option<Membership>,
    pub(crate) tokenomics: Option<Tokenomics>,
    pub(crate) roles: Vec<AccountRole>,
    // Who may sign the next block (every chain).
    pub(crate) producers: Producers,
    // On the center chain: the bridge to the main chain, if the network has one.
    pub(crate) bridge: Option<Bridge>,
    // Whom each transaction applied since the last delta concerned.
    effects: Vec<TxEffects>,
    // The refused steps of settlement batches (every chain).
    pub(crate) settlements: Settlements,
}

impl ChainState {
    /// An empty chain with these assets, all of zero supply.
    pub fn new(chain: ChainId, assets: Vec<AssetSpec>) -> ChainState {
        ChainState {
            ledger: Ledger::new(chain, assets),
            brand: None,
            operator: None,
            alliance: None,
            anchors: Anchors::default(),
            exchange: None,
            desk: None,
            inventory: None,
            membership: None,
            tokenomics: None,
            roles: Vec::new(),
            producers: Producers::default(),
            bridge: None,
            effects: Vec::new(),
            settlements: Settlements::default(),
        }
    }

    /// The refused steps of settlement batch `tx`, if any was.
    pub fn settlement_refusals(&self, tx: &TxId) -> Option<&[StepRefusal]> {
        self.settlements.refused(tx)
    }

    /// Runs membership here (the center chain), with the allocation accounts' roles.
    pub fn with_membership(mut self, m: Option<Membership>, roles: Vec<AccountRole>) -> ChainState {
        // Tokenomics runs wherever membership does: its rewards follow membership's config.
        self.tokenomics = m.as_ref().map(|_| Tokenomics::default());
        self.membership = m;
        self.roles = roles;
        self
    }

    /// Membership, on the center chain.
    pub fn membership(&self) -> Option<&Membership> {
        self.membership.as_ref()
    }

    /// Tokenomics' records, on the center chain.
    pub fn tokenomics(&self) -> Option<&Tokenomics> {
        self.tokenomics.as_ref()
    }

    /// Runs the exchange here (the center chain).
    pub fn with_exchange(mut self, exchange: Exchange) -> ChainState {
        self.exchange = Some(exchange);
        self
    }

    /// Names TICA's inventory of this brand chain's token, which the exchange trades from.
    pub fn with_inventory(mut self, inventory: Address) -> ChainState {
        self.inventory = Some(inventory);
        self
    }

    /// The exchange, on the center chain.
    pub fn exchange(&self) -> Option<&Exchange> {
        self.exchange.as_ref()
    }

    /// Lets `operator` anchor brand chains, admit partners and run the exchange here (the
    /// center chain).
    pub fn with_operator(mut self, operator: Address) -> ChainState {
        self.operator = Some(operator);
        self
    }

    /// Keeps the alliance's registry here (the center chain); `symbols` are the assets that
    /// already exist, which an applicant may not take.
    pub fn with_alliance(mut self, alliance: Alliance, symbols: BTreeSet<Symbol>) -> ChainState {
        self.alliance = Some((alliance, symbols));
        self
    }

    /// The alliance's registry, on the center chain.
    pub fn alliance(&self) -> Option<&Alliance> {
        self.alliance.as_ref().map(|(a, _)| a)
    }

    /// The anchors recorded for a brand chain: `(number, seal)`, in order.
    pub fn anchors_of<'a>(&'a self, chain: &'a ChainId) -> impl Iterator<Item = (u64, Hash)> + 'a {
        self.anchors.of(chain)
    }

    /// Names who may sign this chain's blocks until TICA changes it.
    pub fn with_producers(mut self, producers: Producers) -> ChainState {
        self.producers = producers;
        self
    }

    /// Runs the bridge to the main chain here (the center chain).
    pub fn with_bridge(mut self, bridge: Bridge) -> ChainState {
        self.bridge = Some(bridge);
        self
    }

    /// The bridge to the main chain, on the center chain of a network with one.
    pub fn bridge(&self) -> Option<&Bridge> {
        self.bridge.as_ref()
    }

    /// Who may sign the next block.
    pub fn producers(&self) -> &Producers {
        &self.producers
    }

    /// Makes this a brand chain whose partner token is `asset`, under `policy`.
    pub fn with_brand(mut self, asset: Symbol, policy: BrandPolicy) -> ChainState {
        self.brand = Some((asset, BrandState::new(policy)));
        self.desk = Some(Desk::default());
        self
    }

    /// The exchange's escrows and deliveries, on a brand chain.
    pub fn desk(&self) -> Option<&Desk> {
        self.desk.as_ref()
    }

    /// The partner's records, on a brand chain.
    pub fn brand(&self) -> Option<&BrandState> {
        self.brand.as_ref().map(|(_, b)| b)
    }

    /// The ledger: balances, sequence numbers and supplies.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The chain this state belongs to.
    pub fn chain(&self) -> &ChainId {
        self.ledger.chain()
    }

    /// The assets of this chain, in symbol order.
    pub fn assets(&self) -> impl Iterator<Item = (&AssetSpec, Amount)> {
        self.ledger.assets()
    }

    /// One asset's definition.
    pub fn asset(&self, symbol: &Symbol) -> Option<&AssetSpec> {
        self.ledger.asset(symbol)
    }

    /// The total supply of an asset.
    pub fn supply(&self, symbol: &Symbol) -> Option<Amount> {
        self.ledger.supply(symbol)
    }

    /// What was burned of an asset since genesis, whatever the reason.
    pub fn burned(&self, symbol: &Symbol) -> Amount {
        self.ledger.burned(symbol)
    }

    /// An account's balance of an asset.
    pub fn balance(&self, account: &Address, asset: &Symbol) -> Amount {
        self.ledger.balance(account, asset)
    }

    /// The sequence number the account's next transaction must carry.
    pub fn next_sequence(&self, account: &Address) -> u64 {
        self.ledger.next_sequence(account)
    }

    /// How many (account, asset) balances are non-zero.
    pub fn account_entries(&self) -> usize {
        self.ledger.account_entries()
    }

    /// Every non-zero balance, in no particular order.
    pub fn balances(&self) -> impl Iterator<Item = (&Address, &Symbol, Amount)> {
        self.ledger.balances()
    }

    /// Every account's next sequence number.
    pub fn sequences(&self) -> impl Iterator<Item = (&Address, u64)> {
        self.ledger.sequences()
    }

    /// Checks a transaction against the current state without changing it. `now_ms` is the
    /// block time (or, on admission, the node's clock).
    pub fn check(&self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        self.plan(tx, now_ms).map(|_| ())
    }

    /// The checks that do not depend on the action: chain, expiry, sequence. A node admits a
    /// transaction to its pool on these alone: everything else depends on what applies
    /// before it in the block (a link before a conversion, funds before a payment).
    pub fn check_envelope(&self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        let envelope = Envelope {
            chain: &tx.chain,
            sender: &tx.sender,
            sequence: tx.sequence,
            expires_at_ms: tx.expires_at_ms,
        };
        Ok(self.ledger.check_envelope(&envelope, now_ms)?)
    }

    /// Applies a transaction whose signature was checked, at block time `now_ms`. On error
    /// nothing changed.
    pub fn apply(&mut self, tx: &Transaction, now_ms: u64) -> Result<(), TxError> {
        let change = self.plan(tx, now_ms)?;
        if let Action::Exchange(ExchangeAction::SettleBatch { steps }) = &tx.action {
            self.apply_steps(tx, steps, now_ms);
        } else {
            let named = tx.action.recipient().copied();
            (self.effects).push(TxEffects::of(tx.sender, named, &change.postings));
            self.write(change);
        }
        self.ledger.bump_sequence(tx.sender);
        Ok(())
    }

    /// The steps of a settlement batch checked whole: each is planned and written on its
    /// own, seeing the ones before it, as if sent alone; one that does not check changes
    /// nothing and is recorded as refused, under the batch's id.
    fn apply_steps(&mut self, tx: &Transaction, steps: &[ExchangeAction], now_ms: u64) {
        let mut all = Postings::default();
        let mut refused = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let action = Action::Exchange(step.clone());
            match self.plan_action(tx, &action, now_ms) {
                Ok(change) => {
                    all.moves.extend_from_slice(&change.postings.moves);
                    all.mints.extend_from_slice(&change.postings.mints);
                    all.burns.extend_from_slice(&change.postings.burns);
                    self.write(change);
                }
                Err(e) => refused.push(StepRefusal::new(index, e.code(), e.to_string())),
            }
        }
        self.settlements.write(tx.id(), refused);
        (self.effects).push(TxEffects::of(tx.sender, None, &all));
    }

    /// The one dispatch: the envelope, then the action (see [`ChainState::plan_action`]).
    fn plan(&self, tx: &Transaction, now_ms: u64) -> Result<Change, TxError> {
        self.check_envelope(tx, now_ms)?;
        self.plan_action(tx, &tx.action, now_ms)
    }

    /// The action's domain, then the domains that answer its events, then the allocation
    /// locks; finally the postings, checked whole. `action` is the transaction's, or one
    /// step of its batch.
    fn plan_action(
        &self,
        tx: &Transaction,
        action: &Action,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let mut change = match action {
            Action::Token(a) => self.check_token(tx, a, now_ms)?,
            Action::Brand(a) => self.check_brand(tx, a, now_ms)?,
            Action::Alliance(a) => self.check_alliance(tx, a, now_ms)?,
            Action::Anchor(a) => self.check_anchor(tx, a)?,
            Action::Exchange(a) => self.check_exchange(tx, a, now_ms)?,
            Action::Membership(a) => self.check_membership(tx, a, now_ms)?,
            Action::Tokenomics(a) => self.check_tokenomics(tx, a, now_ms)?,
            Action::Producers(a) => self.check_producers(tx, a)?,
            Action::Bridge(a) => self.check_bridge(tx, a, now_ms)?,
        };
        for event in std::mem::take(&mut change.events) {
            match event {
                Event::Fill(fill) => {
                    self.credit_trade(&mut change, &fill, now_ms);
                    self.reward_trade(&mut change, &fill, now_ms);
                }
                Event::Applied(applied) => self.plan_stake(&mut change, &applied)?,
                Event::Exited(exited) => self.plan_release(&mut change, &exited, now_ms),
            }
        }
        self.check_placed(&change)?;
        self.check_locks(&tx.sender, &change.postings, now_ms)?;
        self.check_inventory_spends(action, &change.postings)?;
        self.ledger.check_postings(&change.postings)?;
        Ok(change)
    }

    /// Refuses a change that writes to a part of the platform this chain does not run: a
    /// rule that forgot to ask is refused here, never half written.
    fn check_placed(&self, change: &Change) -> Result<(), TxError> {
        let absent = [
            (
                "membership",
                !change.membership.is_empty() && self.membership.is_none(),
            ),
            (
                "tokenomics",
                !change.tokenomics.is_empty() && self.tokenomics.is_none(),
            ),
            ("a brand", !change.brand.is_empty() && self.brand.is_none()),
            (
                "the exchange",
                !change.exchange.is_empty() && self.exchange.is_none(),
            ),
            (
                "the exchange's desk",
                !change.desk.is_empty() && self.desk.is_none(),
            ),
            (
                "the alliance",
                change.alliance.is_some() && self.alliance.is_none(),
            ),
            (
                "the bridge",
                !change.bridge.is_empty() && self.bridge.is_none(),
            ),
        ];
        match absent.into_iter().find(|(_, missing)| *missing) {
            Some((part, _)) => Err(TxError::Ledger(LedgerError::NotOnThisChain {
                chain: self.ledger.chain().clone(),
                part,
            })),
            None => Ok(()),
        }
    }

    /// Refuses anyone but the operator.
    pub(crate) fn operator_only(&self, tx: &Transaction) -> Result<(), TxError> {
        if self.operator == Some(tx.sender) {
            Ok(())
        } else {
            Err(TxError::Ledger(LedgerError::NotOperator))
        }
    }

    /// Writes a checked change.
    fn write(&mut self, change: Change) {
        self.ledger.post(change.postings);
        let missing = "check_placed refuses a change for a part that does not run here";
        for w in change.membership {
            self.membership.as_mut().expect(missing).write(w);
        }
        for w in change.tokenomics {
            self.tokenomics.as_mut().expect(missing).write(w);
        }
        for w in change.brand {
            self.brand.as_mut().expect(missing).1.write(w);
        }
        for w in change.exchange {
            self.exchange.as_mut().expect(missing).write(w);
        }
        for w in change.desk {
            self.desk.as_mut().expect(missing).write(w);
        }
        if let Some(w) = change.alliance {
            self.alliance.as_mut().expect(missing).0.write(w);
        }
        if let Some((chain, height, hash)) = change.anchor {
            self.anchors.write(chain, height, hash);
        }
        if let Some(set) = change.producers {
            self.producers.write(set);
        }
        for w in change.bridge {
            self.bridge.as_mut().expect(missing).write(w);
        }
    }

    /// Credits a genesis allocation, creating supply. Only for building genesis.
    pub fn allocate(
        &mut self,
        account: Address,
        asset: &Symbol,
        amount: Amount,
    ) -> Result<(), TxError> {
        Ok(self.ledger.allocate(account, asset, amount)?)
    }

    /// Every domain that runs here, as its records.
    fn domains_mut(&mut self) -> Vec<&mut dyn DomainRecords> {
        let mut out: Vec<&mut dyn DomainRecords> = vec![
            &mut self.anchors,
            &mut self.producers,
            &mut self.settlements,
        ];
        if let Some((_, b)) = &mut self.brand {
            out.push(b);
        }
        if let Some((a, _)) = &mut self.alliance {
            out.push(a);
        }
        if let Some(e) = &mut self.exchange {
            out.push(e);
        }
        if let Some(d) = &mut self.desk {
            out.push(d);
        }
        if let Some(m) = &mut self.membership {
            out.push(m);
        }
        if let Some(t) = &mut self.tokenomics {
            out.push(t);
        }
        if let Some(b) = &mut self.bridge {
            out.push(b);
        }
        out
    }

    fn domains(&self) -> Vec<&dyn DomainRecords> {
        let mut out: Vec<&dyn DomainRecords> =
            vec![&self.anchors, &self.producers, &self.settlements];
        if let Some((_, b)) = &self.brand {
            out.push(b);
        }
        if let Some((a, _)) = &self.alliance {
            out.push(a);
        }
        if let Some(e) = &self.exchange {
            out.push(e);
        }
        if let Some(d) = &self.desk {
            out.push(d);
        }
        if let Some(m) = &self.membership {
            out.push(m);
        }
        if let Some(t) = &self.tokenomics {
            out.push(t);
        }
        if let Some(b) = &self.bridge {
            out.push(b);
        }
        out
    }

    /// Restores persisted records (after [`ChainState::new`]), then checks conservation.
    pub fn restore<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        records: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), String> {
        for (key, value) in records {
            let (key, value) = (key.as_ref(), value.as_ref());
            if self.ledger.restore(key, value)? {
                continue;
            }
            let ns = key.first().copied();
            let restored = self
                .domains_mut()
                .into_iter()
                .find(|d| ns.is_some_and(|ns| d.namespaces().contains(&ns)))
                .is_some_and(|d| d.restore(key, value));
            if !restored {
                return Err(format!("malformed state record {}", hex::encode(key)));
            }
        }
        // What was restored is the persisted state: nothing in it is a change to persist
        // again (the genesis members, for one, are marked changed when first built).
        for d in self.domains_mut() {
            d.take_records();
        }
        self.ledger.check_conservation().map_err(|e| e.to_string())
    }

    /// Every record of the state, sorted by key: what the store must hold after the last
    /// block (`milk verify` compares the two).
    pub fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = self.ledger.records();
        for d in self.domains() {
            out.extend(d.records());
        }
        out.sort_unstable();
        out
    }

    /// Takes what changed since the last call, and asserts that the change conserved every
    /// asset: the balances moved by exactly what supply moved.
    pub fn take_delta(&mut self) -> StateDelta {
        let mut entries = self.ledger.take_records();
        for d in self.domains_mut() {
            entries.extend(d.take_records());
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        StateDelta {
            entries,
            effects: std::mem::take(&mut self.effects),
        }
    }

    /// Checks, over the whole state, that every asset's supply equals the sum of its balances.
    pub fn check_conservation(&self) -> Result<(), ConservationError> {
        self.ledger.check_conservation()
    }
}

/// Refuses an amount of zero.
pub(crate) fn nonzero(amount: Amount) -> Result<(), TxError> {
    if amount.is_zero() {
        Err(TxError::Ledger(LedgerError::ZeroAmount))
    } else {
        Ok(())
    }
}
