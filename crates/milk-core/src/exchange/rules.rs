//! The exchange's rules: checking each exchange action against the state, and applying the
//! balance moves and records it makes. See [`crate::exchange`] for the two-chain protocol.

use super::needs::{BrandWrite, ExchangeNeeds, Lots, Standing};
use crate::amount::Whole;
use crate::error::TxError;
use crate::error::{BrandError, ExchangeError, LedgerError};
use crate::exchange::Fill;
use crate::exchange::curve::{Curve, MarketError, MlkPrice, Side};
use crate::exchange::desk::{Delivery, Desk, DeskWrite, Escrow, EscrowStatus};
use crate::exchange::oracle::Unpriced;
use crate::exchange::settlement::MAX_SETTLEMENT_STEPS;
use crate::exchange::{ESCROW, Exchange, ExchangeWrite, MarketEntry, Trade, TradeStatus};
use crate::keys;
use crate::state::{ChainState, Change, Event};
use crate::tx::{Action, ExchangeAction, OrderSize, SignedTransaction, Transaction, TxId};
use crate::{Address, Amount, ChainId, Symbol};

/// How far ahead of block time an oracle observation may be, ms (clock skew).
const ORACLE_SKEW_MS: u64 = 5_000;

/// The tokens a signed `Sell` offers (none for any other action).
fn order_amount(order: &SignedTransaction) -> u128 {
    match &order.tx.action {
        Action::Exchange(ExchangeAction::Sell { amount, .. }) => amount.units(),
        _ => 0,
    }
}

fn market_error(e: MarketError, decimals: u8) -> TxError {
    match e {
        MarketError::ZeroSize => TxError::Ledger(LedgerError::ZeroAmount),
        MarketError::BoundReached { largest } => {
            let largest = Whole::new(largest, decimals);
            TxError::Exchange(ExchangeError::BoundReached { largest })
        }
        MarketError::TooSmall => TxError::Exchange(ExchangeError::OrderTooSmall),
        MarketError::DepthWouldMovePrice { step, .. } => {
            TxError::Exchange(ExchangeError::DepthWouldMovePrice { step })
        }
        MarketError::TooLarge => {
            TxError::Exchange(ExchangeError::InvalidMarket("amounts too large".into()))
        }
        MarketError::InvalidCurve(why) => {
            TxError::Exchange(ExchangeError::InvalidMarket(why.into()))
        }
    }
}

/// A priced trade and the market after it.
struct Priced {
    fill: crate::exchange::curve::Fill,
    market: MarketEntry,
    mlk_krw_e4: u64,
    /// MLK's decimals, to quote amounts in whole MLK.
    mlk_decimals: u8,
    day_volume: u128,
}

impl ChainState {
    /// The exchange, or `no_exchange` on a chain without it.
    fn exchange_state(&self) -> Result<&Exchange, TxError> {
        (self.exchange.as_ref()).ok_or(TxError::Exchange(ExchangeError::NoExchange))
    }

    /// Raises the event of a filled trade, for the domains that reward it.
    fn fill(
        &self,
        change: &mut Change,
        trade: crate::Hash,
        user: Address,
        asset: &Symbol,
        gross: u128,
        mlk_krw_e4: u64,
    ) {
        let market = self.exchange.as_ref().and_then(|e| e.market(asset));
        change.events.push(Event::Fill(Fill {
            trade,
            user,
            chain: market.map(|m| m.chain.clone()),
            gross,
            mlk_krw_e4,
        }));
    }

    /// The exchange's records on this brand chain, or `not_brand_chain`.
    fn desk_or_err(&self) -> Result<&Desk, TxError> {
        (self.desk.as_ref()).ok_or(TxError::Brand(BrandError::NotBrandChain))
    }

    /// This brand chain's token, or `not_brand_chain`.
    fn traded_token(&self) -> Result<Symbol, TxError> {
        (self.brand_token()).ok_or(TxError::Brand(BrandError::NotBrandChain))
    }

