//! A chain's replicated log and vote, in their own redb file (`<data-dir>/raft/<chain>.redb`).
//!
//! openraft's rules: the vote is durable before `save_vote` returns; appended entries are
//! readable when `append` returns and durable when its callback fires (here, both at once:
//! one write transaction with `Durability::Immediate` per append); writes happen in the
//! order they are asked for (every method takes `&mut self`, and each waits for its write).
//!
//! Two things openraft may ask for are held back so that a crash never leaves the log behind
//! the chain's store (a node in that state could not start again):
//! - a purge beyond what the chain's store has durably applied: installing a leader's
//!   snapshot, openraft purges the log it covers as soon as it hands the snapshot to the state
//!   machine, not once the install is durable. The purge goes as far as the store has
//!   applied; the rest follows when the install ends ([`LogStore::resume_purge`]) or with the
//!   next purge.
//! - the committed position: openraft reapplies entries up to it at start-up, and after a
//!   snapshot install it may be past entries this log never held. It is not kept (openraft
//!   allows that): a restarted replica resumes from what its store applied, and the leader
//!   tells it what is committed.

use super::machine::Position;
use super::{StorageResult, TypeConfig, codec};
use milk_store::RedbStore;
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{
    AnyError, Entry, LogId, LogState, OptionalSend, RaftLogReader, StorageError, StorageIOError,
    Vote,
};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{Arc, Mutex};

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const VOTE: &str = "vote";
const PURGED: &str = "last_purged";

/// The log store; clones share the database (openraft reads with one while it writes with
/// another).
#[derive(Clone)]
pub struct LogStore {
    db: Arc<Database>,
    /// The chain's store: what it has durably applied bounds what may be purged.
    chain: RedbStore,
    /// A purge asked for beyond what the chain's store had applied.
    held_back: Arc<Mutex<Option<LogId<u64>>>>,
}

fn io<E: std::fmt::Display>(e: E) -> StorageError<u64> {
    StorageIOError::write(AnyError::error(e)).into()
}

impl LogStore {
    /// Opens (or creates) the log at `path` of the chain whose store is `chain`.
    pub fn open(path: &Path, chain: RedbStore) -> Result<LogStore, String> {
        let db = Database::create(path).map_err(|e| e.to_string())?;
        let tx = db.begin_write().map_err(|e| e.to_string())?;
        tx.open_table(LOG).map_err(|e| e.to_string())?;
        tx.open_table(META).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        Ok(LogStore {
            db: Arc::new(db),
            chain,
            held_back: Arc::default(),
        })
    }

    /// Purges what an earlier purge held back, as far as the chain's store has now applied
    /// (the state machine calls it once a snapshot's install is durable).
    pub async fn resume_purge(&self) -> StorageResult<()> {
        let held = self.held_back.lock().expect("purge lock").take();
        match held {
            Some(upto) => self.purge_applied(upto).await,
            None => Ok(()),
        }
    }

    /// Purges up to `upto`, or only up to the chain store's durably applied entry if that is
    /// lower (remembering `upto` for [`LogStore::resume_purge`]).
    async fn purge_applied(&self, upto: LogId<u64>) -> StorageResult<()> {
        let applied = Position::read(&self.chain).map_err(io)?.applied;
        let reach = match applied {
            Some(a) if a.index < upto.index => {
                *self.held_back.lock().expect("purge lock") = Some(upto);
                a
            }
            Some(_) => upto,
            None => {
                *self.held_back.lock().expect("purge lock") = Some(upto);
                return Ok(());
            }
        };
        let purged: Option<LogId<u64>> = self.read_meta(PURGED)?;
        if purged.is_some_and(|p| p.index >= reach.index) {
            return Ok(());
        }
        let bytes = codec::encode(&reach);
        self.write(move |tx| {
            tx.open_table(META)?.insert(PURGED, bytes.as_slice())?;
            tx.open_table(LOG)?
                .retain_in(..=reach.index, |_, _| false)?;
            Ok(())
        })
        .await
    }

