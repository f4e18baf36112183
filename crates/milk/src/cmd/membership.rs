//! Membership: check-ins, MLK burns, levels, offers, consents, the Pack and the supply.

use super::*;
use crate::client::Client;
use crate::keystore::Keystore;
use anyhow::{Result, anyhow};
use clap::Subcommand;
use milk_core::Amount;
use milk_core::tx::Action;
use milk_core::tx::{BrandAction, MembershipAction};
use serde_json::json;

#[derive(clap::Args)]
pub struct CheckInArgs {
    /// The member's key.
    #[arg(long)]
    pub from: String,
}

#[derive(clap::Args)]
pub struct BurnForLzmArgs {
    /// The member's key.
    #[arg(long)]
    pub from: String,
    /// MLK to burn, in whole units.
    #[arg(long)]
    pub amount: String,
}

#[derive(clap::Args)]
pub struct LevelArgs {
    /// A milk1… address or a key name.
    pub who: String,
}

/// The MiL.k Pack as a member sees it: the season, their commitment and what it earned.
pub fn pack(ks: &Keystore, client: &Client, j: bool, args: LevelArgs) -> Result<()> {
    let address = resolve(ks, &args.who)?;
    let m = client.member(&address.to_string())?;
    out(j, serde_json::to_value(&m.pack)?, || {
        let Some(p) = &m.pack else {
            return "no MiL.k Pack season is open".to_owned();
        };
        let mut s = format!(
            "MiL.k Pack season {}: {} weeks from {}; each week {} MLK shared pro rata and {} LZM a member",
            p.season,
            p.weeks,
            super::local_time(p.starts_ms),
            units(&p.weekly_reward, MLK_DECIMALS),
            units(&p.lzm_per_week, LZM_DECIMALS)
        );
        s += &match (&p.committed, p.since_ms) {
            (Some(c), Some(since)) => format!(
                "\n{} has {} MLK committed since {}; {} LZM earned from Pack weeks",
                m.address,
                units(c, MLK_DECIMALS),
                super::local_time(since),
                units(&p.lzm_earned, LZM_DECIMALS)
            ),
            _ => format!(
                "\n{} is not in the Pack (milk membership join-pack)",
                m.address
            ),
        };
        s
    });
    Ok(())
}

pub fn check_in(ks: &Keystore, client: &Client, j: bool, args: CheckInArgs) -> Result<()> {
    let CheckInArgs { from } = args;
    let receipt = center_tx(
        ks,
        client,
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

pub fn burn_for_lzm(ks: &Keystore, client: &Client, j: bool, args: BurnForLzmArgs) -> Result<()> {
    let BurnForLzmArgs { from, amount } = args;
    let amount = Amount::parse_decimal(&amount, MLK_DECIMALS)?;
    let receipt = center_tx(
        ks,
        client,
        &from,
        Action::Membership(MembershipAction::BurnForLzm { amount }),
    )?;
    out(
        j,
        json!({ "burned": amount.units().to_string(), "receipt": receipt }),
        || {
            format!(
                "burned {} MLK for LZM\n{receipt}",
                grouped(&amount.to_decimal(MLK_DECIMALS))
            )
        },
    );
    Ok(())
}

pub fn level(ks: &Keystore, client: &Client, j: bool, args: LevelArgs) -> Result<()> {
    let LevelArgs { who } = args;
    // A key of this keystore reads as its owner, consents and access log included.
    let m = if who.starts_with("milk1") {
        client.member(&resolve(ks, &who)?.to_string())?
    } else {
        client.member_as(&ks.unlock(&who, &passphrase(false)?)?)?
    };
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
                "\n{} LZM leaves the window on {}",
                units(&l.amount, LZM_DECIMALS),
                super::local_time(l.at_ms)
            );
        }
        for c in m.consents.iter().flatten() {
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
        for a in m.access_log.iter().flatten() {
            s += &format!("\nread by {} on {}", a.chain, super::local_time(a.time_ms));
        }
        s
    });
    Ok(())
}

