//! The trade benchmark's customers: each an async task with a connection of its own, one
//! order at a time (signed beforehand), all on one thread of the benchmark's own. So 256 of
//! them cost the machine little beside the node they measure, and that thread's CPU clock
//! is what they cost.

use anyhow::{Context, Result, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use milk_core::tx::{Action, ExchangeAction, OrderSize, SignedTransaction, Transaction};
use milk_core::{Amount, Keypair, Symbol};
use rayon::prelude::*;
use std::time::Instant;

type Http = Client<HttpConnector, Full<Bytes>>;

/// Every trader's orders, signed: alternately a sale of 10 CINE and a purchase of as many,
/// each as a request body.
pub fn sign_orders(keys: &[Keypair], per_trader: usize) -> Vec<Vec<Bytes>> {
    let expires = super::now_ms() + 3_600_000;
    keys.par_iter()
        .map(|key| {
            (0..per_trader as u64)
                .map(|n| match n % 2 {
                    0 => sale(key, n / 2, expires),
                    _ => purchase(key, n / 2, expires),
                })
                .map(|order| {
                    let body = serde_json::json!({ "tx": milk_api::wire::tx_hex(&order) });
                    Bytes::from(body.to_string())
                })
                .collect()
        })
        .collect()
}

/// Every trader's orders, concurrently: every trade's latency, ms, and the CPU nanoseconds
/// the traders used.
pub fn run(url: &str, orders: Vec<Vec<Bytes>>) -> Result<(Vec<f64>, f64)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("the traders' runtime")?;
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(orders.len())
        .build_http();
    let cpu_before = milkd::cpu::thread_ns();
    let results = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for bodies in orders {
            let (http, url) = (http.clone(), format!("{url}/v1/trades"));
            tasks.spawn(async move { trader(&http, &url, bodies).await });
        }
        let mut all = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            all.push(joined.context("a trader stopped")?);
        }
        anyhow::Ok(all)
    })?;
    let clients_ns = milkd::cpu::thread_ns().saturating_sub(cpu_before) as f64;
    let mut trade_ms = Vec::new();
    for r in results {
        trade_ms.extend(r?);
    }
    Ok((trade_ms, clients_ns))
}

/// One trader's orders, each awaited until settled. Milliseconds each took.
async fn trader(http: &Http, url: &str, bodies: Vec<Bytes>) -> Result<Vec<f64>> {
    let mut times = Vec::with_capacity(bodies.len());
    for body in bodies {
        let t = Instant::now();
        let status = place(http, url, body).await?;
        if status != "filled" {
            bail!("a trade was not filled: {status}");
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(times)
}

/// POSTs an order to `/v1/trades`: the trade's status, or the node's error.
async fn place(http: &Http, url: &str, body: Bytes) -> Result<String> {
    let request = hyper::Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(body))?;
    let response = http.request(request).await.context("placing an order")?;
    let bytes = response.into_body().collect().await?.to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).context("the trade's answer")?;
    match answer["status"].as_str() {
        Some(status) => Ok(status.to_owned()),
        None => bail!("the node answered {answer}"),
    }
}

/// A sale of 10.00 CINE on the cinema chain.
fn sale(key: &Keypair, sequence: u64, expires: u64) -> SignedTransaction {
    let action = Action::Exchange(ExchangeAction::Sell {
        amount: Amount::new(1_000),
        min_out: Amount::new(1),
    });
    order(key, "cinema", sequence, expires, action)
}

/// A purchase of 10.00 CINE on the center chain, at any price.
fn purchase(key: &Keypair, sequence: u64, expires: u64) -> SignedTransaction {
    let cine: Symbol = "CINE".parse().expect("valid");
    let action = Action::Exchange(ExchangeAction::Buy {
        asset: cine,
        pay: "MLK".parse().expect("valid"),
        size: OrderSize::Tokens(Amount::new(1_000)),
        max_in: Amount::new(u128::MAX),
    });
    order(key, "center", sequence, expires, action)
}

fn order(
    key: &Keypair,
    chain: &str,
    sequence: u64,
    expires: u64,
    action: Action,
) -> SignedTransaction {
    Transaction {
        chain: chain.parse().expect("valid"),
        sender: key.address(),
        sequence,
        expires_at_ms: expires,
        action,
    }
    .sign(key)
}
