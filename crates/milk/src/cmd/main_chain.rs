//! The main chain from the command line: deploy MLK and the vault (TICA, once), deposit
//! main-chain MLK to a milk account, read a main-chain balance, and check that every
//! release on the main chain matches a center-chain withdrawal (`milk verify
//! --main-chain-rpc`).

use super::*;
use crate::client::Client;
use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use milk_api::bridge::WithdrawalView;
use milk_evm::contracts::IMilkCoin;
use milk_evm::vault::Vault;
use milk_evm::{B256, PrivateKeySigner, U256};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum MainChainCmd {
    /// TICA deploys MLK and the vault and moves MLK's whole supply into the vault.
    Deploy {
        /// The main chain's JSON-RPC URL.
        #[arg(long)]
        rpc: String,
        /// The deployer's key file (secp256k1, 64 hex digits).
        #[arg(long)]
        key_file: PathBuf,
        /// TICA's bridge key file: the vault accepts batch roots it signs.
        #[arg(long)]
        bridge_key_file: PathBuf,
    },
    /// Deposit main-chain MLK to a milk account (approve, then the vault's deposit).
    Deposit {
        /// The main chain's JSON-RPC URL.
        #[arg(long)]
        rpc: String,
        /// The depositor's key file (secp256k1, 64 hex digits).
        #[arg(long)]
        key_file: PathBuf,
        /// The vault.
        #[arg(long)]
        vault: String,
        /// The milk account to credit (`milk1…`).
        #[arg(long)]
        to: String,
        /// MLK, in whole units.
        #[arg(long)]
        amount: String,
    },
    /// A main-chain address's MLK.
    Balance {
        /// The main chain's JSON-RPC URL.
        #[arg(long)]
        rpc: String,
        /// The vault (its coin is MLK).
        #[arg(long)]
        vault: String,
        /// The address (EIP-55 checksummed).
        who: String,
    },
}

/// Reads a main-chain key file (64 hex digits).
fn read_key(path: &Path) -> Result<PrivateKeySigner> {
    milk_evm::chain::read_key(path).map_err(|e| anyhow!(e))
}

fn address(text: &str, what: &str) -> Result<milk_evm::Address> {
    milk_evm::address::parse(text).map_err(|e| anyhow!("{what} {text}: {e}"))
}

