//! The node's pages in a real browser: Debian's Chromium, headless, driven by
//! `playwright-core` (from the npm registry, installed under cargo's target directory the
//! first time) through `tests/web/e2e.mjs`, against a real `milkd` on the demo network.
//!
//! What a person does there is checked twice: by the script, as it goes, and here, against
//! the node's API: the gift the page signed is on its chain, bob holds it, and the page's
//! encoder gave the node's own bytes, id and signature for every golden vector.
//!
//! Needs `node` and `npm` and Chromium at `/usr/bin/chromium` (`apt-get install chromium`;
//! `.ci/run` installs it) or where `MILK_CHROMIUM` says. A screenshot of each page, at phone
//! and at desktop size, is kept in `target/web-shots/` (or where `MILK_WEB_SHOTS` says).

mod support;

use milk_core::genesis::demo_key;

use milk_core::tx::{
    Action, AllianceAction, BrandAction, ExchangeAction, MembershipAction, OrderSize,
    SignedTransaction, TokenAction, Transaction,
};
use milk_core::{Amount, ChainId, Keypair};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const PLAYWRIGHT: &str = "playwright-core@1.65.2";

/// A directory holding the script beside an installed `playwright-core`.
fn driver() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    if !dir.join("node_modules/playwright-core").exists() {
        let installed = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg(PLAYWRIGHT)
            .status()
            .expect("npm runs (install Node.js and npm)");
        assert!(installed.success(), "npm install {PLAYWRIGHT} failed");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web/e2e.mjs");
    std::fs::copy(script, dir.join("e2e.mjs")).unwrap();
    dir
}

fn chromium() -> String {
    let path = std::env::var("MILK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&path).exists(),
        "no Chromium at {path}: install Debian's (apt-get install chromium) or set MILK_CHROMIUM"
    );
    path
}

/// A transaction of alice's on `chain`.
fn from_alice(chain: &str, sequence: u64, action: Action) -> Transaction {
    Transaction {
        chain: chain.parse().unwrap(),
        sender: demo_key("alice").address(),
        sequence,
        expires_at_ms: 1_900_000_000_000_u64.saturating_add(sequence),
        action,
    }
}

/// Orders: a buy sized in tokens, one sized in MLK, a sale.
fn exchange_vectors() -> Vec<Transaction> {
    let buy = |asset: &str, size: OrderSize, max_in: u128| ExchangeAction::Buy {
        asset: asset.parse().unwrap(),
        pay: "MLK".parse().unwrap(),
        size,
        max_in: Amount::new(max_in),
    };
    let sell = ExchangeAction::Sell {
        amount: Amount::new(1_000),
        min_out: Amount::new(987_654),
    };
    [
        (
            "center",
            buy("SKY", OrderSize::Tokens(Amount::new(1_000)), 1_234_567_890),
        ),
        (
            "center",
            buy(
                "CINE",
                OrderSize::Mlk(Amount::new(500_000_000)),
                500_000_000,
            ),
        ),
        ("cinema", sell),
    ]
    .into_iter()
    .map(|(chain, order)| from_alice(chain, 3, Action::Exchange(order)))
    .collect()
}

/// Membership and data sharing: check-in, a burn, an offer, the Pack, consents.
fn membership_vectors() -> Vec<Transaction> {
    let cinema: ChainId = "cinema".parse().unwrap();
    let member = |a: MembershipAction| ("center", Action::Membership(a));
    let sharing = |a: BrandAction| ("cinema", Action::Brand(a));
    let actions = [
        member(MembershipAction::CheckIn),
        member(MembershipAction::BurnForLzm {
            amount: Amount::new(2_000_000_000),
        }),
        member(MembershipAction::BuyOffer {
            chain: cinema.clone(),
            id: "PREMIERE".into(),
        }),
        member(MembershipAction::JoinPack {
            amount: Amount::new(150_000_000),
        }),
        member(MembershipAction::LeavePack),
        sharing(BrandAction::GrantConsent {
            chain: cinema.clone(),
            purpose: "VIP offers".into(),
            items: vec!["level".into(), "activity".into()],
            retention_days: 90,
        }),
        sharing(BrandAction::WithdrawConsent { chain: cinema }),
    ];
    actions
        .into_iter()
        .map(|(chain, action)| from_alice(chain, 3, action))
        .collect()
}

