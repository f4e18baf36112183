//! `milk bench flood`: what the free-key flood costs honest users. Honest transfers and the
//! operator's steps (the path every oracle price takes) are timed one at a time, first on a
//! quiet node, then while fresh keys without funds push transactions that can never apply
//! (sequence numbers 1 and up, never 0, valid for 23 hours), same run, same node.

use super::{bench_genesis, node_config, now_ms, percentile, start};
use crate::client::Client;
use anyhow::{Context, Result, bail};
use milk_core::tx::{Action, AnchorAction, SignedTransaction, TokenAction, Transaction};
use milk_core::{Address, Amount, ChainId, Hash, Keypair};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct FloodBench {
    /// Honest transfers and operator steps timed in each phase.
    pub samples: usize,
    /// Fresh keys in the flood.
    pub keys: usize,
    /// Transactions each fresh key signs.
    pub per_key: u64,
}

fn transfer(from: &Keypair, to: Address, sequence: u64, expires_at_ms: u64) -> SignedTransaction {
    Transaction {
        chain: ChainId::center(),
        sender: from.address(),
        sequence,
        expires_at_ms,
        action: Action::Token(TokenAction::Transfer {
            to,
            asset: "MLK".parse().expect("valid"),
            amount: Amount::new(1),
            memo: String::new(),
        }),
    }
    .sign(from)
}

/// The attack: fresh keys, sequence numbers that can never apply.
fn attack(opts: &FloodBench, to: Address) -> Vec<Vec<u8>> {
    let expires = now_ms() + 23 * 3_600_000;
    let txs: Vec<SignedTransaction> = (0..opts.keys)
        .into_par_iter()
        .flat_map_iter(|k| {
            let key = Keypair::from_label(&format!("milk-flood/{k}"));
            (1..=opts.per_key).map(move |seq| transfer(&key, to, seq, expires))
        })
        .collect();
    txs.chunks(10_000).map(milkd::api::encode_batch).collect()
}

/// One phase: `samples` honest transfers from `from` (from sequence `first`) and as many
/// operator steps, interleaved, each awaited. Milliseconds each took.
fn phase(
    node: &milkd::Spawned,
    rt: &tokio::runtime::Runtime,
    from: &Keypair,
    to: Address,
    first: u64,
    samples: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let client = Client::new(&node.url());
    let lane = rt
        .block_on(async { milkd::lane::get(&node.node, &ChainId::center()) })
        .context("the operator's lane")?;
    let (mut honest, mut operator) = (Vec::new(), Vec::new());
    for i in 0..samples as u64 {
        let t = Instant::now();
        let tx = transfer(from, to, first + i, now_ms() + 60_000);
        let r = client.submit_raw("center", &milkd::api::encode_batch(&[tx]), true)?;
        if r.results.first().map(|x| x.status.as_str()) != Some("committed") {
            bail!("an honest transfer was not committed: {:?}", r.results);
        }
        honest.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let anchor = Action::Anchor(AnchorAction::Anchor {
            chain: "shop".parse().expect("valid"),
            seal: Hash::domain("bench", &[&(first + i + 1).to_be_bytes()]),
        });
        rt.block_on(lane.submit(anchor))
            .map_err(|e| anyhow::anyhow!("an operator step failed: {e}"))?;
        operator.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok((honest, operator))
}

/// Runs the benchmark; returns the figures.
pub fn flood(opts: &FloodBench) -> Result<serde_json::Value> {
    let keys = [
        Keypair::from_label("milk-flood/honest"),
        Keypair::from_label("milk-flood/payee"),
    ];
    let to = keys[1].address();
    eprintln!(
        "bench flood: {} fresh keys x {} transactions; {} honest transfers and operator steps per phase",
        opts.keys, opts.per_key, opts.samples
    );
    let bodies = attack(opts, to);
    let dir = tempfile::tempdir().context("temporary data directory")?;
    let node = start(node_config(&dir, &bench_genesis(&keys)?)?)?;
    let rt = tokio::runtime::Runtime::new().context("a runtime")?;
    let quiet = phase(&node, &rt, &keys[0], to, 0, opts.samples)?;

    let (stop, sent, admitted) = (
        AtomicBool::new(false),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let loud = std::thread::scope(|s| {
        s.spawn(|| push_flood(&node.url(), &bodies, &stop, &sent, &admitted));
        let loud = phase(&node, &rt, &keys[0], to, opts.samples as u64, opts.samples);
        stop.store(true, Ordering::Relaxed);
        loud
    })?;
    let waiting = node
        .node
        .chain(&ChainId::center())
        .map_or(0, |c| c.shared.mempool_len.load(Ordering::Relaxed));
    node.stop().context("stopping the node")?;
    report(
        quiet,
        loud,
        sent.into_inner(),
        admitted.into_inner(),
        waiting,
    )
}

/// Sends the attack's batches round and round until `stop`.
fn push_flood(
    url: &str,
    bodies: &[Vec<u8>],
    stop: &AtomicBool,
    sent: &AtomicUsize,
    admitted: &AtomicUsize,
) {
    let client = Client::new(url);
    for body in bodies.iter().cycle() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(r) = client.submit_raw("center", body, false) {
            let took = r.results.iter().filter(|x| x.error.is_none()).count();
            sent.fetch_add(r.results.len(), Ordering::Relaxed);
            admitted.fetch_add(took, Ordering::Relaxed);
        }
    }
}

fn report(
    quiet: (Vec<f64>, Vec<f64>),
    loud: (Vec<f64>, Vec<f64>),
    sent: usize,
    admitted: usize,
    waiting: usize,
) -> Result<serde_json::Value> {
    let (mut qt, mut qo) = quiet;
    let (mut lt, mut lo) = loud;
    let p = |v: &mut Vec<f64>, q: f64| (percentile(v, q) * 10.0).round() / 10.0;
    let (qt99, lt99, qo99, lo99) = (
        p(&mut qt, 0.99),
        p(&mut lt, 0.99),
        p(&mut qo, 0.99),
        p(&mut lo, 0.99),
    );
    let ratio = |a: f64, b: f64| (a / b * 100.0).round() / 100.0;
    eprintln!(
        "p99 quiet / flooded: transfers {qt99} / {lt99} ms ({:.2}x), operator steps {qo99} / {lo99} ms ({:.2}x); flood: {sent} sent, {admitted} admitted, {waiting} waiting at the end",
        lt99 / qt99,
        lo99 / qo99
    );
    Ok(serde_json::json!({
        "bench": "flood",
        "flood_sent": sent,
        "flood_admitted": admitted,
        "transfer_p50_ms": [p(&mut qt, 0.5), p(&mut lt, 0.5)],
        "transfer_p99_ms": [qt99, lt99],
        "transfer_p99_ratio": ratio(lt99, qt99),
        "operator_p50_ms": [p(&mut qo, 0.5), p(&mut lo, 0.5)],
        "operator_p99_ms": [qo99, lo99],
        "operator_p99_ratio": ratio(lo99, qo99),
    }))
}
