//! What every node applies is checked against: one block per height across all replicas (a
//! second, different block at a height anyone applied is a fork), and every block a leader
//! acknowledged is one of them. Every event folds into a digest, so that two runs of a seed
//! can be compared whole.

use crate::rng::Rng;
use milk_core::Hash;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The checks' state.
#[derive(Default)]
pub struct ChecksState {
    /// The block at each height, as the first replica to apply one applied it.
    pub history: BTreeMap<u64, Hash>,
    /// The blocks a leader acknowledged as committed.
    pub acked: BTreeMap<u64, Hash>,
    /// The first invariant broken, if any.
    pub broken: Option<String>,
    /// Every event of the run, folded.
    pub digest: u64,
    /// Blocks applied, by every replica together.
    pub applied: u64,
    /// Snapshots installed.
    pub installed: u64,
}

/// The checks, shared by every node and the simulator.
#[derive(Clone, Default)]
pub struct Checks(Arc<Mutex<ChecksState>>);

impl Checks {
    /// The state.
    pub fn lock(&self) -> MutexGuard<'_, ChecksState> {
        self.0.lock().expect("checks lock")
    }

    /// Folds an event into the digest.
    pub fn note(&self, event: &[u64]) {
        let mut s = self.lock();
        for v in event {
            s.digest = Rng::new(s.digest ^ v).next();
        }
    }

    fn fold_hash(&self, hash: &Hash) {
        let words: Vec<u64> = (hash.0.chunks(8))
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        self.note(&words);
    }

    /// Records that `node` applied `hash` at `height` (log entry `index`): a fork if
    /// another block stands at that height.
    pub fn applied(&self, node: u64, index: u64, height: u64, hash: Hash) -> Result<(), String> {
        self.note(&[1, node, index, height]);
        self.fold_hash(&hash);
        let mut s = self.lock();
        s.applied += 1;
        match *s.history.entry(height).or_insert(hash) {
            h if h == hash => Ok(()),
            h => {
                let e = format!("fork at height {height}: node {node} applied {hash}, another {h}");
                s.broken.get_or_insert(e.clone());
                Err(e)
            }
        }
    }

    /// Records that a leader acknowledged `hash` at `height` as committed.
    pub fn acked(&self, height: u64, hash: Hash) {
        self.note(&[2, height]);
        self.lock().acked.insert(height, hash);
    }

    /// Records that `node` installed a snapshot.
    pub fn installed(&self, node: u64) {
        self.note(&[3, node]);
        self.lock().installed += 1;
    }

    /// Records a broken invariant (the first one is kept).
    pub fn broke(&self, e: String) {
        self.lock().broken.get_or_insert(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_block_at_a_height_is_a_fork() {
        let checks = Checks::default();
        let (a, b) = (Hash([1; 32]), Hash([2; 32]));
        assert!(checks.applied(1, 5, 3, a).is_ok());
        assert!(checks.applied(2, 5, 3, a).is_ok());
        let e = checks.applied(3, 6, 3, b).unwrap_err();
        assert!(e.contains("fork at height 3"), "{e}");
        assert_eq!(checks.lock().broken.as_deref(), Some(e.as_str()));
    }
}
