//! A replicated network on one machine: `milkd --local-net 3` starts three nodes of the
//! demo network as child processes on loopback, each with its own data directory under
//! `--data-dir`, and the cluster file naming them. Node `k` serves its API on the listen
//! port + k − 1 and talks to its peers on that port + 100. Stopping the parent (Ctrl-C,
//! SIGTERM) stops the children gracefully. A child that dies (kill one to watch a failover)
//! is reported and started again [`RESTART_AFTER`] later, when it catches up.

use crate::node::node_key;
use crate::replica::cluster::{Cluster, ClusterNode};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a node that died stays down before it is started again: long enough for the
/// others to elect a new leader.
pub const RESTART_AFTER: Duration = Duration::from_secs(3);

/// One node's process, and when it was found dead.
#[derive(Debug)]
pub struct Slot {
    /// The running process.
    pub child: Option<Child>,
    /// When it was found dead, if it is.
    pub died: Option<Instant>,
}

/// The local network's shape.
#[derive(Debug, Clone)]
pub struct LocalNet {
    /// How many nodes.
    pub nodes: u64,
    /// The parent data directory (one `node<k>` directory per node).
    pub dir: PathBuf,
    /// Node 1's API address; the others follow it.
    pub first: SocketAddr,
    /// Arguments every node also gets.
    pub extra: Vec<String>,
}

impl LocalNet {
    fn api(&self, k: u64) -> SocketAddr {
        SocketAddr::new(self.first.ip(), self.first.port() + (k - 1) as u16)
    }

    fn peer(&self, k: u64) -> SocketAddr {
        SocketAddr::new(self.first.ip(), self.first.port() + 100 + (k - 1) as u16)
    }

    /// Writes each node's key (made on first use) and the cluster file; returns its path.
    pub fn prepare(&self) -> Result<PathBuf, String> {
        let mut nodes = Vec::new();
        for k in 1..=self.nodes {
            let key = node_key(&self.node_dir(k)).map_err(|e| e.to_string())?;
            nodes.push(ClusterNode::new(
                k,
                self.api(k),
                self.peer(k),
                key.address(),
            ));
        }
        let path = self.dir.join("cluster.json");
        Cluster { nodes }.save(&path)?;
        Ok(path)
    }

    fn node_dir(&self, k: u64) -> PathBuf {
        self.dir.join(format!("node{k}"))
    }

    /// Starts node `k` from `exe`, printing its first line with its number.
    pub fn start(&self, exe: &Path, cluster: &Path, k: u64) -> Result<Child, String> {
        let mut child = Command::new(exe)
            .arg("--data-dir")
            .arg(self.node_dir(k))
            .args(["--listen", &self.api(k).to_string()])
            .arg("--cluster")
            .arg(cluster)
            .args(["--node-id", &k.to_string()])
            .args(&self.extra)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting node {k}: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("node {k}: {e}"))?;
        println!("node {k} (pid {}): {}", child.id(), line.trim());
        Ok(child)
    }

    /// Reports nodes that died and starts again those down for [`RESTART_AFTER`].
    pub fn tend(&self, exe: &Path, cluster: &Path, slots: &mut [Slot]) {
        for (k, slot) in (1..).zip(slots.iter_mut()) {
            if let Some(child) = slot.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                println!(
                    "node {k} stopped ({status}); starting it again in {} s",
                    RESTART_AFTER.as_secs()
                );
                slot.child = None;
                slot.died = Some(Instant::now());
            }
            if slot.died.is_some_and(|d| d.elapsed() >= RESTART_AFTER) {
                match self.start(exe, cluster, k) {
                    Ok(child) => (slot.child, slot.died) = (Some(child), None),
                    Err(e) => {
                        println!("node {k}: {e}; trying again");
                        slot.died = Some(Instant::now());
                    }
                }
            }
        }
    }
}

/// A loopback port nothing listens on, for a node started next. It is taken below the
/// system's ephemeral range, so no outgoing connection (the system hands those ports out on
/// its own) can take it between this check and the node's bind, nor while a stopped node
/// waits to start again on it. Each process starts its search at its own place in the range
/// so that concurrent ones rarely meet; the bind check settles it when they do.
pub fn unused_port() -> std::io::Result<u16> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOWEST: u32 = 10_000;
    let top = ephemeral_start().clamp(LOWEST + 1_000, 65_535);
    let span = top - LOWEST;
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = (LOWEST + offset) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no unused loopback port below the ephemeral range",
    ))
}

/// The first port of the system's ephemeral range (Linux's default when it cannot be read).
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..20).map(|_| unused_port().unwrap()).collect();
        let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
        for port in ports {
            assert!(u32::from(port) < ephemeral_start().max(11_000), "{port}");
            std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        }
    }
}
