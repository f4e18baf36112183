//! `milkd`: the MiL.k node.

use anyhow::Context;
use clap::Parser;
use milkd::{Node, NodeConfig, SystemClock};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The MiL.k node: the center chain and every brand chain, with their HTTP API.
///
/// With an empty data directory and no --genesis, it starts the demo network.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Data directory: genesis, producer key and one store per chain.
    #[arg(long, env = "MILK_DATA_DIR", default_value = "milk-data")]
    data_dir: PathBuf,
    /// Address the HTTP API listens on.
    #[arg(long, env = "MILK_LISTEN", default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// Genesis file for a new data directory (default: the demo genesis).
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// The producer's secret key file (64 hex digits); needed with --genesis.
    #[arg(long)]
    producer_key: Option<PathBuf>,
    /// The most transactions in one block.
    #[arg(long, default_value_t = 10_000)]
    block_max_txs: usize,
    /// Milliseconds the first waiting transaction may wait for its block.
    #[arg(long, default_value_t = 10)]
    block_interval_ms: u64,
    /// On the demo network, do not have the demo users send each other transfers.
    #[arg(long)]
    no_demo_traffic: bool,
    /// An MLK price source for the oracle: an Upbit-style ticker URL (repeat for several;
    /// what a quorum of the fresh ones agrees on is recorded). The demo network runs three
    /// local tickers when none is given.
    #[arg(long = "oracle-url", env = "MILK_ORACLE_URLS", value_delimiter = ',')]
    oracle_urls: Vec<String>,
    /// How many fresh sources must agree (within the exchange's band) for a price.
    #[arg(long, default_value_t = 2)]
    oracle_quorum: usize,
    /// Seconds between oracle prices.
    #[arg(long, default_value_t = 5)]
    oracle_interval_s: u64,
    /// The most open HTTP connections (kept under the process's file limit); past it a
    /// new connection gets a 503.
    #[arg(long, default_value_t = 4_096)]
    max_connections: usize,
    /// The most open connections from one client address.
    #[arg(long, default_value_t = 256)]
    max_connections_per_address: usize,
    /// Milliseconds a client may take to send a request's headers (or, idle, its next one).
    #[arg(long, default_value_t = 10_000)]
    header_timeout_ms: u64,
    /// Milliseconds a client may take to send a request's whole body.
    #[arg(long, default_value_t = 10_000)]
    body_timeout_ms: u64,
    /// A cluster file: replicate every chain over the nodes it names (see
    /// docs/ARCHITECTURE.md, "Replication"). Needs --node-id.
    #[arg(long, env = "MILK_CLUSTER", requires = "node_id")]
    cluster: Option<PathBuf>,
    /// This node's number in the cluster file.
    #[arg(long, env = "MILK_NODE_ID")]
    node_id: Option<u64>,
    /// Where to listen to peers, when not at this node's peer address in the cluster file
    /// (which is where the peers reach it: behind a port mapping, a NAT or a relay).
    #[arg(long, env = "MILK_PEER_LISTEN", requires = "cluster")]
    peer_listen: Option<SocketAddr>,
    /// Milliseconds without a word from a chain's leader before a replica stands for
    /// election (it waits up to twice as long, at random).
    #[arg(long, default_value_t = 500)]
    election_timeout_ms: u64,
    /// Replicated log entries between snapshots.
    #[arg(long, default_value_t = 10_000)]
    snapshot_every: u64,
    /// Print this node's key (the one a cluster file names), making it if missing, and exit.
    #[arg(long)]
    print_node_key: bool,
    /// Start this many replicated nodes of the demo network on this machine instead (each a
    /// process, under --data-dir; node k's API on the --listen port + k − 1).
    #[arg(long, conflicts_with_all = ["cluster", "genesis"])]
    local_net: Option<u64>,
    /// The main chain's JSON-RPC URL: withdrawals are relayed there and deposits credited
    /// from there (the operator's node). Without it withdrawals wait as awaiting_main_chain.
    #[arg(long, env = "MILK_MAIN_CHAIN_RPC", requires_all = ["vault", "bridge_key_file"])]
    main_chain_rpc: Option<String>,
    /// The vault's main-chain address (EIP-55 checksummed).
    #[arg(long, env = "MILK_VAULT")]
    vault: Option<String>,
    /// The file with TICA's bridge key (secp256k1, 64 hex digits), which signs batch roots
    /// and pays the main chain's gas.
    #[arg(long, env = "MILK_BRIDGE_KEY_FILE")]
    bridge_key_file: Option<PathBuf>,
    /// Confirmations a main-chain deposit or release needs before the center chain records it.
    #[arg(long, default_value_t = 12)]
    confirmations: u64,
    /// The first main-chain block to search for deposits (the vault's deployment).
    #[arg(long, default_value_t = 0)]
    main_chain_from_block: u64,
    /// How often the bridge looks at both chains, ms.
    #[arg(long, default_value_t = 2_000)]
    bridge_poll_ms: u64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            // openraft reports every unreachable peer, twice a second, as an error: the
            // node logs leadership changes itself.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,openraft=off".into()),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal; none in a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    if args.print_node_key {
        println!("{}", milkd::node::node_key(&args.data_dir)?.address());
        return Ok(());
    }
    if let Some(nodes) = args.local_net {
        return local_net(&args, nodes);
    }
    let config = node_config(&args)?;
    let node = Arc::new(
        Node::open(config, Arc::new(SystemClock))
            .with_context(|| format!("starting the node in {}", args.data_dir.display()))?,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        // Scripts and tests read this line to find the node.
        println!("milkd listening on http://{addr}");
        // For a person; a script that read the line above may have closed the pipe already.
        let _ = writeln!(
            std::io::stdout(),
            "the wallet and the explorer: open http://{addr}/ in a browser"
        );
        tracing::info!(%addr, data_dir = %args.data_dir.display(), chains = node.chain_handles().len(), "node started");
                if milkd::demo::is_demo(&node) && args.oracle_urls.is_empty() {
            // MLK at about KRW 1,000, wandering by up to 0.3 % a quote, from three sources
            // a little apart, as exchanges are.
            let ticker = milkd::exchange::ticker::Ticker::new(10_000_000, 30, 0x6d696c6b, Arc::new(SystemClock));
            let urls = milkd::exchange::ticker::serve_sources(ticker, &milkd::exchange::ticker::SOURCE_SKEWS_BPS)?;
            tracing::info!(?urls, "demo network: three local MLK tickers feed the oracle (--oracle-url to use others)");
            tokio::spawn(milkd::exchange::oracle::run(node.clone(), urls, Duration::from_secs(args.oracle_interval_s.max(1))));
        }
        if milkd::demo::is_demo(&node) && !args.no_demo_traffic {
            let joined = (node.chain_handles().iter()).any(|h| h.spec.id.as_str() == milkd::demo::DEMO_NEWCOMER);
            if !joined {
                tracing::info!("demo network: Paper Lantern Books joins the alliance");
            }
            tracing::info!("demo network: every 3 s carol sends tokens, has mileage converted or trades on the exchange (--no-demo-traffic to stop)");
            tokio::spawn(milkd::demo::traffic(node.clone(), Duration::from_secs(3)));
        }
        milkd::serve(node, listener, shutdown_signal())
            .await
            .context("serving the API")?;
        tracing::info!("stopped cleanly");
        Ok(())
    })
}

