//! A node: the data directory, every chain's store and worker, and the shared services.

use crate::auth::{Credentials, CredentialsFile, Principal, demo_token, token_digest};
use crate::clock::Clock;
use crate::config::NodeConfig;
use crate::metrics::{Metrics, chain_label};
use crate::replica::Raft;
use crate::replica::cluster::{Cluster, ClusterNode};
use crate::replica::group::GroupStart;
use crate::replica::network::Identity;
pub use crate::worker::SendError;
use crate::worker::{ChainShared, Command, OnCommit, Replicated, Worker, WorkerConfig};
use milk_core::alliance::{Member, PARTNER_RECORD};
use milk_core::block::BlockHeader;
use milk_core::codec::Decode;
use milk_core::genesis::{ChainKind, ChainSpec, Genesis, demo_key};
use milk_core::keys::{self, VerifyingKey};
use milk_core::mempool::{Mempool, PoolLimits, Share};
use milk_core::state::{ChainState, StateDelta};
use milk_core::{Address, ChainId, Keypair};
use milk_store::{ChainStore, RedbStore};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::JoinHandle;
use thiserror::Error;

/// How many decompressed keys the node keeps (about 200 bytes each).
const KEY_CACHE_CAPACITY: usize = 200_000;

/// How many commands may queue for one chain's worker before submitters are told to back off.
const COMMAND_QUEUE: usize = 4_096;

/// Why a node could not start.
#[derive(Debug, Error)]
pub enum NodeError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The genesis file is malformed or breaks a rule.
    #[error("genesis {path}: {reason}")]
    Genesis {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A settings file (credentials, webhooks) is malformed.
    #[error("{path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key file is malformed, or the key does not produce a hosted chain.
    #[error("producer key: {0}")]
    Key(String),
    /// A chain's store failed or disagrees with the genesis.
    #[error("chain {chain}: {reason}")]
    Chain {
        /// The chain.
        chain: ChainId,
        /// Why.
        reason: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> NodeError + '_ {
    move |source| NodeError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One hosted chain as the rest of the node sees it.
#[derive(Debug)]
pub struct ChainHandle {
    /// Its genesis definition.
    pub spec: ChainSpec,
    /// Its store, for reads.
    pub store: RedbStore,
    /// Head and status, without asking the worker.
    pub shared: Arc<ChainShared>,
    commands: SyncSender<Command>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// A replicated chain's group.
    group: Group,
}

/// A replicated chain's group: what starts it, then the running group.
#[derive(Default)]
struct Group {
    start: Mutex<Option<GroupStart>>,
    raft: OnceLock<Raft>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.raft.get().is_some() {
            "Group(running)"
        } else {
            "Group"
        })
    }
}

impl ChainHandle {
    /// The chain's Raft group, once it runs (replicated chains only).
    pub fn raft(&self) -> Option<&Raft> {
        self.group.raft.get()
    }

    /// Starts the chain's Raft group, if it is replicated and not started yet.
    async fn start_group(&self) -> Result<(), String> {
        let Some(start) = self.group.start.lock().expect("group lock").take() else {
            return Ok(());
        };
        let raft = crate::replica::group::start(start).await?;
        let _ = self.group.raft.set(raft);
        Ok(())
    }

    /// Queues a command for the chain's worker without blocking.
    pub fn send(&self, cmd: Command) -> Result<(), SendError> {
        self.commands.try_send(cmd).map_err(|e| match e {
            TrySendError::Full(_) => SendError::Busy,
            TrySendError::Disconnected(_) => SendError::Stopped,
        })
    }

    /// The last committed block's header.
    pub fn head(&self) -> BlockHeader {
        self.shared.head.read().expect("head lock").clone()
    }

    /// The chain's head as the API and the live feed show it.
    pub fn head_view(&self) -> milk_api::chain::HeadView {
        let head = self.head();
        milk_api::chain::HeadView {
            chain: head.chain.to_string(),
            height: head.height,
            hash: head.hash().to_hex(),
            time_ms: head.time_ms,
            state_root: head.state_root.to_hex(),
            halted: self.shared.halted.load(Ordering::Relaxed),
            pending: self.shared.mempool_len.load(Ordering::Relaxed) as u64,
        }
    }
}

