//! The bridge to the main chain: withdraw MLK to a main-chain address, see withdrawals and
//! their status and proof, where to deposit, and deposits.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Result, anyhow};
use milk_api::bridge::{DepositView, WithdrawalView};
use milk_core::bridge::MainAddress;
use milk_core::tx::{Action, BridgeAction};
use serde_json::json;

#[derive(clap::Args)]
pub struct WithdrawArgs {
    /// The customer's key.
    #[arg(long)]
    pub from: String,
    /// The main-chain address, as the wallet shows it (EIP-55 mixed case).
    #[arg(long)]
    pub to: String,
    /// MLK to arrive there, in whole units; the fee is paid on top.
    #[arg(long)]
    pub amount: String,
}

#[derive(clap::Args)]
pub struct WhoArgs {
    /// A milk1… address or a key name; absent: everyone's.
    pub who: Option<String>,
    /// At most this many, newest first (at most 500).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Only those numbered below this: the next page after the last number shown.
    #[arg(long)]
    pub before: Option<u64>,
}

impl WhoArgs {
    /// Whose (an address), if anyone's in particular.
    fn account(&self, ks: &Keystore) -> Result<Option<String>> {
        let who = self.who.as_ref().map(|w| resolve(ks, w)).transpose()?;
        Ok(who.map(|a| a.to_string()))
    }
}

#[derive(clap::Args)]
pub struct WithdrawalArgs {
    /// The withdrawal's number.
    pub number: u64,
}

#[derive(clap::Args)]
pub struct DepositAddressArgs {
    /// A milk1… address or a key name.
    pub who: String,
}

/// Withdraws MLK to a main-chain address: burned here at once, released there once its
/// batch is posted.
pub fn withdraw(ks: &Keystore, client: &Client, j: bool, args: WithdrawArgs) -> Result<()> {
    let to: MainAddress = args
        .to
        .parse()
        .map_err(|e| anyhow!("--to {}: {e}", args.to))?;
    let amount = Amount::parse_decimal(&args.amount, MLK_DECIMALS)?;
    let bridge = client.bridge()?;
    let max_fee: Amount = bridge.fee.parse::<u128>().map(Amount::new)?;
    let action = Action::Bridge(BridgeAction::Withdraw {
        to,
        amount,
        max_fee,
    });
    let receipt = center_tx(ks, client, &args.from, action)?;
    let me = resolve(ks, &args.from)?;
    let w = client
        .withdrawals(Some(&me.to_string()), 1, None)?
        .into_iter()
        .next();
    let w = w.ok_or_else(|| anyhow!("the withdrawal committed but is not listed"))?;
    out(j, json!({ "withdrawal": w, "receipt": receipt }), || {
        format!("{}\n{receipt}", describe(&w))
    });
    Ok(())
}

fn describe(w: &WithdrawalView) -> String {
    let mut s = format!(
        "withdrawal {}: {} MLK to {} (fee {} MLK), {}",
        w.number,
        units(&w.amount, MLK_DECIMALS),
        w.to,
        units(&w.fee, MLK_DECIMALS),
        w.status.replace('_', " ")
    );
    match (w.status.as_str(), w.batch, &w.released_tx) {
        ("awaiting_main_chain", ..) => {
            s += ": this node relays to no main chain yet; the MLK is burned and the \
                  withdrawal waits, nothing is lost"
        }
        (_, Some(batch), None) => s += &format!(" in batch {batch}"),
        (_, _, Some(tx)) => s += &format!(" by main-chain transaction {tx}"),
        _ => {}
    }
    s
}

/// One withdrawal with its proof, or an account's withdrawals.
pub fn withdrawal(client: &Client, j: bool, args: WithdrawalArgs) -> Result<()> {
    let w = client.withdrawal(args.number)?;
    out(j, serde_json::to_value(&w)?, || {
        let mut s = describe(&w);
        if let Some(p) = &w.proof {
            s += &format!(
                "\nid {}\nroot {}\nproof {}",
                w.id,
                p.root,
                p.siblings.join(" ")
            );
        }
        s
    });
    Ok(())
}

