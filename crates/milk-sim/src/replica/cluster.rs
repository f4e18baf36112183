//! The simulated cluster: its nodes, the faults the seed injects, the leaders' blocks, and
//! the checks at the end.

use super::checks::Checks;
use super::net::{self, Connections, Net, Weather};
use super::store::{Disk, Log, Machine, Replica};
use super::{Raft, runtime};
use crate::rng::Rng;
use milk_core::chain;
use milk_core::codec::Encode;
use milk_core::genesis::{DEMO_USERS, Genesis, demo_key};
use milk_core::mempool::{Mempool, PoolLimits, Share};
use milk_core::tx::{Action, TokenAction, Transaction, VerifiedTx};
use milk_core::{Amount, ChainId, Keypair, Symbol};
use openraft::{BasicNode, ServerState, SnapshotPolicy};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// The fault driver's step, and the leaders' block interval.
const TICK: Duration = Duration::from_millis(10);
const BLOCK: Duration = Duration::from_millis(50);

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Nodes in the cluster.
    pub nodes: u64,
    /// Transfers the customers offered the leaders for blocks.
    pub transfers: u64,
    /// Blocks acknowledged as committed.
    pub acked: u64,
    /// Blocks applied, by all replicas together.
    pub applied: u64,
    /// Node crashes the seed injected.
    pub crashes: u64,
    /// Partitions made.
    pub partitions: u64,
    /// Messages sent, and lost.
    pub messages: (u64, u64),
    /// Snapshots installed by replicas behind the leader's log.
    pub installed: u64,
    /// The last term: how many elections there were.
    pub term: u64,
    /// Everything that happened, folded: equal for two runs of one seed.
    pub digest: u64,
}

/// What the customers do: transfers among themselves, some beyond what they hold.
struct Customers {
    rng: Rng,
    keys: Vec<Keypair>,
    stopped: bool,
    offered: u64,
}

impl Customers {
    fn transfers(&mut self, state: &milk_core::state::ChainState, now_ms: u64) -> Vec<VerifiedTx> {
        let (mlk, n) = (
            "MLK".parse::<Symbol>().expect("a symbol"),
            self.keys.len() as u64,
        );
        let mut next: BTreeMap<usize, u64> = BTreeMap::new();
        let count = if self.stopped {
            0
        } else {
            1 + self.rng.below(4)
        };
        (0..count)
            .map(|_| {
                let (from, to) = (self.rng.below(n) as usize, self.rng.below(n) as usize);
                let key = &self.keys[from];
                let held = state.balance(&key.address(), &mlk).units();
                let sequence = next
                    .entry(from)
                    .or_insert_with(|| state.next_sequence(&key.address()));
                *sequence += 1;
                self.offered += 1;
                Transaction {
                    chain: state.chain().clone(),
                    sender: key.address(),
                    sequence: *sequence - 1,
                    expires_at_ms: now_ms + 60_000,
                    action: Action::Token(TokenAction::Transfer {
                        to: self.keys[to].address(),
                        asset: mlk,
                        amount: Amount::new(
                            1 + u128::from(self.rng.next()) % (held + held / 5 + 1),
                        ),
                        memo: String::new(),
                    }),
                }
                .sign_own(key)
            })
            .collect()
    }
}

/// What every node shares: the genesis, the network, the checks, the customers, the clock.
#[derive(Clone)]
struct World {
    genesis: Arc<Genesis>,
    chain: ChainId,
    net: Net,
    checks: Checks,
    customers: Arc<Mutex<Customers>>,
    producer: Keypair,
    start: tokio::time::Instant,
    acked: Arc<AtomicU64>,
}

impl World {
    fn now_ms(&self) -> u64 {
        self.genesis.genesis_time_ms + 1_000 + self.start.elapsed().as_millis() as u64
    }
}

