//! The alliance in one process, from a seed: customers, the airline partner (whose miles
//! expire), companies joining and leaving the alliance, and TICA act on the demo network's
//! center and airline chains through the core's seam (`ChainState`, `produce`, the
//! settlement driver's `exchange::driver`), each chain's store a real redb on a simulated
//! disk (`milk_store::simdisk`) that loses power or fails a write during commits. Time is
//! simulated; all randomness comes from the seed, so a failing run prints its seed and the
//! same seed replays it exactly.
//!
//! Checked throughout: after every block, supply is conserved on both chains and MLK's and
//! the airline token's supplies are exactly what the reference model (`model`) computes
//! from the committed blocks, each conversion reference and each refund once, each expiry
//! sweep exactly the lots that were due; due miles are never spent; what the locks hold
//! never goes down; after every failed commit, the restarted chain holds exactly the state
//! before the block or after it. At the end, with every open trade finished by TICA: both
//! legs or neither for each (the chains agree on every trade, nothing left in escrow), every
//! filled trade priced within its market's bounds, and both chains replay from genesis to
//! exactly the state in memory.
//!
//! `replica` runs the center chain replicated on three or five openraft nodes, through
//! crashes, partitions and a lossy network, on the same terms: a seed, simulated time, the
//! invariants checked throughout, exact replay.

mod chain;
mod model;
pub mod replica;
mod rng;
mod world;

pub use world::{Report, World};

/// A run's shape.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The seed.
    pub seed: u64,
    /// How many operations.
    pub ops: u64,
    /// Whether disks lose power and fail writes.
    pub faults: bool,
}

/// One run; what went wrong names the seed and the operation.
pub fn run(config: Config) -> Result<Report, String> {
    let failed = |op: u64| move |e: String| format!("seed {} op {op}: {e}", config.seed);
    let mut world = World::new(config.seed, config.faults, 5).map_err(failed(0))?;
    for op in 0..config.ops {
        world.step(op).map_err(failed(op))?;
    }
    world.finish().map_err(failed(config.ops))?;
    world.replay().map_err(failed(config.ops))?;
    Ok(world.report.clone())
}

/// The runs a test is asked for: `(first seed, seeds, length)` from the environment's
/// `<prefix>_SEED`, `<prefix>_SEEDS` and `<prefix>_<length name>`, each defaulting to the
/// value given (the first seed to 1).
pub fn runs_from_env(prefix: &str, seeds: u64, (name, length): (&str, u64)) -> (u64, u64, u64) {
    let env = |suffix: &str, default: u64| {
        std::env::var(format!("{prefix}_{suffix}"))
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (env("SEED", 1), env("SEEDS", seeds), env(name, length))
}
