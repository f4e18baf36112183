//! Settling trades across the center chain and a brand chain, and finishing whatever a stop
//! interrupted.
//!
//! The chains' own records are the settlement log: a sale's escrow on its brand chain, the
//! trade on the center chain, a buy's delivery on its brand chain, each under the trade's
//! id. Driving a trade reads them and sends the next missing step through the operator's
//! lane; every step is done at most once whatever is retried, so a driver can always start
//! over. At start and every few seconds the node looks for trades left open (a locked
//! escrow, a pending buy) and drives them to the end: both legs, or neither.

use crate::lanes::LaneError;
use crate::node::{Node, SendError};
use crate::submit::{Refusal, Submitted, submit_verified};
use crate::worker::SubmitError;
use milk_core::codec::Decode;
use milk_core::error::ExchangeError;
use milk_core::exchange::curve::Side;
use milk_core::exchange::desk::{self, Delivery, Escrow};
use milk_core::exchange::{self, MarketEntry, Trade, TradeStatus, driver};
use milk_core::mempool::MempoolError;
use milk_core::state::TxError;
use milk_core::tx::ExchangeAction;
use milk_core::tx::{Action, SignedTransaction, TxId};
use milk_core::{ChainId, Symbol};
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

/// Why a trade could not be driven now (it stays open; recovery tries again).
#[derive(Debug, Clone)]
pub enum DriveError {
    /// Another driver holds it.
    Busy,
    /// The node has no operator key: it cannot settle.
    NoOperator,
    /// A step did not commit.
    Step(LaneError),
    /// A record could not be read.
    Store(String),
}

impl From<Refusal> for PlaceError {
    fn from(r: Refusal) -> PlaceError {
        PlaceError::Refused(r)
    }
}

impl std::fmt::Display for DriveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriveError::Busy => f.write_str("the trade is being settled"),
            DriveError::NoOperator => f.write_str("this node cannot settle trades"),
            DriveError::Step(e) => write!(f, "{e}"),
            DriveError::Store(e) => write!(f, "store: {e}"),
        }
    }
}

fn store_err(e: impl std::fmt::Display) -> DriveError {
    DriveError::Store(e.to_string())
}

/// A trade as the center chain records it.
pub fn trade_record(node: &Node, id: &TxId) -> Result<Option<Trade>, DriveError> {
    let center = node
        .chain(&ChainId::center())
        .ok_or(DriveError::NoOperator)?;
    center
        .store
        .record(&exchange::record::trade(id))
        .map_err(store_err)?
        .map(|v| Trade::from_bytes(&v).map_err(store_err))
        .transpose()
}

/// A market as the center chain records it.
pub fn market_record(node: &Node, asset: &Symbol) -> Result<Option<MarketEntry>, DriveError> {
    let center = node
        .chain(&ChainId::center())
        .ok_or(DriveError::NoOperator)?;
    center
        .store
        .record(&exchange::record::market(asset))
        .map_err(store_err)?
        .map(|v| MarketEntry::from_bytes(&v).map_err(store_err))
        .transpose()
}

/// A sale's escrow on its brand chain.
pub fn escrow_record(
    node: &Node,
    chain: &ChainId,
    id: &TxId,
) -> Result<Option<Escrow>, DriveError> {
    let Some(handle) = node.chain(chain) else {
        return Ok(None);
    };
    let v = handle
        .store
        .record(&desk::record::escrow(id))
        .map_err(store_err)?;
    Ok(v.and_then(|v| Escrow::from_record(&v)))
}

/// A buy's delivery on its brand chain.
pub fn delivery_record(
    node: &Node,
    chain: &ChainId,
    id: &TxId,
) -> Result<Option<Delivery>, DriveError> {
    let Some(handle) = node.chain(chain) else {
        return Ok(None);
    };
    let v = handle
        .store
        .record(&desk::record::delivery(id))
        .map_err(store_err)?;
    Ok(v.and_then(|v| Delivery::from_record(&v)))
}