pub fn supply(ks: &Keystore, client: &Client, j: bool) -> Result<()> {
    let _ = ks;
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
                if let Some(b) = &a.bridged {
                    s += &format!(
                        "\n  across both chains {}: on the main chain outside the vault {}, on their way out {}, deposits held {}",
                        units(&b.across_both_chains, d),
                        units(&b.outside_vault, d),
                        units(&b.in_transit_out, d),
                        units(&b.held_deposits, d)
                    );
                    s += &format!(
                        "\n  burned for good {}; with it, {} as genesis made",
                        units(&b.burned_for_good, d),
                        units(&b.genesis, d)
                    );
                }
                s
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

#[derive(Subcommand)]
pub enum MembershipCmd {
    /// The earning rules in force and the levels.
    Rules,
    /// Change the earning rules (operator key); amounts in whole LZM.
    SetRules(SetRulesArgs),
    /// Set a floor under a member's level, with the reason (operator key); level 0 removes it.
    Floor(FloorArgs),
    /// Consent to share membership data with a partner.
    Consent(ConsentArgs),
    /// Withdraw a consent.
    Withdraw(WithdrawArgs),
    /// The consenting members of a level and up, as the partner sees them (partner
    /// credential); every read is logged for the members to see.
    Segment(SegmentArgs),
    /// Commit MLK to the MiL.k Pack (weekly rewards for whole weeks in it).
    JoinPack(JoinPackArgs),
    /// Take all your MLK out of the MiL.k Pack (the week under way is forfeited).
    LeavePack(LeavePackArgs),
    /// Open a MiL.k Pack season (operator key).
    OpenSeason(OpenSeasonArgs),
    /// Every partner's premium offers.
    Offers,
    /// Publish a premium offer for members of a level (a partner's issuer key).
    PublishOffer(PublishOfferArgs),
    /// Buy a premium offer with LZM.
    BuyOffer(BuyOfferArgs),
    /// Report a customer's coupon payment, which earns them LZM (a partner's issuer key and
    /// credential): kept on the partner's own chain; the center chain shows only the LZM.
    Coupon(CouponArgs),
    /// Report that a coupon payment was refunded: the LZM it earned is taken back, once, and
    /// what the customer already spent of it is owed from their next credits (a partner's
    /// issuer key and credential).
    RefundCoupon(RefundCouponArgs),
}

#[derive(clap::Args)]
pub struct SetRulesArgs {
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
    /// LZM for the daily check-in.
    #[arg(long)]
    pub check_in: String,
    /// LZM per KRW 1,000 of Brand Tokens traded.
    #[arg(long)]
    pub per_1000_krw_traded: String,
    /// LZM per KRW 1,000 of coupon payment.
    #[arg(long)]
    pub per_1000_krw_coupon: String,
    /// LZM per whole MLK burned.
    #[arg(long)]
    pub per_mlk_burned: String,
    /// The most LZM one member earns from activity in a day.
    #[arg(long)]
    pub daily_cap: String,
}

#[derive(clap::Args)]
pub struct FloorArgs {
    /// The member: an address or a key name.
    pub user: String,
    /// The level's index (0 = the first).
    #[arg(long)]
    pub level: u8,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(clap::Args)]
pub struct ConsentArgs {
    /// The member's key.
    #[arg(long)]
    pub from: String,
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// What the partner may use it for.
    #[arg(long)]
    pub purpose: String,
    /// The data items: level, activity (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "level,activity")]
    pub items: Vec<String>,
    /// How long the partner may keep what it reads, days.
    #[arg(long, default_value_t = 30)]
    pub retention_days: u32,
}

#[derive(clap::Args)]
pub struct WithdrawArgs {
    /// The member's key.
    #[arg(long)]
    pub from: String,
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
}

#[derive(clap::Args)]
pub struct SegmentArgs {
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The lowest level's index.
    #[arg(long, default_value_t = 0)]
    pub level: u8,
}

#[derive(clap::Args)]
pub struct JoinPackArgs {
    /// The member's key.
    #[arg(long)]
    pub from: String,
    /// MLK, in whole units.
    #[arg(long)]
    pub amount: String,
}

#[derive(clap::Args)]
pub struct LeavePackArgs {
    /// The member's key.
    #[arg(long)]
    pub from: String,
}

#[derive(clap::Args)]
pub struct OpenSeasonArgs {
    /// An operator key to sign with here; without it the node signs with the operator's
    /// key (send the operator's credential with --token).
    #[arg(long)]
    pub key: Option<String>,
    /// The season's number.
    #[arg(long)]
    pub season: u32,
    /// Weeks it runs, from a minute from now.
    #[arg(long)]
    pub weeks: u32,
    /// MLK paid out each week, whole units.
    #[arg(long)]
    pub weekly_reward: String,
    /// LZM per participant per week, whole units.
    #[arg(long)]
    pub lzm_per_week: String,
}

#[derive(clap::Args)]
pub struct PublishOfferArgs {
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
    /// The offer's id.
    #[arg(long)]
    pub id: String,
    /// What it is.
    #[arg(long)]
    pub title: String,
    /// The lowest level that may buy it (its index).
    #[arg(long)]
    pub level: u8,
    /// Its price, in whole LZM.
    #[arg(long)]
    pub price: String,
    /// How many there are.
    #[arg(long)]
    pub stock: u32,
    /// How many days it stays open from now.
    #[arg(long, default_value_t = 30)]
    pub days: u64,
}

#[derive(clap::Args)]
pub struct BuyOfferArgs {
    /// The member's key.
    #[arg(long)]
    pub from: String,
    /// The partner's brand chain.
    #[arg(long)]
    pub chain: String,
    /// The offer's id.
    #[arg(long)]
    pub id: String,
}

#[derive(clap::Args)]
pub struct CouponArgs {
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
    /// The customer: an address or a key name.
    #[arg(long)]
    pub user: String,
    /// What the coupon paid, KRW.
    #[arg(long)]
    pub krw: u64,
    /// The partner's coupon id (each is credited once).
    #[arg(long)]
    pub coupon: String,
}

#[derive(clap::Args)]
pub struct RefundCouponArgs {
    /// The partner's issuer key.
    #[arg(long)]
    pub partner_key: String,
    /// The customer: an address or a key name.
    #[arg(long)]
    pub user: String,
    /// The coupon id the payment was reported under.
    #[arg(long)]
    pub coupon: String,
}

pub fn membership_cmd(ks: &Keystore, client: &Client, cmd: MembershipCmd, j: bool) -> Result<()> {
    let receipt = match cmd {
        MembershipCmd::Rules => {
            let r = client.membership_rules()?;
            let v = serde_json::to_value(&r)?;
            out(j, v.clone(), || super::human(&v, LZM_DECIMALS));
            return Ok(());
        }
        MembershipCmd::SetRules(args) => set_rules(ks, client, args)?,
        MembershipCmd::Consent(args) => consent(ks, client, args)?,
        MembershipCmd::Withdraw(args) => withdraw(ks, client, args)?,
        MembershipCmd::Segment(args) => return segment(client, j, args),
        MembershipCmd::JoinPack(args) => join_pack(ks, client, args)?,
        MembershipCmd::LeavePack(args) => leave_pack(ks, client, args)?,
        MembershipCmd::OpenSeason(args) => open_season(ks, client, args)?,
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
        MembershipCmd::PublishOffer(args) => publish_offer(ks, client, args)?,
        MembershipCmd::BuyOffer(args) => buy_offer(ks, client, args)?,
        MembershipCmd::Floor(args) => floor(ks, client, args)?,
        MembershipCmd::Coupon(args) => coupon(ks, client, args)?,
        MembershipCmd::RefundCoupon(args) => refund_coupon(ks, client, args)?,
    };
    out(j, json!({ "receipt": receipt }), || receipt.clone());
    Ok(())
}

pub fn set_rules(ks: &Keystore, client: &Client, args: SetRulesArgs) -> Result<String> {
    let SetRulesArgs {
        key,
        check_in,
        per_1000_krw_traded,
        per_1000_krw_coupon,
        per_mlk_burned,
        daily_cap,
    } = args;
    let rules = milk_core::membership::EarningRules {
        check_in: lzm(&check_in)?,
        per_1000_krw_traded: lzm(&per_1000_krw_traded)?,
        per_1000_krw_coupon: lzm(&per_1000_krw_coupon)?,
        per_mlk_burned: lzm(&per_mlk_burned)?,
        daily_cap: lzm(&daily_cap)?,
    };
    operator_tx(
        ks,
        client,
        key.as_deref(),
        Action::Membership(MembershipAction::SetEarningRules { rules }),
    )
}

pub fn consent(ks: &Keystore, client: &Client, args: ConsentArgs) -> Result<String> {
    let ConsentArgs {
        from,
        chain,
        purpose,
        items,
        retention_days,
    } = args;
    // Kept on the partner's own chain: nobody else learns of it.
    let action = Action::Brand(BrandAction::GrantConsent {
        chain: chain.parse().map_err(|e: String| anyhow!(e))?,
        purpose,
        items,
        retention_days,
    });
    chain_tx(ks, client, &chain, &from, action)
}

pub fn withdraw(ks: &Keystore, client: &Client, args: WithdrawArgs) -> Result<String> {
    let WithdrawArgs { from, chain } = args;
    let action = Action::Brand(BrandAction::WithdrawConsent {
        chain: chain.parse().map_err(|e: String| anyhow!(e))?,
    });
    chain_tx(ks, client, &chain, &from, action)
}

pub fn segment(client: &Client, j: bool, args: SegmentArgs) -> Result<()> {
    let SegmentArgs { chain, level } = args;
    let v = client.partner_get(&chain, &format!("/segment?level={level}"))?;
    out(j, v.clone(), || super::human(&v, LZM_DECIMALS));
    Ok(())
}

pub fn join_pack(ks: &Keystore, client: &Client, args: JoinPackArgs) -> Result<String> {
    let JoinPackArgs { from, amount } = args;
    center_tx(
        ks,
        client,
        &from,
        Action::Membership(MembershipAction::JoinPack {
            amount: Amount::parse_decimal(&amount, MLK_DECIMALS)?,
        }),
    )
}

pub fn leave_pack(ks: &Keystore, client: &Client, args: LeavePackArgs) -> Result<String> {
    let LeavePackArgs { from } = args;
    center_tx(
        ks,
        client,
        &from,
        Action::Membership(MembershipAction::LeavePack),
    )
}

pub fn open_season(ks: &Keystore, client: &Client, args: OpenSeasonArgs) -> Result<String> {
    let OpenSeasonArgs {
        key,
        season,
        weeks,
        weekly_reward,
        lzm_per_week,
    } = args;
    operator_tx(
        ks,
        client,
        key.as_deref(),
        Action::Membership(MembershipAction::OpenPackSeason {
            season,
            starts_ms: now_ms() + 60_000,
            weeks,
            weekly_reward: Amount::parse_decimal(&weekly_reward, MLK_DECIMALS)?,
            lzm_per_week: lzm(&lzm_per_week)?,
        }),
    )
}

pub fn publish_offer(ks: &Keystore, client: &Client, args: PublishOfferArgs) -> Result<String> {
    let PublishOfferArgs {
        partner_key,
        id,
        title,
        level,
        price,
        stock,
        days,
    } = args;
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
    )
}