    /// Prices an order in a market at block time `now_ms`, checking every trading rule.
    fn price(
        &self,
        user: &Address,
        asset: &Symbol,
        side: Side,
        size: OrderSize,
        now_ms: u64,
    ) -> Result<Priced, TxError> {
        let exchange = self.exchange_state()?;
        let entry =
            exchange
                .market(asset)
                .ok_or(TxError::Exchange(ExchangeError::UnknownMarket {
                    asset: *asset,
                }))?;
        self.check_standing(&entry.chain, side, now_ms)?;
        if entry.market.halted {
            return Err(TxError::Exchange(ExchangeError::MarketHalted));
        }
        let rules = exchange.config().oracle_rules();
        let krw_e4 = (exchange.oracle_state())
            .price_for(&rules, side, now_ms)
            .map_err(|why| {
                TxError::Exchange(match why {
                    Unpriced::Missing => ExchangeError::OracleMissing,
                    Unpriced::Stale(age_ms, max_ms) => {
                        ExchangeError::OracleStale { age_ms, max_ms }
                    }
                    Unpriced::Unsettled(level) => ExchangeError::OracleUnsettled { level },
                })
            })?;
        let currency = self.currency()?;
        let mlk = MlkPrice {
            krw_e4,
            decimals: currency.1,
        };
        let fee = exchange.fee_bps();
        let curve = entry.market.curve;
        let fill = match size {
            OrderSize::Tokens(a) => curve.quote(side, a.units(), mlk, fee),
            OrderSize::Mlk(a) => curve.quote_mlk(side, a.units(), mlk, fee),
        }
        .map_err(|e| market_error(e, curve.decimals))?;
        let tokens = |units| Whole::new(units, curve.decimals);
        if fill.bt > entry.market.max_order {
            return Err(TxError::Exchange(ExchangeError::OrderTooLarge {
                max: tokens(entry.market.max_order),
            }));
        }
        let market = Self::market_after(entry, &fill, now_ms)?;
        let used = exchange.volume(user, now_ms / crate::ledger::DAY_MS, asset);
        let day_volume = used.saturating_add(fill.bt);
        if day_volume > entry.market.user_daily_limit {
            return Err(TxError::Exchange(ExchangeError::DailyVolume {
                limit: tokens(entry.market.user_daily_limit),
                used: tokens(used),
            }));
        }
        Ok(Priced {
            fill,
            market,
            mlk_krw_e4: krw_e4,
            mlk_decimals: currency.1,
            day_volume,
        })
    }

    /// The market after a fill: a buy claims TICA's stock and awaits its delivery; a sale
    /// adds to the stock, and may not take the curve's room that a buy awaiting delivery
    /// would need if it were voided.
    fn market_after(
        entry: &MarketEntry,
        fill: &crate::exchange::curve::Fill,
        now_ms: u64,
    ) -> Result<MarketEntry, TxError> {
        let mut after = entry.clone();
        let m = &mut after.market;
        if m.block.0 != now_ms {
            m.block = (now_ms, 0, 0);
        }
        let traded = match fill.side {
            Side::Buy => &mut m.block.1,
            Side::Sell => &mut m.block.2,
        };
        let room = m.max_order.saturating_sub(*traded);
        if fill.bt > room {
            return Err(TxError::Exchange(ExchangeError::BlockFull {
                largest: room,
            }));
        }
        *traded += fill.bt;
        match fill.side {
            Side::Buy => {
                m.stock = m.stock.checked_sub(fill.bt).ok_or_else(|| {
                    TxError::Exchange(ExchangeError::InvalidMarket(
                        "TICA's stock is below its position".into(),
                    ))
                })?;
                m.awaiting = m.awaiting.saturating_add(fill.bt);
            }
            Side::Sell => {
                let room = m.curve.capacity - m.curve.position.min(m.curve.capacity);
                if fill.bt.saturating_add(m.awaiting) > room {
                    let largest = Whole::new(room.saturating_sub(m.awaiting), m.curve.decimals);
                    return Err(TxError::Exchange(ExchangeError::BoundReached { largest }));
                }
                m.stock = m.stock.saturating_add(fill.bt);
            }
        }
        m.curve.position = fill.position_after;
        Ok(after)
    }

    /// Whether the market of `chain`'s token trades `side` at block time `now_ms`, given
    /// where its partner stands: a leaving partner's customers may sell until its final date.
    fn check_standing(&self, chain: &ChainId, side: Side, now_ms: u64) -> Result<(), TxError> {
        let refused = match self.partner_standing(chain) {
            Standing::Open => return Ok(()),
            Standing::WindingDown(final_ms) if now_ms < final_ms => match side {
                Side::Sell => return Ok(()),
                Side::Buy => ExchangeError::MarketWindingDown { final_ms },
            },
            Standing::Suspended => ExchangeError::PartnerSuspended,
            Standing::WindingDown(_) | Standing::Closed => ExchangeError::MarketClosed,
        };
        Err(TxError::Exchange(refused))
    }

