//! The actors and what they do: customers pay and gift, link their wallets, sell and buy the
//! airline's token (its miles expire three years after they are earned), check in and burn
//! MLK for LZM, join and leave the MiL.k Pack, share their level and buy offers; the airline
//! converts mileage (sometimes under a reference it used), takes redemptions and refunds
//! them, sweeps expired miles, publishes offers; companies apply to the alliance, members
//! approve, TICA admits, suspends and reinstates, members leave; TICA pays rewards, starts
//! phase 2, sets partners' allocations aside, opens Pack seasons and pays their weeks,
//! moves the oracle's price, and settles open trades step by step as the node's settlement
//! driver decides (`exchange::driver`), in any order and late; thieves forge, alter and
//! replay transactions. Every few operations each chain seals a block; with faults on, a
//! chain's disk may lose power or fail a write during the commit, a chain's node may stop
//! between blocks, and the clock jumps; the chain restarts from its disk.

use crate::chain::{Sealed, SimChain};
use crate::model::{self, Lots, Mlk, Supply};
use crate::rng::Rng;
use milk_core::alliance::Application;
use milk_core::block::Block;
use milk_core::bridge::MainAddress;
use milk_core::exchange::ESCROW;
use milk_core::exchange::driver::{self, Step};
use milk_core::genesis::{DEMO_USERS, Genesis, demo_key};
use milk_core::tx::BridgeAction;
use milk_core::tx::{Action, AllianceAction, BrandAction, ExchangeAction, MembershipAction};
use milk_core::tx::{OrderSize, Transaction, TxId, VerifiedTx};
use milk_core::tx::{SignedTransaction, TokenAction, TokenomicsAction};
use milk_core::{Address, Amount, ChainId, Hash, Keypair, Symbol};
use std::collections::BTreeSet;

/// The demo network's reward epoch: a week.
const EPOCH_MS: u64 = 7 * milk_core::ledger::DAY_MS;

/// How many operations between blocks.
const OPS_PER_BLOCK: u64 = 4;

/// What a run did, for its report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Operations attempted.
    pub ops: u64,
    /// Blocks committed (across both chains).
    pub blocks: u64,
    /// Transactions the pools refused at once.
    pub refused: u64,
    /// Commits cut by a power failure, and by an I/O error.
    pub crashes: u64,
    /// Commits whose block reached the disk anyway.
    pub survived: u64,
    /// Trades that ended filled, and that ended refused or undelivered.
    pub trades: (u64, u64),
    /// Filled trades priced within 1% of a bound.
    pub near_bounds: u64,
    /// Committed transactions by kind.
    pub committed: std::collections::BTreeMap<&'static str, u64>,
}

/// What a chain held before a block, for the checks after it.
struct Before {
    /// The airline's customers' expiring lots.
    lots: Lots,
    /// Balances a lock held: `(account, asset, balance)`.
    locked: Vec<(Address, Symbol, Amount)>,
}

/// The simulated alliance: the center and airline chains and everyone acting on them.
pub struct World {
    rng: Rng,
    faults: bool,
    now_ms: u64,
    center: SimChain,
    brand: SimChain,
    users: Vec<Keypair>,
    issuer: Keypair,
    operator: Keypair,
    /// How many transactions each account has waiting per chain (center 0, airline 1).
    waiting: [std::collections::BTreeMap<Address, u64>; 2],
    /// Conversion references and redemption orders used so far.
    references: Vec<String>,
    orders: Vec<String>,
    /// The last Pack season TICA opened (or asked to).
    season: u32,
    /// Customers whose sale TICA sent a step for, and whose miles the airline swept, since
    /// the last block.
    settling: BTreeSet<Address>,
    sweeping: BTreeSet<Address>,
    /// The allocations genesis locks (but those only the exchange moves), with the date a
    /// lock until a date ends.
    locks: Vec<(Address, Symbol, Option<u64>)>,
    /// The genesis the chains started from.
    genesis: Genesis,
    /// Transactions committed lately, which a thief may send again.
    recent: Vec<VerifiedTx>,
    /// Companies that applied to the alliance (or tried): their issuer keys and chains.
    joiners: Vec<(Keypair, ChainId)>,
    /// Premium offers published (or asked to be).
    offers: Vec<String>,
    /// Every order sent: sales (signed, on the airline's chain) and purchases.
    sales: Vec<SignedTransaction>,
    purchases: Vec<(TxId, Address)>,
    krw_e4: u64,
    /// The reference model of the airline token's supply, and of MLK's.
    supply: Supply,
    mlk: Mlk,
    /// LZM's supply, which no transaction changes (it is earned from its pools).
    lzm: Amount,
    /// What happened.
    pub report: Report,
}

/// The bridge's own bounds: never more deposits than MLK that left (and the main chain's
/// starting float), never more released than left, and batches tiling the sealed
/// withdrawals in order.
fn check_bridge(state: &milk_core::state::ChainState) -> Result<(), String> {
    let Some(b) = state.bridge() else {
        return Ok(());
    };
    let bound = b.out_total().units() + b.main_float().units();
    if b.in_total().units() > bound || b.released_total() > b.out_total() {
        return Err(format!(
            "the bridge recorded {} in and {} released against {} out",
            b.in_total(),
            b.released_total(),
            b.out_total()
        ));
    }
    let mut next = 0;
    for (n, batch) in b.batches() {
        let sealed = b.withdrawals_from(batch.first).take(batch.count as usize);
        if batch.first != next
            || sealed.filter(|(_, w)| w.batch == Some(n)).count() != batch.count as usize
        {
            return Err(format!(
                "batch {n} does not follow the one before or seal its withdrawals"
            ));
        }
        next += u64::from(batch.count);
    }
    Ok(())
}

/// A fresh name, or one of `used` one time in ten (a partner retrying, or a mistake).
fn name(rng: &mut Rng, used: &[String], prefix: &str) -> String {
    match (rng.below(10), used.is_empty()) {
        (0, false) => used[rng.below(used.len() as u64) as usize].clone(),
        _ => format!("{prefix}-{}", rng.next()),
    }
}

