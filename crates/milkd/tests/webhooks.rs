//! Signed webhooks against a partner endpoint that fails at first: every event arrives, in
//! order, signed, at least once; the cursor moves only on success and survives a restart.

mod support;

use milk_core::brand::link_message;
use milk_core::genesis::demo_key;
use milk_core::tx::BrandAction;
use milk_core::tx::{Action, Transaction};
use milk_core::{Hash, Keypair};
use milkd::brand::tx_hex;
use milkd::{ManualClock, NodeConfig};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Http;

const NOW: u64 = 1_900_000_000_000;

/// One request the endpoint received: its signature header, its body, and what it answered.
#[derive(Clone, Debug)]
struct Received {
    signature: String,
    body: Vec<u8>,
    accepted: bool,
}

/// A partner's endpoint: answers 503 to the first `fail_first` requests, then 200.
fn endpoint(fail_first: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/milk-events", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut signature) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or_default();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "milk-signature" => signature = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut log = seen.lock().unwrap();
            let accepted = log.len() >= fail_first;
            log.push(Received {
                signature,
                body,
                accepted,
            });
            let status = if accepted {
                "200 OK"
            } else {
                "503 Service Unavailable"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, log)
}

/// Waits (at most 20 s) until `done` holds for what the endpoint received.
fn wait_for(log: &Mutex<Vec<Received>>, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = log.lock().unwrap().clone();
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "not delivered in time: {got:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn event_ids(r: &Received) -> Vec<String> {
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn events_reach_a_failing_endpoint_signed_in_order_at_least_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.webhook_poll = Duration::from_millis(10);
    config.webhook_retry_base = Duration::from_millis(10);
    let clock = ManualClock::new(NOW);
    let node = milkd::spawn(config.clone(), Arc::new(clock.clone())).unwrap();
    let partner = |node: &milkd::Spawned| Http::new(&node.url()).with_token("demo-skyway-token");
    let http = partner(&node);
    let call = |http: &Http, method: &str, path: &str, body: Option<Value>, token: &str| {
        http.request(
            method,
            &format!("/v1/partners/skyway{path}"),
            body.map(|b| b.to_string()),
            Some(&format!("Bearer {token}")),
        )
    };
    let (url, log) = endpoint(2);

    // Bad registrations: each refused with its code.
    let (s, e) = call(
        &http,
        "POST",
        "/webhooks",
        Some(json!({"url": "ftp://x/y"})),
        "demo-skyway-token",
    );
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_url")));
    let (s, e) = call(
        &http,
        "POST",
        "/webhooks",
        Some(json!({"url": url, "after": "soon"})),
        "demo-skyway-token",
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("malformed_cursor"))
    );
    let (s, _) = call(
        &http,
        "POST",
        "/webhooks",
        Some(json!({"url": url})),
        "demo-cinema-token",
    );
    assert_eq!(s, 403);
    let (s, _) = call(
        &http,
        "POST",
        "/webhooks",
        Some(json!({"url": url})),
        "demo-skyway-auditor-token",
    );
    assert_eq!(s, 403);

    let (s, hook) = call(
        &http,
        "POST",
        "/webhooks",
        Some(json!({"url": url})),
        "demo-skyway-token",
    );
    assert_eq!(s, 201, "{hook}");
    let secret = hex::decode(hook["secret"].as_str().unwrap()).unwrap();
    let hook_id = hook["id"].as_str().unwrap().to_owned();

    // Activity on the chain: a link and a conversion.
    let issuer = demo_key("partner:skyway");
    let alice = demo_key("alice");
    let sign = |http: &Http, key: &Keypair, action: Action| {
        let (_, sequence) = http.account(&key.address(), "skyway", "SKY");
        let tx = Transaction {
            chain: "skyway".parse().unwrap(),
            sender: key.address(),
            sequence,
            expires_at_ms: NOW + 60_000,
            action,
        }
        .sign(key);
        json!({ "tx": tx_hex(&tx) })
    };
    let hash = Hash::domain("skyway/customer", &[b"salt", b"FLYER-1"]);
    let countersign =
        issuer.sign(&link_message(&"skyway".parse().unwrap(), &alice.address(), &hash).0);
    let link = sign(
        &http,
        &alice,
        Action::Brand(BrandAction::Link {
            customer_hash: hash,
            partner_signature: countersign,
        }),
    );
    assert_eq!(
        call(&http, "POST", "/links", Some(link), "demo-skyway-token").0,
        200
    );
    let convert = |http: &Http, reference: &str| {
        let body = sign(
            http,
            &issuer,
            Action::Brand(BrandAction::Convert {
                to: alice.address(),
                mileage: 100,
                reference: reference.into(),
            }),
        );
        let (s, v) = call(
            http,
            "POST",
            "/conversions",
            Some(body),
            "demo-skyway-token",
        );
        assert_eq!(s, 200, "{v}");
    };
    convert(&http, "R-1");
    let (_, feed) = call(&http, "GET", "/events", None, "demo-skyway-token");
    let feed_ids: Vec<String> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(feed_ids.len(), 2);

    // Two refusals, then delivered: the same events each time, in the feed's order.
    let got = wait_for(&log, |r| {
        r.iter().any(|r| r.accepted && event_ids(r) == feed_ids)
    });
    assert!(
        got.len() >= 3 && !got[0].accepted && !got[1].accepted,
        "{got:?}"
    );
    for r in &got {
        // Every request is signed over its time and body with the webhook's secret.
        let time: u64 = r.signature["t=".len()..]
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(time, NOW);
        assert_eq!(
            r.signature,
            milkd::brand::webhooks::signature(&secret, time, &r.body)
        );
        let ids = event_ids(r);
        assert!(feed_ids.starts_with(&ids) && !ids.is_empty(), "{ids:?}");
    }
    let body: Value = serde_json::from_slice(&got.last().unwrap().body).unwrap();
    assert_eq!(body["events"][1]["kind"], "conversion");
    assert_eq!(body["webhook"], hook_id.as_str());

    // The listing shows the cursor moved, and never the secret again.
    let listed = || {
        let (_, v) = call(&http, "GET", "/webhooks", None, "demo-skyway-token");
        v[0].clone()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while listed()["cursor"] != feed_ids[1].as_str() {
        assert!(
            Instant::now() < deadline,
            "cursor never moved: {}",
            listed()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(listed().get("secret").is_none());

    // After a restart, only what is new is sent.
    drop(http);
    node.stop().unwrap();
    let delivered = log.lock().unwrap().len();
    let node = milkd::spawn(config, Arc::new(clock.clone())).unwrap();
    let http = partner(&node);
    convert(&http, "R-2");
    let got = wait_for(&log, |r| r.len() > delivered);
    let ids = event_ids(&got[delivered]);
    assert_eq!(ids.len(), 1, "{ids:?}");
    let height = |id: &str| id.split(':').next().unwrap().parse::<u64>().unwrap();
    assert!(height(&ids[0]) > height(&feed_ids[1]), "{ids:?}");

    // Removed, it sends nothing more; removing it twice is an error.
    let (s, _) = call(
        &http,
        "DELETE",
        &format!("/webhooks/{hook_id}"),
        None,
        "demo-skyway-token",
    );
    assert_eq!(s, 200);
    let (s, e) = call(
        &http,
        "DELETE",
        &format!("/webhooks/{hook_id}"),
        None,
        "demo-skyway-token",
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("unknown_webhook"))
    );
}

#[test]
fn a_webhook_warns_once_a_day_of_tokens_about_to_expire() {
    const DAY: u64 = 86_400_000;
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.webhook_poll = Duration::from_millis(10);
    let clock = ManualClock::new(NOW);
    let node = milkd::spawn(config, Arc::new(clock.clone())).unwrap();
    let http = Http::new(&node.url()).with_token("demo-skyway-token");
    let call = |method: &str, path: &str, body: Option<Value>| {
        http.request(
            method,
            &format!("/v1/partners/skyway{path}"),
            body.map(|b| b.to_string()),
            Some("Bearer demo-skyway-token"),
        )
    };
    // Skyway's miles expire after three years: alice converts 100 miles today.
    let issuer = demo_key("partner:skyway");
    let alice = demo_key("alice");
    let submit = |key: &Keypair, action: Action, path: &str| {
        use milkd::Clock;
        let (_, sequence) = http.account(&key.address(), "skyway", "SKY");
        let tx = Transaction {
            chain: "skyway".parse().unwrap(),
            sender: key.address(),
            sequence,
            expires_at_ms: clock.now_ms() + 60_000,
            action,
        }
        .sign(key);
        let (s, v) = call("POST", path, Some(json!({ "tx": tx_hex(&tx) })));
        assert_eq!(s, 200, "{v}");
    };
    let hash = Hash::domain("skyway/customer", &[b"salt", b"FLYER-2"]);
    let countersign =
        issuer.sign(&link_message(&"skyway".parse().unwrap(), &alice.address(), &hash).0);
    submit(
        &alice,
        Action::Brand(BrandAction::Link {
            customer_hash: hash,
            partner_signature: countersign,
        }),
        "/links",
    );
    submit(
        &issuer,
        Action::Brand(BrandAction::Convert {
            to: alice.address(),
            mileage: 100,
            reference: "W-1".into(),
        }),
        "/conversions",
    );
    let (_, lots) = call("GET", "/expiring?within_days=2000", None);
    let expires_at = lots[0]["expires_at_ms"].as_u64().unwrap();

    // Only warnings, 30 days ahead, from after the events so far.
    let (_, feed) = call("GET", "/events", None);
    let (url, log) = endpoint(0);
    let (s, hook) = call(
        "POST",
        "/webhooks",
        Some(json!({ "url": url, "after": feed["next"], "warn_days": 30 })),
    );
    assert_eq!(s, 201, "{hook}");
    let (s, e) = call(
        "POST",
        "/webhooks",
        Some(json!({ "url": url, "warn_days": 0 })),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("invalid_warn_days"))
    );
    let warned_day = || {
        let (_, v) = call("GET", "/webhooks", None);
        v[0]["warned_day"].as_u64()
    };
    let settle = |day: u64| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while warned_day() != Some(day) {
            assert!(Instant::now() < deadline, "day {day} never settled");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    use milkd::Clock;
    // Today nothing is near expiry: the day passes without a request.
    settle(clock.now_ms() / DAY);
    assert!(log.lock().unwrap().is_empty());

    // Ten days before expiry: one warning naming the lot, and no second one that day.
    clock.advance(expires_at - 10 * DAY - clock.now_ms());
    let got = wait_for(&log, |r| !r.is_empty());
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    let warning = &body["events"][0];
    let today = clock.now_ms() / DAY;
    assert_eq!(
        (
            warning["kind"].as_str(),
            warning["account"].as_str(),
            warning["amount"].as_str(),
            warning["expires_at_ms"].as_u64()
        ),
        (
            Some("expiry_warning"),
            Some(alice.address().to_string().as_str()),
            Some("10000"),
            Some(expires_at)
        )
    );
    assert_eq!(
        warning["id"],
        format!("warning:{today}:{}:{expires_at}", alice.address())
    );
    let secret = hex::decode(hook["secret"].as_str().unwrap()).unwrap();
    assert_eq!(
        got[0].signature,
        milkd::brand::webhooks::signature(&secret, clock.now_ms(), &got[0].body)
    );
    settle(today);
    assert_eq!(log.lock().unwrap().len(), 1);
    // The next day, again, under a new id.
    clock.advance(DAY);
    let got = wait_for(&log, |r| r.len() == 2);
    let body: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_ne!(body["events"][0]["id"], warning["id"]);
}
