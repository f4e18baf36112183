//! The exchange's side of a trade on a brand chain: a sale's escrow and a buy's delivery.
//!
//! A trade's two legs commit on two chains. These records are the brand chain's leg, kept
//! under the trade's id so each step happens once: the customer's `Sell` locks the tokens,
//! TICA's `ReleaseSell` releases or returns them, TICA's `DeliverBuy` delivers a buy (or
//! records that the inventory fell short). Settlement recovery scans the open escrows.

use crate::hash::Hash;
use crate::{Address, Amount};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

/// Record namespaces of the exchange on brand chains (listed in `state::NAMESPACES`).
pub mod record {
    /// `ESCROW ‖ trade id` → a sale's escrow (see [`super::Escrow`]).
    pub const ESCROW: u8 = 16;
    /// `DELIVERY ‖ trade id` → `customer (32) ‖ amount (u128) ‖ delivered (u8)`: a buy's
    /// delivery, or TICA's record that its inventory fell short.
    pub const DELIVERY: u8 = 17;
    /// `OPEN_ESCROW ‖ trade id` → empty, while a sale's escrow is locked: what recovery
    /// scans.
    pub const OPEN_ESCROW: u8 = 18;
    /// This part's namespaces.
    pub const NAMESPACES: &[u8] = &[ESCROW, DELIVERY, OPEN_ESCROW];

    fn keyed(ns: u8, trade: &crate::Hash) -> Vec<u8> {
        let mut k = vec![ns];
        k.extend_from_slice(&trade.0);
        k
    }

    /// The prefix of every locked escrow's marker.
    pub fn open_escrows() -> Vec<u8> {
        vec![OPEN_ESCROW]
    }

    /// The key of a locked escrow's marker.
    pub fn open_escrow(trade: &crate::Hash) -> Vec<u8> {
        keyed(OPEN_ESCROW, trade)
    }

    /// The prefix of every escrow.
    pub fn escrows() -> Vec<u8> {
        vec![ESCROW]
    }

    /// The key of a sale's escrow.
    pub fn escrow(trade: &crate::Hash) -> Vec<u8> {
        keyed(ESCROW, trade)
    }

    /// The key of a buy's delivery.
    pub fn delivery(trade: &crate::Hash) -> Vec<u8> {
        keyed(DELIVERY, trade)
    }
}

/// Where a sale's escrow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscrowStatus {
    /// Held, waiting for the center chain's settlement.
    Locked,
    /// Released to TICA's inventory: the sale was filled.
    Released,
    /// Given back to the seller: the sale was not filled.
    Returned,
}

/// A customer's tokens held while their sale settles on the center chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escrow {
    /// The seller.
    pub seller: Address,
    /// Tokens held, base units.
    pub amount: Amount,
    /// The least MLK the seller accepts.
    pub min_out: Amount,
    /// The expiring lots the tokens came from, `(UTC day, base units)`: given back with
    /// them, so an unfilled sale cannot extend their life.
    pub lots: Vec<(u64, Amount)>,
    /// Where it stands.
    pub status: EscrowStatus,
    /// When it must have ended, block time: the order's expiry (after which the center
    /// chain can only refuse it) and [`crate::exchange::SETTLE_GRACE_MS`]. `milk verify`
    /// reports one still locked past it.
    pub deadline_ms: u64,
}

impl Escrow {
    fn to_record(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(73 + 24 * self.lots.len());
        v.extend_from_slice(self.seller.as_bytes());
        v.extend_from_slice(&self.amount.units().to_be_bytes());
        v.extend_from_slice(&self.min_out.units().to_be_bytes());
        v.push(match self.status {
            EscrowStatus::Locked => 0,
            EscrowStatus::Released => 1,
            EscrowStatus::Returned => 2,
        });
        v.extend_from_slice(&self.deadline_ms.to_be_bytes());
        for (day, a) in &self.lots {
            v.extend_from_slice(&day.to_be_bytes());
            v.extend_from_slice(&a.units().to_be_bytes());
        }
        v
    }

    /// Decodes an escrow record.
    pub fn from_record(value: &[u8]) -> Option<Escrow> {
        let seller = Address::from_stored(value.get(..32)?.try_into().ok()?);
        let amount = u128::from_be_bytes(value.get(32..48)?.try_into().ok()?);
        let min_out = u128::from_be_bytes(value.get(48..64)?.try_into().ok()?);
        let status = match value.get(64)? {
            0 => EscrowStatus::Locked,
            1 => EscrowStatus::Released,
            2 => EscrowStatus::Returned,
            _ => return None,
        };
        let deadline_ms = u64::from_be_bytes(value.get(65..73)?.try_into().ok()?);
        let rest = value.get(73..)?;
        if rest.len() % 24 != 0 {
            return None;
        }
        let lots = rest
            .chunks(24)
            .map(|c| {
                (
                    u64::from_be_bytes(c[..8].try_into().expect("8 bytes")),
                    Amount::new(u128::from_be_bytes(c[8..].try_into().expect("16 bytes"))),
                )
            })
            .collect();
        Some(Escrow {
            seller,
            amount: Amount::new(amount),
            min_out: Amount::new(min_out),
            lots,
            status,
            deadline_ms,
        })
    }
}

