//! `milk bench conversions`: a partner's conversions per second through its API, in
//! batches or one per request, beside the transfers figure measured in the same run.

use super::{link_customers, now_ms, percentile, start};
use crate::client::Client;
use anyhow::{Context, Result, bail};
use milk_core::brand::action::ConversionItem;
use milk_core::genesis::demo_key;
use milk_core::tx::{Action, BrandAction, SignedTransaction, Transaction};
use milk_core::{ChainId, Keypair};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What `bench conversions` runs.
#[derive(Debug, Clone)]
pub struct ConversionBench {
    /// Linked customers.
    pub customers: usize,
    /// Conversions in all.
    pub conversions: usize,
    /// Conversions per request: a batch, or 1 for the one-per-request endpoint.
    pub batch: usize,
    /// Concurrent partner clients, one request at a time each.
    pub clients: usize,
}

/// Conversions per second through the partner API over loopback HTTP (idempotency lookup,
/// submission, durable commit, receipt), with request latency percentiles.
pub fn conversions(opts: &ConversionBench) -> Result<serde_json::Value> {
    eprintln!(
        "bench conversions: {} conversions for {} linked customers, {} per request, {} concurrent partner clients",
        opts.conversions, opts.customers, opts.batch, opts.clients
    );
    let dir = tempfile::tempdir().context("temporary data directory")?;
    let mut config = milkd::NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().expect("valid");
    let node = start(config)?;
    let client = Client::new(&node.url()).with_token(Some("demo-skyway-token".into()));
    let chain: ChainId = "skyway".parse().expect("valid");
    let issuer = demo_key("partner:skyway");

    // Setup, not timed: link every customer, sign every request.
    let expires = now_ms() + 3_600_000;
    let customers = link_customers(&client, &chain, &issuer, opts.customers, expires)?;
    let requests = presign(opts, &chain, &issuer, &customers, expires);
    let started = Instant::now();
    let mut latencies = post_all(&client, &requests, opts.clients)?;
    let secs = started.elapsed().as_secs_f64();
    let blocks = (node.node.chain(&chain)).map_or(0, |c| c.head().height);
    node.stop().context("stopping the node")?;
    let (p50, p99) = (
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    );
    let rate = opts.conversions as f64 / secs;
    eprintln!(
        "converted: {} in {secs:.3} s over {blocks} blocks = {rate:.0}/s; request latency p50 {p50:.1} ms, p99 {p99:.1} ms (durable, through the partner API)",
        opts.conversions
    );
    Ok(serde_json::json!({
        "bench": "conversions",
        "committed_per_s": rate.round(),
        "per_request": opts.batch,
        "p50_ms": (p50 * 10.0).round() / 10.0,
        "p99_ms": (p99 * 10.0).round() / 10.0,
        "clients": opts.clients,
    }))
}

/// The requests' transactions, signed by the partner's issuer key in sequence order: one
/// conversion of 100 miles each, `opts.batch` to a transaction.
fn presign(
    opts: &ConversionBench,
    chain: &ChainId,
    issuer: &Keypair,
    customers: &[Keypair],
    expires: u64,
) -> Vec<SignedTransaction> {
    let item = |n: usize| ConversionItem {
        to: customers[n % customers.len()].address(),
        mileage: 100,
        reference: format!("BENCH-{n:08}"),
    };
    let starts: Vec<usize> = (0..opts.conversions).step_by(opts.batch).collect();
    (starts.into_par_iter().enumerate())
        .map(|(sequence, first)| {
            let last = (first + opts.batch).min(opts.conversions);
            let action = match opts.batch {
                1 => {
                    let i = item(first);
                    BrandAction::Convert {
                        to: i.to,
                        mileage: i.mileage,
                        reference: i.reference,
                    }
                }
                _ => BrandAction::ConvertBatch {
                    items: (first..last).map(item).collect(),
                },
            };
            Transaction {
                chain: chain.clone(),
                sender: issuer.address(),
                sequence: sequence as u64,
                expires_at_ms: expires,
                action: Action::Brand(action),
            }
            .sign(issuer)
        })
        .collect()
}

/// Posts every request from `clients` threads; each request's latency, ms. Every
/// conversion must come back converted, 100.00 SKY.
fn post_all(client: &Client, requests: &[SignedTransaction], clients: usize) -> Result<Vec<f64>> {
    let next = AtomicUsize::new(0);
    let per_thread: Vec<Result<Vec<f64>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| -> Result<Vec<f64>> {
                    let mut times = Vec::new();
                    while let Some(tx) = requests.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let t = Instant::now();
                        post_one(client, tx)?;
                        times.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(times)
                })
            })
            .collect();
        (handles.into_iter())
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    let mut all = Vec::with_capacity(requests.len());
    for times in per_thread {
        all.extend(times?);
    }
    Ok(all)
}

fn post_one(client: &Client, tx: &SignedTransaction) -> Result<()> {
    match &tx.tx.action {
        Action::Brand(BrandAction::ConvertBatch { items }) => {
            let receipt = client.partner_post("skyway", "/conversion-batches", tx)?;
            if receipt["converted"].as_u64() != Some(items.len() as u64) {
                bail!("not every item converted: {receipt}");
            }
        }
        _ => {
            let receipt = client.partner_post("skyway", "/conversions", tx)?;
            if receipt["amount"] != "10000" {
                bail!("unexpected receipt {receipt}");
            }
        }
    }
    Ok(())
}
