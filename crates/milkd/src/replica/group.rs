//! One chain's Raft group on this node: its log, state machine and network, the proposer
//! that hands the worker's blocks to openraft, and the watch that tells the worker when it
//! leads.

use super::cluster::Cluster;
use super::log::LogStore;
use super::machine::Machine;
use super::network::{Identity, Network};
use super::{BlockBytes, Raft};
use crate::worker::{ChainShared, Command};
use milk_core::ChainId;
use milk_store::RedbStore;
use openraft::{BasicNode, ServerState, SnapshotPolicy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// Where a chain's log lives: `<data-dir>/raft/<chain>.redb`.
pub fn log_path(data_dir: &Path, chain: &ChainId) -> PathBuf {
    data_dir.join("raft").join(format!("{chain}.redb"))
}

/// Timing and snapshot settings shared by every group of a node.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// How often the leader reaches its followers when idle.
    pub heartbeat: Duration,
    /// A follower that hears nothing for this long (up to twice as long, at random) stands
    /// for election.
    pub election_timeout: Duration,
    /// A snapshot is made after this many log entries.
    pub snapshot_every: u64,
}

impl GroupConfig {
    fn raft(&self) -> Result<Arc<openraft::Config>, String> {
        let election = self.election_timeout.as_millis() as u64;
        let config = openraft::Config {
            cluster_name: "milk".into(),
            heartbeat_interval: self.heartbeat.as_millis() as u64,
            election_timeout_min: election,
            election_timeout_max: election * 2,
            max_payload_entries: 8,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_every),
            max_in_snapshot_log_to_keep: self.snapshot_every.min(1_000),
            // The last chunk's answer waits for the replica to check and install the image
            // (its blocks' hashes, its state rebuilt): far more than openraft's 200 ms.
            install_snapshot_timeout: 10_000,
            ..Default::default()
        };
        config.validate().map(Arc::new).map_err(|e| e.to_string())
    }
}

/// What it takes to start a chain's group, gathered when the chain opens.
pub struct GroupStart {
    /// The chain.
    pub chain: ChainId,
    /// The node's data directory.
    pub data_dir: PathBuf,
    /// This node.
    pub me: Arc<Identity>,
    /// Everyone.
    pub cluster: Arc<Cluster>,
    /// The chain's worker.
    pub commands: SyncSender<Command>,
    /// The chain's store.
    pub store: RedbStore,
    /// The blocks the worker proposes.
    pub proposals: UnboundedReceiver<Vec<u8>>,
    /// The chain's shared status (its leader is recorded there).
    pub shared: Arc<ChainShared>,
    /// Timing.
    pub config: GroupConfig,
    /// The node's metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Starts the group; a new cluster's groups are initialized by every founding member with
/// the same membership (openraft allows it), so the nodes may start in any order. A joining
/// node waits for the leader to add it.
pub async fn start(s: GroupStart) -> Result<Raft, String> {
    std::fs::create_dir_all(s.data_dir.join("raft")).map_err(|e| e.to_string())?;
    let log = LogStore::open(&log_path(&s.data_dir, &s.chain), s.store.clone())?;
    let machine = Machine::new(s.commands.clone(), s.store, s.metrics, log.clone())?;
    let network = Network::new(s.chain.clone(), s.me.clone());
    let raft = Raft::new(s.me.id, s.config.raft()?, network, log, machine)
        .await
        .map_err(|e| e.to_string())?;
    if !raft.is_initialized().await.map_err(|e| e.to_string())? {
        let members: BTreeMap<u64, BasicNode> = s
            .cluster
            .founders(&s.chain)
            .into_iter()
            .map(|n| (n.id, BasicNode::new(n.peer.to_string())))
            .collect();
        if members.contains_key(&s.me.id) {
            // Refused only when another member's initialization reached us first.
            let _ = raft.initialize(members).await;
        }
    }
    tokio::spawn(propose(raft.clone(), s.proposals));
    tokio::spawn(watch(raft.clone(), s.commands, s.shared, s.me.id));
    Ok(raft)
}

/// Hands the worker's blocks to openraft, in order. Whether each is committed comes back
/// through the state machine; a refused proposal (this node no longer leads) is settled by
/// the worker when it hears it follows.
async fn propose(raft: Raft, mut proposals: UnboundedReceiver<Vec<u8>>) {
    while let Some(block) = proposals.recv().await {
        if raft.client_write_ff(BlockBytes(block)).await.is_err() {
            return; // The group has stopped.
        }
    }
}

/// Tells the worker when this node starts or stops leading, and records the leader.
async fn watch(raft: Raft, commands: SyncSender<Command>, shared: Arc<ChainShared>, me: u64) {
    let chain = shared.head.read().expect("head lock").chain.clone();
    let mut metrics = raft.metrics();
    let mut leading = false;
    let mut stood = None;
    loop {
        let (state, leader) = {
            let m = metrics.borrow_and_update();
            (m.state, m.current_leader)
        };
        shared.leader.store(leader.unwrap_or(0), Ordering::SeqCst);
        let leads = state == ServerState::Leader && leader == Some(me);
        let willing = willing(&shared);
        if stood != Some((willing, leads)) {
            stood = Some((willing, leads));
            stand(&raft, &shared, leads);
            if leads && !shared.produces.load(Ordering::SeqCst) {
                tracing::warn!(chain = %chain, "leading without a key of the producer set: stepping down");
            }
        }
        if leads && !leading {
            if own_log_applied(&raft).await && send(&commands, Command::Lead).await {
                tracing::info!(chain = %chain, "leading the chain");
                leading = true;
            }
        } else if !leads && leading {
            tracing::info!(chain = %chain, leader = ?leader, "no longer leading the chain");
            leading = false;
            if !send(&commands, Command::Follow).await {
                return;
            }
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

/// Waits until everything in a new leader's log is applied, so that its first block follows
/// it: what was committed before its term (`ensure_linearizable`), and, when it restarted
/// without losing its term, the blocks it had proposed before, committed or not, which
/// `ensure_linearizable` does not wait for (found by the simulator, `milk_sim::replica`,
/// seed 3: the next block stood at a height already taken, and every replica halted).
async fn own_log_applied(raft: &Raft) -> bool {
    if raft.ensure_linearizable().await.is_err() {
        return false;
    }
    let last = raft.metrics().borrow().last_log_index;
    let Some(last) = last else {
        return true;
    };
    let applied = raft.wait(Some(Duration::from_secs(30)));
    applied
        .applied_index_at_least(Some(last), "own log applied")
        .await
        .is_ok()
}

/// Whether this node would lead the chain: it holds a key of the producer set (any other
/// could lead but make no block) and is not handing the chain over.
fn willing(shared: &ChainShared) -> bool {
    shared.produces.load(Ordering::SeqCst) && !shared.yielding.load(Ordering::SeqCst)
}

/// Only a willing node stands for election. An unwilling leader (TICA took its key out of
/// the set, or it hands the chain over) stops its heartbeats, so that its followers' leases
/// run out and a willing node takes over.
pub fn stand(raft: &Raft, shared: &ChainShared, leads: bool) {
    let willing = willing(shared);
    raft.runtime_config().elect(willing);
    raft.runtime_config().heartbeat(willing || !leads);
}

/// Hands a command to a worker, waiting while its queue is full; false once it is gone.
pub async fn send(commands: &SyncSender<Command>, mut cmd: Command) -> bool {
    loop {
        match commands.try_send(cmd) {
            Ok(()) => return true,
            Err(TrySendError::Full(back)) => {
                cmd = back;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(TrySendError::Disconnected(_)) => return false,
        }
    }
}
