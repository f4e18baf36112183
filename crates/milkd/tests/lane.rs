//! The operator's lane cannot jam: a step the chain refuses holds the steps batched behind
//! it back by one block, not until they expire (the clock here never moves, so before this
//! they would have waited for ever).

mod support;

use milk_core::tx::{Action, AllianceAction, AnchorAction};
use milk_core::{ChainId, Hash};
use std::time::Duration;
use support::Http;

const NOW: u64 = 1_900_000_000_000;

fn anchor(i: usize) -> Action {
    Action::Anchor(AnchorAction::Anchor {
        chain: format!("shop{i}").parse().unwrap(),
        seal: Hash([i as u8; 32]),
    })
}

#[test]
fn a_refused_step_delays_the_steps_behind_it_by_one_block() {
    let dir = tempfile::tempdir().unwrap();
    let node = support::test_node(dir.path(), NOW, |_| {});
    let http = Http::new(&node.url());
    let (_, center) = http.get("/v1/chains/center");
    let before = center["head"]["height"].as_u64().unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let heights = rt.block_on(async {
        let lane = milkd::lane::get(&node.node, &ChainId::center()).unwrap();
        // One batch: two steps, one the chain refuses (no such partner), then twenty more.
        let unknown: ChainId = "nosuch".parse().unwrap();
        let refused = Action::Alliance(AllianceAction::Suspend { chain: unknown });
        let actions = (0..2)
            .map(anchor)
            .chain([refused])
            .chain((2..22).map(anchor));
        let tasks: Vec<_> = (actions.map(|a| {
            tokio::spawn({
                let lane = lane.clone();
                async move { lane.submit(a).await }
            })
        }))
        .collect();
        let mut heights = Vec::new();
        for t in tasks {
            let outcome = tokio::time::timeout(Duration::from_secs(60), t).await;
            heights.push(outcome.expect("the lane jammed").unwrap().map(|l| l.height));
        }
        heights
    });
    let refusal = heights[2].as_ref().unwrap_err();
    assert_eq!(refusal.code(), "unknown_application", "{refusal}");
    let committed: Vec<u64> = (heights.iter())
        .filter_map(|h| h.as_ref().ok().copied())
        .collect();
    assert_eq!(committed.len(), 22);
    // The block that refused one step took those before it (the lane may have sent the
    // first alone, as the tasks reach it); the twenty behind it went in the very next block.
    assert!(
        committed[0] > before && committed[1] <= before + 2,
        "{committed:?}"
    );
    assert!(
        committed[2..].iter().all(|h| *h == committed[1] + 1),
        "{committed:?}"
    );
}

#[test]
fn someone_else_signing_with_the_operators_key_costs_the_lane_no_step() {
    let dir = tempfile::tempdir().unwrap();
    let node = support::test_node(dir.path(), NOW, |_| {});
    let http = Http::new(&node.url()).with_token(support::OPERATOR_TOKEN);
    let operator = milk_core::genesis::demo_key("operator");
    let (_, sequence) = http.account(&operator.address(), "center", "MLK");
    // An administrator's tool takes the key's next number first...
    let theirs = milk_core::tx::Transaction {
        chain: ChainId::center(),
        sender: operator.address(),
        sequence,
        expires_at_ms: NOW + 60_000,
        action: anchor(90),
    }
    .sign(&operator);
    let r = http.submit("center", &[theirs], false).unwrap();
    assert!(r.results[0].error.is_none(), "{:?}", r.results[0]);
    // ...and the lane's step, numbered the same, is numbered again and commits.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ours = rt.block_on(async {
        let lane = milkd::lane::get(&node.node, &ChainId::center()).unwrap();
        tokio::time::timeout(Duration::from_secs(60), lane.submit(anchor(91))).await
    });
    ours.expect("the lane jammed").expect("the step committed");
    assert_eq!(
        http.account(&operator.address(), "center", "MLK").1,
        sequence + 2
    );
}

/// Found by the simulator's clock jumps: blocks never go back in time, so when the node's
/// clock was set back by more than a lane step's lifetime, every step the lane signed had
/// expired by its block's time, and settlement stalled until the clock caught up. The lane
/// now dates its steps from the later of the clock and the chain's head.
#[test]
fn a_clock_set_back_does_not_stall_the_lane() {
    let dir = tempfile::tempdir().unwrap();
    let (g, k) = support::write_genesis(dir.path(), &support::genesis(4));
    let mut config = milkd::NodeConfig::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.genesis = Some(g);
    config.producer_key = Some(k);
    support::write_credentials(&config.data_dir);
    let clock = milkd::ManualClock::new(NOW);
    let node = milkd::spawn(config, std::sync::Arc::new(clock.clone())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let lane = milkd::lane::get(&node.node, &ChainId::center()).unwrap();
        let step = |i| {
            let lane = lane.clone();
            async move {
                let outcome = tokio::time::timeout(Duration::from_secs(30), lane.submit(anchor(i)));
                outcome.await.expect("the lane stalled")
            }
        };
        step(0).await.unwrap();
        clock.advance(10 * 60_000);
        let later = step(1).await.unwrap();
        clock.set_back(5 * 60_000);
        let after = step(2)
            .await
            .expect("a step signed after the clock went back");
        assert!(after.height > later.height);
    });
}