/// The partner whose chain the simulator runs: the demo's airline, whose miles expire.
const BRAND_CHAIN: &str = "skyway";
const BRAND_SYMBOL: &str = "SKY";
const BRAND_ISSUER: &str = "partner:skyway";
/// The demo alliance's founding partners' chains.
const FOUNDERS: [&str; 3] = ["skyway", "cinema", "dailymart"];

/// The allocations `g` locks, but for those only the exchange moves.
fn locks(g: &Genesis) -> Vec<(Address, Symbol, Option<u64>)> {
    use milk_core::tokenomics::{LockRule, Role};
    (g.roles.iter())
        .filter_map(|r| {
            let until = match &r.role {
                Role::Locked { rule } => match rule {
                    LockRule::ExchangeOnly => return None,
                    LockRule::Until { until_ms } => Some(*until_ms),
                    _ => None,
                },
                _ => return None,
            };
            Some((r.account, r.asset, until))
        })
        .collect()
}

/// A filled trade's price (its tokens' value at the curve, in MLK at the trade's MLK
/// price) lies between the curve's floor and maximum, in basis points of the tokens'
/// redemption value; one MLK base unit of rounding either way. Whether it came within 1%
/// of a bound (of the redemption value: 100 bps).
fn within_bounds(
    t: &milk_core::exchange::Trade,
    c: &milk_core::exchange::curve::Curve,
    mlk_decimals: u8,
) -> Result<bool, String> {
    let overflow = || "a price too large to check".to_owned();
    let pow = |d: u32| 10u128.pow(d);
    // Both sides in KRW × 10⁴ × 10^(MLK decimals) × 10^(token decimals) × 10⁴.
    let per_mlk_unit = (u128::from(t.mlk_krw_e4) * pow(u32::from(c.decimals)))
        .checked_mul(10_000)
        .ok_or_else(overflow)?;
    let paid = t.gross.checked_mul(per_mlk_unit).ok_or_else(overflow)?;
    let worth = (t.tokens.checked_mul(u128::from(c.redemption_value_krw)))
        .and_then(|v| v.checked_mul(10_000 * pow(u32::from(mlk_decimals))))
        .ok_or_else(overflow)?;
    let at = |bps: u16| worth.checked_mul(u128::from(bps)).ok_or_else(overflow);
    let (floor, max) = (at(c.min_bps)?, at(c.max_bps)?);
    if paid + per_mlk_unit < floor || paid > max + per_mlk_unit {
        return Err(format!(
            "priced at {} MLK base units for {} tokens, outside {}–{} bps of their value",
            t.gross, t.tokens, c.min_bps, c.max_bps
        ));
    }
    let near_floor = paid <= at(c.min_bps.saturating_add(100))?;
    Ok(near_floor || paid >= at(c.max_bps.saturating_sub(100))?)
}

/// The demo genesis, its airline market placed by the seed: as the demo has it (TICA
/// half-way along its curve), near its maximum price (TICA holding only a little of what the
/// curve spans, so buys soon reach its end), or near its floor (the curve ending a little
/// past TICA's position, so sales soon reach its end). A steeper curve takes smaller orders.
fn genesis(rng: &mut Rng) -> Result<Genesis, String> {
    let mut g = Genesis::demo();
    let market = airline_market(&mut g)?;
    let room = 2_000_000; // 20,000 whole tokens
    match rng.below(3) {
        0 => market.position = Amount::new(room),
        1 => market.capacity = Amount::new(market.position.units() + room),
        _ => return Ok(g),
    }
    for _ in 0..40 {
        let Err(e) = g.validate() else {
            return Ok(g);
        };
        let market = airline_market(&mut g)?;
        if !e.contains("largest order") || market.max_order.units() < 2 {
            return Err(e);
        }
        market.max_order = Amount::new(market.max_order.units() / 2);
    }
    Err("no order size suits the curve".into())
}

/// The airline's market as `g` opens it.
fn airline_market(g: &mut Genesis) -> Result<&mut milk_core::exchange::MarketSpec, String> {
    let exchange = g.exchange.as_mut().ok_or("the demo trades")?;
    (exchange.markets.iter_mut())
        .find(|m| m.asset == sym(BRAND_SYMBOL))
        .ok_or_else(|| "no market for the airline's token".to_owned())
}

/// What a committed transaction counts as in the report: its kind, but tokenomics apart
/// from membership (the API's kinds put them together).
fn kind(action: &Action) -> &'static str {
    match action {
        Action::Tokenomics(_) => "tokenomics",
        _ => action.kind(),
    }
}

fn sym(s: &str) -> Symbol {
    s.parse().expect("a demo symbol")
}

impl World {
    /// The demo network at genesis, with `customers` more customers holding nothing yet.
    pub fn new(seed: u64, faults: bool, customers: usize) -> Result<World, String> {
        let mut rng = Rng::new(seed);
        let g = genesis(&mut rng)?;
        let producer = demo_key("operator");
        let center = SimChain::open(&g, &ChainId::center(), producer.clone())?;
        let brand = SimChain::open(&g, &BRAND_CHAIN.parse().unwrap(), producer)?;
        let mut users: Vec<Keypair> = DEMO_USERS.iter().map(|u| demo_key(u)).collect();
        let tokens = brand
            .state
            .supply(&sym(BRAND_SYMBOL))
            .ok_or("no brand token")?;
        let rate = brand
            .state
            .brand()
            .ok_or("no brand")?
            .policy()
            .units_per_mileage;
        let mlk = center.state.supply(&sym("MLK")).ok_or("no MLK")?;
        let lzm = center.state.supply(&sym("LZM")).ok_or("no LZM")?;
        users.extend((0..customers).map(|_| Keypair::from_secret(rng.bytes32())));
        let mut world = World {
            rng,
            faults,
            now_ms: g.genesis_time_ms + 1_000,
            center,
            brand,
            users,
            issuer: demo_key(BRAND_ISSUER),
            operator: demo_key("operator"),
            waiting: Default::default(),
            references: Vec::new(),
            orders: Vec::new(),
            offers: Vec::new(),
            joiners: Vec::new(),
            recent: Vec::new(),
            locks: locks(&g),
            genesis: g.clone(),
            settling: BTreeSet::new(),
            sweeping: BTreeSet::new(),
            season: 0,
            sales: Vec::new(),
            purchases: Vec::new(),
            krw_e4: 10_000_000,
            supply: Supply::new(tokens.units(), rate),
            mlk: Mlk {
                supply: mlk.units(),
                burned: 0,
            },
            lzm,
            report: Report::default(),
        };
        world.oracle();
        world.seal_all(false)?;
        Ok(world)
    }

