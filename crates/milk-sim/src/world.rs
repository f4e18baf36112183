//! The actors and what they do: customers pay and gift, link their wallets, sell and buy the
//! cinema's token, check in and burn MLK for LZM, join and leave the MiL.k Pack, share their
//! level and buy offers; the cinema converts mileage (sometimes under a reference it used),
//! takes redemptions and refunds them, publishes offers; TICA opens Pack seasons and pays
//! their weeks, moves the oracle's price, and settles open trades step by step as the
//! node's settlement driver decides (`exchange::driver`), in any order and late. Every few
//! operations each chain seals a block; with faults on, a chain's disk may lose power or
//! fail a write during the commit, a chain's node may stop between blocks, and the clock
//! jumps; the chain restarts from its disk.

use crate::chain::{Sealed, SimChain};
use crate::model::{Mlk, Supply};
use crate::rng::Rng;
use milk_core::block::Block;
use milk_core::exchange::ESCROW;
use milk_core::exchange::driver::{self, Step};
use milk_core::genesis::{DEMO_USERS, Genesis, demo_key};
use milk_core::tx::{Action, BrandAction, ExchangeAction, MembershipAction};
use milk_core::tx::{OrderSize, Transaction, TxId, VerifiedTx};
use milk_core::tx::{SignedTransaction, TokenAction};
use milk_core::{Address, Amount, ChainId, Keypair, Symbol};

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
    /// Committed transactions by kind.
    pub committed: std::collections::BTreeMap<&'static str, u64>,
}

/// The simulated alliance: the center and cinema chains and everyone acting on them.
pub struct World {
    rng: Rng,
    faults: bool,
    now_ms: u64,
    center: SimChain,
    cinema: SimChain,
    users: Vec<Keypair>,
    issuer: Keypair,
    operator: Keypair,
    /// How many transactions each account has waiting per chain (center 0, cinema 1).
    waiting: [std::collections::BTreeMap<Address, u64>; 2],
    /// Conversion references and redemption orders used so far.
    references: Vec<String>,
    orders: Vec<String>,
    /// The last Pack season TICA opened (or asked to).
    season: u32,
    /// Premium offers published (or asked to be).
    offers: Vec<String>,
    /// Every order sent: sales (signed, on the cinema chain) and purchases.
    sales: Vec<SignedTransaction>,
    purchases: Vec<TxId>,
    krw_e4: u64,
    /// The reference model of the cinema token's supply, and of MLK's.
    supply: Supply,
    mlk: Mlk,
    /// LZM's supply, which no transaction changes (it is earned from its pools).
    lzm: Amount,
    /// What happened.
    pub report: Report,
}

/// A fresh name, or one of `used` one time in ten (a partner retrying, or a mistake).
fn name(rng: &mut Rng, used: &[String], prefix: &str) -> String {
    match (rng.below(10), used.is_empty()) {
        (0, false) => used[rng.below(used.len() as u64) as usize].clone(),
        _ => format!("{prefix}-{}", rng.next()),
    }
}

fn sym(s: &str) -> Symbol {
    s.parse().expect("a demo symbol")
}

impl World {
    /// The demo network at genesis, with `customers` more customers holding nothing yet.
    pub fn new(seed: u64, faults: bool, customers: usize) -> Result<World, String> {
        let g = Genesis::demo();
        let producer = demo_key("operator");
        let center = SimChain::open(&g, &ChainId::center(), producer.clone())?;
        let cinema = SimChain::open(&g, &"cinema".parse().unwrap(), producer)?;
        let mut users: Vec<Keypair> = DEMO_USERS.iter().map(|u| demo_key(u)).collect();
        let cine = cinema.state.supply(&sym("CINE")).ok_or("no CINE")?;
        let rate = cinema
            .state
            .brand()
            .ok_or("no brand")?
            .policy()
            .units_per_mileage;
        let mlk = center.state.supply(&sym("MLK")).ok_or("no MLK")?;
        let lzm = center.state.supply(&sym("LZM")).ok_or("no LZM")?;
        let mut rng = Rng::new(seed);
        users.extend((0..customers).map(|_| Keypair::from_secret(rng.bytes32())));
        let mut world = World {
            rng,
            faults,
            now_ms: g.genesis_time_ms + 1_000,
            center,
            cinema,
            users,
            issuer: demo_key("partner:cinema"),
            operator: demo_key("operator"),
            waiting: Default::default(),
            references: Vec::new(),
            orders: Vec::new(),
            offers: Vec::new(),
            season: 0,
            sales: Vec::new(),
            purchases: Vec::new(),
            krw_e4: 10_000_000,
            supply: Supply::new(cine.units(), rate),
            mlk: Mlk(mlk.units()),
            lzm,
            report: Report::default(),
        };
        world.oracle();
        world.seal_all(false)?;
        Ok(world)
    }

    fn chain(&mut self, on_center: bool) -> &mut SimChain {
        if on_center {
            &mut self.center
        } else {
            &mut self.cinema
        }
    }