/// The hosted chains, and what it takes to open another one while the node runs.
///
/// The center chain's committer opens an admitted partner's brand chain as soon as the block
/// admitting it is durable, before anyone waiting for that block hears of it: once TICA's
/// signature is acknowledged, the new chain takes requests.
#[derive(Debug)]
struct Chains {
    map: RwLock<BTreeMap<ChainId, Arc<ChainHandle>>>,
    genesis: Genesis,
    config: NodeConfig,
    producer: Keypair,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    /// Set when the chains are replicated: this node and its cluster.
    replication: Option<Replication>,
    /// The runtime that runs replication, once the node serves (chains opened later start
    /// their group on it).
    runtime: OnceLock<tokio::runtime::Handle>,
}

/// This node's place in its cluster.
#[derive(Clone)]
pub struct Replication {
    /// This node.
    pub me: Arc<Identity>,
    /// Everyone.
    pub cluster: Arc<Cluster>,
}

impl std::fmt::Debug for Replication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Replication(node {})", self.me.id)
    }
}

/// What the center chain's committer calls with each block's changes: it opens the chains
/// of partners the block admitted.
fn opens_admitted(chains: &Arc<Chains>) -> OnCommit {
    let chains = Arc::downgrade(chains);
    Box::new(move |delta: &StateDelta| {
        let Some(chains) = chains.upgrade() else {
            return;
        };
        let records =
            (delta.entries.iter()).filter_map(|(k, v)| Some((k.as_slice(), v.as_deref()?)));
        if let Err(e) = chains.open_admitted(records) {
            tracing::error!(error = %e, "cannot open an admitted partner's chain; a restart retries");
        }
    })
}

impl Chains {
    /// Opens the chains of partners admitted before the last stop.
    fn reopen_admitted(self: &Arc<Self>) -> Result<(), NodeError> {
        let center = (self
            .map
            .read()
            .expect("chains lock")
            .get(&ChainId::center())
            .cloned())
        .expect("a validated genesis has a center chain");
        let records = center
            .store
            .records_with_prefix(&[PARTNER_RECORD])
            .map_err(|e| NodeError::Chain {
                chain: ChainId::center(),
                reason: e.to_string(),
            })?;
        self.open_admitted(records.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))?;
        Ok(())
    }

    /// Whether this node holds `chain`: every chain, unless its cluster file says otherwise.
    fn holds(&self, chain: &ChainId) -> bool {
        self.replication
            .as_ref()
            .is_none_or(|r| r.cluster.node(r.me.id).is_some_and(|n| n.holds(chain)))
    }

    /// Opens the brand chains of partners admitted in these center records (`PARTNER`
    /// records; others are skipped) that are not open yet.
    fn open_admitted<'a>(
        self: &Arc<Self>,
        records: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<Vec<ChainId>, NodeError> {
        let mut opened = Vec::new();
        for (key, value) in records {
            if key.first() != Some(&PARTNER_RECORD) {
                continue;
            }
            let member = Member::from_bytes(value).map_err(|e| NodeError::Chain {
                chain: ChainId::center(),
                reason: format!("malformed partner record: {e}"),
            })?;
            let Some(spec) = self.genesis.admitted_chain(&member) else {
                continue;
            };
            if !self.holds(&spec.id) {
                continue;
            }
            if self.map.read().expect("chains lock").contains_key(&spec.id) {
                continue;
            }
            let handle = Arc::new(open_chain(self, &spec, None)?);
            tracing::info!(chain = %spec.id, partner = %member.application.name, "admitted partner's brand chain opened");
            self.map
                .write()
                .expect("chains lock")
                .insert(spec.id.clone(), handle.clone());
            if let Some(runtime) = self.runtime.get() {
                runtime.spawn(async move {
                    if let Err(e) = handle.start_group().await {
                        tracing::error!(chain = %handle.spec.id, error = %e, "cannot start the chain's replication");
                    }
                });
            }
            opened.push(spec.id);
        }
        Ok(opened)
    }
}