    fn chain_ref(&self, on_center: bool) -> &SimChain {
        if on_center { &self.center } else { &self.brand }
    }

    fn chain(&mut self, on_center: bool) -> &mut SimChain {
        if on_center {
            &mut self.center
        } else {
            &mut self.brand
        }
    }

    /// `action` signed by `key` for the center chain or the airline's, numbered after what
    /// the key already has waiting there. Its signature is not checked again (this is not
    /// where signatures are tested, and checking them is most of a run's time); the final
    /// replay checks every one that was committed.
    fn order(&mut self, on_center: bool, key: &Keypair, action: Action) -> VerifiedTx {
        let waiting = self.waiting[usize::from(!on_center)].get(&key.address());
        let waiting = *waiting.unwrap_or(&0);
        let (now_ms, tica) = (self.now_ms, key.address() == self.operator.address());
        let chain = self.chain(on_center);
        // TICA dates its steps as the node's lane does, from the later of its clock and the
        // chain's head; customers and the partner, from their own clocks.
        let expires_at_ms = if tica {
            now_ms.max(chain.time_ms())
        } else {
            now_ms
        } + 60_000;
        Transaction {
            chain: chain.id().clone(),
            sender: key.address(),
            sequence: chain.state.next_sequence(&key.address()) + waiting,
            expires_at_ms,
            action,
        }
        .sign_own(key)
    }

    /// Sends a signed transaction to its chain's pool; its id, if the pool took it.
    fn submit(&mut self, on_center: bool, tx: VerifiedTx) -> Option<TxId> {
        let (id, sender, now_ms) = (tx.id(), tx.tx().sender, self.now_ms);
        if self.chain(on_center).submit(tx, now_ms).is_err() {
            self.report.refused += 1;
            return None;
        }
        *self.waiting[usize::from(!on_center)]
            .entry(sender)
            .or_default() += 1;
        Some(id)
    }

    fn send(&mut self, on_center: bool, key: &Keypair, action: Action) -> Option<TxId> {
        let tx = self.order(on_center, key, action);
        self.submit(on_center, tx)
    }

    /// One operation, then a block on each chain every few.
    pub fn step(&mut self, op: u64) -> Result<(), String> {
        self.report.ops += 1;
        match self.rng.below(100) {
            0..=18 => self.transfer(true),
            19 => self.attack()?,
            20..=29 => self.transfer(false),
            30..=34 => self.link(),
            35..=49 => self.convert(),
            50..=54 => self.redeem(),
            55..=57 => self.refund(),
            58..=67 => self.sell(),
            68..=77 => self.buy(),
            78..=85 => self.settle_one(),
            86 => self.expire(),
            87 => self.alliance(),
            88 => self.consent(),
            89 => self.offer(),
            90 => self.membership(),
            91 => self.pack(),
            92 => self.tokenomics(),
            93 => self.bridge(),
            94..=95 => self.oracle(),
            96..=98 => self.pass_time(),
            _ if self.faults => self.crash()?,
            _ => self.pass_time(),
        }
        if op % OPS_PER_BLOCK == OPS_PER_BLOCK - 1 {
            self.seal_all(self.faults)?;
        }
        Ok(())
    }

    fn user(&mut self) -> Keypair {
        let i = self.rng.below(self.users.len() as u64) as usize;
        self.users[i].clone()
    }

    /// An amount up to a little more than `balance` (so some are refused), never zero.
    fn amount_of(&mut self, balance: u128) -> Amount {
        let most = (balance + balance / 5).max(1);
        Amount::new(1 + u128::from(self.rng.next()) % most)
    }

    fn transfer(&mut self, on_center: bool) {
        let (from, to) = (self.user(), self.user());
        let asset = sym(if on_center { "MLK" } else { BRAND_SYMBOL });
        let balance = self.chain(on_center).state.balance(&from.address(), &asset);
        let amount = self.amount_of(balance.units());
        let memo = if on_center { "" } else { "a gift" };
        let action = Action::Token(TokenAction::Transfer {
            to: to.address(),
            asset,
            amount,
            memo: memo.into(),
        });
        self.send(on_center, &from, action);
    }

    fn link(&mut self) {
        let user = self.user();
        let customer = milk_core::brand::customer_hash("sim", &user.address().to_string());
        let chain = self.brand.id().clone();
        let message = milk_core::brand::link_message(&chain, &user.address(), &customer);
        let action = Action::Brand(BrandAction::Link {
            customer_hash: customer,
            partner_signature: self.issuer.sign(&message.0),
        });
        self.send(false, &user, action);
    }

    fn convert(&mut self) {
        let to = self.user().address();
        let reference = name(&mut self.rng, &self.references, "T");
        self.references.push(reference.clone());
        let mileage = 1 + self.rng.below(5_000);
        let action = Action::Brand(BrandAction::Convert {
            to,
            mileage,
            reference,
        });
        let issuer = self.issuer.clone();
        self.send(false, &issuer, action);
    }

    fn redeem(&mut self) {
        let user = self.user();
        let balance = self
            .brand
            .state
            .balance(&user.address(), &sym(BRAND_SYMBOL));
        let amount = self.amount_of(balance.units());
        let order_id = name(&mut self.rng, &self.orders, "O");
        self.orders.push(order_id.clone());
        let action = Action::Brand(BrandAction::Redeem { amount, order_id });
        self.send(false, &user, action);
    }