/// Sends one operator step on `chain`; a step already done counts as done.
async fn step(node: &Arc<Node>, chain: &ChainId, action: Action) -> Result<(), DriveError> {
    let lane = crate::lane::get(node, chain).ok_or(DriveError::NoOperator)?;
    match lane.submit(action).await {
        Ok(_) => Ok(()),
        Err(LaneError::StepRefused { code, .. }) if code == ExchangeError::TradeClosed.code() => {
            Ok(())
        }
        Err(e)
            if matches!(
                e.chain_error(),
                Some(TxError::Exchange(ExchangeError::TradeClosed))
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(DriveError::Step(e)),
    }
}

/// Drives a sale whose tokens are locked on `chain` to its end: each step the driver reads
/// off the two chains' records (`milk_core::exchange::driver`), until there is none.
pub async fn drive_sell(
    node: &Arc<Node>,
    chain: &ChainId,
    order: &SignedTransaction,
) -> Result<(), DriveError> {
    let id = order.tx.id();
    let _claim = node.settling.claim(id).ok_or(DriveError::Busy)?;
    let sale = || driver::Sale { id, chain, order };
    for _ in 0..=driver::MAX_STEPS {
        let (trade, escrow) = (trade_record(node, &id)?, escrow_record(node, chain, &id)?);
        let Some(next) = driver::next_for_sale(sale(), trade.as_ref(), escrow.as_ref()) else {
            return Ok(());
        };
        let last = next.is_last();
        step(node, &next.chain, Action::Exchange(next.action)).await?;
        if last {
            return Ok(());
        }
        node.crash_point("sell:2");
    }
    Err(DriveError::Store(format!(
        "sale {id} did not finish in two steps"
    )))
}

/// Drives a buy whose MLK is locked on the center chain to its end, as [`drive_sell`] does.
pub async fn drive_buy(node: &Arc<Node>, id: TxId) -> Result<(), DriveError> {
    let _claim = node.settling.claim(id).ok_or(DriveError::Busy)?;
    let mut brand = None;
    for _ in 0..=driver::MAX_STEPS {
        let Some(trade) = trade_record(node, &id)? else {
            return Ok(());
        };
        if trade.status != TradeStatus::Pending {
            return Ok(());
        }
        let chain = match brand.take() {
            Some(chain) => chain,
            None => {
                market_record(node, &trade.asset)?
                    .ok_or_else(|| DriveError::Store(format!("no market {}", trade.asset)))?
                    .chain
            }
        };
        let delivery = delivery_record(node, &chain, &id)?;
        let next = driver::next_for_purchase(&id, Some(&trade), &chain, delivery.as_ref());
        let Some(next) = next else {
            return Ok(());
        };
        let last = next.is_last();
        step(node, &next.chain, Action::Exchange(next.action)).await?;
        if last {
            return Ok(());
        }
        node.crash_point("buy:2");
        brand = Some(chain);
    }
    Err(DriveError::Store(format!(
        "purchase {id} did not finish in two steps"
    )))
}

/// Finds every open trade and drives them all at once, so their steps travel together in
/// the lanes' batches; returns how many were finished.
pub async fn recover(node: &Arc<Node>) -> Result<usize, DriveError> {
    if node.operator_key.is_none() {
        return Ok(0);
    }
    let mut drives = tokio::task::JoinSet::new();
    for (chain, order) in locked_sales(node)? {
        let node = node.clone();
        drives.spawn(async move {
            let id = order.tx.id();
            (id, drive_sell(&node, &chain, &order).await)
        });
    }
    for id in pending_buys(node)? {
        let node = node.clone();
        drives.spawn(async move { (id, drive_buy(&node, id).await) });
    }
    let mut done = 0;
    while let Some(joined) = drives.join_next().await {
        match joined {
            Ok((_, Ok(()))) => done += 1,
            Ok((_, Err(DriveError::Busy))) => {}
            Ok((id, Err(e))) => {
                tracing::warn!(trade = %id, error = %e, "recovery: trade still open")
            }
            Err(e) => tracing::warn!(error = %e, "recovery: a drive failed"),
        }
    }
    Ok(done)
}

/// Sales whose tokens are still locked on a brand chain, with their chain and order.
fn locked_sales(node: &Node) -> Result<Vec<(milk_core::ChainId, SignedTransaction)>, DriveError> {
    let mut out = Vec::new();
    for handle in node.chain_handles() {
        if handle.spec.partner.is_none() {
            continue;
        }
        let locked: Vec<TxId> = handle
            .store
            .records_with_prefix(&desk::record::open_escrows())
            .map_err(store_err)?
            .into_iter()
            .filter_map(|(k, _)| Some(milk_core::Hash(k.get(1..)?.try_into().ok()?)))
            .collect();
        for id in locked {
            let Some(loc) = handle.store.tx_location(&id).map_err(store_err)? else {
                continue;
            };
            let Some(block) = handle.store.block(loc.height).map_err(store_err)? else {
                continue;
            };
            if let Some(order) = block.txs.get(loc.index as usize) {
                out.push((handle.spec.id.clone(), order.clone()));
            }
        }
    }
    Ok(out)
}

/// Buys pending on the center chain.
fn pending_buys(node: &Node) -> Result<Vec<TxId>, DriveError> {
    let center = node
        .chain(&ChainId::center())
        .expect("every node hosts the center chain");
    Ok(center
        .store
        .records_with_prefix(&[exchange::record::OPEN_BUY])
        .map_err(store_err)?
        .into_iter()
        .filter_map(|(k, _)| Some(milk_core::Hash(k.get(1..)?.try_into().ok()?)))
        .collect())
}

/// Recovers at start, then every `every`, until aborted.
pub async fn recovery(node: Arc<Node>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !node.leads_center() {
            continue;
        }
        match recover(&node).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(trades = n, "recovery: open trades finished"),
            Err(e) => tracing::warn!(error = %e, "recovery failed; trying again later"),
        }
    }
}

