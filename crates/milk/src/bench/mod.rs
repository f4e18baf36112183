//! `milk bench`: figures from a real node started in this process. `transfers`: committed
//! signed transfers per second beside this machine's Ed25519 batch-verification ceiling,
//! measured in the same run; `trades`, `conversions`, `flood` (what an attack on the
//! pool costs honest users) and `explorer` (the pages' reads, quiet and under load).

mod conversions;
mod explorer;
mod flood;
mod replicated;
mod traders;

pub use conversions::{ConversionBench, conversions};

use crate::client::Client;
use anyhow::{Context, Result, bail};
use milk_core::genesis::{Allocation, Genesis, MLK_DECIMALS, demo_key};
use milk_core::tx::{Action, SignedTransaction, Transaction};
use milk_core::tx::{BrandAction, TokenAction};
use milk_core::{Amount, ChainId, Keypair};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What to run.
#[derive(Debug, Clone)]
pub struct TransferBench {
    /// Funded sending accounts.
    pub accounts: usize,
    /// Transfers each account signs.
    pub per_account: usize,
    /// Transfers per HTTP request.
    pub batch: usize,
    /// Concurrent HTTP clients.
    pub clients: usize,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A demo genesis in which `keys` each hold 1,000 MLK, taken from the user-distribution
/// bucket so the supply stays 1.3 billion.
fn bench_genesis(keys: &[Keypair]) -> Result<Genesis> {
    let mut g = Genesis::demo();
    let each = Amount::from_whole(1_000, MLK_DECIMALS).expect("fits");
    let center = &mut g.chains[0];
    let pool = center
        .allocations
        .iter_mut()
        .find(|a| a.label == "user-distribution")
        .context("demo genesis has a user-distribution bucket")?;
    let total = each.units() * keys.len() as u128;
    pool.amount = pool
        .amount
        .checked_sub(Amount::new(total))
        .context("too many bench accounts for the user-distribution bucket")?;
    for (i, k) in keys.iter().enumerate() {
        center.allocations.push(Allocation {
            label: format!("bench:{i}"),
            account: k.address(),
            asset: "MLK".parse().expect("valid"),
            amount: each,
        });
    }
    g.validate().map_err(anyhow::Error::msg)?;
    Ok(g)
}

/// Runs the benchmark, printing progress to stderr; returns the result object.
pub fn transfers(opts: &TransferBench) -> Result<serde_json::Value> {
    let total = opts.accounts * opts.per_account;
    eprintln!(
        "bench transfers: {} accounts x {} transfers = {total} signed MLK transfers, {} per request, {} clients",
        opts.accounts, opts.per_account, opts.batch, opts.clients
    );
    let keys: Vec<Keypair> = (0..opts.accounts)
        .into_par_iter()
        .map(|i| Keypair::from_label(&format!("milk-bench/{i}")))
        .collect();
    let genesis = bench_genesis(&keys)?;

    let txs = presign_transfers(&keys, opts);

    let ceiling = verify_ceiling(&keys, &txs)?;

    // A real node with durable stores, on loopback.
    let dir = tempfile::tempdir().context("temporary data directory")?;
    let node = start(node_config(&dir, &genesis)?)?;
    let client = Client::new(&node.url());

    let bodies: Vec<Vec<u8>> = txs
        .chunks(opts.batch)
        .map(milkd::api::encode_batch)
        .collect();
    let (committed, failures, secs) = push_batches(&client, &bodies, opts.clients)?;
    let heights = node
        .node
        .chain(&ChainId::center())
        .map(|c| c.head().height)
        .unwrap_or(0);
    node.stop().context("stopping the node")?;
    if !failures.is_empty() {
        bail!(
            "{} transfers were not committed: {failures:?}",
            total - committed
        );
    }
    let rate = committed as f64 / secs;
    eprintln!(
        "committed: {committed} transfers in {secs:.3} s over {heights} blocks = {rate:.0}/s (durable, through HTTP)"
    );
    Ok(serde_json::json!({
        "bench": "transfers",
        "committed_per_s": rate.round(),
        "verify_ceiling_per_s": ceiling.round(),
        "ratio": (rate / ceiling * 1000.0).round() / 1000.0,
    }))
}

/// Signs every transfer of the benchmark ahead, round by round, so each request carries
/// many senders.
fn presign_transfers(keys: &[Keypair], opts: &TransferBench) -> Vec<SignedTransaction> {
    let total = opts.accounts * opts.per_account;
    let expires = now_ms() + 3_600_000;
    (0..total)
        .into_par_iter()
        .map(|n| {
            let (round, a) = (n / opts.accounts, n % opts.accounts);
            Transaction {
                chain: ChainId::center(),
                sender: keys[a].address(),
                sequence: round as u64,
                expires_at_ms: expires,
                action: Action::Token(TokenAction::Transfer {
                    to: keys[(a + 1) % keys.len()].address(),
                    asset: "MLK".parse().expect("valid"),
                    amount: Amount::new(1 + round as u128),
                    memo: String::new(),
                }),
            }
            .sign(&keys[a])
        })
        .collect()
}

/// This machine's ceiling: the platform's signature rule alone (ZIP-215 batches of 128,
/// keys already decompressed), on the same cores. Signatures per second. For comparison it
/// also times ed25519-dalek's cofactorless batch, the faster rule the platform refuses
/// because a crafted signature could pass it and fail a single check.
fn verify_ceiling(keys: &[Keypair], txs: &[SignedTransaction]) -> Result<f64> {
    let vkeys: BTreeMap<_, _> = (keys.iter())
        .map(|k| {
            (
                k.address(),
                milk_core::keys::decompress(&k.address()).expect("valid"),
            )
        })
        .collect();
    let ids: Vec<[u8; 32]> = txs.iter().map(|t| t.tx.id().0).collect();
    let prepared: Vec<_> = (txs.iter().zip(&ids))
        .map(|(t, id)| (&vkeys[&t.tx.sender], id.as_slice(), &t.signature))
        .collect();
    let started = Instant::now();
    let all_ok = (prepared.par_chunks(128))
        .all(|chunk| milk_core::keys::verify_many(chunk).iter().all(|ok| *ok));
    let verify_secs = started.elapsed().as_secs_f64();
    if !all_ok {
        bail!("benchmark signatures failed to verify");
    }
    let total = txs.len();
    let ceiling = total as f64 / verify_secs;
    eprintln!(
        "verify ceiling: {total} signatures in {verify_secs:.3} s on {} threads = {ceiling:.0}/s",
        rayon::current_num_threads()
    );
    let cofactorless = cofactorless_rate(keys, txs)?;
    eprintln!(
        "  cofactorless batch (not the platform's rule), same signatures: {cofactorless:.0}/s; \
         the rule costs {:.0}%",
        100.0 * (1.0 - ceiling / cofactorless)
    );
    Ok(ceiling)
}

/// ed25519-dalek's cofactorless batch check over the same signatures, per second.
fn cofactorless_rate(keys: &[Keypair], txs: &[SignedTransaction]) -> Result<f64> {
    let vkeys: BTreeMap<_, _> = (keys.iter())
        .map(|k| {
            let key = ed25519_dalek::VerifyingKey::from_bytes(k.address().as_bytes());
            (k.address(), key.expect("valid"))
        })
        .collect();
    let prepared: Vec<_> = (txs.iter())
        .map(|t| {
            let sig = ed25519_dalek::Signature::from_bytes(&t.signature.0);
            (vkeys[&t.tx.sender], t.tx.id().0, sig)
        })
        .collect();
    let started = Instant::now();
    let all_ok = prepared.par_chunks(128).all(|chunk| {
        let msgs: Vec<&[u8]> = chunk.iter().map(|(_, m, _)| m.as_slice()).collect();
        let sigs: Vec<_> = chunk.iter().map(|(_, _, s)| *s).collect();
        let keys: Vec<_> = chunk.iter().map(|(k, _, _)| *k).collect();
        ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
    });
    if !all_ok {
        bail!("benchmark signatures failed the cofactorless check");
    }
    Ok(txs.len() as f64 / started.elapsed().as_secs_f64())
}

/// A real node's settings, with durable stores in `dir`, listening on loopback, from
/// `genesis` (with the demo operator as its producer).
fn node_config(
    dir: &tempfile::TempDir,
    genesis: &milk_core::genesis::Genesis,
) -> Result<milkd::NodeConfig> {
    let genesis_path = dir.path().join("bench-genesis.json");
    std::fs::write(&genesis_path, serde_json::to_vec(genesis)?)?;
    let key_path = dir.path().join("bench-producer.key");
    std::fs::write(&key_path, hex::encode(demo_key("operator").secret()))?;
    let mut config = milkd::NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().expect("valid");
    config.genesis = Some(genesis_path);
    config.producer_key = Some(key_path);
    // Every client of a benchmark comes from this one loopback address, standing in for many
    // customers' own: the per-address connection limit would shed all but 256 of them.
    config.max_connections_per_address = config.max_connections;
    Ok(config)
}

/// Starts a node with these settings in this process.
fn start(config: milkd::NodeConfig) -> Result<milkd::Spawned> {
    milkd::spawn(config, Arc::new(milkd::SystemClock)).context("starting the node")
}

/// Pushes request bodies from `clients` threads; returns what committed, what did not (by
/// code), and the seconds it took.
fn push_batches(
    client: &Client,
    bodies: &[Vec<u8>],
    clients: usize,
) -> Result<(usize, BTreeMap<String, usize>, f64)> {
    let next = AtomicUsize::new(0);
    let committed = AtomicUsize::new(0);
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();
    let results: Vec<Result<BTreeMap<String, usize>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| -> Result<BTreeMap<String, usize>> {
                    let mut failed = BTreeMap::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(body) = bodies.get(i) else { break };
                        let resp = client.submit_raw("center", body, true)?;
                        for r in resp.results {
                            match (r.status.as_str(), r.error) {
                                ("committed", _) => {
                                    committed.fetch_add(1, Ordering::Relaxed);
                                }
                                (_, Some(e)) => *failed.entry(e.code).or_default() += 1,
                                (status, None) => {
                                    *failed.entry(status.to_owned()).or_default() += 1
                                }
                            }
                        }
                    }
                    Ok(failed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    for r in results {
        for (code, n) in r? {
            *failures.entry(code).or_default() += n;
        }
    }
    Ok((committed.load(Ordering::Relaxed), failures, secs))
}

/// Makes `count` customers and links each to Skyway, countersigned by its issuer.
fn link_customers(
    client: &Client,
    chain: &ChainId,
    issuer: &Keypair,
    count: usize,
    expires: u64,
) -> Result<Vec<Keypair>> {
    use milk_core::brand::{customer_hash, link_message};
    let customers: Vec<Keypair> = (0..count)
        .into_par_iter()
        .map(|i| Keypair::from_label(&format!("milk-bench/customer/{i}")))
        .collect();
    let links: Vec<SignedTransaction> = customers
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let hash = customer_hash("bench-salt", &format!("C-{i}"));
            let countersign = issuer.sign(&link_message(chain, &c.address(), &hash).0);
            Transaction {
                chain: chain.clone(),
                sender: c.address(),
                sequence: 0,
                expires_at_ms: expires,
                action: Action::Brand(BrandAction::Link {
                    customer_hash: hash,
                    partner_signature: countersign,
                }),
            }
            .sign(c)
        })
        .collect();
    for batch in links.chunks(1_000) {
        let r = client.submit("skyway", batch, true)?;
        if let Some(bad) = r.results.iter().find(|r| r.status != "committed") {
            bail!("linking failed: {bad:?}");
        }
    }
    Ok(customers)
}

