//! The bridge end to end against a real local main chain (Anvil, from the npm registry's
//! `@foundry-rs/anvil`): a withdrawal reaches a main-chain balance, a deposit a center-chain
//! balance; a replayed claim is refused by the vault; a deposit naming no usable key is
//! held, then refunded on the main chain; a reorganisation below the confirmation depth
//! credits nothing; the node stopped abruptly after every step of both directions finishes
//! the rest after a restart, nothing lost or doubled. After each test, MLK's supply across
//! both chains is exactly the 1.3 billion genesis made.

mod support;

use milk_core::bridge::MainAddress;
use milk_core::genesis::demo_key;
use milk_core::tx::{Action, BridgeAction};
use milk_core::{Address, Amount, Keypair};
use milk_evm::devnet::{Devnet, supply};
use milk_evm::vault::Vault;
use milk_evm::{B256, U256};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::Http;

const MLK: u128 = 100_000_000;
const CONFIRMATIONS: u64 = 3;

struct Bridge {
    rt: tokio::runtime::Runtime,
    main: Devnet,
    dir: tempfile::TempDir,
    node: Option<Child>,
    http: Http,
    /// MLK the test burned for LZM: gone from both chains for good.
    burned: std::cell::Cell<u128>,
}

impl Bridge {
    fn start() -> Bridge {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let main = rt.block_on(Devnet::start());
        let dir = tempfile::tempdir().unwrap();
        // The key `node` writes for the node is the one the vault takes and the local main
        // chain funded.
        assert_eq!(hex::encode(main.bridge.to_bytes()), "42".repeat(32));
        let mut b = Bridge {
            rt,
            main,
            dir,
            node: None,
            http: Http::new("http://127.0.0.1:1"),
            burned: std::cell::Cell::new(0),
        };
        b.restart(None);
        b
    }

    /// `key` burns `amount` of MLK for LZM on the center chain.
    fn burn_for_lzm(&self, key: &Keypair, amount: u128) {
        let amount_ = Amount::new(amount);
        let burn = milk_core::tx::MembershipAction::BurnForLzm { amount: amount_ };
        self.http
            .center_tx(support::now_ms(), key, Action::Membership(burn));
        self.burned.set(self.burned.get() + amount);
    }

    /// (Re)starts the node, stopping abruptly after `crash_after` if given.
    fn restart(&mut self, crash_after: Option<&str>) {
        if let Some(mut old) = self.node.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let (child, http) = spawn(self.dir.path(), &self.main, crash_after);
        self.node = Some(child);
        self.http = http;
    }