/// A node: its disk, and, while it is up, its Raft and its proposer.
struct Node {
    disk: Disk,
    up: Option<(Raft, JoinHandle<()>)>,
}

fn config() -> Result<Arc<openraft::Config>, String> {
    let config = openraft::Config {
        cluster_name: "sim".into(),
        heartbeat_interval: 50,
        election_timeout_min: 150,
        election_timeout_max: 300,
        max_payload_entries: 8,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(40),
        max_in_snapshot_log_to_keep: 10,
        install_snapshot_timeout: 1_000,
        ..Default::default()
    };
    config.validate().map(Arc::new).map_err(|e| e.to_string())
}

/// Makes the next block on the chain as `disk` holds it, of what the customers send now.
fn make_block(world: &World, disk: &Disk) -> Option<milk_core::block::Block> {
    let now_ms = world.now_ms();
    let (mut state, head) = {
        let d = disk.lock();
        (d.chain.state().clone(), d.chain.head().header.clone())
    };
    let mut pool = Mempool::new(PoolLimits::new(1_000));
    let txs = world
        .customers
        .lock()
        .expect("customers")
        .transfers(&state, now_ms);
    for tx in txs {
        let standing = state.standing(tx.tx(), Share::ORDINARY, now_ms);
        let _ = pool.admit(tx, &standing);
    }
    let (produced, _) = chain::produce(&mut state, &mut pool, &head, now_ms, &world.producer, 100);
    produced.map(|p| p.block)
}

