//! Prometheus metrics, served at `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels naming a chain.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChainLabel {
    /// The chain id.
    pub chain: String,
}

/// Labels naming a chain and a rejection code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabel {
    /// The chain id.
    pub chain: String,
    /// The stable error code.
    pub code: String,
}

/// The node's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Transactions accepted into a mempool.
    pub txs_accepted: Family<ChainLabel, Counter>,
    /// Transactions refused, by code.
    pub txs_rejected: Family<RejectLabel, Counter>,
    /// Transactions committed.
    pub txs_committed: Family<ChainLabel, Counter>,
    /// Blocks committed.
    pub blocks_committed: Family<ChainLabel, Counter>,
    /// The head height.
    pub head_height: Family<ChainLabel, Gauge>,
    /// Transactions waiting.
    pub mempool_size: Family<ChainLabel, Gauge>,
    /// Seconds to make and durably commit one block.
    pub block_commit_seconds: Histogram,
    /// Open HTTP connections.
    pub connections_open: Gauge,
    /// Connections answered 503 and closed at once: no room under the caps.
    pub connections_shed: Counter,
    /// Messages from peers, by the chain they are about (counted once the sender is known).
    pub peer_messages: Family<ChainLabel, Counter>,
    /// Snapshots (store images) installed, by chain.
    pub snapshots_installed: Family<ChainLabel, Counter>,
    /// CPU nanoseconds by stage (`crate::cpu`).
    pub cpu_nanoseconds: Family<StageLabel, Counter>,
    /// The stages' counters, in the order of [`crate::cpu::STAGES`].
    pub cpu: CpuStages,
}

/// Labels naming a stage of the node's work.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabel {
    /// `signatures`, `http`, `apply` or `commit`.
    pub stage: String,
}

/// Each stage's CPU counter, taken from the family once so the hot paths find it directly.
#[derive(Clone, Debug, Default)]
pub struct CpuStages {
    /// Checking customers' and peers' signatures, and making the node's own.
    pub signatures: Counter,
    /// Serving HTTP: parsing, routing, handlers' own work, answers.
    pub http: Counter,
    /// Applying transactions to make blocks.
    pub apply: Counter,
    /// Committing blocks to the store.
    pub commit: Counter,
}

impl CpuStages {
    fn of(family: &Family<StageLabel, Counter>) -> CpuStages {
        let get = |stage: &str| {
            family
                .get_or_create(&StageLabel {
                    stage: stage.to_owned(),
                })
                .clone()
        };
        let [signatures, http, apply, commit] = crate::cpu::STAGES;
        CpuStages {
            signatures: get(signatures),
            http: get(http),
            apply: get(apply),
            commit: get(commit),
        }
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("milk");
        let m = Metrics {
            txs_accepted: Family::default(),
            txs_rejected: Family::default(),
            txs_committed: Family::default(),
            blocks_committed: Family::default(),
            head_height: Family::default(),
            mempool_size: Family::default(),
            block_commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            connections_open: Gauge::default(),
            connections_shed: Counter::default(),
            peer_messages: Family::default(),
            snapshots_installed: Family::default(),
            cpu_nanoseconds: Family::default(),
            cpu: CpuStages::default(),
            registry: Registry::default(),
        };
        let cpu = CpuStages::of(&m.cpu_nanoseconds);
        registry.register(
            "txs_accepted",
            "Transactions accepted into a mempool",
            m.txs_accepted.clone(),
        );
        registry.register(
            "txs_rejected",
            "Transactions refused, by code",
            m.txs_rejected.clone(),
        );
        registry.register(
            "txs_committed",
            "Transactions committed",
            m.txs_committed.clone(),
        );
        registry.register(
            "blocks_committed",
            "Blocks committed",
            m.blocks_committed.clone(),
        );
        registry.register(
            "head_height",
            "Height of the last committed block",
            m.head_height.clone(),
        );
        registry.register(
            "mempool_size",
            "Transactions waiting for a block",
            m.mempool_size.clone(),
        );
        registry.register(
            "block_commit_seconds",
            "Time to make and durably commit one block",
            m.block_commit_seconds.clone(),
        );
        registry.register(
            "connections_open",
            "Open HTTP connections",
            m.connections_open.clone(),
        );
        registry.register(
            "connections_shed",
            "Connections refused with a 503 for lack of room under the caps",
            m.connections_shed.clone(),
        );
        registry.register(
            "cpu_nanoseconds",
            "CPU time spent by stage: signatures, http, apply, commit",
            m.cpu_nanoseconds.clone(),
        );
        m.register_replication(&mut registry);
        Metrics { registry, cpu, ..m }
    }

    fn register_replication(&self, registry: &mut Registry) {
        registry.register(
            "peer_messages",
            "Messages from the cluster's peers, by the chain they are about",
            self.peer_messages.clone(),
        );
        registry.register(
            "snapshots_installed",
            "Snapshots of a leader's store installed by this replica",
            self.snapshots_installed.clone(),
        );
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Counts a refusal.
    pub fn reject(&self, chain: &str, code: &str) {
        self.txs_rejected
            .get_or_create(&RejectLabel {
                chain: chain.to_owned(),
                code: code.to_owned(),
            })
            .inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The label for a chain.
pub fn chain_label(chain: &str) -> ChainLabel {
    ChainLabel {
        chain: chain.to_owned(),
    }
}
