//! The partner API end to end over loopback HTTP: credentials, links, idempotent
//! conversions, redemptions with receipts, refunds, and the supply report.

mod support;

use milk_core::brand::link_message;
use milk_core::genesis::demo_key;
use milk_core::tx::BrandAction;
use milk_core::tx::{Action, SignedTransaction, Transaction};
use milk_core::{Amount, ChainId, Hash, Keypair};
use milkd::brand::tx_hex;
use milkd::{ManualClock, NodeConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use support::Http;

const NOW: u64 = 1_900_000_000_000;

struct Partner {
    http: Http,
    chain: ChainId,
    token: String,
}

impl Partner {
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("/v1/partners/{}{path}", self.chain);
        let auth = token.map(|t| format!("Bearer {t}"));
        self.http
            .request(method, &url, body.map(|b| b.to_string()), auth.as_deref())
    }

    fn post(&self, path: &str, tx: &SignedTransaction) -> (u16, Value) {
        self.call(
            "POST",
            path,
            Some(json!({ "tx": tx_hex(tx) })),
            Some(&self.token),
        )
    }

    fn sign(&self, key: &Keypair, action: Action) -> SignedTransaction {
        let (_, sequence) = self
            .http
            .account(&key.address(), self.chain.as_str(), "SKY");
        Transaction {
            chain: self.chain.clone(),
            sender: key.address(),
            sequence,
            expires_at_ms: NOW + 60_000,
            action,
        }
        .sign(key)
    }
}

fn customer(id: &str) -> Hash {
    // The partner's salted hash of its own customer id; the salt never leaves the partner.
    Hash::domain("skyway/customer", &[b"partner-secret-salt", id.as_bytes()])
}