/// While `me` leads, once everything committed before its term is applied, it proposes a
/// block every interval, each on the chain after the last (acknowledged once committed and
/// applied here).
async fn propose(me: u64, raft: Raft, disk: Disk, world: World) {
    loop {
        tokio::time::sleep(BLOCK).await;
        let leads = {
            let m = raft.metrics();
            let m = m.borrow();
            m.state == ServerState::Leader && m.current_leader == Some(me)
        };
        if !leads || raft.ensure_linearizable().await.is_err() {
            continue;
        }
        // A leader restarted in its own term holds entries it proposed before, committed
        // or not yet, that `ensure_linearizable` does not wait for: the next block follows
        // them, so it waits until all are applied.
        let last = raft.metrics().borrow().last_log_index;
        if disk.applied().map(|l| l.index) < last {
            continue;
        }
        let Some(block) = make_block(&world, &disk) else {
            continue;
        };
        let (height, hash) = (block.header.height, block.hash());
        if raft.client_write(block.to_bytes()).await.is_ok() {
            world.checks.acked(height, hash);
            world.acked.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The cluster.
struct Cluster {
    rng: Rng,
    world: World,
    nodes: BTreeMap<u64, Node>,
    report: Report,
}

impl Cluster {
    fn new(seed: u64) -> Result<Cluster, String> {
        let mut rng = Rng::new(seed);
        let genesis = Arc::new(Genesis::demo());
        let chain = ChainId::center();
        let mut keys: Vec<Keypair> = DEMO_USERS.iter().map(|u| demo_key(u)).collect();
        keys.extend((0..4).map(|_| Keypair::from_secret(rng.bytes32())));
        let n = if rng.below(2) == 0 { 3 } else { 5 };
        let mut nodes = BTreeMap::new();
        for id in 1..=n {
            let disk = Disk::new(Replica::genesis(&genesis, &chain)?);
            nodes.insert(id, Node { disk, up: None });
        }
        let customers = Customers {
            rng: Rng::new(rng.next()),
            keys,
            stopped: false,
            offered: 0,
        };
        let world = World {
            net: Net::new(rng.next()),
            genesis,
            chain,
            checks: Checks::default(),
            customers: Arc::new(Mutex::new(customers)),
            producer: demo_key("operator"),
            start: tokio::time::Instant::now(),
            acked: Arc::default(),
        };
        let report = Report {
            nodes: n,
            ..Report::default()
        };
        Ok(Cluster {
            rng,
            world,
            nodes,
            report,
        })
    }

    /// Starts node `id` from its disk.
    async fn start(&mut self, id: u64) -> Result<(), String> {
        let world = self.world.clone();
        let node = self.nodes.get_mut(&id).ok_or("no such node")?;
        let network = Connections {
            me: id,
            net: world.net.clone(),
        };
        let machine = Machine {
            me: id,
            disk: node.disk.clone(),
            genesis: world.genesis.clone(),
            checks: world.checks.clone(),
        };
        let log = Log(node.disk.clone());
        let raft = Raft::new(id, config()?, network, log, machine)
            .await
            .map_err(|e| format!("node {id} did not start: {e}"))?;
        world.net.up(id, raft.clone());
        let proposer = tokio::spawn(propose(id, raft.clone(), node.disk.clone(), world.clone()));
        node.up = Some((raft, proposer));
        world.checks.note(&[10, id]);
        Ok(())
    }

    /// Stops node `id` at once, as a kill does: what its disk holds stays.
    async fn crash(&mut self, id: u64) {
        if self.halt(id).await {
            self.report.crashes += 1;
            self.world.checks.note(&[11, id]);
        }
    }

    /// Stops node `id` if it is up; whether it was.
    async fn halt(&mut self, id: u64) -> bool {
        let Some((raft, proposer)) = self.nodes.get_mut(&id).and_then(|n| n.up.take()) else {
            return false;
        };
        proposer.abort();
        self.world.net.down(id);
        let _ = raft.shutdown().await;
        true
    }

    fn ids(&self, up: bool) -> Vec<u64> {
        (self.nodes.iter())
            .filter(|(_, n)| n.up.is_some() == up)
            .map(|(id, _)| *id)
            .collect()
    }

    fn pick(&mut self, ids: &[u64]) -> Option<u64> {
        (!ids.is_empty()).then(|| ids[self.rng.below(ids.len() as u64) as usize])
    }

    /// One step of the fault driver: now and then a crash, a restart, a partition or its
    /// healing, or a change in how many messages are lost and how late they come.
    async fn fault(&mut self) -> Result<(), String> {
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        match self.rng.below(1_000) {
            0..=7 => {
                let up = self.ids(true);
                if let Some(id) = self.pick(&up) {
                    self.crash(id).await;
                }
            }
            8..=39 => {
                let down = self.ids(false);
                if let Some(id) = self.pick(&down) {
                    self.start(id).await?;
                }
            }
            40..=44 => {
                self.world.net.state().weather.side = net::sides(&ids, &mut self.rng, true);
                self.report.partitions += 1;
            }
            45..=59 => self.world.net.state().weather.side = net::sides(&ids, &mut self.rng, false),
            60..=64 => {
                let (loss, delay) = (self.rng.below(300), 1 + self.rng.below(120));
                let mut net = self.world.net.state();
                (net.weather.loss, net.weather.max_delay_ms) = (loss, delay);
            }
            65..=69 => self.calm(),
            _ => return Ok(()),
        }
        self.world.checks.note(&[12, self.rng.next()]);
        Ok(())
    }

    fn calm(&mut self) {
        let ids: Vec<u64> = self.nodes.keys().copied().collect();
        let mut net = self.world.net.state();
        net.weather = Weather {
            loss: 0,
            max_delay_ms: 1,
            side: net::sides(&ids, &mut self.rng, false),
        };
    }

    async fn run(&mut self, ticks: u64) -> Result<(), String> {
        for id in self.ids(false) {
            self.start(id).await?;
        }
        let members: BTreeMap<u64, BasicNode> = self
            .nodes
            .keys()
            .map(|id| (*id, BasicNode::default()))
            .collect();
        let first = &self.nodes[&1].up.as_ref().ok_or("node 1 is down")?.0;
        first.initialize(members).await.map_err(|e| e.to_string())?;
        for _ in 0..ticks {
            tokio::time::sleep(TICK).await;
            self.fault().await?;
            if let Some(e) = self.world.checks.lock().broken.clone() {
                return Err(e);
            }
        }
        self.settle().await
    }
}

impl Cluster {
    /// Heals the network, stops the customers and starts every node, then waits (in
    /// simulated time) until every replica applied everything the leader's log holds.
    async fn settle(&mut self) -> Result<(), String> {
        self.calm();
        self.world.customers.lock().expect("customers").stopped = true;
        for id in self.ids(false) {
            self.start(id).await?;
        }
        for _ in 0..600 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if self.converged() {
                return self.check();
            }
        }
        Err("the healed cluster did not converge in 60 s".into())
    }

    /// Whether a leader's whole log is applied on every replica.
    fn converged(&mut self) -> bool {
        let leader = self.nodes.values().find_map(|n| {
            let m = n.up.as_ref()?.0.metrics().borrow().clone();
            (m.state == ServerState::Leader).then_some(m)
        });
        let Some(m) = leader else {
            return false;
        };
        self.report.term = m.current_term;
        (self.nodes.values()).all(|n| n.disk.applied().map(|l| l.index) == m.last_log_index)
    }

    /// Every replica the same, every acknowledged block in it, MLK conserved.
    fn check(&self) -> Result<(), String> {
        if let Some(e) = self.world.checks.lock().broken.clone() {
            return Err(e);
        }
        let first = self.nodes[&1].disk.lock();
        let hashes = |r: &Replica| r.blocks.iter().map(|b| b.hash()).collect::<Vec<_>>();
        let (blocks, records) = (hashes(&first.chain), first.chain.state().records());
        for (id, node) in self.nodes.iter().skip(1) {
            let d = node.disk.lock();
            if hashes(&d.chain) != blocks || d.chain.state().records() != records {
                return Err(format!("node {id}'s replica differs from node 1's"));
            }
        }
        for (height, hash) in &self.world.checks.lock().acked {
            if blocks.get(*height as usize) != Some(hash) {
                return Err(format!("acknowledged block {height} is not in the chain"));
            }
        }
        let mlk = "MLK".parse::<Symbol>().expect("a symbol");
        let genesis = Replica::genesis(&self.world.genesis, &self.world.chain)?;
        let supply = first.chain.state().supply(&mlk);
        let held: u128 = (first.chain.state().balances())
            .filter(|(_, s, _)| **s == mlk)
            .map(|(_, _, a)| a.units())
            .sum();
        if supply != genesis.state().supply(&mlk) || supply.map(|s| s.units()) != Some(held) {
            return Err(format!(
                "MLK not conserved: supply {supply:?}, balances {held}"
            ));
        }
        Ok(())
    }

    async fn stop(&mut self) {
        for id in self.ids(true) {
            self.halt(id).await;
        }
    }

    fn report(&mut self) -> Report {
        let checks = self.world.checks.lock();
        let net = self.world.net.state();
        Report {
            transfers: self.world.customers.lock().expect("customers").offered,
            acked: self.world.acked.load(Ordering::SeqCst),
            applied: checks.applied,
            messages: (net.sent, net.lost),
            installed: checks.installed,
            digest: checks.digest,
            ..self.report.clone()
        }
    }
}

/// Runs the replicated chain from `seed` for `ticks` steps of the fault driver (10 ms of
/// simulated time each), then heals it and checks it; what went wrong names the seed.
pub fn run(seed: u64, ticks: u64) -> Result<Report, String> {
    let failed = |e: String| format!("replication seed {seed}: {e}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| failed(e.to_string()))?;
    runtime::seed(seed);
    rt.block_on(async {
        let mut cluster = Cluster::new(seed).map_err(failed)?;
        let ran = cluster.run(ticks).await;
        cluster.stop().await;
        ran.map_err(failed)?;
        Ok(cluster.report())
    })
}
