//! A partner's commands: links, conversions, redemptions, refunds, expiry, terms, auditors and webhooks.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Result, anyhow};
use clap::Subcommand;
use milk_core::tx::Action;
use milk_core::tx::BrandAction;
use milk_core::{Address, Amount, ChainId};
use serde_json::json;

#[derive(Subcommand)]
pub enum PartnerCmd {
    /// Link a customer's wallet: the customer's key signs, the partner's key countersigns.
    Link(LinkArgs),
    /// Convert a customer's mileage into the partner's Brand Token.
    Convert(ConvertArgs),
    /// Convert many customers' mileage in one transaction signed once: each item
    /// converts, replays an earlier conversion of its reference, or is refused on its own.
    ConvertBatch(super::batch::ConvertBatchArgs),
    /// A customer spends Brand Tokens at the partner.
    Redeem(RedeemArgs),
    /// Give a redemption back.
    Refund(RefundArgs),
    /// Issued, redeemed, refunded, outstanding and TICA's inventory.
    Supply(SupplyArgs),
    /// A conversion by reference.
    Conversion(ConversionArgs),
    /// A redemption by order id.
    Redemption(RedemptionArgs),
    /// The chain's events (links, conversions, redemptions, refunds, transfers), in order.
    Events(EventsArgs),
    /// Tokens that have expired, or will within N days (to warn customers ahead).
    Expiring(ExpiringArgs),
    /// Retire every account's expired tokens, one signed expiry per account.
    Sweep(SweepArgs),
    /// Change the partner's terms after admission: whether customers may send its token
    /// to each other, and its conversion limits (in whole tokens).
    SetPolicy(SetPolicyArgs),
    /// Grant an auditor read access to the chain; prints the auditor's token once.
    GrantAuditor(GrantAuditorArgs),
    /// List the chain's auditor credentials.
    Auditors(AuditorsArgs),
    /// Revoke an auditor credential.
    RevokeAuditor(RevokeAuditorArgs),
    /// Push the chain's events to an endpoint as signed webhooks; prints the secret once.
    AddWebhook(AddWebhookArgs),
    /// The chain's webhooks and how their deliveries go.
    Webhooks(WebhooksArgs),
    /// Stop a webhook.
    RemoveWebhook(RemoveWebhookArgs),
}

#[derive(clap::Args)]
pub struct LinkArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The customer's key (in this keystore).
    #[arg(long)]
    pub user: String,
    /// The partner's issuer key (in this keystore).
    #[arg(long)]
    pub partner_key: String,
    /// The partner's customer id; only its salted hash goes on the chain.
    #[arg(long)]
    pub customer: String,
    /// The partner's secret salt for customer ids.
    #[arg(long, env = "MILK_CUSTOMER_SALT", hide_env_values = true)]
    pub salt: String,
}

#[derive(clap::Args)]
pub struct ConvertArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
    /// The linked customer: an address or a key name.
    #[arg(long)]
    pub to: String,
    /// Mileage points.
    #[arg(long)]
    pub mileage: u64,
    /// The partner's reference id (a retry with the same one converts nothing twice).
    #[arg(long)]
    pub reference: String,
}

#[derive(clap::Args)]
pub struct RedeemArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The customer's key.
    #[arg(long)]
    pub user: String,
    /// How much, in whole units.
    #[arg(long)]
    pub amount: String,
    /// The partner's order id.
    #[arg(long)]
    pub order: String,
}

#[derive(clap::Args)]
pub struct RefundArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
    /// The redemption's order id.
    #[arg(long)]
    pub order: String,
}

#[derive(clap::Args)]
pub struct SupplyArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
}

#[derive(clap::Args)]
pub struct ConversionArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The reference id.
    pub reference: String,
}

#[derive(clap::Args)]
pub struct RedemptionArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The order id.
    pub order: String,
}

#[derive(clap::Args)]
pub struct EventsArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// Only events after this id (`height:index`), as the last page's `next` gave.
    #[arg(long)]
    pub after: Option<String>,
}

#[derive(clap::Args)]
pub struct ExpiringArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// How many days ahead to look.
    #[arg(long, default_value_t = 30)]
    pub within_days: u64,
}

#[derive(clap::Args)]
pub struct SweepArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
}

#[derive(clap::Args)]
pub struct SetPolicyArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
    /// Whether customers may send the token to each other.
    #[arg(long, action = clap::ArgAction::Set)]
    pub transfers: bool,
    /// The smallest conversion.
    #[arg(long)]
    pub min_conversion: String,
    /// The largest single conversion.
    #[arg(long)]
    pub max_conversion: String,
    /// The most one customer may convert in a UTC day.
    #[arg(long)]
    pub daily_limit: String,
}

#[derive(clap::Args)]
pub struct GrantAuditorArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
}

#[derive(clap::Args)]
pub struct AuditorsArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
}

