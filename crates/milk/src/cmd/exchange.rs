//! The exchange: markets, quotes, sales, purchases and the treasury.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Result, anyhow, bail};
use milk_core::Amount;
use milk_core::tx::Action;
use milk_core::tx::ExchangeAction;
use serde_json::json;

#[derive(clap::Args)]
pub struct MarketArgs {
    /// A Brand Token (CINE, SKY, …); all markets without one.
    pub asset: Option<String>,
}

#[derive(clap::Args)]
pub struct QuoteArgs {
    /// The Brand Token.
    pub asset: String,
    /// `buy` or `sell`.
    #[arg(long)]
    pub side: String,
    /// Tokens, in whole units.
    #[arg(long, conflicts_with = "mlk")]
    pub amount: Option<String>,
    /// Or MLK, in whole units: a buy's budget, or what a sale should bring.
    #[arg(long)]
    pub mlk: Option<String>,
}

#[derive(clap::Args)]
pub struct SellArgs {
    /// The seller's key.
    #[arg(long)]
    pub from: String,
    /// The Brand Token.
    #[arg(long)]
    pub asset: String,
    /// Tokens, in whole units.
    #[arg(long, conflicts_with = "mlk")]
    pub amount: Option<String>,
    /// Or the MLK to receive, in whole units: sells the fewest tokens that bring it.
    #[arg(long)]
    pub mlk: Option<String>,
    /// The least MLK to receive, in whole units (default: the quote less the slippage).
    #[arg(long)]
    pub min_out: Option<String>,
    /// How far below the quote to accept without --min-out, basis points.
    #[arg(long, default_value_t = 100)]
    pub slippage_bps: u16,
}

#[derive(clap::Args)]
pub struct BuyArgs {
    /// The buyer's key.
    #[arg(long)]
    pub from: String,
    /// The Brand Token.
    #[arg(long)]
    pub asset: String,
    /// Tokens, in whole units.
    #[arg(long, conflicts_with = "mlk")]
    pub amount: Option<String>,
    /// Or the MLK to spend, in whole units, fee included.
    #[arg(long)]
    pub mlk: Option<String>,
    /// The most MLK to pay, in whole units (default: the quote plus the slippage).
    #[arg(long)]
    pub max_in: Option<String>,
    /// How far above the quote to accept without --max-in, basis points.
    #[arg(long, default_value_t = 100)]
    pub slippage_bps: u16,
}

pub fn market(client: &Client, j: bool, args: MarketArgs) -> Result<()> {
    let MarketArgs { asset } = args;
    market_cmd(client, asset, j)
}

