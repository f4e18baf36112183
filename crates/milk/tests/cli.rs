//! The CLI as a person uses it: the README walkthrough against a real node, then `verify`
//! catching a flipped byte in a stopped node's store and naming the block.

mod support;

use milkd::{NodeConfig, SystemClock};
use redb::ReadableTable;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use support::{json, milk, ok};

/// Text for a person: no amount in base units (no run of ten digits or more, which base
/// units of 8-decimal MLK soon are).
fn in_whole_units(text: &str) {
    let longest = (text.split(|c: char| !c.is_ascii_digit()).map(str::len)).max();
    assert!(
        longest.unwrap_or(0) < 10 && !text.contains("base units"),
        "{text}"
    );
}

#[test]
fn walkthrough_then_verify_names_a_tampered_block() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    let mut config = NodeConfig::new(data.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(SystemClock)).unwrap();
    let url = node.url();
    let m = |args: &[&str]| milk(&home, &url, args);

    ok(m(&["key", "demo", "alice"]));
    ok(m(&["key", "demo", "bob"]));
    let list = ok(m(&["key", "list"]));
    assert!(list.contains("alice") && list.contains("bob"), "{list}");
    let chains = json(m(&["chains", "--json"]));
    assert_eq!(chains.as_array().unwrap().len(), 4);

    let sent = json(m(&[
        "transfer", "--from", "alice", "--to", "bob", "--amount", "12.5", "--asset", "MLK",
        "--json",
    ]));
    assert_eq!(sent["status"], "committed");
    let gift = json(m(&[
        "transfer",
        "--from",
        "alice",
        "--to",
        "bob",
        "--amount",
        "25",
        "--asset",
        "SKY",
        "--memo",
        "for your trip",
        "--json",
    ]));
    assert_eq!(gift["status"], "committed");
    let second = json(m(&[
        "transfer", "--from", "bob", "--to", "alice", "--amount", "0.5", "--asset", "MLK", "--json",
    ]));
    assert_eq!(second["height"], 2);

    let bob = json(m(&["balance", "bob", "--json"]));
    let display = |chain: &str, asset: &str| {
        bob["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chain"] == chain)
            .unwrap()["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == asset)
            .unwrap()["display"]
            .clone()
    };
    assert_eq!(display("center", "MLK"), "10012");
    assert_eq!(display("skyway", "SKY"), "5025");

    let tx = json(m(&["tx", "center", sent["id"].as_str().unwrap(), "--json"]));
    assert_eq!(
        (tx["status"].as_str(), tx["proof_verified"].as_bool()),
        (Some("committed"), Some(true))
    );

    // Bad input: a clear error, a failing exit status, nothing sent.
    let out = m(&[
        "transfer", "--from", "alice", "--to", "bob", "--amount", "99999999", "--asset", "MLK",
    ]);
    assert_eq!(out.status.code(), Some(1), "a refusal exits 1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("insufficient_balance"), "{err}");
    // In MLK, as the person typed it: not in base units.
    assert!(
        err.contains("move 99,999,999 MLK") && !err.contains("base units"),
        "{err}"
    );
    let out = m(&[
        "transfer",
        "--from",
        "alice",
        "--to",
        "bob",
        "--amount",
        "1.000000001",
        "--asset",
        "MLK",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 8 decimal places"));
    assert_eq!(out.status.code(), Some(2), "bad input exits 2");
    let out = m(&[
        "transfer",
        "--from",
        "alice",
        "--to",
        "milk1qqqq",
        "--amount",
        "1",
        "--asset",
        "MLK",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a milk address"));
    let out = milk(&home, &url, &["key", "show", "nobody"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key named"));
    // Only the demo's own keys are demo keys.
    let out = milk(&home, &url, &["key", "demo", "mallory"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("the demo keys are alice, bob"),
        "{err}"
    );
    // A node that does not answer: exit 2, and with --json the one error shape.
    let out = milk(&home, "http://127.0.0.1:9", &["balance", "alice", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["error"]["code"], "unreachable", "{said}");

    let verified = json(m(&["verify", "--json"]));
    assert_eq!(verified["ok"], true);
    node.stop().unwrap();

    // The stopped node's stores verify directly...
    let data_arg = data.to_str().unwrap();
    let verified = json(m(&["verify", "--data-dir", data_arg, "--json"]));
    assert_eq!(verified["ok"], true, "{verified}");

    // ...until one byte of block 2 changes: the report names that block, and block 1 is fine.
    {
        let blocks: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("blocks");
        let db = redb::Database::open(milkd::node::chain_store_path(
            &data,
            &"center".parse().unwrap(),
        ))
        .unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut table = tx.open_table(blocks).unwrap();
            let mut bytes = table.get(2).unwrap().unwrap().value().to_vec();
            let last = bytes.len() - 70; // inside the transaction, before its signature
            bytes[last] ^= 0x01;
            table.insert(2, bytes.as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let out = m(&["verify", "--data-dir", data_arg, "--chain", "center"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("center: BAD at block 2"), "{text}");
}

#[test]
fn a_partner_runs_its_customers_points_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(SystemClock)).unwrap();
    let url = node.url();
    let m = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_milk"))
            .args(args)
            .env("MILK_HOME", &home)
            .env("MILK_NODE", &url)
            .env("MILK_PASSPHRASE", "test passphrase")
            .env("MILK_API_TOKEN", "demo-cinema-token")
            .env("MILK_CUSTOMER_SALT", "cinema-secret-salt")
            .output()
            .unwrap()
    };
    ok(m(&["key", "demo", "alice"]));
    ok(m(&["key", "demo", "partner:cinema", "--name", "cinema"]));

    let linked = json(m(&[
        "partner",
        "link",
        "--chain",
        "cinema",
        "--user",
        "alice",
        "--partner-key",
        "cinema",
        "--customer",
        "MOVIE-FAN-9",
        "--json",
    ]));
    assert_eq!(linked["status"], "committed");
    let convert = [
        "partner",
        "convert",
        "--chain",
        "cinema",
        "--partner-key",
        "cinema",
        "--to",
        "alice",
        "--mileage",
        "120",
        "--reference",
        "ticket stub/7",
        "--json",
    ];
    let first = json(m(&convert));
    assert_eq!(
        (first["amount"].as_str(), first["replayed"].as_bool()),
        (Some("12000"), Some(false))
    );
    let retry = json(m(&convert));
    assert_eq!(
        (retry["replayed"].as_bool(), &retry["tx"]["id"]),
        (Some(true), &first["tx"]["id"])
    );
    let looked_up = json(m(&[
        "partner",
        "conversion",
        "--chain",
        "cinema",
        "ticket stub/7",
        "--json",
    ]));
    assert_eq!(looked_up["mileage"], 120);

    let receipt = json(m(&[
        "partner",
        "redeem",
        "--chain",
        "cinema",
        "--user",
        "alice",
        "--amount",
        "50",
        "--order",
        "POPCORN-1",
        "--json",
    ]));
    assert_eq!(
        (receipt["amount"].as_str(), receipt["value_krw"].as_str()),
        (Some("5000"), Some("500"))
    );
    let refunded = json(m(&[
        "partner",
        "refund",
        "--chain",
        "cinema",
        "--partner-key",
        "cinema",
        "--order",
        "POPCORN-1",
        "--json",
    ]));
    assert_eq!(refunded["refunded"], true);
    let supply = json(m(&["partner", "supply", "--chain", "cinema", "--json"]));
    assert_eq!(
        (supply["issued"].as_str(), supply["redeemed"].as_str()),
        (Some("12000"), Some("5000"))
    );
    // For a person: in CINE (2 decimals), with what "issued" leaves out.
    let text = ok(m(&["partner", "supply", "--chain", "cinema"]));
    assert!(
        text.contains("issued: 120\n") && text.contains("genesis allocations"),
        "{text}"
    );
    in_whole_units(&text);

    let events = json(m(&["partner", "events", "--chain", "cinema", "--json"]));
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["link", "conversion", "redemption", "refund"]);

    // The partner lowers its largest conversion to 50 CINE: a 120-mile conversion is refused
    // with the chain's code, then allowed again once the partner raises it back.
    let terms = |max: &'static str| {
        [
            "partner",
            "set-policy",
            "--chain",
            "cinema",
            "--partner-key",
            "cinema",
            "--transfers",
            "true",
            "--min-conversion",
            "1",
            "--max-conversion",
            max,
            "--daily-limit",
            "2000",
            "--json",
        ]
    };
    let set = json(m(&terms("50")));
    assert_eq!(set["status"], "committed", "{set}");
    let mut again = convert;
    again[11] = "ticket stub/8";
    let refused = m(&again);
    assert!(!refused.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(said.contains("conversion_out_of_range"), "{said}");
    assert_eq!(json(m(&terms("10000")))["status"], "committed");
    let converted = json(m(&again));
    assert_eq!(converted["replayed"], false, "{converted}");

    // Export the chain for an auditor; it verifies offline, and one changed byte is caught
    // and named.
    let file = dir.path().join("cinema.export");
    let file_arg = file.to_str().unwrap();
    let exported = json(m(&[
        "export", "--chain", "cinema", "--out", file_arg, "--json",
    ]));
    let blocks = exported["blocks"].as_u64().unwrap();
    assert!(blocks >= 4, "{exported}");
    let offline = json(m(&["verify", "--file", file_arg, "--json"]));
    assert_eq!(offline["ok"], true, "{offline}");
    // The two say the same blocks: 0 to the head, the genesis block compared, the rest
    // replayed.
    let said = ok(m(&["export", "--chain", "cinema", "--out", file_arg]));
    let last = blocks - 1;
    assert!(
        said.contains(&format!(
            "blocks 0 to {last} (its genesis block and {last} more)"
        )),
        "{said}"
    );
    let said = ok(m(&["verify", "--file", file_arg]));
    assert!(
        said.contains(&format!("blocks 1 to {last} replayed")),
        "{said}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let target = 3; // line 0 is the header, so this is block 2
    let mut bytes = lines[target].clone().into_bytes();
    let at = bytes.len() - 200; // inside a transaction
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    lines[target] = String::from_utf8(bytes).unwrap();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = m(&["verify", "--file", file_arg]);
    assert_eq!(out.status.code(), Some(2));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains("cinema: BAD at block 2"), "{report}");
    // Without a credential a private chain cannot be exported.
    let out = Command::new(env!("CARGO_BIN_EXE_milk"))
        .args(["export", "--chain", "cinema", "--out", file_arg])
        .env("MILK_HOME", &home)
        .env("MILK_NODE", &url)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("private"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An auditor the partner grants reads the chain; revoked, it reads nothing.
    let grant = json(m(&[
        "partner",
        "grant-auditor",
        "--chain",
        "cinema",
        "--json",
    ]));
    let auditor = grant["token"].as_str().unwrap();
    let audited = json(m(&[
        "verify", "--chain", "cinema", "--token", auditor, "--json",
    ]));
    assert_eq!(
        (
            audited["ok"].as_bool(),
            audited["chains"][0]["skipped"].is_null()
        ),
        (Some(true), true),
        "{audited}"
    );
    let ids = json(m(&["partner", "auditors", "--chain", "cinema", "--json"]));
    assert!(ids.as_array().unwrap().contains(&grant["id"]), "{ids}");
    json(m(&[
        "partner",
        "revoke-auditor",
        "--chain",
        "cinema",
        grant["id"].as_str().unwrap(),
        "--json",
    ]));
    let out = m(&["verify", "--chain", "cinema", "--token", auditor]);
    assert!(!out.status.success(), "a revoked credential still works");

    // Webhooks: registered with a secret shown once, listed without it, removed.
    let hook = json(m(&[
        "partner",
        "add-webhook",
        "--chain",
        "cinema",
        "--url",
        "http://127.0.0.1:9/events",
        "--json",
    ]));
    assert_eq!(hook["secret"].as_str().map(str::len), Some(64), "{hook}");
    let hooks = json(m(&["partner", "webhooks", "--chain", "cinema", "--json"]));
    assert_eq!(hooks[0]["id"], hook["id"]);
    assert!(hooks[0].get("secret").is_none());
    let out = m(&[
        "partner",
        "add-webhook",
        "--chain",
        "cinema",
        "--url",
        "ftp://nowhere",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid_url"));
    json(m(&[
        "partner",
        "remove-webhook",
        "--chain",
        "cinema",
        hook["id"].as_str().unwrap(),
        "--json",
    ]));

    // Another partner's chain with this credential: refused, and said so.
    let out = m(&["partner", "supply", "--chain", "skyway"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"));
}

#[test]
fn a_rewritten_brand_chain_is_caught_by_the_center_chains_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // Two nodes from the same demo genesis; on skyway, alice pays bob on one and carol on
    // the other: two valid histories of the same chain.
    let run = |data: &Path, to: &str| {
        let mut config = NodeConfig::new(data.to_path_buf());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.anchor_interval = std::time::Duration::from_millis(20);
        let node = milkd::spawn(config, Arc::new(SystemClock)).unwrap();
        let url = node.url();
        let m = |args: &[&str]| milk(&home, &url, args);
        if !home.join("keys").join("alice.json").exists() {
            ok(m(&["key", "demo", "alice"]));
        }
        ok(m(&[
            "transfer", "--from", "alice", "--to", to, "--amount", "1", "--asset", "SKY",
        ]));
        // The operator's node anchors skyway's new head on the center chain.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let anchors: serde_json::Value = ureq::get(&format!("{url}/v1/anchors/skyway"))
                .call()
                .unwrap()
                .body_mut()
                .read_json()
                .unwrap();
            // Its first anchor seals block 1, the only one.
            if anchors.as_array().unwrap().iter().any(|a| a["number"] == 0) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "skyway was never anchored"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        node.stop().unwrap();
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let a_skyway = milkd::node::chain_store_path(&a, &"skyway".parse().unwrap());
    run(
        &a,
        &milk_core::genesis::demo_key("bob").address().to_string(),
    );
    run(
        &b,
        &milk_core::genesis::demo_key("carol").address().to_string(),
    );
    let verify = |data: &Path| {
        milk(
            &home,
            "http://127.0.0.1:9",
            &[
                "verify",
                "--data-dir",
                data.to_str().unwrap(),
                "--chain",
                "skyway",
            ],
        )
    };
    assert!(verify(&a).status.success());
    assert!(verify(&b).status.success());

    // The partner swaps in the other history: valid on its own, but not what was anchored.
    std::fs::copy(
        milkd::node::chain_store_path(&b, &"skyway".parse().unwrap()),
        &a_skyway,
    )
    .unwrap();
    let out = verify(&a);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("skyway: BAD at block 1") && text.contains("anchored"),
        "{text}"
    );
}

#[test]
fn a_company_joins_the_alliance_from_the_cli_and_its_new_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    let mut config = NodeConfig::new(data.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(SystemClock)).unwrap();
    let url = node.url();
    let m = |token: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_milk"))
            .args(args)
            .env("MILK_HOME", &home)
            .env("MILK_NODE", &url)
            .env("MILK_PASSPHRASE", "test passphrase")
            .env("MILK_API_TOKEN", token)
            .output()
            .unwrap()
    };
    let op = |args: &[&str]| m("demo-operator-token", args);
    ok(op(&["key", "demo", "operator"]));
    ok(op(&["key", "new", "lantern"]));
    for p in ["skyway", "cinema", "dailymart"] {
        ok(op(&["key", "demo", &format!("partner:{p}"), "--name", p]));
    }

    let applied = json(op(&[
        "alliance",
        "apply",
        "--key",
        "lantern",
        "--chain",
        "bookshop",
        "--name",
        "Paper Lantern Books",
        "--sector",
        "books",
        "--symbol",
        "BOOK",
        "--redemption-value",
        "10",
        "--units-per-mileage",
        "100",
        "--min-conversion",
        "10",
        "--max-conversion",
        "100000",
        "--daily-limit",
        "200000",
        "--float",
        "1000000",
        "--json",
    ]));
    assert_eq!(applied["done"], "applied");
    // TICA cannot sign before the members approve; the error says why. (TICA's actions go
    // through the node, which signs with the operator's key: the key never leaves it.)
    let early = op(&["alliance", "sign", "bookshop"]);
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("quorum_not_reached"));
    for p in ["skyway", "cinema", "dailymart"] {
        ok(op(&["alliance", "approve", "bookshop", "--key", p]));
    }
    ok(op(&["alliance", "sign", "bookshop"]));
    let shown = json(op(&["alliance", "show", "bookshop", "--json"]));
    assert_eq!(
        (shown["status"].as_str(), shown["hosted"].as_bool()),
        (Some("admitted"), Some(true)),
        "{shown}"
    );
    let text = ok(op(&["alliance", "show", "bookshop"]));
    let float = milk_core::Amount::new(shown["initial_float"].as_str().unwrap().parse().unwrap());
    let whole =
        milk_core::amount::grouped(&float.to_decimal(shown["decimals"].as_u64().unwrap() as u8));
    assert!(
        text.contains(&format!("initial float: {whole}\n")),
        "{text}"
    );
    in_whole_units(&text);
    let list = ok(op(&["alliance", "list"]));
    assert!(list.contains("Paper Lantern Books"), "{list}");
    ok(op(&["alliance", "suspend", "bookshop"]));
    let shown = json(op(&["alliance", "show", "bookshop", "--json"]));
    assert_eq!(shown["status"], "suspended", "{shown}");
    ok(op(&["alliance", "reinstate", "bookshop"]));
    // TICA opens its market, TICA at most at the float its inventory received.
    let open = |position: &str| {
        op(&[
            "policy",
            "open",
            "BOOK",
            "--depth",
            "2000000",
            "--position",
            position,
            "--max-order",
            "10000",
            "--daily-limit",
            "50000",
        ])
    };
    let out = open("1000001");
    assert!(String::from_utf8_lossy(&out.stderr).contains("depth_exceeds_stock"));
    ok(open("1000000"));
    let market = json(op(&["market", "BOOK", "--json"]));
    assert_eq!(market["markets"][0]["position"], "100000000", "{market}");
    // Without the operator's credential the node signs nothing.
    let out = m("demo-cinema-token", &["alliance", "suspend", "bookshop"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"));

    let credential = json(op(&["alliance", "issue-credential", "bookshop", "--json"]));
    let token = credential["token"].as_str().unwrap();
    let supply = json(m(
        token,
        &["partner", "supply", "--chain", "bookshop", "--json"],
    ));
    assert_eq!(supply["held_by_tica"], "100000000");
    // Another partner's credential reads nothing of it.
    let out = m(
        "demo-cinema-token",
        &["partner", "supply", "--chain", "bookshop"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"));

    // `verify` rebuilds the new chain's genesis from the center chain's records, through the
    // node and from the stopped node's data directory.
    let verified = json(op(&["verify", "--json"]));
    assert_eq!(verified["ok"], true, "{verified}");
    let checked = |v: &serde_json::Value| {
        v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["chain"] == "bookshop" && c["skipped"].is_null())
    };
    assert!(checked(&verified), "{verified}");
    node.stop().unwrap();
    let offline = json(op(&[
        "verify",
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(offline["ok"], true, "{offline}");
    assert!(checked(&offline), "{offline}");
}

#[test]
fn cinema_points_become_travel_points_through_the_exchange() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // MLK at KRW 1,000 from three local tickers, through the node's oracle.
    let ticker = milkd::exchange::ticker::Ticker::new(10_000_000, 0, 1, Arc::new(SystemClock));
    let skews = &milkd::exchange::ticker::SOURCE_SKEWS_BPS;
    let urls = milkd::exchange::ticker::serve_sources(ticker, skews).unwrap();
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.oracle_sources = urls;
    config.oracle_interval = Duration::from_millis(50);
    let node = milkd::spawn(config, Arc::new(SystemClock)).unwrap();
    let url = node.url();
    let m = |args: &[&str]| milk(&home, &url, args);
    ok(m(&["key", "demo", "alice"]));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !json(m(&["market", "--json"]))["oracle"]["fresh"]
        .as_bool()
        .unwrap_or(false)
    {
        assert!(std::time::Instant::now() < deadline, "no oracle price");
        std::thread::sleep(Duration::from_millis(20));
    }
    let market = ok(m(&["market"]));
    assert!(
        market.contains("CINE") && market.contains("8.75"),
        "{market}"
    );
    // The largest buy shown is the market's order limit where that binds, not the curve's.
    let limit: u128 = client_market(&url, "CINE")["max_order"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let cine = market.lines().find(|l| l.starts_with("CINE")).unwrap();
    let shown = cine.split_whitespace().last().unwrap();
    assert_eq!(
        shown,
        milk_core::amount::grouped(&milk_core::Amount::new(limit).to_decimal(2)),
        "{market}"
    );

    let quote = json(m(&[
        "quote", "CINE", "--side", "sell", "--amount", "100", "--json",
    ]));
    assert_eq!(quote["total"], "86187130");
    let sold = json(m(&[
        "sell", "--from", "alice", "--asset", "CINE", "--amount", "100", "--json",
    ]));
    assert_eq!(
        (sold["status"].as_str(), sold["total"].as_str()),
        (Some("filled"), Some("86187130")),
        "{sold}"
    );
    let bought = json(m(&[
        "buy",
        "--from",
        "alice",
        "--asset",
        "SKY",
        "--mlk",
        "0.8618713",
        "--json",
    ]));
    assert_eq!(bought["status"], "filled", "{bought}");
    // Travel points at a discount: below 95 % of their KRW 15 value.
    let price: u128 = bought["price_krw_e4"].as_str().unwrap().parse().unwrap();
    assert!(price < 142_500, "{bought}");
    // A limit that cannot be met: refused, and said so (exit 1, the one error shape); the
    // tokens stay with alice.
    let out = m(&[
        "sell",
        "--from",
        "alice",
        "--asset",
        "CINE",
        "--amount",
        "1",
        "--min-out",
        "1000",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let refused: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refused["error"]["code"], "limit_missed", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("went back"),
        "{refused}"
    );
    // Later, each trade's status: filled, or refused with why (a fact now: exit 0).
    let id = sold["id"].as_str().unwrap();
    let status = ok(m(&["trade", id]));
    assert!(status.starts_with("sold 100 CINE"), "{status}");
    let message = refused["error"]["message"].as_str().unwrap();
    let refused_id = message.split_whitespace().nth(1).unwrap();
    let status = ok(m(&["trade", refused_id]));
    assert!(status.starts_with("refused (limit_missed)"), "{status}");
    // Alice reads her own sale order on the private cinema chain, as herself.
    assert!(!m(&["tx", "cinema", id]).status.success());
    let own = json(m(&["tx", "cinema", id, "--as", "alice", "--json"]));
    assert_eq!(
        (own["status"].as_str(), own["proof_verified"].as_bool()),
        (Some("committed"), Some(true)),
        "{own}"
    );
    // Sized in MLK: the fewest tokens that bring at least that much.
    let by_mlk = json(m(&[
        "sell", "--from", "alice", "--asset", "CINE", "--mlk", "0.5", "--json",
    ]));
    assert_eq!(by_mlk["status"], "filled", "{by_mlk}");
    assert!(by_mlk["total"].as_str().unwrap().parse::<u128>().unwrap() >= 50_000_000);
    let out = m(&[
        "buy",
        "--from",
        "alice",
        "--asset",
        "SKY",
        "--amount",
        "1",
        "--max-in",
        "0.00000001",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit_missed"));

    // Her history: each balance change and why, newest first, in whole units.
    let history = ok(m(&["history", "alice", "--limit", "50"]));
    in_whole_units(&history);
    for reason in [
        "sell order placed",
        "sold: paid, MLK reward included",
        "bought: tokens delivered",
        "bought: the trade's MLK reward",
        "sale not filled: tokens returned",
    ] {
        assert!(history.contains(reason), "{reason}: {history}");
    }
    // The first sale paid its total and a trade reward on top.
    let center = json(m(&["history", "alice", "--chain", "center", "--json"]));
    let lines = center["lines"].as_array().unwrap();
    let paid = lines
        .iter()
        .rev()
        .find(|l| l["type"] == "settle_sell")
        .unwrap();
    let got: u128 = paid["changes"][0]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        got > 86_187_130 && paid["changes"][0]["direction"] == "in",
        "{paid}"
    );

    // TICA's policy, through the node with the operator's credential.
    let op = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--token", "demo-operator-token"]);
        milk(&home, &url, &all)
    };
    ok(op(&["policy", "halt", "CINE"]));
    let out = m(&["quote", "CINE", "--side", "sell", "--amount", "1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("market_halted"));
    let out = m(&[
        "sell",
        "--from",
        "alice",
        "--asset",
        "CINE",
        "--amount",
        "1",
        "--min-out",
        "0",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let halted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(halted["error"]["code"], "market_halted", "{halted}");
    ok(op(&["policy", "resume", "CINE"]));
    ok(op(&["policy", "fee", "200"]));
    assert_eq!(client_market(&url, "CINE")["fee_bps"], 200);
    ok(op(&["policy", "limits", "CINE", "--daily-limit", "60000"]));
    assert_eq!(client_market(&url, "CINE")["user_daily_limit"], "6000000");
    let out = op(&["policy", "depth", "CINE", "4000000"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("depth_exceeds_stock"));
    ok(op(&["policy", "depth", "CINE", "1000000"]));
    ok(m(&["key", "demo", "partner:cinema", "--name", "cinema"]));
    ok(op(&[
        "policy",
        "floor",
        "CINE",
        "7000",
        "--partner-key",
        "cinema",
    ]));
    assert_eq!(client_market(&url, "CINE")["min_price_krw_e4"], "70000");
    ok(op(&["policy", "max", "CINE", "9000"]));
    assert_eq!(client_market(&url, "CINE")["max_price_krw_e4"], "90000");
    let out = op(&["policy", "max", "CINE", "9600"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid_market"));
    let out = op(&["policy", "confirm-price", "1000"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing_to_confirm"));
    let out = m(&["policy", "halt", "CINE"]);
    assert!(
        !out.status.success(),
        "halted without the operator's credential"
    );

    let treasury = Command::new(env!("CARGO_BIN_EXE_milk"))
        .args(["treasury", "--json", "--token", "demo-operator-token"])
        .env("MILK_NODE", &url)
        .output()
        .unwrap();
    let t: serde_json::Value = serde_json::from_slice(&treasury.stdout).unwrap();
    assert_eq!(t["escrow"], "0", "{t}");
    let text = ok(m(&["treasury", "--token", "demo-operator-token"]));
    assert!(
        text.starts_with("reserve ") && text.contains("CINE: inventory"),
        "{text}"
    );
    in_whole_units(&text);
    // Every chain replays, and each trade's two legs agree across the chains.
    let verified = Command::new(env!("CARGO_BIN_EXE_milk"))
        .args(["verify", "--json", "--token", "demo-operator-token"])
        .env("MILK_NODE", &url)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    audit_export_checks_trades_offline(&home, &url, dir.path());
}

/// An auditor's export of the cinema chain carries the center chain's legs of its trades
/// with their proofs: it verifies offline, and an export whose center-chain settlement of a
/// sale was left out, or whose evidence was altered, is refused.
fn audit_export_checks_trades_offline(home: &Path, url: &str, dir: &Path) {
    let file = dir.join("cinema.export");
    let f = file.to_str().unwrap();
    let m = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--token", "demo-operator-token"]);
        milk(home, url, &all)
    };
    let exported = json(m(&["export", "--chain", "cinema", "--out", f, "--json"]));
    assert!(
        exported["center_evidence"].as_u64().unwrap() >= 2,
        "{exported}"
    );
    assert_eq!(json(m(&["verify", "--file", f, "--json"]))["ok"], true);
    let text = std::fs::read_to_string(&file).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let header: serde_json::Value = serde_json::from_str(first).unwrap();
    let write = |header: &serde_json::Value| {
        std::fs::write(&file, format!("{header}\n{rest}")).unwrap();
        milk(home, url, &["verify", "--file", f])
    };
    // Without the center chain's settlement of a sale that released tokens to TICA (sent
    // alone or in a batch of TICA's settlement steps).
    let settles = |e: &serde_json::Value| {
        use milk_core::tx::{Action, ExchangeAction};
        let tx = hex::decode(e["tx"].as_str().unwrap()).unwrap();
        let tx = <milk_core::tx::SignedTransaction as milk_core::codec::Decode>::from_bytes(&tx);
        match tx.unwrap().tx.action {
            Action::Exchange(ExchangeAction::SettleSell { .. }) => true,
            Action::Exchange(ExchangeAction::SettleBatch { steps }) => {
                (steps.iter()).any(|s| matches!(s, ExchangeAction::SettleSell { .. }))
            }
            _ => false,
        }
    };
    let mut cut = header.clone();
    cut["center"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !settles(e));
    let out = write(&cut);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("released to TICA without TICA's settlement"),
        "{report}"
    );
    // One character of the header changed (in TICA's address): the header is named.
    let damaged = first.replacen("\"operator\":\"milk1", "\"operator\":\"milk2", 1);
    std::fs::write(&file, format!("{damaged}\n{rest}")).unwrap();
    let out = milk(home, url, &["verify", "--file", f]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("its header (line 1"), "{said}");
    // A proof that names another position in its block.
    let mut altered = header.clone();
    let piece = &mut altered["center"][0];
    piece["index"] = serde_json::json!(piece["leaf_count"].as_u64().unwrap() + 1);
    let out = write(&altered);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("its proof does not lead"), "{said}");
}

/// A market as the node shows it.
fn client_market(url: &str, asset: &str) -> serde_json::Value {
    let body = ureq::get(&format!("{url}/v1/markets/{asset}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_member_checks_in_burns_mlk_and_sees_level_and_supply() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config, Arc::new(SystemClock)).unwrap();
    let url = node.url();
    let m = |args: &[&str]| milk(&home, &url, args);
    for k in ["bob", "operator"] {
        ok(m(&["key", "demo", k]));
    }
    ok(m(&["key", "demo", "partner:cinema", "--name", "cinema"]));

    let checked = json(m(&["check-in", "--from", "bob", "--json"]));
    assert_eq!(checked["earned_in_window"], "1000000000", "{checked}");
    let again = m(&["check-in", "--from", "bob"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already_checked_in"));
    ok(m(&["burn-for-lzm", "--from", "bob", "--amount", "2"]));
    let said = ok(m(&[
        "membership",
        "coupon",
        "--partner-key",
        "cinema",
        "--user",
        "bob",
        "--krw",
        "50000",
        "--coupon",
        "POPCORN-COUPON-1",
        "--token",
        "demo-cinema-token",
    ]));
    assert!(said.contains("earned 100 LZM for it"), "{said}");
    let level = json(m(&["level", "bob", "--json"]));
    // 10 (check-in) + 10 (2 MLK burned) + 100 (a KRW 50,000 coupon) = 120 LZM: Silver.
    assert_eq!(
        (
            level["level_name"].as_str(),
            level["earned_in_window"].as_str()
        ),
        (Some("Silver"), Some("12000000000")),
        "{level}"
    );
    let reasons: Vec<&str> = level["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 3, "{level}");
    let text = ok(m(&["level", "bob"]));
    assert!(
        text.contains("Silver") && text.contains("for Gold"),
        "{text}"
    );
    let pack = ok(m(&["pack", "bob"]));
    assert!(pack.contains("MiL.k Pack"), "{pack}");
    in_whole_units(&pack);
    // Dates as dates, in the reader's time zone.
    assert!(
        text.contains("leaves the window on 20") && !text.contains("Unix ms"),
        "{text}"
    );
    ok(m(&[
        "membership",
        "floor",
        "bob",
        "--level",
        "3",
        "--reason",
        "launch partner guest",
        "--key",
        "operator",
    ]));
    assert_eq!(json(m(&["level", "bob", "--json"]))["level_name"], "VIP");
    // A premium offer for Gold members and up: bob, a VIP by TICA's floor, buys one.
    ok(m(&[
        "membership",
        "publish-offer",
        "--partner-key",
        "cinema",
        "--id",
        "PREMIERE",
        "--title",
        "Premiere night",
        "--level",
        "2",
        "--price",
        "5",
        "--stock",
        "1",
    ]));
    let offers = json(m(&["membership", "offers", "--json"]));
    assert_eq!(
        (offers[0]["id"].as_str(), offers[0]["left"].as_u64()),
        (Some("PREMIERE"), Some(1))
    );
    ok(m(&[
        "membership",
        "buy-offer",
        "--from",
        "bob",
        "--chain",
        "cinema",
        "--id",
        "PREMIERE",
    ]));
    let sold_out = m(&[
        "membership",
        "buy-offer",
        "--from",
        "bob",
        "--chain",
        "cinema",
        "--id",
        "PREMIERE",
    ]);
    assert!(String::from_utf8_lossy(&sold_out.stderr).contains("sold_out"));
    let out = m(&[
        "membership",
        "floor",
        "bob",
        "--level",
        "3",
        "--reason",
        "x",
        "--key",
        "bob",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not_operator"));

    // Data sharing: bob consents to the cinema; it reads him under a pseudonym, and he sees
    // the read; skyway sees nothing of him; withdrawn, the cinema sees nothing either.
    ok(m(&[
        "membership",
        "consent",
        "--from",
        "bob",
        "--chain",
        "cinema",
        "--purpose",
        "VIP screenings",
    ]));
    let partner = |token: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_milk"))
            .args(args)
            .env("MILK_HOME", &home)
            .env("MILK_NODE", &url)
            .env("MILK_API_TOKEN", token)
            .output()
            .unwrap()
    };
    let seg = json(partner(
        "demo-cinema-token",
        &[
            "membership",
            "segment",
            "--chain",
            "cinema",
            "--level",
            "2",
            "--json",
        ],
    ));
    assert_eq!(seg.as_array().unwrap().len(), 1, "{seg}");
    assert_eq!(seg[0]["level"], "VIP");
    assert_eq!(seg[0]["activity"]["check_in"], "1000000000");
    assert!(
        !seg.to_string().contains("milk1"),
        "an address leaked: {seg}"
    );
    let other = json(partner(
        "demo-skyway-token",
        &["membership", "segment", "--chain", "skyway", "--json"],
    ));
    assert_eq!(other.as_array().unwrap().len(), 0);
    let auditor = partner(
        "demo-cinema-auditor-token",
        &["membership", "segment", "--chain", "cinema"],
    );
    assert!(String::from_utf8_lossy(&auditor.stderr).contains("forbidden"));
    let me = json(m(&["level", "bob", "--json"]));
    assert_eq!(me["access_log"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["access_log"][0]["chain"], "cinema");
    // Anyone else reading bob's level learns nothing of his consents or of the reads.
    let public = json(m(&["level", me["address"].as_str().unwrap(), "--json"]));
    assert!(public.get("consents").is_none(), "{public}");
    assert!(public.get("access_log").is_none(), "{public}");
    ok(m(&[
        "membership",
        "withdraw",
        "--from",
        "bob",
        "--chain",
        "cinema",
    ]));
    let seg = json(partner(
        "demo-cinema-token",
        &["membership", "segment", "--chain", "cinema", "--json"],
    ));
    assert_eq!(seg.as_array().unwrap().len(), 0);
    // Asked by pseudonym after the withdrawal: refused, with its code.
    let pseudonym = milk_core::membership::member_pseudonym(
        &"cinema".parse().unwrap(),
        &milk_core::genesis::demo_key("bob").address(),
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&format!(
            "{url}/v1/partners/cinema/segment/{}",
            pseudonym.to_hex()
        ))
        .header("Authorization", "Bearer demo-cinema-token")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(
        r.body_mut()
            .read_to_string()
            .unwrap()
            .contains("no_consent")
    );

    let supply = json(m(&["supply", "--json"]));
    let mlk = &supply[0];
    assert_eq!(mlk["asset"], "MLK");
    let n = |k: &str| mlk[k].as_str().unwrap().parse::<u128>().unwrap();
    assert_eq!(
        n("circulating") + n("locked") + n("reserve") + n("tica_held"),
        n("total")
    );
    // The three demo users' 10,000 MLK each, less what bob burned, are what circulates.
    assert_eq!(n("circulating"), 3 * 10_000 * 100_000_000 - 2 * 100_000_000);
    let text = ok(m(&["supply"]));
    assert!(
        text.contains("initial-construction") && text.contains("locked"),
        "{text}"
    );
}

/// Three replicas of the demo network in this process, and a lone node of its own.
/// TICA adds node 2's own key to Skyway's producer set (a stranger's is refused); node 2
/// stands and may lead it.
fn producers_and_elections_from_the_cli(
    home: &std::path::Path,
    urls: &[String],
    dir: &std::path::Path,
) {
    let token = ["--token", "demo-operator-token"];
    let tica = milk_core::genesis::demo_key("operator")
        .address()
        .to_string();
    let node2 = milkd::node::node_key(&dir.join("n2"))
        .unwrap()
        .address()
        .to_string();
    let stranger = milk_core::Keypair::from_label("stranger")
        .address()
        .to_string();
    let set = |keys: &[&str]| {
        let args = [
            &token[..],
            &["cluster", "producers", "--chain", "skyway"],
            keys,
        ]
        .concat();
        milk(home, &urls[2], &args)
    };
    let refused = set(&[&tica, &stranger]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("unknown_producer"),
        "{err}"
    );
    let changed = ok(set(&[&tica, &node2]));
    assert!(
        changed.contains(&format!("producers {tica}, {node2}")),
        "{changed}"
    );
    let elect = [&token[..], &["cluster", "elect", "--chain", "skyway"]].concat();
    let elected = ok(milk(home, &urls[1], &elect));
    assert!(elected.starts_with("skyway: voters [1, 2, 3]"), "{elected}");
}

#[test]
fn the_cli_shows_a_cluster_and_checks_that_its_replicas_agree() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let port = || milkd::localnet::unused_port().unwrap();
    let mut entries = Vec::new();
    let mut configs = Vec::new();
    for id in 1..=3u64 {
        let data = dir.path().join(format!("n{id}"));
        let key = milkd::node::node_key(&data).unwrap().address();
        let (api, peer) = (port(), port());
        entries.push(
            serde_json::json!({"id": id, "api": format!("127.0.0.1:{api}"),
            "peer": format!("127.0.0.1:{peer}"), "key": key.to_string()}),
        );
        let mut config = milkd::NodeConfig::new(data);
        config.listen = format!("127.0.0.1:{api}").parse().unwrap();
        config.node_id = id;
        configs.push(config);
    }
    let cluster = dir.path().join("cluster.json");
    std::fs::write(
        &cluster,
        serde_json::json!({ "nodes": entries }).to_string(),
    )
    .unwrap();
    let nodes: Vec<_> = (configs.into_iter())
        .map(|mut c| {
            c.cluster = Some(cluster.clone());
            milkd::spawn(c, Arc::new(SystemClock)).unwrap()
        })
        .collect();
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let token = ["--token", "demo-operator-token"];
    // Within a few seconds one node leads every chain, as every node sees it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v = json(milk(
            &home,
            &urls[2],
            &[&token[..], &["--json", "cluster"]].concat(),
        ));
        let chains = v["chains"].as_array().unwrap();
        let leaders: Vec<_> = chains.iter().map(|c| c["leader"].clone()).collect();
        if v["node"] == 3 && !leaders[0].is_null() && leaders.iter().all(|l| *l == leaders[0]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no single leader: {v}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    ok(milk(&home, &urls[2], &["key", "demo", "alice"]));
    ok(milk(&home, &urls[2], &["key", "demo", "bob"]));
    let sent = ok(milk(
        &home,
        &urls[2],
        &[
            "transfer", "--from", "alice", "--to", "bob", "--amount", "1", "--asset", "MLK",
        ],
    ));
    assert!(sent.contains("committed on center"), "{sent}");
    let args = [
        &token[..],
        &["cluster", "agree"],
        &urls.iter().map(String::as_str).collect::<Vec<_>>()[..],
    ]
    .concat();
    let agreed = ok(milk(&home, &urls[0], &args));
    assert!(agreed.contains("center     3 replicas agree"), "{agreed}");
    producers_and_elections_from_the_cli(&home, &urls, dir.path());
    // A node of another network does not agree, from its first block.
    let mut lone = milkd::NodeConfig::new(dir.path().join("lone"));
    lone.listen = "127.0.0.1:0".parse().unwrap();
    let mut g = milk_core::genesis::Genesis::demo();
    g.genesis_time_ms += 1;
    let gpath = dir.path().join("other-genesis.json");
    std::fs::write(&gpath, serde_json::to_vec(&g).unwrap()).unwrap();
    let kpath = dir.path().join("other.key");
    std::fs::write(
        &kpath,
        hex::encode(milk_core::genesis::demo_key("operator").secret()),
    )
    .unwrap();
    lone.genesis = Some(gpath);
    lone.producer_key = Some(kpath);
    let mut credentials = milkd::auth::CredentialsFile::default();
    credentials
        .operator
        .push(milkd::auth::token_digest("demo-operator-token").to_hex());
    std::fs::create_dir_all(&lone.data_dir).unwrap();
    std::fs::write(
        lone.data_dir.join("credentials.json"),
        serde_json::to_vec(&credentials).unwrap(),
    )
    .unwrap();
    let lone = milkd::spawn(lone, Arc::new(SystemClock)).unwrap();
    let lone_url = lone.url();
    // Alone, a node makes every block: it stands for nothing, and only its key produces.
    let elect = [&token[..], &["cluster", "elect", "--chain", "center"]].concat();
    let out = milk(&home, &lone_url, &elect);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not_replicated"),
        "{err}"
    );
    let tica = milk_core::genesis::demo_key("operator")
        .address()
        .to_string();
    let other = milk_core::Keypair::from_label("other")
        .address()
        .to_string();
    let set = [
        &token[..],
        &["cluster", "producers", "--chain", "center", &tica, &other],
    ]
    .concat();
    let out = milk(&home, &lone_url, &set);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("unknown_producer"),
        "{err}"
    );
    let args = [&token[..], &["cluster", "agree", &urls[0], &lone_url]].concat();
    let out = milk(&home, &urls[0], &args);
    assert!(!out.status.success(), "a foreign node agreed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("center: block 0 differs"), "{err}");
}