fn url(rpc: &str) -> Result<milk_evm::vault::Url> {
    rpc.parse().map_err(|e| anyhow!("--rpc {rpc}: {e}"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn main_chain_cmd(cmd: MainChainCmd, j: bool) -> Result<()> {
    let rt = runtime()?;
    match cmd {
        MainChainCmd::Deploy {
            rpc,
            key_file,
            bridge_key_file,
        } => {
            let (tica, bridge) = (read_key(&key_file)?, read_key(&bridge_key_file)?);
            let d = rt.block_on(milk_evm::devnet::deploy(url(&rpc)?, tica, bridge.address()))?;
            let (coin, vault) = (d.coin.to_checksum(None), d.vault.to_checksum(None));
            out(j, json!({ "coin": coin, "vault": vault }), || {
                format!("MLK {coin}\nvault {vault} (holding MLK's whole supply)")
            });
        }
        MainChainCmd::Deposit {
            rpc,
            key_file,
            vault,
            to,
            amount,
        } => {
            let to: milk_core::Address = to.parse().map_err(|e: String| anyhow!("--to: {e}"))?;
            let amount = Amount::parse_decimal(&amount, MLK_DECIMALS)?;
            let key = read_key(&key_file)?;
            let vault = address(&vault, "--vault")?;
            let tx = rt.block_on(deposit(url(&rpc)?, key, vault, amount, to))?;
            out(j, json!({ "tx": tx.to_string() }), || {
                format!(
                    "deposited {} MLK for {to}: main-chain tx {tx}; credited once confirmed",
                    grouped(&amount.to_decimal(MLK_DECIMALS))
                )
            });
        }
        MainChainCmd::Balance { rpc, vault, who } => {
            let (vault, who) = (address(&vault, "--vault")?, address(&who, "the address")?);
            let units = rt.block_on(balance(url(&rpc)?, vault, who))?;
            out(
                j,
                json!({ "address": who.to_checksum(None), "mlk": units.to_string() }),
                || format!("{} MLK", super::units(&units.to_string(), MLK_DECIMALS)),
            );
        }
    }
    Ok(())
}

async fn deposit(
    url: milk_evm::vault::Url,
    key: PrivateKeySigner,
    vault: milk_evm::Address,
    amount: Amount,
    to: milk_core::Address,
) -> Result<B256> {
    let p = milk_evm::chain::connect(url.clone(), key.clone());
    let coin = Vault::connect(url, key, vault).await?.coin().await?;
    let amount = U256::from(amount.units());
    let words = |e: milk_evm::contracts::CallError| {
        anyhow!(milk_evm::contracts::explain(&e).unwrap_or_else(|| e.to_string()))
    };
    let coin = IMilkCoin::new(coin, &p);
    let approving = coin.approve(vault, amount).send().await.map_err(words)?;
    if !approving.get_receipt().await?.status() {
        bail!("the coin refused the approval");
    }
    let vault = milk_evm::contracts::IMilkVault::new(vault, &p);
    let milk = B256::from(*to.as_bytes());
    let sent = vault.deposit(amount, milk).send().await.map_err(words)?;
    let receipt = sent.get_receipt().await?;
    match receipt.status() {
        true => Ok(receipt.transaction_hash),
        false => bail!(
            "the vault refused the deposit (tx {})",
            receipt.transaction_hash
        ),
    }
}

async fn balance(
    url: milk_evm::vault::Url,
    vault: milk_evm::Address,
    who: milk_evm::Address,
) -> Result<U256> {
    let key = PrivateKeySigner::random();
    let coin = Vault::connect(url.clone(), key.clone(), vault)
        .await?
        .coin()
        .await?;
    let p = milk_evm::chain::connect(url, key);
    Ok(IMilkCoin::new(coin, &p).balanceOf(who).call().await?)
}

/// What `milk verify --main-chain-rpc` found.
#[derive(Debug, serde::Serialize)]
pub struct MainChainReport {
    /// Releases on the main chain, each matching a center-chain withdrawal.
    pub releases: usize,
    /// Batch roots posted, each the center chain's.
    pub batches: usize,
    /// What does not match, if anything.
    pub problems: Vec<String>,
}

/// Where `milk verify` finds the vault: its node, its address, and its deployment block.
pub struct MainChainArgs<'a> {
    /// The main chain's JSON-RPC URL.
    pub rpc: &'a str,
    /// The vault's address.
    pub vault: &'a str,
    /// The first block to search.
    pub from: u64,
}

/// Every withdrawal, by id, fetched a page (500) at a time.
fn all_withdrawals(client: &Client) -> Result<HashMap<String, WithdrawalView>> {
    let (mut all, mut before) = (HashMap::new(), None);
    loop {
        let page = client.withdrawals(None, 500, before)?;
        let Some(last) = page.last() else {
            return Ok(all);
        };
        before = Some(last.number);
        all.extend(page.into_iter().map(|w| (w.id.clone(), w)));
    }
}

/// Checks every release and batch root on the vault against the center chain, searching
/// the vault's events window by window from its deployment block.
pub fn verify_main_chain(client: &Client, args: &MainChainArgs) -> Result<MainChainReport> {
    let rt = runtime()?;
    let vault = rt.block_on(Vault::connect(
        url(args.rpc)?,
        PrivateKeySigner::random(),
        address(args.vault, "--vault")?,
    ))?;
    let head = rt.block_on(vault.head())?;
    let (mut releases, mut posted) = (Vec::new(), Vec::new());
    for (from, to) in milk_evm::vault::windows(args.from, head) {
        releases.extend(rt.block_on(vault.released(from, to))?);
        posted.extend(rt.block_on(vault.posted(from, to))?);
    }
    let withdrawals = all_withdrawals(client)?;
    let mut problems = Vec::new();
    for r in &releases {
        let id = format!("{}", r.withdrawal);
        match withdrawals.get(&id) {
            None => problems.push(format!(
                "release {} (tx {}) matches no center-chain withdrawal",
                id, r.tx
            )),
            Some(w) if w.amount != r.amount.to_string() || w.to != r.to.to_checksum(None) => {
                problems.push(format!(
                    "release of withdrawal {} paid {} to {}, not {} to {}",
                    w.number, r.amount, r.to, w.amount, w.to
                ))
            }
            Some(_) => {}
        }
    }
    let roots: HashMap<u64, &str> = (withdrawals.values())
        .filter_map(|w| Some((w.batch?, w.proof.as_ref()?.root.as_str())))
        .collect();
    for (batch, root) in &posted {
        if roots.get(batch) != Some(&format!("{root}").as_str()) {
            problems.push(format!(
                "batch {batch}'s posted root {root} is not the center chain's"
            ));
        }
    }
    Ok(MainChainReport {
        releases: releases.len(),
        batches: posted.len(),
        problems,
    })
}