/// Withdrawals, newest first.
pub fn withdrawals(ks: &Keystore, client: &Client, j: bool, args: WhoArgs) -> Result<()> {
    let who = args.account(ks)?;
    let list = client.withdrawals(who.as_deref(), args.limit, args.before)?;
    out(j, serde_json::to_value(&list)?, || {
        if list.is_empty() {
            return "no withdrawals".to_owned();
        }
        list.iter().map(describe).collect::<Vec<_>>().join("\n")
    });
    Ok(())
}

/// Where and how an account deposits main-chain MLK.
pub fn deposit_address(
    ks: &Keystore,
    client: &Client,
    j: bool,
    args: DepositAddressArgs,
) -> Result<()> {
    let who = resolve(ks, &args.who)?;
    let v = client.deposit_address(&who.to_string())?;
    out(j, serde_json::to_value(&v)?, || {
        let chain = match &v.main_chain {
            Some(m) if m.chain_id != 0 => format!("main chain {}, vault {}", m.chain_id, m.vault),
            Some(m) => format!("vault {}", m.vault),
            None => "no main chain configured on this node yet".to_owned(),
        };
        format!(
            "deposit for {}: name {}\n{chain}\n{}",
            v.account, v.milk_address, v.how
        )
    });
    Ok(())
}

fn describe_deposit(d: &DepositView) -> String {
    let status = match (d.status.as_str(), d.refund_withdrawal) {
        ("held", _) => {
            "held: the milk address named is not a usable key; TICA refunds it".to_owned()
        }
        ("refunded", Some(n)) => format!("refunded as withdrawal {n}"),
        (s, _) => s.to_owned(),
    };
    format!(
        "deposit {}: {} MLK from {} to {} (main-chain tx {} log {}): {status}",
        d.number,
        units(&d.amount, MLK_DECIMALS),
        d.from,
        d.milk,
        d.main_tx,
        d.log_index
    )
}

/// Deposits recorded.
pub fn deposits(ks: &Keystore, client: &Client, j: bool, args: WhoArgs) -> Result<()> {
    let who = args.account(ks)?;
    let list = client.deposits(who.as_deref(), args.limit, args.before)?;
    out(j, serde_json::to_value(&list)?, || {
        if list.is_empty() {
            return "no deposits".to_owned();
        }
        list.iter()
            .map(describe_deposit)
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// The bridge's policy and what crossed.
pub fn bridge(client: &Client, j: bool) -> Result<()> {
    let b = client.bridge()?;
    out(j, serde_json::to_value(&b)?, || {
        let main = match &b.main_chain {
            Some(m) => format!(
                "main chain {} via vault {}, {} confirmations",
                m.chain_id, m.vault, m.confirmations
            ),
            None => "no main chain configured: withdrawals wait as awaiting_main_chain".to_owned(),
        };
        format!(
            "{main}\nfee {} MLK, minimum {} MLK, daily limit {} MLK\n{} withdrawals ({} sealed in {} batches); {} MLK out, {} MLK in",
            units(&b.fee, MLK_DECIMALS),
            units(&b.minimum, MLK_DECIMALS),
            units(&b.daily_limit, MLK_DECIMALS),
            b.withdrawals,
            b.sealed,
            b.batches,
            units(&b.out_total, MLK_DECIMALS),
            units(&b.in_total, MLK_DECIMALS)
        ) + &b.relayer.as_ref().map_or(String::new(), describe_relayer)
    });
    Ok(())
}

/// The relayer's last round, for the operator.
fn describe_relayer(r: &milk_api::bridge::RelayerView) -> String {
    let mut s = format!(
        "\nrelayer: {} rounds, searched the main chain to block {}",
        r.rounds, r.searched_to
    );
    if !r.backing_off.is_empty() {
        let waiting: Vec<String> = r.backing_off.iter().map(u64::to_string).collect();
        s += &format!(
            "; releases waiting to be tried again: {}",
            waiting.join(", ")
        );
    }
    match &r.last_error {
        Some(e) => s + &format!("\nrelayer: the last round stopped: {e}"),
        None => s,
    }
}
