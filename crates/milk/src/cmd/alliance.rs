//! The alliance: applications, approvals, admission, suspension and credentials.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use milk_core::tx::Action;
use milk_core::tx::{AllianceAction, TokenomicsAction};
use milk_core::{Amount, ChainId};
use serde_json::json;

#[derive(Subcommand)]
pub enum AllianceCmd {
    /// Every partner and applicant, with where it stands.
    List,
    /// One partner or applicant.
    Show(ShowArgs),
    /// Apply to join, signed with the key that will issue the company's Brand Token.
    Apply(ApplyArgs),
    /// Approve an applicant, as a member partner (its issuer key).
    Approve(ApproveArgs),
    /// Sign the service agreement (TICA's operator key): admits the applicant and creates
    /// its brand chain.
    Sign(SignArgs),
    /// Suspend a partner: conversions and trading halt, redemptions go on (operator key).
    Suspend(SuspendArgs),
    /// Lift a suspension (operator key).
    Reinstate(ReinstateArgs),
    /// Start leaving the alliance (the partner's issuer key, or TICA's for cause):
    /// conversions and buys of its token stop at once; redemptions and sales go on until the
    /// final date, after which TICA's node finishes the exit.
    Exit(ExitArgs),
    /// Switch the alliance to phase 2: from now on an applicant stakes MLK (operator key).
    StartPhase2(StartPhase2Args),
    /// Set aside a partner's share of partner allocation A, locked 3 years from the later of
    /// its join date and MLK's listing (operator key).
    Allocate(AllocateArgs),
    /// Claim the partner's allocation once it has unlocked (the partner's issuer key).
    Claim(ClaimArgs),
    /// Issue an admitted partner its API credential (operator credential); prints it once.
    IssueCredential(IssueCredentialArgs),
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// Its brand chain.
    pub chain: String,
}

#[derive(clap::Args)]
pub struct ApplyArgs {
    /// The applicant's issuer key (in this keystore).
    #[arg(long)]
    pub key: String,
    /// The brand chain to create (lowercase letters, digits, `-`).
    #[arg(long)]
    pub chain: String,
    /// The company's name.
    #[arg(long)]
    pub name: String,
    /// Its sector; one partner per sector.
    #[arg(long)]
    pub sector: String,
    /// The Brand Token's ticker.
    #[arg(long)]
    pub symbol: String,
    /// The token's decimals.
    #[arg(long, default_value_t = 2)]
    pub decimals: u8,
    /// What one whole token is worth at the partner, in KRW (R).
    #[arg(long)]
    pub redemption_value: u64,
    /// The lowest price TICA may quote, in basis points of R (at most 9500).
    #[arg(long, default_value_t = 8_000)]
    pub min_price_bps: u16,
    /// Base units of the token per mileage point.
    #[arg(long)]
    pub units_per_mileage: u64,
    /// The smallest conversion, in whole tokens.
    #[arg(long)]
    pub min_conversion: String,
    /// The largest conversion, in whole tokens.
    #[arg(long)]
    pub max_conversion: String,
    /// What one customer may convert in a day, in whole tokens.
    #[arg(long)]
    pub daily_limit: String,
    /// Customers may not send the token to each other.
    #[arg(long)]
    pub no_transfers: bool,
    /// Tokens from mileage expire this many days after conversion.
    #[arg(long)]
    pub expiry_days: Option<u32>,
    /// Tokens issued to TICA's inventory when the chain is created, in whole tokens.
    #[arg(long, default_value = "0")]
    pub float: String,
}

#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The applicant's brand chain.
    pub chain: String,
    /// The member's issuer key.
    #[arg(long)]
    pub key: String,
}

#[derive(clap::Args)]
pub struct SignArgs {
    /// The applicant's brand chain.
    pub chain: String,
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(clap::Args)]
pub struct SuspendArgs {
    /// The partner's brand chain.
    pub chain: String,
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(clap::Args)]
pub struct ExitArgs {
    /// The partner's brand chain.
    pub chain: String,
    /// How far away the final date is: `30d`, `12h`, `15m` or `20s`; at least the alliance's
    /// notice (30 days; 10 s on the demo network).
    #[arg(long, value_parser = parse_span)]
    pub final_in: u64,
    /// The partner's issuer key (or an operator key) to sign with here; without it the node
    /// signs with the operator's key, for cause (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
}