/// A running node: every chain of the genesis and of the partners admitted since, each with
/// its store and worker.
#[derive(Debug)]
pub struct Node {
    /// The network's genesis.
    pub genesis: Genesis,
    chains: Arc<Chains>,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// The settings it started with.
    pub config: NodeConfig,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Decompressed public keys of recent senders and recipients.
    pub keys: Arc<KeyCache>,
    /// API credentials.
    pub credentials: Credentials,
    /// Partners' webhooks.
    pub webhooks: crate::brand::hooks::Webhooks,
    /// The operator's transaction lanes, one per chain.
    pub lanes: crate::lanes::Lanes,
    /// Trades being settled.
    pub settling: crate::exchange::settling::Settling,
    /// What each of the oracle's sources last said.
    pub oracle_sources: crate::exchange::sources::Sources,
    /// Partners' idempotency keys being worked on.
    pub inflight: Arc<crate::brand::inflight::InFlight>,
    /// The operator's key, when this node holds it (it then anchors brand chains).
    pub operator_key: Option<Keypair>,
    /// Checks customers' orders in batches across requests.
    pub orders: crate::verifier::OrderVerifier,
    /// The main chain, once the bridge reached it.
    pub main_chain: std::sync::OnceLock<milk_api::bridge::MainChainView>,
    /// The bridge's relayer as its last round left it, once it ran one.
    pub relayer: std::sync::Mutex<Option<milk_api::bridge::RelayerView>>,
}

/// A bounded cache of decompressed public keys.
///
/// Checking a signature needs the sender's key as a curve point, and decompressing it costs
/// about a third of a batched signature check; active accounts sign again and again. The
/// cache forgets everything when full, which keeps it simple and its memory bounded.
#[derive(Debug)]
pub struct KeyCache {
    keys: RwLock<HashMap<Address, VerifyingKey>>,
    capacity: usize,
}

impl KeyCache {
    /// A cache of at most `capacity` keys.
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache {
            keys: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The curve point of a usable key, or `None` (invalid keys are not cached).
    pub fn resolve(&self, address: &Address) -> Option<VerifyingKey> {
        if let Some(k) = self.keys.read().expect("key cache lock").get(address) {
            return Some(*k);
        }
        let key = keys::decompress(address)?;
        let mut map = self.keys.write().expect("key cache lock");
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(*address, key);
        Some(key)
    }
}

impl std::fmt::Debug for dyn Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl Node {
    /// Stops the process right after `point` (`sell:1`, `buy:2`, `batch:center`, …) when the
    /// node was started with that crash point: for fault-injection tests of recovery.
    pub(crate) fn crash_point(&self, point: &str) {
        if self.config.crash_after.as_deref() == Some(point) {
            tracing::warn!(point, "crash point reached: stopping abruptly");
            std::process::abort();
        }
    }

