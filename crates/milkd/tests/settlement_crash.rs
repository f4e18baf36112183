//! Fault injection: the real `milkd` stops abruptly at every step boundary of both trade
//! directions (`MILK_CRASH_AFTER`); after a restart, recovery finishes every trade with
//! both legs or neither, no escrow holds anything, and every chain replays from genesis.

mod support;

use milk_core::exchange::ESCROW;
use milk_core::genesis::demo_key;
use milk_core::tx::ExchangeAction;
use milk_core::tx::SignedTransaction;
use milk_core::tx::{Action, OrderSize, Transaction};
use milk_core::{Amount, Keypair, Symbol};
use milkd::brand::tx_hex;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::Http;

fn start(data: &Path, crash_after: Option<&str>) -> (Child, Http) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_milkd"));
    cmd.args([
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--no-demo-traffic",
        "--oracle-interval-s",
        "1",
    ])
    .env_remove("MILK_CRASH_AFTER");
    if let Some(point) = crash_after {
        cmd.env("MILK_CRASH_AFTER", point);
    }
    let (child, url) = support::spawn_command(cmd);
    (child, Http::new(&url).with_token("demo-operator-token"))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

#[test]
fn a_crash_at_any_step_leaves_both_legs_or_neither() {
    let alice = demo_key("alice");
    for point in ["sell:1", "sell:2", "buy:1", "buy:2"] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (mut child, http) = start(&data, Some(point));
        wait_until("a fresh oracle price", || {
            http.get("/v1/oracle").1["fresh"] == true
        });
        let balances = |http: &Http| {
            (
                http.account(&alice.address(), "center", "MLK").0,
                http.account(&alice.address(), "cinema", "CINE").0,
            )
        };
        let (mlk0, cine0) = balances(&http);
        let (chain, action) = if point.starts_with("sell") {
            (
                "cinema",
                Action::Exchange(ExchangeAction::Sell {
                    amount: Amount::new(10_000),
                    min_out: Amount::new(1),
                }),
            )
        } else {
            (
                "center",
                Action::Exchange(ExchangeAction::Buy {
                    asset: sym("CINE"),
                    pay: sym("MLK"),
                    size: OrderSize::Tokens(Amount::new(10_000)),
                    max_in: Amount::new(u128::MAX),
                }),
            )
        };
        let (_, sequence) = http.account(&alice.address(), chain, "-");
        let order = Transaction {
            chain: chain.parse().unwrap(),
            sender: alice.address(),
            sequence,
            expires_at_ms: support::now_ms() + 120_000,
            action,
        }
        .sign(&alice);
        let id = order.tx.id();
        let body = json!({ "tx": tx_hex(&order) }).to_string();
        // The node dies mid-settlement: the request gets no answer.
        let answered = http.try_post("/v1/trades", "application/json", body.as_bytes());
        assert!(answered.is_err(), "{point}: the node answered {answered:?}");
        let status = child.wait().unwrap();
        assert!(!status.success(), "{point}: the node did not stop abruptly");

        // Restarted without the crash point, the node finishes the trade by itself.
        let (mut child, http) = start(&data, None);
        let mut trade = serde_json::Value::Null;
        wait_until(&format!("{point}: the trade to finish"), || {
            let (s, t) = http.get(&format!("/v1/trades/{id}"));
            trade = t;
            s == 200
                && ["filled", "refused", "voided"].contains(&trade["status"].as_str().unwrap_or(""))
        });
        let (mlk1, cine1) = balances(&http);
        let total: u128 = trade["total"].as_str().unwrap().parse().unwrap();
        // A filled trade also earns 0.1 % of its value in MLK from the user bucket.
        let reward = trade["gross"].as_str().unwrap().parse::<u128>().unwrap() / 1_000;
        match (point.starts_with("sell"), trade["status"].as_str().unwrap()) {
            (true, "filled") => {
                assert_eq!((mlk1, cine1), (mlk0 + total + reward, cine0 - 10_000))
            }
            (false, "filled") => {
                assert_eq!((mlk1, cine1), (mlk0 - total + reward, cine0 + 10_000))
            }
            (_, other) => {
                eprintln!("{point}: {other} ({:?})", trade["code"]);
                assert_eq!((mlk1, cine1), (mlk0, cine0), "{point}: one leg only");
            }
        }
        assert_eq!(http.account(&ESCROW, "center", "MLK").0, 0, "{point}");
        assert_eq!(http.account(&ESCROW, "cinema", "CINE").0, 0, "{point}");

        support::replays_from_genesis(&http, point);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// A customer's order on `chain`, numbered from what the node says is next.
fn order(http: &Http, who: &Keypair, chain: &str, action: Action) -> SignedTransaction {
    let (_, sequence) = http.account(&who.address(), chain, "-");
    Transaction {
        chain: chain.parse().unwrap(),
        sender: who.address(),
        sequence,
        expires_at_ms: support::now_ms() + 120_000,
        action,
    }
    .sign(who)
}

/// Two sales and two purchases locked in one block per chain, then settled together by
/// recovery, so their steps travel in the same batches; the node stops abruptly right after
/// the first batch of steps commits on the center chain, or on the brand chain. After a
/// restart every trade has both legs or neither, each customer's balances moved by exactly
/// their filled trades, no escrow holds anything, and every chain replays from genesis.
#[test]
fn a_crash_at_a_batch_boundary_leaves_every_trade_both_legs_or_neither() {
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    for point in ["batch:center", "batch:cinema"] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (mut child, http) = start(&data, Some(point));
        wait_until("a fresh oracle price", || {
            http.get("/v1/oracle").1["fresh"] == true
        });
        let balances = |http: &Http, who: &Keypair| {
            (
                http.account(&who.address(), "center", "MLK").0,
                http.account(&who.address(), "cinema", "CINE").0,
            )
        };
        let before = [balances(&http, &alice), balances(&http, &bob)];
        let sell = |amount| {
            Action::Exchange(ExchangeAction::Sell {
                amount: Amount::new(amount),
                min_out: Amount::new(1),
            })
        };
        let buy = |tokens| {
            Action::Exchange(ExchangeAction::Buy {
                asset: sym("CINE"),
                pay: sym("MLK"),
                size: OrderSize::Tokens(Amount::new(tokens)),
                max_in: Amount::new(u128::MAX),
            })
        };
        let sells = [
            order(&http, &alice, "cinema", sell(10_000)),
            order(&http, &bob, "cinema", sell(4_000)),
        ];
        let buys = [
            order(&http, &alice, "center", buy(2_000)),
            order(&http, &bob, "center", buy(3_000)),
        ];
        // Locked in one block each (or the node already stopped: then nothing of that
        // request was locked, or recovery finishes what was).
        let _ = http.submit("cinema", &sells, true);
        let _ = http.submit("center", &buys, true);
        let status = child.wait().unwrap();
        assert!(!status.success(), "{point}: the node did not stop abruptly");

        let (mut child, http) = start(&data, None);
        let mut moved = [(0i128, 0i128); 2];
        for (i, o) in sells.iter().chain(&buys).enumerate() {
            let (who, is_sell) = (i % 2, i < 2);
            let id = o.tx.id();
            let chain = o.tx.chain.to_string();
            let (_, tx) = http.get(&format!("/v1/chains/{chain}/txs/{id}"));
            if tx["status"] != "committed" {
                continue;
            }
            let mut trade = serde_json::Value::Null;
            wait_until(&format!("{point}: trade {i} to finish"), || {
                let (s, t) = http.get(&format!("/v1/trades/{id}"));
                trade = t;
                let status = trade["status"].as_str().unwrap_or("");
                s == 200 && ["filled", "refused", "voided"].contains(&status)
            });
            if trade["status"] != "filled" {
                continue;
            }
            let field = |f: &str| trade[f].as_str().unwrap().parse::<i128>().unwrap();
            let (total, tokens, reward) = (field("total"), field("tokens"), field("gross") / 1_000);
            let (mlk, cine) = &mut moved[who];
            if is_sell {
                (*mlk, *cine) = (*mlk + total + reward, *cine - tokens);
            } else {
                (*mlk, *cine) = (*mlk - total + reward, *cine + tokens);
            }
        }
        for (who, key) in [&alice, &bob].into_iter().enumerate() {
            let (mlk, cine) = balances(&http, key);
            let (mlk0, cine0) = before[who];
            let expected = (mlk0 as i128 + moved[who].0, cine0 as i128 + moved[who].1);
            assert_eq!(
                (mlk as i128, cine as i128),
                expected,
                "{point}: customer {who}"
            );
        }
        assert_eq!(http.account(&ESCROW, "center", "MLK").0, 0, "{point}");
        assert_eq!(http.account(&ESCROW, "cinema", "CINE").0, 0, "{point}");
        support::replays_from_genesis(&http, point);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
