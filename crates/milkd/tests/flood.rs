//! A pool nobody can fill for free: 196 fresh keys each sign sequence numbers 1–1,024 (never
//! 0), valid for 23 hours. None of it waits in the pool; honest transfers and the
//! operator's steps go on committing during the flood. Their latencies without and with the
//! flood, same run, are printed (`cargo test -p milkd --test flood -- --nocapture`).

mod support;

use milk_core::tx::{Action, AnchorAction, SignedTransaction};
use milk_core::{ChainId, Hash, Keypair};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
use support::{Http, account, transfer};

const NOW: u64 = 1_900_000_000_000;
const KEYS: usize = 196;
const SEQUENCES: u64 = 1_024;

fn p99(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[(ms.len() * 99).div_ceil(100) - 1]
}

/// Sequential honest transfers, each awaited: their latencies, ms.
fn honest(http: &Http, from: &Keypair, first: u64, n: u64) -> Vec<f64> {
    let to = account(3).address();
    (first..first + n)
        .map(|seq| {
            let started = Instant::now();
            let tx = transfer(from, to, 1, seq, NOW + 60_000);
            let r = http.submit("center", &[tx], true).unwrap();
            assert_eq!(r.results[0].status, "committed", "{:?}", r.results[0]);
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

/// Sequential operator steps through the lane, each awaited: their latencies, ms.
fn operator(node: &milkd::Spawned, rt: &tokio::runtime::Runtime, first: u64, n: u64) -> Vec<f64> {
    let lane = rt.block_on(async { milkd::lane::get(&node.node, &ChainId::center()).unwrap() });
    (first..first + n)
        .map(|height| {
            let started = Instant::now();
            let anchor = Action::Anchor(AnchorAction::Anchor {
                chain: "shop".parse().unwrap(),
                seal: Hash::domain("flood", &[&height.to_be_bytes()]),
            });
            rt.block_on(lane.submit(anchor)).unwrap();
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect()
}

/// The attack's transactions: fresh keys, sequence numbers that can never apply.
fn flood() -> Vec<SignedTransaction> {
    let to = account(3).address();
    (0..KEYS)
        .into_par_iter()
        .flat_map_iter(|k| {
            let key = Keypair::from_label(&format!("flood-{k}"));
            (1..=SEQUENCES).map(move |seq| transfer(&key, to, 1, seq, NOW + 23 * 3_600_000))
        })
        .collect()
}

#[test]
fn free_keys_cannot_fill_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let node = support::test_node(dir.path(), NOW, |_| {});
    let http = Http::new(&node.url()).with_token(support::OPERATOR_TOKEN);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let attack = flood();
    let (alice, calm) = (account(1), 60);
    let quiet = (honest(&http, &alice, 0, calm), operator(&node, &rt, 1, 20));

    let (done, refused) = (AtomicBool::new(false), AtomicUsize::new(0));
    let loud = std::thread::scope(|s| {
        s.spawn(|| {
            let flooder = Http::new(&node.url());
            for batch in attack.chunks(10_000) {
                let r = flooder.submit("center", batch, false).unwrap();
                let codes = r.results.iter().filter(|x| x.error.is_some()).count();
                refused.fetch_add(codes, Ordering::Relaxed);
            }
            done.store(true, Ordering::Relaxed);
        });
        let mut loud = (Vec::new(), Vec::new());
        let (mut seq, mut height) = (calm, 21);
        while !done.load(Ordering::Relaxed) || loud.0.len() < 20 {
            loud.0.extend(honest(&http, &alice, seq, 5));
            loud.1.extend(operator(&node, &rt, height, 1));
            (seq, height) = (seq + 5, height + 1);
        }
        loud
    });
    // Not one of the attack's transactions waited in the pool.
    assert_eq!(refused.load(Ordering::Relaxed), attack.len());
    let (_, chain) = http.get("/v1/chains/center");
    assert_eq!(chain["head"]["pending"], 0, "{chain}");
    let (qt, qo, lt, lo) = (p99(quiet.0), p99(quiet.1), p99(loud.0), p99(loud.1));
    println!(
        "p99 without / with the flood: transfers {qt:.1} / {lt:.1} ms ({:.2}x), operator \
         {qo:.1} / {lo:.1} ms ({:.2}x)",
        lt / qt,
        lo / qo
    );
}
