//! The node's HTTP API, end to end over loopback: what a wallet or a script sees, including
//! every kind of bad input, each with its own code and nothing applied.

mod support;

use milk_core::chain::Verifier;
use milk_core::genesis::demo_key;
use milk_core::merkle::Proof;
use milk_core::tx::TokenAction;
use milk_core::tx::{Action, Transaction};
use milk_core::{Address, Amount, ChainId, Hash};
use milkd::{ManualClock, NodeConfig, Spawned};
use std::sync::Arc;
use support::{Http, account, transfer};

const NOW: u64 = 1_900_000_000_000;
const LATER: u64 = NOW + 60_000;

fn start(dir: &std::path::Path, clock: &ManualClock) -> (Spawned, Http) {
    let (g, k) = support::write_genesis(dir, &support::genesis(4));
    let mut config = NodeConfig::new(dir.join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.genesis = Some(g);
    config.producer_key = Some(k);
    config.max_body_bytes = 1024 * 1024;
    support::write_credentials(&config.data_dir);
    let node = milkd::spawn(config, Arc::new(clock.clone())).unwrap();
    let http = Http::new(&node.url()).with_token(support::OPERATOR_TOKEN);
    (node, http)
}

fn code(r: &milkd::api::SubmitResult) -> &str {
    r.error
        .as_ref()
        .map_or(r.status.as_str(), |e| e.code.as_str())
}

fn supply(http: &Http, chain: &str, asset: &str) -> String {
    let (_, v) = http.get(&format!("/v1/chains/{chain}"));
    v["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["symbol"] == asset)
        .unwrap()["supply"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_transfer_commits_with_a_verifiable_proof() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let (_node, http) = start(dir.path(), &clock);
    let (a, b) = (account(0), account(1));
    let before = http.account(&b.address(), "center", "MLK").0;
    let mlk_supply = supply(&http, "center", "MLK");

    let tx = transfer(&a, b.address(), 1_250_000_000, 0, LATER);
    let r = &http
        .submit("center", std::slice::from_ref(&tx), true)
        .unwrap()
        .results[0];
    assert_eq!(r.status, "committed", "{r:?}");
    assert_eq!(r.id.as_deref(), Some(tx.tx.id().to_hex().as_str()));
    assert_eq!(
        http.account(&b.address(), "center", "MLK").0,
        before + 1_250_000_000
    );
    assert_eq!(http.account(&a.address(), "center", "MLK").1, 1);
    assert_eq!(supply(&http, "center", "MLK"), mlk_supply);

    // The status carries a Merkle proof that checks out against the block's root.
    let (status, v) = http.get(&format!("/v1/chains/center/txs/{}", tx.tx.id()));
    assert_eq!(status, 200);
    assert_eq!(v["status"], "committed");
    let p = &v["proof"];
    let proof = Proof {
        index: p["index"].as_u64().unwrap(),
        leaf_count: p["leaf_count"].as_u64().unwrap(),
        siblings: p["siblings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| Hash::from_hex(s.as_str().unwrap()).unwrap())
            .collect(),
    };
    let leaf = milk_core::block::leaf_of(&tx);
    let (_, block) = http.get(&format!("/v1/chains/center/blocks/{}", v["height"]));
    let root = Hash::from_hex(block["tx_root"].as_str().unwrap()).unwrap();
    assert!(proof.verify(&leaf, &root));
    assert_eq!(
        block["txs"][p["index"].as_u64().unwrap() as usize]["id"],
        tx.tx.id().to_hex()
    );

    // The raw blocks replay from genesis to the same head.
    let (_, genesis) = http.get("/v1/genesis");
    let genesis: milk_core::genesis::Genesis = serde_json::from_value(genesis).unwrap();
    let (status, raw) = http.get_bytes("/v1/chains/center/raw-blocks?from=0&limit=100");
    assert_eq!(status, 200);
    let blocks = milkd::api::decode_raw_blocks(&raw).unwrap();
    let mut v = Verifier::start(&genesis, &ChainId::center(), &blocks[0]).unwrap();
    for b in &blocks[1..] {
        v.apply(b).unwrap();
    }
    assert_eq!(v.head().hash().to_hex(), block["hash"].as_str().unwrap());
}

#[test]
fn every_bad_input_gets_its_own_code_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let (_node, http) = start(dir.path(), &clock);
    let (a, b) = (account(0), account(1));
    let committed = transfer(&a, b.address(), 5, 0, LATER);
    assert_eq!(
        http.submit("center", std::slice::from_ref(&committed), true)
            .unwrap()
            .results[0]
            .status,
        "committed"
    );

    let state = |http: &Http| {
        (
            http.account(&a.address(), "center", "MLK"),
            http.account(&b.address(), "center", "MLK"),
            supply(http, "center", "MLK"),
            supply(http, "skyway", "SKY"),
            http.get("/health").1["chains"].clone(),
        )
    };
    let before = state(&http);

    let mut identity = [0u8; 32];
    identity[0] = 1;
    // Only decoding yields such an address: text and `from_bytes` refuse it.
    let invalid_address: Address = {
        use milk_core::codec::Decode;
        Address::from_bytes(identity).unwrap_err();
        Address::decode(&mut milk_core::codec::Reader::new(&identity)).unwrap()
    };
    let mut bad_sig = transfer(&a, b.address(), 5, 1, LATER);
    bad_sig.signature.0[10] ^= 1;
    let issuer = demo_key("partner:skyway");
    let on = |chain: &str, from: &milk_core::Keypair, seq: u64, action: Action| {
        Transaction {
            chain: chain.parse().unwrap(),
            sender: from.address(),
            sequence: seq,
            expires_at_ms: LATER,
            action,
        }
        .sign(from)
    };
    let sky = |amount: u128, to: Address| {
        Action::Token(TokenAction::Mint {
            to,
            asset: "SKY".parse().unwrap(),
            amount: Amount::new(amount),
        })
    };

    let cases: Vec<(&str, milk_core::tx::SignedTransaction, &str)> = vec![
        ("center", committed.clone(), "already_committed"),
        (
            "center",
            on(
                "skyway",
                &a,
                0,
                Action::Token(TokenAction::Burn {
                    asset: "SKY".parse().unwrap(),
                    amount: Amount::new(1),
                }),
            ),
            "wrong_chain",
        ),
        (
            "skyway",
            transfer(&a, b.address(), 5, 1, LATER),
            "wrong_chain",
        ),
        ("center", transfer(&a, b.address(), 5, 1, NOW), "expired"),
        (
            "center",
            transfer(&a, b.address(), 5, 1, NOW + 2 * 86_400_000),
            "expiry_too_far",
        ),
        ("center", bad_sig, "bad_signature"),
        (
            "center",
            transfer(&a, b.address(), 6, 0, LATER),
            "sequence_used",
        ),
        (
            "center",
            transfer(&a, b.address(), 5, 5_000, LATER),
            "sequence_gap",
        ),
        (
            "center",
            transfer(&a, b.address(), u128::MAX, 1, LATER),
            "insufficient_balance",
        ),
        (
            "center",
            transfer(&a, b.address(), 0, 1, LATER),
            "zero_amount",
        ),
        (
            "center",
            transfer(&a, invalid_address, 5, 1, LATER),
            "invalid_address",
        ),
        (
            "skyway",
            on("skyway", &issuer, 0, sky(u128::MAX, a.address())),
            "overflow",
        ),
        (
            "skyway",
            on("skyway", &a, 0, sky(1, a.address())),
            "not_issuer",
        ),
        (
            "skyway",
            on(
                "skyway",
                &a,
                0,
                Action::Token(TokenAction::Burn {
                    asset: "LZM".parse().unwrap(),
                    amount: Amount::new(1),
                }),
            ),
            "unknown_asset",
        ),
    ];
    for (chain, tx, expected) in &cases {
        let resp = http.submit(chain, std::slice::from_ref(tx), true).unwrap();
        assert_eq!(code(&resp.results[0]), *expected, "{tx:?}");
    }

    // Malformed requests.
    let garbage = milkd::api::encode_batch(std::iter::empty());
    let mut framed = garbage.clone();
    framed.extend_from_slice(&3u32.to_be_bytes());
    framed.extend_from_slice(b"abc");
    let (status, v) = http.post("/v1/chains/center/txs", "application/octet-stream", &framed);
    assert_eq!(
        (status, v["results"][0]["error"]["code"].as_str()),
        (200, Some("malformed_tx"))
    );
    let (status, v) = http.post(
        "/v1/chains/center/txs",
        "application/octet-stream",
        &[0, 0, 0, 9, 1],
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("malformed_body"))
    );
    let (status, v) = http.post("/v1/chains/center/txs", "application/json", b"{\"txs\": 5}");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (status, v) = http.post(
        "/v1/chains/center/txs",
        "application/json",
        b"{\"txs\": []}",
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("empty_batch"))
    );
    let (status, v) = http.post(
        "/v1/chains/center/txs",
        "application/json",
        b"{\"txs\": [\"zz\"]}",
    );
    assert_eq!(
        (status, v["results"][0]["error"]["code"].as_str()),
        (200, Some("malformed_tx"))
    );
    // The node answers an oversized body from its header, before reading it.
    let answer = raw_request(
        &http.base,
        "POST /v1/chains/center/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n",
        2 * 1024 * 1024,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"body_too_large\""), "{answer}");
    let (status, v) = http.post(
        "/v1/chains/nowhere/txs",
        "application/json",
        b"{\"txs\": []}",
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (404, Some("unknown_chain"))
    );
    for (path, status_code, code) in [
        ("/v1/chains/Bad!", 400, "malformed_chain_id"),
        ("/v1/accounts/milk1nope", 400, "malformed_address"),
        ("/v1/chains/center/txs/xyz", 400, "malformed_tx_id"),
        (
            &format!("/v1/chains/center/txs/{}", Hash::ZERO)[..],
            404,
            "unknown_tx",
        ),
        ("/v1/chains/center/blocks/999999", 404, "unknown_block"),
        ("/v1/chains/center/blocks/x", 400, "malformed_height"),
        ("/v1/chains/center/blocks?limit=abc", 400, "malformed_query"),
        ("/v2/nothing", 404, "not_found"),
    ] {
        let (status, v) = http.get(path);
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (status_code, Some(code)),
            "{path}"
        );
    }

    // A method an endpoint does not take: the same JSON error, not an empty 405.
    let (status, v) = http.request("DELETE", "/v1/chains", None, None);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );

    // A rejected transaction's status says why.
    let (_, v) = http.get(&format!("/v1/chains/center/txs/{}", cases[8].1.tx.id()));
    assert_eq!(v["status"], "rejected");
    assert_eq!(v["error"]["code"], "insufficient_balance");

    assert_eq!(state(&http), before, "a refused request changed state");
}