pub fn buy_offer(ks: &Keystore, client: &Client, args: BuyOfferArgs) -> Result<String> {
    let BuyOfferArgs { from, chain, id } = args;
    center_tx(
        ks,
        client,
        &from,
        Action::Membership(MembershipAction::BuyOffer {
            chain: chain.parse().map_err(|e: String| anyhow!(e))?,
            id,
        }),
    )
}

pub fn floor(ks: &Keystore, client: &Client, args: FloorArgs) -> Result<String> {
    let FloorArgs {
        user,
        level,
        reason,
        key,
    } = args;
    let user = resolve(ks, &user)?;
    operator_tx(
        ks,
        client,
        key.as_deref(),
        Action::Membership(MembershipAction::SetLevelFloor {
            user,
            level,
            reason,
        }),
    )
}

pub fn coupon(ks: &Keystore, client: &Client, args: CouponArgs) -> Result<String> {
    let CouponArgs {
        partner_key,
        user,
        krw,
        coupon,
    } = args;
    let user = resolve(ks, &user)?;
    let report = BrandAction::ReportCoupon {
        user,
        krw,
        coupon_id: coupon,
    };
    let r = coupon_tx(ks, client, &partner_key, report, "/coupons")?;
    let earned = match r.lzm_credited.as_str() {
        "0" => format!("{user} earned no LZM for it (today's cap or the LZM pool was reached)"),
        lzm => format!("{user} earned {} LZM for it", units(lzm, LZM_DECIMALS)),
    };
    Ok(format!(
        "coupon {} reported on the partner's chain\n{earned}",
        r.coupon_id
    ))
}

