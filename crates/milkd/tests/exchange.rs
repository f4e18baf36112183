//! The exchange over the HTTP API of a running node, with MLK's price coming from a local
//! ticker through the oracle: quotes, a sale and a purchase settled across both chains,
//! price history, the treasury, and each bad order refused with its code.

mod support;

use milk_core::genesis::demo_key;
use milk_core::tx::{Action, OrderSize, Transaction};
use milk_core::tx::{AllianceAction, ExchangeAction, TokenAction};
use milk_core::{Amount, Keypair, Symbol};
use milkd::brand::tx_hex;
use milkd::exchange::ticker::Ticker;
use milkd::{Clock, ManualClock, NodeConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Http;

const NOW: u64 = 1_900_000_000_000;

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

/// Three sources of one ticker, a little apart; their URLs.
fn start_ticker(ticker: Arc<Ticker>) -> Vec<String> {
    milkd::exchange::ticker::serve_sources(ticker, &milkd::exchange::ticker::SOURCE_SKEWS_BPS)
        .unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct Client {
    http: Http,
    clock: ManualClock,
}

impl Client {
    fn order(&self, chain: &str, key: &Keypair, action: Action) -> (u16, Value) {
        let (_, sequence) = self.http.account(&key.address(), chain, "-");
        let tx = Transaction {
            chain: chain.parse().unwrap(),
            sender: key.address(),
            sequence,
            expires_at_ms: self.clock.now_ms() + 60_000,
            action,
        }
        .sign(key);
        self.http.request(
            "POST",
            "/v1/trades",
            Some(json!({ "tx": tx_hex(&tx) }).to_string()),
            None,
        )
    }

    fn buy(&self, key: &Keypair, asset: &str, size: OrderSize, max_in: u128) -> (u16, Value) {
        self.order(
            "center",
            key,
            Action::Exchange(ExchangeAction::Buy {
                asset: sym(asset),
                pay: sym("MLK"),
                size,
                max_in: Amount::new(max_in),
            }),
        )
    }

    fn sell(&self, key: &Keypair, chain: &str, amount: u128, min_out: u128) -> (u16, Value) {
        self.order(
            chain,
            key,
            Action::Exchange(ExchangeAction::Sell {
                amount: Amount::new(amount),
                min_out: Amount::new(min_out),
            }),
        )
    }

    fn balance(&self, key: &Keypair, chain: &str, asset: &str) -> u128 {
        self.http.account(&key.address(), chain, asset).0
    }
}

/// A node of the demo network in `dir` on `clock`, its oracle fed by three sources of
/// `ticker`, settling at once; and a client with the operator's credential.
fn exchange_node(
    dir: &std::path::Path,
    clock: &ManualClock,
    ticker: &Arc<Ticker>,
) -> (milkd::Spawned, Client) {
    let mut config = NodeConfig::new(dir.join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.oracle_sources = start_ticker(ticker.clone());
    config.oracle_interval = Duration::from_millis(20);
    config.settle_retry = Duration::from_millis(20);
    let node = milkd::spawn(config, Arc::new(clock.clone())).unwrap();
    let c = Client {
        http: Http::new(&node.url()).with_token("demo-operator-token"),
        clock: clock.clone(),
    };
    (node, c)
}

#[test]
fn cinema_points_sold_for_mlk_buy_travel_points_at_a_discount() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let ticker = Ticker::new(10_000_000, 0, 1, Arc::new(clock.clone()));
    let (_node, c) = exchange_node(dir.path(), &clock, &ticker);
    wait_until("the oracle's first price", || {
        c.http.get("/v1/oracle").1["fresh"] == true
    });
    let (_, o) = c.http.get("/v1/oracle");
    assert_eq!(o["krw_e4"], 10_000_000, "{o}");

    // Three markets, priced half-way between the partner's floor and 95 % of R.
    let (s, markets) = c.http.get("/v1/markets");
    assert_eq!(s, 200);
    let assets: Vec<&str> = markets
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["asset"].as_str().unwrap())
        .collect();
    assert_eq!(assets, ["CINE", "MART", "SKY"]);
    let (_, sky) = c.http.get("/v1/markets/SKY");
    // R = 15 KRW: 87.5 % of it is 13.125 KRW.
    assert_eq!(sky["price_krw_e4"], "131250");
    assert_eq!(sky["max_price_krw_e4"], "142500");

    // A quote is free and binds nothing.
    let (s, q) = c.http.get("/v1/markets/CINE/quote?side=sell&tokens=10000");
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["total"], "86187130");
    let (s, q2) = c.http.get("/v1/markets/CINE/quote?side=buy&mlk=100000000");
    assert_eq!(s, 200, "{q2}");
    assert!(q2["total"].as_str().unwrap().parse::<u128>().unwrap() <= 100_000_000);
    let (s, e) = c.http.get("/v1/markets/CINE/quote?side=buy");
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("malformed_query"))
    );

    // Alice sells 100 cinema points for MLK...
    let alice = demo_key("alice");
    let (mlk0, cine0, sky0) = (
        c.balance(&alice, "center", "MLK"),
        c.balance(&alice, "cinema", "CINE"),
        c.balance(&alice, "skyway", "SKY"),
    );
    let (s, sale) = c.sell(&alice, "cinema", 10_000, 86_000_000);
    assert_eq!(
        (s, sale["status"].as_str()),
        (200, Some("filled")),
        "{sale}"
    );
    assert_eq!(sale["total"], q["total"]);
    let got: u128 = sale["total"].as_str().unwrap().parse().unwrap();
    assert_eq!(c.balance(&alice, "cinema", "CINE"), cine0 - 10_000);
    // With her reward for trading: 0.1 % of the value, from the user-distribution bucket.
    let gross: u128 = sale["gross"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        c.balance(&alice, "center", "MLK"),
        mlk0 + got + gross / 1_000
    );

    // ...and spends that MLK on travel points, below their redemption value.
    let (s, buy) = c.buy(&alice, "SKY", OrderSize::Mlk(Amount::new(got)), got);
    assert_eq!((s, buy["status"].as_str()), (200, Some("filled")), "{buy}");
    let bought: u128 = buy["tokens"].as_str().unwrap().parse().unwrap();
    assert_eq!(c.balance(&alice, "skyway", "SKY"), sky0 + bought);
    assert!(c.balance(&alice, "center", "MLK") >= mlk0);
    let price: u128 = buy["price_krw_e4"].as_str().unwrap().parse().unwrap();
    assert!(price < 15 * 9_500, "bought at {price}: no discount");
    let (s, again) = c
        .http
        .get(&format!("/v1/trades/{}", buy["id"].as_str().unwrap()));
    assert_eq!((s, &again["status"]), (200, &buy["status"]));

    // Price history and the treasury.
    let (s, candles) = c.http.get("/v1/markets/SKY/candles?interval_ms=60000");
    assert_eq!(s, 200);
    assert_eq!(candles.as_array().unwrap().len(), 1, "{candles}");
    assert_eq!(candles[0]["trades"], 1);
    assert_eq!(candles[0]["volume"], buy["tokens"]);
    let (s, t) = c.http.get("/v1/treasury");
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["escrow"], "0");
    let fee_total: u128 = ["fee"]
        .iter()
        .map(|k| {
            sale[k].as_str().unwrap().parse::<u128>().unwrap()
                + buy[k].as_str().unwrap().parse::<u128>().unwrap()
        })
        .sum();
    assert_eq!(t["fees"], fee_total.to_string());
    let (s, _) = c.http.request(
        "GET",
        "/v1/treasury",
        None,
        Some("Bearer demo-cinema-token"),
    );
    assert_eq!(s, 403);
    let (s, _) = c.http.request("GET", "/v1/treasury", None, None);
    assert_eq!(s, 401);
    // Where the oracle's prices come from is the operator's to see, as the treasury is.
    let (s, sources) = c.http.get("/v1/oracle/sources");
    assert_eq!(s, 200, "{sources}");
    assert!(sources.is_array(), "{sources}");
    for (token, status) in [(Some("Bearer demo-cinema-token"), 403), (None, 401)] {
        let (s, _) = c.http.request("GET", "/v1/oracle/sources", None, token);
        assert_eq!(s, status);
    }

    // Bad orders: each refused with its code, nothing moved.
    let bob = demo_key("bob");
    let bob_mlk = c.balance(&bob, "center", "MLK");
    let tokens = |n: u128| OrderSize::Tokens(Amount::new(n));
    let code = |(s, v): (u16, Value)| (s, v["error"]["code"].as_str().unwrap_or("").to_owned());
    assert_eq!(
        code(c.order(
            "center",
            &bob,
            Action::Exchange(ExchangeAction::Buy {
                asset: sym("SKY"),
                pay: sym("LZM"),
                size: tokens(100),
                max_in: Amount::new(u128::MAX)
            })
        )),
        (422, "payment_not_accepted".into())
    );
    assert_eq!(
        code(c.buy(&bob, "SKY", tokens(100), 1)),
        (422, "limit_missed".into())
    );
    assert_eq!(
        code(c.buy(&bob, "SKY", tokens(100_000_001), u128::MAX)),
        (422, "bound_reached".into())
    );
    assert_eq!(
        code(c.buy(&bob, "SKY", tokens(1_000_001), u128::MAX)),
        (422, "order_too_large".into())
    );
    assert_eq!(
        code(c.buy(&bob, "NOPE", tokens(1), u128::MAX)),
        (422, "unknown_market".into())
    );
    assert_eq!(
        code(c.order(
            "center",
            &bob,
            Action::Token(TokenAction::Burn {
                asset: sym("MLK"),
                amount: Amount::new(1)
            })
        )),
        (400, "wrong_action".into())
    );
    // A replayed order: the same signed bytes again, as a client that lost the answer sends.
    let (_, seq) = c.http.account(&bob.address(), "center", "MLK");
    let order = Transaction {
        chain: "center".parse().unwrap(),
        sender: bob.address(),
        sequence: seq,
        expires_at_ms: clock.now_ms() + 60_000,
        action: Action::Exchange(ExchangeAction::Buy {
            asset: sym("SKY"),
            pay: sym("MLK"),
            size: tokens(100),
            max_in: Amount::new(u128::MAX),
        }),
    }
    .sign(&bob);
    let post = || {
        c.http.request(
            "POST",
            "/v1/trades",
            Some(json!({ "tx": tx_hex(&order) }).to_string()),
            None,
        )
    };
    let first = post();
    assert_eq!(first.0, 200, "{}", first.1);
    let spent = bob_mlk - c.balance(&bob, "center", "MLK");
    // It answers what the first did and pays nothing more.
    assert_eq!(post(), first);
    assert_eq!(bob_mlk - c.balance(&bob, "center", "MLK"), spent);
    // A sale whose limit is missed is refused after the lock: the tokens come back.
    let bob_cine = c.balance(&bob, "cinema", "CINE");
    let (s, r) = c.sell(&bob, "cinema", 10_000, u128::MAX);
    assert_eq!(
        (s, r["status"].as_str(), r["code"].as_str()),
        (200, Some("refused"), Some("limit_missed")),
        "{r}"
    );
    assert_eq!(c.balance(&bob, "cinema", "CINE"), bob_cine);
    assert_eq!(c.balance(&bob, "center", "MLK"), bob_mlk - spent);

    // A suspended partner's token does not trade.
    let operator = demo_key("operator");
    // The node's own lane also signs with the operator's key (oracle prices): `center_tx`
    // signs again when it took the number first.
    let suspend = |action: Action| c.http.center_tx(clock.now_ms(), &operator, action);
    suspend(Action::Alliance(AllianceAction::Suspend {
        chain: "skyway".parse().unwrap(),
    }));
    assert_eq!(
        code(c.buy(&bob, "SKY", tokens(100), u128::MAX)),
        (422, "partner_suspended".into())
    );
    // The same order sent straight to the center chain meets the same rule there.
    let (_, sequence) = c.http.account(&bob.address(), "center", "-");
    let direct = Transaction {
        chain: "center".parse().unwrap(),
        sender: bob.address(),
        sequence,
        expires_at_ms: clock.now_ms() + 60_000,
        action: Action::Exchange(ExchangeAction::Buy {
            asset: sym("SKY"),
            pay: sym("MLK"),
            size: tokens(100),
            max_in: Amount::new(u128::MAX),
        }),
    }
    .sign(&bob);
    let r = c.http.submit("center", &[direct], true).unwrap();
    let refused = r.results[0].error.as_ref().map(|e| e.code.as_str());
    assert_eq!(refused, Some("partner_suspended"), "{:?}", r.results[0]);
    suspend(Action::Alliance(AllianceAction::Reinstate {
        chain: "skyway".parse().unwrap(),
    }));

    // A stale price halts trading and quoting: the ticker's quotes age, the clock moves on.
    ticker.set_age(120_000);
    clock.advance(61_000);
    assert_eq!(
        code(c.buy(&bob, "SKY", tokens(100), u128::MAX)),
        (422, "oracle_stale".into())
    );
    assert_eq!(
        code(c.http.get("/v1/markets/SKY/quote?side=buy&tokens=100")),
        (422, "oracle_stale".into())
    );
    // Fresh again: trading resumes.
    ticker.set_age(0);
    wait_until("a fresh price", || {
        c.http.get("/v1/oracle").1["fresh"] == true
    });
    let (s, v) = c.buy(&bob, "SKY", tokens(100), u128::MAX);
    assert_eq!((s, v["status"].as_str()), (200, Some("filled")), "{v}");

    // A week later the epoch is over: the cinema gets its share of its customers' volume
    // without anyone asking.
    let cinema = demo_key("partner:cinema");
    let before = c.balance(&cinema, "center", "MLK");
    clock.advance(8 * 86_400_000);
    wait_until("the cinema's contribution reward", || {
        c.balance(&cinema, "center", "MLK") > before
    });
    // Its share of alice's 100 CINE sale: X for the year the epoch is in (0.41 % in the
    // fifth year after the demo's listing).
    let rewards = milk_core::genesis::Genesis::demo()
        .membership
        .unwrap()
        .rewards;
    let rate = rewards.rate_bps(NOW / rewards.epoch_ms);
    assert_eq!(rate, 41);
    let gross: u128 = sale["gross"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        c.balance(&cinema, "center", "MLK"),
        before + gross * u128::from(rate) / 10_000
    );
}

