//! `milk history`: every committed transaction that concerned an account, newest first,
//! with what it changed and why, in whole units and local time.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::Result;
use milk_api::chain::{HistoryLineView, HistoryView};

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// A key name (read as its owner, brand chains included) or a milk1… address (read as
    /// the credential, if any, may see it).
    pub who: String,
    /// One chain only; page back through it with `--before`.
    #[arg(long)]
    pub chain: Option<String>,
    /// How many lines (at most 500).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// With `--chain`: the `next` a previous page printed.
    #[arg(long)]
    pub before: Option<String>,
}

pub fn history(ks: &Keystore, client: &Client, j: bool, args: HistoryArgs) -> Result<()> {
    let mut query = format!("?limit={}", args.limit);
    if let Some(chain) = &args.chain {
        query += &format!("&chain={chain}");
    }
    if let Some(before) = &args.before {
        query += &format!("&before={before}");
    }
    let view = if args.who.starts_with("milk1") {
        client.history(&resolve(ks, &args.who)?.to_string(), &query, None)?
    } else {
        let key = ks.unlock(&args.who, &passphrase(false)?)?;
        client.history(&key.address().to_string(), &query, Some(&key))?
    };
    out(j, serde_json::to_value(&view)?, || render(&view));
    Ok(())
}

fn render(view: &HistoryView) -> String {
    if view.lines.is_empty() {
        return format!("{}: no transactions yet", view.address);
    }
    let mut s = format!("{}\n", view.address);
    for line in &view.lines {
        let changes: Vec<String> = line
            .changes
            .iter()
            .map(|c| {
                let sign = if c.direction == "in" { "+" } else { "-" };
                format!("{sign}{} {}", grouped(&c.display), c.asset)
            })
            .collect();
        s += &format!(
            "  {}  {:<9} {:<44} {}\n",
            local_time(line.time_ms),
            line.chain,
            reason(line, &view.address),
            changes.join(", ")
        );
    }
    if let Some(next) = &view.lines.last().and(view.next.as_ref()) {
        s += &format!("  older: --before {next}\n");
    }
    s.trim_end().to_owned()
}

/// Why the line is there, in words.
fn reason(line: &HistoryLineView, me: &str) -> String {
    let field = |k: &str| line.action[k].as_str().unwrap_or_default().to_owned();
    let flag = |k: &str| line.action[k].as_bool().unwrap_or(false);
    let short = |a: String| match a.len() > 14 {
        true => format!("{}…", &a[..14]),
        false => a,
    };
    match line.kind.as_str() {
        "transfer" if line.sender == me => format!("sent to {}", short(field("to"))),
        "transfer" => format!("received from {}", short(line.sender.clone())),
        "convert" => format!("mileage converted (ref {})", field("reference")),
        "redeem" => format!("redeemed (order {})", field("order_id")),
        "refund" => "redemption refunded".into(),
        "expire" => "points expired".into(),
        "link" => "membership linked".into(),
        "buy" => "buy order placed".into(),
        "sell" => "sell order placed".into(),
        "deliver_buy" => "bought: tokens delivered".into(),
        "complete_buy" if flag("delivered") => "bought: the trade's MLK reward".into(),
        "complete_buy" => "buy not filled: MLK returned".into(),
        "settle_sell" if !line.changes.is_empty() => "sold: paid, MLK reward included".into(),
        "settle_sell" => "sale not filled".into(),
        "release_sell" if flag("filled") => "sold: tokens handed over".into(),
        "release_sell" => "sale not filled: tokens returned".into(),
        "check_in" => "daily check-in".into(),
        "burn_for_lzm" => "MLK burned for LZM".into(),
        "report_coupon" => "coupon payment reported".into(),
        "refund_coupon" => "coupon payment refunded".into(),
        "credit_coupon" => "purchase at a partner: LZM earned".into(),
        "reverse_coupon" => "purchase refunded: its LZM taken back".into(),
        "buy_offer" => "premium offer bought".into(),
        "join_pack" => "joined the MiL.k Pack".into(),
        "leave_pack" => "left the MiL.k Pack".into(),
        "pay_pack_week" => "MiL.k Pack payout".into(),
        "reward_link" => "reward for linking a membership".into(),
        "pay_contribution" => "contribution reward".into(),
        "claim_allocation" => "allocation claimed".into(),
        "grant_consent" => "data-sharing consent given".into(),
        "withdraw_consent" => "data-sharing consent withdrawn".into(),
        other => other.replace('_', " "),
    }
}
