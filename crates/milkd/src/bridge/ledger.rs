//! The center chain's bridge records, read back from its store.

use crate::node::{ChainHandle, Node};
use milk_core::bridge::{
    Batch, BridgePolicy, Deposit, DepositKey, Totals, Withdrawal, record, tree,
};
use milk_core::codec::Decode;
use milk_core::{Address, ChainId, Hash, Symbol};
use milk_store::{ChainStore, StoreError};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

fn center(node: &Node) -> Arc<ChainHandle> {
    node.chain(&ChainId::center())
        .expect("every node hosts the center chain")
}

fn decode<T: Decode>(key: &[u8], bytes: Option<Vec<u8>>) -> Result<Option<T>, StoreError> {
    match bytes {
        None => Ok(None),
        Some(b) => T::from_bytes(&b)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("bridge record {}: {e}", hex::encode(key)))),
    }
}

fn read<T: Decode>(node: &Node, key: &[u8]) -> Result<Option<T>, StoreError> {
    decode(key, center(node).store.record(key)?)
}

/// Where the queue stands and what crossed.
pub fn totals(node: &Node) -> Result<Totals, StoreError> {
    Ok(read(node, &[record::TOTALS])?.unwrap_or_default())
}

/// What was burned of `asset` on the center chain since genesis, whatever the reason.
pub fn burned(node: &Node, asset: &Symbol) -> Result<u128, StoreError> {
    let key = milk_core::ledger::record::burned(asset);
    match center(node).store.record(&key)? {
        None => Ok(0),
        Some(v) => milk_core::ledger::record::u128_value(&v)
            .ok_or_else(|| StoreError::Corrupt(format!("burned record {}", hex::encode(&key)))),
    }
}

/// The policy in force; none without a bridge.
pub fn policy(node: &Node) -> Result<Option<BridgePolicy>, StoreError> {
    let Some(config) = &node.genesis.bridge else {
        return Ok(None);
    };
    Ok(Some(
        read(node, &[record::POLICY])?.unwrap_or_else(|| config.policy.clone()),
    ))
}

/// One withdrawal.
pub fn withdrawal(node: &Node, number: u64) -> Result<Option<Withdrawal>, StoreError> {
    read(node, &record::numbered(record::WITHDRAWAL, number))
}

/// One batch.
pub fn batch(node: &Node, number: u64) -> Result<Option<Batch>, StoreError> {
    read(node, &record::numbered(record::BATCH, number))
}

/// One deposit.
pub fn deposit(node: &Node, key: &DepositKey) -> Result<Option<Deposit>, StoreError> {
    read(node, &record::deposit(key))
}

/// The number of the withdrawal whose id (its center-chain transaction) is `id`.
pub fn withdrawal_number(node: &Node, id: &Hash) -> Result<Option<u64>, StoreError> {
    read(node, &record::withdrawal_id(id))
}

/// Deposit `number`, with its key.
pub fn deposit_numbered(
    node: &Node,
    number: u64,
) -> Result<Option<(DepositKey, Deposit)>, StoreError> {
    let k = record::numbered(record::DEPOSIT_NUMBER, number);
    let Some(value) = center(node).store.record(&k)? else {
        return Ok(None);
    };
    let key = record::deposit_key_from_value(&value)
        .ok_or_else(|| StoreError::Corrupt(format!("bridge record {}", hex::encode(&k))))?;
    let d = deposit(node, &key)?
        .ok_or_else(|| StoreError::Corrupt(format!("deposit {number} has no record")))?;
    Ok(Some((key, d)))
}

/// Which of an account's withdrawals or deposits ([`record::ACCOUNT_WITHDRAWAL`],
/// [`record::ACCOUNT_DEPOSIT`]): at most `limit` numbers below `before` (or the newest),
/// newest first.
pub fn account_numbers(
    node: &Node,
    account: &Address,
    kind: u8,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<u64>, StoreError> {
    let prefix = record::account(account, kind);
    let before = before.map(u64::to_be_bytes);
    let page =
        center(node)
            .store
            .records_before(&prefix, before.as_ref().map(|b| &b[..]), limit)?;
    page.iter()
        .map(|(k, _)| {
            record::trailing_number(k)
                .ok_or_else(|| StoreError::Corrupt(format!("bridge record {}", hex::encode(k))))
        })
        .collect()
}

/// A sealed batch's tree, built from its withdrawals' records.
pub fn batch_tree(node: &Node, number: u64) -> Result<Option<(Batch, tree::Tree)>, StoreError> {
    let Some(b) = batch(node, number)? else {
        return Ok(None);
    };
    let mut leaves = Vec::with_capacity(b.count as usize);
    for n in b.first..b.first + u64::from(b.count) {
        let w = withdrawal(node, n)?
            .ok_or_else(|| StoreError::Corrupt(format!("batch {number} lacks withdrawal {n}")))?;
        leaves.push(w.leaf());
    }
    let tree =
        tree::Tree::new(leaves).ok_or_else(|| StoreError::Corrupt("an empty batch".into()))?;
    if tree.root() != b.root.0 {
        return Err(StoreError::Corrupt(format!(
            "batch {number}'s root does not match"
        )));
    }
    Ok(Some((b, tree)))
}

/// A batch's root, and one withdrawal's siblings from its leaf up.
pub type Proof = ([u8; 32], Vec<[u8; 32]>);

/// Batch trees built once each, for as long as one answer or one relayer round lasts:
/// proving many withdrawals of a batch reads its records once.
#[derive(Default)]
pub struct Trees(HashMap<u64, Option<(Batch, tree::Tree)>>);

impl Trees {
    /// Withdrawal `number`'s proof in batch `batch`.
    pub fn proof(
        &mut self,
        node: &Node,
        batch: u64,
        number: u64,
    ) -> Result<Option<Proof>, StoreError> {
        let built = match self.0.entry(batch) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(batch_tree(node, batch)?),
        };
        let Some((b, tree)) = built else {
            return Ok(None);
        };
        let index = number.checked_sub(b.first).map(|i| i as usize);
        Ok(index.and_then(|i| tree.proof(i)).map(|p| (tree.root(), p)))
    }
}
