//! TICA's market policy: opening a market for an admitted partner, its depth and limits,
//! halting and resuming it, the fee, its maximum price, a floor the partner agrees to, and
//! confirming a move of MLK's price. Each is an action on the center chain, signed by the node's operator key
//! (send the operator's credential with --token) or by `--key`.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use milk_core::tx::{Action, ExchangeAction};
use milk_core::{Amount, Symbol};
use serde_json::json;

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Open a market for an admitted partner's token, TICA at `--position` on a curve
    /// `--depth` deep (whole tokens; the position at most the float TICA holds).
    Open {
        /// The Brand Token.
        asset: String,
        /// The curve's capacity, whole tokens.
        #[arg(long)]
        depth: String,
        /// TICA's starting position, whole tokens.
        #[arg(long)]
        position: String,
        /// The largest order, whole tokens.
        #[arg(long)]
        max_order: String,
        /// What one customer may trade a day, whole tokens.
        #[arg(long)]
        daily_limit: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Change a market's depth, keeping its price (whole tokens).
    Depth {
        /// The Brand Token.
        asset: String,
        /// The new capacity, whole tokens.
        depth: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Change a market's largest order and daily limit per customer (whole tokens).
    Limits {
        /// The Brand Token.
        asset: String,
        /// The largest order, whole tokens.
        #[arg(long)]
        max_order: Option<String>,
        /// What one customer may trade a day, whole tokens.
        #[arg(long)]
        daily_limit: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Halt one market: no buys, sales given back.
    Halt {
        /// The Brand Token.
        asset: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Let a halted market trade again.
    Resume {
        /// The Brand Token.
        asset: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Change the exchange's fee, basis points.
    Fee {
        /// Basis points of each trade's value.
        bps: u16,
        #[command(flatten)]
        signer: Signer,
    },
    /// Change a market's floor (basis points of R), signed here by its partner's key.
    Floor {
        /// The Brand Token.
        asset: String,
        /// The new floor, basis points of the redemption value.
        bps: u16,
        /// The partner's issuer key (in this keystore), which agrees to it.
        #[arg(long)]
        partner_key: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Change a market's maximum price (basis points of R, at most 9,500).
    Max {
        /// The Brand Token.
        asset: String,
        /// The new maximum, basis points of the redemption value.
        bps: u16,
        #[command(flatten)]
        signer: Signer,
    },
    /// The bridge's withdrawal policy: TICA's fee, the smallest withdrawal and what one
    /// account may withdraw a UTC day (whole MLK).
    Bridge {
        /// The fee per withdrawal, paid on top.
        #[arg(long)]
        fee: String,
        /// The smallest withdrawal.
        #[arg(long)]
        minimum: String,
        /// What one account may withdraw a UTC day.
        #[arg(long)]
        daily_limit: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Accept the level a move of MLK's price reached, so trading resumes at it.
    ConfirmPrice {
        /// KRW per MLK, as `/v1/oracle` shows it (`unsettled_krw_e4` over 10⁴).
        krw: String,
        #[command(flatten)]
        signer: Signer,
    },
}

/// Who signs: the node (default) or a key here.
#[derive(clap::Args)]
pub struct Signer {
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    key: Option<String>,
}

fn symbol(asset: &str) -> Result<Symbol> {
    asset.parse().map_err(|e: String| anyhow!(e))
}

fn tokens(text: &str, decimals: u8) -> Result<Amount> {
    Ok(Amount::parse_decimal(text, decimals)?)
}

/// Runs a policy command.
pub fn policy_cmd(ks: &Keystore, client: &Client, cmd: PolicyCmd, j: bool) -> Result<()> {
    let (what, signer, action) = plan(ks, client, cmd)?;
    let done = operator_tx(ks, client, signer.key.as_deref(), action)?;
    out(j, json!({ "done": what, "committed": done }), || {
        format!("{what}\n{done}")
    });
    Ok(())
}

/// What a policy command says it does, who signs, and the action.
type Plan<A> = (String, Signer, A);

/// A policy command's action: the bridge's, or a market's.
fn plan(ks: &Keystore, client: &Client, cmd: PolicyCmd) -> Result<Plan<Action>> {
    if let PolicyCmd::Bridge {
        fee,
        minimum,
        daily_limit,
        signer,
    } = cmd
    {
        return bridge_policy([fee, minimum, daily_limit], signer);
    }
    let (what, signer, action) = market_plan(ks, client, cmd)?;
    Ok((what, signer, Action::Exchange(action)))
}

/// A market policy command's action.
fn market_plan(ks: &Keystore, client: &Client, cmd: PolicyCmd) -> Result<Plan<ExchangeAction>> {
    Ok(match cmd {
        PolicyCmd::Open {
            asset,
            depth,
            position,
            max_order,
            daily_limit,
            signer,
        } => {
            let action = open(client, &asset, [depth, position, max_order, daily_limit])?;
            (format!("market {asset} opened"), signer, action)
        }
        PolicyCmd::Depth {
            asset,
            depth,
            signer,
        } => {
            let what = format!("market {asset} is {depth} tokens deep");
            (what, signer, deepen(client, &asset, &depth)?)
        }
        PolicyCmd::Limits {
            asset,
            max_order,
            daily_limit,
            signer,
        } => limits(client, asset, max_order, daily_limit, signer)?,
        PolicyCmd::Halt { asset, signer } => halt(&asset, true, signer)?,
        PolicyCmd::Resume { asset, signer } => halt(&asset, false, signer)?,
        PolicyCmd::Max { asset, bps, signer } => {
            let action = ExchangeAction::SetMaxPrice {
                asset: symbol(&asset)?,
                max_bps: bps,
            };
            (
                format!("market {asset}'s maximum is {bps} basis points of R"),
                signer,
                action,
            )
        }
        PolicyCmd::Fee { bps, signer } => {
            let action = ExchangeAction::SetFee { fee_bps: bps };
            (format!("the fee is {bps} basis points"), signer, action)
        }
        PolicyCmd::Floor {
            asset,
            bps,
            partner_key,
            signer,
        } => floor(ks, client, asset, bps, &partner_key, signer)?,
        PolicyCmd::ConfirmPrice { krw, signer } => confirm_price(&krw, signer)?,
        PolicyCmd::Bridge { .. } => bail!("the bridge's policy is not a market's"),
    })
}

/// Halts a market, or lets it trade again.
fn halt(asset: &str, halted: bool, signer: Signer) -> Result<Plan<ExchangeAction>> {
    let action = ExchangeAction::HaltMarket {
        asset: symbol(asset)?,
        halted,
    };
    let state = if halted { "halted" } else { "trading" };
    Ok((format!("market {asset} {state}"), signer, action))
}

/// Accepts the level a move of MLK's price reached (KRW per MLK, 4 decimals).
fn confirm_price(krw: &str, signer: Signer) -> Result<Plan<ExchangeAction>> {
    let krw_e4 = Amount::parse_decimal(krw, 4)?.units();
    let krw_e4 = u64::try_from(krw_e4).map_err(|_| anyhow!("price too large"))?;
    let action = ExchangeAction::ConfirmPrice { krw_e4 };
    Ok((
        format!("MLK's price confirmed at {krw} KRW"),
        signer,
        action,
    ))
}

/// The bridge's withdrawal policy: fee, minimum, daily limit (whole MLK).
fn bridge_policy(sizes: [String; 3], signer: Signer) -> Result<Plan<Action>> {
    let [fee, minimum, daily_limit] = sizes;
    let policy = milk_core::bridge::BridgePolicy {
        fee: tokens(&fee, MLK_DECIMALS)?,
        minimum: tokens(&minimum, MLK_DECIMALS)?,
        daily_limit: tokens(&daily_limit, MLK_DECIMALS)?,
    };
    let action = Action::Bridge(milk_core::tx::BridgeAction::SetBridgePolicy { policy });
    let what = format!(
        "withdrawals cost {fee} MLK, at least {minimum} MLK, at most {daily_limit} MLK a day"
    );
    Ok((what, signer, action))
}

/// `SetMarket` opening a market: depth, position, largest order and daily limit, whole
/// tokens of the partner's decimals.
fn open(client: &Client, asset: &str, sizes: [String; 4]) -> Result<ExchangeAction> {
    let member = (client.alliance()?.into_iter())
        .find(|m| m.symbol == asset)
        .ok_or_else(|| anyhow!("no partner issues {asset}"))?;
    let [depth, position, max_order, daily_limit] = sizes;
    let d = member.decimals;
    Ok(ExchangeAction::SetMarket {
        asset: symbol(asset)?,
        capacity: tokens(&depth, d)?,
        position: Some(tokens(&position, d)?),
        max_order: tokens(&max_order, d)?,
        user_daily_limit: tokens(&daily_limit, d)?,
    })
}

/// `SetMarket` changing an open market's depth, its limits as they are.
fn deepen(client: &Client, asset: &str, depth: &str) -> Result<ExchangeAction> {
    let m = client.market(asset)?;
    Ok(ExchangeAction::SetMarket {
        asset: symbol(asset)?,
        capacity: tokens(depth, m.decimals)?,
        position: None,
        max_order: Amount::new(m.max_order.parse()?),
        user_daily_limit: Amount::new(m.user_daily_limit.parse()?),
    })
}

fn limits(
    client: &Client,
    asset: String,
    max_order: Option<String>,
    daily_limit: Option<String>,
    signer: Signer,
) -> Result<Plan<ExchangeAction>> {
    if max_order.is_none() && daily_limit.is_none() {
        bail!("give --max-order, --daily-limit or both");
    }
    let m = client.market(&asset)?;
    let or_now = |v: Option<String>, now: &str| -> Result<Amount> {
        match v {
            Some(v) => tokens(&v, m.decimals),
            None => Ok(Amount::new(now.parse()?)),
        }
    };
    let action = ExchangeAction::SetMarket {
        asset: symbol(&asset)?,
        capacity: Amount::new(m.capacity.parse()?),
        position: None,
        max_order: or_now(max_order, &m.max_order)?,
        user_daily_limit: or_now(daily_limit, &m.user_daily_limit)?,
    };
    Ok((format!("market {asset}'s limits changed"), signer, action))
}

fn floor(
    ks: &Keystore,
    client: &Client,
    asset: String,
    bps: u16,
    partner_key: &str,
    signer: Signer,
) -> Result<Plan<ExchangeAction>> {
    let m = client.market(&asset)?;
    // The floor's price is R × floor (KRW × 10⁴ per token), so the floor is that over R.
    let current: u64 = m.min_price_krw_e4.parse::<u64>()? / m.redemption_value_krw.max(1);
    let current = u16::try_from(current).map_err(|_| anyhow!("unexpected floor {current}"))?;
    let symbol = symbol(&asset)?;
    let message = milk_core::exchange::floor_message(&symbol, current, bps);
    let partner = ks.unlock(partner_key, &passphrase(false)?)?;
    let action = ExchangeAction::SetFloor {
        asset: symbol,
        min_bps: bps,
        partner_signature: partner.sign(&message.0),
    };
    let what = format!("market {asset}'s floor is {bps} basis points of R (was {current})");
    Ok((what, signer, action))
}