/// Signs `action` on `chain` with the given sequence number.
fn signed(
    c: &Client,
    chain: &str,
    key: &Keypair,
    sequence: u64,
    action: Action,
) -> milk_core::tx::SignedTransaction {
    Transaction {
        chain: chain.parse().unwrap(),
        sender: key.address(),
        sequence,
        expires_at_ms: c.clock.now_ms() + 60_000,
        action,
    }
    .sign(key)
}

fn token_transfer(to: &Keypair, asset: &str, amount: u128) -> Action {
    Action::Token(TokenAction::Transfer {
        to: to.address(),
        asset: sym(asset),
        amount: Amount::new(amount),
        memo: String::new(),
    })
}

#[test]
fn an_order_is_reported_as_it_stands_from_sent_to_settled() {
    let dir = tempfile::tempdir().unwrap();
    let ticker = Ticker::new(10_000_000, 0, 1, Arc::new(ManualClock::new(NOW)));
    let node = support::test_node(dir.path(), NOW, |config| {
        config.oracle_sources = start_ticker(ticker.clone());
        config.oracle_interval = Duration::from_millis(20);
        // Nothing settles by itself during the test: each step is seen as it stands.
        config.settle_retry = Duration::from_secs(3_600);
        // An order placed while it cannot commit is answered pending after this long.
        config.commit_wait = Duration::from_secs(2);
    });
    let c = Client {
        http: Http::new(&node.url()).with_token(support::OPERATOR_TOKEN),
        clock: ManualClock::new(NOW),
    };
    wait_until("the oracle's first price", || {
        c.http.get("/v1/oracle").1["fresh"] == true
    });
    let status = |id: &str| c.http.get(&format!("/v1/trades/{id}"));
    let place = |order: &milk_core::tx::SignedTransaction| {
        let body = json!({ "tx": tx_hex(order) }).to_string();
        c.http.request("POST", "/v1/trades", Some(body), None)
    };
    let (alice, bob) = (demo_key("alice"), demo_key("bob"));

    // A sale sent one sequence number ahead waits in the cinema chain's pool: pending.
    let (_, next) = c.http.account(&alice.address(), "cinema", "CINE");
    let sell = Action::Exchange(ExchangeAction::Sell {
        amount: Amount::new(10_000),
        min_out: Amount::new(1),
    });
    let sale = signed(&c, "cinema", &alice, next + 1, sell);
    let id = sale.tx.id().to_hex();
    let r = c
        .http
        .submit("cinema", std::slice::from_ref(&sale), false)
        .unwrap();
    assert!(r.results[0].error.is_none(), "{:?}", r.results[0].error);
    let (s, v) = status(&id);
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            &v["status"],
            &v["side"],
            &v["asset"],
            &v["tokens"],
            &v["mlk_limit"]
        ),
        (
            &json!("pending"),
            &json!("sell"),
            &json!("CINE"),
            &json!("10000"),
            &json!("1")
        ),
        "{v}"
    );
    assert_eq!(v["user"], alice.address().to_string());
    assert!(
        v.get("total").is_none(),
        "an unpriced order has no total: {v}"
    );
    // Placed while it still waits, it is answered pending, with the moment after which it
    // can no longer commit (its expiry).
    let (s, e) = place(&sale);
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (202, Some("pending")),
        "{e}"
    );
    let until = milk_core::moment::utc(sale.tx.expires_at_ms);
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&until), "{e}");

    // The gap filled, the sale is on its chain with its tokens in escrow: locked.
    let gap = signed(&c, "cinema", &alice, next, token_transfer(&bob, "CINE", 1));
    c.http.submit("cinema", &[gap], true).unwrap();
    wait_until("the sale to be locked", || {
        status(&id).1["status"] == "locked"
    });

    // Placing the same order settles it; placing it again answers the same.
    let (s, filled) = place(&sale);
    assert_eq!(
        (s, filled["status"].as_str()),
        (200, Some("filled")),
        "{filled}"
    );
    let (s, again) = place(&sale);
    assert_eq!((s, &again), (200, &filled));
    assert_eq!(status(&id), (200, filled.clone()));

    // A buy sent straight to the center chain is priced there at once; placing it settles
    // its delivery: priced, then filled.
    let buyer = support::account(0);
    let (_, seq) = c.http.account(&buyer.address(), "center", "MLK");
    let buy = Action::Exchange(ExchangeAction::Buy {
        asset: sym("CINE"),
        pay: sym("MLK"),
        size: OrderSize::Tokens(Amount::new(6_000)),
        max_in: Amount::new(u128::MAX),
    });
    let order = signed(&c, "center", &buyer, seq, buy);
    let r = c
        .http
        .submit("center", std::slice::from_ref(&order), true)
        .unwrap();
    assert!(r.results[0].error.is_none(), "{:?}", r.results[0].error);
    let buy_id = order.tx.id().to_hex();
    let (s, v) = status(&buy_id);
    assert_eq!(
        (s, &v["status"], &v["side"], &v["tokens"]),
        (200, &json!("priced"), &json!("buy"), &json!("6000")),
        "{v}"
    );
    assert!(
        v["total"].as_str().is_some(),
        "a priced trade has its total: {v}"
    );
    let (s, v) = place(&order);
    assert_eq!((s, v["status"].as_str()), (200, Some("filled")), "{v}");
    assert_eq!(status(&buy_id).1["status"], "filled");

    // A sale below its limit is refused; the refusal is what the trade says afterwards.
    let (s, v) = c.sell(&alice, "cinema", 10_000, u128::from(u64::MAX));
    assert_eq!((s, v["status"].as_str()), (200, Some("refused")), "{v}");
    assert!(v["code"].is_string(), "{v}");
    assert_eq!(status(v["id"].as_str().unwrap()).1, v);

    // Ids that are not orders.
    let (s, v) = status(&milk_core::Hash([9; 32]).to_hex());
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("unknown_trade"))
    );
    let tx = signed(
        &c,
        "center",
        &buyer,
        seq + 1,
        token_transfer(&bob, "MLK", 1),
    );
    c.http
        .submit("center", std::slice::from_ref(&tx), true)
        .unwrap();
    let (s, v) = status(&tx.tx.id().to_hex());
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("not_an_order")),
        "{v}"
    );
    node.stop().unwrap();
}