    /// `action` signed by `key` for the center chain or the cinema's, numbered after what
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
            0..=19 => self.transfer(true),
            20..=29 => self.transfer(false),
            30..=34 => self.link(),
            35..=49 => self.convert(),
            50..=54 => self.redeem(),
            55..=57 => self.refund(),
            58..=67 => self.sell(),
            68..=77 => self.buy(),
            78..=87 => self.settle_one(),
            88 => self.consent(),
            89 => self.offer(),
            90 => self.membership(),
            91 => self.pack(),
            92..=95 => self.oracle(),
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
        let asset = sym(if on_center { "MLK" } else { "CINE" });
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
        let chain = self.cinema.id().clone();
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
        let balance = self.cinema.state.balance(&user.address(), &sym("CINE"));
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
        let balance = self.cinema.state.balance(&user.address(), &sym("CINE"));
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
            asset: sym("CINE"),
            pay: sym("MLK"),
            size: OrderSize::Tokens(tokens),
            max_in,
        });
        if let Some(id) = self.send(true, &user, action) {
            self.purchases.push(id);
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

    /// A customer shares their level with the cinema, or withdraws it.
    fn consent(&mut self) {
        let (user, chain) = (self.user(), self.cinema.id().clone());
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

    /// The cinema publishes a premium offer, or a customer buys one.
    fn offer(&mut self) {
        let chain = self.cinema.id().clone();
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

    /// Time passes: mostly seconds, sometimes days; sometimes the clock jumps back a few
    /// minutes (a node's clock corrected), which blocks never follow below their parent.
    fn pass_time(&mut self) {
        let day = 24 * 3_600_000;
        match self.rng.below(20) {
            0 => self.now_ms += day * (1 + self.rng.below(8)),
            1 => self.now_ms -= self.rng.below(600_000),
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
    /// The next step of every open trade: sales whose tokens are locked, purchases recorded.
    fn next_steps(&self) -> Vec<Step<SignedTransaction>> {
        let (exchange, desk) = (self.center.state.exchange(), self.cinema.state.desk());
        let (Some(exchange), Some(desk)) = (exchange, desk) else {
            return Vec::new();
        };
        let chain = self.cinema.id();
        let sales = self.sales.iter().filter_map(|order| {
            let id = order.tx.id();
            let escrow = desk.escrow(&id)?;
            let sale = driver::Sale { id, chain, order };
            driver::next_for_sale(sale, exchange.trade(&id), Some(escrow))
        });
        let purchases = self.purchases.iter().filter_map(|id| {
            let delivery = desk.delivery(id);
            driver::next_for_purchase(id, exchange.trade(id), chain, delivery.as_ref())
        });
        sales.chain(purchases).collect()
    }

    /// TICA sends the next step of one open trade, chosen at random.
    fn settle_one(&mut self) {
        let steps = self.next_steps();
        if steps.is_empty() {
            return;
        }
        let step = steps[self.rng.below(steps.len() as u64) as usize].clone();
        let operator = self.operator.clone();
        self.send(
            step.chain == ChainId::center(),
            &operator,
            Action::Exchange(step.action),
        );
    }

    /// Seals a block on each chain; with `faults`, a commit may lose power or fail a write.
    pub fn seal_all(&mut self, faults: bool) -> Result<(), String> {
        self.now_ms += 1_000;
        for on_center in [true, false] {
            if faults && self.rng.below(24) == 0 {
                self.inject(on_center);
            }
            let now_ms = self.now_ms;
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
            for tx in committed.iter().flat_map(|b| &b.txs) {
                *self
                    .report
                    .committed
                    .entry(tx.tx.action.kind())
                    .or_default() += 1;
            }
            self.check_block(on_center, committed.as_ref())?;
        }
        self.waiting = Default::default();
        Ok(())
    }

    /// After a block (if one was committed): conservation, and the model's supply.
    fn check_block(&mut self, on_center: bool, block: Option<&Block>) -> Result<(), String> {
        let chain = self.chain(on_center);
        let id = chain.id().clone();
        (chain.state.check_conservation()).map_err(|e| format!("{id}: {e}"))?;
        let (asset, expected) = match (on_center, block) {
            (true, Some(b)) => {
                self.mlk.block(b);
                ("MLK", self.mlk.0)
            }
            (true, None) => ("MLK", self.mlk.0),
            (false, Some(b)) => {
                self.supply.block(b)?;
                ("CINE", self.supply.total())
            }
            (false, None) => ("CINE", self.supply.total()),
        };
        if on_center {
            let lzm = self.center.state.supply(&sym("LZM"));
            if lzm != Some(self.lzm) {
                return Err(format!("LZM supply {lzm:?}, but nothing mints or burns it"));
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
            for step in steps {
                let on_center = step.chain == ChainId::center();
                self.send(on_center, &operator, Action::Exchange(step.action));
            }
            self.seal_all(false)?;
        }
        if let Some(step) = self.next_steps().first() {
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
            self.cinema.state.balance(&ESCROW, &sym("CINE")),
        );
        if escrowed != (Amount::ZERO, Amount::ZERO) {
            return Err(format!(
                "escrow still holds {escrowed:?} with every trade over"
            ));
        }
        let cinema = self.cinema.id().clone();
        let problems = milk_core::exchange::audit::cross_check(
            &self.center.state,
            &cinema,
            &self.cinema.state,
        );
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
            .chain(self.purchases.clone())
        {
            if let Some(t) = exchange.trade(&id) {
                let filled = t.status == milk_core::exchange::TradeStatus::Filled;
                self.report.trades.0 += u64::from(filled);
                self.report.trades.1 += u64::from(!filled);
            }
        }
        Ok(())
    }

    /// Both chains replay from genesis, block by block, to exactly the state in memory.
    pub fn replay(&self) -> Result<(), String> {
        let g = Genesis::demo();
        for chain in [&self.center, &self.cinema] {
            let blocks = chain.blocks()?;
            let mut v = milk_core::chain::Verifier::start(&g, chain.id(), &blocks[0])
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
