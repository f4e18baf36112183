//! Every rule is the chain's: each partner and exchange action the API refuses, sent
//! straight to its chain's submit endpoint instead, gets the same refusal, and neither path
//! changes anything. (Suspension, the one condition the API also reads from the alliance,
//! is walked both ways in `alliance.rs` and `exchange.rs`.)

mod support;

use milk_core::brand::PolicyTerms;
use milk_core::genesis::demo_key;
use milk_core::tx::Transaction;
use milk_core::tx::{Action, BrandAction, ExchangeAction, OrderSize, SignedTransaction};
use milk_core::{Amount, Hash, Keypair, Signature, Symbol};
use milkd::brand::tx_hex;
use serde_json::{Value, json};
use support::Http;

const NOW: u64 = 1_900_000_000_000;

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

/// One refusal to try both ways.
struct Case {
    what: &'static str,
    chain: &'static str,
    key: Keypair,
    action: Action,
    /// The API endpoint that takes it.
    endpoint: &'static str,
    /// The refusal expected from both.
    code: &'static str,
}

fn sign(http: &Http, chain: &str, key: &Keypair, action: Action) -> SignedTransaction {
    let asset = if chain == "center" { "MLK" } else { "-" };
    let (_, sequence) = http.account(&key.address(), chain, asset);
    Transaction {
        chain: chain.parse().unwrap(),
        sender: key.address(),
        sequence,
        expires_at_ms: NOW + 60_000,
        action,
    }
    .sign(key)
}

fn buy(asset: &str, pay: &str, size: OrderSize) -> Action {
    Action::Exchange(ExchangeAction::Buy {
        asset: sym(asset),
        pay: sym(pay),
        size,
        max_in: Amount::new(u128::MAX),
    })
}

fn cases() -> Vec<Case> {
    let (skyway, alice) = (demo_key("partner:skyway"), demo_key("alice"));
    let stranger = Keypair::from_label("both-paths/stranger");
    let tokens = |n: u128| OrderSize::Tokens(Amount::new(n));
    let partner = |what, key: &Keypair, action, endpoint, code| Case {
        what,
        chain: "skyway",
        key: key.clone(),
        action: Action::Brand(action),
        endpoint,
        code,
    };
    let trade = |what, chain, key: &Keypair, action, code| Case {
        what,
        chain,
        key: key.clone(),
        action,
        endpoint: "/v1/trades",
        code,
    };
    vec![
        partner(
            "a conversion for a wallet that is not linked",
            &skyway,
            BrandAction::Convert {
                to: stranger.address(),
                mileage: 1_000,
                reference: "both-paths-1".into(),
            },
            "/v1/partners/skyway/conversions",
            "not_linked",
        ),
        partner(
            "a conversion by someone other than the issuer",
            &alice,
            BrandAction::Convert {
                to: alice.address(),
                mileage: 1_000,
                reference: "both-paths-2".into(),
            },
            "/v1/partners/skyway/conversions",
            "not_issuer",
        ),
        partner(
            "a redemption of more than the customer holds",
            &alice,
            BrandAction::Redeem {
                amount: Amount::new(u128::from(u64::MAX)),
                order_id: "both-paths-3".into(),
            },
            "/v1/partners/skyway/redemptions",
            "insufficient_balance",
        ),
        partner(
            "a refund of a redemption that never was",
            &skyway,
            BrandAction::Refund {
                order_id: "no-such-order".into(),
            },
            "/v1/partners/skyway/refunds",
            "unknown_redemption",
        ),
        partner(
            "a link the partner did not sign",
            &stranger,
            BrandAction::Link {
                customer_hash: Hash([3; 32]),
                partner_signature: Signature::NONE,
            },
            "/v1/partners/skyway/links",
            "bad_partner_signature",
        ),
        partner(
            "terms whose smallest conversion exceeds the largest",
            &skyway,
            BrandAction::SetPolicy {
                terms: PolicyTerms {
                    transfers_allowed: true,
                    min_conversion: Amount::new(10),
                    max_conversion: Amount::new(1),
                    daily_user_limit: Amount::new(100),
                },
            },
            "/v1/partners/skyway/policy",
            "invalid_policy",
        ),
        partner(
            "a sweep of an account with nothing expired",
            &skyway,
            BrandAction::Expire {
                account: alice.address(),
            },
            "/v1/partners/skyway/sweeps",
            "nothing_expired",
        ),
        trade(
            "a buy paid in LZM",
            "center",
            &alice,
            buy("SKY", "LZM", tokens(100)),
            "payment_not_accepted",
        ),
        trade(
            "a buy of a token with no market",
            "center",
            &alice,
            buy("NOPE", "MLK", tokens(100)),
            "unknown_market",
        ),
        trade(
            "a buy larger than the market's largest order",
            "center",
            &alice,
            buy("SKY", "MLK", tokens(1_000_001)),
            "order_too_large",
        ),
        trade(
            "a buy past TICA's position",
            "center",
            &alice,
            buy("SKY", "MLK", tokens(100_000_001)),
            "bound_reached",
        ),
        trade(
            "a buy of nothing",
            "center",
            &alice,
            buy("SKY", "MLK", tokens(0)),
            "zero_amount",
        ),
        trade(
            "a sale of more than the customer holds",
            "skyway",
            &alice,
            Action::Exchange(ExchangeAction::Sell {
                amount: Amount::new(u128::from(u64::MAX)),
                min_out: Amount::new(1),
            }),
            "insufficient_balance",
        ),
    ]
}

/// What the chain refuses `tx` with when it comes straight to its submit endpoint.
fn direct(http: &Http, chain: &str, tx: &SignedTransaction) -> Option<String> {
    let r = http.submit(chain, std::slice::from_ref(tx), true).unwrap();
    r.results[0].error.as_ref().map(|e| e.code.clone())
}

/// What the API endpoint answers `tx` with.
fn through_api(http: &Http, endpoint: &str, tx: &SignedTransaction) -> (u16, Value) {
    let body = json!({ "tx": tx_hex(tx) }).to_string();
    let auth = format!("Bearer {}", support::OPERATOR_TOKEN);
    http.request("POST", endpoint, Some(body), Some(&auth))
}

#[test]
fn every_refusal_of_the_api_is_the_chains_own() {
    let dir = tempfile::tempdir().unwrap();
    let node = support::test_node(dir.path(), NOW, |_| {});
    let http = Http::new(&node.url()).with_token(support::OPERATOR_TOKEN);
    // The oracle has a price, so trades reach the rules that concern them.
    let oracle = Action::Exchange(ExchangeAction::OraclePrice {
        krw_e4: 10_000_000,
        observed_at_ms: NOW,
    });
    http.center_tx(NOW, &demo_key("operator"), oracle);
    for case in cases() {
        let tx = sign(&http, case.chain, &case.key, case.action.clone());
        let (status, api) = through_api(&http, case.endpoint, &tx);
        assert_eq!(
            (status, api["error"]["code"].as_str()),
            (422, Some(case.code)),
            "{}: the API answered {api}",
            case.what
        );
        let chain = direct(&http, case.chain, &tx);
        assert_eq!(chain.as_deref(), Some(case.code), "{}: directly", case.what);
        // Refused both ways: never committed, and the sender's sequence did not move.
        let (s, v) = http.get(&format!("/v1/chains/{}/txs/{}", case.chain, tx.tx.id()));
        assert_ne!(
            (s, v["status"].as_str()),
            (200, Some("committed")),
            "{}",
            case.what
        );
        assert_eq!(
            sign(&http, case.chain, &case.key, case.action).tx.sequence,
            tx.tx.sequence
        );
    }
}
