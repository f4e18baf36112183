//! The partners story end to end through the HTTP API of a running node: two companies
//! join the alliance and get brand chains while the node runs, a third in an occupied sector
//! is refused, and a customer uses both partners' tokens; the chains survive a restart.

mod support;

use milk_core::brand::link_message;
use milk_core::genesis::demo_key;
use milk_core::tx::{Action, SignedTransaction, Transaction};
use milk_core::tx::{AllianceAction, BrandAction};
use milk_core::{Address, Amount, ChainId, Hash, Keypair};
use milkd::brand::tx_hex;
use milkd::demo::application;
use milkd::{ManualClock, NodeConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use support::Http;

const NOW: u64 = 1_900_000_000_000;
const HOUR: u64 = 3_600_000;

/// Signs `action` on `chain` at the sender's next sequence, valid for a minute of `clock`.
fn sign(
    http: &Http,
    clock: &ManualClock,
    chain: &str,
    key: &Keypair,
    action: Action,
) -> SignedTransaction {
    use milkd::Clock;
    let (_, sequence) = http.account(&key.address(), chain, "-");
    Transaction {
        chain: chain.parse().unwrap(),
        sender: key.address(),
        sequence,
        expires_at_ms: clock.now_ms() + 60_000,
        action,
    }
    .sign(key)
}

/// Submits a center-chain transaction and waits for it: `Ok` once committed, else the code.
fn center(http: &Http, clock: &ManualClock, key: &Keypair, action: Action) -> Result<(), String> {
    let tx = sign(http, clock, "center", key, action);
    let r = http.submit("center", &[tx], true).unwrap();
    let result = &r.results[0];
    match result.status.as_str() {
        "committed" => Ok(()),
        _ => Err(result
            .error
            .as_ref()
            .map_or(result.status.clone(), |e| e.code.clone())),
    }
}

/// A partner as its engineers see the API: its chain and its credential.
struct Partner<'a> {
    /// Carries the partner's credential on its reads.
    http: Http,
    clock: &'a ManualClock,
    chain: String,
    token: String,
    issuer: Keypair,
}

