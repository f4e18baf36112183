//! Durable storage of chains.
//!
//! Each chain lives in its own [redb](https://docs.rs/redb) file, so a brand chain's data can
//! be handed to its partner on its own. [`ChainStore`] is the seam: the node and the
//! verifier use the trait; [`RedbStore`] is the real engine, and tests give it a storage
//! backend that injects crashes and I/O failures.
//!
//! **Architecture invariant:** one block is one redb write transaction: the block, its
//! transaction index, the state it changed and the new head commit together or not at all,
//! and `commit` returns only after the data is durable. So after a crash at any instant the
//! store holds its last committed block and exactly the state that block produced.

use milk_core::block::{Block, BlockHeader};
use milk_core::codec::{Decode, Encode};
use milk_core::state::{StateDelta, record};
use milk_core::tx::TxId;
use milk_core::{Address, Amount, Symbol};
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, StorageBackend, TableDefinition,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

mod history;
mod image;
mod latest;
pub mod simdisk;
pub use history::{HistoryLine, MAX_HISTORY_PAGE};
pub use image::StoreImage;

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
// Keys are byte strings rather than arrays or tuples: redb compares `&[u8]` keys with one
// memcmp, but arrays element by element.

/// Where a node keeps a chain's store inside its data directory:
/// `<data-dir>/chains/<chain>.redb`.
pub fn chain_path(data_dir: &Path, chain: &milk_core::ChainId) -> PathBuf {
    data_dir.join("chains").join(format!("{chain}.redb"))
}

/// Entries per transaction-index epoch, by default. Ids are hashes, so each block's inserts land on
/// random leaves of the index; bounding each index table bounds the pages one block dirties,
/// however long the chain grows. A lookup walks the epochs from the newest.
pub const TX_INDEX_EPOCH: u64 = 16_384;
const INDEX_EPOCH: &str = "index_epoch";
const INDEX_EPOCH_LEN: &str = "index_epoch_len";

fn tx_index_name(epoch: u64) -> String {
    format!("tx_index_{epoch:010}")
}

fn meta_u64(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<u64, StoreError> {
    match meta.get(key)? {
        None => Ok(0),
        Some(v) => {
            let bytes: [u8; 8] = v
                .value()
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("meta {key} is not 8 bytes")))?;
            Ok(u64::from_be_bytes(bytes))
        }
    }
}
/// Every record of the chain state (`milk_core::state::record`): balances, sequence
/// numbers, supplies, and whatever later kinds of state the core defines.
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const HEAD: &str = "head";

/// Why the store failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The engine or the disk failed.
    #[error("storage engine: {0}")]
    Engine(String),
    /// The data read back is not what this version writes.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A block that does not extend the stored head.
    #[error("block {got} does not extend stored head {head}")]
    NotNext {
        /// The stored head height.
        head: u64,
        /// The height offered.
        got: u64,
    },
}

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

macro_rules! engine_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Engine(e.to_string())
            }
        }
    )*};
}
engine_errors!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// A state record: its key and value.
pub type Record = (Vec<u8>, Vec<u8>);

/// A chain's state as persisted: what the node loads at start.
#[derive(Debug)]
pub struct Snapshot {
    /// The last committed block's header.
    pub head: BlockHeader,
    /// Every state record, sorted by key.
    pub records: Vec<Record>,
}

/// Where a committed transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// The block height.
    pub height: u64,
    /// The position in the block.
    pub index: u32,
}