/// The `p` percentile of `v` (sorted in place).
fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// What `bench trades` runs.
#[derive(Debug, Clone)]
pub struct TradeBench {
    /// Concurrent traders, each on its own connection, one order at a time.
    pub traders: usize,
    /// Orders per trader, alternately a sale and a purchase of 10 CINE.
    pub per_trader: usize,
    /// Quotes timed afterwards, one at a time.
    pub quotes: usize,
    /// The node's block interval.
    pub block_interval_ms: u64,
}

/// Serves three sources of a still MLK ticker at about KRW 1,000; returns their URLs.
fn bench_ticker() -> Result<Vec<String>> {
    let ticker =
        milkd::exchange::ticker::Ticker::new(10_000_000, 0, 1, Arc::new(milkd::SystemClock));
    let skews = &milkd::exchange::ticker::SOURCE_SKEWS_BPS;
    Ok(milkd::exchange::ticker::serve_sources(ticker, skews)?)
}

/// Settled trades per second (each one order request: the lock, then both chains' steps,
/// all durable) and quote latency, through a real node over loopback HTTP.
pub fn trades(opts: &TradeBench) -> Result<serde_json::Value> {
    eprintln!(
        "bench trades: {} traders x {} orders (sell, then buy, 10 CINE each), then {} quotes",
        opts.traders, opts.per_trader, opts.quotes
    );
    let keys: Vec<Keypair> = (0..opts.traders)
        .map(|i| Keypair::from_label(&format!("milk-bench/trader/{i}")))
        .collect();
    let dir = tempfile::tempdir().context("temporary data directory")?;
    let node = start_priced(&dir, &trade_genesis(&keys)?, opts.block_interval_ms)?;
    let client = Client::new(&node.url());
    // Customers sign on their own devices: the orders are signed before the clock starts,
    // as the transfers benchmark's are.
    let orders = traders::sign_orders(&keys, opts.per_trader);
    let cpu_before = cpu_by_stage(&node)?;
    let process_before = milkd::cpu::process_ns();
    let started = Instant::now();
    let (mut trade_ms, clients_ns) = traders::run(&node.url(), orders)?;
    let secs = started.elapsed().as_secs_f64();
    let mut cpu_after = cpu_by_stage(&node)?;
    let process_ns = milkd::cpu::process_ns().saturating_sub(process_before) as f64;
    // What the stages do not cover: the rest of the node (scheduling, the lanes and
    // settlement tasks, networking in the kernel), and the benchmark's own clients.
    let staged: f64 = (cpu_after.iter())
        .map(|(stage, after)| after - cpu_before.get(stage).copied().unwrap_or(0.0))
        .sum();
    let other = (process_ns - staged - clients_ns).max(0.0);
    cpu_after.insert("node_other".into(), other);
    cpu_after.insert("clients".into(), clients_ns);
    let mut quote_ms = time_quotes(&client, opts.quotes)?;
    node.stop().context("stopping the node")?;
    let rate = trade_ms.len() as f64 / secs;
    let (t50, t99) = (
        percentile(&mut trade_ms, 0.5),
        percentile(&mut trade_ms, 0.99),
    );
    let (q50, q99) = (
        percentile(&mut quote_ms, 0.5),
        percentile(&mut quote_ms, 0.99),
    );
    eprintln!(
        "settled: {} trades in {secs:.3} s = {rate:.0}/s (both chains, durable); trade p50 {t50:.1} ms, p99 {t99:.1} ms; quote p50 {q50:.2} ms, p99 {q99:.2} ms",
        trade_ms.len()
    );
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    let mut cpu_us = serde_json::Map::new();
    for (stage, after) in &cpu_after {
        let spent = after - cpu_before.get(stage).copied().unwrap_or(0.0);
        let per_trade = spent / 1_000.0 / trade_ms.len().max(1) as f64;
        cpu_us.insert(stage.clone(), round1(per_trade).into());
    }
    eprintln!(
        "node CPU per trade, µs by stage: {}",
        serde_json::Value::from(cpu_us.clone())
    );
    Ok(serde_json::json!({
        "bench": "trades",
        "traders": opts.traders,
        "block_interval_ms": opts.block_interval_ms,
        "cpu_us_per_trade": cpu_us,
        "settled_per_s": rate.round(),
        "trade_p50_ms": round1(t50),
        "trade_p99_ms": round1(t99),
        "quote_p50_ms": (q50 * 100.0).round() / 100.0,
        "quote_p99_ms": (q99 * 100.0).round() / 100.0,
    }))
}