    /// TICA's inventory on a brand chain is the stock the center chain prices from: its
    /// tokens leave only as the delivery of a priced buy, whoever signs, or burned when its
    /// partner's exit finishes.
    pub(crate) fn check_inventory_spends(
        &self,
        action: &Action,
        postings: &crate::ledger::Postings,
    ) -> Result<(), TxError> {
        let Some(inventory) = self.inventory else {
            return Ok(());
        };
        if matches!(
            action,
            Action::Exchange(ExchangeAction::DeliverBuy { .. })
                | Action::Brand(crate::tx::BrandAction::SetExit { closed: true, .. })
        ) {
            return Ok(());
        }
        let moved = postings.moves.iter().map(|m| (m.0, m.3));
        let burned = postings.burns.iter().map(|b| (b.0, b.2));
        if moved
            .chain(burned)
            .any(|(from, amount)| from == inventory && !amount.is_zero())
        {
            return Err(TxError::Exchange(ExchangeError::InventoryReserved));
        }
        Ok(())
    }

    /// The reserve's flows in the outflow window of block time `now_ms`.
    fn flow_now(&self, now_ms: u64) -> Result<crate::exchange::Flow, TxError> {
        let exchange = self.exchange_state()?;
        let window = now_ms / exchange.config().outflow_window_ms.max(1);
        Ok(exchange.flow().at(window))
    }

    /// The exchange's currency and its decimals.
    pub(crate) fn currency(&self) -> Result<(Symbol, u8), TxError> {
        let exchange = self.exchange_state()?;
        let symbol = exchange.config().currency;
        let spec = self
            .asset(&symbol)
            .ok_or(TxError::Ledger(LedgerError::UnknownAsset { asset: symbol }))?;
        Ok((symbol, spec.decimals))
    }

    /// The records a filled or priced trade writes.
    fn trade_writes(
        &self,
        id: crate::Hash,
        user: &Address,
        asset: &Symbol,
        p: &Priced,
        now_ms: u64,
        status: TradeStatus,
    ) -> Vec<ExchangeWrite> {
        let trade = Trade {
            user: *user,
            asset: *asset,
            side: p.fill.side,
            tokens: p.fill.bt,
            gross: p.fill.gross,
            fee: p.fill.fee,
            total: p.fill.total,
            mlk_krw_e4: p.mlk_krw_e4,
            time_ms: now_ms,
            status,
        };
        let mut w = vec![
            ExchangeWrite::Market(*asset, p.market.clone()),
            ExchangeWrite::Volume(*user, now_ms / crate::ledger::DAY_MS, *asset, p.day_volume),
        ];
        if trade.status == TradeStatus::Filled {
            w.push(self.tick(id, &trade));
        }
        w.push(ExchangeWrite::Trade(id, trade));
        w
    }

    fn tick(&self, id: crate::Hash, trade: &Trade) -> ExchangeWrite {
        let decimals = self
            .exchange
            .as_ref()
            .and_then(|e| e.market(&trade.asset))
            .map_or(0, |m| m.market.curve.decimals);
        let mlk_decimals = self.currency().map_or(0, |c| c.1);
        ExchangeWrite::Tick(
            trade.asset,
            trade.time_ms,
            id,
            trade.price_krw_e4(decimals, mlk_decimals),
            trade.tokens,
        )
    }

    /// Checks an exchange action at block time `now_ms` and works out what it changes.
    pub(crate) fn check_exchange(
        &self,
        tx: &Transaction,
        action: &ExchangeAction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        match action {
            ExchangeAction::OraclePrice {
                krw_e4,
                observed_at_ms,
            } => self.oracle_price(tx, krw_e4, observed_at_ms, now_ms),
            ExchangeAction::ConfirmPrice { krw_e4 } => self.confirm_price(tx, krw_e4),
            ExchangeAction::HaltMarket { asset, halted } => self.halt_market(tx, asset, *halted),
            ExchangeAction::SetFee { fee_bps } => self.set_fee(tx, *fee_bps),
            ExchangeAction::SetMaxPrice { asset, max_bps } => {
                self.set_max_price(tx, asset, *max_bps)
            }
            ExchangeAction::SetFloor {
                asset,
                min_bps,
                partner_signature,
            } => self.set_floor(tx, asset, *min_bps, partner_signature),
            ExchangeAction::SetMarket {
                asset,
                capacity,
                position,
                max_order,
                user_daily_limit,
            } => self.set_market(tx, asset, capacity, position, max_order, user_daily_limit),
            ExchangeAction::Buy {
                asset,
                pay,
                size,
                max_in,
            } => self.buy(tx, asset, pay, size, max_in, now_ms),
            ExchangeAction::CompleteBuy { trade, delivered } => {
                self.complete_buy(tx, trade, delivered, now_ms)
            }
            ExchangeAction::SettleSell { order } => self.settle_sell(tx, order, now_ms),
            ExchangeAction::Sell { amount, min_out } => self.sell(tx, amount, min_out, now_ms),
            ExchangeAction::ReleaseSell { trade, filled } => self.release_sell(tx, trade, filled),
            ExchangeAction::DeliverBuy { trade, to, amount } => {
                self.deliver_buy(tx, trade, to, amount, now_ms)
            }
            ExchangeAction::SettleBatch { steps } => self.settle_batch(tx, steps),
        }
    }

