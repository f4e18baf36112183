//! `milk bench explorer`: how long the explorer's reads take (the requests its pages make:
//! the chains, a block, a transaction with its proof, the markets, the supply, an account),
//! on a quiet node and then while the transfers benchmark floods the same node, same run.

use super::{
    Client, TransferBench, bench_genesis, node_config, percentile, presign_transfers, push_batches,
    start,
};
use anyhow::{Context, Result, bail};
use milk_core::Keypair;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What to run.
pub struct ExplorerBench {
    /// Explorer reads timed on the quiet node.
    pub reads: usize,
    /// The load beside them.
    pub load: TransferBench,
}

/// One round of a page's reads; each one's latency, ms.
fn page_reads(client: &Client, tx: &str, account: &str) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(6);
    let mut time = |read: &dyn Fn() -> Result<()>| -> Result<()> {
        let t = Instant::now();
        read()?;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
        Ok(())
    };
    time(&|| client.chains().map(drop))?;
    time(&|| client.block("center", 1).map(drop))?;
    time(&|| client.tx("center", tx).map(drop))?;
    time(&|| client.markets().map(drop))?;
    time(&|| client.supply().map(drop))?;
    time(&|| client.account(account).map(drop))?;
    Ok(out)
}

/// Runs both phases and returns their figures.
pub fn explorer(opts: &ExplorerBench) -> Result<serde_json::Value> {
    let keys: Vec<Keypair> = (0..opts.load.accounts)
        .into_par_iter()
        .map(|i| Keypair::from_label(&format!("milk-bench/{i}")))
        .collect();
    let genesis = bench_genesis(&keys)?;
    let txs = presign_transfers(&keys, &opts.load);
    let dir = tempfile::tempdir().context("temporary data directory")?;
    let node = start(node_config(&dir, &genesis)?)?;
    let client = Client::new(&node.url());
    // One transfer first, so the pages have a transaction to show.
    let first = milkd::api::encode_batch(&txs[..1]);
    client.submit_raw("center", &first, true)?;
    let (tx, account) = (txs[0].tx.id().to_hex(), keys[0].address().to_string());

    let mut quiet = Vec::new();
    while quiet.len() < opts.reads {
        quiet.extend(page_reads(&client, &tx, &account)?);
    }
    let bodies: Vec<Vec<u8>> = txs[1..]
        .chunks(opts.load.batch)
        .map(milkd::api::encode_batch)
        .collect();
    let done = AtomicBool::new(false);
    let (pushed, loaded) = std::thread::scope(|s| {
        let reader = s.spawn(|| -> Result<Vec<f64>> {
            let mut v = Vec::new();
            while !done.load(Ordering::Relaxed) {
                v.extend(page_reads(&client, &tx, &account)?);
            }
            Ok(v)
        });
        let pushed = push_batches(&client, &bodies, opts.load.clients);
        done.store(true, Ordering::Relaxed);
        (pushed, reader.join().expect("reader thread"))
    });
    let (committed, failures, secs) = pushed?;
    let mut loaded = loaded?;
    node.stop().context("stopping the node")?;
    if !failures.is_empty() {
        bail!("transfers were not committed: {failures:?}");
    }
    let ms = |v: f64| (v * 100.0).round() / 100.0;
    eprintln!(
        "explorer reads: {} on a quiet node, {} during {committed} transfers in {secs:.1} s",
        quiet.len(),
        loaded.len()
    );
    Ok(serde_json::json!({
        "bench": "explorer",
        "quiet_reads": quiet.len(),
        "quiet_p50_ms": ms(percentile(&mut quiet, 0.50)),
        "quiet_p99_ms": ms(percentile(&mut quiet, 0.99)),
        "loaded_reads": loaded.len(),
        "loaded_p50_ms": ms(percentile(&mut loaded, 0.50)),
        "loaded_p99_ms": ms(percentile(&mut loaded, 0.99)),
        "transfers_per_s": (committed as f64 / secs).round(),
    }))
}
