//! The watcher: it reads the vault's events only from blocks with the configured number of
//! confirmations, in windows a public node accepts, and records each on the center chain
//! once: a deposit by its (transaction hash, log index), a release (by the relayer or
//! claimed by the customer) by its withdrawal. A reorganisation shallower than the
//! confirmations never reaches it; what is recorded already is skipped, so a restart, which
//! searches again from the cursor it kept, records nothing twice.

use super::ledger;
use super::relayer::RoundError;
use crate::config::MainChainConfig;
use crate::lanes::Lane;
use crate::node::Node;
use milk_core::bridge::DepositKey;
use milk_core::tx::{Action, BridgeAction};
use milk_core::{Amount, Hash};
use milk_evm::vault::{DepositLog, MainChainError, ReleaseLog, Vault};

/// The most windows of blocks one round searches, so that a node far behind (or a lying
/// node's head far ahead) costs a bounded round; the next round goes on from there.
const WINDOWS_PER_ROUND: usize = 64;

/// Searches the confirmed blocks from `watched` on and records their deposits and releases.
pub async fn watch(
    node: &Node,
    config: &MainChainConfig,
    lane: &Lane,
    vault: &Vault,
    watched: &mut u64,
) -> Result<(), RoundError> {
    let head = vault.head().await?;
    // A block has head - block + 1 confirmations.
    let Some(safe) = (head.saturating_add(1)).checked_sub(config.confirmations.max(1)) else {
        return Ok(());
    };
    let windows = milk_evm::vault::windows(*watched, safe).take(WINDOWS_PER_ROUND);
    for (from, to) in windows {
        for log in vault.deposits(from, to).await? {
            record(node, lane, &log).await?;
        }
        for log in vault.released(from, to).await? {
            record_release(node, lane, &log).await?;
        }
        *watched = to + 1;
        save_cursor(node, vault, *watched);
    }
    Ok(())
}

/// The file keeping how far deposits were searched, so a restart need not search the main
/// chain again from the vault's first block. Losing it costs only time: deposits recorded
/// already are skipped.
fn cursor_path(node: &Node) -> std::path::PathBuf {
    node.config.data_dir.join("bridge-searched")
}

/// The cursor's text: the main chain, the vault, and the first block not searched.
fn cursor_text(chain_id: u64, vault: &milk_evm::Address, next: u64) -> String {
    format!("{chain_id} {} {next}\n", vault.to_checksum(None))
}

fn save_cursor(node: &Node, vault: &Vault, next: u64) {
    let (path, tmp) = (cursor_path(node), cursor_path(node).with_extension("tmp"));
    let text = cursor_text(vault.chain_id(), &vault.address(), next);
    let saved = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = saved {
        tracing::warn!(error = %e, path = %path.display(), "bridge: cannot keep the deposit cursor");
    }
}

/// Where the last run stopped searching, for this main chain and vault, if it kept it;
/// never before `from`.
pub fn load_cursor(node: &Node, vault: &Vault, from: u64) -> u64 {
    let text = std::fs::read_to_string(cursor_path(node)).unwrap_or_default();
    parse_cursor(&text, vault.chain_id(), &vault.address()).map_or(from, |next| next.max(from))
}

/// The first block not searched, if `text` is the cursor of this chain and vault.
fn parse_cursor(text: &str, chain_id: u64, vault: &milk_evm::Address) -> Option<u64> {
    let mut words = text.split_whitespace();
    let ours = words.next()? == chain_id.to_string() && words.next()? == vault.to_checksum(None);
    ours.then(|| words.next()?.parse().ok()).flatten()
}

/// Refuses, before sending anything, a deposit the center chain would refuse: more deposits
/// than MLK ever left. Only a wrong or lying main-chain node reports one; the watcher waits
/// on it, round after round, without sending the center chain a transaction each time.
fn check_bound(node: &Node, amount: u128) -> Result<(), RoundError> {
    let t = ledger::totals(node)?;
    let float = (node.genesis.bridge.as_ref()).map_or(Amount::ZERO, |b| b.main_float);
    t.admits_deposit(float, Amount::new(amount))
        .map_err(|(would_be, bound)| {
            RoundError::Center(format!(
                "the main chain's node reports a deposit of {amount} base units, which would take \
             deposits to {would_be}, more than the {bound} that ever left: it is wrong or \
             lying; waiting"
            ))
        })
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

/// Records a release on the center chain, unless it has it already. A release that names
/// no sealed withdrawal, or pays another address or amount than its withdrawal, is not what
/// a correct node reports (the vault pays only against a sealed batch's proof): the watcher
/// stops there and says so, recording nothing.
async fn record_release(node: &Node, lane: &Lane, log: &ReleaseLog) -> Result<(), RoundError> {
    let id = Hash(log.withdrawal.0);
    let number = ledger::withdrawal_number(node, &id)?.ok_or(MainChainError::Malformed(
        "a release of a withdrawal never made",
    ))?;
    let w = ledger::withdrawal(node, number)?.ok_or(MainChainError::Malformed(
        "a release of a withdrawal never made",
    ))?;
    if w.released.is_some() {
        return Ok(());
    }
    let paid_as_asked = milk_evm::address::to_alloy(&w.to) == log.to
        && milk_evm::U256::from(w.amount.units()) == log.amount;
    if w.batch.is_none() || !paid_as_asked {
        return Err(MainChainError::Malformed("a release unlike its sealed withdrawal").into());
    }
    let action = BridgeAction::ConfirmRelease {
        withdrawal: number,
        main_tx: Hash(log.tx.0),
    };
    match lane.submit(Action::Bridge(action)).await {
        Ok(_) => {
            tracing::info!(number, tx = %log.tx, "bridge: release recorded");
            node.crash_point("bridge:confirmed");
            Ok(())
        }
        Err(e) if e.code() == "already_released" => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_read_back_only_for_its_own_chain_and_vault() {
        let vault = milk_evm::Address::repeat_byte(7);
        let text = cursor_text(31337, &vault, 4_242);
        assert_eq!(parse_cursor(&text, 31337, &vault), Some(4_242));
        assert_eq!(parse_cursor(&text, 1, &vault), None, "another chain");
        assert_eq!(
            parse_cursor(&text, 31337, &milk_evm::Address::repeat_byte(8)),
            None
        );
        assert_eq!(parse_cursor("31337", 31337, &vault), None, "cut short");
        assert_eq!(parse_cursor("", 31337, &vault), None);
    }
}