/// Transfers: a gift with a message, the largest amount with a UTF-8 one, the smallest with
/// none, and numbers past what a JavaScript number holds exactly.
fn transfer_vectors() -> Vec<Transaction> {
    let gift = |chain: &str, asset: &str, units: u128, memo: &str, sequence: u64| {
        let transfer = TokenAction::Transfer {
            to: demo_key("bob").address(),
            asset: asset.parse().unwrap(),
            amount: Amount::new(units),
            memo: memo.to_owned(),
        };
        from_alice(chain, sequence, Action::Token(transfer))
    };
    let mut far = gift("center", "MLK", 1, "", u64::MAX - 1);
    far.expires_at_ms = u64::MAX;
    vec![
        gift("center", "MLK", 1_250_000_000, "for your trip", 0),
        gift("skyway", "SKY", u128::MAX, "선물이에요 🎁", 9),
        gift("cinema", "CINE", 1, "", 1 << 40),
        far,
    ]
}

/// A main-chain address, EIP-55 checksummed.
const MAIN_ADDRESS: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/// Withdrawals to the main chain: a small one and the largest amount and fee.
fn bridge_vectors() -> Vec<Transaction> {
    let withdraw = |to: &str, amount: u128, max_fee: u128| {
        let to = to.parse().unwrap();
        let (amount, max_fee) = (Amount::new(amount), Amount::new(max_fee));
        from_alice(
            "center",
            4,
            Action::Bridge(milk_core::tx::BridgeAction::Withdraw {
                to,
                amount,
                max_fee,
            }),
        )
    };
    vec![
        withdraw(MAIN_ADDRESS, 2_000_000_000, 100_000_000),
        withdraw(
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
            u128::MAX,
            u128::MAX,
        ),
    ]
}

/// Transactions the wallet signs, made by the node's own code: the page must give the
/// same bytes, id and signature. Each with its JSON as the page takes it.
fn golden_vectors() -> Vec<(SignedTransaction, Value)> {
    let alice = demo_key("alice");
    let txs = exchange_vectors()
        .into_iter()
        .chain(membership_vectors())
        .chain(bridge_vectors())
        .chain(transfer_vectors());
    txs.map(|tx| {
        let mut as_json = serde_json::to_value(&tx).unwrap();
        // JSON numbers lose precision past 2^53 in JavaScript: the page takes these, like
        // amounts, as decimal strings.
        as_json["sequence"] = json!(tx.sequence.to_string());
        as_json["expires_at_ms"] = json!(tx.expires_at_ms.to_string());
        (tx.sign(&alice), as_json)
    })
    .collect()
}

/// The vectors as the script reads them, written into `dir`.
fn write_vectors(dir: &Path, vectors: &[(SignedTransaction, Value)]) -> PathBuf {
    let seed = hex::encode(demo_key("alice").secret());
    let list: Vec<Value> = vectors
        .iter()
        .map(|(_, tx)| json!({ "seed": seed, "tx": tx }))
        .collect();
    let file = dir.join("vectors.json");
    std::fs::write(&file, serde_json::to_vec(&list).unwrap()).unwrap();
    file
}

