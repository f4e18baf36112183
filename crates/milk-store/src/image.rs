//! A whole store as one byte string: what a replica that lost its data (or joins late)
//! installs instead of replaying every block.
//!
//! The image is read in one read transaction, so it is one consistent moment of the chain:
//! every block, the transaction index, the state, the meta entries (among them the
//! replicated log position the state reflects) and the accounts' history. Installing it replaces everything in one
//! durable write transaction.

use super::history::HISTORY;
use super::{BLOCKS, INDEX_EPOCH, META, RedbStore, STATE, StoreError, meta_u64, tx_index_name};
use milk_core::block::{Block, BlockHeader};
use milk_core::codec::{Decode, Reader, Writer};
use redb::{Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

const MAGIC: &[u8; 8] = b"milkimg2";
type IndexTable<'a> = TableDefinition<'a, &'static [u8], (u64, u32)>;
/// A state record: key and value.
pub type Record<'a> = (&'a [u8], &'a [u8]);

/// A decoded store image, checked to be one chain of blocks.
#[derive(Debug)]
pub struct StoreImage {
    /// The image's bytes.
    pub bytes: Vec<u8>,
    /// Its last block's header.
    pub head: BlockHeader,
    /// Its meta entries.
    meta: Vec<(String, Vec<u8>)>,
}

impl RedbStore {
    /// Everything in the store, as one image.
    pub fn image(&self) -> Result<Vec<u8>, StoreError> {
        let tx = self.db.begin_read()?;
        let mut w = Writer::new();
        w.fixed(MAGIC);
        let blocks = tx.open_table(BLOCKS)?;
        w.u64(blocks.len()?);
        for entry in blocks.iter()? {
            let (k, v) = entry?;
            w.u64(k.value()).bytes(v.value());
        }
        let state = tx.open_table(STATE)?;
        w.u64(state.len()?);
        for entry in state.iter()? {
            let (k, v) = entry?;
            w.bytes(k.value()).bytes(v.value());
        }
        let meta = tx.open_table(META)?;
        w.u64(meta.len()?);
        for entry in meta.iter()? {
            let (k, v) = entry?;
            w.str(k.value()).bytes(v.value());
        }
        let epochs = meta_u64(&meta, INDEX_EPOCH)? + 1;
        w.u64(epochs);
        for e in 0..epochs {
            let index = tx.open_table(IndexTable::new(&tx_index_name(e)))?;
            w.u64(index.len()?);
            for entry in index.iter()? {
                let (k, v) = entry?;
                let (height, position) = v.value();
                w.bytes(k.value()).u64(height).u32(position);
            }
        }
        let history = tx.open_table(HISTORY)?;
        w.u64(history.len()?);
        for entry in history.iter()? {
            let (k, v) = entry?;
            w.bytes(k.value()).bytes(v.value());
        }
        Ok(w.into_bytes())
    }

    /// Replaces everything in the store with `image`, durably, in one transaction.
    pub fn install(&self, image: &StoreImage) -> Result<(), StoreError> {
        let mut r = Reader::new(&image.bytes);
        magic(&mut r)?;
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        let old_epochs = meta_u64(&tx.open_table(META)?, INDEX_EPOCH)? + 1;
        for e in 0..old_epochs {
            tx.delete_table(IndexTable::new(&tx_index_name(e)))?;
        }
        tx.delete_table(BLOCKS)?;
        tx.delete_table(STATE)?;
        tx.delete_table(META)?;
        tx.delete_table(HISTORY)?;
        {
            let mut blocks = tx.open_table(BLOCKS)?;
            for _ in 0..r.u64().map_err(corrupt)? {
                let height = r.u64().map_err(corrupt)?;
                blocks.insert(height, field(&mut r)?)?;
            }
            let mut state = tx.open_table(STATE)?;
            for _ in 0..r.u64().map_err(corrupt)? {
                state.insert(field(&mut r)?, field(&mut r)?)?;
            }
            let mut meta = tx.open_table(META)?;
            for _ in 0..r.u64().map_err(corrupt)? {
                let key = r.str("meta key", 256).map_err(corrupt)?;
                meta.insert(key, field(&mut r)?)?;
            }
            for e in 0..r.u64().map_err(corrupt)? {
                let mut index = tx.open_table(IndexTable::new(&tx_index_name(e)))?;
                for _ in 0..r.u64().map_err(corrupt)? {
                    let id = field(&mut r)?;
                    let location = (r.u64().map_err(corrupt)?, r.u32().map_err(corrupt)?);
                    index.insert(id, location)?;
                }
            }
            let mut history = tx.open_table(HISTORY)?;
            for _ in 0..r.u64().map_err(corrupt)? {
                history.insert(field(&mut r)?, field(&mut r)?)?;
            }
        }
        r.finish().map_err(corrupt)?;
        tx.commit()?;
        self.latest.clear();
        Ok(())
    }
}

impl StoreImage {
    /// Decodes an image and checks that its blocks form one chain: each block's
    /// transactions are the ones its header commits to, and each header names its parent's
    /// hash, from height 0 to the head, and the head carries its producer's signature. So
    /// the head vouches for every block; whoever installs the image checks that its
    /// producer is in the chain's producer set.
    pub fn check(bytes: Vec<u8>) -> Result<StoreImage, StoreError> {
        let mut r = Reader::new(&bytes);
        magic(&mut r)?;
        let count = r.u64().map_err(corrupt)?;
        let mut parent: Option<BlockHeader> = None;
        let mut head_signed = false;
        for expected in 0..count {
            let height = r.u64().map_err(corrupt)?;
            let block = Block::decode(&mut Reader::new(field(&mut r)?)).map_err(corrupt)?;
            let h = &block.header;
            let whole =
                block.computed_tx_root() == h.tx_root && h.tx_count as usize == block.txs.len();
            let linked = whole
                && match &parent {
                    None => h.height == 0,
                    Some(p) => h.height == p.height + 1 && h.prev_hash == p.hash(),
                };
            if height != expected || h.height != height || !linked {
                return Err(StoreError::Corrupt(format!(
                    "image block {height} does not extend its parent"
                )));
            }
            head_signed = block.signature_valid();
            parent = Some(block.header);
        }
        let head = parent.ok_or_else(|| StoreError::Corrupt("image holds no block".into()))?;
        if !head_signed {
            return Err(StoreError::Corrupt(
                "the image's head is not signed by its producer".into(),
            ));
        }
        let meta = skim_rest(&mut r)?;
        r.finish().map_err(corrupt)?;
        Ok(StoreImage { bytes, head, meta })
    }

    /// The image's state records, (key, value) in key order: whoever installs it can
    /// rebuild the chain state first (and so read the producer set it ends with).
    pub fn state(&self) -> Result<Vec<Record<'_>>, StoreError> {
        let mut r = Reader::new(&self.bytes);
        magic(&mut r)?;
        for _ in 0..r.u64().map_err(corrupt)? {
            r.u64().map_err(corrupt)?;
            field(&mut r)?;
        }
        let count = r.u64().map_err(corrupt)?;
        (0..count)
            .map(|_| Ok((field(&mut r)?, field(&mut r)?)))
            .collect()
    }

    /// One of the image's meta entries.
    pub fn meta(&self, key: &str) -> Option<&[u8]> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// Reads past the state, meta, index and history sections to the end: a cut image is refused here,
/// not halfway through installing it.
fn skim_rest(r: &mut Reader<'_>) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    for _ in 0..r.u64().map_err(corrupt)? {
        field(r)?;
        field(r)?;
    }
    let mut meta = Vec::new();
    for _ in 0..r.u64().map_err(corrupt)? {
        let key = r.str("meta key", 256).map_err(corrupt)?;
        meta.push((key.to_owned(), field(r)?.to_vec()));
    }
    for _ in 0..r.u64().map_err(corrupt)? {
        for _ in 0..r.u64().map_err(corrupt)? {
            field(r)?;
            r.u64().map_err(corrupt)?;
            r.u32().map_err(corrupt)?;
        }
    }
    for _ in 0..r.u64().map_err(corrupt)? {
        field(r)?;
        field(r)?;
    }
    Ok(meta)
}

fn magic(r: &mut Reader<'_>) -> Result<(), StoreError> {
    if r.take(MAGIC.len()).map_err(corrupt)? != MAGIC {
        return Err(StoreError::Corrupt("not a store image".into()));
    }
    Ok(())
}

fn field<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], StoreError> {
    r.bytes("image field", usize::MAX).map_err(corrupt)
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("image: {e}"))
}