/// The node's CPU nanoseconds so far, by stage (`milk_cpu_nanoseconds_total`, as its
/// metrics page shows it).
fn cpu_by_stage(node: &milkd::Spawned) -> Result<BTreeMap<String, f64>> {
    let text = node.node.metrics.render();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("milk_cpu_nanoseconds_total{stage=\"") else {
            continue;
        };
        let Some((stage, value)) = rest.split_once("\"} ") else {
            continue;
        };
        out.insert(stage.to_owned(), value.trim().parse::<f64>()?);
    }
    if out.is_empty() {
        bail!("the node reports no CPU time by stage");
    }
    Ok(out)
}

/// The benchmark's genesis, in which each trader also holds 10,000 CINE.
fn trade_genesis(keys: &[Keypair]) -> Result<Genesis> {
    let mut genesis = bench_genesis(keys)?;
    let cinema = genesis
        .chains
        .iter_mut()
        .find(|c| c.id.as_str() == "cinema")
        .context("the demo has a cinema chain")?;
    for (i, k) in keys.iter().enumerate() {
        cinema.allocations.push(Allocation {
            label: format!("bench:{i}"),
            account: k.address(),
            asset: "CINE".parse().expect("valid"),
            amount: Amount::from_whole(10_000, 2).expect("fits"),
        });
    }
    genesis.validate().map_err(anyhow::Error::msg)?;
    Ok(genesis)
}