    /// Waits for `done`, mining a main-chain block every round so confirmations come.
    fn wait_for(&self, what: &str, mut done: impl FnMut(&Http) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(&self.http) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            self.rt.block_on(self.main.mine(1));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Mines well past the confirmation depth and gives the node rounds to act on it: what
    /// it would do twice, it would do now.
    fn look_again(&self) {
        self.rt.block_on(self.main.mine(CONFIRMATIONS * 3));
        std::thread::sleep(Duration::from_millis(600));
    }

    /// Waits, mining, until the node stops at its crash point `point`.
    fn until_stopped(&mut self, point: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .node
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
        {
            assert!(Instant::now() < deadline, "the node never reached {point}");
            self.rt.block_on(self.main.mine(1));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn vault(&self) -> Vault {
        let v = Vault::connect(
            self.main.url(),
            self.main.tica.clone(),
            self.main.deployed.vault,
        );
        self.rt.block_on(v).unwrap()
    }

    fn main_balance(&self, who: milk_evm::Address) -> u128 {
        self.rt.block_on(self.main.balance(who)).try_into().unwrap()
    }

    fn deposit(&self, amount: u128, milk: [u8; 32]) -> B256 {
        let (key, amount) = (&self.main.customer, U256::from(amount));
        self.rt
            .block_on(self.main.deposit(key, amount, B256::from(milk)))
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Some(mut c) = self.node.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(dir: &Path, main: &Devnet, crash_after: Option<&str>) -> (Child, Http) {
    let vault = milk_evm::address::from_alloy(main.deployed.vault).unwrap();
    node(dir, main.url().as_str(), &vault, crash_after)
}

/// `milkd` on the demo network in `dir`, relaying to the main chain's node at `rpc` and
/// `vault`, with the bridge key the local main chain funds, stopping abruptly after
/// `crash_after` if given.
fn node(dir: &Path, rpc: &str, vault: &MainAddress, crash_after: Option<&str>) -> (Child, Http) {
    let key = dir.join("bridge.key");
    std::fs::write(&key, "42".repeat(32)).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_milkd"));
    let data = dir.join("data");
    cmd.args([
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
    .args([
        "--no-demo-traffic",
        "--main-chain-rpc",
        rpc,
        "--vault",
        &vault.to_string(),
    ])
    .args([
        "--bridge-key-file",
        key.to_str().unwrap(),
        "--bridge-poll-ms",
        "30",
    ])
    .args(["--confirmations", &CONFIRMATIONS.to_string()])
    .env_remove("MILK_CRASH_AFTER");
    if let Some(point) = crash_after {
        cmd.env("MILK_CRASH_AFTER", point);
    }
    let (child, url) = support::spawn_command(cmd);
    (child, Http::new(&url).with_token("demo-operator-token"))
}

/// A node stopped when the test ends, however it ends.
struct Stopping(Child);

impl Drop for Stopping {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main_address(key: &milk_evm::PrivateKeySigner) -> MainAddress {
    milk_evm::address::from_alloy(key.address()).unwrap()
}

fn withdraw(http: &Http, key: &Keypair, to: MainAddress, amount: u128) {
    let (amount, max_fee) = (Amount::new(amount), Amount::new(MLK));
    let action = Action::Bridge(BridgeAction::Withdraw {
        to,
        amount,
        max_fee,
    });
    http.center_tx(support::now_ms(), key, action);
}

fn withdrawal(http: &Http, number: u64) -> Value {
    let (status, w) = http.get(&format!("/v1/bridge/withdrawals/{number}"));
    assert_eq!(status, 200, "{w}");
    w
}

fn center_mlk(http: &Http, who: &Address) -> u128 {
    http.account(who, "center", "MLK").0
}

/// MLK on the center chain + main-chain MLK outside the vault + withdrawals burned but not
/// released + deposits not credited is the 1.3 billion genesis made; each counted item by
/// item from both chains, so a double credit or a double release shows.
fn assert_supply_spans_both_chains(b: &Bridge) {
    let (_, chain) = b.http.get("/v1/chains/center");
    let mlk = chain["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["symbol"] == "MLK")
        .unwrap();
    let center: u128 = mlk["supply"].as_str().unwrap().parse().unwrap();
    let outside = supply() - b.rt.block_on(b.main.balance(b.main.deployed.vault));
    let outside: u128 = outside.try_into().unwrap();
    let vault = b.vault();
    let (_, ws) = b.http.get("/v1/bridge/withdrawals?limit=500");
    let mut in_transit_out = 0;
    for w in ws.as_array().unwrap() {
        let id: B256 = w["id"].as_str().unwrap().parse().unwrap();
        if !b.rt.block_on(vault.is_released(id)).unwrap() {
            in_transit_out += w["amount"].as_str().unwrap().parse::<u128>().unwrap();
        }
    }
    let (_, recorded) = b.http.get("/v1/bridge/deposits?limit=500");
    let head = b.rt.block_on(vault.head()).unwrap();
    let mut in_transit_in = 0;
    for d in b.rt.block_on(vault.deposits(0, head)).unwrap() {
        let done = recorded.as_array().unwrap().iter().any(|r| {
            r["main_tx"] == format!("{}", d.tx)
                && r["log_index"] == d.log_index
                && r["status"] != "held"
        });
        if !done {
            in_transit_in += u128::try_from(d.amount).unwrap();
        }
    }
    let burned = b.burned.get();
    let total = center + outside + in_transit_out + in_transit_in + burned;
    // The supply report counts the same from the center chain's records alone.
    let (_, report) = b.http.get("/v1/supply");
    let mlk = report
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["asset"] == "MLK")
        .unwrap();
    let bridged = &mlk["bridged"];
    let genesis = u128::try_from(supply()).unwrap();
    assert_eq!(
        bridged["across_both_chains"],
        (genesis - burned).to_string(),
        "{mlk}"
    );
    assert_eq!(bridged["burned_for_good"], burned.to_string(), "{mlk}");
    assert_eq!(bridged["genesis"], genesis.to_string(), "{mlk}");
    assert_eq!(
        total,
        u128::try_from(supply()).unwrap(),
        "center {center} + outside {outside} + out {in_transit_out} + in {in_transit_in} + burned {burned}"
    );
}

#[test]
fn a_withdrawal_and_a_deposit_cross_end_to_end_and_a_replayed_claim_is_refused() {
    let b = Bridge::start();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let customer = main_address(&b.main.customer);
    let before = center_mlk(&b.http, &alice.address());
    withdraw(&b.http, &alice, customer, 20 * MLK);
    assert_eq!(
        center_mlk(&b.http, &alice.address()),
        before - 21 * MLK,
        "burned with its fee"
    );
    b.wait_for("the release", |h| withdrawal(h, 0)["status"] == "released");
    assert_eq!(b.main_balance(b.main.customer.address()), 20 * MLK);
    assert_supply_spans_both_chains(&b);

    // The customer claims it again with the node's own proof: the vault refuses.
    let w = withdrawal(&b.http, 0);
    let proof: Vec<B256> = (w["proof"]["siblings"].as_array().unwrap().iter())
        .map(|s| s.as_str().unwrap().parse().unwrap())
        .collect();
    let id: B256 = w["id"].as_str().unwrap().parse().unwrap();
    let vault = b.vault();
    let replay = vault.release(
        0,
        id,
        b.main.customer.address(),
        U256::from(20 * MLK),
        proof,
    );
    assert!(
        b.rt.block_on(replay).is_err(),
        "a replayed claim is refused"
    );
    assert_eq!(b.main_balance(b.main.customer.address()), 20 * MLK);

    // Bob burns some for LZM: gone for good, and counted so.
    b.burn_for_lzm(&bob, 3 * MLK);
    assert_supply_spans_both_chains(&b);
    let bob_before = center_mlk(&b.http, &bob.address());
    b.deposit(5 * MLK, *bob.address().as_bytes());
    b.wait_for("the credit", |h| {
        center_mlk(h, &bob.address()) == bob_before + 5 * MLK
    });
    b.look_again();
    assert_eq!(
        center_mlk(&b.http, &bob.address()),
        bob_before + 5 * MLK,
        "credited once"
    );
    assert_eq!(b.main_balance(b.main.customer.address()), 15 * MLK);
    assert_supply_spans_both_chains(&b);
    // The relayer's rounds go through, and it searched past the deposit.
    let (_, bridge) = b.http.get("/v1/bridge");
    let relayer = &bridge["relayer"];
    assert!(relayer["rounds"].as_u64().unwrap() > 0, "{bridge}");
    assert_eq!(relayer.get("last_error"), None, "{bridge}");
    assert!(relayer["searched_to"].as_u64().unwrap() > 0, "{bridge}");
    assert_eq!(relayer["backing_off"], json!([]));
    // Bob's deposit is his alone, and numbered.
    let list = |q: &str| b.http.get(&format!("/v1/bridge/deposits{q}")).1;
    let bobs = list(&format!("?account={}", bob.address()));
    assert_eq!(
        (bobs[0]["number"].clone(), bobs[0]["status"].clone()),
        (json!(0), json!("credited"))
    );
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_eq!(list(&format!("?account={}", alice.address())), json!([]));
    assert_eq!(list("?before=0"), json!([]), "none before the first");
}

#[test]
fn a_deposit_naming_no_usable_key_is_held_then_refunded_on_the_main_chain() {
    let b = Bridge::start();
    withdraw(
        &b.http,
        &demo_key("alice"),
        main_address(&b.main.customer),
        30 * MLK,
    );
    b.wait_for("the release", |h| withdrawal(h, 0)["status"] == "released");
    let bad = (1u8..)
        .map(|i| [i; 32])
        .find(|k| Address::from_bytes(*k).is_err())
        .unwrap();
    let tx = b.deposit(7 * MLK, bad);
    let held = |h: &Http| h.get("/v1/bridge/deposits").1[0]["status"] == "held";
    b.wait_for("the held deposit", held);
    assert_eq!(b.main_balance(b.main.customer.address()), 23 * MLK);
    assert_supply_spans_both_chains(&b);
    let (_, deposits) = b.http.get("/v1/bridge/deposits");
    let refund = json!({"action": {"type": "refund_deposit", "main_tx": deposits[0]["main_tx"].as_str().unwrap().trim_start_matches("0x"), "log_index": deposits[0]["log_index"]}});
    let auth = Some("Bearer demo-operator-token");
    let (status, v) = b.http.request(
        "POST",
        "/v1/operator/actions",
        Some(refund.to_string()),
        auth,
    );
    assert_eq!(status, 200, "{v} for {tx}");
    b.wait_for("the refund's release", |h| {
        withdrawal(h, 1)["status"] == "released"
    });
    assert_eq!(withdrawal(&b.http, 1)["refund"], true);
    assert_eq!(b.main_balance(b.main.customer.address()), 30 * MLK);
    assert_supply_spans_both_chains(&b);
}

#[test]
fn a_reorganisation_below_the_confirmation_depth_credits_nothing() {
    let b = Bridge::start();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    withdraw(&b.http, &alice, main_address(&b.main.customer), 20 * MLK);
    b.wait_for("the release", |h| withdrawal(h, 0)["status"] == "released");
    let bob_before = center_mlk(&b.http, &bob.address());
    let snapshot = b.rt.block_on(b.main.rpc("evm_snapshot", json!([])));
    b.deposit(4 * MLK, *bob.address().as_bytes());
    // One block short of its confirmations; the node looks many times meanwhile.
    b.rt.block_on(b.main.mine(CONFIRMATIONS - 2));
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(b.http.get("/v1/bridge").1["in_total"], "0");
    b.rt.block_on(b.main.rpc("evm_revert", json!([snapshot])));
    b.look_again();
    assert_eq!(
        center_mlk(&b.http, &bob.address()),
        bob_before,
        "the reorganised deposit is not credited"
    );
    assert_eq!(b.main_balance(b.main.customer.address()), 20 * MLK);
    b.deposit(6 * MLK, *bob.address().as_bytes());
    b.wait_for("the credit", |h| {
        center_mlk(h, &bob.address()) == bob_before + 6 * MLK
    });
    assert_eq!(
        b.http.get("/v1/bridge").1["in_total"],
        (6 * MLK).to_string()
    );
    assert_supply_spans_both_chains(&b);
}

#[test]
fn a_node_stopped_after_any_step_finishes_the_rest_and_nothing_twice() {
    let mut b = Bridge::start();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let customer = main_address(&b.main.customer);
    let steps = [
        "bridge:sealed",
        "bridge:posted",
        "bridge:released",
        "bridge:confirmed",
    ];
    for (n, point) in steps.iter().enumerate() {
        b.restart(Some(point));
        withdraw(&b.http, &alice, customer, 10 * MLK);
        b.until_stopped(point);
        b.restart(None);
        let number = n as u64;
        b.wait_for("the release after the restart", |h| {
            withdrawal(h, number)["status"] == "released"
        });
        assert_eq!(
            b.main_balance(b.main.customer.address()),
            10 * MLK * (n as u128 + 1),
            "after {point}"
        );
        assert_supply_spans_both_chains(&b);
    }
    let bob_before = center_mlk(&b.http, &bob.address());
    b.restart(Some("bridge:credited"));
    b.deposit(3 * MLK, *bob.address().as_bytes());
    b.until_stopped("bridge:credited");
    b.restart(None);
    b.look_again();
    assert_eq!(
        center_mlk(&b.http, &bob.address()),
        bob_before + 3 * MLK,
        "credited once"
    );
    assert_supply_spans_both_chains(&b);
    support::replays_from_genesis(&b.http, "after the crashes");
    // How far deposits were searched is kept beside the chains, for the next start.
    let cursor = std::fs::read_to_string(b.dir.path().join("data/bridge-searched")).unwrap();
    let next: u64 = cursor.split_whitespace().last().unwrap().parse().unwrap();
    assert!(next > 0, "{cursor}");
}

#[test]
fn with_the_main_chains_node_down_withdrawals_wait_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let vault: MainAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        .parse()
        .unwrap();
    let (child, http) = node(dir.path(), "http://127.0.0.1:1", &vault, None);
    let _stopping = Stopping(child);
    let alice = demo_key("alice");
    let before = center_mlk(&http, &alice.address());
    let to: MainAddress = "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"
        .parse()
        .unwrap();
    withdraw(&http, &alice, to, 15 * MLK);
    std::thread::sleep(Duration::from_millis(500));
    let w = withdrawal(&http, 0);
    assert_eq!(w["status"], "queued", "{w}");
    assert_eq!(center_mlk(&http, &alice.address()), before - 16 * MLK);
    let (_, bridge) = http.get("/v1/bridge");
    assert_eq!(bridge["main_chain"]["chain_id"], 0, "not reached: {bridge}");
    assert_eq!(bridge["out_total"], (15 * MLK).to_string());
    // The operator sees why, without the node's URL.
    let said = bridge["relayer"]["last_error"].as_str().unwrap();
    assert!(said.starts_with("the main chain was not reached"), "{said}");
    assert!(!said.contains("127.0.0.1:1"), "{said}");
}

/// A main-chain node that lies, answering each JSON-RPC request with `answer(method, its
/// first parameter)`, over HTTP/1.1 on loopback until the test ends. Where `answer` has
/// none: chain 31337, head 1,000, no logs, and empty calls.
fn lying_node(answer: impl Fn(&str, &Value) -> Option<Value> + Send + Sync + 'static) -> String {
    let answer = move |method: &str, params: &Value| {
        answer(method, params).unwrap_or_else(|| match method {
            "eth_chainId" => json!("0x7a69"),
            "eth_blockNumber" => json!("0x3e8"),
            "eth_getLogs" => json!([]),
            _ => json!("0x"),
        })
    };
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let req: Value = serde_json::from_slice(&body).unwrap();
                    let result = answer(req["method"].as_str().unwrap(), &req["params"][0]);
                    let answer =
                        json!({"jsonrpc": "2.0", "id": req["id"], "result": result}).to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        answer.len()
                    );
                    if stream.write_all((head + &answer).as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// `bytes` as one 32-byte ABI word, hex.
fn word(bytes: &[u8]) -> String {
    format!(
        "0x{}{}",
        "0".repeat(64 - 2 * bytes.len()),
        hex::encode(bytes)
    )
}

/// The topic of an event, or the selector of a function (its first 4 bytes), by signature.
fn topic(signature: &str) -> String {
    let hash = milk_core::bridge::main_address::keccak(&[signature.as_bytes()]);
    format!("0x{}", hex::encode(hash))
}

/// A log of `vault` in block 5, as a node gives it.
fn vault_log(vault: &MainAddress, topics: Vec<String>, data: String) -> Value {
    json!({
        "address": format!("0x{}", hex::encode(vault.as_bytes())), "topics": topics,
        "data": data, "blockNumber": "0x5", "blockHash": word(&[5; 32]),
        "transactionHash": word(&[9; 32]), "transactionIndex": "0x0", "logIndex": "0x0",
        "removed": false,
    })
}

/// The first topic a log filter asks for.
fn asked_topic(filter: &Value) -> &str {
    let t = &filter["topics"][0];
    t.as_str().or_else(|| t[0].as_str()).unwrap_or_default()
}

/// A node whose head is far ahead and which reports a deposit of a million MLK to `milk`
/// that never happened.
fn inventing_a_deposit(vault: MainAddress, milk: [u8; 32]) -> String {
    let deposited = topic("Deposited(address,bytes32,uint256)");
    let log = vault_log(
        &vault,
        vec![deposited.clone(), word(&[7; 20]), word(&milk)],
        word(&(1_000_000 * MLK).to_be_bytes()),
    );
    lying_node(move |method, params| {
        (method == "eth_getLogs" && asked_topic(params) == deposited).then(|| json!([log.clone()]))
    })
}

#[test]
fn a_main_chain_node_inventing_a_deposit_mints_nothing_beyond_what_left() {
    let dir = tempfile::tempdir().unwrap();
    let vault: MainAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        .parse()
        .unwrap();
    let bob = demo_key("bob");
    let liar = inventing_a_deposit(vault, *bob.address().as_bytes());
    let (child, http) = node(dir.path(), &liar, &vault, None);
    let _stopping = Stopping(child);
    let before = center_mlk(&http, &bob.address());
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get("/v1/bridge").1["main_chain"]["chain_id"] != 31337 {
        assert!(Instant::now() < deadline, "the node never reached the liar");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(center_mlk(&http, &bob.address()), before, "nothing minted");
    assert_eq!(http.get("/v1/bridge").1["in_total"], "0");
    // The center chain goes on: alice pays bob.
    let pay = milk_core::tx::TokenAction::Transfer {
        to: bob.address(),
        asset: "MLK".parse().unwrap(),
        amount: Amount::new(MLK),
        memo: String::new(),
    };
    http.center_tx(support::now_ms(), &demo_key("alice"), Action::Token(pay));
    assert_eq!(center_mlk(&http, &bob.address()), before + MLK);
}

#[test]
fn withdrawals_sealed_together_are_released_together_each_to_its_address() {
    let b = Bridge::start();
    let customers = ["alice", "bob", "carol"].map(demo_key);
    let to: Vec<MainAddress> = (1u8..=3)
        .map(|i| MainAddress::from_bytes([i; 20]).unwrap())
        .collect();
    let txs: Vec<_> = customers
        .iter()
        .zip(&to)
        .map(|(key, to)| {
            let sequence = b.http.account(&key.address(), "center", "MLK").1;
            let action = BridgeAction::Withdraw {
                to: *to,
                amount: Amount::new(11 * MLK),
                max_fee: Amount::new(MLK),
            };
            milk_core::tx::Transaction {
                chain: milk_core::ChainId::center(),
                sender: key.address(),
                sequence,
                expires_at_ms: support::now_ms() + 60_000,
                action: Action::Bridge(action),
            }
            .sign(key)
        })
        .collect();
    let r = b.http.submit("center", &txs, true).unwrap();
    assert!(
        r.results.iter().all(|r| r.error.is_none()),
        "{:?}",
        r.results
    );
    b.wait_for("the releases", |h| {
        (0..3).all(|n| withdrawal(h, n)["status"] == "released")
    });
    // Pages, newest first: everyone's by number, one customer's by their own.
    let numbers = |q: &str| -> Vec<u64> {
        let (status, list) = b.http.get(&format!("/v1/bridge/withdrawals{q}"));
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().unwrap().iter();
        list.map(|w| w["number"].as_u64().unwrap()).collect()
    };
    assert_eq!(numbers("?limit=2"), [2, 1]);
    assert_eq!(numbers("?limit=2&before=1"), [0]);
    let bob = customers[1].address();
    assert_eq!(numbers(&format!("?account={bob}")), [1]);
    assert_eq!(
        numbers(&format!("?account={bob}&before=1")),
        Vec::<u64>::new()
    );
    let (status, _) = b.http.get("/v1/bridge/withdrawals?before=x");
    assert_eq!(status, 400, "a malformed page is refused");
    let batches: Vec<Value> = (0..3)
        .map(|n| withdrawal(&b.http, n)["batch"].clone())
        .collect();
    assert_eq!(
        (&batches[0], &batches[2]),
        (&batches[1], &batches[1]),
        "one block, one batch"
    );
    for to in &to {
        assert_eq!(b.main_balance(milk_evm::address::to_alloy(to)), 11 * MLK);
    }
    assert_supply_spans_both_chains(&b);
}

/// What the node inventing a release knows of the center chain's withdrawal 0: its id and
/// its batch's root, once sealed.
type Sealed = std::sync::Arc<std::sync::Mutex<Option<(String, String)>>>;

/// A node which holds `sealed`'s root as posted, says withdrawal 0 is released, and shows a
/// release of it, in block 5 (once the head is 1,000), paying 999 MLK instead.
fn inventing_a_release(vault: MainAddress, sealed: Sealed) -> String {
    let released = topic("Released(bytes32,address,uint256)");
    let (roots, is_released) = (topic("roots(uint64)"), topic("released(bytes32)"));
    lying_node(move |method, params| {
        let Some((id, root)) = sealed.lock().unwrap().clone() else {
            // Until the test knows the batch, the chain is three blocks long.
            return (method == "eth_blockNumber").then(|| json!("0x3"));
        };
        let call = params["input"].as_str().or(params["data"].as_str());
        let selector = call.unwrap_or_default().get(..10).unwrap_or_default();
        match method {
            "eth_call" if selector == &roots[..10] => Some(json!(root)),
            "eth_call" if selector == &is_released[..10] => Some(json!(word(&[1]))),
            "eth_getLogs" if asked_topic(params) == released => {
                let topics = vec![released.clone(), id, word(&[7; 20])];
                let log = vault_log(&vault, topics, word(&(999 * MLK).to_be_bytes()));
                Some(json!([log]))
            }
            _ => None,
        }
    })
}

#[test]
fn a_main_chain_node_inventing_a_release_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vault: MainAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        .parse()
        .unwrap();
    let sealed = Sealed::default();
    let liar = inventing_a_release(vault, sealed.clone());
    let (child, http) = node(dir.path(), &liar, &vault, None);
    let _stopping = Stopping(child);
    let to = MainAddress::from_bytes([7; 20]).unwrap();
    withdraw(&http, &demo_key("alice"), to, 20 * MLK);
    let deadline = Instant::now() + Duration::from_secs(30);
    while withdrawal(&http, 0)["status"] != "sealed" {
        assert!(Instant::now() < deadline, "never sealed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let w = withdrawal(&http, 0);
    let id = w["id"].as_str().unwrap().to_owned();
    let root = w["proof"]["root"].as_str().unwrap().to_owned();
    *sealed.lock().unwrap() = Some((id, root));
    // Rounds every 30 ms: many see the invented release, and none records it.
    std::thread::sleep(Duration::from_millis(600));
    let w = withdrawal(&http, 0);
    assert_eq!(w["status"], "sealed", "{w}");
    assert_eq!(w["released_tx"], Value::Null);
    let said = http.get("/v1/bridge").1["relayer"]["last_error"].clone();
    assert!(
        said.as_str()
            .unwrap()
            .contains("a release unlike its sealed withdrawal"),
        "{said}"
    );
    assert_eq!(
        http.get("/v1/bridge").1["out_total"],
        (20 * MLK).to_string()
    );
    let (_, supply) = http.get("/v1/supply");
    let mlk = supply
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["asset"] == "MLK");
    assert_eq!(
        mlk.unwrap()["bridged"]["in_transit_out"],
        (20 * MLK).to_string()
    );
}
