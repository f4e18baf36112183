//! `milk`: the MiL.k wallet and operator CLI.

#[cfg(feature = "bench")]
mod bench;
mod client;
mod cmd;
mod failure;
mod keystore;
mod seals;
mod verify;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use client::Client;
use cmd::chain::{BalanceArgs, BlockArgs, ExportArgs, TransferArgs, TxArgs, VerifyArgs};
use cmd::exchange::{BuyArgs, MarketArgs, QuoteArgs, SellArgs, TradeArgs};
use cmd::membership::{BurnForLzmArgs, CheckInArgs, LevelArgs};
use keystore::Keystore;
use std::path::PathBuf;

/// The MiL.k wallet and operator CLI.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The node's API.
    #[arg(
        long,
        env = "MILK_NODE",
        default_value = "http://127.0.0.1:7070",
        global = true
    )]
    node: String,
    /// Where keys are kept (default: ~/.milk).
    #[arg(long, env = "MILK_HOME", global = true)]
    home: Option<PathBuf>,
    /// Print JSON for scripts instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// An API credential, for partner and operator calls.
    #[arg(long, env = "MILK_API_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create, import and list keys.
    #[command(subcommand)]
    Key(cmd::key::KeyCmd),
    /// Balances of an address (or a key's) on every chain.
    Balance(BalanceArgs),
    /// Send MLK or a Brand Token.
    Transfer(TransferArgs),
    /// A transaction's status, with its Merkle proof checked here.
    Tx(TxArgs),
    /// Every transaction that concerned an account, newest first: what it changed and why.
    History(cmd::history::HistoryArgs),
    /// The chains, their assets and heads.
    Chains,
    /// A block (default: the head).
    Block(BlockArgs),
    /// Replay chains from genesis, checking every hash, signature, Merkle root and state root.
    Verify(VerifyArgs),
    /// Write one chain (genesis and every block) to a file that `milk verify --file` checks
    /// offline: what a partner hands its auditors.
    Export(ExportArgs),
    /// A partner's calls: link customers, convert mileage, take redemptions, refund.
    #[command(subcommand)]
    Partner(cmd::partner::PartnerCmd),
    /// The alliance: partners and applicants, applying, approving, TICA's agreement.
    #[command(subcommand)]
    Alliance(cmd::alliance::AllianceCmd),
    /// Brand Token markets and their prices (one, or all), with MLK's oracle price.
    Market(MarketArgs),
    /// What an order would cost or bring now (binds nothing).
    Quote(QuoteArgs),
    /// TICA's market policy: open a market, its depth and limits, halt and resume it, the
    /// fee, a floor its partner agrees to, confirm a move of MLK's price.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCmd),
    /// Sell Brand Tokens to TICA for MLK.
    Sell(SellArgs),
    /// Buy Brand Tokens from TICA with MLK.
    Buy(BuyArgs),
    /// A trade's status: pending, locked, priced, filled, or refused with why.
    Trade(TradeArgs),
    /// TICA's treasury: reserve, fees, inventory and escrow per market (operator credential).
    Treasury,
    /// A replicated node's view of its cluster: each chain's leader, this node's role, term
    /// and head; and its chains' membership changes (operator credential).
    Cluster(cmd::chain::ClusterArgs),
    /// The daily check-in: earns LZM once per UTC day.
    CheckIn(CheckInArgs),
    /// Burn MLK for LZM at TICA's rate.
    BurnForLzm(BurnForLzmArgs),
    /// A member's level, progress, what leaves the window when, and LZM credits.
    Level(LevelArgs),
    /// The MiL.k Pack: the season, a member's commitment and what it earned.
    Pack(LevelArgs),
    /// The circulating supply of MLK and LZM, with what is excluded and why.
    Supply,
    /// Membership settings: the earning rules and levels; TICA changes them.
    #[command(subcommand)]
    Membership(cmd::membership::MembershipCmd),
    /// Withdraw MLK to a main-chain address (where exchanges trade it).
    Withdraw(cmd::bridge::WithdrawArgs),
    /// Withdrawals, newest first (everyone's, or an account's), with their status.
    Withdrawals(cmd::bridge::WhoArgs),
    /// One withdrawal: its status, batch and proof (anyone may claim it on the main chain).
    Withdrawal(cmd::bridge::WithdrawalArgs),
    /// How to deposit main-chain MLK to an account: the vault and what to name.
    DepositAddress(cmd::bridge::DepositAddressArgs),
    /// Deposits from the main chain (everyone's, or an account's), with their status.
    Deposits(cmd::bridge::WhoArgs),
    /// The bridge to the main chain: its policy, the main chain, what crossed.
    Bridge,
    /// The main chain itself: deploy MLK and the vault, deposit, a balance there.
    #[command(subcommand)]
    MainChain(cmd::main_chain::MainChainCmd),
    /// Benchmarks (they start a node in this process).
    #[cfg(feature = "bench")]
    #[command(subcommand)]
    Bench(bench::BenchCmd),
}

