//! The replicated center chain under network and node faults, over many seeds:
//! `MILK_SIM_RAFT_SEEDS` runs of `MILK_SIM_RAFT_TICKS` fault-driver steps (10 ms of
//! simulated time each), from seed `MILK_SIM_RAFT_SEED` on. A failure names its seed;
//! `MILK_SIM_RAFT_SEED=<it> MILK_SIM_RAFT_SEEDS=1` replays it. The long run:
//! `MILK_SIM_RAFT_SEEDS=200 cargo test --release -p milk-sim --test replication -- --nocapture`.

#[test]
fn every_replica_holds_one_chain_through_crashes_losses_and_partitions() {
    let (first, seeds, ticks) = milk_sim::runs_from_env("MILK_SIM_RAFT", 16, ("TICKS", 3_000));
    let began = std::time::Instant::now();
    let mut total = milk_sim::replica::Report::default();
    for seed in first..first + seeds {
        let r = milk_sim::replica::run(seed, ticks).unwrap_or_else(|e| {
            panic!("{e}\nreplay: MILK_SIM_RAFT_SEED={seed} MILK_SIM_RAFT_SEEDS=1")
        });
        total.transfers += r.transfers;
        total.acked += r.acked;
        total.applied += r.applied;
        total.crashes += r.crashes;
        total.partitions += r.partitions;
        total.messages.0 += r.messages.0;
        total.messages.1 += r.messages.1;
        total.installed += r.installed;
        total.term = total.term.max(r.term);
    }
    let secs = began.elapsed().as_secs_f64();
    eprintln!(
        "{seeds} seeds: {total:?}; {:.0} simulated seconds per second",
        (seeds * ticks) as f64 / 100.0 / secs
    );
    assert!(
        total.acked > seeds * 10,
        "too few blocks committed: {total:?}"
    );
    assert!(total.crashes > seeds, "too few crashes: {total:?}");
    assert!(total.partitions > 0, "no partition: {total:?}");
    assert!(total.messages.1 > 0, "no message lost: {total:?}");
    assert!(
        total.installed > 0,
        "no replica caught up from a snapshot: {total:?}"
    );
    assert!(total.term > 2, "no election after the first: {total:?}");
}

#[test]
fn a_replicated_seed_replays_exactly() {
    let once = milk_sim::replica::run(7, 1_500).expect("seed 7 runs");
    let again = milk_sim::replica::run(7, 1_500).expect("seed 7 runs again");
    assert_eq!(once, again, "seed 7 ran two ways");
    let other = milk_sim::replica::run(8, 1_500).expect("seed 8 runs");
    assert_ne!(
        once.digest, other.digest,
        "the digest does not tell runs apart"
    );
}

/// Seed 3 restarts a leader that keeps its term, with a block it had proposed in its log
/// not yet applied; its next block stood at the same height, both were committed, and every
/// replica found the second invalid. A new leader now first applies its whole log.
#[test]
fn seed_3_a_leader_restarted_in_its_term_applies_its_own_log_before_its_next_block() {
    let r = milk_sim::replica::run(3, 3_000).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.crashes > 0 && r.acked > 0, "{r:?}");
}
