//! A network that misbehaves between replicated nodes, as a test's weather says.
//!
//! Each node's peers reach it through a proxy on its cluster-file peer address, which
//! forwards to where the node really listens (`--peer-listen`). The proxy reads who sends
//! from the first request's `x-milk-node` header, then passes the bytes on chunk by chunk:
//! holding each back a while (messages on different connections overtake each other),
//! ending a connection in the middle of a message (a request or its answer lost), and
//! carrying nothing over a cut link, one way or both (partitions). Which chunk is held or
//! dropped comes from the seed; when a chunk arrives is up to the machine's scheduler.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the network does now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Weather {
    /// Links that carry nothing, as (from, to) node ids.
    pub cut: HashSet<(u64, u64)>,
    /// The most milliseconds a chunk is held back (each one at random up to this).
    pub delay_ms: u64,
    /// The chance, in thousandths, that a chunk ends its connection instead of arriving.
    pub drop_per_mille: u64,
}

/// What the proxies did, counted.
#[derive(Debug, Default)]
pub struct Counts {
    /// Connections passed on.
    pub connections: AtomicU64,
    /// Connections refused or ended because their link was cut.
    pub cut: AtomicU64,
    /// Connections ended mid-stream by a dropped chunk.
    pub dropped: AtomicU64,
    /// Chunks held back.
    pub delayed: AtomicU64,
}

struct Shared {
    weather: Mutex<Weather>,
    counts: Counts,
    seed: u64,
    next: AtomicU64,
}

impl Shared {
    fn weather(&self) -> Weather {
        self.weather.lock().unwrap().clone()
    }

    /// A fresh random state for one direction of one connection, from the seed.
    fn rng(&self) -> u64 {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        (self.seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1
    }
}

/// The proxies of one network, running until dropped.
pub struct FaultNet {
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

/// One node's route: its id, the address its peers dial, and where it listens.
pub type Route = (u64, SocketAddr, SocketAddr);

impl FaultNet {
    /// Proxies for every route, in calm weather.
    pub fn start(routes: &[Route], seed: u64) -> FaultNet {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            weather: Mutex::new(Weather::default()),
            counts: Counts::default(),
            seed,
            next: AtomicU64::new(0),
        });
        for &(id, dialed, listens) in routes {
            let listener = runtime.block_on(TcpListener::bind(dialed)).unwrap();
            runtime.spawn(serve(listener, id, listens, shared.clone()));
        }
        FaultNet {
            shared,
            _runtime: runtime,
        }
    }

    /// Changes the weather; connections already open feel it from their next chunk.
    pub fn set(&self, weather: Weather) {
        *self.shared.weather.lock().unwrap() = weather;
    }

    /// What the proxies did so far.
    pub fn counts(&self) -> &Counts {
        &self.shared.counts
    }
}

async fn serve(listener: TcpListener, to: u64, target: SocketAddr, shared: Arc<Shared>) {
    while let Ok((inbound, _)) = listener.accept().await {
        tokio::spawn(pass(inbound, to, target, shared.clone()));
    }
}

/// Passes one connection on to node `to`, listening at `target`.
async fn pass(mut inbound: TcpStream, to: u64, target: SocketAddr, shared: Arc<Shared>) {
    let Some((from, head)) = read_sender(&mut inbound).await else {
        return;
    };
    if shared.weather().cut.contains(&(from, to)) {
        shared.counts.cut.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    if outbound.write_all(&head).await.is_err() {
        return;
    }
    shared.counts.connections.fetch_add(1, Ordering::SeqCst);
    let (ri, wi) = inbound.into_split();
    let (ro, wo) = outbound.into_split();
    // Either direction ending ends both: the sockets close as the halves drop.
    tokio::select! {
        _ = pump(ri, wo, (from, to), shared.clone()) => {}
        _ = pump(ro, wi, (to, from), shared.clone()) => {}
    }
}

/// Reads the first request's head and the sender it names; none for anything else.
async fn read_sender(inbound: &mut TcpStream) -> Option<(u64, Vec<u8>)> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = inbound.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > 16 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
        let from = text.lines().find_map(|l| {
            let value = l.strip_prefix(milkd::replica::network::NODE_HEADER)?;
            value.trim_start_matches(':').trim().parse().ok()
        })?;
        return Some((from, head));
    }
}

/// Carries one direction's bytes over `link`, chunk by chunk, as the weather says.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: (u64, u64),
    shared: Arc<Shared>,
) {
    let mut rng = shared.rng();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let Ok(n) = from.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        let weather = shared.weather();
        if weather.cut.contains(&link) {
            shared.counts.cut.fetch_add(1, Ordering::SeqCst);
            return;
        }
        if super::xorshift(&mut rng) % 1_000 < weather.drop_per_mille {
            shared.counts.dropped.fetch_add(1, Ordering::SeqCst);
            return;
        }
        if weather.delay_ms > 0 {
            let ms = super::xorshift(&mut rng) % (weather.delay_ms + 1);
            shared.counts.delayed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
