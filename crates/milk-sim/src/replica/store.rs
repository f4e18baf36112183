//! Each simulated node's disk: its Raft log and vote, and its state machine (its replica of
//! the chain: every block from genesis, checked and applied as a node's worker applies a
//! leader's blocks, with the log position beside it). Everything here is durable the moment
//! it is written, as the node's redb files are (every log write and every block commits with
//! `Durability::Immediate`, and a block's log position in the block's own transaction): a
//! crash loses only what was in flight. A snapshot is the chain's blocks, which a replica
//! that fell behind the leader's log replays from genesis.

use super::checks::Checks;
use super::{C, StorageResult};
use milk_core::ChainId;
use milk_core::block::Block;
use milk_core::chain::Verifier;
use milk_core::codec::{Decode, Encode};
use milk_core::genesis::Genesis;
use openraft::storage::{LogFlushed, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, Entry, EntryPayload, LogId, LogState, OptionalSend, RaftLogReader,
    RaftSnapshotBuilder, SnapshotMeta, StorageError, StorageIOError, StoredMembership, Vote,
};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::Cursor;
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex, MutexGuard};

/// A replica of the chain: every block, and the state after the last.
pub struct Replica {
    verifier: Verifier,
    /// Every block from genesis.
    pub blocks: Vec<Block>,
}

impl Replica {
    /// The chain at genesis.
    pub fn genesis(genesis: &Genesis, chain: &ChainId) -> Result<Replica, String> {
        let spec = genesis.chain(chain).ok_or(format!("no chain {chain}"))?;
        let (block, _) = genesis.genesis_block(spec)?;
        let verifier = Verifier::start(genesis, chain, &block)?;
        Ok(Replica {
            verifier,
            blocks: vec![block],
        })
    }

    /// Checks the next block under the chain's rules and applies it.
    pub fn apply(&mut self, block: Block) -> Result<(), String> {
        self.verifier.apply(&block).map_err(|e| e.to_string())?;
        self.blocks.push(block);
        Ok(())
    }

    /// The state after the last block.
    pub fn state(&self) -> &milk_core::state::ChainState {
        self.verifier.state()
    }

    /// The last block.
    pub fn head(&self) -> &Block {
        self.blocks.last().expect("the genesis block at least")
    }
}

/// What a node's disk holds.
pub struct DiskState {
    vote: Option<Vote<u64>>,
    log: BTreeMap<u64, Entry<C>>,
    purged: Option<LogId<u64>>,
    applied: Option<LogId<u64>>,
    membership: StoredMembership<u64, BasicNode>,
    snapshot: Option<(SnapshotMeta<u64, BasicNode>, Vec<u8>)>,
    /// The chain.
    pub chain: Replica,
}

/// A node's disk; it outlives the node's crashes.
#[derive(Clone)]
pub struct Disk(Arc<Mutex<DiskState>>);

impl Disk {
    /// A blank disk holding the chain at genesis.
    pub fn new(chain: Replica) -> Disk {
        Disk(Arc::new(Mutex::new(DiskState {
            vote: None,
            log: BTreeMap::new(),
            purged: None,
            applied: None,
            membership: StoredMembership::default(),
            snapshot: None,
            chain,
        })))
    }

    /// What the disk holds.
    pub fn lock(&self) -> MutexGuard<'_, DiskState> {
        self.0.lock().expect("disk lock")
    }

    /// The last log entry applied to the chain.
    pub fn applied(&self) -> Option<LogId<u64>> {
        self.lock().applied
    }
}

fn failed<E: std::fmt::Display>(e: E) -> StorageError<u64> {
    StorageIOError::write_state_machine(AnyError::error(e)).into()
}

/// A node's log store.
#[derive(Clone)]
pub struct Log(pub Disk);

impl RaftLogReader<C> for Log {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> StorageResult<Vec<Entry<C>>> {
        let disk = self.0.lock();
        Ok(disk.log.range(range).map(|(_, e)| e.clone()).collect())
    }
}

impl RaftLogStorage<C> for Log {
    type LogReader = Log;

    async fn get_log_state(&mut self) -> StorageResult<LogState<C>> {
        let disk = self.0.lock();
        let last = disk.log.values().next_back().map(|e| e.log_id);
        Ok(LogState {
            last_purged_log_id: disk.purged,
            last_log_id: last.or(disk.purged),
        })
    }