impl<'a> Partner<'a> {
    fn new(
        node: &milkd::Spawned,
        clock: &'a ManualClock,
        chain: &str,
        token: &str,
        issuer: &Keypair,
    ) -> Partner<'a> {
        Partner {
            http: Http::new(&node.url()).with_token(token),
            clock,
            chain: chain.into(),
            token: token.into(),
            issuer: issuer.clone(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("/v1/partners/{}{path}", self.chain);
        let auth = format!("Bearer {}", self.token);
        self.http
            .request(method, &url, body.map(|b| b.to_string()), Some(&auth))
    }

    fn post(&self, path: &str, key: &Keypair, action: Action) -> (u16, Value) {
        let tx = sign(&self.http, self.clock, &self.chain, key, action);
        self.call("POST", path, Some(json!({ "tx": tx_hex(&tx) })))
    }

    fn link(&self, user: &Keypair, customer_id: &str) {
        let chain: ChainId = self.chain.parse().unwrap();
        let hash = Hash::domain("customer", &[self.chain.as_bytes(), customer_id.as_bytes()]);
        let countersign = self
            .issuer
            .sign(&link_message(&chain, &user.address(), &hash).0);
        let (s, v) = self.post(
            "/links",
            user,
            Action::Brand(BrandAction::Link {
                customer_hash: hash,
                partner_signature: countersign,
            }),
        );
        assert_eq!((s, v["status"].as_str()), (200, Some("committed")), "{v}");
    }

    /// Waits (a few seconds at most) until the chain records the partner's standing.
    fn wait_for_standing(&self, suspended: bool) {
        for _ in 0..100 {
            let (s, v) = self.call("GET", "/supply", None);
            assert_eq!(s, 200, "{v}");
            if v["suspended"] == suspended {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the chain never recorded suspended = {suspended}");
    }

    fn convert(&self, to: &Address, mileage: u64, reference: &str) -> (u16, Value) {
        self.post(
            "/conversions",
            &self.issuer,
            Action::Brand(BrandAction::Convert {
                to: *to,
                mileage,
                reference: reference.into(),
            }),
        )
    }

    fn supply(&self) -> [u128; 6] {
        let (s, r) = self.call("GET", "/supply", None);
        assert_eq!(s, 200, "{r}");
        let n = |k: &str| r[k].as_str().unwrap().parse::<u128>().unwrap();
        let report = [
            n("issued"),
            n("redeemed"),
            n("refunded"),
            n("expired"),
            n("outstanding"),
            n("held_by_tica"),
        ];
        assert_eq!(n("held_by_tica") + n("held_by_customers"), n("outstanding"));
        report
    }

    fn balance(&self, who: &Address, symbol: &str) -> u128 {
        self.http.account(who, &self.chain, symbol).0
    }
}

#[test]
fn two_partners_join_a_running_node_and_a_customer_uses_both() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = NodeConfig::new(data.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let clock = ManualClock::new(NOW);
    let node = milkd::spawn(config.clone(), Arc::new(clock.clone())).unwrap();
    let http = Http::new(&node.url());
    let operator = demo_key("operator");
    let members: Vec<Keypair> = ["skyway", "cinema", "dailymart"]
        .iter()
        .map(|c| demo_key(&format!("partner:{c}")))
        .collect();
    let (books_key, gym_key, club_key) = (
        Keypair::from_label("paper-lantern"),
        Keypair::from_label("iron-gym"),
        Keypair::from_label("book-club"),
    );

    // Two companies apply; a third, in a sector already applied for, is refused.
    let books = application("bookshop", "Paper Lantern Books", "books", "BOOK", None);
    let gym = application("gym", "Iron Gym", "fitness", "GYM", Some(1));
    center(
        &http,
        &clock,
        &books_key,
        Action::Alliance(AllianceAction::Apply { application: books }),
    )
    .unwrap();
    assert_eq!(
        center(
            &http,
            &clock,
            &club_key,
            Action::Alliance(AllianceAction::Apply {
                application: application("bookclub", "Book Club", "books", "CLUB", None)
            })
        ),
        Err("sector_occupied".into())
    );
    let approve = |chain: &str| {
        Action::Alliance(AllianceAction::Approve {
            chain: chain.parse().unwrap(),
        })
    };
    let sign_agreement = |chain: &str| {
        Action::Alliance(AllianceAction::SignAgreement {
            chain: chain.parse().unwrap(),
        })
    };
    // TICA may not sign before every member approved; then the chain exists at once.
    for m in &members[..2] {
        center(&http, &clock, m, approve("bookshop")).unwrap();
    }
    assert_eq!(
        center(&http, &clock, &operator, sign_agreement("bookshop")),
        Err("quorum_not_reached".into())
    );
    assert_eq!(http.get("/v1/chains/bookshop").0, 404);
    center(&http, &clock, &members[2], approve("bookshop")).unwrap();
    center(&http, &clock, &operator, sign_agreement("bookshop")).unwrap();
    let (s, v) = http.get("/v1/alliance/bookshop");
    assert_eq!(
        (s, v["status"].as_str(), v["hosted"].as_bool()),
        (200, Some("admitted"), Some(true)),
        "{v}"
    );
    assert_eq!(v["admitted_at_ms"].as_u64(), Some(NOW));

    // The bookshop is a member now, so the gym needs its approval too.
    center(
        &http,
        &clock,
        &gym_key,
        Action::Alliance(AllianceAction::Apply { application: gym }),
    )
    .unwrap();
    for m in &members {
        center(&http, &clock, m, approve("gym")).unwrap();
    }
    assert_eq!(
        center(&http, &clock, &operator, sign_agreement("gym")),
        Err("quorum_not_reached".into())
    );
    center(&http, &clock, &books_key, approve("gym")).unwrap();
    center(&http, &clock, &operator, sign_agreement("gym")).unwrap();
    let (_, list) = http.get("/v1/alliance");
    let statuses: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["chain"].as_str().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("bookshop", "admitted"),
            ("cinema", "admitted"),
            ("dailymart", "admitted"),
            ("gym", "admitted"),
            ("skyway", "admitted")
        ]
    );

    // TICA issues each new partner its API credential; nobody else can.
    let issue = |chain: &str, token: &str| {
        http.request(
            "POST",
            &format!("/v1/partners/{chain}/credentials"),
            None,
            Some(&format!("Bearer {token}")),
        )
    };
    let (s, e) = issue("bookshop", "demo-skyway-token");
    assert_eq!((s, e["error"]["code"].as_str()), (403, Some("forbidden")));
    let (s, e) = issue("bookclub", "demo-operator-token");
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("unknown_partner"))
    );
    let (s, a) = issue("bookshop", "demo-operator-token");
    assert_eq!(s, 201, "{a}");
    let (_, b) = issue("gym", "demo-operator-token");
    let a = Partner::new(
        &node,
        &clock,
        "bookshop",
        a["token"].as_str().unwrap(),
        &books_key,
    );
    let b = Partner::new(&node, &clock, "gym", b["token"].as_str().unwrap(), &gym_key);
    // Each chain starts with its float in TICA's inventory.
    assert_eq!(a.supply(), [0, 0, 0, 0, 100_000_000, 100_000_000]);
    assert_eq!(b.supply(), [0, 0, 0, 0, 100_000_000, 100_000_000]);

    // A customer links to both, converts at both; a retried conversion mints once.
    let alice = demo_key("alice");
    let mlk_before = http.account(&alice.address(), "center", "MLK").0;
    a.link(&alice, "PL-0001");
    b.link(&alice, "GYM-7");
    // Each link earns her 1 MLK from the user-distribution bucket, once per partner.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while http.account(&alice.address(), "center", "MLK").0 != mlk_before + 2 * 100_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "linking rewards not paid"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (s, first) = a.convert(&alice.address(), 500, "PL-CONV-1");
    assert_eq!(
        (s, first["amount"].as_str()),
        (200, Some("50000")),
        "{first}"
    );
    let (s, again) = a.convert(&alice.address(), 500, "PL-CONV-1");
    assert_eq!(
        (s, again["replayed"].as_bool(), &again["tx"]["id"]),
        (200, Some(true), &first["tx"]["id"])
    );
    assert_eq!(a.balance(&alice.address(), "BOOK"), 50_000);
    let (s, v) = b.convert(&alice.address(), 300, "GYM-CONV-1");
    assert_eq!((s, v["amount"].as_str()), (200, Some("30000")), "{v}");

    // Redeems at one, and gets a refund.
    let (s, r) = a.post(
        "/redemptions",
        &alice,
        Action::Brand(BrandAction::Redeem {
            amount: Amount::new(20_000),
            order_id: "PL-ORDER-1".into(),
        }),
    );
    assert_eq!((s, r["value_krw"].as_str()), (200, Some("2000")), "{r}");
    let (s, r) = a.post(
        "/refunds",
        &books_key,
        Action::Brand(BrandAction::Refund {
            order_id: "PL-ORDER-1".into(),
        }),
    );
    assert_eq!((s, r["refunded"].as_bool()), (200, Some(true)), "{r}");
    assert_eq!(a.balance(&alice.address(), "BOOK"), 50_000);

    // Supply reports add up: float + issued − redeemed + refunded − expired.
    assert_eq!(
        a.supply(),
        [50_000, 20_000, 20_000, 0, 100_050_000, 100_000_000]
    );

    // No market is open for BOOK yet: a sale on its chain is refused and given back, not
    // left locked.
    let (_, seq) = a.http.account(&alice.address(), "bookshop", "BOOK");
    let sale = Transaction {
        chain: "bookshop".parse().unwrap(),
        sender: alice.address(),
        sequence: seq,
        expires_at_ms: milkd::Clock::now_ms(&clock) + 60_000,
        action: Action::Exchange(milk_core::tx::ExchangeAction::Sell {
            amount: Amount::new(10_000),
            min_out: Amount::new(1),
        }),
    }
    .sign(&alice);
    let body = serde_json::json!({ "tx": milkd::brand::tx_hex(&sale) }).to_string();
    let (s, t) = http.request("POST", "/v1/trades", Some(body), None);
    assert_eq!(
        (s, t["status"].as_str(), t["code"].as_str()),
        (200, Some("refused"), Some("unknown_market")),
        "{t}"
    );
    assert_eq!(a.balance(&alice.address(), "BOOK"), 50_000);
    assert_eq!(a.balance(&milk_core::exchange::ESCROW, "BOOK"), 0);

    // Partner A sees nothing of B's chain, B nothing of A's.
    for path in [
        "/v1/partners/gym/supply",
        "/v1/partners/gym/events",
        "/v1/partners/gym/expiring",
        "/v1/partners/gym/conversions/GYM-CONV-1",
        "/v1/partners/gym/auditors",
        "/v1/chains/gym",
        "/v1/chains/gym/blocks",
        "/v1/chains/gym/blocks/1",
        "/v1/chains/gym/raw-blocks",
    ] {
        let (s, e) = http.request("GET", path, None, Some(&format!("Bearer {}", a.token)));
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
        let other = path.replace("gym", "bookshop").replace("GYM", "PL");
        let (s, _) = http.request("GET", &other, None, Some(&format!("Bearer {}", b.token)));
        assert_eq!(s, 403, "{other}");
    }
    let (s, v) = http.request(
        "GET",
        &format!("/v1/accounts/{}", alice.address()),
        None,
        Some(&format!("Bearer {}", a.token)),
    );
    assert_eq!(s, 200);
    let chains: Vec<&str> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chain"].as_str().unwrap())
        .collect();
    assert_eq!(chains, ["center", "bookshop"], "only the chains A may read");

    // Expiry at the gym (one day): a second lot half a day later; a day after the first,
    // the sweep retires exactly the first lot.
    clock.advance(12 * HOUR);
    let (s, v) = b.convert(&alice.address(), 200, "GYM-CONV-2");
    assert_eq!((s, v["amount"].as_str()), (200, Some("20000")), "{v}");
    clock.advance(13 * HOUR);
    let (s, lots) = b.call("GET", "/expiring?within_days=0", None);
    assert_eq!(s, 200, "{lots}");
    let expired: Vec<&str> = lots
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["expired"] == true)
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(expired, ["30000"]);
    let (s, r) = b.post(
        "/sweeps",
        &gym_key,
        Action::Brand(BrandAction::Expire {
            account: alice.address(),
        }),
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(b.supply(), [50_000, 0, 0, 30_000, 100_020_000, 100_000_000]);
    assert_eq!(b.balance(&alice.address(), "GYM"), 20_000);

    // Suspension halts the gym's new issuance; redemptions go on; reinstating resumes it.
    center(
        &http,
        &clock,
        &operator,
        Action::Alliance(AllianceAction::Suspend {
            chain: "gym".parse().unwrap(),
        }),
    )
    .unwrap();
    let (s, e) = b.convert(&alice.address(), 200, "GYM-CONV-3");
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("partner_suspended"))
    );
    // The node records the suspension on the gym's own chain; from then on the same
    // conversion sent straight to the chain is refused by the chain itself.
    b.wait_for_standing(true);
    let direct = Action::Brand(BrandAction::Convert {
        to: alice.address(),
        mileage: 200,
        reference: "GYM-CONV-3".into(),
    });
    let tx = sign(&b.http, &clock, "gym", &gym_key, direct);
    let r = b.http.submit("gym", &[tx], true).unwrap();
    let refused = r.results[0].error.as_ref().map(|e| e.code.as_str());
    assert_eq!(refused, Some("partner_suspended"), "{:?}", r.results[0]);
    let (s, r) = b.post(
        "/redemptions",
        &alice,
        Action::Brand(BrandAction::Redeem {
            amount: Amount::new(5_000),
            order_id: "GYM-ORDER-1".into(),
        }),
    );
    assert_eq!(s, 200, "{r}");
    center(
        &http,
        &clock,
        &operator,
        Action::Alliance(AllianceAction::Reinstate {
            chain: "gym".parse().unwrap(),
        }),
    )
    .unwrap();
    b.wait_for_standing(false);
    let (s, _) = b.convert(&alice.address(), 200, "GYM-CONV-3");
    assert_eq!(s, 200);

    // After a restart the admitted chains are back, with their state and credentials.
    let (a_token, b_token) = (a.token.clone(), b.token.clone());
    drop((a, b));
    node.stop().unwrap();
    let node = milkd::spawn(config, Arc::new(clock.clone())).unwrap();
    let a = Partner::new(&node, &clock, "bookshop", &a_token, &books_key);
    assert_eq!(
        a.supply(),
        [50_000, 20_000, 20_000, 0, 100_050_000, 100_000_000]
    );
    let b = Partner::new(&node, &clock, "gym", &b_token, &gym_key);
    assert_eq!(b.balance(&alice.address(), "GYM"), 35_000);
    let (s, _) = a.convert(&alice.address(), 100, "PL-CONV-2");
    assert_eq!(s, 200);
    gym_leaves(&b, &alice);
}

