//! Demo activity: on the demo network, the demo users send each other small amounts every
//! few seconds, through the same admission path as API submissions, so a fresh demo node
//! shows blocks, transactions and moving balances without anything else to start.

use crate::node::Node;
use crate::worker::Command;
use milk_core::genesis::{DEMO_USERS, demo_key};
use milk_core::tx::{Action, Transaction};
use milk_core::{Amount, Symbol};
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

/// Whether a node runs the demo network (the only one demo traffic is for).
pub fn is_demo(node: &Node) -> bool {
    node.genesis.network == "milk-demo"
}

/// Sends one demo transfer every `every`, cycling through chains and users, until the node
/// stops accepting.
pub async fn traffic(node: Arc<Node>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    for n in 0u64.. {
        tick.tick().await;
        let chains = node.chain_handles();
        let handle = &chains[n as usize % chains.len()];
        let from = demo_key(DEMO_USERS[n as usize % DEMO_USERS.len()]);
        let to = demo_key(DEMO_USERS[(n as usize + 1) % DEMO_USERS.len()]).address();
        let Some(asset) = handle.spec.assets.first() else {
            continue;
        };
        let symbol: Symbol = asset.symbol;
        let sequence = match handle.store.account(&from.address(), &[symbol]) {
            Ok((_, seq)) => seq,
            Err(e) => {
                tracing::warn!(error = %e, "demo traffic: cannot read the account");
                continue;
            }
        };
        // One whole unit, or less if the sender has run low.
        let units = 10u128.pow(asset.decimals.into()) * (1 + n as u128 % 5) / 2;
        let tx = Transaction {
            chain: handle.spec.id.clone(),
            sender: from.address(),
            sequence,
            expires_at_ms: node.clock.now_ms() + 60_000,
            action: Action::Transfer {
                to,
                asset: symbol,
                amount: Amount::new(units.max(1)),
                memo: "demo".to_owned(),
            },
        };
        let Ok(verified) = tx.sign(&from).verify() else {
            continue;
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let cmd = Command::Submit {
            txs: vec![verified],
            wait: false,
            reply,
        };
        if handle.send(cmd).is_err() || answer.await.is_err() {
            return; // shutting down
        }
    }
}
