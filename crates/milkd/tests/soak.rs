//! The soak: the real `milkd` of the demo network is SIGKILLed again and again at seeded
//! random moments under a mixed load (customers' transfers, a partner's conversions with
//! retried references, trades both ways), and restarted. After every restart: every
//! acknowledged transaction is there; what was sent but not acknowledged is there once or
//! not at all; the money adds up exactly (transfers against a model, the partner's supply
//! against the conversions the chain holds, each reference minted once); every trade whose
//! order is on its chain ends filled, refused or voided with nothing left in escrow. At the
//! end every chain replays from genesis, conserving every asset, with no transaction twice.
//!
//! `MILK_SOAK_KILLS` sets the number of kills (12 by default; the full run is
//! `MILK_SOAK_KILLS=1000 cargo test --release -p milkd --test soak -- --nocapture`), and
//! `MILK_TEST_SEED` the seed, printed first so that a failure's moments replay.

mod support;

use milk_core::exchange::ESCROW;
use milk_core::genesis::demo_key;
use milk_core::tx::{Action, BrandAction, ExchangeAction, OrderSize, TokenAction, Transaction};
use milk_core::tx::{SignedTransaction, TxId};
use milk_core::{Address, Amount};
use milkd::brand::tx_hex;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Http;

fn start(data: &Path) -> (Child, Http) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_milkd"));
    cmd.args(["--data-dir", data.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--no-demo-traffic"])
        .args(["--oracle-interval-s", "1"])
        .env_remove("MILK_CRASH_AFTER");
    let (child, url) = support::spawn_command(cmd);
    let http = Http::new(&url)
        .with_token("demo-operator-token")
        .with_timeout(Duration::from_secs(20));
    (child, http)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the load sent and what the node acknowledged, across every round.
#[derive(Default)]
struct Book {
    /// carol's transfers to the sink: id → amount.
    transfers: BTreeMap<TxId, u128>,
    /// Orders sent to `/v1/trades`: id → chain.
    orders: BTreeMap<TxId, String>,
    /// Acknowledged as committed: id → chain.
    acked: BTreeMap<TxId, String>,
    /// The partner's last conversion that got no answer: it retries it next round.
    unanswered: Option<SignedTransaction>,
}

/// The sink that only carol pays: its balance is exactly her committed transfers.
fn sink() -> Address {
    support::account(0).address()
}

/// The next sequence of `who` on `chain`, or `None` once the node is gone.
fn try_sequence(http: &Http, who: &Address, chain: &str) -> Option<u64> {
    let (status, v) = http.try_get(&format!("/v1/accounts/{who}")).ok()?;
    (status == 200).then_some(())?;
    support::next_sequence(&v, chain)
}

fn note_acked(book: &Mutex<Book>, chain: &str, id: TxId) {
    book.lock().unwrap().acked.insert(id, chain.to_owned());
}

/// carol pays the sink in batches of five until the node dies.
fn transfers(http: &Http, mut rng: u64, book: &Mutex<Book>) {
    let carol = demo_key("carol");
    let Some(mut seq) = try_sequence(http, &carol.address(), "center") else {
        return;
    };
    loop {
        let batch: Vec<_> = (0..5)
            .map(|k| {
                let amount = 1 + u128::from(support::xorshift(&mut rng) % 1_000);
                let action = Action::Token(TokenAction::Transfer {
                    to: sink(),
                    asset: "MLK".parse().unwrap(),
                    amount: Amount::new(amount),
                    memo: String::new(),
                });
                let tx = Transaction {
                    chain: "center".parse().unwrap(),
                    sender: carol.address(),
                    sequence: seq + k,
                    expires_at_ms: support::now_ms() + 60_000,
                    action,
                };
                (tx.sign(&carol), amount)
            })
            .collect();
        let txs: Vec<_> = batch.iter().map(|(t, _)| t.clone()).collect();
        let sent = batch.iter().map(|(t, a)| (t.tx.id(), *a));
        book.lock().unwrap().transfers.extend(sent);
        let Ok(resp) = http.submit("center", &txs, true) else {
            return;
        };
        for (tx, r) in txs.iter().zip(&resp.results) {
            assert!(r.error.is_none(), "carol's transfer refused: {r:?}");
            if r.status == "committed" {
                note_acked(book, "center", tx.tx.id());
            }
        }
        seq += 5;
    }
}

/// The cinema partner converts mileage for alice and bob, each under a new reference, after
/// retrying its last conversion that got no answer, until the node dies.
fn conversions(http: &Http, round: u64, mut rng: u64, book: &Mutex<Book>) {
    let issuer = demo_key("partner:cinema");
    let partner = Http::new(&http.base).with_token("demo-cinema-token");
    let post = |tx: &SignedTransaction| {
        let body = json!({ "tx": tx_hex(tx) }).to_string();
        let path = "/v1/partners/cinema/conversions";
        partner
            .try_post(path, "application/json", body.as_bytes())
            .ok()
    };
    // Committed before the kill (answered as a replay now) or lost with the pool (committed
    // now): either way it is the issuer's next conversion, and it mints once.
    let retry = book.lock().unwrap().unanswered.take();
    if let Some(tx) = retry {
        match post(&tx) {
            Some((200, _)) => note_acked(book, "cinema", tx.tx.id()),
            Some((status, v)) => panic!("a retried conversion: {status} {v}"),
            None => return book.lock().unwrap().unanswered = Some(tx),
        }
    }
    for k in 0.. {
        let Some(seq) = try_sequence(http, &issuer.address(), "cinema") else {
            return;
        };
        let to = demo_key(["alice", "bob"][k % 2]).address();
        let action = Action::Brand(BrandAction::Convert {
            to,
            mileage: 10 + support::xorshift(&mut rng) % 500,
            reference: format!("SOAK-{round}-{k}"),
        });
        let tx = Transaction {
            chain: "cinema".parse().unwrap(),
            sender: issuer.address(),
            sequence: seq,
            expires_at_ms: support::now_ms() + 60_000,
            action,
        }
        .sign(&issuer);
        match post(&tx) {
            Some((200, v)) if v["tx"]["height"].is_u64() => note_acked(book, "cinema", tx.tx.id()),
            Some((status, v)) => panic!("conversion refused: {status} {v}"),
            None => return book.lock().unwrap().unanswered = Some(tx),
        }
    }
}

/// alice sells CINE and bob buys it with MLK through `/v1/trades`, until the node dies.
fn trades(http: &Http, mut rng: u64, book: &Mutex<Book>) {
    for k in 0.. {
        let (who, chain) = [("alice", "cinema"), ("bob", "center")][k % 2];
        let key = demo_key(who);
        let Some(sequence) = try_sequence(http, &key.address(), chain) else {
            return;
        };
        let tokens = Amount::new(100 + u128::from(support::xorshift(&mut rng) % 5_000));
        let action = match chain {
            "cinema" => ExchangeAction::Sell {
                amount: tokens,
                min_out: Amount::new(1),
            },
            _ => ExchangeAction::Buy {
                asset: "CINE".parse().unwrap(),
                pay: "MLK".parse().unwrap(),
                size: OrderSize::Tokens(tokens),
                max_in: Amount::new(u128::MAX),
            },
        };
        let order = Transaction {
            chain: chain.parse().unwrap(),
            sender: key.address(),
            sequence,
            expires_at_ms: support::now_ms() + 60_000,
            action: Action::Exchange(action),
        }
        .sign(&key);
        let id = order.tx.id();
        book.lock().unwrap().orders.insert(id, chain.to_owned());
        let body = json!({ "tx": tx_hex(&order) }).to_string();
        match http.try_post("/v1/trades", "application/json", body.as_bytes()) {
            Ok((200, _)) => note_acked(book, chain, id),
            Ok((202 | 422, _)) => {} // pending, still settling, or refused (a stale price)
            Ok((status, v)) => panic!("a trade answered {status}: {v}"),
            Err(_) => return,
        }
    }
}

/// One round: the load runs for a seeded moment, then the node is SIGKILLed.
fn round(child: &mut Child, http: &Arc<Http>, round: u64, rng: &mut u64, book: &Arc<Mutex<Book>>) {
    let seeds = [
        support::xorshift(rng),
        support::xorshift(rng),
        support::xorshift(rng),
    ];
    let load = [
        std::thread::spawn({
            let (http, book) = (http.clone(), book.clone());
            move || transfers(&http, seeds[0], &book)
        }),
        std::thread::spawn({
            let (http, book) = (http.clone(), book.clone());
            move || conversions(&http, round, seeds[1], &book)
        }),
        std::thread::spawn({
            let (http, book) = (http.clone(), book.clone());
            move || trades(&http, seeds[2], &book)
        }),
    ];
    let delay = 20 + support::xorshift(rng) % 400;
    std::thread::sleep(Duration::from_millis(delay));
    child.kill().unwrap(); // SIGKILL: no chance to flush anything.
    child.wait().unwrap();
    for thread in load {
        thread.join().expect("a load thread found something wrong");
    }
}

/// What the checks have read of the chains so far.
#[derive(Default)]
struct Seen {
    /// Next height to read, per chain.
    next: BTreeMap<String, u64>,
    /// Every committed transaction: id → chain.
    ids: BTreeMap<TxId, String>,
    /// carol's committed transfers to the sink, summed.
    sunk: u128,
    /// Conversion references on the cinema chain.
    references: BTreeSet<String>,
    /// What those conversions minted, as the partner API reports each.
    minted: u128,
}

/// Reads the chains' new blocks: no transaction twice, no reference minted twice.
fn read_new_blocks(http: &Http, book: &Book, seen: &mut Seen) {
    for chain in ["center", "cinema"] {
        let from = *seen.next.get(chain).unwrap_or(&0);
        let blocks = http.blocks_from(&chain.parse().unwrap(), from);
        for tx in blocks.iter().flat_map(|b| &b.txs) {
            let id = tx.tx.id();
            let again = seen.ids.insert(id, chain.to_owned());
            assert!(again.is_none(), "{id} is on {chain} twice");
            if let Some(amount) = book.transfers.get(&id) {
                seen.sunk += amount;
            }
            if let Action::Brand(BrandAction::Convert { reference, .. }) = &tx.tx.action {
                assert!(
                    seen.references.insert(reference.clone()),
                    "{reference} minted twice"
                );
                seen.minted += conversion_amount(http, reference);
            }
        }
        seen.next
            .insert(chain.to_owned(), from + blocks.len() as u64);
    }
}

fn conversion_amount(http: &Http, reference: &str) -> u128 {
    let (status, v) = http.get(&format!("/v1/partners/cinema/conversions/{reference}"));
    assert_eq!(status, 200, "{reference}: {v}");
    v["amount"].as_str().unwrap().parse().unwrap()
}

/// Every order on its chain ends filled, refused or voided; an order that is not on its chain
/// was lost with the node's pool and can never be (its sequence number is reused).
fn finish_trades(http: &Http, book: &mut Book, seen: &Seen) -> usize {
    let mut filled = 0;
    for (id, chain) in std::mem::take(&mut book.orders) {
        if seen.ids.get(&id) != Some(&chain) {
            continue;
        }
        let mut status = String::new();
        wait_until(&format!("trade {id} to finish"), || {
            let (_, t) = http.get(&format!("/v1/trades/{id}"));
            status = t["status"].as_str().unwrap_or("").to_owned();
            ["filled", "refused", "voided"].contains(&status.as_str())
        });
        filled += usize::from(status == "filled");
    }
    filled
}

/// The checks after a restart; returns how many trades filled since the last.
fn check(http: &Http, book: &mut Book, seen: &mut Seen, start: &Start) -> usize {
    read_new_blocks(http, book, seen);
    for (id, chain) in &book.acked {
        assert_eq!(seen.ids.get(id), Some(chain), "acknowledged {id} lost");
    }
    let carol = http
        .account(&demo_key("carol").address(), "center", "MLK")
        .0;
    let sink = http.account(&sink(), "center", "MLK").0;
    assert_eq!((sink, carol), (seen.sunk, start.carol - seen.sunk));
    let filled = finish_trades(http, book, seen);
    // The trades' settlement steps are new blocks: read them too.
    read_new_blocks(http, book, seen);
    assert_eq!(http.account(&ESCROW, "center", "MLK").0, 0);
    assert_eq!(http.account(&ESCROW, "cinema", "CINE").0, 0);
    assert_eq!(cine_supply(http), start.cine + seen.minted);
    filled
}

fn cine_supply(http: &Http) -> u128 {
    let (_, v) = http.get("/v1/chains/cinema");
    v["assets"][0]["supply"].as_str().unwrap().parse().unwrap()
}

/// Balances at the start that the checks compare against.
struct Start {
    carol: u128,
    cine: u128,
}

/// alice and bob link their wallets to the cinema partner, so it can convert for them, and
/// the partner lifts its daily limit per customer above what a thousand rounds convert.
fn link(http: &Http) {
    let issuer = demo_key("partner:cinema");
    let terms = milk_core::brand::PolicyTerms {
        transfers_allowed: true,
        min_conversion: Amount::new(1),
        max_conversion: Amount::new(100_000),
        daily_user_limit: Amount::new(1_000_000_000_000),
    };
    let policy = Transaction {
        chain: "cinema".parse().unwrap(),
        sender: issuer.address(),
        sequence: 0,
        expires_at_ms: support::now_ms() + 60_000,
        action: Action::Brand(BrandAction::SetPolicy { terms }),
    };
    let r = http
        .submit("cinema", &[policy.sign(&issuer)], true)
        .unwrap();
    assert_eq!(r.results[0].status, "committed", "{:?}", r.results[0]);
    for (who, customer) in [("alice", "SOAK-ALICE"), ("bob", "SOAK-BOB")] {
        let tx = support::demo_link("cinema", &demo_key(who), customer, support::now_ms());
        let r = http.submit("cinema", &[tx], true).unwrap();
        assert_eq!(r.results[0].status, "committed", "{:?}", r.results[0]);
    }
}

#[test]
fn a_thousand_kills_lose_nothing_acknowledged_and_leave_no_trade_half_done() {
    let kills = support::env_u64("MILK_SOAK_KILLS", 12);
    let seed = support::env_u64("MILK_TEST_SEED", 0x50a4);
    eprintln!("MILK_TEST_SEED={seed} MILK_SOAK_KILLS={kills}");
    let mut rng = seed | 1;
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, first) = start(&data);
    let mut http = Arc::new(first);
    link(&http);
    let start_balances = Start {
        carol: http
            .account(&demo_key("carol").address(), "center", "MLK")
            .0,
        cine: cine_supply(&http),
    };
    let book = Arc::new(Mutex::new(Book::default()));
    let mut seen = Seen::default();
    let mut filled = 0;
    for r in 0..kills {
        round(&mut child, &http, r, &mut rng, &book);
        let (next, restarted) = start(&data);
        (child, http) = (next, Arc::new(restarted));
        filled += check(&http, &mut book.lock().unwrap(), &mut seen, &start_balances);
        if (r + 1) % 100 == 0 {
            eprintln!("{} kills, {:.0?}: all checks hold", r + 1, began.elapsed());
        }
    }
    support::replays_from_genesis(&http, "the soak");
    child.kill().unwrap();
    child.wait().unwrap();
    let b = book.lock().unwrap();
    eprintln!(
        "{kills} kills in {:.0?}: {} transactions committed, {} acknowledged, all there; \
         {} conversions minted once each; {filled} trades filled, none half done",
        began.elapsed(),
        seen.ids.len(),
        b.acked.len(),
        seen.references.len(),
    );
    assert!(
        b.acked.len() as u64 > kills,
        "too little was acknowledged to prove anything"
    );
    assert!(filled > 0, "no trade filled: the trades prove nothing");
}