/// A span such as `30d`, `12h`, `15m` or `20s`, in milliseconds.
fn parse_span(s: &str) -> Result<u64, String> {
    let unit_ms = match s.chars().last() {
        Some('d') => 86_400_000,
        Some('h') => 3_600_000,
        Some('m') => 60_000,
        Some('s') => 1_000,
        _ => {
            return Err(format!(
                "{s:?}: give a number and a unit: d, h, m or s (30d, 20s)"
            ));
        }
    };
    let n: u64 = (s[..s.len() - 1].parse())
        .map_err(|_| format!("{s:?}: give a whole number before the unit (30d, 20s)"))?;
    n.checked_mul(unit_ms)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("{s:?}: out of range"))
}

#[derive(clap::Args)]
pub struct ReinstateArgs {
    /// The partner's brand chain.
    pub chain: String,
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(clap::Args)]
pub struct StartPhase2Args {
    /// The stake, in whole MLK.
    #[arg(long)]
    pub stake: String,
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(clap::Args)]
pub struct AllocateArgs {
    /// The partner's brand chain.
    pub chain: String,
    /// MLK, whole units.
    #[arg(long)]
    pub amount: String,
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(clap::Args)]
pub struct ClaimArgs {
    /// The partner's brand chain.
    pub chain: String,
    /// The partner's issuer key.
    #[arg(long)]
    pub key: String,
}

#[derive(clap::Args)]
pub struct IssueCredentialArgs {
    /// The partner's brand chain.
    pub chain: String,
}

pub fn alliance_cmd(ks: &Keystore, client: &Client, cmd: AllianceCmd, j: bool) -> Result<()> {
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
        AllianceCmd::Show(args) => show(client, j, args)?,
        AllianceCmd::Apply(args) => apply(ks, client, j, args)?,
        AllianceCmd::Approve(args) => approve(ks, client, j, args)?,
        AllianceCmd::Sign(args) => sign(ks, client, j, args)?,
        AllianceCmd::Suspend(args) => suspend(ks, client, j, args)?,
        AllianceCmd::Exit(args) => exit(ks, client, j, args)?,
        AllianceCmd::Reinstate(args) => reinstate(ks, client, j, args)?,
        AllianceCmd::StartPhase2(args) => start_phase2(ks, client, j, args)?,
        AllianceCmd::Allocate(args) => allocate(ks, client, j, args)?,
        AllianceCmd::Claim(args) => claim(ks, client, j, args)?,
        AllianceCmd::IssueCredential(args) => issue_credential(client, j, args)?,
    }
    Ok(())
}

pub fn show(client: &Client, j: bool, args: ShowArgs) -> Result<()> {
    let ShowArgs { chain } = args;
    let m = client.alliance_member(&chain)?;
    let v = serde_json::to_value(&m)?;
    // Its amounts (the initial float, the conversion terms) in whole tokens of its own.
    out(j, v.clone(), || super::human(&v, m.decimals));
    Ok(())
}

pub fn apply(ks: &Keystore, client: &Client, j: bool, args: ApplyArgs) -> Result<()> {
    let ApplyArgs {
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
    } = args;
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
    done(j, &chain, "applied", receipt);
    Ok(())
}

pub fn approve(ks: &Keystore, client: &Client, j: bool, args: ApproveArgs) -> Result<()> {
    let ApproveArgs { chain, key } = args;
    let action = Action::Alliance(AllianceAction::Approve {
        chain: chain_id(&chain)?,
    });
    done(j, &chain, "approved", center_tx(ks, client, &key, action)?);
    Ok(())
}