    /// Opens (or, for an empty directory, creates) the data directory and starts every
    /// chain's worker.
    pub fn open(config: NodeConfig, clock: Arc<dyn Clock>) -> Result<Node, NodeError> {
        fs::create_dir_all(config.data_dir.join("chains")).map_err(io_error(&config.data_dir))?;
        let (genesis, producer) = load_or_init(&config)?;
        let operator_key = (producer.address() == genesis.operator).then(|| producer.clone());
        let credentials_path = config.data_dir.join("credentials.json");
        let credentials =
            Credentials::load(&credentials_path).map_err(|reason| NodeError::Config {
                path: credentials_path.clone(),
                reason,
            })?;
        let webhooks_path = config.data_dir.join("webhooks.json");
        let webhooks = crate::brand::hooks::Webhooks::load(&webhooks_path).map_err(|reason| {
            NodeError::Config {
                path: webhooks_path.clone(),
                reason,
            }
        })?;
        let metrics = Arc::new(Metrics::new());
        let replication = replication(&config)?;
        check_producer(&genesis, &producer, replication.as_ref())?;
        let chains = Arc::new(Chains {
            map: RwLock::new(BTreeMap::new()),
            genesis: genesis.clone(),
            config: config.clone(),
            producer: producer.clone(),
            metrics: metrics.clone(),
            clock: clock.clone(),
            replication,
            runtime: OnceLock::new(),
        });
        for spec in genesis.chains.iter().filter(|s| chains.holds(&s.id)) {
            // The center chain's committer opens the chains of partners admitted later.
            let on_commit = (spec.kind == ChainKind::Center).then(|| opens_admitted(&chains));
            let handle = open_chain(&chains, spec, on_commit)?;
            chains
                .map
                .write()
                .expect("chains lock")
                .insert(spec.id.clone(), Arc::new(handle));
        }
        chains.reopen_admitted()?;
        let keys = Arc::new(KeyCache::new(KEY_CACHE_CAPACITY));
        let cache = keys.clone();
        let orders = crate::verifier::OrderVerifier::start(
            move |a: &Address| cache.resolve(a),
            metrics.cpu.signatures.clone(),
        );
        Ok(Node {
            genesis,
            chains,
            metrics,
            config,
            clock,
            keys,
            orders,
            main_chain: std::sync::OnceLock::new(),
            relayer: std::sync::Mutex::new(None),
            credentials,
            webhooks,
            lanes: Default::default(),
            settling: Default::default(),
            oracle_sources: Default::default(),
            inflight: Default::default(),
            operator_key,
        })
    }

    /// The key this node signs blocks with when its own node key is not in a producer set.
    pub fn producer_address(&self) -> Address {
        self.chains.producer.address()
    }

    /// This node's place in its cluster, when its chains are replicated.
    pub fn replication(&self) -> Option<&Replication> {
        self.chains.replication.as_ref()
    }

    /// Whether this node makes `chain`'s blocks now (an unreplicated node always does).
    pub fn leads(&self, chain: &ChainId) -> bool {
        let Some(r) = &self.chains.replication else {
            return true;
        };
        self.chain(chain)
            .is_some_and(|h| h.shared.leader.load(Ordering::SeqCst) == r.me.id)
    }

    /// Whether this node leads the center chain, where settlement, recovery, the oracle,
    /// anchoring and the Pack run.
    pub fn leads_center(&self) -> bool {
        self.leads(&ChainId::center())
    }

    /// The cluster node that leads `chain` as last heard, when it is another node.
    pub fn leader_elsewhere(&self, chain: &ChainId) -> Option<ClusterNode> {
        let r = self.chains.replication.as_ref()?;
        let leader = self.chain(chain)?.shared.leader.load(Ordering::SeqCst);
        (leader != r.me.id).then(|| r.cluster.node(leader).cloned())?
    }

    /// Starts every chain's Raft group (and, from now on, the group of each chain opened
    /// later). Does nothing on an unreplicated node.
    pub async fn start_replication(&self) -> Result<(), String> {
        if self.chains.replication.is_none() {
            return Ok(());
        }
        let _ = self.chains.runtime.set(tokio::runtime::Handle::current());
        for handle in self.chain_handles() {
            handle.start_group().await?;
        }
        Ok(())
    }

    /// A hosted chain.
    pub fn chain(&self, id: &ChainId) -> Option<Arc<ChainHandle>> {
        self.chains
            .map
            .read()
            .expect("chains lock")
            .get(id)
            .cloned()
    }

    /// Every hosted chain, by id: the center chain first, then the brand chains.
    pub fn chain_handles(&self) -> Vec<Arc<ChainHandle>> {
        let map = self.chains.map.read().expect("chains lock");
        let center = map.get(&ChainId::center()).cloned();
        center
            .into_iter()
            .chain(
                map.iter()
                    .filter(|(id, _)| **id != ChainId::center())
                    .map(|(_, h)| h.clone()),
            )
            .collect()
    }