    fn refund(&mut self) {
        let order_id = name(&mut self.rng, &self.orders, "O");
        let action = Action::Brand(BrandAction::Refund { order_id });
        let issuer = self.issuer.clone();
        self.send(false, &issuer, action);
    }

    fn sell(&mut self) {
        let user = self.user();
        let balance = self
            .brand
            .state
            .balance(&user.address(), &sym(BRAND_SYMBOL));
        let amount = self.amount_of(balance.units());
        let min_out = Amount::new(if self.rng.below(8) == 0 { u128::MAX } else { 0 });
        let action = Action::Exchange(ExchangeAction::Sell { amount, min_out });
        let order = self.order(false, &user, action);
        let signed = order.signed().clone();
        if self.submit(false, order).is_some() {
            self.sales.push(signed);
        }
    }

    fn buy(&mut self) {
        let user = self.user();
        let tokens = Amount::new(1 + u128::from(self.rng.below(20_000)));
        let max_in = Amount::new(if self.rng.below(8) == 0 { 1 } else { u128::MAX });
        let action = Action::Exchange(ExchangeAction::Buy {
            asset: sym(BRAND_SYMBOL),
            pay: sym("MLK"),
            size: OrderSize::Tokens(tokens),
            max_in,
        });
        if let Some(id) = self.send(true, &user, action) {
            self.purchases.push((id, user.address()));
        }
    }

    /// The bridge to the main chain: a customer withdraws (sometimes more than they hold or
    /// than the day's limit); TICA seals batches, records releases (some of withdrawals not
    /// sealed, or twice), records deposits (a few transaction hashes, so some twice, some
    /// naming no usable key, some more than ever left) and refunds held ones.
    fn bridge(&mut self) {
        const TO: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let to: MainAddress = TO.parse().expect("a checksummed address");
        let operator = self.operator.clone();
        let (key, action) = match self.rng.below(5) {
            0 | 1 => {
                let user = self.user();
                let balance = self.center.state.balance(&user.address(), &sym("MLK"));
                let amount = self.amount_of(balance.units() / 50);
                let max_fee = Amount::new(u128::from(self.rng.below(2)) * 100_000_000);
                (
                    user,
                    BridgeAction::Withdraw {
                        to,
                        amount,
                        max_fee,
                    },
                )
            }
            2 => {
                let b = self.center.state.bridge().expect("the demo has a bridge");
                let (batch, waiting) = (b.next_batch(), b.next_withdrawal() - b.first_unsealed());
                // Mostly what is waiting or less; sometimes none, or one too many.
                let count = self.rng.below(waiting.min(256) + 2) as u32;
                (operator, BridgeAction::SealBatch { batch, count })
            }
            3 => {
                let (withdrawal, n) = (self.rng.below(12), self.rng.below(4) as u8);
                (
                    operator,
                    BridgeAction::ConfirmRelease {
                        withdrawal,
                        main_tx: Hash([n; 32]),
                    },
                )
            }
            _ => (operator, self.deposit(to)),
        };
        self.send(true, &key, Action::Bridge(action));
    }

    /// TICA records a deposit (one of a few, so some twice) or refunds one.
    fn deposit(&mut self, from: MainAddress) -> BridgeAction {
        let (n, log_index) = (self.rng.below(8) as u8, self.rng.below(2));
        let main_tx = Hash([n; 32]);
        if self.rng.below(4) == 0 {
            return BridgeAction::RefundDeposit { main_tx, log_index };
        }
        let milk = match self.rng.below(3) {
            // Not a usable key: held.
            0 => (1u8..)
                .map(|i| Hash([i; 32]))
                .find(|h| Address::from_bytes(h.0).is_err())
                .expect("most byte strings are no key"),
            _ => Hash(*self.user().address().as_bytes()),
        };
        // Mostly within what left and was not deposited back; sometimes beyond it.
        let b = self.center.state.bridge().expect("the demo has a bridge");
        let room = b.out_total().units() - b.in_total().units();
        let amount = self.amount_of(room);
        let block = self.rng.below(1_000);
        BridgeAction::RecordDeposit {
            main_tx,
            log_index,
            from,
            milk,
            amount,
            block,
        }
    }

    /// A customer checks in for LZM, or burns some MLK for it.
    fn membership(&mut self) {
        let user = self.user();
        let action = match self.rng.below(2) {
            0 => MembershipAction::CheckIn,
            _ => {
                let balance = self.center.state.balance(&user.address(), &sym("MLK"));
                let amount = self.amount_of(balance.units() / 100);
                MembershipAction::BurnForLzm { amount }
            }
        };
        self.send(true, &user, Action::Membership(action));
    }

    /// The MiL.k Pack: TICA opens a season of a few weeks or pays a week of it; a customer
    /// commits MLK to it or leaves it.
    fn pack(&mut self) {
        let operator = self.operator.clone();
        let (key, action) = match self.rng.below(4) {
            0 => {
                self.season += 1;
                let open = MembershipAction::OpenPackSeason {
                    season: self.season,
                    starts_ms: self.now_ms.max(self.center.time_ms()) + 1_000,
                    weeks: 1 + self.rng.below(4) as u32,
                    weekly_reward: Amount::new(u128::from(1 + self.rng.below(1 << 40))),
                    lzm_per_week: Amount::new(u128::from(1 + self.rng.below(1 << 30))),
                };
                (operator, open)
            }
            1 => {
                let week = self.rng.below(4) as u32;
                (operator, MembershipAction::PayPackWeek { week })
            }
            2 => {
                let user = self.user();
                let balance = self.center.state.balance(&user.address(), &sym("MLK"));
                let amount = self.amount_of(balance.units() / 10);
                (user, MembershipAction::JoinPack { amount })
            }
            _ => (self.user(), MembershipAction::LeavePack),
        };
        self.send(true, &key, Action::Membership(action));
    }