pub fn quote(client: &Client, j: bool, args: QuoteArgs) -> Result<()> {
    let QuoteArgs {
        asset,
        side,
        amount,
        mlk,
    } = args;
    let q = fetch_quote(client, &asset, &side, amount.as_deref(), mlk.as_deref())?;
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

pub fn sell(ks: &Keystore, client: &Client, j: bool, args: SellArgs) -> Result<()> {
    let SellArgs {
        from,
        asset,
        amount,
        mlk,
        min_out,
        slippage_bps,
    } = args;
    let m = client.market(&asset)?;
    // An MLK-sized sale is the fewest tokens the quote says bring that much, with
    // that much as its limit.
    let (tokens, min_out) = match (&amount, &mlk, min_out) {
        (Some(a), None, Some(v)) => (
            Amount::parse_decimal(a, m.decimals)?,
            Amount::parse_decimal(&v, MLK_DECIMALS)?,
        ),
        (Some(a), None, None) => {
            let q = fetch_quote(client, &asset, "sell", Some(a), None)?;
            let total: u128 = q.total.parse()?;
            let slip = total * u128::from(slippage_bps.min(10_000)) / 10_000;
            (
                Amount::parse_decimal(a, m.decimals)?,
                Amount::new(total - slip),
            )
        }
        (None, Some(v), limit) => {
            let q = fetch_quote(client, &asset, "sell", None, Some(v))?;
            let limit = match limit {
                Some(l) => Amount::parse_decimal(&l, MLK_DECIMALS)?,
                None => Amount::parse_decimal(v, MLK_DECIMALS)?,
            };
            (Amount::new(q.tokens.parse()?), limit)
        }
        _ => bail!("give --amount (tokens) or --mlk (MLK to receive)"),
    };
    let order = sign_on(
        ks,
        client,
        &m.chain,
        &from,
        Action::Exchange(ExchangeAction::Sell {
            amount: tokens,
            min_out,
        }),
    )?;
    show_trade(j, &client.trade(&order)?, m.decimals)
}

pub fn buy(ks: &Keystore, client: &Client, j: bool, args: BuyArgs) -> Result<()> {
    let BuyArgs {
        from,
        asset,
        amount,
        mlk,
        max_in,
        slippage_bps,
    } = args;
    let m = client.market(&asset)?;
    let size = match (&amount, &mlk) {
        (Some(a), None) => milk_core::tx::OrderSize::Tokens(Amount::parse_decimal(a, m.decimals)?),
        (None, Some(v)) => milk_core::tx::OrderSize::Mlk(Amount::parse_decimal(v, MLK_DECIMALS)?),
        _ => bail!("give --amount (tokens) or --mlk (MLK to spend)"),
    };
    let max_in = match (max_in, &mlk) {
        (Some(v), _) => Amount::parse_decimal(&v, MLK_DECIMALS)?,
        (None, Some(v)) => Amount::parse_decimal(v, MLK_DECIMALS)?,
        (None, None) => {
            let q = fetch_quote(client, &asset, "buy", amount.as_deref(), None)?;
            let total: u128 = q.total.parse()?;
            Amount::new(total + total * u128::from(slippage_bps.min(10_000)) / 10_000)
        }
    };
    let order = sign_on(
        ks,
        client,
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

pub fn treasury(ks: &Keystore, client: &Client, j: bool) -> Result<()> {
    let _ = ks;
    let t = client.treasury()?;
    out(j, t.clone(), || treasury_text(client, &t));
    Ok(())
}

/// TICA's treasury in MLK and each market's tokens.
fn treasury_text(client: &Client, t: &serde_json::Value) -> String {
    let amount = |v: &serde_json::Value, k: &str, d: u8| units(v[k].as_str().unwrap_or("0"), d);
    let mut s = format!(
        "reserve {} MLK, fees collected {} MLK, in escrow for buys {} MLK",
        amount(t, "reserve", MLK_DECIMALS),
        amount(t, "fees", MLK_DECIMALS),
        amount(t, "escrow", MLK_DECIMALS)
    );
    for m in t["markets"].as_array().into_iter().flatten() {
        let asset = m["asset"].as_str().unwrap_or("?");
        let d = client.market(asset).map_or(0, |m| m.decimals);
        s += &format!(
            "\n{asset}: inventory {}, in escrow for sales {}, curve position {}, stock {}, \
             awaiting delivery {}; worth KRW {}",
            amount(m, "inventory", d),
            amount(m, "escrow", d),
            amount(m, "position", d),
            amount(m, "stock", d),
            amount(m, "awaiting", d),
            m["exposure_krw"].as_str().unwrap_or("0")
        );
    }
    s
}

/// A quote with sizes in whole units.
fn fetch_quote(
    client: &Client,
    asset: &str,
    side: &str,
    amount: Option<&str>,
    mlk: Option<&str>,
) -> Result<milk_api::exchange::QuoteView> {
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

fn show_trade(j: bool, t: &milk_api::exchange::TradeView, decimals: u8) -> Result<()> {
    if let Some(code) = &t.code {
        let message = format!("trade {} {}; everything locked went back", t.id, t.status);
        return Err(crate::failure::Refused::new(code.clone(), message).into());
    }
    out(j, serde_json::to_value(t)?, || trade_text(t, decimals));
    Ok(())
}

/// A trade as a person reads it, whatever its status.
fn trade_text(t: &milk_api::exchange::TradeView, decimals: u8) -> String {
    use milk_core::exchange::curve::Side;
    let field = |v: &Option<String>, d: u8| units(v.as_deref().unwrap_or("0"), d);
    let verb = match (t.side, t.status.as_str(), &t.code) {
        (_, status, Some(code)) => {
            return format!(
                "{status} ({code}); everything locked went back\ntrade {}",
                t.id
            );
        }
        (Some(Side::Sell), "filled", _) => "sold",
        (Some(Side::Buy), "filled", _) => "bought",
        (_, status, _) => return format!("{status}, still settling\ntrade {}", t.id),
    };
    format!(
        "{verb} {} {} for {} MLK (fee {} MLK), at {} KRW each\ntrade {}",
        field(&t.tokens, decimals),
        t.asset.as_deref().unwrap_or("?"),
        field(&t.total, MLK_DECIMALS),
        field(&t.fee, MLK_DECIMALS),
        field(&t.price_krw_e4, 4),
        t.id
    )
}

#[derive(clap::Args)]
pub struct TradeArgs {
    /// The trade's id (its order's transaction id).
    pub id: String,
}

/// A trade's status, from `pending` to `filled` (or `refused`, with why).
pub fn trade(client: &Client, j: bool, args: TradeArgs) -> Result<()> {
    let t = client.trade_status(&args.id)?;
    let decimals = match &t.asset {
        Some(asset) => client.market(asset)?.decimals,
        None => 0,
    };
    out(j, serde_json::to_value(&t)?, || trade_text(&t, decimals));
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
            // The curve's room or the market's order limit, whichever binds.
            let base = |v: &str| v.parse::<u128>().unwrap_or(0);
            let largest = base(&m.largest_buy).min(base(&m.max_order)).to_string();
            s += &format!(
                "{:<6} {:<10} {:>12} {:>12} {:>12} {:>16}\n",
                m.asset,
                m.chain,
                units(&m.price_krw_e4, 4),
                units(&m.min_price_krw_e4, 4),
                units(&m.max_price_krw_e4, 4),
                units(&largest, m.decimals)
            );
        }
        s.trim_end().to_owned()
    });
    Ok(())
}
