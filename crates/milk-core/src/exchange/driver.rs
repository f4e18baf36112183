//! What TICA does next for an open trade, decided from what the two chains recorded and
//! nothing else: the settlement driver without its I/O. The node reads the records from its
//! stores and sends the step through its lanes; a test or a simulation reads them from chain
//! states in memory and applies the step itself. Either way a trade cut short after any step
//! (a crash, a refusal) is finished from its records alone, each step at most once.
//!
//! A sale: its order locked the tokens in escrow on the brand chain; TICA settles it on the
//! center chain (`SettleSell`: pays the MLK, or refuses, and records the trade), then
//! releases the escrow (`ReleaseSell`: to TICA's inventory if filled, back to the seller if
//! not). A purchase: its order locked the MLK on the center chain and recorded the trade;
//! TICA delivers the tokens on the brand chain (`DeliverBuy`: from its inventory, or a
//! record that it could not), then completes it on the center chain (`CompleteBuy`: the
//! MLK to TICA if delivered, back to the buyer if not).

use super::action::ExchangeAction;
use super::{Delivery, Escrow, EscrowStatus, Side, Trade, TradeStatus};
use crate::hash::TxId;
use crate::{Amount, ChainId};

/// A step for TICA to send: on which chain, and what (`O` is the signed order a
/// `SettleSell` embeds, as in [`ExchangeAction`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<O> {
    /// The chain it goes to.
    pub chain: ChainId,
    /// The step.
    pub action: ExchangeAction<O>,
}

impl<O> Step<O> {
    /// Whether this is the trade's last step (`ReleaseSell`, `CompleteBuy`): once it is
    /// done, nothing is left to send.
    pub fn is_last(&self) -> bool {
        matches!(
            self.action,
            ExchangeAction::ReleaseSell { .. } | ExchangeAction::CompleteBuy { .. }
        )
    }
}

/// The most steps TICA sends for one trade: two.
pub const MAX_STEPS: usize = 2;

/// A sale: its order's id, the brand chain it locked tokens on, and the signed order.
pub struct Sale<'a, O> {
    /// The order's id (the trade's).
    pub id: TxId,
    /// Its brand chain.
    pub chain: &'a ChainId,
    /// The signed order, which `SettleSell` embeds.
    pub order: &'a O,
}

/// The next step of a sale, given its trade record on the center chain and its escrow on
/// the brand chain; `None` once it is over.
pub fn next_for_sale<O: Clone>(
    sale: Sale<'_, O>,
    trade: Option<&Trade>,
    escrow: Option<&Escrow>,
) -> Option<Step<O>> {
    let Some(trade) = trade else {
        let order = Box::new(sale.order.clone());
        return Some(Step {
            chain: ChainId::center(),
            action: ExchangeAction::SettleSell { order },
        });
    };
    let locked = escrow.is_some_and(|e| e.status == EscrowStatus::Locked);
    locked.then(|| Step {
        chain: sale.chain.clone(),
        action: ExchangeAction::ReleaseSell {
            trade: sale.id,
            filled: trade.status == TradeStatus::Filled,
        },
    })
}

/// The next step of the purchase `id`, given its trade record on the center chain, the
/// brand chain of its token, and its delivery record there; `None` once it is over (or if it
/// is no open purchase).
pub fn next_for_purchase<O>(
    id: &TxId,
    trade: Option<&Trade>,
    brand: &ChainId,
    delivery: Option<&Delivery>,
) -> Option<Step<O>> {
    let trade = trade.filter(|t| t.side == Side::Buy && t.status == TradeStatus::Pending)?;
    Some(match delivery {
        None => Step {
            chain: brand.clone(),
            action: ExchangeAction::DeliverBuy {
                trade: *id,
                to: trade.user,
                amount: Amount::new(trade.tokens),
            },
        },
        Some(d) => Step {
            chain: ChainId::center(),
            action: ExchangeAction::CompleteBuy {
                trade: *id,
                delivered: d.delivered,
            },
        },
    })
}