#[test]
fn a_partner_links_converts_redeems_and_refunds_through_its_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let p = Partner {
        // Reads of balances as the operator; partner calls carry their own credential.
        http: Http::new(&node.url()).with_token("demo-operator-token"),
        chain: "skyway".parse().unwrap(),
        token: "demo-skyway-token".into(),
    };
    let issuer = demo_key("partner:skyway");
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let balance = |k: &Keypair| p.http.account(&k.address(), "skyway", "SKY").0;

    // Credentials: none, unknown, or another partner's are refused before anything else.
    let (s, v) = p.call("GET", "/supply", None, None);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (s, v) = p.call("GET", "/supply", None, Some("guess"));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (s, v) = p.call("GET", "/supply", None, Some("demo-cinema-token"));
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    let (s, _) = p.call("GET", "/supply", None, Some("demo-operator-token"));
    assert_eq!(s, 200);
    let (s, v) = p.http.request(
        "GET",
        "/v1/partners/center/supply",
        None,
        Some("Bearer demo-operator-token"),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("not_a_partner_chain"))
    );

    // A customer links their wallet: they sign, the partner countersigns the salted hash.
    let hash = customer("SKY-MEMBER-0042");
    let countersign = issuer.sign(&link_message(&p.chain, &alice.address(), &hash).0);
    let link = p.sign(
        &alice,
        Action::Brand(BrandAction::Link {
            customer_hash: hash,
            partner_signature: countersign,
        }),
    );
    let (s, v) = p.post("/links", &link);
    assert_eq!((s, v["status"].as_str()), (200, Some("committed")), "{v}");

    // Converting 500 miles mints 500.00 SKY, once per reference.
    let before = balance(&alice);
    let convert = |mileage: u64, reference: &str, to: &Keypair| {
        p.sign(
            &issuer,
            Action::Brand(BrandAction::Convert {
                to: to.address(),
                mileage,
                reference: reference.into(),
            }),
        )
    };
    let first = convert(500, "SKY-2026-0001", &alice);
    let (s, v) = p.post("/conversions", &first);
    assert_eq!(
        (s, v["amount"].as_str(), v["replayed"].as_bool()),
        (200, Some("50000"), Some(false)),
        "{v}"
    );
    assert_eq!(balance(&alice), before + 50_000);
    // The same request again, and a freshly signed retry: the first result, nothing minted.
    let (s, again) = p.post("/conversions", &first);
    assert_eq!(
        (s, again["replayed"].as_bool(), &again["tx"]),
        (200, Some(true), &v["tx"])
    );
    let (s, retry) = p.post("/conversions", &convert(500, "SKY-2026-0001", &alice));
    assert_eq!(
        (s, retry["replayed"].as_bool(), &retry["tx"]["id"]),
        (200, Some(true), &v["tx"]["id"])
    );
    assert_eq!(balance(&alice), before + 50_000);
    // The same reference for something else is a conflict.
    let (s, e) = p.post("/conversions", &convert(501, "SKY-2026-0001", &alice));
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("reference_conflict"))
    );
    // Chain rules, with their codes.
    let (s, e) = p.post("/conversions", &convert(500, "SKY-2026-0002", &bob));
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("not_linked")));
    let (s, e) = p.post("/conversions", &convert(1, "SKY-2026-0003", &alice));
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("conversion_out_of_range"))
    );
    let (s, e) = p.post(
        "/conversions",
        &p.sign(
            &alice,
            Action::Brand(BrandAction::Convert {
                to: alice.address(),
                mileage: 500,
                reference: "self".into(),
            }),
        ),
    );
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("not_issuer")));
    let (s, c) = p.call("GET", "/conversions/SKY-2026-0001", None, Some(&p.token));
    assert_eq!((s, c["mileage"].as_u64()), (200, Some(500)));
    let (s, e) = p.call("GET", "/conversions/none", None, Some(&p.token));
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("unknown_conversion"))
    );

    // A redemption: signed by the customer, submitted by the partner; a receipt with value.
    let redeem = p.sign(
        &alice,
        Action::Brand(BrandAction::Redeem {
            amount: Amount::new(20_000),
            order_id: "ORDER-77".into(),
        }),
    );
    let (s, r) = p.post("/redemptions", &redeem);
    assert_eq!(
        (s, r["amount"].as_str(), r["value_krw"].as_str()),
        (200, Some("20000"), Some("3000")),
        "{r}"
    );
    assert_eq!(balance(&alice), before + 30_000);
    let (s, e) = p.post(
        "/redemptions",
        &p.sign(
            &alice,
            Action::Brand(BrandAction::Redeem {
                amount: Amount::new(u128::MAX),
                order_id: "ORDER-78".into(),
            }),
        ),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("insufficient_balance"))
    );

    // A refund re-mints it, once.
    let (s, r) = p.post(
        "/refunds",
        &p.sign(
            &issuer,
            Action::Brand(BrandAction::Refund {
                order_id: "ORDER-77".into(),
            }),
        ),
    );
    assert_eq!((s, r["refunded"].as_bool()), (200, Some(true)), "{r}");
    assert_eq!(balance(&alice), before + 50_000);
    let (s, e) = p.post(
        "/refunds",
        &p.sign(
            &issuer,
            Action::Brand(BrandAction::Refund {
                order_id: "ORDER-77".into(),
            }),
        ),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("already_refunded"))
    );
    let (s, r) = p.call("GET", "/redemptions/ORDER-77", None, Some(&p.token));
    assert_eq!((s, r["refunded"].as_bool()), (200, Some(true)));

    // Malformed and misdirected requests.
    let (s, e) = p.post("/conversions", &redeem);
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("wrong_action"))
    );
    let center_tx = support::transfer(&alice, bob.address(), 1, 0, NOW + 60_000);
    let (s, e) = p.post("/redemptions", &center_tx);
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("wrong_chain")));
    let (s, e) = p.call(
        "POST",
        "/conversions",
        Some(json!({"tx": "zz"})),
        Some(&p.token),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("malformed_tx"))
    );
    let (s, e) = p.call(
        "POST",
        "/conversions",
        Some(json!({"nope": 1})),
        Some(&p.token),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );

    // The supply report adds up.
    let (s, r) = p.call("GET", "/supply", None, Some(&p.token));
    assert_eq!(s, 200);
    let n = |k: &str| r[k].as_str().unwrap().parse::<u128>().unwrap();
    assert_eq!(
        (n("issued"), n("redeemed"), n("refunded")),
        (50_000, 20_000, 20_000)
    );
    assert_eq!(n("outstanding"), 101_500_000 + 50_000 - 20_000 + 20_000);
    assert_eq!(n("held_by_tica"), 100_000_000);
    assert_eq!(n("held_by_tica") + n("held_by_customers"), n("outstanding"));

    // The event feed: every committed action in order, resumable from any id.
    let (s, page) = p.call("GET", "/events?limit=1000", None, Some(&p.token));
    assert_eq!(s, 200, "{page}");
    let kinds = |page: &Value| -> Vec<String> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kinds(&page), ["link", "conversion", "redemption", "refund"]);
    let after = page["events"][1]["id"].as_str().unwrap();
    let (_, rest) = p.call(
        "GET",
        &format!("/events?after={after}"),
        None,
        Some(&p.token),
    );
    assert_eq!(kinds(&rest), ["redemption", "refund"]);
    let (_, end) = p.call(
        "GET",
        &format!("/events?after={}", rest["next"].as_str().unwrap()),
        None,
        Some(&p.token),
    );
    assert_eq!((kinds(&end).len(), &end["next"]), (0, &rest["next"]));
    let (s, e) = p.call("GET", "/events?after=banana", None, Some(&p.token));
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("malformed_cursor"))
    );
    let (s, _) = p.call("GET", "/events", None, Some("demo-cinema-token"));
    assert_eq!(s, 403);
}

