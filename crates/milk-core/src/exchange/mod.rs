//! The exchange's records on the center chain: Brand Token markets, MLK's oracle price, and
//! every trade, with the escrow that makes a trade across two chains all-or-nothing.
//!
//! A trade spans the center chain (MLK) and one brand chain (the token), which commit
//! separately. Each direction is three steps, each a transaction recorded under the trade's
//! id (the customer's order transaction), so each is done once whatever is retried:
//!
//! - **Sell**: the customer's `Sell` locks the tokens in escrow on the brand chain →
//!   TICA's `SettleSell` on the center chain prices it and pays from the reserve, or records
//!   why not → TICA's `ReleaseSell` moves the escrow to its inventory, or back.
//! - **Buy**: the customer's `Buy` prices it and locks the MLK in escrow on the center chain
//!   → TICA's `DeliverBuy` on the brand chain delivers from its inventory → TICA's
//!   `CompleteBuy` pays the escrow to the reserve and fee accounts, or back if nothing was
//!   delivered.
//!
//! The escrow account is a public key nobody holds the secret of (a hash made into a
//! curve point), so only these steps move what it holds, and conservation counts it like
//! any balance.

pub mod curve;
pub mod oracle;
pub(crate) mod rules;

pub mod action;
pub mod audit;
pub mod desk;
pub mod driver;
pub mod error;
pub(crate) mod needs;
pub mod settlement;
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::exchange::curve::{Curve, Side};
use crate::hash::TxId;
use crate::{Address, Amount, ChainId, Hash, Symbol};
pub use desk::{Delivery, Desk, Escrow, EscrowStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

/// Record namespaces of the exchange (center chain).
pub mod record {
    /// `MARKET ‖ symbol` → a market.
    pub const MARKET: u8 = 30;
    /// `ORACLE` → MLK's latest price.
    pub const ORACLE: u8 = 31;
    /// `TRADE ‖ trade id` → a trade.
    pub const TRADE: u8 = 32;
    /// `VOLUME ‖ account ‖ day ‖ symbol` → base units traded that UTC day.
    pub const VOLUME: u8 = 33;
    /// `TICK ‖ symbol ‖ 0 ‖ time ‖ trade id` → a filled trade's price and size, for charts.
    pub const TICK: u8 = 34;
    /// `OPEN_BUY ‖ trade id` → empty, while a buy waits for its delivery: what recovery
    /// scans, so its cost follows the open trades, not the history.
    pub const OPEN_BUY: u8 = 35;
    /// `ORACLE_STATE` → the accepted prices of the window and a move waiting to settle.
    pub const ORACLE_STATE: u8 = 36;
    /// `FLOW` → the reserve's MLK paid out and taken in during the current window.
    pub const FLOW: u8 = 37;
    /// `FEE` → the fee in force, once TICA changed it from the genesis's.
    pub const FEE: u8 = 38;
    /// This domain's namespaces.
    pub const NAMESPACES: &[u8] = &[
        MARKET,
        ORACLE,
        TRADE,
        VOLUME,
        TICK,
        OPEN_BUY,
        ORACLE_STATE,
        FLOW,
        FEE,
    ];

    /// The key of a buy's open marker.
    pub fn open_buy(id: &crate::Hash) -> Vec<u8> {
        let mut k = vec![OPEN_BUY];
        k.extend_from_slice(&id.0);
        k
    }

    /// The prefix of a market's ticks.
    pub fn ticks(symbol: &crate::Symbol) -> Vec<u8> {
        let mut k = vec![TICK];
        k.extend_from_slice(symbol.as_str().as_bytes());
        k.push(0);
        k
    }

    /// The key of a trade.
    pub fn trade(id: &crate::Hash) -> Vec<u8> {
        let mut k = vec![TRADE];
        k.extend_from_slice(&id.0);
        k
    }

    /// The key of a market.
    pub fn market(symbol: &crate::Symbol) -> Vec<u8> {
        let mut k = vec![MARKET];
        k.extend_from_slice(symbol.as_str().as_bytes());
        k
    }
}

/// How long after its order expires a sale's escrow may stay locked, and after it is
/// priced a buy may wait for its delivery, before `milk verify` reports it: an hour.
pub const SETTLE_GRACE_MS: u64 = 3_600_000;

/// What a partner signs to agree to its market's new floor: the token, the floor it
/// replaces and the new one (so a signature applies to that one change only).
pub fn floor_message(asset: &Symbol, from_bps: u16, to_bps: u16) -> Hash {
    Hash::domain(
        "milk/floor/v1",
        &[
            asset.as_str().as_bytes(),
            &from_bps.to_be_bytes(),
            &to_bps.to_be_bytes(),
        ],
    )
}

/// The escrow account: a valid public key whose secret nobody knows.
pub static ESCROW: LazyLock<Address> = LazyLock::new(|| Address::unowned("milk/escrow/v1", &[]));

/// How the exchange is set up, in the genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeConfig {
    /// What pays for Brand Tokens: MLK.
    pub currency: Symbol,
    /// TICA's MLK reserve, which pays for what customers sell.
    pub liquidity: Address,
    /// TICA's fee account.
    pub fees: Address,
    /// The key that signs MLK's oracle prices.
    pub oracle: Address,
    /// The fee, basis points of each trade's value.
    pub fee_bps: u16,
    /// How old MLK's price may be for a trade, ms, from the sources' quote times; older
    /// halts trading.
    pub oracle_max_age_ms: u64,
    /// How far a reported price may be from the last accepted one, basis points; further
    /// halts trading until it settles or TICA confirms it.
    #[serde(default = "defaults::band_bps")]
    pub oracle_band_bps: u16,
    /// How long reports must agree on a new level before trading resumes at it, ms.
    #[serde(default = "defaults::settle_ms")]
    pub oracle_settle_ms: u64,
    /// The window over which trades are priced against the customer, ms.
    #[serde(default = "defaults::window_ms")]
    pub oracle_window_ms: u64,
    /// The window over which the reserve's net MLK outflow is capped, ms.
    #[serde(default = "defaults::outflow_window_ms")]
    pub outflow_window_ms: u64,
    /// The most MLK the reserve may pay out, net of what it takes in, per window (base
    /// units); sales pause above it until the next window.
    #[serde(default = "defaults::max_outflow")]
    pub max_outflow: Amount,
    /// The markets open at genesis.
    #[serde(default)]
    pub markets: Vec<MarketSpec>,
}

