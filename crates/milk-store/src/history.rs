//! Each account's history: for every transaction that concerned an account (it sent it, or
//! a balance of its changed), the block height and position, and the account's net balance
//! changes in it. Written in the block's own write transaction from the effects the chain
//! state recorded, so a history line exists exactly when its block does.
//!
//! Key: `account (32) ‖ height (8, big-endian) ‖ index (4, big-endian)`, so one account's
//! lines are one range, oldest first. Value: the changes, `count (4) ‖ (symbol, amount,
//! credit)…` in the canonical encoding.

use super::{RedbStore, StoreError};
use milk_core::codec::{Reader, Writer};
use milk_core::state::{BalanceChange, TxEffects};
use milk_core::{Address, Amount, Symbol};
use redb::{ReadableDatabase, TableDefinition, WriteTransaction};
use std::collections::HashMap;

pub(crate) const HISTORY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("history");

/// The most lines one read returns.
pub const MAX_HISTORY_PAGE: usize = 500;

/// One line of an account's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    /// The block height.
    pub height: u64,
    /// The transaction's position in its block.
    pub index: u32,
    /// The account's net balance changes in it: `(asset, amount, credited)`; none when the
    /// account only sent it (a consent, a check-in that earned nothing).
    pub changes: Vec<(Symbol, Amount, bool)>,
}

fn key(account: &Address, height: u64, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(44);
    k.extend_from_slice(account.as_bytes());
    k.extend_from_slice(&height.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k
}

fn encode_changes(mine: &[&BalanceChange]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(mine.len() as u32);
    for c in mine {
        w.str(c.asset.as_str())
            .u128(c.amount.units())
            .u8(c.credit as u8);
    }
    w.into_bytes()
}

fn decode_changes(bytes: &[u8]) -> Result<Vec<(Symbol, Amount, bool)>, StoreError> {
    let bad = |e: String| StoreError::Corrupt(format!("history line: {e}"));
    let mut r = Reader::new(bytes);
    let count = r.u32().map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for _ in 0..count {
        let symbol: Symbol = r
            .str("asset", Symbol::MAX_LEN)
            .map_err(|e| bad(e.to_string()))?
            .parse()
            .map_err(bad)?;
        let amount = Amount::new(r.u128().map_err(|e| bad(e.to_string()))?);
        let credit = r.u8().map_err(|e| bad(e.to_string()))? == 1;
        out.push((symbol, amount, credit));
    }
    r.finish().map_err(|e| bad(e.to_string()))?;
    Ok(out)
}

/// Writes the history lines of a block at `height` whose transactions had `effects`.
pub(crate) fn write(
    tx: &WriteTransaction,
    height: u64,
    effects: &[TxEffects],
) -> Result<(), StoreError> {
    let mut table = tx.open_table(HISTORY)?;
    for (index, e) in effects.iter().enumerate() {
        // Each account's changes, gathered in one pass: a batch concerns many accounts.
        let mut by_account: HashMap<Address, Vec<&BalanceChange>> = HashMap::new();
        for c in &e.changes {
            by_account.entry(c.account).or_default().push(c);
        }
        for account in e.accounts() {
            let k = key(&account, height, index as u32);
            let mine = by_account.get(&account).map_or(&[][..], Vec::as_slice);
            table.insert(k.as_slice(), encode_changes(mine).as_slice())?;
        }
    }
    Ok(())
}

impl RedbStore {
    /// `account`'s history, newest first: at most `limit` lines (up to
    /// [`MAX_HISTORY_PAGE`]) before `(height, index)`, or the latest.
    pub fn history(
        &self,
        account: &Address,
        before: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<Vec<HistoryLine>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = match tx.open_table(HISTORY) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let start = key(account, 0, 0);
        let end = match before {
            Some((height, index)) => key(account, height, index),
            None => key(account, u64::MAX, u32::MAX),
        };
        let mut out = Vec::new();
        for entry in table.range(start.as_slice()..end.as_slice())?.rev() {
            if out.len() >= limit.min(MAX_HISTORY_PAGE) {
                break;
            }
            let (k, v) = entry?;
            let k = k.value();
            let height = u64::from_be_bytes(k[32..40].try_into().expect("8 bytes"));
            let index = u32::from_be_bytes(k[40..44].try_into().expect("4 bytes"));
            out.push(HistoryLine {
                height,
                index,
                changes: decode_changes(v.value())?,
            });
        }
        Ok(out)
    }
}
