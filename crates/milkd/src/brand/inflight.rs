//! One request at a time per idempotency key: concurrent retries of one conversion
//! reference (or redemption order id) wait for the first, then read what it recorded, so
//! all of them get the first one's answer.

use milk_core::ChainId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// A key: its chain, and its kind and value.
type Key = (ChainId, String);

/// The keys being worked on, each with its lock.
#[derive(Debug, Default)]
pub struct InFlight {
    locks: Mutex<HashMap<Key, Arc<AsyncMutex<()>>>>,
}

/// Holds a key until dropped; the last holder forgets the key.
pub struct Turn {
    guard: Option<OwnedMutexGuard<()>>,
    key: Key,
    owner: Arc<InFlight>,
}

impl InFlight {
    /// Waits for the turn of `key` on `chain` (`kind` keeps conversions and orders apart).
    pub async fn turn(self: &Arc<Self>, chain: &ChainId, kind: &str, key: &str) -> Turn {
        let key = (chain.clone(), format!("{kind}:{key}"));
        let lock = {
            let mut locks = self.locks.lock().expect("in-flight lock");
            locks.entry(key.clone()).or_default().clone()
        };
        Turn {
            guard: Some(lock.lock_owned().await),
            key,
            owner: self.clone(),
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.owner.locks.lock().expect("in-flight lock");
        // Nobody else holds or waits for it: forget it, so the map stays small.
        if locks
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            locks.remove(&self.key);
        }
    }
}