    /// The airline sweeps a customer's expired miles: mostly one who has some, sometimes
    /// anyone (refused when nothing is due). Never in the same block as a step of that
    /// customer's sale, which may give escrowed miles back already expired (the model
    /// reckons a sweep from the lots before the block).
    fn expire(&mut self) {
        let now_ms = self.now_ms.max(self.brand.time_ms());
        let brand = self.brand.state.brand().expect("a brand chain");
        let due: Vec<Address> = (self.users.iter().map(Keypair::address))
            .filter(|a| !brand.expired(a, now_ms).is_zero())
            .collect();
        let account = match (due.is_empty(), self.rng.below(4)) {
            (false, 0..=2) => due[self.rng.below(due.len() as u64) as usize],
            _ => self.user().address(),
        };
        if self.settling.contains(&account) {
            return;
        }
        let issuer = self.issuer.clone();
        let sweep = Action::Brand(BrandAction::Expire { account });
        if self.send(false, &issuer, sweep).is_some() {
            self.sweeping.insert(account);
        }
    }

    /// The alliance on the center chain: a company applies (sometimes for a sector already
    /// taken), a founding partner approves it, TICA admits it, an admitted one gives notice
    /// (sometimes too short) and TICA lets it go once its final date is past; now and then
    /// TICA suspends the airline, halting its market, and reinstates it.
    fn alliance(&mut self) {
        let operator = self.operator.clone();
        let joiner = (!self.joiners.is_empty())
            .then(|| self.joiners[self.rng.below(self.joiners.len() as u64) as usize].clone());
        let (key, action) = match (self.rng.below(12), joiner) {
            (0..=2, _) | (_, None) => self.apply(),
            (3..=4, Some((_, chain))) => {
                let founder = FOUNDERS[self.rng.below(FOUNDERS.len() as u64) as usize];
                let founder = demo_key(&format!("partner:{founder}"));
                (founder, AllianceAction::Approve { chain })
            }
            (5..=6, Some((_, chain))) => (operator, AllianceAction::SignAgreement { chain }),
            (7, Some((key, chain))) => {
                let notice = milk_core::genesis::DEMO_EXIT_NOTICE_MS;
                let final_ms = self.now_ms + notice + self.rng.below(60_000) - 5_000;
                (key, AllianceAction::StartExit { chain, final_ms })
            }
            (8, Some((_, chain))) => (operator, AllianceAction::FinishExit { chain }),
            (9, _) => (
                operator,
                AllianceAction::Suspend {
                    chain: self.brand.id().clone(),
                },
            ),
            _ => (
                operator,
                AllianceAction::Reinstate {
                    chain: self.brand.id().clone(),
                },
            ),
        };
        self.send(true, &key, Action::Alliance(action));
    }

    /// A new company's application, under its own new issuer key (given its stake first,
    /// once phase 2 asks for one).
    fn apply(&mut self) -> (Keypair, AllianceAction) {
        let n = self.joiners.len();
        let key = Keypair::from_secret(self.rng.bytes32());
        let stake = self
            .center
            .state
            .tokenomics()
            .and_then(|t| t.phase2_stake());
        if let Some(stake) = stake {
            let fund = Action::Token(TokenAction::Transfer {
                to: key.address(),
                asset: sym("MLK"),
                amount: Amount::new(stake),
                memo: "stake".into(),
            });
            let user = self.user();
            self.send(true, &user, fund);
        }
        let chain: ChainId = format!("partner-{n}").parse().expect("a chain id");
        let policy = self
            .brand
            .state
            .brand()
            .expect("a brand chain")
            .policy()
            .clone();
        let sector = match self.rng.below(5) {
            0 => "travel".to_owned(), // the airline's
            _ => format!("sector-{n}"),
        };
        let application = Application {
            chain: chain.clone(),
            name: format!("Partner {n}"),
            sector,
            symbol: format!("P{n}").parse().expect("a symbol"),
            decimals: self.rng.below(9) as u8,
            policy,
            initial_float: Amount::new(u128::from(self.rng.below(1 << 40))),
        };
        self.joiners.push((key.clone(), chain));
        (key, AllianceAction::Apply { application })
    }

    /// Tokenomics: TICA rewards a customer's link or a partner's contribution for an epoch
    /// (sometimes one not yet over), starts phase 2 with a stake, sets aside a partner's
    /// share of allocation A; a partner claims its share, a locked allocation's key spends
    /// from it (both refused until they unlock).
    fn tokenomics(&mut self) {
        let operator = self.operator.clone();
        let partner = self.partner();
        let action = match self.rng.below(7) {
            0 | 1 => {
                let user = self.user().address();
                let customer = milk_core::brand::customer_hash("sim", &user.to_string());
                let link = milk_core::brand::link_seal(self.brand.id(), &user, &customer);
                TokenomicsAction::RewardLink { user, link }
            }
            2 => TokenomicsAction::PayContribution {
                chain: partner.1,
                epoch: (self.now_ms / EPOCH_MS).saturating_sub(self.rng.below(3)),
            },
            3 => TokenomicsAction::StartPhase2 {
                stake: Amount::new(u128::from(1 + self.rng.below(1 << 40))),
            },
            4 => TokenomicsAction::AllocatePartner {
                chain: partner.1,
                amount: Amount::new(u128::from(1 + self.rng.below(1 << 50))),
            },
            5 => {
                let claim = TokenomicsAction::ClaimAllocation { chain: partner.1 };
                self.send(true, &partner.0, Action::Tokenomics(claim));
                return;
            }
            _ => return self.spend_allocation(),
        };
        self.send(true, &operator, Action::Tokenomics(action));
    }

    /// A locked allocation's key tries to spend from it (refused until it unlocks).
    fn spend_allocation(&mut self) {
        let label = ["alloc:partner-allocation", "alloc:initial-construction"];
        let key = demo_key(label[self.rng.below(2) as usize]);
        let to = self.user().address();
        let amount = Amount::new(u128::from(1 + self.rng.below(1 << 40)));
        let asset = sym("MLK");
        let spend = TokenAction::Transfer {
            to,
            asset,
            amount,
            memo: String::new(),
        };
        self.send(true, &key, Action::Token(spend));
    }