    /// `SettleBatch`, as a whole: TICA's, of 1 to [`MAX_SETTLEMENT_STEPS`] steps. It
    /// changes nothing itself; applying it checks and writes each step on its own
    /// (`ChainState::apply_steps`), so this is all a batch can be refused for.
    fn settle_batch(&self, tx: &Transaction, steps: &[ExchangeAction]) -> Result<Change, TxError> {
        self.operator_only(tx)?;
        if steps.is_empty() || steps.len() > MAX_SETTLEMENT_STEPS {
            return Err(TxError::Exchange(ExchangeError::BatchSize {
                max: MAX_SETTLEMENT_STEPS,
            }));
        }
        if !steps.iter().all(ExchangeAction::is_step) {
            return Err(TxError::Exchange(ExchangeError::NotAStep));
        }
        Ok(Change::default())
    }

    /// `OraclePrice`: MLK's price in KRW, as the oracle observed it (center chain; the oracle
    /// key only).
    fn oracle_price(
        &self,
        tx: &Transaction,
        krw_e4: &u64,
        observed_at_ms: &u64,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        let exchange = self.exchange_state()?;
        if tx.sender != exchange.config().oracle {
            return Err(TxError::Exchange(ExchangeError::NotOracle));
        }
        if *krw_e4 == 0 {
            return Err(TxError::Exchange(ExchangeError::InvalidPrice));
        }
        let newer = exchange
            .oracle()
            .is_none_or(|o| *observed_at_ms > o.observed_at_ms);
        if !newer || *observed_at_ms > now_ms.saturating_add(ORACLE_SKEW_MS) {
            return Err(TxError::Exchange(ExchangeError::OracleNotNewer));
        }
        change
            .exchange
            .push(ExchangeWrite::Oracle(crate::exchange::OracleRecord {
                krw_e4: *krw_e4,
                observed_at_ms: *observed_at_ms,
            }));
        let rules = exchange.config().oracle_rules();
        let state = (exchange.oracle_state()).report(&rules, *krw_e4, *observed_at_ms);
        change.exchange.push(ExchangeWrite::OracleState(state));

        Ok(change)
    }

    /// `ConfirmPrice`: TICA accepts the level a move of MLK's price reached (center chain;
    /// the operator only).
    fn confirm_price(&self, tx: &Transaction, krw_e4: &u64) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        let exchange = self.exchange_state()?;
        let rules = exchange.config().oracle_rules();
        let state = (exchange.oracle_state())
            .confirm(&rules, *krw_e4)
            .ok_or(TxError::Exchange(ExchangeError::NothingToConfirm))?;
        change.exchange.push(ExchangeWrite::OracleState(state));