fn main() {
    let cli = Cli::parse();
    let json = cli.json;
    if let Err(e) = run(cli) {
        std::process::exit(failure::report(&e, json));
    }
}

fn home(cli: &Cli) -> Result<PathBuf> {
    if let Some(h) = &cli.home {
        return Ok(h.clone());
    }
    let base = std::env::var_os("HOME").context("set MILK_HOME or HOME")?;
    Ok(PathBuf::from(base).join(".milk"))
}

fn run(cli: Cli) -> Result<()> {
    let ks = Keystore::new(&home(&cli)?);
    let client = Client::new(&cli.node).with_token(cli.token.clone());
    let j = cli.json;
    match cli.cmd {
        Cmd::Key(k) => cmd::key::key_cmd(&ks, k, j),
        Cmd::Balance(args) => cmd::chain::balance(&ks, &client, j, args),
        Cmd::Transfer(args) => cmd::chain::transfer(&ks, &client, j, args),
        Cmd::Tx(args) => cmd::chain::tx(&ks, &client, j, args),
        Cmd::History(args) => cmd::history::history(&ks, &client, j, args),
        Cmd::Chains => cmd::chain::chains(&ks, &client, j),
        Cmd::Block(args) => cmd::chain::block(&client, j, args),
        Cmd::Export(args) => cmd::chain::export(&client, j, args),
        Cmd::Verify(args) => cmd::chain::verify(&client, j, args),
        Cmd::Partner(p) => cmd::partner::partner_cmd(&ks, &client, p, j),
        Cmd::Alliance(a) => cmd::alliance::alliance_cmd(&ks, &client, a, j),
        Cmd::Market(args) => cmd::exchange::market(&client, j, args),
        Cmd::Policy(p) => cmd::policy::policy_cmd(&ks, &client, p, j),
        Cmd::Quote(args) => cmd::exchange::quote(&client, j, args),
        Cmd::Sell(args) => cmd::exchange::sell(&ks, &client, j, args),
        Cmd::Buy(args) => cmd::exchange::buy(&ks, &client, j, args),
        Cmd::Trade(args) => cmd::exchange::trade(&client, j, args),
        Cmd::CheckIn(args) => cmd::membership::check_in(&ks, &client, j, args),
        Cmd::BurnForLzm(args) => cmd::membership::burn_for_lzm(&ks, &client, j, args),
        Cmd::Level(args) => cmd::membership::level(&ks, &client, j, args),
        Cmd::Pack(args) => cmd::membership::pack(&ks, &client, j, args),
        Cmd::Supply => cmd::membership::supply(&ks, &client, j),
        Cmd::Membership(m) => cmd::membership::membership_cmd(&ks, &client, m, j),
        Cmd::Treasury => cmd::exchange::treasury(&ks, &client, j),
        Cmd::Cluster(args) => cmd::chain::cluster(&client, j, args),
        Cmd::Withdraw(args) => cmd::bridge::withdraw(&ks, &client, j, args),
        Cmd::Withdrawals(args) => cmd::bridge::withdrawals(&ks, &client, j, args),
        Cmd::Withdrawal(args) => cmd::bridge::withdrawal(&client, j, args),
        Cmd::DepositAddress(args) => cmd::bridge::deposit_address(&ks, &client, j, args),
        Cmd::Deposits(args) => cmd::bridge::deposits(&ks, &client, j, args),
        Cmd::Bridge => cmd::bridge::bridge(&client, j),
        Cmd::MainChain(m) => cmd::main_chain::main_chain_cmd(m, j),
        #[cfg(feature = "bench")]
        Cmd::Bench(b) => bench::run(b),
    }
}
