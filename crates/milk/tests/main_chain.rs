//! The bridge from the command line, against a real local main chain (Anvil): TICA deploys
//! the contracts with `milk main-chain deploy`, a customer withdraws with `milk withdraw`
//! and finds the MLK on the main chain, deposits some back with `milk main-chain deposit`,
//! and `milk verify --main-chain-rpc` finds every release matching a withdrawal; against a
//! vault where the bridge key released something the center chain never withdrew, it names
//! the release and the root and fails.

mod support;

use milk_evm::{B256, U256};
use milkd::{NodeConfig, SystemClock};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{json, milk};

const MLK: u128 = 100_000_000;

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_customer_cashes_out_and_in_from_the_cli_and_verify_checks_the_main_chain() {
    let anvil = milk_evm::devnet::anvil();
    let rpc = anvil.endpoint_url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (home, tica_key, customer_key) = (
        dir.path().join("home"),
        dir.path().join("tica.key"),
        dir.path().join("customer.key"),
    );
    std::fs::write(&tica_key, hex::encode(anvil.keys()[0].to_bytes())).unwrap();
    std::fs::write(&customer_key, hex::encode(anvil.keys()[1].to_bytes())).unwrap();
    let customer =
        milk_evm::Address::from_private_key(&anvil.keys()[1].clone().into()).to_checksum(None);
    let m = |node: &str, args: &[&str]| milk(&home, node, args);
    let keys = [tica_key.to_str().unwrap(), customer_key.to_str().unwrap()];
    // TICA deploys the coin and a vault its own key signs batches for.
    let deploy = || {
        let args = ["main-chain", "deploy", "--rpc", &rpc, "--json"];
        let keys = ["--key-file", keys[0], "--bridge-key-file", keys[0]];
        json(m("", &[&args[..], &keys[..]].concat()))
    };
    let deployed = deploy();
    let vault = deployed["vault"].as_str().unwrap().to_owned();

    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.main_chain = Some(milkd::config::MainChainConfig {
        rpc: rpc.clone(),
        vault: vault.parse().unwrap(),
        key_file: tica_key.clone(),
        confirmations: 1,
        from_block: 0,
        poll: Duration::from_millis(30),
    });
    let node = milkd::spawn(config, Arc::new(SystemClock)).unwrap();
    let url = node.url();
    json(m(&url, &["key", "demo", "alice", "--json"]));
    json(m(&url, &["key", "demo", "bob", "--json"]));

    json(m(
        &url,
        &[
            "withdraw", "--from", "alice", "--to", &customer, "--amount", "20", "--json",
        ],
    ));
    until("the release", || {
        json(m(&url, &["withdrawal", "0", "--json"]))["status"] == "released"
    });
    let balance = |who: &str| {
        json(m(
            &url,
            &[
                "main-chain",
                "balance",
                "--rpc",
                &rpc,
                "--vault",
                &vault,
                who,
                "--json",
            ],
        ))
    };
    assert_eq!(balance(&customer)["mlk"], (20 * MLK).to_string());

    let bob = json(m(&url, &["balance", "bob", "--json"]))["address"]
        .as_str()
        .unwrap()
        .to_owned();
    json(m(
        &url,
        &[
            "main-chain",
            "deposit",
            "--rpc",
            &rpc,
            "--key-file",
            keys[1],
            "--vault",
            &vault,
            "--to",
            &bob,
            "--amount",
            "5",
            "--json",
        ],
    ));
    // TICA moved all its MLK into the vault: a deposit from it is refused, in words.
    let args = [
        "main-chain",
        "deposit",
        "--rpc",
        &rpc,
        "--key-file",
        keys[0],
        "--vault",
        &vault,
    ];
    let refused = m(
        &url,
        &[&args[..], &["--to", &bob, "--amount", "1000000"]].concat(),
    );
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(
        said.contains("holds 0 MLK, and 1,000,000 MLK are needed"),
        "{said}"
    );
    until("the credit", || {
        json(m(&url, &["deposits", "bob", "--json"]))[0]["status"] == "credited"
    });
    assert_eq!(balance(&customer)["mlk"], (15 * MLK).to_string());
    // The operator sees the relayer at work.
    let said = String::from_utf8_lossy(&m(&url, &["bridge"]).stdout).into_owned();
    assert!(said.contains("searched the main chain to block"), "{said}");
    // Bob's deposit is deposit 0; a page before it is empty.
    let page = |args: &[&str]| json(m(&url, &[&["deposits"][..], args, &["--json"]].concat()));
    assert_eq!(page(&["bob", "--limit", "1"])[0]["number"], 0);
    assert_eq!(page(&["--before", "0"]), serde_json::json!([]));

    // Across both chains: the center chain's MLK and the main chain's outside the vault
    // (nothing in transit now) are the 1.3 billion.
    let total = 1_300_000_000 * MLK;
    let in_vault: u128 = balance(&vault)["mlk"].as_str().unwrap().parse().unwrap();
    let supply = json(m(&url, &["supply", "--json"]));
    let center = supply
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["asset"] == "MLK")
        .unwrap();
    let on_center: u128 = center["total"].as_str().unwrap().parse().unwrap();
    assert_eq!(on_center + (total - in_vault), total);
    assert_eq!(center["bridged"]["across_both_chains"], total.to_string());
    let verified = json(m(
        &url,
        &[
            "verify",
            "--main-chain-rpc",
            &rpc,
            "--vault",
            &vault,
            "--json",
        ],
    ));
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(
        (
            verified["main_chain"]["releases"].as_u64(),
            verified["main_chain"]["batches"].as_u64()
        ),
        (Some(1), Some(1))
    );

    // Another vault the bridge key signs for, where it released what nobody withdrew.
    let other = deploy();
    let other_vault = other["vault"].as_str().unwrap().to_owned();
    forge_release(&rpc, keys[0], &other_vault, &customer);
    let out = m(
        &url,
        &["verify", "--main-chain-rpc", &rpc, "--vault", &other_vault],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("matches no center-chain withdrawal")
            && text.contains("is not the center chain's"),
        "{text}"
    );
    node.stop().unwrap();
}

/// The bridge key posts a root over one withdrawal the center chain never made and releases it.
fn forge_release(rpc: &str, key_file: &str, vault: &str, to: &str) {
    let key = milk_evm::chain::read_key(Path::new(key_file)).unwrap();
    let (vault, to) = (
        milk_evm::address::parse(vault).unwrap(),
        milk_evm::address::parse(to).unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let v = milk_evm::vault::Vault::connect(rpc.parse().unwrap(), key, vault)
            .await
            .unwrap();
        let (id, amount) = (B256::repeat_byte(9), U256::from(MLK));
        let leaf = milk_evm::merkle::leaf(id, to, amount);
        v.post_batch(0, milk_evm::merkle::Tree::new(vec![leaf]).unwrap().root())
            .await
            .unwrap();
        v.release(0, id, to, amount, Vec::new()).await.unwrap();
    });
}
