//! Privacy of brand chains: every read endpoint, as every kind of caller. A brand chain is
//! readable by its partner, TICA and its auditors; a customer sees their own account and
//! transactions; another partner gets 403 and an anonymous caller 401, supply included.

mod support;

use milk_core::brand::DAY_MS;
use milk_core::genesis::demo_key;
use milk_core::tx::{Action, Transaction};
use milk_core::tx::{BrandAction, TokenAction};
use milk_core::{Amount, Keypair};
use milkd::auth::{ACCOUNT_HEADER, EXPIRES_HEADER, SIGNATURE_HEADER, read_message};
use milkd::{ManualClock, NodeConfig};
use serde_json::json;
use std::sync::Arc;
use support::Http;

const NOW: u64 = 1_900_000_000_000;

/// The headers of a read signed by `key` (an `Authorization`-free request).
fn signed(http: &Http, path: &str, key: &Keypair, expires: u64) -> (u16, serde_json::Value) {
    let sig = key.sign(&read_message(&key.address(), expires).0);
    http.request_with(
        path,
        &[
            (ACCOUNT_HEADER, key.address().to_string()),
            (EXPIRES_HEADER, expires.to_string()),
            (SIGNATURE_HEADER, hex::encode(sig.0)),
        ],
    )
}

/// A demo node at a fixed time, in its own directory, and a client of it.
fn demo_node() -> (tempfile::TempDir, milkd::Spawned, Http) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let http = Http::new(&node.url());
    (dir, node, http)
}

