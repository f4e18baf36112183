//! Crash safety of the real `milkd` process: SIGKILL it under load, restart it, and check
//! that every transaction it acknowledged as committed is there and every chain verifies.

mod support;

use milk_core::chain::Verifier;
use milk_core::genesis::Genesis;
use milk_core::tx::TxId;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Http, account, transfer};

const ACCOUNTS: usize = 8;

fn start(data: &Path, genesis: &Path, key: &Path) -> (Child, Http) {
    let (child, url) = support::spawn_milkd([
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--genesis",
        genesis.to_str().unwrap(),
        "--producer-key",
        key.to_str().unwrap(),
    ]);
    (child, Http::new(&url).with_token(support::OPERATOR_TOKEN))
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_transaction() {
    let seed = support::env_u64("MILK_TEST_SEED", 0x5eed);
    eprintln!("MILK_TEST_SEED={seed}");
    let mut rng = seed | 1;
    let dir = tempfile::tempdir().unwrap();
    let genesis = support::genesis(ACCOUNTS);
    let (gpath, kpath) = support::write_genesis(dir.path(), &genesis);
    let data = dir.path().join("data");
    support::write_credentials(&data);
    let acked: Arc<Mutex<Vec<TxId>>> = Arc::default();

    for round in 0..3 {
        let (mut child, http) = start(&data, &gpath, &kpath);
        let http = Arc::new(http);
        let before = acked.lock().unwrap().len();
        let dead = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..ACCOUNTS)
            .map(|i| {
                let (http, acked, dead) = (http.clone(), acked.clone(), dead.clone());
                std::thread::spawn(move || {
                    let from = account(i);
                    let to = account((i + 1) % ACCOUNTS).address();
                    let mut seq = http.account(&from.address(), "center", "MLK").1;
                    while !dead.load(Ordering::SeqCst) {
                        let batch: Vec<_> = (0..20)
                            .map(|k| {
                                transfer(
                                    &from,
                                    to,
                                    1 + k,
                                    seq + k as u64,
                                    support::now_ms() + 60_000,
                                )
                            })
                            .collect();
                        let Ok(resp) = http.submit("center", &batch, true) else {
                            break;
                        };
                        for (tx, r) in batch.iter().zip(&resp.results) {
                            assert!(r.error.is_none(), "unexpected refusal: {r:?}");
                            if r.status == "committed" {
                                acked.lock().unwrap().push(tx.tx.id());
                            }
                        }
                        seq += 20;
                    }
                })
            })
            .collect();
        let delay = 200 + support::xorshift(&mut rng) % 400;
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL: no chance to flush anything.
        child.wait().unwrap();
        dead.store(true, Ordering::SeqCst);
        for c in clients {
            // A client blocked in a request when the node died just stops.
            let _ = c.join();
        }
        let after = acked.lock().unwrap().len();
        eprintln!(
            "round {round}: killed after {delay} ms, {} transfers acknowledged",
            after - before
        );
        assert!(
            after > before,
            "round {round} acknowledged nothing: the test would prove nothing"
        );
    }

    let (mut child, http) = start(&data, &gpath, &kpath);
    for id in acked.lock().unwrap().iter() {
        let (status, v) = http.get(&format!("/v1/chains/center/txs/{id}"));
        assert_eq!(
            (status, v["status"].as_str()),
            (200, Some("committed")),
            "acknowledged {id} lost"
        );
    }
    // Every chain replays from genesis to the node's head, conserving every asset.
    let (_, g) = http.get("/v1/genesis");
    let g: Genesis = serde_json::from_value(g).unwrap();
    assert_eq!(g, genesis);
    for spec in &g.chains {
        let blocks = http.all_blocks(&spec.id);
        let mut v = Verifier::start(&g, &spec.id, &blocks[0]).unwrap();
        for b in &blocks[1..] {
            v.apply(b).unwrap();
        }
        v.state().check_conservation().unwrap();
        let (_, info) = http.get(&format!("/v1/chains/{}", spec.id));
        assert_eq!(
            info["head"]["hash"].as_str(),
            Some(v.head().hash().to_hex().as_str())
        );
        if spec.id.as_str() == "center" {
            for i in 0..ACCOUNTS {
                let a = account(i).address();
                let (balance, seq) = http.account(&a, "center", "MLK");
                assert_eq!(
                    balance,
                    v.state().balance(&a, &"MLK".parse().unwrap()).units()
                );
                assert_eq!(seq, v.state().next_sequence(&a));
            }
        }
    }
    // SIGTERM is a graceful stop: the node commits what it accepted and exits cleanly.
    let pending: Vec<_> = (0..10)
        .map(|k| {
            transfer(
                &account(0),
                account(1).address(),
                1,
                http.account(&account(0).address(), "center", "MLK").1 + k,
                support::now_ms() + 60_000,
            )
        })
        .collect();
    http.submit("center", &pending, false).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "milkd exited with {exit} on SIGTERM");
    let (mut child, http) = start(&data, &gpath, &kpath);
    for t in &pending {
        assert_eq!(
            http.get(&format!("/v1/chains/center/txs/{}", t.tx.id())).1["status"],
            "committed"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