    /// A partner, founding or joined: its issuer key and chain.
    fn partner(&mut self) -> (Keypair, ChainId) {
        let k = self.rng.below((FOUNDERS.len() + self.joiners.len()) as u64) as usize;
        match FOUNDERS.get(k) {
            Some(chain) => (
                demo_key(&format!("partner:{chain}")),
                chain.parse().expect("a demo chain"),
            ),
            None => self.joiners[k - FOUNDERS.len()].clone(),
        }
    }

    /// Someone tries to take money: a transfer out of another's account signed with the
    /// thief's own key, or one the thief signed and then raised, must fail its signature
    /// check; a committed transaction sent again, to its chain or the other, must be refused.
    fn attack(&mut self) -> Result<(), String> {
        let (thief, mut victim) = (self.user(), self.user());
        while victim.address() == thief.address() {
            victim = self.user();
        }
        let on_center = self.rng.below(2) == 0;
        let steal = |to| {
            let asset = sym(if on_center { "MLK" } else { BRAND_SYMBOL });
            let amount = Amount::new(1);
            Action::Token(TokenAction::Transfer {
                to,
                asset,
                amount,
                memo: String::new(),
            })
        };
        match self.rng.below(3) {
            0 => {
                let own = self.order(on_center, &thief, steal(thief.address()));
                let mut forged = own.signed().clone();
                forged.tx.sender = victim.address();
                forged.signature = thief.sign(&forged.tx.id().0);
                self.must_not_verify(forged, "signed by someone else")?;
                let theirs = self.order(on_center, &victim, steal(thief.address()));
                let mut raised = theirs.signed().clone();
                if let Action::Token(TokenAction::Transfer { amount, .. }) = &mut raised.tx.action {
                    *amount = Amount::new(1_000_000_000);
                }
                self.must_not_verify(raised, "changed after signing")
            }
            _ => {
                let to_its_chain = self.rng.below(2) == 0;
                self.send_again(to_its_chain)
            }
        }
    }

    fn must_not_verify(&self, tx: SignedTransaction, what: &str) -> Result<(), String> {
        match tx.verify() {
            Ok(_) => Err(format!("a transaction {what} passed its signature check")),
            Err(_) => Ok(()),
        }
    }

    /// A recently committed transaction sent again, to the chain that has it or the other.
    fn send_again(&mut self, to_its_chain: bool) -> Result<(), String> {
        if self.recent.is_empty() {
            return Ok(());
        }
        let tx = self.recent[self.rng.below(self.recent.len() as u64) as usize].clone();
        let on_center = (tx.tx().chain == ChainId::center()) == to_its_chain;
        let now_ms = self.now_ms;
        match self.chain(on_center).submit(tx.clone(), now_ms) {
            Ok(()) => Err(format!("{} was taken again after it committed", tx.id())),
            Err(_) => Ok(()),
        }
    }

    /// A customer shares their level with the airline, or withdraws it.
    fn consent(&mut self) {
        let (user, chain) = (self.user(), self.brand.id().clone());
        let action = match self.rng.below(3) {
            0 => BrandAction::WithdrawConsent { chain },
            _ => BrandAction::GrantConsent {
                chain,
                purpose: "VIP screenings".into(),
                items: vec!["level".into()],
                retention_days: 1 + self.rng.below(365) as u32,
            },
        };
        self.send(false, &user, Action::Brand(action));
    }

    /// The airline publishes a premium offer, or a customer buys one.
    fn offer(&mut self) {
        let chain = self.brand.id().clone();
        if self.offers.is_empty() || self.rng.below(3) == 0 {
            let id = format!("OFFER-{}", self.rng.next());
            self.offers.push(id.clone());
            let action = MembershipAction::PublishOffer {
                id,
                title: "Premiere night".into(),
                level: 1 + self.rng.below(3) as u8,
                price: Amount::new(1 + u128::from(self.rng.below(1_000_000_000))),
                stock: 1 + self.rng.below(5) as u32,
                opens_ms: self.now_ms,
                closes_ms: self.now_ms + 7 * 24 * 3_600_000,
            };
            let issuer = self.issuer.clone();
            self.send(true, &issuer, Action::Membership(action));
        } else {
            let id = self.offers[self.rng.below(self.offers.len() as u64) as usize].clone();
            let user = self.user();
            let action = MembershipAction::BuyOffer { chain, id };
            self.send(true, &user, Action::Membership(action));
        }
    }

    fn oracle(&mut self) {
        let move_e3 = 970 + self.rng.below(61);
        self.krw_e4 = (self.krw_e4 * move_e3 / 1_000).max(1);
        let action = Action::Exchange(ExchangeAction::OraclePrice {
            krw_e4: self.krw_e4,
            observed_at_ms: self.now_ms,
        });
        let operator = self.operator.clone();
        self.send(true, &operator, action);
    }

    /// Time passes: mostly seconds, sometimes days, now and then a year or so (a run
    /// crosses the three years after which miles expire); sometimes the clock jumps back a
    /// few minutes (a node's clock corrected), which blocks never follow below their parent.
    fn pass_time(&mut self) {
        let day = milk_core::ledger::DAY_MS;
        match self.rng.below(20) {
            0 => self.now_ms += day * (1 + self.rng.below(8)),
            1 => self.now_ms -= self.rng.below(600_000),
            2 => self.now_ms += day * (300 + self.rng.below(600)),
            _ => self.now_ms += self.rng.below(120_000),
        }
    }

    /// A chain's node stops between blocks and restarts from its disk, its pool gone.
    fn crash(&mut self) -> Result<(), String> {
        let on_center = self.rng.below(2) == 0;
        self.report.crashes += 1;
        self.waiting[usize::from(!on_center)].clear();
        self.chain(on_center).crash()
    }
}