#[test]
fn a_partner_grants_and_revokes_auditors() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let http = Http::new(&node.url());
    let call = |method: &str, path: &str, token: &str| {
        http.request(method, path, None, Some(&format!("Bearer {token}")))
    };

    let (s, grant) = call("POST", "/v1/partners/skyway/auditors", "demo-skyway-token");
    assert_eq!(s, 201, "{grant}");
    let token = grant["token"].as_str().unwrap().to_owned();
    let id = grant["id"].as_str().unwrap().to_owned();
    // The new auditor reads skyway, and only skyway; it cannot grant further.
    assert_eq!(call("GET", "/v1/chains/skyway/blocks", &token).0, 200);
    assert_eq!(call("GET", "/v1/chains/cinema/blocks", &token).0, 403);
    assert_eq!(call("POST", "/v1/partners/skyway/auditors", &token).0, 403);
    // Another partner cannot grant on skyway.
    assert_eq!(
        call("POST", "/v1/partners/skyway/auditors", "demo-cinema-token").0,
        403
    );
    let (_, list) = call("GET", "/v1/partners/skyway/auditors", "demo-skyway-token");
    assert!(
        list.as_array().unwrap().iter().any(|i| i == id.as_str()),
        "{list}"
    );
    // Revoked, it reads nothing; revoking again is a clear 404.
    assert_eq!(
        call(
            "DELETE",
            &format!("/v1/partners/skyway/auditors/{id}"),
            "demo-skyway-token"
        )
        .0,
        200
    );
    assert_eq!(call("GET", "/v1/chains/skyway/blocks", &token).0, 401);
    let (s, e) = call(
        "DELETE",
        &format!("/v1/partners/skyway/auditors/{id}"),
        "demo-skyway-token",
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("unknown_credential"))
    );
}

