//! Settlement in batches: TICA's steps for many trades in one transaction per chain, signed
//! once. Each step (`SettleSell`, `CompleteBuy` on the center chain; `ReleaseSell`,
//! `DeliverBuy` on a brand chain) is checked and written on its own, in order, seeing the
//! steps before it, and recorded under its trade's id exactly as a step sent alone is; a
//! refused step (one done already: `trade_closed`) changes nothing and holds back none
//! after it. The refusals, if any, are recorded under the batch's transaction id, so the
//! node that sent it tells each trade's driver what became of its step.

use crate::codec::{Reader, Writer};
use crate::hash::TxId;
use crate::ledger::DomainRecords;
use std::collections::BTreeMap;

/// `SETTLEMENT ‖ tx id (32)` → `count (u32) ‖ (index (u32) ‖ code ‖ message)…`: the steps
/// of a batch that were refused. A batch whose every step applied writes none.
pub const SETTLEMENT: u8 = 63;
/// This part's namespaces.
pub const NAMESPACES: &[u8] = &[SETTLEMENT];
/// The most steps in one batch: a full batch of the longest steps (sales, each embedding
/// its signed order) stays within the envelope's largest transaction.
pub const MAX_SETTLEMENT_STEPS: usize = 512;
/// The longest refusal message a record keeps, bytes.
const MAX_MESSAGE_BYTES: usize = 200;

/// A step of a batch that changed nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRefusal {
    /// Its position in the batch.
    pub index: u32,
    /// The stable code (`trade_closed`, `unknown_trade`, …).
    pub code: String,
    /// What a person reads.
    pub message: String,
}

impl StepRefusal {
    /// The refusal of step `index` for `code` and `message` (cut to a bounded length).
    pub fn new(index: usize, code: &str, message: String) -> StepRefusal {
        StepRefusal {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            code: code.to_owned(),
            message: crate::codec::cut_text(message, MAX_MESSAGE_BYTES),
        }
    }
}

/// The key of a batch's refusals.
pub fn key(tx: &TxId) -> Vec<u8> {
    let mut k = vec![SETTLEMENT];
    k.extend_from_slice(&tx.0);
    k
}

/// A batch's refusals, as its record holds them.
pub fn encode(refused: &[StepRefusal]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(refused.len() as u32);
    for r in refused {
        w.u32(r.index).str(&r.code).str(&r.message);
    }
    w.into_bytes()
}

/// Reads a batch's refusals; `None` if the record is malformed.
pub fn decode(bytes: &[u8]) -> Option<Vec<StepRefusal>> {
    let mut r = Reader::new(bytes);
    let count = r.u32().ok()? as usize;
    let mut out = Vec::with_capacity(count.min(MAX_SETTLEMENT_STEPS));
    for _ in 0..count {
        out.push(StepRefusal {
            index: r.u32().ok()?,
            code: r.str("code", 64).ok()?.to_owned(),
            message: r.str("message", MAX_MESSAGE_BYTES).ok()?.to_owned(),
        });
    }
    r.finish().ok()?;
    Some(out)
}

/// Every batch's refusals (batches with none are not kept).
#[derive(Debug, Clone, Default)]
pub struct Settlements {
    refused: BTreeMap<TxId, Vec<StepRefusal>>,
    changed: Vec<TxId>,
}

impl Settlements {
    /// The refused steps of batch `tx`, if any was.
    pub fn refused(&self, tx: &TxId) -> Option<&[StepRefusal]> {
        self.refused.get(tx).map(Vec::as_slice)
    }

    /// Records a batch's refusals; none writes nothing.
    pub(crate) fn write(&mut self, tx: TxId, refused: Vec<StepRefusal>) {
        if refused.is_empty() {
            return;
        }
        self.refused.insert(tx, refused);
        self.changed.push(tx);
    }
}

impl DomainRecords for Settlements {
    fn namespaces(&self) -> &'static [u8] {
        NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let keys = std::mem::take(&mut self.changed).iter().map(key).collect();
        crate::ledger::touched_records(keys, |k| {
            let id = crate::Hash(k.get(1..)?.try_into().ok()?);
            self.refused.get(&id).map(|r| encode(r))
        })
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        (self.refused.iter())
            .map(|(id, r)| (key(id), encode(r)))
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let id = key.get(1..).and_then(|b| <[u8; 32]>::try_from(b).ok());
        match (id, decode(value)) {
            (Some(id), Some(refused)) if key.first() == Some(&SETTLEMENT) => {
                self.refused.insert(crate::Hash(id), refused);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_round_trip_and_a_long_message_is_cut() {
        let long = "é".repeat(150);
        let refused = vec![
            StepRefusal::new(3, "trade_closed", "this trade is settled already".into()),
            StepRefusal::new(9, "unknown_trade", long),
        ];
        assert!(refused[1].message.len() <= MAX_MESSAGE_BYTES);
        let bytes = encode(&refused);
        assert_eq!(decode(&bytes), Some(refused));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);

        let mut s = Settlements::default();
        s.write(crate::Hash([1; 32]), Vec::new());
        assert!(s.take_records().is_empty(), "a clean batch writes nothing");
        s.write(crate::Hash([2; 32]), decode(&bytes).expect("valid"));
        let records = s.take_records();
        assert_eq!(records.len(), 1);
        let mut again = Settlements::default();
        let (k, v) = &records[0];
        assert!(again.restore(k, v.as_ref().expect("written")));
        assert_eq!(again.records(), s.records());
        assert!(!again.restore(&[SETTLEMENT, 1], v.as_ref().expect("written")));
    }
}