/// Durable storage for one chain.
pub trait ChainStore: Send + Sync {
    /// Persists a block and the state it produced, atomically and durably. The block must
    /// be the genesis block of an empty store or extend the stored head; `ids` are its
    /// transactions' ids, in order (the caller has them already).
    fn commit(&self, block: &Block, ids: &[TxId], delta: &StateDelta) -> Result<(), StoreError>;
    /// The last committed block's header, or `None` for an empty store.
    fn head(&self) -> Result<Option<BlockHeader>, StoreError>;
    /// Everything needed to resume, or `None` for an empty store.
    fn snapshot(&self) -> Result<Option<Snapshot>, StoreError>;
    /// The block at `height`, encoded.
    fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Where a transaction was committed.
    fn tx_location(&self, id: &TxId) -> Result<Option<TxLocation>, StoreError>;
    /// An account's balance of one asset and its next sequence number, as committed.
    fn account(
        &self,
        account: &Address,
        assets: &[Symbol],
    ) -> Result<(Vec<Amount>, u64), StoreError>;

    /// The committed total supply of each asset.
    fn supplies(&self, assets: &[Symbol]) -> Result<Vec<Amount>, StoreError>;

    /// One committed state record (`milk_core::state::record`, `milk_core::brand::record`).
    fn record(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every committed record whose key starts with `prefix`, in key order.
    fn records_with_prefix(&self, prefix: &[u8]) -> Result<Vec<Record>, StoreError>;

    /// At most `limit` committed records whose key starts with `prefix` and comes before
    /// `prefix ‖ before` (all of them without `before`), last key first: a page of the
    /// newest, when the keys end in numbers that grow.
    fn records_before(
        &self,
        prefix: &[u8],
        before: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError>;

    /// The block at `height`, decoded.
    fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        match self.block_bytes(height)? {
            None => Ok(None),
            Some(bytes) => Block::from_bytes(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("block {height}: {e}"))),
        }
    }
}

/// The first key after every key that starts with `prefix`; none if no key is.
fn after_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A chain stored in one redb database.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
    index_epoch: u64,
    latest: Arc<latest::Latest>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedbStore")
    }
}

impl RedbStore {
    /// Opens the database file at `path`, creating it if missing.
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        let db = Database::create(path)?;
        Self::init(db)
    }

    /// Opens a database on any storage backend (tests inject failures through it).
    pub fn with_backend(backend: impl StorageBackend) -> Result<RedbStore, StoreError> {
        let db = Database::builder().create_with_backend(backend)?;
        Self::init(db)
    }

    fn init(db: Database) -> Result<RedbStore, StoreError> {
        let tx = db.begin_write()?;
        {
            tx.open_table(BLOCKS)?;
            tx.open_table(TableDefinition::<&[u8], (u64, u32)>::new(&tx_index_name(0)))?;
            tx.open_table(STATE)?;
            tx.open_table(META)?;
            tx.open_table(history::HISTORY)?;
        }
        tx.commit()?;
        Ok(RedbStore {
            db: Arc::new(db),
            index_epoch: TX_INDEX_EPOCH,
            latest: Arc::default(),
        })
    }

    /// [`ChainStore::commit`], writing `meta` entries in the same durable transaction (a
    /// replica records which replicated log entry the block was, so the two never disagree).
    pub fn commit_with(
        &self,
        block: &Block,
        ids: &[TxId],
        delta: &StateDelta,
        meta_entries: &[(&str, &[u8])],
    ) -> Result<(), StoreError> {
        assert_eq!(ids.len(), block.txs.len(), "one id per transaction");
        debug_assert!(block.txs.iter().zip(ids).all(|(t, id)| t.tx.id() == *id));
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        {
            let mut meta = tx.open_table(META)?;
            let head = meta
                .get(HEAD)?
                .map(|v| decode_header(v.value()))
                .transpose()?;
            let height = block.header.height;
            match head {
                None if height == 0 => {}
                Some(h) if height == h.height + 1 => {}
                head => {
                    return Err(StoreError::NotNext {
                        head: head.map_or(0, |h| h.height),
                        got: height,
                    });
                }
            }
            meta.insert(HEAD, block.header.to_bytes().as_slice())?;
            for (key, value) in meta_entries {
                check_meta_key(key)?;
                meta.insert(*key, *value)?;
            }
            tx.open_table(BLOCKS)?
                .insert(height, block.encode_to_vec().as_slice())?;
            let mut epoch = meta_u64(&meta, INDEX_EPOCH)?;
            let mut len = meta_u64(&meta, INDEX_EPOCH_LEN)?;
            if len > 0 && len + ids.len() as u64 > self.index_epoch {
                epoch += 1;
                len = 0;
            }
            let name = tx_index_name(epoch);
            let mut index = tx.open_table(TableDefinition::<&[u8], (u64, u32)>::new(&name))?;
            for (i, id) in ids.iter().enumerate() {
                index.insert(id.0.as_slice(), (height, i as u32))?;
            }
            len += ids.len() as u64;
            meta.insert(INDEX_EPOCH, epoch.to_be_bytes().as_slice())?;
            meta.insert(INDEX_EPOCH_LEN, len.to_be_bytes().as_slice())?;
            let mut state = tx.open_table(STATE)?;
            for (key, value) in &delta.entries {
                match value {
                    Some(v) => state.insert(key.as_slice(), v.as_slice())?,
                    None => state.remove(key.as_slice())?,
                };
            }
        }
        // A delta made without applying the block's transactions one by one (genesis) has
        // no effects: it indexes no history.
        if delta.effects.len() == ids.len() {
            history::write(&tx, block.header.height, &delta.effects)?;
        }
        tx.commit()?;
        self.latest.clear();
        Ok(())
    }

    /// Rolls the transaction index over to a new table every `entries` (tests use a small
    /// number to exercise many epochs). Changing it for an existing store is harmless.
    pub fn with_index_epoch(mut self, entries: u64) -> RedbStore {
        self.index_epoch = entries.max(1);
        self
    }
}