#[test]
fn brand_chains_are_private_to_their_partner_tica_auditors_and_each_customer() {
    let (_dir, _node, http) = demo_node();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let (transfer, carol_tx) = skyway_activity(&http);

    // Every chain-wide read of skyway, as each credential.
    let reads = [
        "/v1/chains/skyway".to_owned(),
        "/v1/chains/skyway/blocks".to_owned(),
        "/v1/chains/skyway/blocks/1".to_owned(),
        "/v1/chains/skyway/raw-blocks?from=0".to_owned(),
        format!("/v1/chains/skyway/txs/{}", carol_tx.tx.id()),
        "/v1/partners/skyway/supply".to_owned(),
        "/v1/partners/skyway/conversions/R-1".to_owned(),
        "/v1/partners/skyway/redemptions/O-1".to_owned(),
        "/v1/partners/skyway/events".to_owned(),
        "/v1/partners/skyway/expiring?within_days=30".to_owned(),
    ];
    let as_token = |path: &str, token: Option<&str>| {
        let auth = token.map(|t| format!("Bearer {t}"));
        http.request("GET", path, None, auth.as_deref())
    };
    for path in &reads {
        for (token, expected) in [
            (None, 401),
            (Some("demo-cinema-token"), 403),
            (Some("demo-cinema-auditor-token"), 403),
            (Some("demo-skyway-token"), 200),
            (Some("demo-skyway-auditor-token"), 200),
            (Some("demo-operator-token"), 200),
        ] {
            let (status, body) = as_token(path, token);
            assert_eq!(status, expected, "{path} as {token:?}: {body}");
        }
        // A customer, identified by signature, is not the chain's reader either.
        let (status, _) = signed(&http, path, &alice, NOW + 60_000);
        assert_eq!(status, 403, "{path} as a signed customer");
    }
    // Who reads the chain and where its events go are the partner's and TICA's only.
    for path in [
        "/v1/partners/skyway/auditors",
        "/v1/partners/skyway/webhooks",
    ] {
        for (token, expected) in [
            (None, 401),
            (Some("demo-cinema-token"), 403),
            (Some("demo-skyway-auditor-token"), 403),
            (Some("demo-skyway-token"), 200),
            (Some("demo-operator-token"), 200),
        ] {
            let (status, body) = as_token(path, token);
            assert_eq!(status, expected, "{path} as {token:?}: {body}");
        }
    }

    // Lists show that skyway exists, but not its supply or head, to those who may not read it.
    let skyway_entry = |token: Option<&str>| {
        let (_, chains) = as_token("/v1/chains", token);
        chains
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "skyway")
            .unwrap()
            .clone()
    };
    for token in [None, Some("demo-cinema-token")] {
        let e = skyway_entry(token);
        assert!(
            e["head"].is_null() && e["assets"][0]["supply"].is_null(),
            "{e}"
        );
    }
    assert!(
        skyway_entry(Some("demo-skyway-token"))["head"]["height"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let (_, health) = as_token("/health", None);
    assert!(
        health["chains"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["chain"] == "center"),
        "{health}"
    );
    let (_, genesis) = as_token("/v1/genesis", Some("demo-cinema-token"));
    let allocations = |g: &serde_json::Value, id: &str| {
        g["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["allocations"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        (
            allocations(&genesis, "skyway"),
            allocations(&genesis, "cinema") > 0
        ),
        (0, true)
    );
    let (status, _) = as_token("/metrics", Some("demo-skyway-token"));
    assert_eq!(status, 403);
    let (status, _) = as_token("/metrics", Some("demo-operator-token"));
    assert_eq!(status, 200);

    // Accounts: the center chain for anyone, a brand chain for its readers and the owner.
    let chains_of = |(status, v): (u16, serde_json::Value)| {
        assert_eq!(status, 200, "{v}");
        v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["chain"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let alice_path = format!("/v1/accounts/{}", alice.address());
    assert_eq!(chains_of(as_token(&alice_path, None)), ["center"]);
    assert_eq!(
        chains_of(as_token(&alice_path, Some("demo-cinema-token"))),
        ["center", "cinema"]
    );
    assert_eq!(
        chains_of(signed(&http, &alice_path, &alice, NOW + 60_000)),
        ["center", "cinema", "dailymart", "skyway"]
    );
    // Bob's signature does not open alice's account.
    assert_eq!(
        chains_of(signed(&http, &alice_path, &bob, NOW + 60_000)),
        ["center"]
    );

    // A customer's expiring points: theirs, and the readers' of each chain.
    let lots_path = format!("/v1/accounts/{}/expiring", alice.address());
    let (status, own) = signed(&http, &lots_path, &alice, NOW + 60_000);
    assert_eq!(status, 200, "{own}");
    let own = own.as_array().unwrap().clone();
    let three_years = NOW / DAY_MS * DAY_MS + 3 * 365 * DAY_MS;
    assert!(
        !own.is_empty()
            && own.iter().all(|l| l["chain"] == "skyway"
                && l["asset"] == "SKY"
                && l["expires_at_ms"] == three_years
                && l["expired"] == false),
        "{own:?}"
    );
    assert_eq!(
        as_token(&lots_path, Some("demo-skyway-token")).1,
        json!(own)
    );
    assert_eq!(as_token(&lots_path, Some("demo-cinema-token")).1, json!([]));
    assert_eq!(as_token(&lots_path, None).0, 401);
    assert_eq!(signed(&http, &lots_path, &bob, NOW + 60_000).0, 403);

    // A customer sees their own committed transactions (sent or received), no one else's.
    let own = format!("/v1/chains/skyway/txs/{}", transfer.tx.id());
    assert_eq!(signed(&http, &own, &alice, NOW + 60_000).0, 200);
    assert_eq!(signed(&http, &own, &bob, NOW + 60_000).0, 200);
    assert_eq!(
        signed(
            &http,
            &format!("/v1/chains/skyway/txs/{}", carol_tx.tx.id()),
            &alice,
            NOW + 60_000
        )
        .0,
        403
    );

    // Signed reads must be fresh and really signed by the account.
    let (status, v) = signed(&http, &alice_path, &alice, NOW);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (401, Some("read_signature_expired"))
    );
    let (status, v) = signed(&http, &alice_path, &alice, NOW + 10 * 60_000);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (401, Some("read_signature_expired"))
    );
    let forged = bob.sign(&read_message(&alice.address(), NOW + 60_000).0);
    let (status, v) = http.request_with(
        &alice_path,
        &[
            (ACCOUNT_HEADER, alice.address().to_string()),
            (EXPIRES_HEADER, (NOW + 60_000).to_string()),
            (SIGNATURE_HEADER, hex::encode(forged.0)),
        ],
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (401, Some("bad_read_signature"))
    );

    // Auditors read but never submit.
    let (status, v) = http.request(
        "POST",
        "/v1/partners/skyway/conversions",
        Some("{}".into()),
        Some("Bearer demo-skyway-auditor-token"),
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}

/// Some activity on skyway: alice links, has 50 miles converted, redeems 100 base units and
/// sends bob 1; then carol sends bob 1. Returns alice's transfer and carol's.
fn skyway_activity(
    http: &Http,
) -> (
    milk_core::tx::SignedTransaction,
    milk_core::tx::SignedTransaction,
) {
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let issuer = demo_key("partner:skyway");

    let tx = |key: &Keypair, seq: u64, action: Action| {
        Transaction {
            chain: "skyway".parse().unwrap(),
            sender: key.address(),
            sequence: seq,
            expires_at_ms: NOW + 60_000,
            action,
        }
        .sign(key)
    };
    let transfer = tx(
        &alice,
        2,
        Action::Token(TokenAction::Transfer {
            to: bob.address(),
            asset: "SKY".parse().unwrap(),
            amount: Amount::new(1),
            memo: String::new(),
        }),
    );
    let txs = vec![
        support::demo_link("skyway", &alice, "M-1", NOW),
        tx(
            &issuer,
            0,
            Action::Brand(BrandAction::Convert {
                to: alice.address(),
                mileage: 50,
                reference: "R-1".into(),
            }),
        ),
        tx(
            &alice,
            1,
            Action::Brand(BrandAction::Redeem {
                amount: Amount::new(100),
                order_id: "O-1".into(),
            }),
        ),
        transfer.clone(),
    ];
    let r = http.submit("skyway", &txs, true).unwrap();
    assert!(
        r.results.iter().all(|r| r.status == "committed"),
        "{:?}",
        r.results
    );
    let carol_tx = tx(
        &demo_key("carol"),
        0,
        Action::Token(TokenAction::Transfer {
            to: bob.address(),
            asset: "SKY".parse().unwrap(),
            amount: Amount::new(1),
            memo: String::new(),
        }),
    );
    assert_eq!(
        http.submit("skyway", std::slice::from_ref(&carol_tx), true)
            .unwrap()
            .results[0]
            .status,
        "committed"
    );
    (transfer, carol_tx)
}

/// Each account's history: every transaction that concerned it with its own balance changes,
/// newest first, paged per chain; on a brand chain for the account itself, its partner and
/// TICA, never another partner or an anonymous caller.
#[test]
fn a_customer_reads_their_own_history_and_nobody_else_does() {
    let (_dir, _node, http) = demo_node();
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let (transfer, carol_tx) = skyway_activity(&http);
    let path =
        |who: &Keypair, query: &str| format!("/v1/accounts/{}/history{query}", who.address());

    let (status, mine) = signed(&http, &path(&alice, "?chain=skyway"), &alice, NOW + 60_000);
    assert_eq!(status, 200, "{mine}");
    let lines = mine["lines"].as_array().unwrap();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 4, "{mine}");
    for kind in ["link", "convert", "redeem", "transfer"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let sent = lines
        .iter()
        .find(|l| l["tx"] == transfer.tx.id().to_hex())
        .unwrap();
    assert_eq!(
        sent["changes"],
        serde_json::json!([{"asset": "SKY", "direction": "out", "amount": "1",
            "decimals": 2, "display": "0.01"}])
    );
    let line = |kind: &str| lines.iter().find(|l| l["type"] == kind).unwrap();
    assert_eq!(line("link")["changes"], serde_json::json!([]));
    assert_eq!(line("convert")["changes"][0]["direction"], "in");
    assert_eq!(line("redeem")["changes"][0]["amount"], "100");

    // bob received two transfers: read by the partner a page at a time, newest first.
    let skyway = Some("Bearer demo-skyway-token");
    let (status, first) = http.request("GET", &path(&bob, "?chain=skyway&limit=1"), None, skyway);
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["lines"][0]["tx"], carol_tx.tx.id().to_hex());
    let next = first["next"].as_str().unwrap();
    let (_, second) = http.request(
        "GET",
        &path(&bob, &format!("?chain=skyway&limit=1&before={next}")),
        None,
        skyway,
    );
    assert_eq!(second["lines"][0]["tx"], transfer.tx.id().to_hex());
    assert_eq!(second["lines"][0]["changes"][0]["direction"], "in");

    // Nobody else reads a brand chain's history; without `chain`, they get the public lines.
    for (auth, expected) in [(None, 401), (Some("Bearer demo-cinema-token"), 403)] {
        let (status, body) = http.request("GET", &path(&bob, "?chain=skyway"), None, auth);
        assert_eq!(status, expected, "{body}");
        let (status, all) = http.request("GET", &path(&bob, ""), None, auth);
        assert_eq!(status, 200, "{all}");
        assert!(
            all["lines"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["chain"] == "center"),
            "{all}"
        );
    }
    for (query, code) in [
        ("?before=1:0", "before_needs_chain"),
        ("?chain=skyway&before=x", "malformed_before"),
    ] {
        let (status, body) = http.request("GET", &path(&bob, query), None, skyway);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
}

/// What ties a wallet to a partner stays off the public center chain: bob's consent to the
/// cinema and the cinema's read of his data live on the cinema's own chain, alice's linking
/// reward names no partner, and anchors show no brand chain's height or block hash. Every
/// public read, every center-chain block included, is walked for a trace of them.
#[test]
fn nobody_else_learns_that_a_wallet_shares_data_with_a_partner() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.anchor_interval = std::time::Duration::from_millis(20);
    let _node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let http = Http::new(&_node.url());
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let consent = Transaction {
        chain: "cinema".parse().unwrap(),
        sender: bob.address(),
        sequence: 0,
        expires_at_ms: NOW + 60_000,
        action: Action::Brand(BrandAction::GrantConsent {
            chain: "cinema".parse().unwrap(),
            purpose: "VIP screenings".into(),
            items: vec!["level".into()],
            retention_days: 30,
        }),
    }
    .sign(&bob);
    let r = http.submit("cinema", &[consent], true).unwrap();
    assert_eq!(r.results[0].status, "committed", "{:?}", r.results);
    let cinema = Some("Bearer demo-cinema-token");
    let (status, segment) = http.request("GET", "/v1/partners/cinema/segment", None, cinema);
    assert_eq!(
        (status, segment.as_array().map(Vec::len)),
        (200, Some(1)),
        "{segment}"
    );
    skyway_activity(&http);
    link_through_the_partner(&http, &alice);
    coupon_through_the_partner(&http, &alice);
    link_rewarded_and_anchored(&http, &alice);

    // bob's own signed read shows his consent and the read; nobody else's does.
    let member = format!("/v1/members/{}", bob.address());
    let (_, mine) = signed(&http, &member, &bob, NOW + 60_000);
    assert_eq!(mine["consents"][0]["chain"], "cinema", "{mine}");
    assert_eq!(
        mine["access_log"].as_array().map(Vec::len),
        Some(1),
        "{mine}"
    );
    let (_, as_alice) = signed(&http, &member, &alice, NOW + 60_000);
    for auth in [
        None,
        Some("Bearer demo-cinema-token"),
        Some("Bearer demo-skyway-token"),
    ] {
        let (status, view) = http.request("GET", &member, None, auth);
        assert_eq!(status, 200, "{view}");
        for v in [&view, &as_alice] {
            assert!(
                v.get("consents").is_none() && v.get("access_log").is_none(),
                "{v}"
            );
        }
    }
    let (_, as_tica) = http.request("GET", &member, None, Some("Bearer demo-operator-token"));
    assert_eq!(
        as_tica["consents"][0]["purpose"], "VIP screenings",
        "{as_tica}"
    );
    walk_public_reads(&http, &alice, &bob);
}

/// alice links her wallet to the cinema through the partner's API, which pays her linking
/// reward on the center chain.
fn link_through_the_partner(http: &Http, alice: &Keypair) {
    let link = support::demo_link("cinema", alice, "CINE-7", NOW);
    let body = serde_json::json!({ "tx": milkd::brand::tx_hex(&link) }).to_string();
    let cinema = Some("Bearer demo-cinema-token");
    let (status, r) = http.request("POST", "/v1/partners/cinema/links", Some(body), cinema);
    assert_eq!(status, 200, "{r}");
}

/// The cinema reports alice's coupon payment on its own chain through its API, which credits
/// her LZM on the center chain.
fn coupon_through_the_partner(http: &Http, alice: &Keypair) {
    let issuer = demo_key("partner:cinema");
    let report = Transaction {
        chain: "cinema".parse().unwrap(),
        sender: issuer.address(),
        sequence: 0,
        expires_at_ms: NOW + 60_000,
        action: Action::Brand(BrandAction::ReportCoupon {
            user: alice.address(),
            krw: 50_000,
            coupon_id: "POPCORN-77".into(),
        }),
    }
    .sign(&issuer);
    let body = serde_json::json!({ "tx": milkd::brand::tx_hex(&report) }).to_string();
    let cinema = Some("Bearer demo-cinema-token");
    let (status, r) = http.request("POST", "/v1/partners/cinema/coupons", Some(body), cinema);
    assert_eq!(status, 200, "{r}");
    assert_ne!(r["lzm_credited"], "0", "{r}");
}

/// Waits until alice's linking reward is paid on the center chain and skyway's head is
/// anchored there.
fn link_rewarded_and_anchored(http: &Http, alice: &Keypair) {
    let path = format!("/v1/accounts/{}/history", alice.address());
    for _ in 0..200 {
        let (_, history) = http.get(&path);
        let lines = history["lines"].as_array().unwrap();
        let rewarded = lines.iter().any(|l| l["type"] == "reward_link");
        let (_, anchors) = http.get("/v1/anchors/skyway");
        if rewarded && anchors.as_array().is_some_and(|a| !a.is_empty()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("the linking reward or skyway's anchor never committed");
}

/// Every public read of the center chain, as an anonymous caller: no consent, no read of
/// bob's data, no linking reward naming a partner, no brand chain's height or block hash.
fn walk_public_reads(http: &Http, alice: &Keypair, bob: &Keypair) {
    let (_, chains) = http.get("/v1/chains");
    let center = (chains.as_array().unwrap().iter())
        .find(|c| c["id"] == "center")
        .unwrap()
        .clone();
    let head = center["head"]["height"].as_u64().unwrap();
    let (_, skyway) = http.request(
        "GET",
        "/v1/chains/skyway",
        None,
        Some("Bearer demo-operator-token"),
    );
    let skyway_head = skyway["head"]["hash"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    for height in 0..=head {
        let (status, block) = http.get(&format!("/v1/chains/center/blocks/{height}"));
        assert_eq!(status, 200, "{block}");
        seen.push(block);
    }
    let (_, anchors) = http.get("/v1/anchors/skyway");
    let (_, history) = http.get(&format!("/v1/accounts/{}/history", bob.address()));
    let (_, alliance) = http.get("/v1/alliance");
    let (_, offers) = http.get("/v1/offers");
    let (_, supply) = http.get("/v1/supply");
    seen.extend([anchors.clone(), history, alliance, offers, supply, chains]);
    for path in [
        format!("/v1/accounts/{}", bob.address()),
        format!("/v1/accounts/{}", alice.address()),
        "/health".to_owned(),
        "/v1/markets".to_owned(),
    ] {
        let (status, body) = http.get(&path);
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body);
    }
    let text = serde_json::to_string(&seen).unwrap();
    for kind in [
        "grant_consent",
        "log_access",
        "VIP screenings",
        "report_coupon",
        "POPCORN-77",
    ] {
        assert!(!text.contains(kind), "{kind} is public");
    }
    assert!(!text.contains(&skyway_head), "skyway's head hash is public");
    let rewards: Vec<&serde_json::Value> = (seen.iter())
        .filter_map(|b| b["txs"].as_array())
        .flatten()
        .filter(|t| t.to_string().contains("reward_link"))
        .collect();
    assert_eq!(
        rewards.len(),
        1,
        "alice's linking reward is on the center chain"
    );
    assert!(
        rewards[0]
            .to_string()
            .contains(&alice.address().to_string())
    );
    for partner in ["skyway", "cinema"] {
        assert!(!rewards[0].to_string().contains(partner), "{}", rewards[0]);
    }
    // The coupon's LZM is credited by TICA, naming neither the cinema nor the coupon.
    let credits: Vec<&serde_json::Value> = (seen.iter())
        .filter_map(|b| b["txs"].as_array())
        .flatten()
        .filter(|t| t.to_string().contains("credit_coupon"))
        .collect();
    assert_eq!(
        credits.len(),
        1,
        "alice's coupon credit is on the center chain"
    );
    assert!(!credits[0].to_string().contains("cinema"), "{}", credits[0]);
    let anchor = &anchors[0];
    assert!(
        anchor.get("height").is_none() && anchor["seal"].is_string(),
        "{anchor}"
    );
    // bob is in the public reads walked (his account), and in no center-chain block.
    let bob = bob.address().to_string();
    assert!(text.contains(&bob));
    assert!(
        seen[1..=head as usize]
            .iter()
            .all(|b| !b.to_string().contains(&bob))
    );
}
