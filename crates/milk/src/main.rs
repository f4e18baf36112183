//! `milk`: the MiL.k wallet and operator CLI.

mod bench;
mod client;
mod keystore;
mod verify;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use client::Client;
use keystore::Keystore;
use milk_core::genesis::demo_key;
use milk_core::merkle::Proof;
use milk_core::tx::{Action, MAX_MEMO_BYTES, Transaction};
use milk_core::tx::{
    AllianceAction, BrandAction, ExchangeAction, MembershipAction, TokenAction, TokenomicsAction,
};
use milk_core::{Address, Amount, ChainId, Hash, Keypair};
use serde_json::json;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

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
    Key(KeyCmd),
    /// Balances of an address (or a key's) on every chain.
    Balance {
        /// A milk1… address or a key name.
        who: String,
    },
    /// Send MLK or a Brand Token.
    Transfer {
        /// The key that pays.
        #[arg(long)]
        from: String,
        /// The recipient: a milk1… address or a key name.
        #[arg(long)]
        to: String,
        /// How much, in whole units (e.g. 12.5).
        #[arg(long)]
        amount: String,
        /// The asset: MLK, or a Brand Token such as SKY.
        #[arg(long)]
        asset: String,
        /// A short message for the recipient.
        #[arg(long, default_value = "")]
        memo: String,
        /// Return once accepted instead of waiting for the block.
        #[arg(long)]
        no_wait: bool,
    },
    /// A transaction's status, with its Merkle proof checked here.
    Tx {
        /// The chain.
        chain: String,
        /// The transaction id.
        id: String,
    },
    /// The chains, their assets and heads.
    Chains,
    /// A block (default: the head).
    Block {
        /// The chain.
        chain: String,
        /// The height.
        height: Option<u64>,
    },
    /// Replay chains from genesis, checking every hash, signature, Merkle root and state root.
    Verify {
        /// Verify a stopped node's data directory instead of asking the node.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Verify an exported chain offline (`milk export`).
        #[arg(long, conflicts_with = "data_dir")]
        file: Option<PathBuf>,
        /// Only this chain.
        #[arg(long)]
        chain: Option<String>,
    },
    /// Write one chain (genesis and every block) to a file that `milk verify --file` checks
    /// offline: what a partner hands its auditors.
    Export {
        /// The chain.
        #[arg(long)]
        chain: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// Export from a stopped node's data directory instead of asking the node.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// A partner's calls: link customers, convert mileage, take redemptions, refund.
    #[command(subcommand)]
    Partner(PartnerCmd),
    /// The alliance: partners and applicants, applying, approving, TICA's agreement.
    #[command(subcommand)]
    Alliance(AllianceCmd),
    /// Brand Token markets and their prices (one, or all), with MLK's oracle price.
    Market {
        /// A Brand Token (CINE, SKY, …); all markets without one.
        asset: Option<String>,
    },
    /// What an order would cost or bring now (binds nothing).
    Quote {
        /// The Brand Token.
        asset: String,
        /// `buy` or `sell`.
        #[arg(long)]
        side: String,
        /// Tokens, in whole units.
        #[arg(long, conflicts_with = "mlk")]
        amount: Option<String>,
        /// Or MLK, in whole units: a buy's budget, or what a sale should bring.
        #[arg(long)]
        mlk: Option<String>,
    },
    /// Sell Brand Tokens to TICA for MLK.
    Sell {
        /// The seller's key.
        #[arg(long)]
        from: String,
        /// The Brand Token.
        #[arg(long)]
        asset: String,
        /// Tokens, in whole units.
        #[arg(long, conflicts_with = "mlk")]
        amount: Option<String>,
        /// Or the MLK to receive, in whole units: sells the fewest tokens that bring it.
        #[arg(long)]
        mlk: Option<String>,
        /// The least MLK to receive, in whole units (default: the quote less the slippage).
        #[arg(long)]
        min_out: Option<String>,
        /// How far below the quote to accept without --min-out, basis points.
        #[arg(long, default_value_t = 100)]
        slippage_bps: u16,
    },
    /// Buy Brand Tokens from TICA with MLK.
    Buy {
        /// The buyer's key.
        #[arg(long)]
        from: String,
        /// The Brand Token.
        #[arg(long)]
        asset: String,
        /// Tokens, in whole units.
        #[arg(long, conflicts_with = "mlk")]
        amount: Option<String>,
        /// Or the MLK to spend, in whole units, fee included.
        #[arg(long)]
        mlk: Option<String>,
        /// The most MLK to pay, in whole units (default: the quote plus the slippage).
        #[arg(long)]
        max_in: Option<String>,
        /// How far above the quote to accept without --max-in, basis points.
        #[arg(long, default_value_t = 100)]
        slippage_bps: u16,
    },
    /// TICA's treasury: reserve, fees, inventory and escrow per market (operator credential).
    Treasury,
    /// The daily check-in: earns LZM once per UTC day.
    CheckIn {
        /// The member's key.
        #[arg(long)]
        from: String,
    },
    /// Burn MLK for LZM at TICA's rate.
    BurnForLzm {
        /// The member's key.
        #[arg(long)]
        from: String,
        /// MLK to burn, in whole units.
        #[arg(long)]
        amount: String,
    },
    /// A member's level, progress, what leaves the window when, and LZM credits.
    Level {
        /// A milk1… address or a key name.
        who: String,
    },
    /// The circulating supply of MLK and LZM, with what is excluded and why.
    Supply,
    /// Membership settings: the earning rules and levels; TICA changes them.
    #[command(subcommand)]
    Membership(MembershipCmd),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Subcommand)]
