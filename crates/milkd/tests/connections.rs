//! Connections nobody can hoard: 20,000 slow connections from several loopback addresses
//! leave `/health` answering; what the caps have no room for gets a 503 at once, and a body
//! dribbled in gets a 408 when its time is up.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const NOW: u64 = 1_900_000_000_000;
/// Attackers' source addresses: 127.0.0.2 and up.
const SOURCES: u8 = 8;
const TOTAL: usize = 20_000;
const WAVE: usize = 2_000;

/// Headers and one byte of a 1,000-byte body, and then nothing.
const SLOW: &[u8] =
    b"POST /v1/chains/center/txs HTTP/1.1\r\nhost: node\r\ncontent-length: 1000\r\n\r\n{";

async fn open_slow(node: SocketAddr, source: u8) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket
        .bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, source)),
            0,
        ))
        .ok()?;
    let connect = tokio::time::timeout(Duration::from_secs(2), socket.connect(node));
    let mut stream = connect.await.ok()?.ok()?;
    stream.write_all(SLOW).await.ok()?;
    Some(stream)
}

/// Whether the node shed a connection: a 503 (or a close) within half a second. A held one
/// hears nothing until its body's time is up.
async fn shed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await;
    match read {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(n)) => buf[..n].starts_with(b"HTTP/1.1 503"),
        Err(_) => false,
    }
}

/// A metric of the node's, from `/metrics`.
async fn metric(node: SocketAddr, name: &str) -> f64 {
    let mut s = TcpStream::connect(node).await.unwrap();
    let ask = format!(
        "GET /metrics HTTP/1.1\r\nhost: node\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
        support::OPERATOR_TOKEN
    );
    s.write_all(ask.as_bytes()).await.unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .expect("the metric");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// `GET /health` from 127.0.0.1: the status line, within two seconds.
async fn health(node: SocketAddr) -> String {
    let ask = async {
        let mut s = TcpStream::connect(node).await.ok()?;
        s.write_all(b"GET /health HTTP/1.1\r\nhost: node\r\nconnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.ok()?;
        answer.lines().next().map(str::to_owned)
    };
    let answer = tokio::time::timeout(Duration::from_secs(2), ask).await;
    answer.ok().flatten().unwrap_or_else(|| "no answer".into())
}

#[test]
fn twenty_thousand_slow_connections_leave_health_answering() {
    let dir = tempfile::tempdir().unwrap();
    let node = support::test_node(dir.path(), NOW, |config| {
        config.max_connections = 1_024;
        config.max_connections_per_address = 32;
        config.header_timeout = Duration::from_secs(2);
        config.body_timeout = Duration::from_secs(2);
    });
    let addr = node.addr;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut held, mut opened) = (Vec::new(), 0usize);
        while opened < TOTAL {
            let wave: Vec<_> = (0..WAVE)
                .map(|i| tokio::spawn(open_slow(addr, 2 + (i % SOURCES as usize) as u8)))
                .collect();
            let mut streams = Vec::new();
            for w in wave {
                streams.extend(w.await.unwrap());
            }
            opened += WAVE;
            assert_eq!(
                health(addr).await,
                "HTTP/1.1 200 OK",
                "after {opened} opened"
            );
            let open = metric(addr, "milk_connections_open").await;
            assert!(open <= f64::from(SOURCES) * 32.0 + 2.0, "{open} open");
            // Close what the node shed; keep what it holds, still dribbling.
            let checks = streams
                .into_iter()
                .map(|mut s| tokio::spawn(async move { (shed(&mut s).await, s) }));
            for check in checks.collect::<Vec<_>>() {
                if let (false, s) = check.await.unwrap() {
                    held.push(s);
                }
            }
        }
        // The node shed most of them at once; none of those it took waits for ever: a
        // dribbled body gets its 408, and whatever was still queued its 503.
        let counted = metric(addr, "milk_connections_shed_total").await;
        assert!(counted >= (TOTAL / 2) as f64, "{counted} shed of {TOTAL}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut timed_out, mut unanswered) = (0, 0);
        for mut s in held {
            let mut answer = Vec::new();
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, s.read_to_end(&mut answer)).await {
                Ok(_) => timed_out += usize::from(answer.starts_with(b"HTTP/1.1 408")),
                Err(_) => unanswered += 1,
            }
        }
        assert!(timed_out > 0, "no dribbled body timed out");
        assert_eq!(unanswered, 0, "connections left hanging");
        assert_eq!(
            metric(addr, "milk_connections_open").await,
            1.0,
            "only this request's"
        );
        assert_eq!(health(addr).await, "HTTP/1.1 200 OK");
    });
}