/// The oracle's and the reserve's limits where a genesis file does not give them.
pub mod defaults {
    use crate::Amount;

    /// 2 %: less than a round trip's fees (twice 1.5 %).
    pub fn band_bps() -> u16 {
        200
    }

    /// A minute.
    pub fn settle_ms() -> u64 {
        60_000
    }

    /// Five minutes.
    pub fn window_ms() -> u64 {
        300_000
    }

    /// An hour.
    pub fn outflow_window_ms() -> u64 {
        3_600_000
    }

    /// 10,000,000 MLK (8 decimals).
    pub fn max_outflow() -> Amount {
        Amount::new(10_000_000 * 100_000_000)
    }
}

impl ExchangeConfig {
    /// The oracle's rules.
    pub fn oracle_rules(&self) -> oracle::OracleRules {
        oracle::OracleRules {
            band_bps: self.oracle_band_bps,
            settle_ms: self.oracle_settle_ms,
            window_ms: self.oracle_window_ms,
            max_age_ms: self.oracle_max_age_ms,
        }
    }
}

/// The reserve's MLK flows in the current outflow window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    /// The window's number (block time over the window's length).
    pub window: u64,
    /// Paid to sellers (gross), base units.
    pub out: u128,
    /// Taken from buyers (gross), base units.
    pub inflow: u128,
}

impl Encode for Flow {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.window).u128(self.out).u128(self.inflow);
    }
}

impl Decode for Flow {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Flow {
            window: r.u64()?,
            out: r.u128()?,
            inflow: r.u128()?,
        })
    }
}