/// Where the screenshots go, emptied of an earlier run's.
fn shots_dir() -> PathBuf {
    let shots = std::env::var_os("MILK_WEB_SHOTS").map_or_else(
        || Path::new(env!("CARGO_TARGET_TMPDIR")).join("../web-shots"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&shots).unwrap();
    for old in std::fs::read_dir(&shots).unwrap().flatten() {
        if old.path().extension().is_some_and(|e| e == "png") {
            std::fs::remove_file(old.path()).unwrap();
        }
    }
    shots
}

/// What the node held before the session, to compare with after it.
struct Before {
    bob_sky: u128,
    alice_cine: u128,
    alice_mlk: u128,
    center_height: u64,
}

fn before(http: &support::Http) -> Before {
    let (alice, bob) = (demo_key("alice").address(), demo_key("bob").address());
    Before {
        bob_sky: http.account(&bob, "skyway", "SKY").0,
        alice_cine: http.account(&alice, "cinema", "CINE").0,
        alice_mlk: http.account(&alice, "center", "MLK").0,
        center_height: http.get("/v1/chains/center").1["head"]["height"]
            .as_u64()
            .unwrap(),
    }
}

/// Runs the script against the node at `url`; what the person saw, as it reported it.
fn browse(url: &str, vectors: &Path, secrets: &Value) -> Value {
    let chromium = chromium();
    let out = Command::new("node")
        .current_dir(driver())
        .arg("e2e.mjs")
        .env("MILK_WEB_URL", url)
        .env("MILK_WEB_VECTORS", vectors)
        .env("MILK_WEB_BOB", demo_key("bob").address().to_string())
        .env("MILK_WEB_MAIN_ADDRESS", MAIN_ADDRESS)
        .env("MILK_WEB_ALICE", demo_key("alice").address().to_string())
        .env("MILK_WEB_SECRETS", secrets.to_string())
        .env("MILK_WEB_SHOTS", shots_dir())
        .env("MILK_CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser session failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap()
}

/// The demo network's node, with its demo traffic, on a free loopback port.
fn demo_node(dir: &Path) -> (std::process::Child, String) {
    let data = dir.join("data");
    support::spawn_milkd([
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
}

#[test]
fn a_person_uses_the_wallet_and_the_explorer_in_chromium() {
    let data = tempfile::tempdir().unwrap();
    let (mut node, url) = demo_node(data.path());
    let vectors = golden_vectors();
    let vectors_file = write_vectors(data.path(), &vectors);
    let http = support::Http::new(&url).with_token("demo-operator-token");
    let conversion = give_alice_miles(&http);
    gym_applies(&http);
    let (_, block) = http.get("/v1/chains/skyway/blocks/1");
    let secrets = json!({
        "typed": conversion,
        "secrets": [block["hash"], block["state_root"], "WEB-1"],
    });
    let before = before(&http);
    let seen = browse(&url, &vectors_file, &secrets);
    eprintln!(
        "web: the wallet's passphrase prompt after {} ms, its balances {} ms after unlocking",
        seen["walletPromptMs"], seen["walletUnlockMs"]
    );
    check_explorer(&seen);
    check_wallet(&seen, &http, &before);
    check_membership(&seen, &http);
    check_consoles(&seen, &http);
    check_golden_vectors(&seen, &vectors);
    check_alice_money(&http, &before);
    node.kill().unwrap();
    node.wait().unwrap();
}

/// That the page reported `text` under `key`.
fn saw(seen: &Value, key: &str, text: &str) {
    let shown = seen[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key}: {seen}"));
    assert!(shown.contains(text), "{key} should say {text:?}: {shown}");
}

fn check_explorer(seen: &Value) {
    assert_eq!(seen["pageErrors"], json!([]), "{seen}");
    assert_eq!(seen["leaked"], json!([]), "private data reached a page");
    assert!(seen["anonymousResponses"].as_u64().unwrap() >= 20, "{seen}");
    saw(seen, "privateChain", "private");
    assert_eq!(seen["liveMoved"], json!(true));
    assert_eq!(seen["operatorSeesSkyway"], json!(true));
    saw(seen, "proof", "✓ Merkle proof checked");
    assert_eq!(seen["chartLines"], json!(3), "floor, maximum, price now");
    assert!(seen["candles"].as_u64().unwrap() >= 1, "{seen}");
    saw(seen, "quotes", "Buying 1 CINE costs");
    saw(seen, "bridgedSupply", "Across both chains 1,300,000,000");
}

fn check_wallet(seen: &Value, http: &support::Http, before: &Before) {
    let (alice, bob) = (demo_key("alice").address(), demo_key("bob").address());
    saw(seen, "aliceAddress", &alice.to_string());
    saw(seen, "typoRefused", "checksum");
    saw(seen, "sent", "25 SKY");
    saw(seen, "expiring", "SKY expire on");
    saw(seen, "history", "−25 SKY");
    saw(seen, "history", "for your trip");
    saw(seen, "history", "sale paid");
    saw(seen, "history", "−10 CINE");
    saw(seen, "traded", "Filled in");
    saw(seen, "bought", "Filled in");
    saw(seen, "quote", "below its redemption value");
    saw(seen, "mainTypoRefused", "no checksum");
    saw(seen, "withdrawals", "20 MLK");
    saw(seen, "withdrawals", &MAIN_ADDRESS[..8]);
    saw(seen, "withdrawals", "waiting");
    saw(seen, "depositHow", "deposit(amount, 0x");
    // The withdrawal the page signed is on the center chain: alice's, burned, waiting.
    let (_, ws) = http.get(&format!("/v1/bridge/withdrawals?account={alice}"));
    assert_eq!(ws[0]["to"], json!(MAIN_ADDRESS), "{ws}");
    assert_eq!(ws[0]["amount"], json!("2000000000"));
    assert_eq!(ws[0]["status"], json!("awaiting_main_chain"));
    // The gift is on the airline's chain, signed by alice, and bob holds it.
    let id = seen["giftTx"].as_str().unwrap();
    let (status, tx) = http.get(&format!("/v1/chains/skyway/txs/{id}"));
    assert_eq!((status, &tx["status"]), (200, &json!("committed")), "{tx}");
    assert_eq!(tx["tx"]["tx"]["sender"], json!(alice.to_string()));
    assert_eq!(tx["tx"]["tx"]["action"]["to"], json!(bob.to_string()));
    let bob_sky = http.account(&bob, "skyway", "SKY").0;
    assert_eq!(bob_sky, before.bob_sky + 2_500, "exactly 25 SKY arrived");
    // A key made in the page: a real address, kept encrypted, opened by its passphrase.
    let fresh = seen["freshAddress"].as_str().unwrap();
    assert!(fresh.parse::<milk_core::Address>().is_ok(), "{fresh}");
    assert_eq!(seen["unlocked"].as_str(), Some(fresh));
    assert_eq!(seen["seedStoredInClear"], json!(false));
}

fn check_membership(seen: &Value, http: &support::Http) {
    saw(seen, "offers", "99 left");
    saw(seen, "consented", "sharing level and activity");
    saw(seen, "pack", "You committed 1.5 MLK");
    let (_, member) = http.get(&format!("/v1/members/{}", demo_key("alice").address()));
    assert_eq!(member["level_name"], "Silver", "{member}");
    assert_eq!(member["pack"]["committed"], "150000000", "{member}");
}

fn check_consoles(seen: &Value, http: &support::Http) {
    saw(seen, "partnerSupply", "Outstanding");
    saw(seen, "lookup", "\"mileage\": 300");
    saw(seen, "partnerAsOperator", "forbidden");
    saw(seen, "otherPartner", "private");
    saw(seen, "halted", "halted");
    saw(seen, "maxRefused", "9,500 basis points");
    assert_eq!(seen["sources"], json!(3), "the demo's three tickers");
    assert!(
        !seen["sourcesText"]
            .as_str()
            .unwrap()
            .contains("did not answer")
    );
    let heads = seen["heads"].as_str().unwrap();
    assert!(heads.matches("blocks linked").count() >= 5, "{heads}");
    assert!(
        heads.contains("anchored") && !heads.contains('✗'),
        "{heads}"
    );
    // What the console did, as the API has it.
    let (_, markets) = http.get("/v1/markets");
    let market = |asset: &str| {
        let all = markets.as_array().unwrap();
        all.iter().find(|m| m["asset"] == asset).unwrap().clone()
    };
    assert_eq!(market("MART")["halted"], json!(true));
    assert_eq!(market("MART")["fee_bps"], json!(160));
    assert_eq!(
        market("GYM")["capacity"],
        "200000000",
        "opened from the console"
    );
    let (_, alliance) = http.get("/v1/alliance");
    let gym = alliance
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["chain"] == "gym");
    assert_eq!(gym.unwrap()["status"], "admitted");
    let (_, rules) = http.get("/v1/membership/rules");
    assert_eq!(rules["rules"]["check_in"], "200000000", "{rules}");
}

/// The sale took exactly 10 CINE (2 decimals); her MLK moved exactly as her center-chain
/// history says it did since the session began: the sale paid her, the purchase, the burn
/// and the Pack took.
fn check_alice_money(http: &support::Http, before: &Before) {
    let alice = demo_key("alice").address();
    let cine = http.account(&alice, "cinema", "CINE").0;
    assert_eq!(cine, before.alice_cine - 1_000);
    let (_, history) = http.get(&format!("/v1/accounts/{alice}/history?chain=center"));
    let since: Vec<&Value> = (history["lines"].as_array().unwrap().iter())
        .filter(|l| l["height"].as_u64() > Some(before.center_height))
        .collect();
    let kinds: Vec<&str> = since.iter().map(|l| l["type"].as_str().unwrap()).collect();
    for kind in ["settle_sell", "buy", "burn_for_lzm", "join_pack"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let net: i128 = (since.iter())
        .flat_map(|l| l["changes"].as_array().unwrap().clone())
        .filter(|c| c["asset"] == "MLK")
        .map(|c| {
            let units: i128 = c["amount"].as_str().unwrap().parse().unwrap();
            if c["direction"] == "in" {
                units
            } else {
                -units
            }
        })
        .sum();
    let after = http.account(&alice, "center", "MLK").0 as i128;
    assert_eq!(after, before.alice_mlk as i128 + net, "{since:?}");
}

/// Skyway converts 300 miles for alice, so she holds points that expire; returns the
/// conversion's id.
fn give_alice_miles(http: &support::Http) -> String {
    let (alice, issuer) = (demo_key("alice"), demo_key("partner:skyway"));
    let now = support::now_ms();
    let convert = Transaction {
        chain: "skyway".parse().unwrap(),
        sender: issuer.address(),
        sequence: http.account(&issuer.address(), "skyway", "SKY").1,
        expires_at_ms: now + 60_000,
        action: Action::Brand(BrandAction::Convert {
            to: alice.address(),
            mileage: 300,
            reference: "WEB-1".into(),
        }),
    }
    .sign(&issuer);
    let id = convert.tx.id().to_hex();
    let link = support::demo_link("skyway", &alice, "WEB-ALICE", now);
    let answer = http.submit("skyway", &[link, convert], true).unwrap();
    assert!(
        answer.results.iter().all(|r| r.status == "committed"),
        "{:?}",
        answer.results
    );
    id
}

/// Iron Gym applies to the alliance and every member approves: TICA's signature is left for
/// the operator console.
fn gym_applies(http: &support::Http) {
    let application = milkd::demo::application("gym", "Iron Gym", "fitness", "GYM", None);
    let send = |key: &Keypair, action: AllianceAction| {
        let tx = Transaction {
            chain: ChainId::center(),
            sender: key.address(),
            sequence: http.account(&key.address(), "center", "MLK").1,
            expires_at_ms: support::now_ms() + 60_000,
            action: Action::Alliance(action),
        }
        .sign(key);
        let answer = http.submit("center", &[tx], true).unwrap();
        assert_eq!(
            answer.results[0].status, "committed",
            "{:?}",
            answer.results
        );
    };
    send(
        &demo_key("partner:gym"),
        AllianceAction::Apply { application },
    );
    for partner in ["skyway", "cinema", "dailymart", "bookshop"] {
        let approve = AllianceAction::Approve {
            chain: "gym".parse().unwrap(),
        };
        send(&demo_key(&format!("partner:{partner}")), approve);
    }
}

fn check_golden_vectors(seen: &Value, vectors: &[(SignedTransaction, Value)]) {
    let page = seen["vectors"].as_array().expect("the page's vectors");
    assert_eq!(page.len(), vectors.len());
    for ((signed, _), got) in vectors.iter().zip(page) {
        let bytes = milk_core::codec::Encode::to_bytes(signed);
        assert_eq!(got["signed"].as_str(), Some(hex::encode(&bytes).as_str()));
        assert_eq!(got["id"].as_str(), Some(signed.tx.id().to_hex().as_str()));
        assert_eq!(
            got["signature"].as_str(),
            Some(hex::encode(signed.signature.0).as_str())
        );
        assert_eq!(
            got["address"].as_str(),
            Some(signed.tx.sender.to_string().as_str())
        );
    }
}

/// The live feed carries only the heads a caller may read: anonymous callers the center
/// chain's, a partner its own chain's too, never another partner's.
#[test]
fn the_live_feed_shows_each_caller_only_the_chains_it_may_read() {
    let data = tempfile::tempdir().unwrap();
    let (mut node, url) = demo_node(data.path());
    let heads = |token: Option<&str>| {
        let events = read_live(&url, token);
        let mut chains: Vec<String> = events
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| serde_json::from_str::<Value>(d.trim()).unwrap()["chain"].to_string())
            .collect();
        chains.sort();
        chains.dedup();
        chains
    };
    assert_eq!(heads(None), ["\"center\""]);
    assert_eq!(
        heads(Some("demo-skyway-token")),
        ["\"center\"", "\"skyway\""]
    );
    let all = heads(Some("demo-operator-token"));
    assert!(
        all.len() >= 4 && all.contains(&"\"cinema\"".to_owned()),
        "{all:?}"
    );
    let refused = read_live(&url, Some("not-a-credential"));
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    node.kill().unwrap();
    node.wait().unwrap();
}

/// What `/live` sends in its first second.
fn read_live(url: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    write!(stream, "GET /live HTTP/1.1\r\nhost: {addr}\r\n{auth}\r\n").unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let (mut out, mut buf) = (Vec::new(), [0u8; 4096]);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while std::time::Instant::now() < until {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
