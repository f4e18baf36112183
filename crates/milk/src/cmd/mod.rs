//! The CLI's commands, one module per family, and what they share: passphrases, output in
//! human or JSON form, and signing a transaction for a chain.

mod human;
pub use human::human;
pub mod alliance;
pub mod batch;
pub mod bridge;
pub mod chain;
pub mod exchange;
pub mod history;
pub mod key;
pub mod main_chain;
pub mod membership;
pub mod partner;
pub mod policy;

use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Context, Result, anyhow, bail};
use milk_core::tx::{Action, Transaction};
use milk_core::{Address, Amount};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn passphrase(confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var("MILK_PASSPHRASE") {
        return Ok(p);
    }
    let p = rpassword::prompt_password("passphrase: ")
        .context("reading the passphrase (or set MILK_PASSPHRASE)")?;
    if confirm && rpassword::prompt_password("again: ")? != p {
        bail!("the passphrases differ");
    }
    Ok(p)
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Writes a line to standard output. A reader that went away (`milk … | head`) ends the
/// program quietly, as command-line tools do, instead of a panic.
pub fn emit(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// Prints JSON with --json, else the text.
pub fn out(json_mode: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
    if json_mode {
        emit(&value.to_string());
    } else {
        emit(&text());
    }
}

pub fn resolve(ks: &Keystore, who: &str) -> Result<Address> {
    if who.starts_with("milk1") {
        return who.parse().map_err(|e: String| anyhow!(e));
    }
    ks.address(who)
}

/// Signs `action` on `chain` with a stored key, at its next sequence number.
pub fn sign_on(
    ks: &Keystore,
    client: &Client,
    chain: &str,
    key: &str,
    action: Action,
) -> Result<milk_core::tx::SignedTransaction> {
    let key = ks.unlock(key, &passphrase(false)?)?;
    let sequence = client
        .account_as(&key)?
        .chains
        .iter()
        .find(|c| c.chain == chain)
        .map(|c| c.next_sequence)
        .ok_or_else(|| anyhow!("no chain {chain} on this node"))?;
    Ok(Transaction {
        chain: chain.parse().map_err(|e: String| anyhow!(e))?,
        sender: key.address(),
        sequence,
        expires_at_ms: now_ms() + 10 * 60 * 1000,
        action,
    }
    .sign(&key))
}

/// An operator's center-chain action: signed here with `key` if one is named, else by the
/// node with the operator's key (through its lane, so nothing clashes with it).
pub fn operator_tx(
    ks: &Keystore,
    client: &Client,
    key: Option<&str>,
    action: Action,
) -> Result<String> {
    if let Some(key) = key {
        return center_tx(ks, client, key, action);
    }
    let r = client.operator_action("center", action)?;
    Ok(format!(
        "committed on center at height {} by the node's operator key",
        r.height.unwrap_or_default()
    ))
}

/// Signs a center-chain alliance action, submits it and waits for its block.
///
/// The operator's node signs with the same key (anchors, oracle prices); when it took the
/// sequence number first, the action is signed again with the next one.
pub fn center_tx(ks: &Keystore, client: &Client, key: &str, action: Action) -> Result<String> {
    chain_tx(ks, client, "center", key, action)
}

/// [`center_tx`] on any chain.
pub fn chain_tx(
    ks: &Keystore,
    client: &Client,
    chain: &str,
    key: &str,
    action: Action,
) -> Result<String> {
    let mut attempts = 0;
    let r = loop {
        let tx = sign_on(ks, client, chain, key, action.clone())?;
        let r = client
            .submit(chain, &[tx], true)?
            .results
            .into_iter()
            .next()
            .context("node answered no result")?;
        let raced = r
            .error
            .as_ref()
            .is_some_and(|e| e.code == "sequence_pending" || e.code == "sequence_used");
        attempts += 1;
        if !raced || attempts == 10 {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    if let Some(e) = &r.error {
        return Err(crate::failure::Refused::new(e.code.clone(), e.message.clone()).into());
    }
    Ok(format!(
        "committed on {chain} at height {}: tx {}",
        r.height.unwrap_or_default(),
        r.id.unwrap_or_default()
    ))
}

/// A moment (Unix ms) in the reader's local time, to the minute, with its offset.
pub fn local_time(ms: u64) -> String {
    let at = i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis);
    match at {
        Some(t) => (t.with_timezone(&chrono::Local))
            .format("%Y-%m-%d %H:%M (UTC%:z)")
            .to_string(),
        None => format!("{ms} ms after 1970"),
    }
}

/// Base units as whole units.
pub fn units(base: &str, decimals: u8) -> String {
    base.parse::<u128>()
        .map(|u| grouped(&Amount::new(u).to_decimal(decimals)))
        .unwrap_or_else(|_| base.to_owned())
}

pub use milk_core::amount::grouped;

/// MLK's decimals, as the demo and the exchange use them.
pub const MLK_DECIMALS: u8 = 8;

/// LZM's decimals.
pub const LZM_DECIMALS: u8 = 8;

#[cfg(test)]
mod tests {
    #[test]
    fn moments_read_as_local_dates() {
        // 2026-06-15 12:00 UTC: the same or a neighbouring day in any time zone.
        let shown = super::local_time(1_781_524_800_000);
        assert!(
            shown.starts_with("2026-06-1") && shown.contains("(UTC"),
            "{shown}"
        );
        assert_eq!(
            super::local_time(u64::MAX),
            format!("{} ms after 1970", u64::MAX)
        );
    }
}
