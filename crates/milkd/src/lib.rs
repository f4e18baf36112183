//! The MiL.k node: hosts the center chain and every brand chain in one process, each with
//! its own durable store, and serves the HTTP/JSON API.
//!
//! Map: [`node`] opens the data directory and starts one [`worker`] thread per chain (the
//! chain's only writer); [`api`] is the HTTP surface; [`metrics`] and [`clock`] are shared
//! services; [`demo`] makes the demo network lively. [`spawn`] runs a whole node in the
//! background, for tests and benchmarks.
//!
//! **Architecture invariant:** only this crate knows HTTP, JSON and threads; the rules live
//! in `milk-core` and the bytes on disk in `milk-store`.

pub mod access;
pub mod alliance;
pub mod api;
mod apidoc;
pub mod auth;
pub mod brand;
pub mod bridge;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod cpu;
pub mod demo;
pub mod error;
pub mod exchange;
pub mod forward;
pub mod history;
pub mod lane;
pub mod lanes;
pub mod leadership;
pub mod listener;
pub mod localnet;
pub mod membership;
pub mod metrics;
pub mod node;
pub mod operator;
pub mod outcome;
pub mod replica;
pub mod submit;
pub mod verifier;
pub mod web;
pub mod worker;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::NodeConfig;
pub use node::{Node, NodeError};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// Serves the API on `listener` until `shutdown` resolves, then commits what every chain
/// accepted and stops the workers.
pub async fn serve(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = api::router(node.clone());
    let peers = replicate(&node).await?;
    let anchoring = tokio::spawn(alliance::anchoring::anchor(
        node.clone(),
        node.config.anchor_interval,
    ));
    let recovery = tokio::spawn(exchange::settlement::recovery(
        node.clone(),
        node.config.settle_retry,
    ));
    let standing = tokio::spawn(alliance::standing::propagate(
        node.clone(),
        node.config.standing_interval,
    ));
    let pack = tokio::spawn(membership::pack::payouts(
        node.clone(),
        node.config.settle_retry,
    ));
    let oracle = tokio::spawn(exchange::oracle::run(
        node.clone(),
        node.config.oracle_sources.clone(),
        node.config.oracle_interval,
    ));
    let bridge = tokio::spawn(bridge::relayer::run(node.clone()));
    let webhooks = tokio::spawn(brand::webhooks::deliver(
        node.clone(),
        node.config.webhook_poll,
        node.config.webhook_retry_base,
    ));
    let limits = listener::Limits {
        max_connections: node.config.max_connections,
        per_address: node.config.max_connections_per_address,
        header_timeout: node.config.header_timeout,
        open: node.metrics.connections_open.clone(),
        shed: node.metrics.connections_shed.clone(),
        cpu: node.metrics.cpu.http.clone(),
    };
    listener::serve(listener, app, limits, shutdown).await;
    anchoring.abort();
    bridge.abort();
    standing.abort();
    webhooks.abort();
    recovery.abort();
    pack.abort();
    oracle.abort();
    if let Some(peers) = peers {
        peers.abort();
        for handle in node.chain_handles() {
            if let Some(raft) = handle.raft() {
                let _ = raft.shutdown().await;
            }
        }
    }
    let n = node.clone();
    tokio::task::spawn_blocking(move || n.shutdown())
        .await
        .map_err(std::io::Error::other)?;
    Ok(())
}

/// On a replicated node: starts every chain's group, answers peers on the node's peer
/// address, and gathers the chains' leadership where the center chain's is.
async fn replicate(node: &Arc<Node>) -> std::io::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(r) = node.replication() else {
        return Ok(None);
    };
    let advertised = r
        .cluster
        .node(r.me.id)
        .map(|n| n.peer)
        .ok_or_else(|| std::io::Error::other("this node is not in its cluster"))?;
    let peer = node.config.peer_listen.unwrap_or(advertised);
    let listener = tokio::net::TcpListener::bind(peer).await?;
    node.start_replication()
        .await
        .map_err(std::io::Error::other)?;
    let n = Arc::downgrade(node);
    let groups: replica::peer::Groups = Arc::new(move |c| {
        n.upgrade()
            .and_then(|n| n.chain(c))
            .and_then(|h| h.raft().cloned())
    });
    let router = replica::peer::router(r.cluster.clone(), groups, node.metrics.clone());
    tokio::spawn(leadership::gather(Arc::downgrade(node)));
    tracing::info!(node = r.me.id, %peer, "replicating with the cluster's peers");
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the peer listener stopped");
        }
    })))
}

/// A node running on background threads.
#[derive(Debug)]
pub struct Spawned {
    /// Where its API listens.
    pub addr: SocketAddr,
    /// The node.
    pub node: Arc<Node>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Spawned {
    /// The API's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts down gracefully and waits for it.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> std::io::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| std::io::Error::other("server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// Opens a node and serves it from a background thread with its own runtime.
pub fn spawn(config: NodeConfig, clock: Arc<dyn Clock>) -> Result<Spawned, NodeError> {
    let listen = config.listen;
    let node = Arc::new(Node::open(config, clock)?);
    let std_listener = std::net::TcpListener::bind(listen).map_err(|source| NodeError::Io {
        path: listen.to_string().into(),
        source,
    })?;
    std_listener
        .set_nonblocking(true)
        .map_err(|source| NodeError::Io {
            path: listen.to_string().into(),
            source,
        })?;
    let addr = std_listener.local_addr().map_err(|source| NodeError::Io {
        path: listen.to_string().into(),
        source,
    })?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let n = node.clone();
    let thread = std::thread::Builder::new()
        .name("milkd-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                serve(n, listener, async {
                    let _ = stopped.await;
                })
                .await
            })
        })
        .map_err(|source| NodeError::Io {
            path: "server thread".into(),
            source,
        })?;
    Ok(Spawned {
        addr,
        node,
        stop: Some(stop),
        thread: Some(thread),
    })
}