#[test]
fn transactions_sent_out_of_order_wait_for_their_predecessor() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let (_node, http) = start(dir.path(), &clock);
    let (a, b) = (account(2), account(3));
    let second = transfer(&a, b.address(), 2, 1, LATER);
    let r = http
        .submit("center", std::slice::from_ref(&second), false)
        .unwrap();
    assert_eq!(r.results[0].status, "pending");
    let (_, v) = http.get(&format!("/v1/chains/center/txs/{}", second.tx.id()));
    assert_eq!(v["status"], "pending");
    let first = transfer(&a, b.address(), 1, 0, LATER);
    let r = http
        .submit("center", std::slice::from_ref(&first), true)
        .unwrap();
    assert_eq!(r.results[0].status, "committed");
    // The second follows in the same or the next block.
    let mut committed = false;
    for _ in 0..200 {
        if http
            .get(&format!("/v1/chains/center/txs/{}", second.tx.id()))
            .1["status"]
            == "committed"
        {
            committed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(committed);
    assert_eq!(http.account(&a.address(), "center", "MLK").1, 2);
}

#[test]
fn graceful_shutdown_commits_what_was_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let (node, http) = start(dir.path(), &clock);
    let txs: Vec<_> = (0..50)
        .map(|s| transfer(&account(0), account(1).address(), 1, s, LATER))
        .collect();
    let r = http.submit("center", &txs, false).unwrap();
    assert!(
        r.results
            .iter()
            .all(|r| r.status == "pending" || r.status == "committed")
    );
    node.stop().unwrap();
    let (_node, http) = start(dir.path(), &clock);
    for t in &txs {
        assert_eq!(
            http.get(&format!("/v1/chains/center/txs/{}", t.tx.id())).1["status"],
            "committed"
        );
    }
}