/// The node's settings from the command line.
fn node_config(args: &Args) -> anyhow::Result<NodeConfig> {
    let mut config = NodeConfig::new(args.data_dir.clone());
    config.listen = args.listen;
    config.genesis = args.genesis.clone();
    config.producer_key = args.producer_key.clone();
    config.block_max_txs = args.block_max_txs;
    config.block_interval = Duration::from_millis(args.block_interval_ms);
    config.oracle_sources = args.oracle_urls.clone();
    config.oracle_interval = Duration::from_secs(args.oracle_interval_s.max(1));
    config.oracle_quorum = args.oracle_quorum.max(1);
    config.max_connections = args.max_connections.max(1);
    config.max_connections_per_address = args.max_connections_per_address.max(1);
    config.header_timeout = Duration::from_millis(args.header_timeout_ms.max(1));
    config.body_timeout = Duration::from_millis(args.body_timeout_ms.max(1));
    config.cluster = args.cluster.clone();
    config.node_id = args.node_id.unwrap_or(0);
    config.peer_listen = args.peer_listen;
    let election = Duration::from_millis(args.election_timeout_ms.max(50));
    config.replication.election_timeout = election;
    config.replication.heartbeat = election / 5;
    config.replication.snapshot_every = args.snapshot_every.max(10);
    config.main_chain = main_chain_config(args)?;
    // Fault-injection tests stop the node abruptly at a settlement step with this.
    config.crash_after = std::env::var("MILK_CRASH_AFTER").ok();

    Ok(config)
}

/// The main chain's settings, if one is given.
fn main_chain_config(args: &Args) -> anyhow::Result<Option<milkd::config::MainChainConfig>> {
    let Some(rpc) = args.main_chain_rpc.clone() else {
        return Ok(None);
    };
    let vault = args
        .vault
        .as_deref()
        .context("--vault is needed with --main-chain-rpc")?;
    let vault = vault
        .parse()
        .map_err(|e| anyhow::anyhow!("--vault {vault}: {e}"))?;
    let key_file = args
        .bridge_key_file
        .clone()
        .context("--bridge-key-file is needed")?;
    Ok(Some(milkd::config::MainChainConfig {
        rpc,
        vault,
        key_file,
        confirmations: args.confirmations.max(1),
        from_block: args.main_chain_from_block,
        poll: Duration::from_millis(args.bridge_poll_ms.max(10)),
    }))
}

/// Runs a local replicated network until Ctrl-C or SIGTERM, then stops every node.
fn local_net(args: &Args, nodes: u64) -> anyhow::Result<()> {
    anyhow::ensure!((1..=9).contains(&nodes), "--local-net takes 1 to 9 nodes");
    let net = milkd::localnet::LocalNet {
        nodes,
        dir: args.data_dir.clone(),
        first: args.listen,
        extra: vec![
            "--election-timeout-ms".into(),
            args.election_timeout_ms.to_string(),
        ],
    };
    let cluster = net.prepare().map_err(anyhow::Error::msg)?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut slots = Vec::new();
    for k in 1..=nodes {
        let child = net.start(&exe, &cluster, k).map_err(anyhow::Error::msg)?;
        slots.push(milkd::localnet::Slot {
            child: Some(child),
            died: None,
        });
    }
    println!("cluster file: {}", cluster.display());
    println!(
        "watch it: milk --node http://{} --token demo-operator-token cluster",
        args.listen
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut stop = std::pin::pin!(shutdown_signal());
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = tick.tick() => net.tend(&exe, &cluster, &mut slots),
            }
        }
    });
    let children: Vec<_> = slots.into_iter().filter_map(|s| s.child).collect();
    for child in &children {
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }
    for mut child in children {
        let _ = child.wait();
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: committing accepted transactions");
}