#[test]
fn expired_miles_are_announced_ahead_then_swept_exactly_once() {
    use milk_core::brand::DAY_MS;
    use milkd::Clock;
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let clock = ManualClock::new(NOW);
    let node = milkd::spawn(config, Arc::new(clock.clone())).unwrap();
    let http = Http::new(&node.url()).with_token("demo-operator-token");
    let partner = |method: &str, path: &str, body: Option<Value>| {
        http.request(
            method,
            &format!("/v1/partners/skyway{path}"),
            body.map(|b| b.to_string()),
            Some("Bearer demo-skyway-token"),
        )
    };
    let (issuer, alice) = (demo_key("partner:skyway"), demo_key("alice"));
    let sign = |key: &Keypair, action: Action| {
        let (_, sequence) = http.account(&key.address(), "skyway", "SKY");
        Transaction {
            chain: "skyway".parse().unwrap(),
            sender: key.address(),
            sequence,
            expires_at_ms: clock.now_ms() + 60_000,
            action,
        }
        .sign(key)
    };
    let hash = customer("SKY-7");
    let countersign =
        issuer.sign(&link_message(&"skyway".parse().unwrap(), &alice.address(), &hash).0);
    let (s, _) = partner(
        "POST",
        "/links",
        Some(
            json!({"tx": tx_hex(&sign(&alice, Action::Brand(BrandAction::Link { customer_hash: hash, partner_signature: countersign })))}),
        ),
    );
    assert_eq!(s, 200);
    let (s, _) = partner(
        "POST",
        "/conversions",
        Some(
            json!({"tx": tx_hex(&sign(&issuer, Action::Brand(BrandAction::Convert { to: alice.address(), mileage: 100, reference: "M-1".into() })))}),
        ),
    );
    assert_eq!(s, 200);
    let balance = || http.account(&alice.address(), "skyway", "SKY").0;
    let before = balance();

    // Nothing expires within 30 days yet; 20 days before the three years are up, it does.
    let (_, lots) = partner("GET", "/expiring?within_days=30", None);
    assert_eq!(lots.as_array().unwrap().len(), 0, "{lots}");
    clock.advance((3 * 365 - 20) * DAY_MS);
    let (_, lots) = partner("GET", "/expiring?within_days=30", None);
    assert_eq!(
        (lots[0]["amount"].as_str(), lots[0]["expired"].as_bool()),
        (Some("10000"), Some(false)),
        "{lots}"
    );
    let sweep = || json!({"tx": tx_hex(&sign(&issuer, Action::Brand(BrandAction::Expire { account: alice.address() })))});
    let (s, e) = partner("POST", "/sweeps", Some(sweep()));
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("nothing_expired"))
    );

    // Past expiry: listed as expired, swept once, counted in the supply report.
    clock.advance(21 * DAY_MS);
    let (_, lots) = partner("GET", "/expiring?within_days=0", None);
    assert_eq!(lots[0]["expired"].as_bool(), Some(true), "{lots}");
    let (s, r) = partner("POST", "/sweeps", Some(sweep()));
    assert_eq!((s, r["status"].as_str()), (200, Some("committed")), "{r}");
    assert_eq!(balance(), before - 10_000);
    let (_, lots) = partner("GET", "/expiring?within_days=0", None);
    assert_eq!(lots.as_array().unwrap().len(), 0);
    let (s, e) = partner("POST", "/sweeps", Some(sweep()));
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("nothing_expired"))
    );
    let (_, supply) = partner("GET", "/supply", None);
    assert_eq!(supply["expired"], "10000");
    let (_, events) = partner("GET", "/events", None);
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "expiry"),
        "{events}"
    );
}

