//! The trades this node is settling now: each claimed by one task at a time.

use milk_core::tx::TxId;
use std::collections::HashSet;
use std::sync::Mutex;

/// The trades being driven right now, so two drivers never race on one.
#[derive(Debug, Default)]
pub struct Settling {
    ids: Mutex<HashSet<TxId>>,
}

/// Holds a trade while it is driven.
pub(crate) struct Claim<'a> {
    settling: &'a Settling,
    id: TxId,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.settling
            .ids
            .lock()
            .expect("settling lock")
            .remove(&self.id);
    }
}

impl Settling {
    pub(crate) fn claim(&self, id: TxId) -> Option<Claim<'_>> {
        // The lock is released before a claim exists: dropping a claim takes it again.
        let fresh = self.ids.lock().expect("settling lock").insert(id);
        fresh.then(|| Claim { settling: self, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trade_is_claimed_once_at_a_time() {
        let settling = Settling::default();
        let id = milk_core::Hash([7; 32]);
        let first = settling.claim(id).expect("free");
        // A second claim is refused, and refusing it does not release the first.
        assert!(settling.claim(id).is_none());
        assert!(settling.claim(id).is_none());
        drop(first);
        assert!(settling.claim(id).is_some());
    }
}
