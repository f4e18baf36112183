//! The state machine: a chain's store, changed only by its worker. openraft hands it
//! committed entries; each goes to the worker (which checks and applies a block, or records
//! a position) and `apply` returns once every one is durable, with the log position written
//! in the same store transaction as its block. A snapshot is the store's image.

use super::log::LogStore;
use super::{BlockBytes, StorageResult, TypeConfig, codec};
use crate::metrics::{Metrics, chain_label};
use crate::worker::{Applied, Command, POSITION_KEY};
use milk_core::block::Block;
use milk_core::codec::Decode;
use milk_store::{RedbStore, StoreImage};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, Entry, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder,
    SnapshotMeta, StorageError, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// What the store records of the log: the last entry applied and the membership in force.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Position {
    /// The last log entry applied.
    pub applied: Option<LogId<u64>>,
    /// The last membership applied.
    pub membership: StoredMembership<u64, BasicNode>,
}

impl Position {
    /// The position recorded in `store`, or none yet.
    pub fn read(store: &RedbStore) -> Result<Position, String> {
        match store.meta(POSITION_KEY).map_err(|e| e.to_string())? {
            None => Ok(Position::default()),
            Some(bytes) => codec::decode(&bytes).map_err(|e| format!("log position: {e}")),
        }
    }
}

type Stored = Arc<Mutex<Option<(SnapshotMeta<u64, BasicNode>, Arc<Vec<u8>>)>>>;

/// A chain's state machine.
pub struct Machine {
    commands: SyncSender<Command>,
    store: RedbStore,
    metrics: Arc<Metrics>,
    position: Position,
    snapshot: Stored,
    log: LogStore,
}

fn failed<E: std::fmt::Display>(e: E) -> StorageError<u64> {
    StorageIOError::write_state_machine(AnyError::error(e)).into()
}

impl Machine {
    /// The state machine of the chain whose worker takes `commands`, whose store is `store`
    /// and whose log is `log`.
    pub fn new(
        commands: SyncSender<Command>,
        store: RedbStore,
        metrics: Arc<Metrics>,
        log: LogStore,
    ) -> Result<Machine, String> {
        let position = Position::read(&store)?;
        Ok(Machine {
            commands,
            store,
            metrics,
            position,
            snapshot: Arc::default(),
            log,
        })
    }

    /// Hands a command to the worker, waiting while its queue is full.
    async fn send(&self, cmd: Command) -> StorageResult<()> {
        match super::group::send(&self.commands, cmd).await {
            true => Ok(()),
            false => Err(failed("the chain has stopped")),
        }
    }

    async fn apply_one(
        &mut self,
        entry: Entry<TypeConfig>,
    ) -> StorageResult<oneshot::Receiver<Result<(), String>>> {
        self.position.applied = Some(entry.log_id);
        let block = match entry.payload {
            EntryPayload::Blank => None,
            EntryPayload::Normal(BlockBytes(bytes)) => {
                let block = Block::from_bytes(&bytes)
                    .map_err(|e| failed(format!("entry {}: {e}", entry.log_id)))?;
                Some(Box::new(block))
            }
            EntryPayload::Membership(m) => {
                self.position.membership = StoredMembership::new(Some(entry.log_id), m);
                None
            }
        };
        let (reply, done): (Applied, _) = oneshot::channel();
        let position = codec::encode(&self.position);
        self.send(Command::Apply {
            position,
            block,
            reply,
        })
        .await?;
        Ok(done)
    }
}

impl RaftStateMachine<TypeConfig> for Machine {
    type SnapshotBuilder = Builder;

    async fn applied_state(
        &mut self,
    ) -> StorageResult<(Option<LogId<u64>>, StoredMembership<u64, BasicNode>)> {
        Ok((self.position.applied, self.position.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> StorageResult<Vec<()>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        // Every entry is handed over first, so the worker pipelines their writes.
        let mut pending = Vec::new();
        for entry in entries {
            pending.push(self.apply_one(entry).await?);
        }
        let n = pending.len();
        for done in pending {
            done.await.map_err(failed)?.map_err(failed)?;
        }
        Ok(vec![(); n])
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        Builder {
            store: self.store.clone(),
            snapshot: self.snapshot.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> StorageResult<()> {
        let bytes = snapshot.into_inner();
        let image = tokio::task::spawn_blocking(move || StoreImage::check(bytes))
            .await
            .map_err(failed)?
            .map_err(failed)?;
        let position: Position = image_position(&image).map_err(failed)?;
        if position.applied != meta.last_log_id {
            return Err(failed("the image's log position is not the snapshot's"));
        }
        let shared = Arc::new(image.bytes.clone());
        let head = image.head.clone();
        let (reply, done) = oneshot::channel();
        self.send(Command::Install {
            image: Box::new(image),
            reply,
        })
        .await?;
        done.await.map_err(failed)?.map_err(failed)?;
        self.position = position;
        // openraft purged the log this snapshot covers before the install was durable; the
        // log store held that purge back until now.
        self.log.resume_purge().await?;
        let (chain, height) = (head.chain.to_string(), head.height);
        tracing::info!(chain, height, "installed a snapshot of the leader's store");
        self.metrics
            .snapshots_installed
            .get_or_create(&chain_label(&chain))
            .inc();
        *self.snapshot.lock().expect("snapshot lock") = Some((meta.clone(), shared));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        Ok(current(&self.snapshot))
    }
}

fn current(stored: &Stored) -> Option<Snapshot<TypeConfig>> {
    let guard = stored.lock().expect("snapshot lock");
    let (meta, bytes) = guard.as_ref()?;
    Some(Snapshot {
        meta: meta.clone(),
        snapshot: Box::new(Cursor::new(bytes.to_vec())),
    })
}

fn image_position(image: &StoreImage) -> Result<Position, String> {
    match image.meta(POSITION_KEY) {
        None => Ok(Position::default()),
        Some(bytes) => codec::decode(bytes).map_err(|e| format!("image log position: {e}")),
    }
}

/// Builds snapshots: the store's image, read in one read transaction while blocks go on
/// being applied.
pub struct Builder {
    store: RedbStore,
    snapshot: Stored,
}

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<TypeConfig>> {
        let store = self.store.clone();
        let image = tokio::task::spawn_blocking(move || StoreImage::check(store.image()?))
            .await
            .map_err(failed)?
            .map_err(failed)?;
        let position = image_position(&image).map_err(failed)?;
        let index = position.applied.map_or(0, |l| l.index);
        let meta = SnapshotMeta {
            last_log_id: position.applied,
            last_membership: position.membership,
            snapshot_id: format!("{index}-{}", image.head.height),
        };
        *self.snapshot.lock().expect("snapshot lock") = Some((meta, Arc::new(image.bytes)));
        Ok(current(&self.snapshot).expect("just stored"))
    }
}