impl Flow {
    /// This flow as of window `window`: a new window starts from nothing.
    pub fn at(self, window: u64) -> Flow {
        if self.window == window {
            self
        } else {
            Flow {
                window,
                ..Flow::default()
            }
        }
    }

    /// What the reserve paid out beyond what it took in.
    pub fn net_out(&self) -> u128 {
        self.out.saturating_sub(self.inflow)
    }
}

/// A market as the genesis opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketSpec {
    /// The Brand Token.
    pub asset: Symbol,
    /// The curve's capacity K, base units.
    pub capacity: Amount,
    /// TICA's starting position on it, base units.
    pub position: Amount,
    /// The largest order, base units.
    pub max_order: Amount,
    /// What one customer may trade in a UTC day, base units.
    pub user_daily_limit: Amount,
}

/// One Brand Token's market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    /// The curve and TICA's position on it.
    pub curve: Curve,
    /// The largest order, base units.
    pub max_order: u128,
    /// What one customer may trade in a UTC day, base units.
    pub user_daily_limit: u128,
    /// TICA's stock: the tokens in its brand-chain inventory that no priced buy has
    /// claimed, as the center chain accounts them, base units. The curve's position never
    /// exceeds it, so every buy the curve prices can be delivered.
    pub stock: u128,
    /// Tokens of priced buys not yet delivered or voided, base units. A sale leaves them
    /// room on the curve, so voiding a buy puts the position back exactly; the depth does
    /// not change while any wait.
    pub awaiting: u128,
    /// Halted by TICA: no buys, sales refused and given back.
    pub halted: bool,
    /// The block (its time) of the last trade, and the tokens bought and sold in it: each
    /// direction takes at most the largest order per block, so several victims in one block
    /// move the price no more than one.
    pub block: (u64, u128, u128),
}

/// A market and the brand chain its token lives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketEntry {
    /// The brand chain.
    pub chain: ChainId,
    /// The market.
    pub market: Market,
}

impl Encode for MarketEntry {
    fn encode(&self, w: &mut Writer) {
        let c = &self.market.curve;
        w.put(&self.chain)
            .u64(c.redemption_value_krw)
            .u8(c.decimals)
            .u32(u32::from(c.min_bps))
            .u32(u32::from(c.max_bps))
            .u128(c.capacity)
            .u128(c.position)
            .u128(self.market.max_order)
            .u128(self.market.user_daily_limit)
            .u128(self.market.stock)
            .u128(self.market.awaiting)
            .u8(u8::from(self.market.halted))
            .u64(self.market.block.0)
            .u128(self.market.block.1)
            .u128(self.market.block.2);
    }
}

impl Decode for MarketEntry {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let chain = r.get()?;
        let redemption_value_krw = r.u64()?;
        let decimals = r.u8()?;
        let mut bps = |what| {
            u16::try_from(r.u32()?).map_err(|_| DecodeError::Invalid {
                what,
                reason: "out of range".into(),
            })
        };
        let (min_bps, max_bps) = (bps("market floor")?, bps("market maximum")?);
        Ok(MarketEntry {
            chain,
            market: Market {
                curve: Curve {
                    redemption_value_krw,
                    decimals,
                    min_bps,
                    max_bps,
                    capacity: r.u128()?,
                    position: r.u128()?,
                },
                max_order: r.u128()?,
                user_daily_limit: r.u128()?,
                stock: r.u128()?,
                awaiting: r.u128()?,
                halted: crate::codec::flag(r, "halted")?,
                block: (r.u64()?, r.u128()?, r.u128()?),
            },
        })
    }
}

/// MLK's price, as the oracle last signed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleRecord {
    /// KRW per whole MLK, times 10⁴.
    pub krw_e4: u64,
    /// When the sources quoted it.
    pub observed_at_ms: u64,
}

/// Where a trade stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "code")]
pub enum TradeStatus {
    /// A buy whose MLK is in escrow, waiting for its delivery.
    Pending,
    /// Done: both legs moved.
    Filled,
    /// A buy whose tokens could not be delivered: the MLK went back.
    Refunded,
    /// A sale the center chain did not fill, with the reason's code; the tokens go back.
    Refused(String),
}