        Ok(change)
    }

    /// `SetMarket`: opens a Brand Token market or changes its depth and limits (center chain;
    /// TICA).
    fn set_market(
        &self,
        tx: &Transaction,
        asset: &Symbol,
        capacity: &Amount,
        position: &Option<Amount>,
        max_order: &Amount,
        user_daily_limit: &Amount,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        let exchange = self.exchange_state()?;
        let entry = match (exchange.market(asset), position) {
            (Some(existing), None) => Self::deepened(existing, capacity)?,
            (Some(_), Some(_)) => {
                return Err(TxError::Exchange(ExchangeError::InvalidMarket(
                    "the market is open: change its depth without a position".into(),
                )));
            }
            (None, None) => {
                return Err(TxError::Exchange(ExchangeError::InvalidMarket(
                    "opening a market needs TICA's starting position".into(),
                )));
            }
            (None, Some(position)) => self.opened(asset, capacity, position)?,
        };
        let mut entry = entry;
        entry.market.max_order = max_order.units();
        entry.market.user_daily_limit = user_daily_limit.units();
        self.sandwich_safe(&entry.market, exchange.fee_bps())?;
        change.exchange.push(ExchangeWrite::Market(*asset, entry));

        Ok(change)
    }

    /// What a trade costs its trader per leg once the trade reward is paid back: the fee
    /// the sandwich bound must be computed from.
    fn net_fee_bps(&self, fee_bps: u16) -> u16 {
        fee_bps.saturating_sub(self.trade_reward_bps())
    }

    /// An open market, or `unknown_market`.
    fn open_market(&self, asset: &Symbol) -> Result<&MarketEntry, TxError> {
        (self.exchange_state()?.market(asset)).ok_or(TxError::Exchange(
            ExchangeError::UnknownMarket { asset: *asset },
        ))
    }

    /// `HaltMarket`: TICA halts one market or lets it trade again (center chain).
    fn halt_market(
        &self,
        tx: &Transaction,
        asset: &Symbol,
        halted: bool,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        let mut entry = self.open_market(asset)?.clone();
        entry.market.halted = halted;
        change.exchange.push(ExchangeWrite::Market(*asset, entry));

        Ok(change)
    }

    /// `SetFee`: TICA changes the fee (center chain); every market's largest order must
    /// stay sandwich-safe at it.
    fn set_fee(&self, tx: &Transaction, fee_bps: u16) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        if u128::from(fee_bps) >= crate::exchange::curve::BPS {
            return Err(TxError::Exchange(ExchangeError::InvalidMarket(
                "a fee must be under 10,000 basis points".into(),
            )));
        }
        for (_, m) in self.exchange_state()?.markets() {
            self.sandwich_safe(&m.market, fee_bps)?;
        }
        change.exchange.push(ExchangeWrite::Fee(fee_bps));

        Ok(change)
    }

    /// `SetFloor`: a market's new floor, agreed by its partner's signature (center chain;
    /// TICA submits it). The largest order must stay sandwich-safe under it.
    fn set_floor(
        &self,
        tx: &Transaction,
        asset: &Symbol,
        min_bps: u16,
        partner_signature: &crate::keys::Signature,
    ) -> Result<Change, TxError> {
        self.operator_only(tx)?;
        let member = (self.listed_partner(asset).flatten()).ok_or(TxError::Exchange(
            ExchangeError::UnknownMarket { asset: *asset },
        ))?;
        let old = self.open_market(asset)?.market.curve.min_bps;
        let message = crate::exchange::floor_message(asset, old, min_bps);
        if !keys::verify(&member.issuer, &message.0, partner_signature) {
            return Err(TxError::Brand(BrandError::BadPartnerSignature));
        }
        self.reshaped(asset, |curve| curve.min_bps = min_bps)
    }

    /// `SetMaxPrice`: TICA lowers (or restores) a market's maximum price, within 95 % of R
    /// and above its floor; the largest order must stay sandwich-safe under it.
    fn set_max_price(
        &self,
        tx: &Transaction,
        asset: &Symbol,
        max_bps: u16,
    ) -> Result<Change, TxError> {
        self.operator_only(tx)?;
        self.reshaped(asset, |curve| curve.max_bps = max_bps)
    }

    /// An open market with its curve's bounds changed by `change_curve`: a valid curve whose
    /// largest order stays sandwich-safe at the fee in force.
    fn reshaped(
        &self,
        asset: &Symbol,
        change_curve: impl FnOnce(&mut Curve),
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        let mut entry = self.open_market(asset)?.clone();
        change_curve(&mut entry.market.curve);
        let decimals = entry.market.curve.decimals;
        entry
            .market
            .curve
            .check()
            .map_err(|e| market_error(e, decimals))?;
        self.sandwich_safe(&entry.market, self.exchange_state()?.fee_bps())?;
        change.exchange.push(ExchangeWrite::Market(*asset, entry));

        Ok(change)
    }

    /// Refuses a market whose largest order could be sandwiched at `fee_bps` (net of the
    /// trade reward).
    fn sandwich_safe(&self, m: &crate::exchange::Market, fee_bps: u16) -> Result<(), TxError> {
        let bound = m.curve.sandwich_safe_max_order(self.net_fee_bps(fee_bps));
        if m.max_order == 0 || m.max_order > bound {
            return Err(TxError::Exchange(ExchangeError::MaxOrderUnsafe { bound }));
        }
        Ok(())
    }

    /// An open market at a new depth: the same price, the position scaled with the depth,
    /// never above TICA's stock, and never while buys await delivery.
    fn deepened(existing: &MarketEntry, capacity: &Amount) -> Result<MarketEntry, TxError> {
        if existing.market.awaiting > 0 {
            return Err(TxError::Exchange(ExchangeError::BuysSettling));
        }
        let decimals = existing.market.curve.decimals;
        let curve = (existing.market.curve)
            .with_capacity(capacity.units())
            .map_err(|e| market_error(e, decimals))?;
        if curve.position > existing.market.stock {
            return Err(TxError::Exchange(ExchangeError::DepthExceedsStock));
        }
        Ok(MarketEntry {
            chain: existing.chain.clone(),
            market: crate::exchange::Market {
                curve,
                ..existing.market
            },
        })
    }

    /// A new market for an admitted partner's token, its curve from the partner's policy,
    /// TICA's stock the float its chain issued to the inventory.
    fn opened(
        &self,
        asset: &Symbol,
        capacity: &Amount,
        position: &Amount,
    ) -> Result<MarketEntry, TxError> {
        let member = (self.listed_partner(asset))
            .ok_or(TxError::Exchange(ExchangeError::NoExchange))?
            .ok_or(TxError::Exchange(ExchangeError::UnknownMarket {
                asset: *asset,
            }))?;
        let a = &member.application;
        let curve = Curve {
            redemption_value_krw: a.policy.redemption_value_krw,
            decimals: a.decimals,
            min_bps: a.policy.min_price_bps,
            max_bps: crate::exchange::curve::MAX_PRICE_BPS,
            capacity: capacity.units(),
            position: position.units(),
        };
        curve.check().map_err(|e| market_error(e, curve.decimals))?;
        if curve.position > a.initial_float.units() {
            return Err(TxError::Exchange(ExchangeError::DepthExceedsStock));
        }
        Ok(MarketEntry {
            chain: a.chain.clone(),
            market: crate::exchange::Market {
                curve,
                max_order: 0,
                user_daily_limit: 0,
                stock: a.initial_float.units(),
                awaiting: 0,
                halted: false,
                block: (0, 0, 0),
            },
        })
    }

    /// `Buy`: a customer buys Brand Tokens with MLK (center chain):
    fn buy(
        &self,
        tx: &Transaction,
        asset: &Symbol,
        pay: &Symbol,
        size: &OrderSize,
        max_in: &Amount,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        let (currency, _) = self.currency()?;
        if *pay != currency {
            return Err(TxError::Exchange(ExchangeError::PaymentNotAccepted {
                asset: *pay,
            }));
        }
        let p = self.price(&tx.sender, asset, Side::Buy, *size, now_ms)?;
        if p.fill.total > max_in.units() {
            let mlk = |units| Whole::new(units, p.mlk_decimals);
            return Err(TxError::Exchange(ExchangeError::LimitMissed {
                total: mlk(p.fill.total),
                limit: mlk(max_in.units()),
            }));
        }
        change
            .postings
            .moves
            .push((tx.sender, *ESCROW, currency, Amount::new(p.fill.total)));
        change.exchange =
            self.trade_writes(tx.id(), &tx.sender, asset, &p, now_ms, TradeStatus::Pending);

        Ok(change)
    }

    /// `CompleteBuy`: TICA settles a buy once its delivery is known (center chain):
    fn complete_buy(
        &self,
        tx: &Transaction,
        trade: &TxId,
        delivered: &bool,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        let exchange = self.exchange_state()?;
        let t = exchange
            .trade(trade)
            .ok_or(TxError::Exchange(ExchangeError::UnknownTrade))?;
        if t.side != Side::Buy {
            return Err(TxError::Exchange(ExchangeError::UnknownTrade));
        }
        if t.status != TradeStatus::Pending {
            return Err(TxError::Exchange(ExchangeError::TradeClosed));
        }
        let (currency, _) = self.currency()?;
        let mut t = t.clone();
        if *delivered {
            let config = exchange.config();
            change
                .postings
                .moves
                .push((*ESCROW, config.liquidity, currency, Amount::new(t.gross)));
            change
                .postings
                .moves
                .push((*ESCROW, config.fees, currency, Amount::new(t.fee)));
            t.status = TradeStatus::Filled;
            let flow = self.flow_now(now_ms)?;
            change
                .exchange
                .push(ExchangeWrite::Flow(crate::exchange::Flow {
                    inflow: flow.inflow.saturating_add(t.gross),
                    ..flow
                }));
            change.exchange.push(self.tick(*trade, &t));
            self.fill(&mut change, *trade, t.user, &t.asset, t.gross, t.mlk_krw_e4);
        } else {
            change
                .postings
                .moves
                .push((*ESCROW, t.user, currency, Amount::new(t.total)));
            t.status = TradeStatus::Refunded;
        }
        if let Some(m) = exchange.market(&t.asset) {
            change.exchange.push(ExchangeWrite::Market(
                t.asset,
                Self::buy_closed(m, &t, *delivered),
            ));
        }
        change.exchange.push(ExchangeWrite::Trade(*trade, t));

        Ok(change)
    }

    /// The market once a buy is delivered or voided: it no longer awaits; voided, TICA
    /// keeps its tokens, so its stock and position go back exactly (the room was kept, the
    /// depth did not change meanwhile).
    fn buy_closed(m: &MarketEntry, t: &Trade, delivered: bool) -> MarketEntry {
        let mut m = m.clone();
        m.market.awaiting = m.market.awaiting.saturating_sub(t.tokens);
        if !delivered {
            m.market.stock = m.market.stock.saturating_add(t.tokens);
            let c = &mut m.market.curve;
            c.position = c.position.saturating_add(t.tokens).min(c.capacity);
        }
        m
    }

    /// `SettleSell`: TICA settles a sale on the center chain with the customer's signed order
    /// embedded:
    fn settle_sell(
        &self,
        tx: &Transaction,
        order: &SignedTransaction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        let exchange = self.exchange_state()?;
        if !matches!(
            order.tx.action,
            Action::Exchange(ExchangeAction::Sell { .. })
        ) {
            return Err(TxError::Exchange(ExchangeError::NotASale));
        }
        // Its signature was checked with the settling transaction's own (`Payload::embedded`).
        let id = order.tx.id();
        // A partner's chain whose market is not open gets its sale refused, recorded, so the
        // brand chain gives the tokens back.
        let market = exchange.market_of_chain(&order.tx.chain).map(|(a, _)| *a);
        let asset = market
            .or_else(|| self.partner_token(&order.tx.chain))
            .ok_or(TxError::Brand(BrandError::NotBrandChain))?;
        if exchange.trade(&id).is_some() {
            return Err(TxError::Exchange(ExchangeError::TradeClosed));
        }
        let user = order.tx.sender;
        let (currency, _) = self.currency()?;
        // From here on the outcome is recorded either way: a refusal is a result
        // the brand chain acts on (it gives the tokens back).
        match self.sale_priced(order, &asset, now_ms) {
            Ok((p, flow)) => {
                let config = exchange.config();
                let pay = |to, amount| (config.liquidity, to, currency, Amount::new(amount));
                change.postings.moves.push(pay(user, p.fill.total));
                change.postings.moves.push(pay(config.fees, p.fill.fee));
                change.exchange =
                    self.trade_writes(id, &user, &asset, &p, now_ms, TradeStatus::Filled);
                change.exchange.push(ExchangeWrite::Flow(flow));
                let (gross, price) = (p.fill.gross, p.mlk_krw_e4);
                self.fill(&mut change, id, user, &asset, gross, price);
            }
            Err(why) => {
                let trade = Trade {
                    user,
                    asset,
                    side: Side::Sell,
                    tokens: order_amount(order),
                    gross: 0,
                    fee: 0,
                    total: 0,
                    mlk_krw_e4: exchange.oracle().map_or(0, |o| o.krw_e4),
                    time_ms: now_ms,
                    status: TradeStatus::Refused(why.code().to_owned()),
                };
                change.exchange.push(ExchangeWrite::Trade(id, trade));
            }
        }

        Ok(change)
    }

    /// A sale priced at block time `now_ms`, with the reserve's flows after paying it; or
    /// why it is refused (expired, its limit missed, the reserve short or past its limit).
    fn sale_priced(
        &self,
        order: &SignedTransaction,
        asset: &Symbol,
        now_ms: u64,
    ) -> Result<(Priced, crate::exchange::Flow), TxError> {
        let exchange = self.exchange_state()?;
        let Action::Exchange(ExchangeAction::Sell { amount, min_out }) = &order.tx.action else {
            return Err(TxError::Exchange(ExchangeError::NotASale));
        };
        if now_ms >= order.tx.expires_at_ms {
            return Err(TxError::Exchange(ExchangeError::OrderExpired));
        }
        let size = OrderSize::Tokens(*amount);
        let p = self.price(&order.tx.sender, asset, Side::Sell, size, now_ms)?;
        let mlk = |units| Whole::new(units, p.mlk_decimals);
        if p.fill.total < min_out.units() {
            return Err(TxError::Exchange(ExchangeError::LimitMissed {
                total: mlk(p.fill.total),
                limit: mlk(min_out.units()),
            }));
        }
        let (currency, _) = self.currency()?;
        let reserve = self.balance(&exchange.config().liquidity, &currency);
        if reserve.units() < p.fill.gross {
            return Err(TxError::Exchange(ExchangeError::ReserveShort {
                available: mlk(reserve.units()),
            }));
        }
        let flow = self.flow_now(now_ms)?;
        let out = flow.out.saturating_add(p.fill.gross);
        if out.saturating_sub(flow.inflow) > exchange.config().max_outflow.units() {
            return Err(TxError::Exchange(ExchangeError::OutflowPaused));
        }
        Ok((p, crate::exchange::Flow { out, ..flow }))
    }

    /// `Sell`: a customer sells Brand Tokens of this chain for MLK (brand chain):
    fn sell(
        &self,
        tx: &Transaction,
        amount: &Amount,
        min_out: &Amount,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        let inventory = self
            .inventory
            .ok_or(TxError::Exchange(ExchangeError::NoExchange))?;
        let asset = &self.traded_token()?;
        let _ = inventory;
        if amount.is_zero() {
            return Err(TxError::Ledger(LedgerError::ZeroAmount));
        }
        let balance = self.balance(&tx.sender, asset);
        let lots = self
            .plan_lots(&tx.sender, None, balance, *amount, now_ms)
            .map_err(|spendable| {
                TxError::Ledger(self.ledger().short(*asset, spendable, *amount))
            })?;
        let taken = match &lots {
            Some(BrandWrite::Lots { moves, .. }) => moves.clone(),
            _ => Vec::new(),
        };
        change
            .postings
            .moves
            .push((tx.sender, *ESCROW, *asset, *amount));
        change.brand.extend(lots);
        change.desk.push(DeskWrite::EscrowLock(
            tx.id(),
            Escrow {
                seller: tx.sender,
                amount: *amount,
                min_out: *min_out,
                lots: taken,
                status: EscrowStatus::Locked,
                deadline_ms: tx
                    .expires_at_ms
                    .saturating_add(crate::exchange::SETTLE_GRACE_MS),
            },
        ));

        Ok(change)
    }

    /// `ReleaseSell`: TICA releases a sale's escrow (brand chain):
    fn release_sell(
        &self,
        tx: &Transaction,
        trade: &TxId,
        filled: &bool,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        let inventory = self
            .inventory
            .ok_or(TxError::Exchange(ExchangeError::NoExchange))?;
        let asset = &self.traded_token()?;
        let e = self
            .desk_or_err()?
            .escrow(trade)
            .ok_or(TxError::Exchange(ExchangeError::UnknownTrade))?;
        if e.status != EscrowStatus::Locked {
            return Err(TxError::Exchange(ExchangeError::TradeClosed));
        }
        let (to, status) = if *filled {
            (inventory, EscrowStatus::Released)
        } else {
            (e.seller, EscrowStatus::Returned)
        };
        change.postings.moves.push((*ESCROW, to, *asset, e.amount));
        change.desk.push(DeskWrite::EscrowClose(*trade, status));
        // The tokens' expiry goes with them, to the seller or into TICA's stock, which
        // delivers its soonest-expiring lots first: no trade gives a token a longer life.
        if !e.lots.is_empty() {
            change.brand.push(BrandWrite::LotsBack {
                to,
                lots: e.lots.clone(),
            });
        }

        Ok(change)
    }

    /// `DeliverBuy`: TICA delivers bought tokens from its inventory (brand chain), once per
    /// buy.
    fn deliver_buy(
        &self,
        tx: &Transaction,
        trade: &TxId,
        to: &Address,
        amount: &Amount,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let mut change = Change::default();
        self.operator_only(tx)?;
        let inventory = self
            .inventory
            .ok_or(TxError::Exchange(ExchangeError::NoExchange))?;
        let asset = &self.traded_token()?;
        if self.desk_or_err()?.delivery(trade).is_some() {
            return Err(TxError::Exchange(ExchangeError::TradeClosed));
        }
        if amount.is_zero() {
            return Err(TxError::Ledger(LedgerError::ZeroAmount));
        }
        // A shortfall is recorded rather than refused: the center chain then refunds
        // the buy, and TICA's later steps never wait behind a refused one.
        let balance = self.balance(&inventory, asset);
        let lots = match self.plan_lots(&inventory, Some(*to), balance, *amount, now_ms) {
            Ok(lots) if balance >= *amount => Some(lots),
            _ => None,
        };
        let delivered = lots.is_some();
        if let Some(lots) = lots {
            change
                .postings
                .moves
                .push((inventory, *to, *asset, *amount));
            change.brand.extend(lots);
        }
        change.desk.push(DeskWrite::Deliver(
            *trade,
            Delivery {
                to: *to,
                amount: *amount,
                delivered,
            },
        ));

        Ok(change)
    }
}
