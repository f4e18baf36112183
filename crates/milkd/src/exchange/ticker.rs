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

async fn ticker(State(t): State<Arc<Ticker>>, Query(q): Query<TickerQuery>) -> impl IntoResponse {
    let market = q.markets.unwrap_or_else(|| MARKET.to_owned());
    if market != MARKET {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":{"name":"404","message":"Code not found"}}"#.to_owned(),
        );
    }
    let (price, timestamp) = t.quote();
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

/// The ticker's routes.
pub fn router(t: Arc<Ticker>) -> Router {
    Router::new().route("/v1/ticker", get(ticker)).with_state(t)
}

/// Serves a ticker on `listener` until the runtime stops.
pub fn spawn(listener: tokio::net::TcpListener, t: Arc<Ticker>) {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(t)).await {
            tracing::warn!(error = %e, "ticker server stopped");
        }
    });
}