#[test]
fn a_lying_price_source_is_outvoted_and_two_that_disagree_record_nothing() {
    use milkd::exchange::{oracle, ticker};
    let dir = tempfile::tempdir().unwrap();
    let node = support::test_node(dir.path(), NOW, |_| {});
    let http = Http::new(&node.url());
    let clock = Arc::new(ManualClock::new(NOW));
    let honest = ticker::serve_sources(Ticker::new(10_000_000, 0, 1, clock.clone()), &[0, 10]);
    let honest = honest.unwrap();
    // KRW 0.01 for an MLK worth KRW 1,000.
    let liar = ticker::serve_sources(Ticker::new(100, 0, 1, clock), &[0]).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let round =
        |sources: Vec<String>| rt.block_on(oracle::round(&node.node, &sources, ticker::MARKET));
    // One honest source against the liar: no quorum agrees, nothing is recorded, and
    // trading waits.
    assert_eq!(round(vec![honest[0].clone(), liar[0].clone()]), None);
    let (s, v) = http.get("/v1/oracle");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("oracle_missing"))
    );
    // Two honest sources outvote it: their price is recorded, stamped with their quote time.
    let all = vec![honest[0].clone(), liar[0].clone(), honest[1].clone()];
    assert_eq!(round(all), Some(10_000_000));
    let (_, v) = http.get("/v1/oracle");
    assert_eq!(
        (v["krw_e4"].as_u64(), v["observed_at_ms"].as_u64()),
        (Some(10_000_000), Some(NOW))
    );
    assert_eq!(
        (&v["fresh"], &v["buy_krw_e4"], &v["sell_krw_e4"]),
        (&json!(true), &json!(10_000_000), &json!(10_000_000))
    );
    node.stop().unwrap();
}