/// Signs a partner's coupon report or refund for its own chain with its issuer key and sends
/// it through the partner API (the partner's credential, --token), which also settles the
/// member's LZM on the center chain.
fn coupon_tx(
    ks: &Keystore,
    client: &Client,
    partner_key: &str,
    action: BrandAction,
    path: &str,
) -> Result<milk_api::partner::CouponReceipt> {
    let issuer = ks
        .unlock(partner_key, &passphrase(false)?)?
        .address()
        .to_string();
    let alliance = client.alliance()?;
    let chain = (alliance.iter().find(|m| m.issuer == issuer))
        .map(|m| m.chain.clone())
        .ok_or_else(|| anyhow!("{partner_key} issues no partner's token"))?;
    let tx = sign_on(ks, client, &chain, partner_key, Action::Brand(action))?;
    Ok(serde_json::from_value(
        client.partner_post(&chain, path, &tx)?,
    )?)
}

pub fn refund_coupon(ks: &Keystore, client: &Client, args: RefundCouponArgs) -> Result<String> {
    let RefundCouponArgs {
        partner_key,
        user,
        coupon,
    } = args;
    let user = resolve(ks, &user)?;
    let refund = BrandAction::RefundCoupon {
        user,
        coupon_id: coupon,
    };
    let r = coupon_tx(ks, client, &partner_key, refund, "/coupon-refunds")?;
    Ok(format!(
        "coupon {} refunded\n{} LZM taken back from {user}; their level is now {}",
        r.coupon_id,
        units(&r.lzm_taken_back, LZM_DECIMALS),
        r.level
    ))
}

/// LZM in whole units, as base units.
fn lzm(text: &str) -> Result<Amount> {
    Ok(Amount::parse_decimal(text, LZM_DECIMALS)?)
}