pub fn sign(ks: &Keystore, client: &Client, j: bool, args: SignArgs) -> Result<()> {
    let SignArgs { chain, key } = args;
    let action = Action::Alliance(AllianceAction::SignAgreement {
        chain: chain_id(&chain)?,
    });
    done(
        j,
        &chain,
        "admitted",
        operator_tx(ks, client, key.as_deref(), action)?,
    );
    Ok(())
}

pub fn suspend(ks: &Keystore, client: &Client, j: bool, args: SuspendArgs) -> Result<()> {
    let SuspendArgs { chain, key } = args;
    let action = Action::Alliance(AllianceAction::Suspend {
        chain: chain_id(&chain)?,
    });
    done(
        j,
        &chain,
        "suspended",
        operator_tx(ks, client, key.as_deref(), action)?,
    );
    Ok(())
}

pub fn reinstate(ks: &Keystore, client: &Client, j: bool, args: ReinstateArgs) -> Result<()> {
    let ReinstateArgs { chain, key } = args;
    let action = Action::Alliance(AllianceAction::Reinstate {
        chain: chain_id(&chain)?,
    });
    done(
        j,
        &chain,
        "reinstated",
        operator_tx(ks, client, key.as_deref(), action)?,
    );
    Ok(())
}

pub fn exit(ks: &Keystore, client: &Client, j: bool, args: ExitArgs) -> Result<()> {
    let ExitArgs {
        chain,
        final_in,
        key,
    } = args;
    let final_ms = crate::client::now_ms().saturating_add(final_in);
    let action = Action::Alliance(AllianceAction::StartExit {
        chain: chain_id(&chain)?,
        final_ms,
    });
    let receipt = operator_tx(ks, client, key.as_deref(), action)?;
    let what = format!("leaving; final date {}", super::local_time(final_ms));
    done(j, &chain, &what, receipt);
    Ok(())
}

pub fn start_phase2(ks: &Keystore, client: &Client, j: bool, args: StartPhase2Args) -> Result<()> {
    let StartPhase2Args { stake, key } = args;
    let stake = Amount::parse_decimal(&stake, MLK_DECIMALS)?;
    done(
        j,
        "alliance",
        "phase 2 started",
        operator_tx(
            ks,
            client,
            key.as_deref(),
            Action::Tokenomics(TokenomicsAction::StartPhase2 { stake }),
        )?,
    );
    Ok(())
}

pub fn allocate(ks: &Keystore, client: &Client, j: bool, args: AllocateArgs) -> Result<()> {
    let AllocateArgs { chain, amount, key } = args;
    let action = Action::Tokenomics(TokenomicsAction::AllocatePartner {
        chain: chain_id(&chain)?,
        amount: Amount::parse_decimal(&amount, MLK_DECIMALS)?,
    });
    done(
        j,
        &chain,
        "allocated",
        operator_tx(ks, client, key.as_deref(), action)?,
    );
    Ok(())
}

pub fn claim(ks: &Keystore, client: &Client, j: bool, args: ClaimArgs) -> Result<()> {
    let ClaimArgs { chain, key } = args;
    let action = Action::Tokenomics(TokenomicsAction::ClaimAllocation {
        chain: chain_id(&chain)?,
    });
    done(j, &chain, "claimed", center_tx(ks, client, &key, action)?);
    Ok(())
}

pub fn issue_credential(client: &Client, j: bool, args: IssueCredentialArgs) -> Result<()> {
    let IssueCredentialArgs { chain } = args;
    let v = client.partner_call("POST", &chain, "/credentials")?;
    out(j, v.clone(), || {
        format!(
            "credential {} for {chain} (shown once; hand it to the partner):\n{}",
            v["id"].as_str().unwrap_or_default(),
            v["token"].as_str().unwrap_or_default()
        )
    });
    Ok(())
}

fn chain_id(c: &str) -> Result<ChainId> {
    c.parse().map_err(|e: String| anyhow!(e))
}

/// Prints what an alliance action did, with its receipt.
fn done(j: bool, chain: &str, what: &str, receipt: String) {
    out(
        j,
        json!({ "chain": chain, "done": what, "receipt": receipt }),
        || format!("{chain}: {what}\n{receipt}"),
    );
}
