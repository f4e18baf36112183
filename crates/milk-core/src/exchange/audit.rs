//! The audit of the exchange across chains: each brand chain's side of its trades checked
//! against the center chain's, both replayed.

use super::curve::Side;
use super::desk::{Delivery, Escrow, EscrowStatus, record as desk_record};
use super::{Exchange, Trade, TradeStatus, record};
use crate::codec::Decode;
use crate::state::ChainState;
use crate::{ChainId, Hash};
use std::collections::HashMap;

/// Checks a brand chain's side of its trades against the center chain's, both replayed to
/// their heads: each released escrow belongs to a filled sale, each returned one to a
/// refused sale, each delivery to a buy of the same customer and size (and delivered ones
/// only to filled or pending buys), and each filled trade has its brand-chain leg. Each
/// brand chain trusts TICA's word for its own step; this is where that word is checked.
/// Returns the problems found, each naming its trade.
pub fn cross_check(center: &ChainState, chain: &ChainId, brand: &ChainState) -> Vec<String> {
    let Some(exchange) = center.exchange() else {
        return Vec::new();
    };
    let (escrows, deliveries) = desk_records(brand);
    let mut problems = escrow_problems(exchange, chain, &escrows);
    problems.extend(delivery_problems(exchange, chain, &deliveries));
    problems.extend(missing_legs(center, exchange, chain, &escrows, &deliveries));
    problems.sort();
    problems
}

/// A brand chain's escrows, by sale.
pub type Escrows = HashMap<Hash, Escrow>;
/// A brand chain's deliveries, by buy.
pub type Deliveries = HashMap<Hash, Delivery>;

fn id_of(k: &[u8]) -> Option<Hash> {
    Some(Hash(k.get(1..33)?.try_into().ok()?))
}

/// A brand chain's escrows and deliveries, by trade.
pub fn desk_records(brand: &ChainState) -> (Escrows, Deliveries) {
    let (mut escrows, mut deliveries) = (HashMap::new(), HashMap::new());
    for (k, v) in &brand.records() {
        match k.first() {
            Some(&desk_record::ESCROW) => {
                if let (Some(id), Some(e)) = (id_of(k), Escrow::from_record(v)) {
                    escrows.insert(id, e);
                }
            }
            Some(&desk_record::DELIVERY) => {
                if let (Some(id), Some(d)) = (id_of(k), Delivery::from_record(v)) {
                    deliveries.insert(id, d);
                }
            }
            _ => {}
        }
    }
    (escrows, deliveries)
}

/// Each released escrow belongs to a filled sale of its size, each returned one to a
/// refused sale.
fn escrow_problems(exchange: &Exchange, chain: &ChainId, escrows: &Escrows) -> Vec<String> {
    let mut problems = Vec::new();
    for (id, e) in escrows {
        let t = exchange.trade(id);
        let ok = match e.status {
            EscrowStatus::Locked => true,
            EscrowStatus::Released => t.is_some_and(|t| {
                t.side == Side::Sell
                    && t.status == TradeStatus::Filled
                    && t.tokens == e.amount.units()
            }),
            EscrowStatus::Returned => t.is_some_and(|t| {
                t.side == Side::Sell && matches!(t.status, TradeStatus::Refused(_))
            }),
        };
        if !ok {
            problems.push(format!(
                "{chain}: the escrow of sale {} was {:?} but the center chain records {:?}",
                id.to_hex(),
                e.status,
                t.map(|t| &t.status)
            ));
        }
    }
    problems
}

/// Each delivery belongs to a buy of the same customer and size; delivered ones only to
/// filled or pending buys.
fn delivery_problems(exchange: &Exchange, chain: &ChainId, deliveries: &Deliveries) -> Vec<String> {
    let mut problems = Vec::new();
    for (id, d) in deliveries {
        let t = exchange.trade(id);
        let ok = t.is_some_and(|t| {
            t.side == Side::Buy
                && t.user == d.to
                && t.tokens == d.amount.units()
                && match t.status {
                    TradeStatus::Pending => true,
                    TradeStatus::Filled => d.delivered,
                    TradeStatus::Refunded => !d.delivered,
                    TradeStatus::Refused(_) => false,
                }
        });
        if !ok {
            problems.push(format!(
                "{chain}: the delivery of buy {} (delivered: {}) does not match the center chain's {:?}",
                id.to_hex(),
                d.delivered,
                t.map(|t| &t.status)
            ));
        }
    }
    problems
}

/// Each trade of this chain's token the center chain filled (or refunded) has the brand
/// chain's leg to match.
fn missing_legs(
    center: &ChainState,
    exchange: &Exchange,
    chain: &ChainId,
    escrows: &Escrows,
    deliveries: &Deliveries,
) -> Vec<String> {
    let market = exchange.market_of_chain(chain).map(|(s, _)| *s);
    let mut problems = Vec::new();
    for (k, v) in center.records() {
        if k.first() != Some(&record::TRADE) {
            continue;
        }
        let (Some(id), Ok(t)) = (id_of(&k), Trade::from_bytes(&v)) else {
            continue;
        };
        if Some(t.asset) != market {
            continue;
        }
        let missing = match (t.side, &t.status) {
            (Side::Sell, TradeStatus::Filled) => !escrows
                .get(&id)
                .is_some_and(|e| matches!(e.status, EscrowStatus::Released | EscrowStatus::Locked)),
            (Side::Buy, TradeStatus::Filled) => !deliveries.get(&id).is_some_and(|d| d.delivered),
            (Side::Buy, TradeStatus::Refunded) => deliveries.get(&id).is_some_and(|d| d.delivered),
            _ => false,
        };
        if missing {
            problems.push(format!(
                "{chain}: trade {} is {:?} on the center chain, but its brand-chain leg does not match",
                id.to_hex(),
                t.status
            ));
        }
    }
    problems
}

/// Trades left open past their deadline: escrows still locked on the brand chain `chain`
/// at its block time `brand_ms` after their deadline, and buys of its token still waiting
/// for delivery at the center chain's block time `center_ms` more than
/// [`super::SETTLE_GRACE_MS`] after they were priced. Each names its trade.
pub fn overdue(
    center: &ChainState,
    center_ms: u64,
    chain: &ChainId,
    brand: &ChainState,
    brand_ms: u64,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (k, v) in brand.records() {
        if k.first() != Some(&desk_record::ESCROW) {
            continue;
        }
        if let (Some(id), Some(e)) = (k.get(1..33), Escrow::from_record(&v))
            && e.status == EscrowStatus::Locked
            && brand_ms > e.deadline_ms
        {
            problems.push(format!(
                "{chain}: the escrow of sale {} is still locked {} ms past its deadline",
                hex::encode(id),
                brand_ms - e.deadline_ms
            ));
        }
    }
    let Some(exchange) = center.exchange() else {
        return problems;
    };
    let market = exchange.market_of_chain(chain).map(|(s, _)| *s);
    for (k, v) in center.records() {
        if k.first() != Some(&record::TRADE) {
            continue;
        }
        let Ok(t) = Trade::from_bytes(&v) else {
            continue;
        };
        let deadline = t.time_ms.saturating_add(super::SETTLE_GRACE_MS);
        if Some(t.asset) == market
            && (t.side, &t.status) == (Side::Buy, &TradeStatus::Pending)
            && center_ms > deadline
        {
            problems.push(format!(
                "{chain}: buy {} still waits for its delivery {} ms past its deadline",
                hex::encode(k.get(1..33).unwrap_or_default()),
                center_ms - deadline
            ));
        }
    }
    problems.sort();
    problems
}