#[derive(clap::Args)]
pub struct RevokeAuditorArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The credential's id.
    pub id: String,
}

#[derive(clap::Args)]
pub struct AddWebhookArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The endpoint (https://… or http://…).
    #[arg(long)]
    pub url: String,
    /// Only events after this id (`height:index`); from the first event if absent.
    #[arg(long)]
    pub after: Option<String>,
    /// Once a day, warn of tokens expiring within this many days.
    #[arg(long)]
    pub warn_days: Option<u32>,
}

#[derive(clap::Args)]
pub struct WebhooksArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
}

#[derive(clap::Args)]
pub struct RemoveWebhookArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The webhook's id.
    pub id: String,
}

pub fn partner_cmd(ks: &Keystore, client: &Client, cmd: PartnerCmd, j: bool) -> Result<()> {
    match cmd {
        PartnerCmd::Link(args) => link(ks, client, j, args)?,
        PartnerCmd::Convert(args) => convert(ks, client, j, args)?,
        PartnerCmd::ConvertBatch(args) => super::batch::convert_batch(ks, client, j, args)?,
        PartnerCmd::Redeem(args) => redeem(ks, client, j, args)?,
        PartnerCmd::SetPolicy(args) => set_policy(ks, client, j, args)?,
        PartnerCmd::Refund(args) => refund(ks, client, j, args)?,
        PartnerCmd::Supply(args) => supply(client, j, args)?,
        PartnerCmd::Conversion(args) => conversion(client, j, args)?,
        PartnerCmd::Redemption(args) => redemption(client, j, args)?,
        PartnerCmd::Expiring(args) => expiring(client, j, args)?,
        PartnerCmd::Sweep(args) => sweep(ks, client, j, args)?,
        PartnerCmd::Events(args) => events(client, j, args)?,
        PartnerCmd::GrantAuditor(args) => grant_auditor(client, j, args)?,
        PartnerCmd::Auditors(args) => auditors(client, j, args)?,
        PartnerCmd::AddWebhook(args) => add_webhook(client, j, args)?,
        PartnerCmd::Webhooks(args) => webhooks(client, j, args)?,
        PartnerCmd::RemoveWebhook(args) => remove_webhook(client, j, args)?,
        PartnerCmd::RevokeAuditor(args) => revoke_auditor(client, j, args)?,
    }
    Ok(())
}

pub fn link(ks: &Keystore, client: &Client, j: bool, args: LinkArgs) -> Result<()> {
    let LinkArgs {
        chain,
        user,
        partner_key,
        customer,
        salt,
    } = args;
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
    show(
        client,
        &chain,
        j,
        client.partner_post(&chain, "/links", &tx)?,
    );
    Ok(())
}

pub fn convert(ks: &Keystore, client: &Client, j: bool, args: ConvertArgs) -> Result<()> {
    let ConvertArgs {
        chain,
        partner_key,
        to,
        mileage,
        reference,
    } = args;
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
    show(
        client,
        &chain,
        j,
        client.partner_post(&chain, "/conversions", &tx)?,
    );
    Ok(())
}

pub fn redeem(ks: &Keystore, client: &Client, j: bool, args: RedeemArgs) -> Result<()> {
    let RedeemArgs {
        chain,
        user,
        amount,
        order,
    } = args;
    let decimals = token_decimals(client, &chain)?;
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
    show(
        client,
        &chain,
        j,
        client.partner_post(&chain, "/redemptions", &tx)?,
    );
    Ok(())
}

pub fn set_policy(ks: &Keystore, client: &Client, j: bool, args: SetPolicyArgs) -> Result<()> {
    let SetPolicyArgs {
        chain,
        partner_key,
        transfers,
        min_conversion,
        max_conversion,
        daily_limit,
    } = args;
    let decimals = token_decimals(client, &chain)?;
    let terms = milk_core::brand::PolicyTerms {
        transfers_allowed: transfers,
        min_conversion: Amount::parse_decimal(&min_conversion, decimals)?,
        max_conversion: Amount::parse_decimal(&max_conversion, decimals)?,
        daily_user_limit: Amount::parse_decimal(&daily_limit, decimals)?,
    };
    let action = Action::Brand(BrandAction::SetPolicy { terms });
    let tx = sign_on(ks, client, &chain, &partner_key, action)?;
    show(
        client,
        &chain,
        j,
        client.partner_post(&chain, "/policy", &tx)?,
    );
    Ok(())
}

pub fn refund(ks: &Keystore, client: &Client, j: bool, args: RefundArgs) -> Result<()> {
    let RefundArgs {
        chain,
        partner_key,
        order,
    } = args;
    let tx = sign_on(
        ks,
        client,
        &chain,
        &partner_key,
        Action::Brand(BrandAction::Refund { order_id: order }),
    )?;
    show(
        client,
        &chain,
        j,
        client.partner_post(&chain, "/refunds", &tx)?,
    );
    Ok(())
}

