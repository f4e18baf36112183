//! How a node is set up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a node needs to start. [`NodeConfig::new`] gives defaults that just work.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Where the genesis, the node key and one store per chain live.
    pub data_dir: PathBuf,
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// A genesis file to start a new data directory from; without one an empty directory
    /// gets the demo genesis.
    pub genesis: Option<PathBuf>,
    /// The producer's secret key file (64 hex digits); required with `genesis`.
    pub producer_key: Option<PathBuf>,
    /// The most transactions in one block.
    pub block_max_txs: usize,
    /// How long the first waiting transaction may wait for its block.
    pub block_interval: Duration,
    /// The most transactions waiting per chain.
    pub mempool_capacity: usize,
    /// The most transactions one sender may have waiting per chain.
    pub mempool_per_sender: usize,
    /// The most transactions a partner's issuer key (all its conversions) may have waiting.
    pub mempool_per_issuer: usize,
    /// The most transactions in one submission.
    pub max_batch_txs: usize,
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a submission with `wait=true` waits for its block.
    pub commit_wait: Duration,
    /// The most open connections; past it, new ones get a 503 and are closed. (Also kept
    /// below the process's file limit.)
    pub max_connections: usize,
    /// The most open connections from one client address.
    pub max_connections_per_address: usize,
    /// How long a client may take to send a request's headers (also an idle keep-alive
    /// connection's next request).
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body, in all.
    pub body_timeout: Duration,
    /// How often the operator's node anchors brand chain heads on the center chain.
    pub anchor_interval: Duration,
    /// How often webhooks are checked for new events to deliver.
    pub webhook_poll: Duration,
    /// The wait after a webhook's first failed delivery; it doubles with each failure
    /// (up to five minutes).
    pub webhook_retry_base: Duration,
    /// How often open trades are looked for and finished.
    pub settle_retry: Duration,
    /// How often partners' standing (suspended or not) is brought onto their chains.
    pub standing_interval: Duration,
    /// MLK price sources for the oracle: Upbit-style ticker URLs.
    pub oracle_sources: Vec<String>,
    /// How often the oracle records MLK's price.
    pub oracle_interval: Duration,
    /// How many fresh sources must agree (within the exchange's band) for a price.
    pub oracle_quorum: usize,
    /// The cluster file: when given, every chain is replicated over the nodes it names.
    pub cluster: Option<PathBuf>,
    /// This node's number in the cluster file.
    pub node_id: u64,
    /// Where to listen to peers when not at the cluster file's peer address, which is where
    /// the peers reach it (behind a port mapping, a NAT or a relay).
    pub peer_listen: Option<SocketAddr>,
    /// Replication's timing and snapshots.
    pub replication: crate::replica::group::GroupConfig,
    /// The main chain to relay withdrawals to and watch for deposits; none: withdrawals
    /// wait as `awaiting_main_chain`.
    pub main_chain: Option<MainChainConfig>,
    /// Stop the process abruptly right after this settlement step (`sell:1`, `sell:2`,
    /// `buy:1`, `buy:2`): for fault-injection tests of recovery.
    pub crash_after: Option<String>,
}

impl NodeConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: PathBuf) -> NodeConfig {
        NodeConfig {
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            genesis: None,
            producer_key: None,
            block_max_txs: 10_000,
            block_interval: Duration::from_millis(10),
            mempool_capacity: 200_000,
            mempool_per_sender: 1_024,
            mempool_per_issuer: 16_384,
            max_batch_txs: 10_000,
            max_body_bytes: 8 * 1024 * 1024,
            commit_wait: Duration::from_secs(30),
            max_connections: 4_096,
            max_connections_per_address: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            anchor_interval: Duration::from_secs(10),
            webhook_poll: Duration::from_millis(500),
            webhook_retry_base: Duration::from_secs(1),
            settle_retry: Duration::from_secs(5),
            standing_interval: Duration::from_secs(1),
            oracle_sources: Vec::new(),
            oracle_interval: Duration::from_secs(5),
            oracle_quorum: 2,
            cluster: None,
            node_id: 0,
            peer_listen: None,
            replication: crate::replica::group::GroupConfig {
                heartbeat: Duration::from_millis(100),
                election_timeout: Duration::from_millis(500),
                snapshot_every: 10_000,
            },
            main_chain: None,
            crash_after: None,
        }
    }
}

/// The main chain this node relays to (the operator's node).
#[derive(Debug, Clone)]
pub struct MainChainConfig {
    /// Its node's JSON-RPC URL.
    pub rpc: String,
    /// The vault's address.
    pub vault: milk_core::bridge::MainAddress,
    /// The file holding TICA's bridge key (secp256k1, 64 hex digits): it signs batch roots
    /// and pays the main chain's gas.
    pub key_file: PathBuf,
    /// Confirmations a deposit needs: deeper reorganisations than this can undo a credit.
    pub confirmations: u64,
    /// The first main-chain block to look for deposits in (the vault's deployment).
    pub from_block: u64,
    /// How often the bridge looks at both chains.
    pub poll: Duration,
}