#[test]
fn a_partner_changes_its_terms_through_its_api_and_the_chain_enforces_them_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let p = Partner {
        http: Http::new(&node.url()).with_token("demo-operator-token"),
        chain: "skyway".parse().unwrap(),
        token: "demo-skyway-token".into(),
    };
    let issuer = demo_key("partner:skyway");
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    let terms = |transfers_allowed: bool| {
        Action::Brand(BrandAction::SetPolicy {
            terms: milk_core::brand::PolicyTerms {
                transfers_allowed,
                min_conversion: Amount::new(100),
                max_conversion: Amount::new(1_000_000),
                daily_user_limit: Amount::new(10_000_000),
            },
        })
    };
    let gift = |p: &Partner| {
        p.sign(
            &alice,
            Action::Token(milk_core::tx::TokenAction::Transfer {
                to: bob.address(),
                asset: "SKY".parse().unwrap(),
                amount: Amount::new(100),
                memo: "a gift".into(),
            }),
        )
    };

    // Another partner's credential, a customer's key, or another action: all refused.
    let change = p.sign(&issuer, terms(false));
    let (s, v) = p.call(
        "POST",
        "/policy",
        Some(json!({ "tx": tx_hex(&change) })),
        Some("demo-cinema-token"),
    );
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    let (s, v) = p.post("/policy", &p.sign(&alice, terms(false)));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("not_issuer")),
        "{v}"
    );
    let (s, v) = p.post("/policy", &gift(&p));
    assert_eq!(s, 400, "{v}");

    // The partner stops transfers: a gift sent straight to the chain is refused.
    let (s, v) = p.post("/policy", &change);
    assert_eq!((s, v["status"].as_str()), (200, Some("committed")), "{v}");
    let r = p.http.submit("skyway", &[gift(&p)], true).unwrap();
    let code = r.results[0].error.as_ref().map(|e| e.code.clone());
    assert_eq!(code.as_deref(), Some("transfers_disabled"));

    // A restart keeps the terms; allowing transfers again lets the gift through.
    drop(node);
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW + 1_000))).unwrap();
    let p = Partner {
        http: Http::new(&node.url()).with_token("demo-operator-token"),
        ..p
    };
    let r = p.http.submit("skyway", &[gift(&p)], true).unwrap();
    let code = r.results[0].error.as_ref().map(|e| e.code.clone());
    assert_eq!(code.as_deref(), Some("transfers_disabled"));
    let (s, v) = p.post("/policy", &p.sign(&issuer, terms(true)));
    assert_eq!((s, v["status"].as_str()), (200, Some("committed")), "{v}");
    let r = p.http.submit("skyway", &[gift(&p)], true).unwrap();
    assert!(r.results[0].error.is_none(), "{:?}", r.results[0].error);
}