/// The store's own meta keys, which no caller may write.
const RESERVED_META: [&str; 3] = [HEAD, INDEX_EPOCH, INDEX_EPOCH_LEN];

fn check_meta_key(key: &str) -> Result<(), StoreError> {
    if RESERVED_META.contains(&key) {
        return Err(StoreError::Corrupt(format!(
            "meta key {key} is the store's own"
        )));
    }
    Ok(())
}

impl RedbStore {
    /// Writes meta entries durably on their own (a replica's log entries that carry no
    /// block).
    pub fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        {
            let mut meta = tx.open_table(META)?;
            for (key, value) in entries {
                check_meta_key(key)?;
                meta.insert(*key, *value)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A meta entry written by [`RedbStore::put_meta`] or [`RedbStore::commit_with`].
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        Ok(meta.get(key)?.map(|v| v.value().to_vec()))
    }
}

fn decode_header(bytes: &[u8]) -> Result<BlockHeader, StoreError> {
    BlockHeader::from_bytes(bytes).map_err(|e| StoreError::Corrupt(format!("head: {e}")))
}

impl ChainStore for RedbStore {
    fn commit(&self, block: &Block, ids: &[TxId], delta: &StateDelta) -> Result<(), StoreError> {
        self.commit_with(block, ids, delta, &[])
    }

    fn head(&self) -> Result<Option<BlockHeader>, StoreError> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        let head = meta.get(HEAD)?;
        head.map(|v| decode_header(v.value())).transpose()
    }

    fn snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        let Some(head) = meta.get(HEAD)? else {
            return Ok(None);
        };
        let head = decode_header(head.value())?;
        let mut records = Vec::new();
        for entry in tx.open_table(STATE)?.iter()? {
            let (k, v) = entry?;
            records.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(Some(Snapshot { head, records }))
    }

    fn block_bytes(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read()?;
        let blocks = tx.open_table(BLOCKS)?;
        Ok(blocks.get(height)?.map(|v| v.value().to_vec()))
    }

    fn tx_location(&self, id: &TxId) -> Result<Option<TxLocation>, StoreError> {
        let tx = self.db.begin_read()?;
        let epoch = meta_u64(&tx.open_table(META)?, INDEX_EPOCH)?;
        for e in (0..=epoch).rev() {
            let name = tx_index_name(e);
            let index = tx.open_table(TableDefinition::<&[u8], (u64, u32)>::new(&name))?;
            if let Some(v) = index.get(id.0.as_slice())? {
                let (height, index) = v.value();
                return Ok(Some(TxLocation { height, index }));
            }
        }
        Ok(None)
    }