#[test]
fn a_round_trip_across_an_oracle_move_loses_money() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let ticker = Ticker::new(10_000_000, 0, 1, Arc::new(clock.clone()));
    let (node, c) = exchange_node(dir.path(), &clock, &ticker);
    let krw_e4 = |c: &Client| c.http.get("/v1/oracle").1["krw_e4"].as_u64();
    wait_until("the oracle's first price", || {
        krw_e4(&c) == Some(10_000_000)
    });
    let alice = demo_key("alice");
    let before = c.balance(&alice, "center", "MLK");
    let tokens = OrderSize::Tokens(Amount::new(100_000));
    let (s, buy) = c.buy(&alice, "SKY", tokens, u128::MAX);
    assert_eq!((s, buy["status"].as_str()), (200, Some("filled")), "{buy}");
    // MLK falls 1.9 % on the exchanges (within the band): a sale back would be paid 1.9 %
    // more MLK at the new price alone. It is priced at the window's highest, the old one.
    ticker.set(9_810_000);
    clock.advance(1_000);
    wait_until("the new price", || krw_e4(&c) == Some(9_810_000));
    let (s, sale) = c.sell(&alice, "skyway", 100_000, 0);
    assert_eq!(
        (s, sale["status"].as_str()),
        (200, Some("filled")),
        "{sale}"
    );
    assert_eq!(sale["mlk_krw_e4"], 10_000_000, "{sale}");
    let after = c.balance(&alice, "center", "MLK");
    assert!(after < before, "the round trip paid {after} for {before}");
    node.stop().unwrap();
}