/// Settlement, and the blocks.
impl World {
    /// The next step of every open trade (sales whose tokens are locked, purchases
    /// recorded), with the customer whose trade it is.
    fn next_steps(&self) -> Vec<(Address, Step<SignedTransaction>)> {
        let (exchange, desk) = (self.center.state.exchange(), self.brand.state.desk());
        let (Some(exchange), Some(desk)) = (exchange, desk) else {
            return Vec::new();
        };
        let chain = self.brand.id();
        let sales = self.sales.iter().filter_map(|order| {
            let id = order.tx.id();
            let escrow = desk.escrow(&id)?;
            let sale = driver::Sale { id, chain, order };
            let step = driver::next_for_sale(sale, exchange.trade(&id), Some(escrow))?;
            Some((order.tx.sender, step))
        });
        let purchases = self.purchases.iter().filter_map(|(id, buyer)| {
            let delivery = desk.delivery(id);
            let step = driver::next_for_purchase(id, exchange.trade(id), chain, delivery.as_ref())?;
            Some((*buyer, step))
        });
        sales.chain(purchases).collect()
    }

    /// TICA sends the next step of one open trade, chosen at random.
    fn settle_one(&mut self) {
        let steps = self.next_steps();
        if steps.is_empty() {
            return;
        }
        let (customer, step) = steps[self.rng.below(steps.len() as u64) as usize].clone();
        let on_center = step.chain == ChainId::center();
        if !on_center && self.sweeping.contains(&customer) {
            return; // The step may give miles back: not in the sweep's block.
        }
        let operator = self.operator.clone();
        if self
            .send(on_center, &operator, Action::Exchange(step.action))
            .is_some()
            && !on_center
        {
            self.settling.insert(customer);
        }
    }

    /// Seals a block on each chain; with `faults`, a commit may lose power or fail a write.
    pub fn seal_all(&mut self, faults: bool) -> Result<(), String> {
        self.now_ms += 1_000;
        for on_center in [true, false] {
            if faults && self.rng.below(24) == 0 {
                self.inject(on_center);
            }
            let now_ms = self.now_ms;
            let before = self.before(on_center);
            let committed = match self.chain(on_center).seal(now_ms)? {
                Sealed::Nothing => None,
                Sealed::Committed(block) => Some(block),
                Sealed::Restarted(block) => {
                    self.report.crashes += 1;
                    self.report.survived += u64::from(block.is_some());
                    block
                }
            };
            self.report.blocks += u64::from(committed.is_some());
            self.remember(committed.as_ref());
            for tx in committed.iter().flat_map(|b| &b.txs) {
                *self
                    .report
                    .committed
                    .entry(kind(&tx.tx.action))
                    .or_default() += 1;
            }
            self.check_block(on_center, committed.as_ref(), &before)?;
        }
        self.waiting = Default::default();
        self.settling.clear();
        self.sweeping.clear();
        Ok(())
    }

    /// What the checks after the next block compare with: on the center chain, the balances
    /// a lock holds at the block's time; on the airline's, its customers' lots.
    fn before(&self, on_center: bool) -> Before {
        let time_ms = self.now_ms.max(self.chain_ref(on_center).time_ms() + 1);
        match on_center {
            true => Before {
                lots: Lots::new(),
                locked: self.locked(time_ms),
            },
            false => Before {
                lots: self.lots(),
                locked: Vec::new(),
            },
        }
    }

    /// The balances a lock holds at `time_ms`: allocations genesis locks (but for those
    /// only the exchange moves) and partners' shares of allocation A before their unlock.
    fn locked(&self, time_ms: u64) -> Vec<(Address, Symbol, Amount)> {
        let state = &self.center.state;
        // A lock until a date is judged here; the others (until reward pools are paid out)
        // depend on balances, which the chain's own judgement reads.
        let genesis = (self.locks.iter())
            .filter(|(a, s, until)| match until {
                Some(until_ms) => time_ms < *until_ms,
                None => state.lock_in_force(a, s, time_ms).is_some(),
            })
            .map(|(a, s, _)| (*a, *s));
        let vesting = state.tokenomics().map(|t| t.vesting()).unwrap_or_default();
        let vesting = (vesting.into_iter())
            .filter(|v| time_ms < v.2)
            .map(|v| (v.1, sym("MLK")));
        (genesis.chain(vesting))
            .map(|(a, s)| (a, s, state.balance(&a, &s)))
            .collect()
    }

    /// After the center chain's block at `time_ms`: what the locks held, together, did not go
    /// down (allocation A's shares move to their partners' vesting accounts, still locked;
    /// nothing locked leaves before its unlock).
    fn check_locks(
        &self,
        before: &[(Address, Symbol, Amount)],
        time_ms: u64,
    ) -> Result<(), String> {
        let after = self.locked(time_ms);
        let held: BTreeSet<(Address, Symbol)> = (before.iter().chain(&after))
            .map(|(a, s, _)| (*a, *s))
            .collect();
        for asset in held.iter().map(|h| &h.1).collect::<BTreeSet<_>>() {
            let was: u128 = (before.iter().filter(|l| l.1 == *asset))
                .map(|l| l.2.units())
                .sum();
            let is: u128 = (held.iter().filter(|h| h.1 == *asset))
                .map(|(a, s)| self.center.state.balance(a, s).units())
                .sum();
            if is < was {
                return Err(format!("locked {asset} went from {was} to {is}"));
            }
        }
        Ok(())
    }

    /// Keeps one of a committed block's transactions among the last few, for a thief.
    fn remember(&mut self, block: Option<&Block>) {
        let Some(txs) = block.map(|b| &b.txs).filter(|t| !t.is_empty()) else {
            return;
        };
        let tx = txs[self.rng.below(txs.len() as u64) as usize].clone();
        if let Ok(verified) = tx.verify() {
            if self.recent.len() == 32 {
                self.recent.remove(0);
            }
            self.recent.push(verified);
        }
    }

    /// Every customer's expiring lots on the airline's chain now.
    fn lots(&self) -> Lots {
        let brand = self.brand.state.brand().expect("a brand chain");
        (self.users.iter().map(Keypair::address))
            .map(|a| (a, brand.lots(&a).map(|(d, n)| (d, n.units())).collect()))
            .collect()
    }