    /// Commits what every chain has accepted, then stops the workers. Idempotent.
    ///
    /// The center chain stops first: its committer is what opens new chains, so once it has
    /// stopped the set of chains is final.
    pub fn shutdown(&self) {
        let stop = |handles: &[Arc<ChainHandle>]| {
            for handle in handles {
                // A full queue still drains: the worker sees Shutdown after what is queued.
                let _ = handle.commands.send(Command::Shutdown);
            }
            for handle in handles {
                if let Some(t) = handle.thread.lock().expect("thread lock").take() {
                    let _ = t.join();
                }
            }
        };
        let handles = self.chain_handles();
        let (center, brands) = handles.split_at(handles.len().min(1));
        stop(center);
        stop(brands);
        stop(&self.chain_handles());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub use milk_store::chain_path as chain_store_path;

/// An unreplicated node makes every chain's blocks, so its key must be every chain's
/// producer. A replica whose key is not a chain's producer (a partner's node, which never
/// holds TICA's key) follows the chain, and makes its blocks only once TICA puts the node's
/// own key in the chain's producer set.
fn check_producer(
    genesis: &Genesis,
    producer: &Keypair,
    replication: Option<&Replication>,
) -> Result<(), NodeError> {
    for spec in &genesis.chains {
        if spec.producer == producer.address() {
            continue;
        }
        if replication.is_some() {
            tracing::info!(chain = %spec.id, "this node's key is not the chain's genesis producer: it follows the chain, and makes its blocks once TICA puts its node key in the producer set");
            continue;
        }
        return Err(NodeError::Key(format!(
            "this node's key {} is not the producer of chain {} ({})",
            producer.address(),
            spec.id,
            spec.producer
        )));
    }
    Ok(())
}

/// This node's place in the cluster named by the settings, if any: its entry must carry
/// this node's own key, and it must hold the center chain.
fn replication(config: &NodeConfig) -> Result<Option<Replication>, NodeError> {
    let Some(path) = &config.cluster else {
        return Ok(None);
    };
    let cluster = Cluster::load(path).map_err(|reason| NodeError::Config {
        path: path.clone(),
        reason,
    })?;
    let key = node_key(&config.data_dir)?;
    let entry = cluster
        .node(config.node_id)
        .ok_or_else(|| NodeError::Config {
            path: path.clone(),
            reason: format!("names no node {}", config.node_id),
        })?;
    if entry.key != key.address() {
        return Err(NodeError::Key(format!(
            "node {}'s key in the cluster file is {}, but this node's key (node.key) is {}",
            entry.id,
            entry.key,
            key.address()
        )));
    }
    if !entry.holds(&ChainId::center()) {
        return Err(NodeError::Config {
            path: path.clone(),
            reason: format!(
                "node {} must hold the center chain (a partner's node as a learner)",
                entry.id
            ),
        });
    }
    let me = Arc::new(Identity { id: entry.id, key });
    Ok(Some(Replication {
        me,
        cluster: Arc::new(cluster),
    }))
}

/// The node's own key (`<data-dir>/node.key`), with which it signs to its peers; made at
/// random the first time.
pub fn node_key(data_dir: &Path) -> Result<Keypair, NodeError> {
    let path = data_dir.join("node.key");
    if !path.exists() {
        fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
        let key = Keypair::from_secret(rand::random());
        write_new(&path, hex::encode(key.secret()).as_bytes())?;
    }
    read_key(&path)
}

/// Reads the data directory's genesis and key, writing the demo ones if it is new.
fn load_or_init(config: &NodeConfig) -> Result<(Genesis, Keypair), NodeError> {
    let genesis_path = config.data_dir.join("genesis.json");
    let key_path = config.data_dir.join("producer.key");
    let parse_genesis = |path: &Path| -> Result<Genesis, NodeError> {
        let text = fs::read_to_string(path).map_err(io_error(path))?;
        let g: Genesis = serde_json::from_str(&text).map_err(|e| NodeError::Genesis {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        g.validate().map_err(|reason| NodeError::Genesis {
            path: path.to_owned(),
            reason,
        })?;
        Ok(g)
    };
    if genesis_path.exists() {
        let genesis = parse_genesis(&genesis_path)?;
        if let Some(given) = &config.genesis
            && parse_genesis(given)? != genesis
        {
            return Err(NodeError::Genesis {
                path: given.clone(),
                reason: format!(
                    "differs from the genesis this data directory was started with ({})",
                    genesis_path.display()
                ),
            });
        }
        let key = read_key(config.producer_key.as_deref().unwrap_or(&key_path))?;
        return Ok((genesis, key));
    }
    let (genesis, key) = match &config.genesis {
        Some(path) => {
            let key = match (config.producer_key.as_deref(), &config.cluster) {
                (Some(file), _) => read_key(file)?,
                // A replica without the producer's key (a partner's node) signs as itself.
                (None, Some(_)) => node_key(&config.data_dir)?,
                (None, None) => {
                    return Err(NodeError::Key(
                        "a genesis file needs --producer-key with the producer's secret key".into(),
                    ));
                }
            };
            (parse_genesis(path)?, key)
        }
        None => (Genesis::demo(), demo_key("operator")),
    };
    let json = serde_json::to_string_pretty(&genesis).expect("genesis serializes");
    write_new(&genesis_path, json.as_bytes())?;
    if config.genesis.is_none() {
        // The demo network's public demo credentials, stored as digests like any others.
        let mut file = CredentialsFile::default();
        file.operator
            .push(token_digest(&demo_token(&Principal::Operator)).to_hex());
        for c in genesis.chains.iter().filter(|c| c.partner.is_some()) {
            let token = demo_token(&Principal::Partner(c.id.clone()));
            file.partners
                .insert(c.id.clone(), vec![token_digest(&token).to_hex()]);
            let token = demo_token(&Principal::Auditor(c.id.clone()));
            file.auditors
                .insert(c.id.clone(), vec![token_digest(&token).to_hex()]);
        }
        let json = serde_json::to_string_pretty(&file).expect("credentials serialize");
        write_new(&config.data_dir.join("credentials.json"), json.as_bytes())?;
    }
    if config.producer_key.is_none() {
        write_new(&key_path, hex::encode(key.secret()).as_bytes())?;
    }
    Ok((genesis, key))
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(io_error(&tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if path.extension().is_some_and(|e| e == "key") {
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600)).map_err(io_error(&tmp))?;
        }
    }
    fs::rename(&tmp, path).map_err(io_error(path))
}

/// Reads a producer key file: 64 hex digits, surrounding whitespace allowed.
pub fn read_key(path: &Path) -> Result<Keypair, NodeError> {
    let text = fs::read_to_string(path).map_err(io_error(path))?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret)
        .map_err(|e| NodeError::Key(format!("{}: not 64 hex digits: {e}", path.display())))?;
    Ok(Keypair::from_secret(secret))
}

/// Opens a chain's store (writing its genesis block if new) and starts its worker; a
/// replicated chain's group is started later, by [`Node::start_replication`].
fn open_chain(
    chains: &Chains,
    spec: &ChainSpec,
    on_commit: Option<OnCommit>,
) -> Result<ChainHandle, NodeError> {
    let Chains {
        config, metrics, ..
    } = chains;
    let chain_err = |reason: String| NodeError::Chain {
        chain: spec.id.clone(),
        reason,
    };
    let store = RedbStore::open(&chain_store_path(&config.data_dir, &spec.id))
        .map_err(|e| chain_err(e.to_string()))?;
    let (state, head) = resume(&chains.genesis, spec, &store).map_err(chain_err)?;
    tracing::info!(chain = %spec.id, height = head.height, "chain opened");
    metrics
        .head_height
        .get_or_create(&chain_label(spec.id.as_str()))
        .set(head.height as i64);
    let shared = Arc::new(ChainShared {
        head: RwLock::new(head.clone()),
        halted: AtomicBool::new(false),
        mempool_len: AtomicUsize::new(0),
        blocks_in_flight: AtomicUsize::new(0),
        leader: AtomicU64::new(0),
        produces: AtomicBool::new(false),
        producers: RwLock::default(),
        yielding: AtomicBool::new(false),
    });
    let worker = Worker::new(
        state,
        Mempool::new(PoolLimits::new(config.mempool_capacity)),
        store.clone(),
        head,
        signing_keys(chains),
        worker_config(config, &chains.genesis),
        shared.clone(),
        metrics.clone(),
        chains.clock.clone(),
        on_commit,
    );
    let (commands, rx) = sync_channel(COMMAND_QUEUE);
    let (worker, group) = replicate(chains, spec, worker, &commands, &store, &shared);
    let thread = std::thread::Builder::new()
        .name(format!("chain-{}", spec.id))
        .spawn(move || worker.run(rx))
        .map_err(|e| chain_err(format!("cannot start worker: {e}")))?;
    Ok(ChainHandle {
        spec: spec.clone(),
        store,
        shared,
        commands,
        thread: Mutex::new(Some(thread)),
        group: Group {
            start: Mutex::new(group),
            raft: OnceLock::new(),
        },
    })
}

/// A replicated chain's worker, and what starts its group; an unreplicated one as it is.
fn replicate(
    chains: &Chains,
    spec: &ChainSpec,
    worker: Worker,
    commands: &SyncSender<Command>,
    store: &RedbStore,
    shared: &Arc<ChainShared>,
) -> (Worker, Option<GroupStart>) {
    let Some(r) = &chains.replication else {
        return (worker, None);
    };
    let (proposer, proposals) = tokio::sync::mpsc::unbounded_channel();
    let (g, s) = (chains.genesis.clone(), spec.clone());
    let blank = Box::new(move || g.empty_state(&s));
    let worker = worker.replicated(Replicated::new(proposer, blank));
    let start = GroupStart {
        chain: spec.id.clone(),
        data_dir: chains.config.data_dir.clone(),
        me: r.me.clone(),
        cluster: r.cluster.clone(),
        commands: commands.clone(),
        store: store.clone(),
        proposals,
        shared: shared.clone(),
        config: chains.config.replication.clone(),
        metrics: chains.metrics.clone(),
    };
    (worker, Some(start))
}

/// The chain's state and head as stored, or, for a new store, its genesis (written).
fn resume(
    genesis: &Genesis,
    spec: &ChainSpec,
    store: &RedbStore,
) -> Result<(ChainState, BlockHeader), String> {
    let (genesis_block, genesis_state) = genesis.genesis_block(spec)?;
    match store.snapshot().map_err(|e| e.to_string())? {
        None => {
            let (_, delta) = genesis.initial_state(spec)?;
            store
                .commit(&genesis_block, &[], &delta)
                .map_err(|e| e.to_string())?;
            Ok((genesis_state, genesis_block.header.clone()))
        }
        Some(snapshot) => {
            let stored_genesis = store
                .block(0)
                .map_err(|e| e.to_string())?
                .ok_or("store has a head but no genesis block")?;
            if stored_genesis != genesis_block {
                return Err("stored genesis block differs from the genesis file".into());
            }
            let mut state = genesis.empty_state(spec);
            state.restore(snapshot.records)?;
            Ok((state, snapshot.head))
        }
    }
}

/// The keys this node may sign blocks with: its producer key and, replicated, its node key
/// (a partner's node signs with its own key once TICA puts it in its chain's producer set).
fn signing_keys(chains: &Chains) -> Vec<Keypair> {
    let mut keys = vec![chains.producer.clone()];
    if let Some(r) = &chains.replication
        && r.me.key.address() != chains.producer.address()
    {
        keys.push(r.me.key.clone());
    }
    keys
}

/// Block-making settings from the node's.
fn worker_config(config: &NodeConfig, genesis: &Genesis) -> WorkerConfig {
    WorkerConfig {
        block_max_txs: config.block_max_txs,
        block_interval: config.block_interval,
        operator: genesis.operator,
        ordinary: Share {
            pending: config.mempool_per_sender,
            ..Share::ORDINARY
        },
        issuer: Share {
            window: 1_024,
            pending: config.mempool_per_issuer,
            per_block: config.block_max_txs / 2,
            reserved: false,
            known: true,
        },
    }
}
