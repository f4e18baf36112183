//! The deposit watcher: it reads the vault's deposit events only from blocks with the
//! configured number of confirmations, and records each on the center chain once, by its
//! (transaction hash, log index). A reorganisation shallower than the confirmations never
//! reaches it; a deposit recorded already is skipped, so a restart, which searches again
//! from the first block, credits nothing twice.

use super::ledger;
use super::relayer::RoundError;
use crate::config::MainChainConfig;
use crate::lanes::Lane;
use crate::node::Node;
use milk_core::bridge::DepositKey;
use milk_core::tx::{Action, BridgeAction};
use milk_core::{Amount, Hash};
use milk_evm::vault::{DepositLog, MainChainError, Vault};

/// The most main-chain blocks one search covers.
const BLOCKS_PER_SEARCH: u64 = 1_000;

/// Searches the confirmed blocks from `watched` on and records their deposits.
pub async fn watch(
    node: &Node,
    config: &MainChainConfig,
    lane: &Lane,
    vault: &Vault,
    watched: &mut u64,
) -> Result<(), RoundError> {
    let head = vault.head().await?;
    // A block has head - block + 1 confirmations.
    let Some(safe) = (head + 1).checked_sub(config.confirmations.max(1)) else {
        return Ok(());
    };
    while *watched <= safe {
        let to = safe.min(*watched + BLOCKS_PER_SEARCH - 1);
        for log in vault.deposits(*watched, to).await? {
            record(node, lane, &log).await?;
        }
        *watched = to + 1;
    }
    Ok(())
}

/// Refuses, before sending anything, a deposit the center chain would refuse: more deposits
/// than MLK ever left. Only a wrong or lying main-chain node reports one; the watcher waits
/// on it, round after round, without sending the center chain a transaction each time.
fn check_bound(node: &Node, amount: u128) -> Result<(), RoundError> {
    let t = ledger::totals(node)?;
    let float = node
        .genesis
        .bridge
        .as_ref()
        .map_or(0, |b| b.main_float.units());
    let bound = t.out_total.units().saturating_add(float);
    match t.in_total.units().checked_add(amount) {
        Some(would_be) if would_be <= bound => Ok(()),
        _ => Err(RoundError::Center(format!(
            "the main chain's node reports a deposit of {amount} base units, more than the \
             {bound} that ever left less the {} deposited: it is wrong or lying; waiting",
            t.in_total
        ))),
    }
}

/// Records one deposit, unless the center chain has it already.
async fn record(node: &Node, lane: &Lane, log: &DepositLog) -> Result<(), RoundError> {
    let key = DepositKey {
        tx: Hash(log.tx.0),
        log_index: log.log_index,
    };
    if ledger::deposit(node, &key)?.is_some() {
        return Ok(());
    }
    let amount = u128::try_from(log.amount)
        .map_err(|_| MainChainError::Malformed("a deposit larger than any supply"))?;
    check_bound(node, amount)?;
    let from = milk_evm::address::from_alloy(log.from)
        .map_err(|_| MainChainError::Malformed("a deposit from the zero address"))?;
    let action = BridgeAction::RecordDeposit {
        main_tx: key.tx,
        log_index: key.log_index,
        from,
        milk: Hash(log.milk.0),
        amount: Amount::new(amount),
        block: log.block,
    };
    match lane.submit(Action::Bridge(action)).await {
        Ok(_) => {
            tracing::info!(tx = %log.tx, log_index = log.log_index, amount, "bridge: deposit recorded");
            node.crash_point("bridge:credited");
            Ok(())
        }
        Err(e) if e.code() == "deposit_recorded" => Ok(()),
        Err(e) => Err(e.into()),
    }
}