/// One trade, under the id of the customer's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    /// The customer.
    pub user: Address,
    /// The Brand Token.
    pub asset: Symbol,
    /// Which way.
    pub side: Side,
    /// Tokens, base units.
    pub tokens: u128,
    /// The tokens' value at the curve, MLK base units.
    pub gross: u128,
    /// TICA's fee, MLK base units.
    pub fee: u128,
    /// What the customer paid or got, MLK base units.
    pub total: u128,
    /// MLK's price used (KRW per whole MLK × 10⁴).
    pub mlk_krw_e4: u64,
    /// When it was priced (block time).
    pub time_ms: u64,
    /// Where it stands.
    pub status: TradeStatus,
}

impl Encode for Trade {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.user)
            .put(&self.asset)
            .u8(match self.side {
                Side::Buy => 0,
                Side::Sell => 1,
            })
            .u128(self.tokens)
            .u128(self.gross)
            .u128(self.fee)
            .u128(self.total)
            .u64(self.mlk_krw_e4)
            .u64(self.time_ms);
        match &self.status {
            TradeStatus::Pending => w.u8(0),
            TradeStatus::Filled => w.u8(1),
            TradeStatus::Refunded => w.u8(2),
            TradeStatus::Refused(code) => w.u8(3).str(code),
        };
    }
}

impl Decode for Trade {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let user = r.get()?;
        let asset = r.get()?;
        let side = match r.u8()? {
            0 => Side::Buy,
            1 => Side::Sell,
            tag => return Err(DecodeError::UnknownTag { what: "side", tag }),
        };
        let (tokens, gross, fee, total) = (r.u128()?, r.u128()?, r.u128()?, r.u128()?);
        let (mlk_krw_e4, time_ms) = (r.u64()?, r.u64()?);
        let status = match r.u8()? {
            0 => TradeStatus::Pending,
            1 => TradeStatus::Filled,
            2 => TradeStatus::Refunded,
            3 => TradeStatus::Refused(r.str("refusal code", 64)?.to_owned()),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "trade status",
                    tag,
                });
            }
        };
        Ok(Trade {
            user,
            asset,
            side,
            tokens,
            gross,
            fee,
            total,
            mlk_krw_e4,
            time_ms,
            status,
        })
    }
}

impl Trade {
    /// The price paid per whole token, KRW × 10⁴ (gross value over size), rounded down.
    pub fn price_krw_e4(&self, token_decimals: u8, mlk_decimals: u8) -> u128 {
        use ethnum::U256;
        if self.tokens == 0 {
            return 0;
        }
        let ten = |n: u8| U256::from(10u8).pow(u32::from(n));
        let v = U256::from(self.gross) * U256::from(self.mlk_krw_e4) * ten(token_decimals)
            / (U256::from(self.tokens) * ten(mlk_decimals));
        u128::try_from(v).unwrap_or(u128::MAX)
    }
}

/// A changed exchange record.
#[derive(Debug, Clone)]
pub(crate) enum ExchangeWrite {
    Oracle(OracleRecord),
    OracleState(oracle::OracleState),
    Flow(Flow),
    Fee(u16),
    Market(Symbol, MarketEntry),
    Trade(TxId, Trade),
    Volume(Address, u64, Symbol, u128),
    /// A filled trade's price point: `(symbol, time, trade, price KRW e4, tokens)`.
    Tick(Symbol, u64, TxId, u128, u128),
}

/// The exchange's state on the center chain.
#[derive(Debug, Clone)]
pub struct Exchange {
    config: ExchangeConfig,
    markets: BTreeMap<Symbol, MarketEntry>,
    oracle: Option<OracleRecord>,
    oracle_state: oracle::OracleState,
    flow: Flow,
    fee_bps: Option<u16>,
    trades: HashMap<TxId, Trade>,
    volume: HashMap<(Address, u64, Symbol), u128>,
    ticks: BTreeMap<Vec<u8>, Vec<u8>>,
    touched: Vec<Vec<u8>>,
}