/// Starts a node on `genesis` with a still MLK ticker, once its oracle has a fresh price.
fn start_priced(
    dir: &tempfile::TempDir,
    genesis: &Genesis,
    block_interval_ms: u64,
) -> Result<milkd::Spawned> {
    let mut config = node_config(dir, genesis)?;
    config.block_interval = std::time::Duration::from_millis(block_interval_ms);
    config.oracle_sources = bench_ticker()?;
    config.oracle_interval = std::time::Duration::from_secs(1);
    let node = start(config)?;
    let client = Client::new(&node.url());
    let waited = Instant::now();
    while !client.oracle().is_ok_and(|o| o.fresh) {
        if waited.elapsed().as_secs() > 20 {
            bail!("the oracle recorded no price");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Ok(node)
}

/// `count` quotes, one at a time, alternately to buy and to sell; each one's latency, ms.
fn time_quotes(client: &Client, count: usize) -> Result<Vec<f64>> {
    let mut quote_ms = Vec::with_capacity(count);
    for n in 0..count {
        let side = if n % 2 == 0 { "buy" } else { "sell" };
        let t = Instant::now();
        client.quote("CINE", side, "tokens=1000")?;
        quote_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(quote_ms)
}

#[derive(clap::Subcommand)]
pub enum BenchCmd {
    /// Committed signed MLK transfers per second through a real node, against this
    /// machine's Ed25519 batch-verification ceiling.
    Transfers {
        /// Sending accounts.
        #[arg(long, default_value_t = 2_000)]
        accounts: usize,
        /// Transfers per account.
        #[arg(long, default_value_t = 30)]
        per_account: usize,
        /// Transfers per request.
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// Transfers per second committed by one `milkd` process and by three replicas on this
    /// machine, same run, with each process's CPU seconds per 1,000 (needs `milkd` built
    /// beside `milk`).
    Replicated {
        /// Sending accounts.
        #[arg(long, default_value_t = 2_000)]
        accounts: usize,
        /// Transfers per account.
        #[arg(long, default_value_t = 30)]
        per_account: usize,
        /// Transfers per request.
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// Settled trades per second (both chains, durable) and quote latency, over loopback
    /// HTTP, beside the transfers figure of the same run.
    Trades {
        /// Concurrent traders.
        #[arg(long, default_value_t = 32)]
        traders: usize,
        /// Orders per trader.
        #[arg(long, default_value_t = 40)]
        per_trader: usize,
        /// Quotes timed afterwards.
        #[arg(long, default_value_t = 2_000)]
        quotes: usize,
        /// The node's block interval, ms (as `milkd --block-interval-ms`).
        #[arg(long, default_value_t = 10)]
        block_interval_ms: u64,
    },
    /// Honest transfers' and operator steps' latency on a quiet node, then under a flood of
    /// transactions from fresh keys that can never apply, same run.
    Flood {
        /// Honest transfers and operator steps timed in each phase.
        #[arg(long, default_value_t = 300)]
        samples: usize,
        /// Fresh keys in the flood.
        #[arg(long, default_value_t = 196)]
        keys: usize,
        /// Transactions each fresh key signs.
        #[arg(long, default_value_t = 1_024)]
        per_key: u64,
    },
    /// The explorer pages' reads, ms at the 50th and 99th percentile, on a quiet node and
    /// while the transfers benchmark floods it, same run.
    Explorer {
        /// Reads timed on the quiet node.
        #[arg(long, default_value_t = 3_000)]
        reads: usize,
        /// Sending accounts of the load.
        #[arg(long, default_value_t = 2_000)]
        accounts: usize,
        /// Transfers per account.
        #[arg(long, default_value_t = 30)]
        per_account: usize,
    },
    /// Conversions per second through the partner API over loopback HTTP, in batches (or
    /// one per request with `--batch 1`), beside the transfers figure of the same run.
    Conversions {
        /// Linked customers.
        #[arg(long, default_value_t = 1_000)]
        customers: usize,
        /// Conversions in all.
        #[arg(long, default_value_t = 200_000)]
        conversions: usize,
        /// Conversions per request: a batch of up to 1,000, or 1 for one request each.
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Concurrent partner clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
}

/// The transfers benchmark a run measures first, the reference conversions and trades are
/// compared with.
const SAME_RUN_TRANSFERS: TransferBench = TransferBench {
    accounts: 2_000,
    per_account: 30,
    batch: 1_000,
    clients: 16,
};

/// Runs the transfers benchmark, then `bench`, and adds to the latter's figures the
/// transfers per second and the ratio of its `rate_key` to them: one run, one machine.
fn beside_transfers(
    rate_key: &str,
    bench: impl FnOnce() -> Result<serde_json::Value>,
) -> Result<serde_json::Value> {
    let reference = self::transfers(&SAME_RUN_TRANSFERS)?;
    let transfers_per_s = reference["committed_per_s"].as_f64().unwrap_or(0.0);
    let mut result = bench()?;
    let rate = result[rate_key].as_f64().unwrap_or(0.0);
    let ratio = if transfers_per_s > 0.0 {
        rate / transfers_per_s
    } else {
        0.0
    };
    eprintln!("{rate:.0}/s is {ratio:.3} of the same run's {transfers_per_s:.0} transfers/s");
    result["transfers_per_s"] = transfers_per_s.round().into();
    result["ratio_to_transfers"] = ((ratio * 1000.0).round() / 1000.0).into();
    Ok(result)
}

/// A transfer benchmark's settings, checked.
fn transfer_opts(
    accounts: usize,
    per_account: usize,
    batch: usize,
    clients: usize,
) -> anyhow::Result<TransferBench> {
    if accounts < 2 || per_account == 0 || batch == 0 || clients == 0 {
        anyhow::bail!("need at least 2 accounts and 1 transfer, batch and client");
    }
    Ok(TransferBench {
        accounts,
        per_account,
        batch,
        clients,
    })
}

/// Runs one benchmark and prints its figures as one JSON line.
pub fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    let result = match cmd {
        BenchCmd::Flood {
            samples,
            keys,
            per_key,
        } => {
            if samples == 0 || keys == 0 || per_key == 0 {
                anyhow::bail!("need at least one sample, key and transaction per key");
            }
            flood::flood(&flood::FloodBench {
                samples,
                keys,
                per_key,
            })?
        }
        BenchCmd::Trades {
            traders,
            per_trader,
            quotes,
            block_interval_ms,
        } => {
            if traders == 0 || per_trader == 0 || block_interval_ms == 0 {
                anyhow::bail!("need at least one trader, one order each and a block interval");
            }
            let opts = TradeBench {
                traders,
                per_trader,
                quotes,
                block_interval_ms,
            };
            beside_transfers("settled_per_s", || self::trades(&opts))?
        }
        BenchCmd::Conversions {
            customers,
            conversions,
            batch,
            clients,
        } => {
            if customers == 0 || conversions == 0 || clients == 0 {
                anyhow::bail!("need at least one customer, conversion and client");
            }
            if batch == 0 || batch > milk_core::brand::action::MAX_CONVERSION_BATCH {
                anyhow::bail!("--batch takes 1 to 1000 conversions per request");
            }
            let opts = ConversionBench {
                customers,
                conversions,
                batch,
                clients,
            };
            beside_transfers("committed_per_s", || self::conversions(&opts))?
        }
        BenchCmd::Replicated {
            accounts,
            per_account,
            batch,
            clients,
        } => replicated::replicated(&transfer_opts(accounts, per_account, batch, clients)?)?,
        BenchCmd::Explorer {
            reads,
            accounts,
            per_account,
        } => {
            let load = transfer_opts(accounts, per_account, 1_000, 16)?;
            explorer::explorer(&explorer::ExplorerBench { reads, load })?
        }
        BenchCmd::Transfers {
            accounts,
            per_account,
            batch,
            clients,
        } => self::transfers(&transfer_opts(accounts, per_account, batch, clients)?)?,
    };
    crate::cmd::emit(&result.to_string());
    Ok(())
}