    /// After the airline's block: a swept account has nothing due left; no other account's
    /// due miles shrank (they cannot be spent, sent or sold); no account's lots exceed its
    /// balance.
    fn check_expiry(&self, before: &Lots, block: &Block) -> Result<(), String> {
        let time_ms = block.header.time_ms;
        let swept: Vec<&Address> = (block.txs.iter())
            .filter_map(|t| match &t.tx.action {
                Action::Brand(BrandAction::Expire { account }) => Some(account),
                _ => None,
            })
            .collect();
        for (account, lots) in &self.lots() {
            let (was, is) = (
                model::due(&before[account], time_ms),
                model::due(lots, time_ms),
            );
            if swept.contains(&account) && is != 0 {
                return Err(format!(
                    "{account} swept, yet {is} of its miles are still due"
                ));
            }
            if !swept.contains(&account) && is < was {
                return Err(format!(
                    "{account} spent expired miles: {was} due, now {is}"
                ));
            }
            let held = self.brand.state.balance(account, &sym(BRAND_SYMBOL));
            if lots.iter().map(|l| l.1).sum::<u128>() > held.units() {
                return Err(format!("{account}'s lots exceed its balance {held:?}"));
            }
        }
        Ok(())
    }

    /// After a block (if one was committed): conservation, and the model's supply; on the
    /// center chain, the locks; on the airline's, its miles' expiry.
    fn check_block(
        &mut self,
        on_center: bool,
        block: Option<&Block>,
        before: &Before,
    ) -> Result<(), String> {
        let chain = self.chain(on_center);
        let id = chain.id().clone();
        (chain.state.check_conservation()).map_err(|e| format!("{id}: {e}"))?;
        let (asset, expected) = match (on_center, block) {
            (true, Some(b)) => {
                self.mlk.block(b);
                self.check_locks(&before.locked, b.header.time_ms)?;
                ("MLK", self.mlk.supply)
            }
            (true, None) => ("MLK", self.mlk.supply),
            (false, Some(b)) => {
                self.supply.block(b, &before.lots)?;
                self.check_expiry(&before.lots, b)?;
                (BRAND_SYMBOL, self.supply.total())
            }
            (false, None) => (BRAND_SYMBOL, self.supply.total()),
        };
        if on_center {
            check_bridge(&self.center.state)?;
            let lzm = self.center.state.supply(&sym("LZM"));
            if lzm != Some(self.lzm) {
                return Err(format!("LZM supply {lzm:?}, but nothing mints or burns it"));
            }
            let burned = self.center.state.burned(&sym("MLK")).units();
            if burned != self.mlk.burned {
                let model = self.mlk.burned;
                return Err(format!(
                    "{burned} MLK counted burned, but the blocks burned {model}"
                ));
            }
        }
        let supply = self.chain(on_center).state.supply(&sym(asset));
        match supply.map(|a| a.units()) == Some(expected) {
            true => Ok(()),
            false => Err(format!(
                "{asset} supply {supply:?}, but the committed blocks make it {expected}"
            )),
        }
    }

    fn inject(&mut self, on_center: bool) {
        let after = 1 + self.rng.below(40);
        let survivors = self.rng.next();
        let power = self.rng.below(2) == 0;
        let disk = self.chain(on_center).disk().clone();
        match power {
            true => disk.crash_after(after, survivors),
            false => disk.fail_after(after),
        }
    }

    /// Without faults, TICA finishes every open trade; then both legs or neither for each,
    /// nothing left in escrow, and the two chains agree on every trade.
    pub fn finish(&mut self) -> Result<(), String> {
        for _ in 0..=2 * driver::MAX_STEPS {
            let steps = self.next_steps();
            if steps.is_empty() {
                break;
            }
            let operator = self.operator.clone();
            for (_, step) in steps {
                let on_center = step.chain == ChainId::center();
                self.send(on_center, &operator, Action::Exchange(step.action));
            }
            self.seal_all(false)?;
        }
        if let Some((_, step)) = self.next_steps().first() {
            return Err(format!(
                "a trade is still open: its next step is {:?}",
                step.action
            ));
        }
        self.check_finished()
    }

    fn check_finished(&mut self) -> Result<(), String> {
        let escrowed = (
            self.center.state.balance(&ESCROW, &sym("MLK")),
            self.brand.state.balance(&ESCROW, &sym(BRAND_SYMBOL)),
        );
        if escrowed != (Amount::ZERO, Amount::ZERO) {
            return Err(format!(
                "escrow still holds {escrowed:?} with every trade over"
            ));
        }
        let brand = self.brand.id().clone();
        let problems =
            milk_core::exchange::audit::cross_check(&self.center.state, &brand, &self.brand.state);
        if !problems.is_empty() {
            return Err(format!("the chains disagree on trades: {problems:?}"));
        }
        let exchange = self
            .center
            .state
            .exchange()
            .expect("the center chain trades");
        for id in self
            .sales
            .iter()
            .map(|o| o.tx.id())
            .chain(self.purchases.iter().map(|p| p.0))
        {
            if let Some(t) = exchange.trade(&id) {
                let filled = t.status == milk_core::exchange::TradeStatus::Filled;
                if filled {
                    let market = exchange.market(&t.asset).ok_or("a trade without market")?;
                    let mlk_decimals = self.center.state.ledger().decimals(&sym("MLK"));
                    let near = within_bounds(t, &market.market.curve, mlk_decimals);
                    self.report.near_bounds += u64::from(near.map_err(|e| format!("{id}: {e}"))?);
                }
                self.report.trades.0 += u64::from(filled);
                self.report.trades.1 += u64::from(!filled);
            }
        }
        Ok(())
    }

    /// Both chains replay from genesis, block by block, to exactly the state in memory.
    pub fn replay(&self) -> Result<(), String> {
        let g = &self.genesis;
        for chain in [&self.center, &self.brand] {
            let blocks = chain.blocks()?;
            let mut v = milk_core::chain::Verifier::start(g, chain.id(), &blocks[0])
                .map_err(|e| e.to_string())?;
            for b in &blocks[1..] {
                v.apply(b)
                    .map_err(|e| format!("{} block {}: {e}", chain.id(), b.header.height))?;
            }
            if v.state().records() != chain.state.records() {
                return Err(format!("{}: the replayed state differs", chain.id()));
            }
        }
        Ok(())
    }
}