#[test]
fn service_endpoints_answer() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let (_node, http) = start(dir.path(), &clock);
    http.submit(
        "center",
        &[transfer(&account(0), account(1).address(), 1, 0, LATER)],
        true,
    )
    .unwrap();
    let (status, v) = http.get("/health");
    assert_eq!((status, v["status"].as_str()), (200, Some("ok")));
    assert_eq!(v["chains"].as_array().unwrap().len(), 4);
    let (status, doc) = http.get("/openapi.json");
    assert_eq!(status, 200);
    for path in [
        "/v1/chains/{chain}/txs",
        "/v1/chains/{chain}/txs/{id}",
        "/v1/accounts/{address}",
        "/health",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} undocumented");
    }
    let (status, metrics) = http.get_bytes("/metrics");
    assert_eq!(status, 200);
    let text = String::from_utf8(metrics).unwrap();
    assert!(
        text.contains("milk_txs_committed_total{chain=\"center\"} 1"),
        "{text}"
    );
    let (_, blocks) = http.get("/v1/chains/center/blocks");
    assert_eq!(blocks.as_array().unwrap().len(), 2);
    assert_eq!(blocks[1]["height"], 1);
}

/// Sends a hand-written request and reads the whole answer.
fn raw_request(base: &str, request: &str, body_len: usize) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    // The node may answer and close before the body is all sent: that is the point.
    let _ = stream.write_all(&vec![0u8; body_len]);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Found by the `requests` fuzz target: JSON can say an action its canonical encoding cannot
/// carry (here a reason longer than a memo). Signed by the node, it would make a block that
/// no replica and no verifier could read. It is refused before anything is signed, and every
/// block still reads.
#[test]
fn an_operator_action_its_encoding_cannot_carry_is_refused_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let http = Http::new(&node.url());
    let floor = |reason: String| {
        let action =
            milk_core::tx::Action::Membership(milk_core::tx::MembershipAction::SetLevelFloor {
                user: demo_key("alice").address(),
                level: 1,
                reason,
            });
        serde_json::json!({ "action": action }).to_string()
    };
    let auth = Some("Bearer demo-operator-token");
    let path = "/v1/operator/actions";
    let (status, v) = http.request("POST", path, Some(floor("x".repeat(500))), auth);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("malformed_action")),
        "{v}"
    );
    let (status, v) = http.request("POST", path, Some(floor("partner event host".into())), auth);
    assert_eq!(
        (status, v["status"].as_str()),
        (200, Some("committed")),
        "{v}"
    );
    let blocks = http.all_blocks(&milk_core::ChainId::center());
    assert!(blocks.len() > 1);
}
