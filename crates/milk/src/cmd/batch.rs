//! `milk partner convert-batch`: many conversions in one transaction signed once by the
//! partner's issuer key, each item with its own outcome.

use super::{out, resolve, sign_on};
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Context, Result, anyhow, bail};
use milk_core::Amount;
use milk_core::amount::grouped;
use milk_core::brand::action::{ConversionItem, MAX_CONVERSION_BATCH};
use milk_core::tx::{Action, BrandAction};

#[derive(clap::Args)]
pub struct ConvertBatchArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
    /// One conversion, `CUSTOMER:MILEAGE:REFERENCE` (the customer an address or a key
    /// name); repeat for each.
    #[arg(long = "item")]
    pub items: Vec<String>,
    /// A file of conversions, one `customer,mileage,reference` per line (`#` starts a
    /// comment), after any `--item`.
    #[arg(long)]
    pub file: Option<std::path::PathBuf>,
}

/// Reads one conversion, `customer`, `mileage`, `reference` split by `sep`.
fn item(ks: &Keystore, text: &str, sep: char) -> Result<ConversionItem> {
    let mut parts = text.splitn(3, sep).map(str::trim);
    let (Some(to), Some(mileage), Some(reference)) = (parts.next(), parts.next(), parts.next())
    else {
        bail!("{text:?}: expected customer{sep}mileage{sep}reference");
    };
    Ok(ConversionItem {
        to: resolve(ks, to)?,
        mileage: (mileage.parse())
            .map_err(|_| anyhow!("{text:?}: mileage must be a whole number"))?,
        reference: reference.to_owned(),
    })
}

fn items(ks: &Keystore, args: &ConvertBatchArgs) -> Result<Vec<ConversionItem>> {
    let mut out: Vec<ConversionItem> = (args.items.iter())
        .map(|t| item(ks, t, ':'))
        .collect::<Result<_>>()?;
    if let Some(path) = &args.file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for line in text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
        {
            if !line.is_empty() {
                out.push(item(ks, line, ',')?);
            }
        }
    }
    if out.is_empty() || out.len() > MAX_CONVERSION_BATCH {
        bail!(
            "a batch holds 1 to {MAX_CONVERSION_BATCH} conversions, not {}",
            out.len()
        );
    }
    Ok(out)
}

pub fn convert_batch(
    ks: &Keystore,
    client: &Client,
    j: bool,
    args: ConvertBatchArgs,
) -> Result<()> {
    let items = items(ks, &args)?;
    let action = Action::Brand(BrandAction::ConvertBatch { items });
    let tx = sign_on(ks, client, &args.chain, &args.partner_key, action)?;
    let receipt = client.partner_post(&args.chain, "/conversion-batches", &tx)?;
    let token = (client.chains()?.into_iter())
        .find(|c| c.id == args.chain)
        .and_then(|c| c.assets.into_iter().next())
        .map(|a| (a.symbol.to_string(), a.decimals))
        .ok_or_else(|| anyhow!("no chain {} on this node", args.chain))?;
    out(j, receipt.clone(), || describe(&receipt, &token));
    Ok(())
}

/// The receipt for a person: the counts, then one line per item.
fn describe(v: &serde_json::Value, (symbol, decimals): &(String, u8)) -> String {
    let count = |k: &str| v[k].as_u64().unwrap_or(0);
    let mut text = format!(
        "batch {} (block {}): {} converted, {} replayed, {} refused",
        v["tx"]["id"].as_str().unwrap_or("?"),
        v["tx"]["height"].as_u64().unwrap_or(0),
        count("converted"),
        count("replayed"),
        count("refused"),
    );
    for i in v["items"].as_array().into_iter().flatten() {
        let units = i["amount"].as_str().and_then(|a| a.parse::<u128>().ok());
        let detail = match (units, i["error"]["message"].as_str()) {
            (Some(u), _) => format!(
                "{} {symbol}",
                grouped(&Amount::new(u).to_decimal(*decimals))
            ),
            (None, Some(m)) => format!("{m} ({})", i["error"]["code"].as_str().unwrap_or("")),
            (None, None) => String::new(),
        };
        text += &format!(
            "\n  {}  {} miles for {}: {}, {detail}",
            i["reference"].as_str().unwrap_or(""),
            i["mileage"].as_u64().unwrap_or(0),
            i["to"].as_str().unwrap_or(""),
            i["status"].as_str().unwrap_or(""),
        );
    }
    text
}
