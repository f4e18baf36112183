//! Membership in a running node: the operator's node pays each finished MiL.k Pack week by
//! itself, once.

mod support;

use milk_core::Amount;
use milk_core::genesis::demo_key;
use milk_core::tx::Action;
use milk_core::tx::MembershipAction;
use milkd::{Clock, ManualClock, NodeConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Http;

const NOW: u64 = 1_900_000_000_000;
const DAY: u64 = 86_400_000;
const MLK: u128 = 100_000_000;

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
    http.center_tx(
        clock.now_ms(),
        &operator,
        Action::Membership(MembershipAction::OpenPackSeason {
            season: 1,
            starts_ms: NOW + DAY,
            weeks: 2,
            weekly_reward: Amount::new(70 * MLK),
            lzm_per_week: Amount::new(5 * MLK),
        }),
    );
    http.center_tx(
        clock.now_ms(),
        &alice,
        Action::Membership(MembershipAction::JoinPack {
            amount: Amount::new(100 * MLK),
        }),
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
    assert!(milkd::membership::pack::due_weeks(&node.node).is_empty());
    // The member sees the season, the commitment, and what the Pack earned.
    let (_, m) = http.get(&format!("/v1/members/{}", alice.address()));
    let pack = &m["pack"];
    assert_eq!(
        (
            pack["season"].as_u64(),
            pack["committed"].as_str(),
            pack["since_ms"].as_u64()
        ),
        (Some(1), Some(&*(100 * MLK).to_string()), Some(NOW)),
        "{m}"
    );
    assert_eq!(pack["lzm_earned"], (5 * MLK).to_string(), "{m}");
    let (_, bob) = http.get(&format!("/v1/members/{}", demo_key("bob").address()));
    assert!(
        bob["pack"]["committed"].is_null() && bob["pack"]["season"] == 1,
        "{bob}"
    );
}

#[test]
fn a_linking_reward_cut_off_by_a_stop_is_paid_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let mut config = NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let node = milkd::spawn(config.clone(), Arc::new(clock.clone())).unwrap();
    let http = Http::new(&node.url());
    let alice = demo_key("alice");
    let before = http.account(&alice.address(), "center", "MLK").0;
    // A link straight onto the chain, not through the partner API: no reward follows it
    // (the start-up scan has run by then).
    let link = support::demo_link("cinema", &alice, "A-1", NOW);
    let r = http.submit("cinema", &[link], true).unwrap();
    assert_eq!(r.results[0].status, "committed");
    node.stop().unwrap();
    // Started again, the node pays it, once.
    let node = milkd::spawn(config, Arc::new(clock)).unwrap();
    let http = Http::new(&node.url());
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.account(&alice.address(), "center", "MLK").0 != before + MLK {
        assert!(
            Instant::now() < deadline,
            "the missed linking reward was never paid"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(milkd::membership::pack::unrewarded_links(&node.node).is_empty());
}
