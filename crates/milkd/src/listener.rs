//! The HTTP listener: what keeps clients from exhausting the node's connections.
//!
//! Each accepted connection takes a place out of a global cap and out of its client
//! address's cap; without a place it gets a `503` with `Retry-After` and is closed at once, so
//! shedding costs no task and holds no descriptor. A client has `header_timeout` to send a
//! request's headers (hyper's timer, which also closes idle keep-alive connections) and
//! `body_timeout` to send its whole body (`408 body_timeout`). On shutdown, connections
//! get a grace period to finish, then are dropped.

use crate::error::ApiError;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long open connections get to finish once the node stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Descriptors kept back from connections: stores, webhooks, the oracle's requests.
const RESERVED_FILES: usize = 256;

/// The listener's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The most open connections.
    pub max_connections: usize,
    /// The most open connections from one address.
    pub per_address: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// Counts open connections.
    pub open: Gauge,
    /// Counts shed connections.
    pub shed: Counter,
    /// Counts the CPU time connections take (`crate::cpu`).
    pub cpu: Counter,
}

/// Open connections by client address.
#[derive(Debug, Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// A connection's place: gives back both caps when the connection ends.
struct Place {
    _global: OwnedSemaphorePermit,
    counts: Arc<PerAddress>,
    address: IpAddr,
    open: Gauge,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.open.dec();
        let mut counts = self.counts.0.lock().expect("connection counts");
        if let Some(n) = counts.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

impl PerAddress {
    fn take(
        self: &Arc<Self>,
        address: IpAddr,
        limits: &Limits,
        global: &Arc<Semaphore>,
    ) -> Option<Place> {
        let mut counts = self.0.lock().expect("connection counts");
        let n = counts.entry(address).or_default();
        if *n >= limits.per_address {
            return None;
        }
        let permit = global.clone().try_acquire_owned().ok()?;
        *n += 1;
        limits.open.inc();
        Some(Place {
            _global: permit,
            counts: self.clone(),
            address,
            open: limits.open.clone(),
        })
    }
}

/// Raises the process's open-file limit to its hard limit and keeps `wanted` connections
/// below what that leaves, so shedding happens before accepting fails.
pub fn connection_cap(wanted: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            limit = raised;
        }
    }
    let room = (limit.current).map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    wanted.min(room.saturating_sub(RESERVED_FILES).max(1))
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let global = Arc::new(Semaphore::new(connection_cap(limits.max_connections)));
    let counts = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(place) = counts.take(peer.ip(), &limits, &global) else {
            limits.shed.inc();
            shed(&stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        let served = async move {
            let _ = conn.await;
            drop(place);
        };
        tokio::spawn(crate::cpu::Counted::new(served, limits.cpu.clone()));
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period were dropped");
    }
}

/// Answers a connection there is no room for: a `503` written without waiting (it fits in
/// any socket buffer), then the connection is closed.
fn shed(stream: &TcpStream) {
    let body =
        r#"{"error":{"code":"overloaded","message":"too many open connections; retry shortly"}}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// Reads each request's whole body within `body_timeout` and the body limit, so a client
/// dribbling a body holds nothing for long; handlers then get it at once.
pub async fn read_body(
    State((timeout, limit)): State<(Duration, usize)>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await;
    match read {
        Ok(Ok(collected)) => {
            let request = Request::from_parts(parts, Body::from(collected.to_bytes()));
            next.run(request).await
        }
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is over {limit} bytes"),
            )
            .into_response()
        }
        Ok(Err(e)) => {
            ApiError::new(StatusCode::BAD_REQUEST, "body_unreadable", e.to_string()).into_response()
        }
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the body took over {} ms to arrive", timeout.as_millis()),
        )
        .into_response(),
    }
}