enum PartnerCmd {
    /// Link a customer's wallet: the customer's key signs, the partner's key countersigns.
    Link {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The customer's key (in this keystore).
        #[arg(long)]
        user: String,
        /// The partner's issuer key (in this keystore).
        #[arg(long)]
        partner_key: String,
        /// The partner's customer id; only its salted hash goes on the chain.
        #[arg(long)]
        customer: String,
        /// The partner's secret salt for customer ids.
        #[arg(long, env = "MILK_CUSTOMER_SALT", hide_env_values = true)]
        salt: String,
    },
    /// Convert a customer's mileage into the partner's Brand Token.
    Convert {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The partner's issuer key.
        #[arg(long)]
        partner_key: String,
        /// The linked customer: an address or a key name.
        #[arg(long)]
        to: String,
        /// Mileage points.
        #[arg(long)]
        mileage: u64,
        /// The partner's reference id (a retry with the same one converts nothing twice).
        #[arg(long)]
        reference: String,
    },
    /// A customer spends Brand Tokens at the partner.
    Redeem {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The customer's key.
        #[arg(long)]
        user: String,
        /// How much, in whole units.
        #[arg(long)]
        amount: String,
        /// The partner's order id.
        #[arg(long)]
        order: String,
    },
    /// Give a redemption back.
    Refund {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The partner's issuer key.
        #[arg(long)]
        partner_key: String,
        /// The redemption's order id.
        #[arg(long)]
        order: String,
    },
    /// Issued, redeemed, refunded, outstanding and TICA's inventory.
    Supply {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
    },
    /// A conversion by reference.
    Conversion {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The reference id.
        reference: String,
    },
    /// A redemption by order id.
    Redemption {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The order id.
        order: String,
    },
    /// The chain's events (links, conversions, redemptions, refunds, transfers), in order.
    Events {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// Only events after this id (`height:index`), as the last page's `next` gave.
        #[arg(long)]
        after: Option<String>,
    },
    /// Tokens that have expired, or will within N days (to warn customers ahead).
    Expiring {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// How many days ahead to look.
        #[arg(long, default_value_t = 30)]
        within_days: u64,
    },
    /// Retire every account's expired tokens, one signed expiry per account.
    Sweep {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The partner's issuer key.
        #[arg(long)]
        partner_key: String,
    },
    /// Change the partner's terms after admission: whether customers may send its token
    /// to each other, and its conversion limits (in whole tokens).
    SetPolicy {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The partner's issuer key.
        #[arg(long)]
        partner_key: String,
        /// Whether customers may send the token to each other.
        #[arg(long, action = clap::ArgAction::Set)]
        transfers: bool,
        /// The smallest conversion.
        #[arg(long)]
        min_conversion: String,
        /// The largest single conversion.
        #[arg(long)]
        max_conversion: String,
        /// The most one customer may convert in a UTC day.
        #[arg(long)]
        daily_limit: String,
    },
    /// Grant an auditor read access to the chain; prints the auditor's token once.
    GrantAuditor {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
    },
    /// List the chain's auditor credentials.
    Auditors {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
    },
    /// Revoke an auditor credential.
    RevokeAuditor {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The credential's id.
        id: String,
    },
    /// Push the chain's events to an endpoint as signed webhooks; prints the secret once.
    AddWebhook {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The endpoint (https://… or http://…).
        #[arg(long)]
        url: String,
        /// Only events after this id (`height:index`); from the first event if absent.
        #[arg(long)]
        after: Option<String>,
        /// Once a day, warn of tokens expiring within this many days.
        #[arg(long)]
        warn_days: Option<u32>,
    },
    /// The chain's webhooks and how their deliveries go.
    Webhooks {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
    },
    /// Stop a webhook.
    RemoveWebhook {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The webhook's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum MembershipCmd {
    /// The earning rules in force and the levels.
    Rules,
    /// Change the earning rules (operator key); amounts in whole LZM.
    SetRules {
        /// The operator key.
        #[arg(long)]
        key: String,
        /// LZM for the daily check-in.
        #[arg(long)]
        check_in: String,
        /// LZM per KRW 1,000 of Brand Tokens traded.
        #[arg(long)]
        per_1000_krw_traded: String,
        /// LZM per KRW 1,000 of coupon payment.
        #[arg(long)]
        per_1000_krw_coupon: String,
        /// LZM per whole MLK burned.
        #[arg(long)]
        per_mlk_burned: String,
        /// The most LZM one member earns from activity in a day.
        #[arg(long)]
        daily_cap: String,
    },
    /// Set a floor under a member's level, with the reason (operator key); level 0 removes it.
    Floor {
        /// The member: an address or a key name.
        user: String,
        /// The level's index (0 = the first).
        #[arg(long)]
        level: u8,
        /// Why.
        #[arg(long)]
        reason: String,
        /// The operator key.
        #[arg(long)]
        key: String,
    },
    /// Consent to share membership data with a partner.
    Consent {
        /// The member's key.
        #[arg(long)]
        from: String,
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// What the partner may use it for.
        #[arg(long)]
        purpose: String,
        /// The data items: level, activity (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "level,activity")]
        items: Vec<String>,
        /// How long the partner may keep what it reads, days.
        #[arg(long, default_value_t = 30)]
        retention_days: u32,
    },
    /// Withdraw a consent.
    Withdraw {
        /// The member's key.
        #[arg(long)]
        from: String,
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
    },
    /// The consenting members of a level and up, as the partner sees them (partner
    /// credential); every read is logged for the members to see.
    Segment {
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The lowest level's index.
        #[arg(long, default_value_t = 0)]
        level: u8,
    },
    /// Commit MLK to the MiL.k Pack (weekly rewards for whole weeks in it).
    JoinPack {
        /// The member's key.
        #[arg(long)]
        from: String,
        /// MLK, in whole units.
        #[arg(long)]
        amount: String,
    },
    /// Take all your MLK out of the MiL.k Pack (the week under way is forfeited).
    LeavePack {
        /// The member's key.
        #[arg(long)]
        from: String,
    },
    /// Open a MiL.k Pack season (operator key).
    OpenSeason {
        /// The operator key.
        #[arg(long)]
        key: String,
        /// The season's number.
        #[arg(long)]
        season: u32,
        /// Weeks it runs, from a minute from now.
        #[arg(long)]
        weeks: u32,
        /// MLK paid out each week, whole units.
        #[arg(long)]
        weekly_reward: String,
        /// LZM per participant per week, whole units.
        #[arg(long)]
        lzm_per_week: String,
    },
    /// Every partner's premium offers.
    Offers,
    /// Publish a premium offer for members of a level (a partner's issuer key).
    PublishOffer {
        /// The partner's issuer key.
        #[arg(long)]
        partner_key: String,
        /// The offer's id.
        #[arg(long)]
        id: String,
        /// What it is.
        #[arg(long)]
        title: String,
        /// The lowest level that may buy it (its index).
        #[arg(long)]
        level: u8,
        /// Its price, in whole LZM.
        #[arg(long)]
        price: String,
        /// How many there are.
        #[arg(long)]
        stock: u32,
        /// How many days it stays open from now.
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// Buy a premium offer with LZM.
    BuyOffer {
        /// The member's key.
        #[arg(long)]
        from: String,
        /// The partner's brand chain.
        #[arg(long)]
        chain: String,
        /// The offer's id.
        #[arg(long)]
        id: String,
    },
    /// Report a customer's coupon payment, which earns them LZM (a partner's issuer key).
    Coupon {
        /// The partner's issuer key.
        #[arg(long)]
        partner_key: String,
        /// The customer: an address or a key name.
        #[arg(long)]
        user: String,
        /// What the coupon paid, KRW.
        #[arg(long)]
        krw: u64,
        /// The partner's coupon id (each is credited once).
        #[arg(long)]
        coupon: String,
    },
}

#[derive(Subcommand)]
enum AllianceCmd {
    /// Every partner and applicant, with where it stands.
    List,
    /// One partner or applicant.
    Show {
        /// Its brand chain.
        chain: String,
    },
    /// Apply to join, signed with the key that will issue the company's Brand Token.
    Apply {
        /// The applicant's issuer key (in this keystore).
        #[arg(long)]
        key: String,
        /// The brand chain to create (lowercase letters, digits, `-`).
        #[arg(long)]
        chain: String,
        /// The company's name.
        #[arg(long)]
        name: String,
        /// Its sector; one partner per sector.
        #[arg(long)]
        sector: String,
        /// The Brand Token's ticker.
        #[arg(long)]
        symbol: String,
        /// The token's decimals.
        #[arg(long, default_value_t = 2)]
        decimals: u8,
        /// What one whole token is worth at the partner, in KRW (R).
        #[arg(long)]
        redemption_value: u64,
        /// The lowest price TICA may quote, in basis points of R (at most 9500).
        #[arg(long, default_value_t = 8_000)]
        min_price_bps: u16,
        /// Base units of the token per mileage point.
        #[arg(long)]
        units_per_mileage: u64,
        /// The smallest conversion, in whole tokens.
        #[arg(long)]
        min_conversion: String,
        /// The largest conversion, in whole tokens.
        #[arg(long)]
        max_conversion: String,
        /// What one customer may convert in a day, in whole tokens.
        #[arg(long)]
        daily_limit: String,
        /// Customers may not send the token to each other.
        #[arg(long)]
        no_transfers: bool,
        /// Tokens from mileage expire this many days after conversion.
        #[arg(long)]
        expiry_days: Option<u32>,
        /// Tokens issued to TICA's inventory when the chain is created, in whole tokens.
        #[arg(long, default_value = "0")]
        float: String,
    },
    /// Approve an applicant, as a member partner (its issuer key).
    Approve {
        /// The applicant's brand chain.
        chain: String,
        /// The member's issuer key.
        #[arg(long)]
        key: String,
    },
    /// Sign the service agreement (TICA's operator key): admits the applicant and creates
    /// its brand chain.
    Sign {
        /// The applicant's brand chain.
        chain: String,
        /// The operator key.
        #[arg(long)]
        key: String,
    },
    /// Suspend a partner: conversions and trading halt, redemptions go on (operator key).
    Suspend {
        /// The partner's brand chain.
        chain: String,
        /// The operator key.
        #[arg(long)]
        key: String,
    },
    /// Lift a suspension (operator key).
    Reinstate {
        /// The partner's brand chain.
        chain: String,
        /// The operator key.
        #[arg(long)]
        key: String,
    },
    /// Switch the alliance to phase 2: from now on an applicant stakes MLK (operator key).
    StartPhase2 {
        /// The stake, in whole MLK.
        #[arg(long)]
        stake: String,
        /// The operator key.
        #[arg(long)]
        key: String,
    },
    /// Set aside a partner's share of partner allocation A, locked 3 years from the later of
    /// its join date and MLK's listing (operator key).
    Allocate {
        /// The partner's brand chain.
        chain: String,
        /// MLK, whole units.
        #[arg(long)]
        amount: String,
        /// The operator key.
        #[arg(long)]
        key: String,
    },
    /// Claim the partner's allocation once it has unlocked (the partner's issuer key).
    Claim {
        /// The partner's brand chain.
        chain: String,
        /// The partner's issuer key.
        #[arg(long)]
        key: String,
    },
    /// Issue an admitted partner its API credential (operator credential); prints it once.
    IssueCredential {
        /// The partner's brand chain.
        chain: String,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Make a new key.
    New {
        /// A name for it.
        name: String,
    },
    /// Import a secret key (64 hex digits) from a file or standard input.
    Import {
        /// A name for it.
        name: String,
        /// Read the secret from this file instead of standard input.
        #[arg(long)]
        secret_file: Option<PathBuf>,
    },
    /// Import a well-known demo key (alice, bob, carol, operator, …). Demo keys are public.
    Demo {
        /// The demo label; also the key's name unless --name is given.
        label: String,
        /// The name to store it under.
        #[arg(long)]
        name: Option<String>,
    },
    /// List keys.
    List,
    /// Show a key's address.
    Show {
        /// The key's name.
        name: String,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Committed signed MLK transfers per second through a real node, against this
    /// machine's Ed25519 batch-verification ceiling.
    Transfers {
        /// Sending accounts.
        #[arg(long, default_value_t = 2_000)]
        accounts: usize,
        /// Transfers per account.
        #[arg(long, default_value_t = 30)]
        per_account: usize,
        /// Transfers per request.
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// Settled trades per second (both chains, durable) and quote latency, over loopback HTTP.
    Trades {
        /// Concurrent traders.
        #[arg(long, default_value_t = 32)]
        traders: usize,
        /// Orders per trader.
        #[arg(long, default_value_t = 40)]
        per_trader: usize,
        /// Quotes timed afterwards.
        #[arg(long, default_value_t = 2_000)]
        quotes: usize,
    },
    /// Conversions per second through the partner API over loopback HTTP, one request each.
    Conversions {
        /// Linked customers.
        #[arg(long, default_value_t = 500)]
        customers: usize,
        /// Conversions in all.
        #[arg(long, default_value_t = 5_000)]
        conversions: usize,
        /// Concurrent partner clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    let json = cli.json;
    if let Err(e) = run(cli) {
        if json {
            emit(&json!({ "error": format!("{e:#}") }).to_string());
        } else {
            eprintln!("error: {e:#}");
        }
        std::process::exit(1);
    }
}

fn home(cli: &Cli) -> Result<PathBuf> {
    if let Some(h) = &cli.home {
        return Ok(h.clone());
    }
    let base = std::env::var_os("HOME").context("set MILK_HOME or HOME")?;
    Ok(PathBuf::from(base).join(".milk"))
}

fn passphrase(confirm: bool) -> Result<String> {
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

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Writes a line to standard output. A reader that went away (`milk … | head`) ends the
/// program quietly, as command-line tools do, instead of a panic.
fn emit(line: &str) {
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
fn out(json_mode: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
    if json_mode {
        emit(&value.to_string());
    } else {
        emit(&text());
    }
}

fn resolve(ks: &Keystore, who: &str) -> Result<Address> {
    if who.starts_with("milk1") {
        return who.parse().map_err(|e: String| anyhow!(e));
    }
    ks.address(who)
}

fn run(cli: Cli) -> Result<()> {
    let ks = Keystore::new(&home(&cli)?);
    let client = Client::new(&cli.node).with_token(cli.token.clone());
    let j = cli.json;
    match cli.cmd {
        Cmd::Key(k) => key_cmd(&ks, k, j),
        Cmd::Balance { who } => {
            // A key of this keystore reads as its owner (brand chains included); an address
            // reads what the credential, if any, may see.
            let view = if who.starts_with("milk1") {
                client.account(&resolve(&ks, &who)?.to_string())?
            } else {
                client.account_as(&ks.unlock(&who, &passphrase(false)?)?)?
            };
            out(j, serde_json::to_value(&view)?, || {
                let mut s = format!("{}\n", view.address);
                for c in &view.chains {
                    for b in &c.balances {
                        s += &format!("  {:<10} {:>6} {:>24}\n", c.chain, b.asset, b.display);
                    }
                }
                s.trim_end().to_owned()
            });
            Ok(())
        }
        Cmd::Transfer {
            from,
            to,
            amount,
            asset,
            memo,
            no_wait,
        } => {
            if memo.len() > MAX_MEMO_BYTES {
                bail!("memo is {} bytes; at most {MAX_MEMO_BYTES}", memo.len());
            }
            let to = resolve(&ks, &to)?;
            let symbol: milk_core::Symbol = asset.parse().map_err(|e: String| anyhow!(e))?;
            let chains = client.chains()?;
            let (chain, info) = chains
                .iter()
                .find_map(|c| {
                    c.assets
                        .iter()
                        .find(|a| a.symbol == symbol.as_str())
                        .map(|a| (c, a))
                })
                .ok_or_else(|| anyhow!("no chain on this node has asset {symbol}"))?;
            let units = Amount::parse_decimal(&amount, info.decimals)?;
            let key = ks.unlock(&from, &passphrase(false)?)?;
            let account = client.account_as(&key)?;
            let sequence = account
                .chains
                .iter()
                .find(|c| c.chain == chain.id)
                .map_or(0, |c| c.next_sequence);
            let tx = Transaction {
                chain: chain.id.parse().map_err(|e: String| anyhow!(e))?,
                sender: key.address(),
                sequence,
                expires_at_ms: now_ms() + 10 * 60 * 1000,
                action: Action::Token(TokenAction::Transfer {
                    to,
                    asset: symbol,
                    amount: units,
                    memo,
                }),
            };
            let signed = tx.sign(&key);
            let resp = client.submit(&chain.id, &[signed], !no_wait)?;
            let r = resp
                .results
                .into_iter()
                .next()
                .context("node answered no result")?;
            if let Some(e) = &r.error {
                bail!("transfer rejected: {} ({})", e.message, e.code);
            }
            out(j, serde_json::to_value(&r)?, || match r.height {
                Some(h) => format!(
                    "sent {amount} {symbol} to {to}\ncommitted on {} at height {h}\ntx {}",
                    chain.id,
                    r.id.clone().unwrap_or_default()
                ),
                None => format!("accepted, pending: tx {}", r.id.clone().unwrap_or_default()),
            });
            Ok(())
        }
        Cmd::Tx { chain, id } => {
            let view = client.tx(&chain, &id)?;
            // Check the proof here rather than trusting the node's word.
            let proof_ok = match &view.proof {
                Some(p) => {
                    let proof = Proof {
                        index: p.index,
                        leaf_count: p.leaf_count,
                        siblings: p
                            .siblings
                            .iter()
                            .map(|s| Hash::from_hex(s))
                            .collect::<Result<_, _>>()
                            .map_err(|e| anyhow!(e))?,
                    };
                    let leaf = Hash::from_hex(&p.leaf).map_err(|e| anyhow!(e))?;
                    let root = Hash::from_hex(&p.tx_root).map_err(|e| anyhow!(e))?;
                    let block = client.block(&chain, view.height.unwrap_or(0))?;
                    Some(proof.verify(&leaf, &root) && block.summary.tx_root == p.tx_root)
                }
                None => None,
            };
            let mut value = serde_json::to_value(&view)?;
            value["proof_verified"] = json!(proof_ok);
            out(j, value, || {
                let mut s = format!("tx {}\nstatus: {}", view.id, view.status);
                if let (Some(h), Some(i)) = (view.height, view.index) {
                    s += &format!(
                        "\nblock: {h} (index {i}, hash {})",
                        view.block_hash.clone().unwrap_or_default()
                    );
                }
                if let Some(ok) = proof_ok {
                    s += &format!(
                        "\nMerkle proof: {}",
                        if ok { "verified" } else { "INVALID" }
                    );
                }
                if let Some(e) = &view.error {
                    s += &format!("\nerror: {} ({})", e.message, e.code);
                }
                s
            });
            if proof_ok == Some(false) {
                bail!("the node's inclusion proof does not verify");
            }
            Ok(())
        }
        Cmd::Chains => {
            let chains = client.chains()?;
            out(j, serde_json::to_value(&chains)?, || {
                let mut s = String::new();
                for c in &chains {
                    let height = c
                        .head
                        .as_ref()
                        .map_or("private".to_owned(), |h| h.height.to_string());
                    s += &format!(
                        "{:<10} {:<6} height {:<8} {}{}\n",
                        c.id,
                        c.kind,
                        height,
                        c.name,
                        c.sector
                            .as_ref()
                            .map(|x| format!(" ({x})"))
                            .unwrap_or_default()
                    );
                    for a in &c.assets {
                        let supply = match &a.supply {
                            Some(units) => {
                                Amount::new(units.parse().unwrap_or(0)).to_decimal(a.decimals)
                            }
                            None => "private".to_owned(),
                        };
                        s += &format!("           {:<6} supply {supply}\n", a.symbol);
                    }
                }
                s.trim_end().to_owned()
            });
            Ok(())
        }
        Cmd::Block { chain, height } => {
            let height = match height {
                Some(h) => h,
                None => {
                    client
                        .chains()?
                        .into_iter()
                        .find(|c| c.id == chain)
                        .ok_or_else(|| anyhow!("no chain {chain} on this node"))?
                        .head
                        .ok_or_else(|| {
                            anyhow!("chain {chain} is private: pass a credential with --token")
                        })?
                        .height
                }
            };
            let b = client.block(&chain, height)?;
            out(j, serde_json::to_value(&b)?, || {
                let mut s = format!(
                    "{chain} block {}\nhash       {}\nprev       {}\ntime_ms    {}\ntx_root    {}\nstate_root {}\nproducer   {}\ntxs        {}",
                    b.summary.height,
                    b.summary.hash,
                    b.summary.prev_hash,
                    b.summary.time_ms,
                    b.summary.tx_root,
                    b.summary.state_root,
                    b.summary.producer,
                    b.summary.tx_count
                );
                for t in &b.txs {
                    s += &format!("\n  {}", t["id"].as_str().unwrap_or(""));
                }
                s
            });
            Ok(())
        }
        Cmd::Export {
            chain,
            out: path,
            data_dir,
        } => {
            let chain: ChainId = chain.parse().map_err(|e: String| anyhow!(e))?;
            let source = match data_dir {
                Some(d) => verify::Source::DataDir(d),
                None => verify::Source::Node(client),
            };
            let (genesis, blocks) = verify::collect(&source, &chain)?;
            verify::Export::write(&path, &chain, &genesis, &blocks)?;
            out(
                j,
                json!({ "chain": chain, "blocks": blocks.len(), "file": path }),
                || {
                    format!(
                        "exported {} blocks of {chain} to {}",
                        blocks.len(),
                        path.display()
                    )
                },
            );
            Ok(())
        }
        Cmd::Verify {
            data_dir,
            file,
            chain,
        } => {
            let source = match (data_dir, file) {
                (Some(d), _) => verify::Source::DataDir(d),
                (None, Some(f)) => verify::Source::File(Box::new(verify::Export::read(&f)?)),
                (None, None) => verify::Source::Node(client),
            };
            let only = chain
                .map(|c| c.parse::<ChainId>())
                .transpose()
                .map_err(|e| anyhow!(e))?;
            let reports = verify::verify(&source, only.as_ref(), !j)?;
            let bad: Vec<_> = reports.iter().filter(|r| !r.ok()).collect();
            out(
                j,
                json!({ "ok": bad.is_empty(), "chains": reports }),
                || {
                    let mut s = String::new();
                    for r in &reports {
                        match (&r.error, r.bad_block) {
                            _ if r.skipped.is_some() => {
                                let why = r.skipped.as_deref().unwrap_or_default();
                                s += &format!("{}: skipped: {why}\n", r.chain)
                            }
                            (Some(e), Some(h)) => {
                                s += &format!("{}: BAD at block {h}: {e}\n", r.chain)
                            }
                            (Some(e), None) => s += &format!("{}: BAD: {e}\n", r.chain),
                            _ => {
                                s += &format!(
                                    "{}: ok, {} blocks verified, head {} {}\n",
                                    r.chain, r.blocks_checked, r.head_height, r.head_hash
                                )
                            }
                        }
                    }
                    s.trim_end().to_owned()
                },
            );
            if !bad.is_empty() {
                std::process::exit(2);
            }
            Ok(())
        }
        Cmd::Partner(p) => partner_cmd(&ks, &client, p, j),
        Cmd::Alliance(a) => alliance_cmd(&ks, &client, a, j),
        Cmd::Market { asset } => market_cmd(&client, asset, j),
        Cmd::Quote {
            asset,
            side,
            amount,
            mlk,
        } => {
            let q = quote(&client, &asset, &side, amount.as_deref(), mlk.as_deref())?;
            let m = client.market(&asset)?;
            out(j, serde_json::to_value(&q)?, || {
                format!(
                    "{side} {} {asset} for {} MLK (fee {} MLK included), at {} KRW each on average\nlargest now: {} {asset}",
                    units(&q.tokens, m.decimals),
                    units(&q.total, MLK_DECIMALS),
                    units(&q.fee, MLK_DECIMALS),
                    units(&q.price_krw_e4, 4),
                    units(&q.largest_now, m.decimals),
                )
            });
            Ok(())
        }
        Cmd::Sell {
            from,
            asset,
            amount,
            mlk,
            min_out,
            slippage_bps,
        } => {
            let m = client.market(&asset)?;
            // An MLK-sized sale is the fewest tokens the quote says bring that much, with
            // that much as its limit.
            let (tokens, min_out) = match (&amount, &mlk, min_out) {
                (Some(a), None, Some(v)) => (
                    Amount::parse_decimal(a, m.decimals)?,
                    Amount::parse_decimal(&v, MLK_DECIMALS)?,
                ),
                (Some(a), None, None) => {
                    let q = quote(&client, &asset, "sell", Some(a), None)?;
                    let total: u128 = q.total.parse()?;
                    let slip = total * u128::from(slippage_bps.min(10_000)) / 10_000;
                    (
                        Amount::parse_decimal(a, m.decimals)?,
                        Amount::new(total - slip),
                    )
                }
                (None, Some(v), limit) => {
                    let q = quote(&client, &asset, "sell", None, Some(v))?;
                    let limit = match limit {
                        Some(l) => Amount::parse_decimal(&l, MLK_DECIMALS)?,
                        None => Amount::parse_decimal(v, MLK_DECIMALS)?,
                    };
                    (Amount::new(q.tokens.parse()?), limit)
                }
                _ => bail!("give --amount (tokens) or --mlk (MLK to receive)"),
            };
            let order = sign_on(
                &ks,
                &client,
                &m.chain,
                &from,
                Action::Exchange(ExchangeAction::Sell {
                    amount: tokens,
                    min_out,
                }),
            )?;
            show_trade(j, &client.trade(&order)?, m.decimals)
        }
        Cmd::Buy {
            from,
            asset,
            amount,
            mlk,
            max_in,
            slippage_bps,
        } => {
            let m = client.market(&asset)?;
            let size = match (&amount, &mlk) {
                (Some(a), None) => {
                    milk_core::tx::OrderSize::Tokens(Amount::parse_decimal(a, m.decimals)?)
                }
                (None, Some(v)) => {
                    milk_core::tx::OrderSize::Mlk(Amount::parse_decimal(v, MLK_DECIMALS)?)
                }
                _ => bail!("give --amount (tokens) or --mlk (MLK to spend)"),
            };
            let max_in = match (max_in, &mlk) {
                (Some(v), _) => Amount::parse_decimal(&v, MLK_DECIMALS)?,
                (None, Some(v)) => Amount::parse_decimal(v, MLK_DECIMALS)?,
                (None, None) => {
                    let q = quote(&client, &asset, "buy", amount.as_deref(), None)?;
                    let total: u128 = q.total.parse()?;
                    Amount::new(total + total * u128::from(slippage_bps.min(10_000)) / 10_000)
                }
            };
            let order = sign_on(
                &ks,
                &client,
                "center",
                &from,
                Action::Exchange(ExchangeAction::Buy {
                    asset: asset.parse().map_err(|e: String| anyhow!(e))?,
                    pay: "MLK".parse().map_err(|e: String| anyhow!(e))?,
                    size,
                    max_in,
                }),
            )?;
            show_trade(j, &client.trade(&order)?, m.decimals)
        }
        Cmd::CheckIn { from } => {
            let receipt = center_tx(
                &ks,
                &client,
                &from,
                Action::Membership(MembershipAction::CheckIn),
            )?;
            let me = ks.address(&from)?;
            let level = client.member(&me.to_string())?;
            out(j, serde_json::to_value(&level)?, || {
                format!(
                    "checked in\n{receipt}\nlevel: {} ({} LZM earned in {} days)",
                    level.level_name,
                    units(&level.earned_in_window, LZM_DECIMALS),
                    level.window_days
                )
            });
            Ok(())
        }
        Cmd::BurnForLzm { from, amount } => {
            let amount = Amount::parse_decimal(&amount, MLK_DECIMALS)?;
            let receipt = center_tx(
                &ks,
                &client,
                &from,
                Action::Membership(MembershipAction::BurnForLzm { amount }),
            )?;
            out(
                j,
                json!({ "burned": amount.units().to_string(), "receipt": receipt }),
                || {
                    format!(
                        "burned {} MLK for LZM\n{receipt}",
                        amount.to_decimal(MLK_DECIMALS)
                    )
                },
            );
            Ok(())
        }
        Cmd::Level { who } => {
            let address = resolve(&ks, &who)?;
            let m = client.member(&address.to_string())?;
            out(j, serde_json::to_value(&m)?, || {
                let mut s = format!(
                    "{}: {} ({} LZM earned in the last {} days)",
                    m.address,
                    m.level_name,
                    units(&m.earned_in_window, LZM_DECIMALS),
                    m.window_days
                );
                if let (Some(next), Some(needed)) = (&m.next_level, &m.needed) {
                    s += &format!("\n{} more LZM for {next}", units(needed, LZM_DECIMALS));
                }
                if let Some(f) = &m.floor {
                    s += &format!("\nfloor: level {} ({})", f.level, f.reason);
                }
                for l in &m.leaving {
                    s += &format!(
                        "\n{} LZM leaves the window at {} (Unix ms)",
                        units(&l.amount, LZM_DECIMALS),
                        l.at_ms
                    );
                }
                for c in &m.consents {
                    let state = if c.withdrawn_ms.is_some() {
                        "withdrawn"
                    } else {
                        "active"
                    };
                    s += &format!(
                        "\nconsent to {}: {} ({}; {})",
                        c.chain,
                        c.purpose,
                        c.items.join(", "),
                        state
                    );
                }
                for a in &m.access_log {
                    s += &format!("\nread by {} at {} (Unix ms)", a.chain, a.time_ms);
                }
                s
            });
            Ok(())
        }
        Cmd::Supply => {
            let supply = client.supply()?;
            out(j, serde_json::to_value(&supply)?, || {
                supply
                    .iter()
                    .map(|a| {
                        let d = if a.asset == "LZM" {
                            LZM_DECIMALS
                        } else {
                            MLK_DECIMALS
                        };
                        let mut s = format!(
                            "{}: {} circulating of {} (locked {}, reserve {}, TICA {})",
                            a.asset,
                            units(&a.circulating, d),
                            units(&a.total, d),
                            units(&a.locked, d),
                            units(&a.reserve, d),
                            units(&a.tica_held, d)
                        );
                        for b in &a.buckets {
                            s += &format!(
                                "\n  {:<24} {:<10} {}",
                                b.label,
                                b.class,
                                units(&b.amount, d)
                            );
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        Cmd::Membership(m) => membership_cmd(&ks, &client, m, j),
        Cmd::Treasury => {
            let t = client.treasury()?;
            out(j, t.clone(), || {
                serde_json::to_string_pretty(&t).unwrap_or_default()
            });
            Ok(())
        }
        Cmd::Bench(BenchCmd::Trades {
            traders,
            per_trader,
            quotes,
        }) => {
            let result = bench::trades(&bench::TradeBench {
                traders,
                per_trader,
                quotes,
            })?;
            emit(&result.to_string());
            Ok(())
        }
        Cmd::Bench(BenchCmd::Conversions {
            customers,
            conversions,
            clients,
        }) => {
            if customers == 0 || conversions == 0 || clients == 0 {
                bail!("need at least one customer, conversion and client");
            }
            let result = bench::conversions(&bench::ConversionBench {
                customers,
                conversions,
                clients,
            })?;
            emit(&result.to_string());
            Ok(())
        }
        Cmd::Bench(BenchCmd::Transfers {
            accounts,
            per_account,
            batch,
            clients,
        }) => {
            if accounts < 2 || per_account == 0 || batch == 0 || clients == 0 {
                bail!("need at least 2 accounts and 1 transfer, batch and client");
            }
            let result = bench::transfers(&bench::TransferBench {
                accounts,
                per_account,
                batch,
                clients,
            })?;
            emit(&result.to_string());
            Ok(())
        }
    }
}

/// MLK's decimals, as the demo and the exchange use them.
const MLK_DECIMALS: u8 = 8;
/// LZM's decimals.
const LZM_DECIMALS: u8 = 8;

fn membership_cmd(ks: &Keystore, client: &Client, cmd: MembershipCmd, j: bool) -> Result<()> {
    let lzm = |text: &str| Amount::parse_decimal(text, LZM_DECIMALS);
    let receipt = match cmd {
        MembershipCmd::Rules => {
            let r = client.membership_rules()?;
            let v = serde_json::to_value(&r)?;
            out(j, v.clone(), || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            });
            return Ok(());
        }
        MembershipCmd::SetRules {
            key,
            check_in,
            per_1000_krw_traded,
            per_1000_krw_coupon,
            per_mlk_burned,
            daily_cap,
        } => {
            let rules = milk_core::membership::EarningRules {
                check_in: lzm(&check_in)?,
                per_1000_krw_traded: lzm(&per_1000_krw_traded)?,
                per_1000_krw_coupon: lzm(&per_1000_krw_coupon)?,
                per_mlk_burned: lzm(&per_mlk_burned)?,
                daily_cap: lzm(&daily_cap)?,
            };
            center_tx(
                ks,
                client,
                &key,
                Action::Membership(MembershipAction::SetEarningRules { rules }),
            )?
        }
        MembershipCmd::Consent {
            from,
            chain,
            purpose,
            items,
            retention_days,
        } => center_tx(
            ks,
            client,
            &from,
            Action::Membership(MembershipAction::GrantConsent {
                chain: chain.parse().map_err(|e: String| anyhow!(e))?,
                purpose,
                items,
                retention_days,
            }),
        )?,
        MembershipCmd::Withdraw { from, chain } => center_tx(
            ks,
            client,
            &from,
            Action::Membership(MembershipAction::WithdrawConsent {
                chain: chain.parse().map_err(|e: String| anyhow!(e))?,
            }),
        )?,
        MembershipCmd::Segment { chain, level } => {
            let v = client.partner_get(&chain, &format!("/segment?level={level}"))?;
            out(j, v.clone(), || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            });
            return Ok(());
        }
        MembershipCmd::JoinPack { from, amount } => center_tx(
            ks,
            client,
            &from,
            Action::Membership(MembershipAction::JoinPack {
                amount: Amount::parse_decimal(&amount, MLK_DECIMALS)?,
            }),
        )?,
        MembershipCmd::LeavePack { from } => center_tx(
            ks,
            client,
            &from,
            Action::Membership(MembershipAction::LeavePack),
        )?,
        MembershipCmd::OpenSeason {
            key,
            season,
            weeks,
            weekly_reward,
            lzm_per_week,
        } => center_tx(
            ks,
            client,
            &key,
            Action::Membership(MembershipAction::OpenPackSeason {
                season,
                starts_ms: now_ms() + 60_000,
                weeks,
                weekly_reward: Amount::parse_decimal(&weekly_reward, MLK_DECIMALS)?,
                lzm_per_week: lzm(&lzm_per_week)?,
            }),
        )?,
        MembershipCmd::Offers => {
            let offers = client.offers()?;
            out(j, serde_json::to_value(&offers)?, || {
                offers
                    .iter()
                    .map(|o| {
                        format!(
                            "{}/{}: {} — {} LZM, {} and up, {} left",
                            o.chain,
                            o.id,
                            o.title,
                            units(&o.price, LZM_DECIMALS),
                            o.level_name,
                            o.left
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            return Ok(());
        }
        MembershipCmd::PublishOffer {
            partner_key,
            id,
            title,
            level,
            price,
            stock,
            days,
        } => {
            let opens_ms = now_ms();
            center_tx(
                ks,
                client,
                &partner_key,
                Action::Membership(MembershipAction::PublishOffer {
                    id,
                    title,
                    level,
                    price: lzm(&price)?,
                    stock,
                    opens_ms,
                    closes_ms: opens_ms + days * 86_400_000,
                }),
            )?
        }
        MembershipCmd::BuyOffer { from, chain, id } => center_tx(
            ks,
            client,
            &from,
            Action::Membership(MembershipAction::BuyOffer {
                chain: chain.parse().map_err(|e: String| anyhow!(e))?,
                id,
            }),
        )?,
        MembershipCmd::Floor {
            user,
            level,
            reason,
            key,
        } => {
            let user = resolve(ks, &user)?;
            center_tx(
                ks,
                client,
                &key,
                Action::Membership(MembershipAction::SetLevelFloor {
                    user,
                    level,
                    reason,
                }),
            )?
        }
        MembershipCmd::Coupon {
            partner_key,
            user,
            krw,
            coupon,
        } => {
            let user = resolve(ks, &user)?;
            center_tx(
                ks,
                client,
                &partner_key,
                Action::Membership(MembershipAction::ReportCoupon {
                    user,
                    krw,
                    coupon_id: coupon,
                }),
            )?
        }
    };
    out(j, json!({ "receipt": receipt }), || receipt.clone());
    Ok(())
}

/// Base units as whole units.
fn units(base: &str, decimals: u8) -> String {
    base.parse::<u128>()
        .map(|u| Amount::new(u).to_decimal(decimals))
        .unwrap_or_else(|_| base.to_owned())
}

/// A quote with sizes in whole units.
fn quote(
    client: &Client,
    asset: &str,
    side: &str,
    amount: Option<&str>,
    mlk: Option<&str>,
) -> Result<milkd::exchange::QuoteView> {
    if side != "buy" && side != "sell" {
        bail!("--side is buy or sell, not {side:?}");
    }
    let m = client.market(asset)?;
    let size = match (amount, mlk) {
        (Some(a), None) => format!("tokens={}", Amount::parse_decimal(a, m.decimals)?.units()),
        (None, Some(v)) => format!("mlk={}", Amount::parse_decimal(v, MLK_DECIMALS)?.units()),
        _ => bail!("give --amount (tokens) or --mlk"),
    };
    client.quote(asset, side, &size)
}

fn show_trade(j: bool, t: &milkd::exchange::TradeView, decimals: u8) -> Result<()> {
    out(j, serde_json::to_value(t)?, || {
        let verb = match (&t.side, t.status.as_str()) {
            (milk_core::exchange::curve::Side::Sell, "filled") => "sold",
            (milk_core::exchange::curve::Side::Buy, "filled") => "bought",
            _ => "not filled:",
        };
        let mut s = format!(
            "{verb} {} {} for {} MLK (fee {} MLK), at {} KRW each\ntrade {}",
            units(&t.tokens, decimals),
            t.asset,
            units(&t.total, MLK_DECIMALS),
            units(&t.fee, MLK_DECIMALS),
            units(&t.price_krw_e4, 4),
            t.id
        );
        if let Some(code) = &t.code {
            s = format!(
                "{} ({code}); everything locked went back\ntrade {}",
                t.status, t.id
            );
        }
        s
    });
    Ok(())
}

fn market_cmd(client: &Client, asset: Option<String>, j: bool) -> Result<()> {
    let markets = match &asset {
        Some(a) => vec![client.market(a)?],
        None => client.markets()?,
    };
    let oracle = client.oracle().ok();
    let v = json!({ "markets": markets, "oracle": oracle });
    out(j, v, || {
        let mut s = String::new();
        if let Some(o) = &oracle {
            s += &format!(
                "MLK: {} KRW ({} s old{})\n",
                units(&o.krw_e4.to_string(), 4),
                o.age_ms / 1000,
                if o.fresh {
                    ""
                } else {
                    ", stale: trading halted"
                }
            );
        }
        s += &format!(
            "{:<6} {:<10} {:>12} {:>12} {:>12} {:>16}\n",
            "token", "chain", "price KRW", "floor", "ceiling", "largest buy"
        );
        for m in &markets {
            s += &format!(
                "{:<6} {:<10} {:>12} {:>12} {:>12} {:>16}\n",
                m.asset,
                m.chain,
                units(&m.price_krw_e4, 4),
                units(&m.min_price_krw_e4, 4),
                units(&m.max_price_krw_e4, 4),
                units(&m.largest_buy, m.decimals)
            );
        }
        s.trim_end().to_owned()
    });
    Ok(())
}

/// Signs `action` on `chain` with a stored key, at its next sequence number.
fn sign_on(
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

fn partner_cmd(ks: &Keystore, client: &Client, cmd: PartnerCmd, j: bool) -> Result<()> {
    let show = |v: serde_json::Value| {
        out(j, v.clone(), || {
            serde_json::to_string_pretty(&v).unwrap_or_default()
        });
    };
    match cmd {
        PartnerCmd::Link {
            chain,
            user,
            partner_key,
            customer,
            salt,
        } => {
            let user_address = ks.address(&user)?;
            let hash = milk_core::brand::customer_hash(&salt, &customer);
            let partner = ks.unlock(&partner_key, &passphrase(false)?)?;
            let chain_id: ChainId = chain.parse().map_err(|e: String| anyhow!(e))?;
            let countersign =
                partner.sign(&milk_core::brand::link_message(&chain_id, &user_address, &hash).0);
            let tx = sign_on(
                ks,
                client,
                &chain,
                &user,
                Action::Brand(BrandAction::Link {
                    customer_hash: hash,
                    partner_signature: countersign,
                }),
            )?;
            show(client.partner_post(&chain, "/links", &tx)?);
        }
        PartnerCmd::Convert {
            chain,
            partner_key,
            to,
            mileage,
            reference,
        } => {
            let to = resolve(ks, &to)?;
            let tx = sign_on(
                ks,
                client,
                &chain,
                &partner_key,
                Action::Brand(BrandAction::Convert {
                    to,
                    mileage,
                    reference,
                }),
            )?;
            show(client.partner_post(&chain, "/conversions", &tx)?);
        }
        PartnerCmd::Redeem {
            chain,
            user,
            amount,
            order,
        } => {
            let decimals = client
                .chains()?
                .into_iter()
                .find(|c| c.id == chain)
                .and_then(|c| c.assets.first().map(|a| a.decimals))
                .ok_or_else(|| anyhow!("no chain {chain} on this node"))?;
            let amount = Amount::parse_decimal(&amount, decimals)?;
            let tx = sign_on(
                ks,
                client,
                &chain,
                &user,
                Action::Brand(BrandAction::Redeem {
                    amount,
                    order_id: order,
                }),
            )?;
            show(client.partner_post(&chain, "/redemptions", &tx)?);
        }
        PartnerCmd::SetPolicy {
            chain,
            partner_key,
            transfers,
            min_conversion,
            max_conversion,
            daily_limit,
        } => {
            let decimals = client
                .chains()?
                .into_iter()
                .find(|c| c.id == chain)
                .and_then(|c| c.assets.first().map(|a| a.decimals))
                .ok_or_else(|| anyhow!("no chain {chain} on this node"))?;
            let terms = milk_core::brand::PolicyTerms {
                transfers_allowed: transfers,
                min_conversion: Amount::parse_decimal(&min_conversion, decimals)?,
                max_conversion: Amount::parse_decimal(&max_conversion, decimals)?,
                daily_user_limit: Amount::parse_decimal(&daily_limit, decimals)?,
            };
            let action = Action::Brand(BrandAction::SetPolicy { terms });
            let tx = sign_on(ks, client, &chain, &partner_key, action)?;
            show(client.partner_post(&chain, "/policy", &tx)?);
        }
        PartnerCmd::Refund {
            chain,
            partner_key,
            order,
        } => {
            let tx = sign_on(
                ks,
                client,
                &chain,
                &partner_key,
                Action::Brand(BrandAction::Refund { order_id: order }),
            )?;
            show(client.partner_post(&chain, "/refunds", &tx)?);
        }
        PartnerCmd::Supply { chain } => show(client.partner_get(&chain, "/supply")?),
        PartnerCmd::Conversion { chain, reference } => show(client.partner_get(
            &chain,
            &format!("/conversions/{}", client::segment(&reference)),
        )?),
        PartnerCmd::Redemption { chain, order } => {
            show(client.partner_get(&chain, &format!("/redemptions/{}", client::segment(&order)))?)
        }
        PartnerCmd::Expiring { chain, within_days } => {
            show(client.partner_get(&chain, &format!("/expiring?within_days={within_days}"))?)
        }
        PartnerCmd::Sweep { chain, partner_key } => {
            let lots = client.partner_get(&chain, "/expiring?within_days=0")?;
            let mut accounts: Vec<String> = lots
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["expired"] == true)
                .filter_map(|l| l["account"].as_str().map(str::to_owned))
                .collect();
            accounts.sort();
            accounts.dedup();
            let mut swept = Vec::new();
            for account in accounts {
                let account: Address = account.parse().map_err(|e: String| anyhow!(e))?;
                let tx = sign_on(
                    ks,
                    client,
                    &chain,
                    &partner_key,
                    Action::Brand(BrandAction::Expire { account }),
                )?;
                client.partner_post(&chain, "/sweeps", &tx)?;
                swept.push(account.to_string());
            }
            show(json!({ "chain": chain, "swept": swept }));
        }
        PartnerCmd::Events { chain, after } => {
            let query = after
                .map(|a| format!("?after={}", client::segment(&a)))
                .unwrap_or_default();
            show(client.partner_get(&chain, &format!("/events{query}"))?)
        }
        PartnerCmd::GrantAuditor { chain } => {
            show(client.partner_call("POST", &chain, "/auditors")?)
        }
        PartnerCmd::Auditors { chain } => show(client.partner_get(&chain, "/auditors")?),
        PartnerCmd::AddWebhook {
            chain,
            url,
            after,
            warn_days,
        } => show(client.partner_json(
            &chain,
            "/webhooks",
            &json!({ "url": url, "after": after, "warn_days": warn_days }),
        )?),
        PartnerCmd::Webhooks { chain } => show(client.partner_get(&chain, "/webhooks")?),
        PartnerCmd::RemoveWebhook { chain, id } => show(client.partner_call(
            "DELETE",
            &chain,
            &format!("/webhooks/{}", client::segment(&id)),
        )?),
        PartnerCmd::RevokeAuditor { chain, id } => show(client.partner_call(
            "DELETE",
            &chain,
            &format!("/auditors/{}", client::segment(&id)),
        )?),
    }
    Ok(())
}

/// Signs a center-chain alliance action, submits it and waits for its block.
///
/// The operator's node signs with the same key (anchors, oracle prices); when it took the
/// sequence number first, the action is signed again with the next one.
fn center_tx(ks: &Keystore, client: &Client, key: &str, action: Action) -> Result<String> {
    let mut attempts = 0;
    let r = loop {
        let tx = sign_on(ks, client, "center", key, action.clone())?;
        let r = client
            .submit("center", &[tx], true)?
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
        bail!("refused: {} ({})", e.message, e.code);
    }
    Ok(format!(
        "committed on center at height {}: tx {}",
        r.height.unwrap_or_default(),
        r.id.unwrap_or_default()
    ))
}

fn alliance_cmd(ks: &Keystore, client: &Client, cmd: AllianceCmd, j: bool) -> Result<()> {
    let chain_id = |c: &str| -> Result<ChainId> { c.parse().map_err(|e: String| anyhow!(e)) };
    let done = |chain: &str, what: &str, receipt: String| {
        out(
            j,
            json!({ "chain": chain, "done": what, "receipt": receipt }),
            || format!("{chain}: {what}\n{receipt}"),
        );
    };
    match cmd {
        AllianceCmd::List => {
            let members = client.alliance()?;
            out(j, serde_json::to_value(&members)?, || {
                members
                    .iter()
                    .map(|m| {
                        format!(
                            "{:<12} {:<10} {:<6} {:<24} {}",
                            m.chain,
                            serde_json::to_value(m.status)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default(),
                            m.symbol,
                            m.name,
                            m.sector
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        AllianceCmd::Show { chain } => {
            let m = client.alliance_member(&chain)?;
            let v = serde_json::to_value(&m)?;
            out(j, v.clone(), || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            });
        }
        AllianceCmd::Apply {
            key,
            chain,
            name,
            sector,
            symbol,
            decimals,
            redemption_value,
            min_price_bps,
            units_per_mileage,
            min_conversion,
            max_conversion,
            daily_limit,
            no_transfers,
            expiry_days,
            float,
        } => {
            let amount = |text: &str, what: &str| {
                Amount::parse_decimal(text, decimals).with_context(|| format!("{what}: {text:?}"))
            };
            let application = milk_core::alliance::Application {
                chain: chain_id(&chain)?,
                name,
                sector,
                symbol: symbol.parse().map_err(|e: String| anyhow!(e))?,
                decimals,
                policy: milk_core::brand::BrandPolicy {
                    redemption_value_krw: redemption_value,
                    min_price_bps,
                    units_per_mileage,
                    min_conversion: amount(&min_conversion, "minimum conversion")?,
                    max_conversion: amount(&max_conversion, "maximum conversion")?,
                    daily_user_limit: amount(&daily_limit, "daily limit")?,
                    transfers_allowed: !no_transfers,
                    expiry_days,
                },
                initial_float: amount(&float, "float")?,
            };
            let receipt = center_tx(
                ks,
                client,
                &key,
                Action::Alliance(AllianceAction::Apply { application }),
            )?;
            done(&chain, "applied", receipt);
        }
        AllianceCmd::Approve { chain, key } => {
            let action = Action::Alliance(AllianceAction::Approve {
                chain: chain_id(&chain)?,
            });
            done(&chain, "approved", center_tx(ks, client, &key, action)?);
        }
        AllianceCmd::Sign { chain, key } => {
            let action = Action::Alliance(AllianceAction::SignAgreement {
                chain: chain_id(&chain)?,
            });
            done(&chain, "admitted", center_tx(ks, client, &key, action)?);
        }
        AllianceCmd::Suspend { chain, key } => {
            let action = Action::Alliance(AllianceAction::Suspend {
                chain: chain_id(&chain)?,
            });
            done(&chain, "suspended", center_tx(ks, client, &key, action)?);
        }
        AllianceCmd::Reinstate { chain, key } => {
            let action = Action::Alliance(AllianceAction::Reinstate {
                chain: chain_id(&chain)?,
            });
            done(&chain, "reinstated", center_tx(ks, client, &key, action)?);
        }
        AllianceCmd::StartPhase2 { stake, key } => {
            let stake = Amount::parse_decimal(&stake, MLK_DECIMALS)?;
            done(
                "alliance",
                "phase 2 started",
                center_tx(
                    ks,
                    client,
                    &key,
                    Action::Tokenomics(TokenomicsAction::StartPhase2 { stake }),
                )?,
            );
        }
        AllianceCmd::Allocate { chain, amount, key } => {
            let action = Action::Tokenomics(TokenomicsAction::AllocatePartner {
                chain: chain_id(&chain)?,
                amount: Amount::parse_decimal(&amount, MLK_DECIMALS)?,
            });
            done(&chain, "allocated", center_tx(ks, client, &key, action)?);
        }
        AllianceCmd::Claim { chain, key } => {
            let action = Action::Tokenomics(TokenomicsAction::ClaimAllocation {
                chain: chain_id(&chain)?,
            });
            done(&chain, "claimed", center_tx(ks, client, &key, action)?);
        }
        AllianceCmd::IssueCredential { chain } => {
            let v = client.partner_call("POST", &chain, "/credentials")?;
            out(j, v.clone(), || {
                format!(
                    "credential {} for {chain} (shown once; hand it to the partner):\n{}",
                    v["id"].as_str().unwrap_or_default(),
                    v["token"].as_str().unwrap_or_default()
                )
            });
        }
    }
    Ok(())
}

fn key_cmd(ks: &Keystore, cmd: KeyCmd, j: bool) -> Result<()> {
    let report = |name: &str, key: &Keypair, path: PathBuf| {
        out(
            j,
            json!({ "name": name, "address": key.address(), "file": path }),
            || format!("{name}: {}\nsaved to {}", key.address(), path.display()),
        );
    };
    match cmd {
        KeyCmd::New { name } => {
            let secret: [u8; 32] = rand::random();
            let key = Keypair::from_secret(secret);
            let path = ks.add(&name, &key, &passphrase(true)?)?;
            report(&name, &key, path);
        }
        KeyCmd::Import { name, secret_file } => {
            let text = match secret_file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                None => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_line(&mut s)
                        .context("reading the secret from standard input")?;
                    s
                }
            };
            let mut secret = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut secret)
                .map_err(|e| anyhow!("the secret must be 64 hex digits: {e}"))?;
            let key = Keypair::from_secret(secret);
            let path = ks.add(&name, &key, &passphrase(true)?)?;
            report(&name, &key, path);
        }
        KeyCmd::Demo { label, name } => {
            let key = demo_key(&label);
            let name = name.unwrap_or_else(|| label.clone());
            let path = ks.add(&name, &key, &passphrase(false)?)?;
            if !j {
                eprintln!("note: demo keys are public; never hold value with them");
            }
            report(&name, &key, path);
        }
        KeyCmd::List => {
            let keys = ks.list()?;
            out(
                j,
                json!(
                    keys.iter()
                        .map(|(n, a)| json!({"name": n, "address": a}))
                        .collect::<Vec<_>>()
                ),
                || {
                    if keys.is_empty() {
                        return "no keys yet; try `milk key new NAME` or `milk key demo alice`"
                            .to_owned();
                    }
                    keys.iter()
                        .map(|(n, a)| format!("{n:<16} {a}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
        KeyCmd::Show { name } => {
            let address = ks.address(&name)?;
            out(j, json!({ "name": name, "address": address }), || {
                address.to_string()
            });
        }
    }
    Ok(())
}
