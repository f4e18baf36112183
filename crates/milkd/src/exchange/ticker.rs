//! A small ticker server speaking the format of Upbit's public ticker
//! (`GET /v1/ticker?markets=KRW-MLK` → `[{"market", "trade_price", "timestamp"}]`), so the
//! demo and the tests have MLK prices to feed the oracle without any outside service.
//!
//! Its price follows a seeded random walk (the demo) or stays where a test sets it; a test
//! can also make it serve stale quotes.

use crate::clock::Clock;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use std::sync::{Arc, Mutex};

/// The market the demo's MLK price is quoted in.
pub const MARKET: &str = "KRW-MLK";

#[derive(Debug)]
struct Walk {
    price_e4: u64,
    /// Largest move per quote, basis points; 0 keeps the price still.
    step_bps: u64,
    state: u64,
    /// How far behind the clock quotes are dated: a test makes them stale with it.
    age_ms: u64,
}

/// A ticker: MLK's price in KRW × 10⁴, moving by up to `step_bps` per quote.
#[derive(Debug)]
pub struct Ticker {
    walk: Mutex<Walk>,
    clock: Arc<dyn Clock>,
}

impl Ticker {
    /// A ticker starting at `price_e4`, moving by up to `step_bps` per quote from `seed`.
    pub fn new(price_e4: u64, step_bps: u64, seed: u64, clock: Arc<dyn Clock>) -> Arc<Ticker> {
        Arc::new(Ticker {
            walk: Mutex::new(Walk {
                price_e4: price_e4.max(1),
                step_bps,
                state: seed | 1,
                age_ms: 0,
            }),
            clock,
        })
    }

    /// Sets the price.
    pub fn set(&self, price_e4: u64) {
        self.walk.lock().expect("ticker lock").price_e4 = price_e4.max(1);
    }

    /// Makes quotes `age_ms` old.
    pub fn set_age(&self, age_ms: u64) {
        self.walk.lock().expect("ticker lock").age_ms = age_ms;
    }

    /// The next quote: `(price × 10⁴, timestamp)`.
    pub fn quote(&self) -> (u64, u64) {
        let mut w = self.walk.lock().expect("ticker lock");
        if w.step_bps > 0 {
            // xorshift64: a deterministic walk from the seed.
            let mut x = w.state;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w.state = x;
            let span = 2 * w.step_bps + 1;
            let bps = (x % span) as i64 - w.step_bps as i64;
            let delta = (w.price_e4 as i128 * bps as i128 / 10_000) as i64;
            w.price_e4 = (w.price_e4 as i64 + delta).max(1) as u64;
        }
        (w.price_e4, self.clock.now_ms().saturating_sub(w.age_ms))
    }
}

#[derive(Deserialize)]
struct TickerQuery {
    markets: Option<String>,
}

/// One source's view of a ticker: its price off by `skew_bps`, as exchanges differ.
#[derive(Clone)]
struct Source {
    ticker: Arc<Ticker>,
    skew_bps: i64,
}

async fn ticker(State(src): State<Source>, Query(q): Query<TickerQuery>) -> impl IntoResponse {
    let market = q.markets.unwrap_or_else(|| MARKET.to_owned());
    if market != MARKET {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":{"name":"404","message":"Code not found"}}"#.to_owned(),
        );
    }
    let (price, timestamp) = src.ticker.quote();
    let skewed = i128::from(price) * (10_000 + i128::from(src.skew_bps)) / 10_000;
    let price = u64::try_from(skewed.max(1)).unwrap_or(u64::MAX);
    // Written by hand so the decimal price is exact text, as an exchange would send it.
    let body = format!(
        r#"[{{"market":"{MARKET}","trade_price":{}.{:04},"timestamp":{timestamp}}}]"#,
        price / 10_000,
        price % 10_000
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
}

/// The ticker's routes, quoting its price as it is.
pub fn router(t: Arc<Ticker>) -> Router {
    skewed_router(t, 0)
}

/// The routes of a source quoting the ticker's price off by `skew_bps`.
pub fn skewed_router(t: Arc<Ticker>, skew_bps: i64) -> Router {
    let source = Source {
        ticker: t,
        skew_bps,
    };
    Router::new()
        .route("/v1/ticker", get(ticker))
        .with_state(source)
}

/// How the demo's, the tests' and the benchmarks' three sources differ: ±0.1 %.
pub const SOURCE_SKEWS_BPS: [i64; 3] = [-10, 0, 10];

/// Serves one source per skew, each on its own loopback port, from a thread of their own
/// (so any caller, inside a runtime or not, can start them); returns their URLs.
pub fn serve_sources(t: Arc<Ticker>, skews_bps: &[i64]) -> std::io::Result<Vec<String>> {
    let mut listeners = Vec::new();
    let mut urls = Vec::new();
    for skew in skews_bps {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.set_nonblocking(true)?;
        urls.push(format!(
            "http://{}/v1/ticker?markets={MARKET}",
            l.local_addr()?
        ));
        listeners.push((l, *skew));
    }
    std::thread::Builder::new()
        .name("ticker-sources".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the ticker sources");
            rt.block_on(async move {
                let mut served = Vec::new();
                for (l, skew) in listeners {
                    let Ok(l) = tokio::net::TcpListener::from_std(l) else {
                        continue;
                    };
                    let app = skewed_router(t.clone(), skew);
                    served.push(tokio::spawn(async move { axum::serve(l, app).await }));
                }
                for s in served {
                    let _ = s.await;
                }
            });
        })?;
    Ok(urls)
}