    /// Runs one durable write transaction off the async threads.
    async fn write<F>(&self, f: F) -> StorageResult<()>
    where
        F: FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || -> Result<(), redb::Error> {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            f(&tx)?;
            tx.commit()?;
            Ok(())
        })
        .await
        .map_err(io)?
        .map_err(io)
    }

    #[expect(
        clippy::result_large_err,
        reason = "openraft's storage error, as its traits return it"
    )]
    fn read_meta<T: serde::de::DeserializeOwned>(&self, key: &str) -> StorageResult<Option<T>> {
        let tx = self.db.begin_read().map_err(io)?;
        let meta = tx.open_table(META).map_err(io)?;
        let Some(v) = meta.get(key).map_err(io)? else {
            return Ok(None);
        };
        codec::decode(v.value()).map(Some).map_err(io)
    }

    async fn write_meta<T: serde::Serialize>(
        &self,
        key: &'static str,
        value: &T,
    ) -> StorageResult<()> {
        let bytes = codec::encode(value);
        self.write(move |tx| {
            tx.open_table(META)?.insert(key, bytes.as_slice())?;
            Ok(())
        })
        .await
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> StorageResult<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let tx = self.db.begin_read().map_err(io)?;
        let log = tx.open_table(LOG).map_err(io)?;
        let mut out = Vec::new();
        for item in log.range(start..).map_err(io)? {
            let (k, v) = item.map_err(io)?;
            if !range.contains(&k.value()) {
                break;
            }
            out.push(codec::decode(v.value()).map_err(io)?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> StorageResult<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogId<u64>> = self.read_meta(PURGED)?;
        let tx = self.db.begin_read().map_err(io)?;
        let log = tx.open_table(LOG).map_err(io)?;
        let last = match log.last().map_err(io)? {
            Some((_, v)) => Some(
                codec::decode::<Entry<TypeConfig>>(v.value())
                    .map_err(io)?
                    .log_id,
            ),
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> StorageResult<()> {
        self.write_meta(VOTE, vote).await
    }

    async fn read_vote(&mut self) -> StorageResult<Option<Vote<u64>>> {
        self.read_meta(VOTE)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> StorageResult<()>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let encoded: Vec<(u64, Vec<u8>)> = entries
            .into_iter()
            .map(|e| (e.log_id.index, codec::encode(&e)))
            .collect();
        let written = self
            .write(move |tx| {
                let mut log = tx.open_table(LOG)?;
                for (index, bytes) in &encoded {
                    log.insert(*index, bytes.as_slice())?;
                }
                Ok(())
            })
            .await;
        let flushed = written
            .as_ref()
            .map(|_| ())
            .map_err(|e| std::io::Error::other(e.to_string()));
        callback.log_io_completed(flushed);
        written
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> StorageResult<()> {
        self.write(move |tx| {
            let mut log = tx.open_table(LOG)?;
            log.retain_in(log_id.index.., |_, _| false)?;
            Ok(())
        })
        .await
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> StorageResult<()> {
        self.purge_applied(log_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::POSITION_KEY;
    use openraft::{CommittedLeaderId, EntryPayload};

    fn id(term: u64, index: u64) -> LogId<u64> {
        LogId::new(CommittedLeaderId::new(term, 1), index)
    }

    fn applied(chain: &RedbStore, upto: LogId<u64>) {
        let position = Position {
            applied: Some(upto),
            ..Position::default()
        };
        chain
            .put_meta(&[(POSITION_KEY, &codec::encode(&position))])
            .unwrap();
    }

    async fn log_with(path: &Path, chain: &RedbStore, upto: u64) -> LogStore {
        let log = LogStore::open(path, chain.clone()).unwrap();
        let entries: Vec<(u64, Vec<u8>)> = (1..=upto)
            .map(|i| {
                let entry = Entry::<TypeConfig> {
                    log_id: id(1, i),
                    payload: EntryPayload::Blank,
                };
                (i, codec::encode(&entry))
            })
            .collect();
        log.write(move |tx| {
            let mut table = tx.open_table(LOG)?;
            for (i, bytes) in &entries {
                table.insert(*i, bytes.as_slice())?;
            }
            Ok(())
        })
        .await
        .unwrap();
        log
    }

    /// openraft purges what a snapshot covers before its install is durable: a crash then
    /// must find the log reaching back to what the chain's store applied, or the replica
    /// could never start again.
    #[tokio::test]
    async fn a_purge_never_passes_what_the_chain_store_applied() {
        let dir = tempfile::tempdir().unwrap();
        let chain = RedbStore::open(&dir.path().join("chain.redb")).unwrap();
        applied(&chain, id(1, 119));
        let path = dir.path().join("log.redb");
        let mut log = log_with(&path, &chain, 150).await;
        log.purge(id(2, 212)).await.unwrap();
        drop(log);
        // The crash: the snapshot's install never finished.
        let mut log = LogStore::open(&path, chain.clone()).unwrap();
        let state = log.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id, Some(id(1, 119)));
        assert_eq!(state.last_log_id, Some(id(1, 150)));
        assert_eq!(log.try_get_log_entries(120..=150).await.unwrap().len(), 31);
        assert_eq!(log.read_committed().await.unwrap(), None);
    }

    /// Once the install is durable, what was held back is purged.
    #[tokio::test]
    async fn a_held_back_purge_follows_the_install() {
        let dir = tempfile::tempdir().unwrap();
        let chain = RedbStore::open(&dir.path().join("chain.redb")).unwrap();
        applied(&chain, id(1, 119));
        let mut log = log_with(&dir.path().join("log.redb"), &chain, 150).await;
        log.purge(id(2, 212)).await.unwrap();
        applied(&chain, id(2, 212));
        log.resume_purge().await.unwrap();
        let state = log.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id, Some(id(2, 212)));
        assert!(log.try_get_log_entries(0..=212).await.unwrap().is_empty());
        // Nothing is held back any more: resuming again changes nothing.
        log.resume_purge().await.unwrap();
        assert_eq!(
            log.get_log_state().await.unwrap().last_purged_log_id,
            Some(id(2, 212))
        );
    }
}
