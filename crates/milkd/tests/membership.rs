//! Membership in a running node: the operator's node pays each finished MiL.k Pack week by
//! itself, once.

mod support;

use milk_core::genesis::demo_key;
use milk_core::tx::{Action, Transaction};
use milk_core::{Amount, Keypair};
use milkd::{Clock, ManualClock, NodeConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Http;

const NOW: u64 = 1_900_000_000_000;
const DAY: u64 = 86_400_000;
const MLK: u128 = 100_000_000;

fn center_tx(http: &Http, clock: &ManualClock, key: &Keypair, action: Action) {
    // The node's lane signs with the operator's key too: retry if it took the number.
    for _ in 0..20 {
        let (_, sequence) = http.account(&key.address(), "center", "MLK");
        let tx = Transaction {
            chain: "center".parse().unwrap(),
            sender: key.address(),
            sequence,
            expires_at_ms: clock.now_ms() + 60_000,
            action: action.clone(),
        }
        .sign(key);
        let r = http.submit("center", &[tx], true).unwrap();
        match r.results[0].error.as_ref().map(|e| e.code.as_str()) {
            None => return,
            Some("sequence_pending" | "sequence_used") => continue,
            Some(other) => panic!("{other}"),
        }
    }
    panic!("never committed");
}

#[test]
fn the_node_pays_finished_pack_weeks_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.settle_retry = Duration::from_millis(20);
    let node = milkd::spawn(config, Arc::new(clock.clone())).unwrap();
    let http = Http::new(&node.url());
    let operator = demo_key("operator");
    let alice = demo_key("alice");
    center_tx(
        &http,
        &clock,
        &operator,
        Action::OpenPackSeason {
            season: 1,
            starts_ms: NOW + DAY,
            weeks: 2,
            weekly_reward: Amount::new(70 * MLK),
            lzm_per_week: Amount::new(5 * MLK),
        },
    );
    center_tx(
        &http,
        &clock,
        &alice,
        Action::JoinPack {
            amount: Amount::new(100 * MLK),
        },
    );
    let before = http.account(&alice.address(), "center", "MLK").0;
    // A week and a day later, week 0 is over: the node pays it without being asked.
    clock.advance(8 * DAY + 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.account(&alice.address(), "center", "MLK").0 == before {
        assert!(Instant::now() < deadline, "week 0 was never paid");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        http.account(&alice.address(), "center", "MLK").0,
        before + 70 * MLK
    );
    assert_eq!(http.account(&alice.address(), "center", "LZM").0, 5 * MLK);
    // Once: a while later nothing more has arrived.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        http.account(&alice.address(), "center", "MLK").0,
        before + 70 * MLK
    );
    assert!(milkd::pack::due_weeks(&node.node).is_empty());
}
