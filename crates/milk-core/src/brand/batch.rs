//! Batches of conversions: many of a partner's conversions in one transaction, signed once
//! by its issuer key. Each item converts, replays an earlier conversion of its reference, or
//! is refused, on its own; the chain records every item's outcome under the batch's
//! transaction id, so a partner reads each result back and a refused item holds back none
//! after it.

use super::action::ConversionItem;
use super::{BrandState, BrandWrite, Conversion};
use crate::codec::{Reader, Writer};
use crate::error::BrandError;
use crate::hash::TxId;
use crate::{Address, Amount, Hash};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// `CONVERSION_BATCH ‖ tx id (32)` → `count (u32) ‖ outcome…`, each outcome a status byte
/// (0 converted, 1 replayed, 2 refused) and, when refused, its code and message.
pub const CONVERSION_BATCH: u8 = 62;

/// The longest refusal message an outcome keeps, bytes.
const MAX_MESSAGE_BYTES: usize = 200;

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// It minted its tokens now.
    Converted,
    /// Its reference was already used for this same conversion: nothing minted again.
    Replayed,
    /// Refused: the error's stable code and its message.
    Refused {
        /// The stable code (`not_linked`, `daily_limit`, `reference_used`, …).
        code: String,
        /// What a person reads.
        message: String,
    },
}

impl ItemOutcome {
    fn refused(e: &BrandError) -> ItemOutcome {
        ItemOutcome::Refused {
            code: e.code().to_owned(),
            message: crate::codec::cut_text(e.to_string(), MAX_MESSAGE_BYTES),
        }
    }
}

/// The key of a batch's outcomes.
pub fn batch_key(tx: &TxId) -> Vec<u8> {
    let mut k = vec![CONVERSION_BATCH];
    k.extend_from_slice(&tx.0);
    k
}

/// Encodes a batch's outcomes (the record's value).
pub fn encode_outcomes(outcomes: &[ItemOutcome]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(outcomes.len() as u32);
    for o in outcomes {
        match o {
            ItemOutcome::Converted => w.u8(0),
            ItemOutcome::Replayed => w.u8(1),
            ItemOutcome::Refused { code, message } => w.u8(2).str(code).str(message),
        };
    }
    w.into_bytes()
}

/// Reads a batch's outcomes; `None` if malformed.
pub fn decode_outcomes(value: &[u8]) -> Option<Vec<ItemOutcome>> {
    let mut r = Reader::new(value);
    let n = r.u32().ok()? as usize;
    if n > super::action::MAX_CONVERSION_BATCH {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(match r.u8().ok()? {
            0 => ItemOutcome::Converted,
            1 => ItemOutcome::Replayed,
            2 => ItemOutcome::Refused {
                code: r.str("code", 64).ok()?.to_owned(),
                message: r.str("message", MAX_MESSAGE_BYTES).ok()?.to_owned(),
            },
            _ => return None,
        });
    }
    r.finish().ok()?;
    Some(out)
}

/// The outcomes of one brand chain's batches, by transaction id.
#[derive(Debug, Clone, Default)]
pub struct Batches {
    outcomes: HashMap<TxId, Vec<ItemOutcome>>,
}

impl Batches {
    /// A batch's outcomes, item by item.
    pub fn outcomes(&self, tx: &TxId) -> Option<&[ItemOutcome]> {
        self.outcomes.get(tx).map(Vec::as_slice)
    }

    pub(crate) fn write(&mut self, tx: TxId, outcomes: Vec<ItemOutcome>) -> Vec<u8> {
        self.outcomes.insert(tx, outcomes);
        batch_key(&tx)
    }

    pub(crate) fn value(&self, key: &[u8]) -> Option<Vec<u8>> {
        let tx = Hash(key.get(1..)?.try_into().ok()?);
        self.outcomes.get(&tx).map(|o| encode_outcomes(o))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.outcomes.keys().map(batch_key)
    }

    pub(crate) fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let tx = key.get(1..).and_then(|k| <[u8; 32]>::try_from(k).ok());
        match (tx, decode_outcomes(value)) {
            (Some(tx), Some(outcomes)) => {
                self.outcomes.insert(Hash(tx), outcomes);
                true
            }
            _ => false,
        }
    }
}

/// What a checked batch changes: the conversions' writes (the outcomes' record last) and
/// the tokens minted, by account.
#[derive(Debug, Default)]
pub(crate) struct BatchPlan {
    pub(crate) writes: Vec<BrandWrite>,
    pub(crate) mints: Vec<(Address, Amount)>,
}

impl BrandState {
    /// Checks a batch of conversions by the issuer at block time `now_ms`: the partner must
    /// be converting at all; then each item on its own, seeing the items before it (their
    /// references, and what they converted for the same customer today).
    pub(crate) fn plan_convert_batch(
        &self,
        items: &[ConversionItem],
        tx: TxId,
        now_ms: u64,
        decimals: u8,
    ) -> Result<BatchPlan, BrandError> {
        let max = super::action::MAX_CONVERSION_BATCH;
        if items.is_empty() || items.len() > max {
            return Err(BrandError::BatchSize { max });
        }
        self.check_converting()?;
        let mut plan = BatchPlan::default();
        let mut seen: HashSet<&str> = HashSet::default();
        let mut today: HashMap<Address, Amount> = HashMap::default();
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            let outcome = if !seen.insert(&item.reference) {
                ItemOutcome::refused(&BrandError::ReferenceUsed)
            } else {
                let earlier = today.get(&item.to).copied().unwrap_or(Amount::ZERO);
                match self.plan_item(item, tx, now_ms, decimals, earlier) {
                    Ok(None) => ItemOutcome::Replayed,
                    Ok(Some((write, amount))) => {
                        today.insert(item.to, earlier.checked_add(amount).unwrap_or(Amount::MAX));
                        plan.mints.push((item.to, amount));
                        plan.writes.push(write);
                        ItemOutcome::Converted
                    }
                    Err(e) => ItemOutcome::refused(&e),
                }
            };
            outcomes.push(outcome);
        }
        plan.writes.push(BrandWrite::Batch(tx, outcomes));
        Ok(plan)
    }

    /// One item: `None` if its reference already converted exactly this (a retry), else the
    /// conversion's write and what it mints.
    fn plan_item(
        &self,
        item: &ConversionItem,
        tx: TxId,
        now_ms: u64,
        decimals: u8,
        earlier: Amount,
    ) -> Result<Option<(BrandWrite, Amount)>, BrandError> {
        Self::check_reference(&item.reference)?;
        if let Some(first) = self.conversion(&item.reference) {
            return match first.to == item.to && first.mileage == item.mileage {
                true => Ok(None),
                false => Err(BrandError::ReferenceUsed),
            };
        }
        let write = self.plan_minting(item, tx, now_ms, decimals, earlier)?;
        let BrandWrite::Convert {
            conversion: Conversion { amount, .. },
            ..
        } = &write
        else {
            unreachable!("plan_minting plans a conversion")
        };
        let amount = *amount;
        Ok(Some((write, amount)))
    }
}