/// A buy's delivery from TICA's inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The buyer.
    pub to: Address,
    /// Tokens, base units.
    pub amount: Amount,
    /// Whether they were delivered; `false`: the inventory fell short, and the buy is to be
    /// refunded on the center chain.
    pub delivered: bool,
}

impl Delivery {
    /// Decodes a delivery record.
    pub fn from_record(value: &[u8]) -> Option<Delivery> {
        let to = Address::from_stored(value.get(..32)?.try_into().ok()?);
        let amount = u128::from_be_bytes(value.get(32..48)?.try_into().ok()?);
        let delivered = match value.get(48..)? {
            [0] => false,
            [1] => true,
            _ => return None,
        };
        Some(Delivery {
            to,
            amount: Amount::new(amount),
            delivered,
        })
    }
}

impl Delivery {
    fn to_record(self) -> Vec<u8> {
        let mut v = self.to.as_bytes().to_vec();
        v.extend_from_slice(&self.amount.units().to_be_bytes());
        v.push(u8::from(self.delivered));
        v
    }
}

/// A write that a checked exchange action makes on a brand chain.
#[derive(Debug, Clone)]
pub(crate) enum DeskWrite {
    /// A sale's tokens locked (their lots already taken from the seller).
    EscrowLock(Hash, Escrow),
    /// A sale's escrow released or returned (the brand domain gives a return's lots back).
    EscrowClose(Hash, EscrowStatus),
    /// A buy delivered, or recorded as short.
    Deliver(Hash, Delivery),
}

/// The exchange's records on a brand chain.
#[derive(Debug, Clone, Default)]
pub struct Desk {
    escrows: HashMap<Hash, Escrow>,
    deliveries: HashMap<Hash, Delivery>,
    touched: Vec<Vec<u8>>,
}

impl Desk {
    /// A sale's escrow by trade id.
    pub fn escrow(&self, trade: &Hash) -> Option<&Escrow> {
        self.escrows.get(trade)
    }

    /// A buy's delivery by trade id.
    pub fn delivery(&self, trade: &Hash) -> Option<Delivery> {
        self.deliveries.get(trade).copied()
    }

    pub(crate) fn write(&mut self, w: DeskWrite) {
        match w {
            DeskWrite::EscrowLock(trade, escrow) => {
                self.touched.push(record::escrow(&trade));
                self.touched.push(record::open_escrow(&trade));
                self.escrows.insert(trade, escrow);
            }
            DeskWrite::EscrowClose(trade, status) => {
                self.touched.push(record::escrow(&trade));
                self.touched.push(record::open_escrow(&trade));
                let e = (self.escrows.get_mut(&trade)).expect("planned on a known escrow");
                e.status = status;
            }
            DeskWrite::Deliver(trade, delivery) => {
                self.touched.push(record::delivery(&trade));
                self.deliveries.insert(trade, delivery);
            }
        }
    }

    fn value(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (ns, rest) = key.split_first()?;
        let trade = Hash(rest.try_into().ok()?);
        match *ns {
            record::ESCROW => self.escrows.get(&trade).map(Escrow::to_record),
            record::OPEN_ESCROW => (self.escrows.get(&trade))
                .filter(|e| e.status == EscrowStatus::Locked)
                .map(|_| Vec::new()),
            record::DELIVERY => self.deliveries.get(&trade).map(|d| d.to_record()),
            _ => None,
        }
    }
}

impl crate::ledger::DomainRecords for Desk {
    fn namespaces(&self) -> &'static [u8] {
        record::NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let touched = std::mem::take(&mut self.touched);
        crate::ledger::touched_records(touched, |k| self.value(k))
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let keys = (self.escrows.keys().map(record::escrow))
            .chain(self.escrows.keys().map(record::open_escrow))
            .chain(self.deliveries.keys().map(record::delivery));
        keys.filter_map(|k| self.value(&k).map(|v| (k, v)))
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let Some((ns, rest)) = key.split_first() else {
            return false;
        };
        let Ok(id) = <[u8; 32]>::try_from(rest) else {
            return false;
        };
        match *ns {
            // Derived from the escrow itself; only its shape is checked.
            record::OPEN_ESCROW => value.is_empty(),
            record::ESCROW => Escrow::from_record(value)
                .map(|e| self.escrows.insert(Hash(id), e))
                .is_some(),
            record::DELIVERY => Delivery::from_record(value)
                .map(|d| self.deliveries.insert(Hash(id), d))
                .is_some(),
            _ => false,
        }
    }
}