#[test]
fn concurrent_retries_of_one_conversion_all_get_the_first_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let p = Partner {
        http: Http::new(&node.url()).with_token("demo-operator-token"),
        chain: "skyway".parse().unwrap(),
        token: "demo-skyway-token".into(),
    };
    let (issuer, alice) = (demo_key("partner:skyway"), demo_key("alice"));
    let balance = |k: &Keypair| p.http.account(&k.address(), "skyway", "SKY").0;
    let hash = customer("SKY-MEMBER-0042");
    let countersign = issuer.sign(&link_message(&p.chain, &alice.address(), &hash).0);
    let link = Action::Brand(BrandAction::Link {
        customer_hash: hash,
        partner_signature: countersign,
    });
    let (s, v) = p.post("/links", &p.sign(&alice, link));
    assert_eq!((s, v["status"].as_str()), (200, Some("committed")), "{v}");
    let convert = |mileage: u64, reference: &str, to: &Keypair| {
        p.sign(
            &issuer,
            Action::Brand(BrandAction::Convert {
                to: to.address(),
                mileage,
                reference: reference.into(),
            }),
        )
    };
    // Eight concurrent retries of one request: one mint, and every one of them answered
    // with the first's receipt.
    let before_retries = balance(&alice);
    let signed = convert(300, "SKY-2026-0008", &alice);
    let answers: Vec<(u16, serde_json::Value)> = std::thread::scope(|s| {
        let p = &p;
        let retries: Vec<_> = (0..8)
            .map(|_| {
                let tx = signed.clone();
                s.spawn(move || p.post("/conversions", &tx))
            })
            .collect();
        retries.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let ids: std::collections::BTreeSet<_> = (answers.iter())
        .map(|(s, v)| {
            assert_eq!(*s, 200, "{v}");
            v["tx"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let firsts = answers
        .iter()
        .filter(|(_, v)| v["replayed"] == false)
        .count();
    assert_eq!(firsts, 1, "{answers:?}");
    assert_eq!(balance(&alice), before_retries + 30_000);
}

fn partner_node(dir: &std::path::Path) -> (milkd::Spawned, Partner) {
    let mut config = NodeConfig::new(dir.join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(ManualClock::new(NOW))).unwrap();
    let p = Partner {
        http: Http::new(&node.url()).with_token("demo-operator-token"),
        chain: "skyway".parse().unwrap(),
        token: "demo-skyway-token".into(),
    };
    (node, p)
}

impl Partner {
    fn link(&self, who: &Keypair, customer_id: &str) {
        let issuer = demo_key("partner:skyway");
        let hash = customer(customer_id);
        let countersign = issuer.sign(&link_message(&self.chain, &who.address(), &hash).0);
        let link = self.sign(
            who,
            Action::Brand(BrandAction::Link {
                customer_hash: hash,
                partner_signature: countersign,
            }),
        );
        let (s, v) = self.post("/links", &link);
        assert_eq!((s, v["status"].as_str()), (200, Some("committed")), "{v}");
    }

    fn batch(&self, items: &[(&Keypair, u64, &str)]) -> SignedTransaction {
        let items = (items.iter())
            .map(
                |(to, mileage, reference)| milk_core::brand::action::ConversionItem {
                    to: to.address(),
                    mileage: *mileage,
                    reference: (*reference).into(),
                },
            )
            .collect();
        let issuer = demo_key("partner:skyway");
        self.sign(&issuer, Action::Brand(BrandAction::ConvertBatch { items }))
    }
}

/// What each item of a batch receipt became: `(reference, status, amount or code)`.
fn outcomes(v: &Value) -> Vec<(String, String, String)> {
    let items = v["items"].as_array().unwrap_or_else(|| panic!("{v}"));
    (items.iter())
        .map(|i| {
            let detail = i["amount"].as_str().or(i["error"]["code"].as_str());
            (
                i["reference"].as_str().unwrap().to_owned(),
                i["status"].as_str().unwrap().to_owned(),
                detail.unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(reference: &str, status: &str, detail: &str) -> (String, String, String) {
    (reference.into(), status.into(), detail.into())
}

/// A batch converts each item on its own: a refused one holds back none after it, a retry
/// mints nothing twice, a changed item under a used reference is refused alone, and the
/// outcomes are read back by the batch's id.
#[test]
fn a_batch_of_conversions_settles_each_item_on_its_own_and_mints_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, p) = partner_node(dir.path());
    let (alice, bob, carol) = (demo_key("alice"), demo_key("bob"), demo_key("carol"));
    p.link(&alice, "SKY-A");
    p.link(&bob, "SKY-B");
    let balance = |k: &Keypair| p.http.account(&k.address(), "skyway", "SKY").0;
    let (a0, b0, c0) = (balance(&alice), balance(&bob), balance(&carol));

    let first = p.batch(&[
        (&alice, 500, "B-1"),
        (&bob, 300, "B-2"),
        (&carol, 400, "B-3"),
        (&alice, 1, "B-4"),
        (&alice, 200, "B-5"),
        (&bob, 300, "B-2"),
    ]);
    let (s, v) = p.post("/conversion-batches", &first);
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        outcomes(&v),
        vec![
            row("B-1", "converted", "50000"),
            row("B-2", "converted", "30000"),
            row("B-3", "refused", "not_linked"),
            row("B-4", "refused", "conversion_out_of_range"),
            row("B-5", "converted", "20000"),
            row("B-2", "refused", "reference_used"),
        ]
    );
    assert_eq!(
        (v["converted"].as_u64(), v["refused"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(v["replayed_batch"].as_bool(), Some(false));
    assert_eq!(
        (balance(&alice), balance(&bob), balance(&carol)),
        (a0 + 70_000, b0 + 30_000, c0)
    );

    // The same signed batch again: its recorded outcomes, nothing minted.
    let (s, again) = p.post("/conversion-batches", &first);
    assert_eq!((s, again["replayed_batch"].as_bool()), (200, Some(true)));
    assert_eq!((outcomes(&again), &again["tx"]), (outcomes(&v), &v["tx"]));
    // A new batch: retried items replay, a changed one is refused alone, the rest convert.
    p.link(&carol, "SKY-C");
    let second = p.batch(&[
        (&alice, 500, "B-1"),
        (&bob, 301, "B-2"),
        (&carol, 400, "B-3"),
    ]);
    let (s, v2) = p.post("/conversion-batches", &second);
    assert_eq!(s, 200, "{v2}");
    assert_eq!(
        outcomes(&v2),
        vec![
            row("B-1", "replayed", "50000"),
            row("B-2", "refused", "reference_used"),
            row("B-3", "converted", "40000"),
        ]
    );
    assert_eq!(
        (balance(&alice), balance(&bob), balance(&carol)),
        (a0 + 70_000, b0 + 30_000, c0 + 40_000)
    );
    // Read back by id; each reference also answers on its own.
    let id = v["tx"]["id"].as_str().unwrap();
    let (s, read) = p.call(
        "GET",
        &format!("/conversion-batches/{id}"),
        None,
        Some(&p.token),
    );
    assert_eq!((s, outcomes(&read)), (200, outcomes(&v)));
    let (s, one) = p.call("GET", "/conversions/B-5", None, Some(&p.token));
    assert_eq!((s, one["tx"]["id"].as_str()), (200, Some(id)));
    let (s, e) = p.call("GET", "/conversion-batches/00", None, Some(&p.token));
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("unknown_batch"))
    );
    // Only the issuer signs a batch, and only a batch goes to this endpoint.
    let forged = p.sign(
        &alice,
        Action::Brand(BrandAction::ConvertBatch {
            items: vec![milk_core::brand::action::ConversionItem {
                to: alice.address(),
                mileage: 500,
                reference: "F-1".into(),
            }],
        }),
    );
    let (s, e) = p.post("/conversion-batches", &forged);
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("not_issuer")));
    let single = p.sign(
        &demo_key("partner:skyway"),
        Action::Brand(BrandAction::Convert {
            to: alice.address(),
            mileage: 500,
            reference: "S-1".into(),
        }),
    );
    let (s, e) = p.post("/conversion-batches", &single);
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("wrong_action"))
    );
}

/// A point-of-sale system sends its customers' signed redemptions in one request: one
/// result each, in order; a refused one does not stop the others.
#[test]
fn a_batch_of_redemptions_answers_each_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, p) = partner_node(dir.path());
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));
    p.link(&alice, "SKY-A");
    let (s, v) = p.post("/conversion-batches", &p.batch(&[(&alice, 500, "R-1")]));
    assert_eq!((s, v["converted"].as_u64()), (200, Some(1)), "{v}");
    let redeem = |k: &Keypair, amount: u128, order: &str, sequence: u64| {
        Transaction {
            chain: p.chain.clone(),
            sender: k.address(),
            sequence,
            expires_at_ms: NOW + 60_000,
            action: Action::Brand(BrandAction::Redeem {
                amount: Amount::new(amount),
                order_id: order.into(),
            }),
        }
        .sign(k)
    };
    let a_seq = p.http.account(&alice.address(), "skyway", "SKY").1;
    let b_seq = p.http.account(&bob.address(), "skyway", "SKY").1;
    let held = p.http.account(&bob.address(), "skyway", "SKY").0;
    let txs = [
        tx_hex(&redeem(&alice, 10_000, "POS-1", a_seq)),
        tx_hex(&redeem(&bob, held + 1, "POS-2", b_seq)),
        tx_hex(&redeem(&alice, 5_000, "POS-3", a_seq + 1)),
        "zz".to_owned(),
    ];
    let (s, v) = p.call(
        "POST",
        "/redemption-batches",
        Some(json!({ "txs": txs })),
        Some(&p.token),
    );
    assert_eq!(s, 200, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["receipt"]["order_id"].as_str(), Some("POS-1"));
    assert_eq!(results[0]["receipt"]["value_krw"].as_str(), Some("1500"));
    assert!(results[1]["error"]["code"].as_str().is_some(), "{v}");
    assert!(results[1]["receipt"].is_null());
    assert_eq!(results[2]["receipt"]["order_id"].as_str(), Some("POS-3"));
    assert_eq!(results[3]["error"]["code"].as_str(), Some("malformed_tx"));
    let (s, r) = p.call("GET", "/redemptions/POS-3", None, Some(&p.token));
    assert_eq!((s, r["amount"].as_str()), (200, Some("5000")));
    let (s, e) = p.call(
        "POST",
        "/redemption-batches",
        Some(json!({ "txs": [] })),
        Some(&p.token),
    );
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("batch_size")));
}