impl Exchange {
    /// The exchange as configured, with the markets given (built from the genesis).
    pub fn new(config: ExchangeConfig, markets: BTreeMap<Symbol, MarketEntry>) -> Exchange {
        let touched = markets.keys().map(record::market).collect();
        Exchange {
            config,
            markets,
            oracle: None,
            oracle_state: oracle::OracleState::default(),
            flow: Flow::default(),
            fee_bps: None,
            trades: HashMap::new(),
            volume: HashMap::new(),
            ticks: BTreeMap::new(),
            touched,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ExchangeConfig {
        &self.config
    }

    /// A market by its token.
    pub fn market(&self, asset: &Symbol) -> Option<&MarketEntry> {
        self.markets.get(asset)
    }

    /// Every market.
    pub fn markets(&self) -> impl Iterator<Item = (&Symbol, &MarketEntry)> {
        self.markets.iter()
    }

    /// The market of a brand chain.
    pub fn market_of_chain(&self, chain: &ChainId) -> Option<(&Symbol, &MarketEntry)> {
        self.markets.iter().find(|(_, m)| &m.chain == chain)
    }

    /// MLK's latest oracle price.
    pub fn oracle(&self) -> Option<OracleRecord> {
        self.oracle
    }

    /// The accepted prices of the window, and a move waiting to settle.
    pub fn oracle_state(&self) -> &oracle::OracleState {
        &self.oracle_state
    }

    /// The reserve's flows in the last outflow window that saw a trade.
    pub fn flow(&self) -> Flow {
        self.flow
    }

    /// The fee in force, basis points: the genesis's until TICA changes it.
    pub fn fee_bps(&self) -> u16 {
        self.fee_bps.unwrap_or(self.config.fee_bps)
    }

    /// How many buys of `asset` wait for their delivery.
    pub fn open_buys(&self, asset: &Symbol) -> usize {
        let open = |t: &&Trade| t.asset == *asset && t.status == TradeStatus::Pending;
        self.trades.values().filter(open).count()
    }

    /// A trade by its id.
    pub fn trade(&self, id: &TxId) -> Option<&Trade> {
        self.trades.get(id)
    }

    /// Base units `account` traded in `asset` on the UTC day `day`.
    pub fn volume(&self, account: &Address, day: u64, asset: &Symbol) -> u128 {
        self.volume
            .get(&(*account, day, *asset))
            .copied()
            .unwrap_or(0)
    }

    fn volume_key(account: &Address, day: u64, asset: &Symbol) -> Vec<u8> {
        let mut k = vec![record::VOLUME];
        k.extend_from_slice(account.as_bytes());
        k.extend_from_slice(&day.to_be_bytes());
        k.extend_from_slice(asset.as_str().as_bytes());
        k
    }

    fn tick_key(asset: &Symbol, time_ms: u64, trade: &TxId) -> Vec<u8> {
        let mut k = record::ticks(asset);
        k.extend_from_slice(&time_ms.to_be_bytes());
        k.extend_from_slice(&trade.0);
        k
    }

    pub(crate) fn write(&mut self, w: ExchangeWrite) {
        match w {
            ExchangeWrite::Oracle(o) => {
                self.oracle = Some(o);
                self.touched.push(vec![record::ORACLE]);
            }
            ExchangeWrite::OracleState(o) => {
                self.oracle_state = o;
                self.touched.push(vec![record::ORACLE_STATE]);
            }
            ExchangeWrite::Flow(f) => {
                self.flow = f;
                self.touched.push(vec![record::FLOW]);
            }
            ExchangeWrite::Fee(bps) => {
                self.fee_bps = Some(bps);
                self.touched.push(vec![record::FEE]);
            }
            ExchangeWrite::Market(s, m) => {
                self.touched.push(record::market(&s));
                self.markets.insert(s, m);
            }
            ExchangeWrite::Trade(id, t) => {
                self.touched.push(record::trade(&id));
                if t.side == Side::Buy {
                    self.touched.push(record::open_buy(&id));
                }
                self.trades.insert(id, t);
            }
            ExchangeWrite::Volume(a, day, s, v) => {
                self.touched.push(Self::volume_key(&a, day, &s));
                self.volume.insert((a, day, s), v);
            }
            ExchangeWrite::Tick(s, time, id, price, tokens) => {
                let key = Self::tick_key(&s, time, &id);
                let mut v = Writer::new();
                v.u128(price).u128(tokens);
                self.ticks.insert(key.clone(), v.into_bytes());
                self.touched.push(key);
            }
        }
    }

    fn value(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (ns, rest) = key.split_first()?;
        match *ns {
            record::ORACLE => self.oracle.map(|o| {
                let mut w = Writer::new();
                w.u64(o.krw_e4).u64(o.observed_at_ms);
                w.into_bytes()
            }),
            record::ORACLE_STATE => Some(self.oracle_state.to_bytes()),
            record::FLOW => Some(self.flow.to_bytes()),
            record::FEE => self.fee_bps.map(|f| f.to_be_bytes().to_vec()),
            record::MARKET => {
                let s: Symbol = std::str::from_utf8(rest).ok()?.parse().ok()?;
                self.markets.get(&s).map(Encode::to_bytes)
            }
            record::TRADE => self
                .trades
                .get(&Hash(rest.try_into().ok()?))
                .map(Encode::to_bytes),
            record::VOLUME => {
                let a = Address::from_stored(rest.get(..32)?.try_into().ok()?);
                let day = u64::from_be_bytes(rest.get(32..40)?.try_into().ok()?);
                let s: Symbol = std::str::from_utf8(rest.get(40..)?).ok()?.parse().ok()?;
                Some(self.volume(&a, day, &s).to_be_bytes().to_vec())
            }
            record::TICK => self.ticks.get(key).cloned(),
            record::OPEN_BUY => self
                .trades
                .get(&Hash(rest.try_into().ok()?))
                .filter(|t| t.status == TradeStatus::Pending)
                .map(|_| Vec::new()),
            _ => None,
        }
    }
}

/// Decodes a tick record's value: `(price KRW e4 per whole token, tokens)`.
pub fn tick_value(value: &[u8]) -> Option<(u128, u128)> {
    let price = u128::from_be_bytes(value.get(..16)?.try_into().ok()?);
    let tokens = u128::from_be_bytes(value.get(16..32)?.try_into().ok()?);
    Some((price, tokens))
}

/// Decodes a tick record's key after its market prefix: `(time ms, trade id)`.
pub fn tick_key(rest: &[u8]) -> Option<(u64, TxId)> {
    let time = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    let id: [u8; 32] = rest.get(8..40)?.try_into().ok()?;
    Some((time, Hash(id)))
}

impl crate::ledger::DomainRecords for Exchange {
    fn namespaces(&self) -> &'static [u8] {
        record::NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let touched = std::mem::take(&mut self.touched);
        crate::ledger::touched_records(touched, |k| self.value(k))
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut keys: Vec<Vec<u8>> = self.markets.keys().map(record::market).collect();
        if self.oracle.is_some() {
            keys.push(vec![record::ORACLE]);
        }
        if self.oracle_state != oracle::OracleState::default() {
            keys.push(vec![record::ORACLE_STATE]);
        }
        if self.flow != Flow::default() {
            keys.push(vec![record::FLOW]);
        }
        if self.fee_bps.is_some() {
            keys.push(vec![record::FEE]);
        }
        keys.extend(self.trades.keys().map(record::trade));
        keys.extend(
            self.trades
                .iter()
                .filter(|(_, t)| t.status == TradeStatus::Pending)
                .map(|(id, _)| record::open_buy(id)),
        );
        keys.extend(
            self.volume
                .keys()
                .map(|(a, d, s)| Self::volume_key(a, *d, s)),
        );
        keys.extend(self.ticks.keys().cloned());
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
        match *ns {
            record::ORACLE => {
                let mut r = Reader::new(value);
                (|| -> Result<(), DecodeError> {
                    let o = OracleRecord {
                        krw_e4: r.u64()?,
                        observed_at_ms: r.u64()?,
                    };
                    self.oracle = Some(o);
                    Ok(())
                })()
                .is_ok()
            }
            record::ORACLE_STATE => match oracle::OracleState::from_bytes(value) {
                Ok(o) => {
                    self.oracle_state = o;
                    true
                }
                Err(_) => false,
            },
            record::FLOW => Flow::from_bytes(value).map(|f| self.flow = f).is_ok(),
            record::FEE => match <[u8; 2]>::try_from(value) {
                Ok(b) => {
                    self.fee_bps = Some(u16::from_be_bytes(b));
                    true
                }
                Err(_) => false,
            },
            record::MARKET => {
                let s = std::str::from_utf8(rest)
                    .ok()
                    .and_then(|s| s.parse::<Symbol>().ok());
                match (s, MarketEntry::from_bytes(value)) {
                    (Some(s), Ok(m)) => {
                        self.markets.insert(s, m);
                        true
                    }
                    _ => false,
                }
            }
            record::TRADE => match (<[u8; 32]>::try_from(rest), Trade::from_bytes(value)) {
                (Ok(id), Ok(t)) => {
                    self.trades.insert(Hash(id), t);
                    true
                }
                _ => false,
            },
            record::VOLUME => {
                let parsed = (|| {
                    let a = Address::from_bytes(rest.get(..32)?.try_into().ok()?).ok()?;
                    let day = u64::from_be_bytes(rest.get(32..40)?.try_into().ok()?);
                    let s: Symbol = std::str::from_utf8(rest.get(40..)?).ok()?.parse().ok()?;
                    let v = u128::from_be_bytes(value.try_into().ok()?);
                    Some((a, day, s, v))
                })();
                match parsed {
                    Some((a, day, s, v)) => {
                        self.volume.insert((a, day, s), v);
                        true
                    }
                    None => false,
                }
            }
            // Derived from the trade itself; only its shape is checked.
            record::OPEN_BUY => rest.len() == 32 && value.is_empty(),
            record::TICK if value.len() == 32 => {
                self.ticks.insert(key.to_vec(), value.to_vec());
                true
            }
            _ => false,
        }
    }
}

/// A filled trade: the event the exchange raises, which membership (LZM) and tokenomics
/// (volume, the trade reward) answer.
#[derive(Debug, Clone)]
pub(crate) struct Fill {
    /// The trade's id.
    pub(crate) trade: Hash,
    /// The customer.
    pub(crate) user: Address,
    /// The partner's brand chain.
    pub(crate) chain: Option<ChainId>,
    /// MLK before the fee, base units.
    pub(crate) gross: u128,
    /// The MLK price it used, KRW × 10⁴.
    pub(crate) mlk_krw_e4: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escrow_is_a_valid_key_and_always_the_same() {
        let a = *ESCROW;
        assert_eq!(Address::from_bytes(*a.as_bytes()), Ok(a));
        assert_eq!(a.to_string(), ESCROW.to_string());
    }

    #[test]
    fn trades_round_trip_and_refuse_bad_tags() {
        let t = Trade {
            user: crate::Keypair::from_label("u").address(),
            asset: "SKY".parse().unwrap(),
            side: Side::Sell,
            tokens: 5,
            gross: 7,
            fee: 1,
            total: 6,
            mlk_krw_e4: 10_000,
            time_ms: 3,
            status: TradeStatus::Refused("limit_missed".into()),
        };
        let bytes = t.to_bytes();
        assert_eq!(Trade::from_bytes(&bytes), Ok(t.clone()));
        let pending = Trade {
            status: TradeStatus::Pending,
            ..t
        };
        let mut bad = pending.to_bytes();
        *bad.last_mut().unwrap() = 9; // the status tag
        assert!(Trade::from_bytes(&bad).is_err());
    }
}