pub fn supply(client: &Client, j: bool, args: SupplyArgs) -> Result<()> {
    let SupplyArgs { chain } = args;
    show(client, &chain, j, client.partner_get(&chain, "/supply")?);
    Ok(())
}

pub fn conversion(client: &Client, j: bool, args: ConversionArgs) -> Result<()> {
    let ConversionArgs { chain, reference } = args;
    show(
        client,
        &chain,
        j,
        client.partner_get(
            &chain,
            &format!("/conversions/{}", crate::client::segment(&reference)),
        )?,
    );
    Ok(())
}

pub fn redemption(client: &Client, j: bool, args: RedemptionArgs) -> Result<()> {
    let RedemptionArgs { chain, order } = args;
    show(
        client,
        &chain,
        j,
        client.partner_get(
            &chain,
            &format!("/redemptions/{}", crate::client::segment(&order)),
        )?,
    );
    Ok(())
}

pub fn expiring(client: &Client, j: bool, args: ExpiringArgs) -> Result<()> {
    let ExpiringArgs { chain, within_days } = args;
    show(
        client,
        &chain,
        j,
        client.partner_get(&chain, &format!("/expiring?within_days={within_days}"))?,
    );
    Ok(())
}

pub fn sweep(ks: &Keystore, client: &Client, j: bool, args: SweepArgs) -> Result<()> {
    let SweepArgs { chain, partner_key } = args;
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
    show(client, &chain, j, json!({ "chain": chain, "swept": swept }));
    Ok(())
}

pub fn events(client: &Client, j: bool, args: EventsArgs) -> Result<()> {
    let EventsArgs { chain, after } = args;
    let query = after
        .map(|a| format!("?after={}", crate::client::segment(&a)))
        .unwrap_or_default();
    show(
        client,
        &chain,
        j,
        client.partner_get(&chain, &format!("/events{query}"))?,
    );
    Ok(())
}

pub fn grant_auditor(client: &Client, j: bool, args: GrantAuditorArgs) -> Result<()> {
    let GrantAuditorArgs { chain } = args;
    show(
        client,
        &chain,
        j,
        client.partner_call("POST", &chain, "/auditors")?,
    );
    Ok(())
}

pub fn auditors(client: &Client, j: bool, args: AuditorsArgs) -> Result<()> {
    let AuditorsArgs { chain } = args;
    show(client, &chain, j, client.partner_get(&chain, "/auditors")?);
    Ok(())
}

pub fn add_webhook(client: &Client, j: bool, args: AddWebhookArgs) -> Result<()> {
    let AddWebhookArgs {
        chain,
        url,
        after,
        warn_days,
    } = args;
    show(
        client,
        &chain,
        j,
        client.partner_json(
            &chain,
            "/webhooks",
            &json!({ "url": url, "after": after, "warn_days": warn_days }),
        )?,
    );
    Ok(())
}

pub fn webhooks(client: &Client, j: bool, args: WebhooksArgs) -> Result<()> {
    let WebhooksArgs { chain } = args;
    show(client, &chain, j, client.partner_get(&chain, "/webhooks")?);
    Ok(())
}

pub fn remove_webhook(client: &Client, j: bool, args: RemoveWebhookArgs) -> Result<()> {
    let RemoveWebhookArgs { chain, id } = args;
    show(
        client,
        &chain,
        j,
        client.partner_call(
            "DELETE",
            &chain,
            &format!("/webhooks/{}", crate::client::segment(&id)),
        )?,
    );
    Ok(())
}

pub fn revoke_auditor(client: &Client, j: bool, args: RevokeAuditorArgs) -> Result<()> {
    let RevokeAuditorArgs { chain, id } = args;
    show(
        client,
        &chain,
        j,
        client.partner_call(
            "DELETE",
            &chain,
            &format!("/auditors/{}", crate::client::segment(&id)),
        )?,
    );
    Ok(())
}

/// Prints a partner API answer: as it is with `--json`; otherwise as a person reads it,
/// amounts in whole units of the chain's token and moments as local dates.
fn show(client: &Client, chain: &str, j: bool, v: serde_json::Value) {
    out(j, v.clone(), || {
        let decimals = (client.chains().ok().into_iter().flatten())
            .find(|c| c.id == chain)
            .and_then(|c| c.assets.first().map(|a| a.decimals))
            .unwrap_or(0);
        let mut text = super::human(&v, decimals);
        if v.get("issued").is_some() && v.get("outstanding").is_some() {
            text +=
                "\n(issued counts conversions only: the genesis allocations are in outstanding)";
        }
        text
    });
}

/// The decimals of a brand chain's token.
fn token_decimals(client: &Client, chain: &str) -> Result<u8> {
    client
        .chains()?
        .into_iter()
        .find(|c| c.id == chain)
        .and_then(|c| c.assets.first().map(|a| a.decimals))
        .ok_or_else(|| anyhow!("no chain {chain} on this node"))
}