    async fn get_log_reader(&mut self) -> Log {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> StorageResult<()> {
        self.0.lock().vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> StorageResult<Option<Vote<u64>>> {
        Ok(self.0.lock().vote)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<C>) -> StorageResult<()>
    where
        I: IntoIterator<Item = Entry<C>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut disk = self.0.lock();
        for e in entries {
            disk.log.insert(e.log_id.index, e);
        }
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> StorageResult<()> {
        self.0.lock().log.retain(|i, _| *i < log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> StorageResult<()> {
        let mut disk = self.0.lock();
        disk.log.retain(|i, _| *i > log_id.index);
        disk.purged = Some(log_id);
        Ok(())
    }
}

/// A node's state machine: the chain on its disk.
pub struct Machine {
    /// This node.
    pub me: u64,
    /// Its disk.
    pub disk: Disk,
    /// The genesis, to replay a snapshot from.
    pub genesis: Arc<Genesis>,
    /// What every node applies is checked against.
    pub checks: Checks,
}

impl Machine {
    fn apply_one(&self, disk: &mut DiskState, entry: Entry<C>) -> Result<(), String> {
        disk.applied = Some(entry.log_id);
        match entry.payload {
            EntryPayload::Blank => Ok(()),
            EntryPayload::Membership(m) => {
                disk.membership = StoredMembership::new(Some(entry.log_id), m);
                Ok(())
            }
            EntryPayload::Normal(bytes) => {
                let block = Block::from_bytes(&bytes).map_err(|e| e.to_string())?;
                let (height, hash) = (block.header.height, block.hash());
                disk.chain.apply(block).map_err(|e| {
                    format!(
                        "node {} finds committed block {height} invalid: {e}",
                        self.me
                    )
                })?;
                self.checks
                    .applied(self.me, entry.log_id.index, height, hash)
            }
        }
    }
}

impl RaftStateMachine<C> for Machine {
    type SnapshotBuilder = Builder;

    async fn applied_state(
        &mut self,
    ) -> StorageResult<(Option<LogId<u64>>, StoredMembership<u64, BasicNode>)> {
        let disk = self.disk.lock();
        Ok((disk.applied, disk.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> StorageResult<Vec<()>>
    where
        I: IntoIterator<Item = Entry<C>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut disk = self.disk.lock();
        let mut out = Vec::new();
        for entry in entries {
            if let Err(e) = self.apply_one(&mut disk, entry) {
                self.checks.broke(e.clone());
                return Err(failed(e));
            }
            out.push(());
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        Builder(self.disk.clone())
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
        let chain = self.disk.lock().chain.head().header.chain.clone();
        let replica = replay(&self.genesis, &chain, &bytes).inspect_err(|e| {
            self.checks
                .broke(format!("node {}: a snapshot: {e}", self.me));
        });
        let replica = replica.map_err(failed)?;
        for b in &replica.blocks {
            let index = meta.last_log_id.map_or(0, |l| l.index);
            self.checks
                .applied(self.me, index, b.header.height, b.hash())
                .map_err(failed)?;
        }
        self.checks.installed(self.me);
        let mut disk = self.disk.lock();
        disk.chain = replica;
        disk.applied = meta.last_log_id;
        disk.membership = meta.last_membership.clone();
        disk.snapshot = Some((meta.clone(), bytes));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<C>>> {
        Ok(current(&self.disk.lock()))
    }
}

fn current(disk: &DiskState) -> Option<Snapshot<C>> {
    let (meta, bytes) = disk.snapshot.as_ref()?;
    Some(Snapshot {
        meta: meta.clone(),
        snapshot: Box::new(Cursor::new(bytes.clone())),
    })
}

/// The blocks after genesis, each with its length.
fn image(replica: &Replica) -> Vec<u8> {
    let mut out = Vec::new();
    for b in &replica.blocks[1..] {
        let bytes = b.to_bytes();
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// The chain an image holds, each block checked from genesis.
fn replay(genesis: &Genesis, chain: &ChainId, mut bytes: &[u8]) -> Result<Replica, String> {
    let mut replica = Replica::genesis(genesis, chain)?;
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_at_checked(4).ok_or("a cut length")?;
        let len = u32::from_le_bytes(len.try_into().expect("four bytes")) as usize;
        let (block, rest) = rest.split_at_checked(len).ok_or("a cut block")?;
        replica.apply(Block::from_bytes(block).map_err(|e| e.to_string())?)?;
        bytes = rest;
    }
    Ok(replica)
}

/// Builds a node's snapshot: its chain as its disk holds it.
pub struct Builder(Disk);

impl RaftSnapshotBuilder<C> for Builder {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<C>> {
        let mut disk = self.0.lock();
        let index = disk.applied.map_or(0, |l| l.index);
        let meta = SnapshotMeta {
            last_log_id: disk.applied,
            last_membership: disk.membership.clone(),
            snapshot_id: format!("{index}-{}", disk.chain.head().header.height),
        };
        disk.snapshot = Some((meta, image(&disk.chain)));
        Ok(current(&disk).expect("just stored"))
    }
}