/// The gym leaves: conversions stop at once, redemptions go on until the final date, then
/// the node finishes the exit (TICA's stock burned, alice's tokens kept) and the fitness
/// sector takes a new applicant.
fn gym_leaves(b: &Partner, alice: &Keypair) {
    use milkd::Clock;
    let clock = b.clock;
    let final_ms = clock.now_ms() + DEMO_EXIT_NOTICE;
    let exit = AllianceAction::StartExit {
        chain: "gym".parse().unwrap(),
        final_ms,
    };
    center(&b.http, clock, &b.issuer, Action::Alliance(exit)).unwrap();
    let (s, e) = b.convert(&alice.address(), 200, "GYM-CONV-4");
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("partner_exiting"))
    );
    let report = wait_for(b, |r| r["leaving_until_ms"] == final_ms);
    assert_eq!(report["exit_closed"], false);
    let redeem = |order: &str| {
        let amount = Amount::new(1_000);
        let order_id = order.into();
        b.post(
            "/redemptions",
            alice,
            Action::Brand(BrandAction::Redeem { amount, order_id }),
        )
    };
    assert_eq!(redeem("GYM-ORDER-2").0, 200);
    let held = b.balance(&alice.address(), "GYM");
    clock.advance(DEMO_EXIT_NOTICE);
    wait_for(b, |r| r["exit_closed"] == true);
    let (s, r) = redeem("GYM-ORDER-3");
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (422, Some("redemptions_closed")),
        "{r}"
    );
    assert_eq!(b.supply()[5], 0, "TICA's stock is burned");
    assert_eq!(b.balance(&alice.address(), "GYM"), held);
    let (_, gym) = b.http.get("/v1/alliance/gym");
    assert_eq!(gym["status"], "exited", "{gym}");
    let club = application("fitclub", "Fit Club", "fitness", "FIT", None);
    let apply = Action::Alliance(AllianceAction::Apply { application: club });
    center(&b.http, clock, &Keypair::from_label("fit-club"), apply).unwrap();
}