/// Submits a customer's signed order and settles it: the lock, then the steps that follow.
/// Returns the trade id. Stops at the first crash point when the node was started with one.
pub async fn place(node: &Arc<Node>, order: SignedTransaction) -> Result<TxId, PlaceError> {
    let id = order.tx.id();
    let (chain, side) = match &order.tx.action {
        Action::Exchange(ExchangeAction::Sell { .. }) => (order.tx.chain.clone(), Side::Sell),
        Action::Exchange(ExchangeAction::Buy { .. }) if order.tx.chain == ChainId::center() => {
            (ChainId::center(), Side::Buy)
        }
        Action::Exchange(ExchangeAction::Buy { .. }) => return Err(PlaceError::WrongChain),
        _ => return Err(PlaceError::NotAnOrder),
    };
    let handle = node.chain(&chain).ok_or(PlaceError::UnknownChain)?;
    let verified = (node.orders.verify(order.clone()).await).map_err(Refusal::Invalid)?;
    let deadline = tokio::time::Instant::now() + node.config.commit_wait;
    let answers = submit_verified(&handle, vec![verified], true, Some(deadline)).await;
    match answers.map_err(PlaceError::Send)?.pop().map(|(_, s)| s) {
        Some(Submitted::Committed(_)) => {}
        // Placed before: drive it like the first time, so a retried order gets the same
        // answer as the first request.
        Some(Submitted::Refused(Refusal::Admission(SubmitError::AlreadyCommitted { .. }))) => {}
        // Sent before and still waiting for its block (a retry while the first request
        // waits): nothing is refused, so it is pending, as the first request will hear.
        Some(Submitted::Pending)
        | Some(Submitted::Refused(Refusal::Admission(SubmitError::Mempool(
            MempoolError::Duplicate,
        )))) => return Err(PlaceError::Pending),
        Some(Submitted::Refused(r)) => return Err(PlaceError::Refused(r)),
        Some(Submitted::Halted) | None => return Err(PlaceError::Send(SendError::Stopped)),
    }
    node.crash_point(match side {
        Side::Sell => "sell:1",
        Side::Buy => "buy:1",
    });
    // Recovery may have claimed the trade the moment it was locked: then it is being
    // settled already, and driving it again once the claim is free finds every step done.
    loop {
        let driven = match side {
            Side::Sell => drive_sell(node, &chain, &order).await,
            Side::Buy => drive_buy(node, id).await,
        };
        match driven {
            Err(DriveError::Busy) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            other => return other.map(|()| id).map_err(PlaceError::Settle),
        }
    }
}

/// Why an order was not placed.
#[derive(Debug)]
pub enum PlaceError {
    /// Not a `Buy` or a `Sell`.
    NotAnOrder,
    /// A buy not on the center chain.
    WrongChain,
    /// No such chain here.
    UnknownChain,
    /// The chain refused the order: nothing was locked.
    Refused(Refusal),
    /// Accepted but not committed in time.
    Pending,
    /// Locked, but a later step did not commit yet; recovery finishes it.
    Settle(DriveError),
    /// The chain did not take it (busy, or stopping).
    Send(SendError),
}