    fn records_with_prefix(&self, prefix: &[u8]) -> Result<Vec<Record>, StoreError> {
        let state = self.latest.state(&self.db)?;
        let mut out = Vec::new();
        for entry in state.range(prefix..)? {
            let (k, v) = entry?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn records_before(
        &self,
        prefix: &[u8],
        before: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let state = self.latest.state(&self.db)?;
        let end = match before {
            Some(b) => Some([prefix, b].concat()),
            None => after_prefix(prefix),
        };
        let range = match &end {
            Some(end) => state.range(prefix..end.as_slice())?,
            None => state.range(prefix..)?,
        };
        let mut out = Vec::new();
        for entry in range.rev().take(limit) {
            let (k, v) = entry?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn record(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let state = self.latest.state(&self.db)?;
        Ok(state.get(key)?.map(|v| v.value().to_vec()))
    }

    fn supplies(&self, assets: &[Symbol]) -> Result<Vec<Amount>, StoreError> {
        let state = self.latest.state(&self.db)?;
        assets
            .iter()
            .map(|a| read_u128(&*state, &record::supply(a)).map(Amount::new))
            .collect()
    }

    fn account(
        &self,
        account: &Address,
        assets: &[Symbol],
    ) -> Result<(Vec<Amount>, u64), StoreError> {
        let state = self.latest.state(&self.db)?;
        let amounts = assets
            .iter()
            .map(|a| read_u128(&*state, &record::balance(account, a)).map(Amount::new))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let sequence = match state.get(record::sequence(account).as_slice())? {
            None => 0,
            Some(v) => record::u64_value(v.value())
                .ok_or_else(|| StoreError::Corrupt("sequence record is not 8 bytes".into()))?,
        };
        Ok((amounts, sequence))
    }
}

/// A `u128` record, zero when absent.
fn read_u128(
    state: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<u128, StoreError> {
    match state.get(key)? {
        None => Ok(0),
        Some(v) => record::u128_value(v.value())
            .ok_or_else(|| StoreError::Corrupt(format!("record {} is not 16 bytes", key.len()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_before_a_key_is_the_newest_of_its_prefix_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(&dir.path().join("s.redb")).unwrap();
        let g = milk_core::genesis::Genesis::demo();
        let (block, _) = g.genesis_block(g.center()).unwrap();
        let (_, mut delta) = g.initial_state(g.center()).unwrap();
        let key = |ns: u8, n: u64| [&[ns][..], &n.to_be_bytes()].concat();
        for n in 0..5 {
            delta.entries.push((key(0xF0, n), Some(vec![n as u8])));
        }
        delta.entries.push((key(0xF1, 0), Some(vec![9])));
        delta.entries.push((vec![0xFF, 0xFF], Some(vec![7])));
        delta.entries.sort();
        store.commit(&block, &[], &delta).unwrap();
        let numbers = |page: Vec<Record>| page.iter().map(|(_, v)| v[0]).collect::<Vec<_>>();
        let page = store.records_before(&[0xF0], None, 3).unwrap();
        assert_eq!(numbers(page), [4, 3, 2], "newest first, within the limit");
        let page = store.records_before(&[0xF0], Some(&2u64.to_be_bytes()), 10);
        assert_eq!(numbers(page.unwrap()), [1, 0], "before 2, and no further");
        let page = store.records_before(&[0xF1], None, 10).unwrap();
        assert_eq!(numbers(page), [9], "another prefix's records are not its");
        assert_eq!(
            numbers(store.records_before(&[0xFF], None, 10).unwrap()),
            [7]
        );
        assert!(store.records_before(&[0xF2], None, 10).unwrap().is_empty());
    }
}