const DEMO_EXIT_NOTICE: u64 = milk_core::genesis::DEMO_EXIT_NOTICE_MS;

/// Waits (a few seconds at most) until the partner's supply report satisfies `done`.
fn wait_for(b: &Partner, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (s, v) = b.call("GET", "/supply", None);
        assert_eq!(s, 200, "{v}");
        if done(&v) {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the gym's chain never got there");
}

#[test]
fn the_demo_admits_its_fourth_partner_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let clock = ManualClock::new(NOW);
    let node = milkd::spawn(config.clone(), Arc::new(clock.clone())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(milkd::demo::grow_alliance(&node.node)).unwrap();
    let http = Http::new(&node.url());
    let (_, v) = http.get("/v1/alliance/bookshop");
    assert_eq!(
        (v["status"].as_str(), v["hosted"].as_bool()),
        (Some("admitted"), Some(true)),
        "{v}"
    );
    // TICA opened a market for its token.
    let (s, market) = http.get("/v1/markets/BOOK");
    assert_eq!(
        (s, market["chain"].as_str()),
        (200, Some("bookshop")),
        "{market}"
    );
    let (s, supply) = http.request(
        "GET",
        "/v1/partners/bookshop/supply",
        None,
        Some("Bearer demo-bookshop-token"),
    );
    assert_eq!(
        (s, supply["held_by_tica"].as_str()),
        (200, Some("100000000"))
    );
    // Again, and after a restart: nothing more happens.
    let height = |http: &Http| {
        let (_, c) = http.get("/v1/chains/center");
        c["head"]["height"].as_u64().unwrap()
    };
    let before = height(&http);
    rt.block_on(milkd::demo::grow_alliance(&node.node)).unwrap();
    assert_eq!(height(&http), before);
    // The membership scene is set once: a restarted demo refuses nothing, for nothing.
    rt.block_on(milkd::demo::membership_scene(&node.node));
    let set = height(&http);
    assert!(set > before);
    node.stop().unwrap();
    let node = milkd::spawn(config, Arc::new(clock)).unwrap();
    rt.block_on(milkd::demo::grow_alliance(&node.node)).unwrap();
    rt.block_on(milkd::demo::membership_scene(&node.node));
    let http = Http::new(&node.url());
    assert_eq!(height(&http), set);
    let operator = Http::new(&node.url()).with_token("demo-operator-token");
    let (_, metrics) = operator.get_bytes("/metrics");
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        !metrics.contains("offer_exists") && !metrics.contains("pack_"),
        "{metrics}"
    );
}