#[test]
fn a_sandwich_at_the_largest_order_loses_money() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let ticker = Ticker::new(10_000_000, 0, 1, Arc::new(clock.clone()));
    let (node, c) = exchange_node(dir.path(), &clock, &ticker);
    wait_until("the oracle's first price", || {
        c.http.get("/v1/oracle").1["fresh"] == true
    });
    let (_, m) = c.http.get("/v1/markets/CINE");
    let max: u128 = m["max_order"].as_str().unwrap().parse().unwrap();
    // A quote past the largest order is refused as the order would be, in whole tokens.
    let (s, q) = c.http.get(&format!(
        "/v1/markets/CINE/quote?side=buy&tokens={}",
        max + 1
    ));
    let said = q["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(
        (s, q["error"]["code"].as_str()),
        (422, Some("order_too_large")),
        "{q}"
    );
    assert!(!said.contains("base units"), "{said}");
    let (s, q) = c
        .http
        .get(&format!("/v1/markets/CINE/quote?side=buy&tokens={max}"));
    assert_eq!(
        (s, q["largest_now"].as_str()),
        (200, Some(&*max.to_string())),
        "{q}"
    );
    let (attacker, victim) = (demo_key("alice"), demo_key("bob"));
    let before = c.balance(&attacker, "center", "MLK");
    // Front-run, the victim's largest order, then back out: MLK rewards included, a loss.
    let tokens = OrderSize::Tokens(Amount::new(max));
    for (who, buys) in [(&attacker, true), (&victim, true), (&attacker, false)] {
        // Each in a later block: a block's time names it, and the clock stands still here.
        clock.advance(1);
        let (s, t) = if buys {
            c.buy(who, "CINE", tokens, u128::MAX)
        } else {
            c.sell(who, "cinema", max, 0)
        };
        assert_eq!((s, t["status"].as_str()), (200, Some("filled")), "{t}");
    }
    let after = c.balance(&attacker, "center", "MLK");
    assert!(after < before, "the sandwich paid {after} for {before}");
    node.stop().unwrap();
}
