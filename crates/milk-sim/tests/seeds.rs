//! The simulator over many seeds, with faults: `MILK_SIM_SEEDS` runs of `MILK_SIM_OPS`
//! operations each, from seed `MILK_SIM_SEED` on (defaults keep `cargo test` within its
//! budget: 40 × 2,500 = 10⁵ operations). A failure names its seed; `MILK_SIM_SEED=<it>
//! MILK_SIM_SEEDS=1` replays it. The long run: `MILK_SIM_SEEDS=400 cargo test --release -p
//! milk-sim -- --nocapture` (10⁶ operations).

#[test]
fn every_seed_keeps_every_invariant_under_faults() {
    let (first, seeds, ops) = milk_sim::runs_from_env("MILK_SIM", 40, ("OPS", 2_500));
    let began = std::time::Instant::now();
    let mut total = milk_sim::Report::default();
    for seed in first..first + seeds {
        let config = milk_sim::Config {
            seed,
            ops,
            faults: true,
        };
        let r = milk_sim::run(config)
            .unwrap_or_else(|e| panic!("{e}\nreplay: MILK_SIM_SEED={seed} MILK_SIM_SEEDS=1"));
        total.ops += r.ops;
        total.blocks += r.blocks;
        total.refused += r.refused;
        total.crashes += r.crashes;
        total.survived += r.survived;
        total.trades.0 += r.trades.0;
        total.trades.1 += r.trades.1;
        total.near_bounds += r.near_bounds;
        for (kind, n) in r.committed {
            *total.committed.entry(kind).or_default() += n;
        }
    }
    let secs = began.elapsed().as_secs_f64();
    eprintln!(
        "{seeds} seeds: {total:?}; {:.0} operations per second",
        total.ops as f64 / secs
    );
    assert!(total.crashes > 0, "no fault exercised: {total:?}");
    assert!(
        total.trades.0 > 0 && total.trades.1 > 0,
        "trades prove nothing: {total:?}"
    );
    assert!(total.blocks > total.ops / 8, "too few blocks: {total:?}");
    assert!(
        total.near_bounds > 0,
        "no trade came near a bound: {total:?}"
    );
    let kinds = [
        "transfer",
        "link",
        "conversion",
        "redemption",
        "refund",
        "consent",
    ];
    let kinds = kinds
        .into_iter()
        .chain(["sale", "purchase", "exchange", "membership", "expiry"])
        .chain(["alliance", "tokenomics"]);
    for kind in kinds {
        assert!(
            total.committed.contains_key(kind),
            "no {kind} ever committed: {total:?}"
        );
    }
}

#[test]
fn a_seed_replays_exactly() {
    let config = milk_sim::Config {
        seed: 7,
        ops: 400,
        faults: true,
    };
    assert_eq!(milk_sim::run(config), milk_sim::run(config));
}
