//! Demo activity, so a fresh demo node shows the platform working with nothing else to
//! start. Everything goes through the same admission path as API submissions.
//!
//! - The alliance grows: a fourth company, Paper Lantern Books, applies; the three genesis
//!   partners approve; TICA signs; its brand chain opens while the node runs (with the
//!   public demo credential `demo-bookshop-token`).
//! - The demo users link their wallets to every partner.
//! - Every few seconds a demo user sends another a small amount, and every fourth tick a
//!   partner converts some of a user's mileage into its Brand Token.

use crate::auth::{Principal, demo_token};
use crate::node::Node;
use crate::worker::{Admission, Command, Outcome};
use milk_core::alliance::Application;
use milk_core::brand::BrandPolicy;
use milk_core::genesis::demo_key;
use milk_core::tx::{Action, Transaction};
use milk_core::tx::{
    AllianceAction, BrandAction, BridgeAction, ExchangeAction, MembershipAction, TokenAction,
};
use milk_core::{Amount, ChainId, Hash, Keypair, Symbol};
use milk_store::ChainStore;
use std::sync::Arc;
use std::time::Duration;

pub use milk_core::genesis::DEMO_NEWCOMER;

/// Whether a node runs the demo network (the only one demo traffic is for).
pub fn is_demo(node: &Node) -> bool {
    node.genesis.network == "milk-demo"
}

/// Signs `action` with `key` at its next sequence on `chain`, submits it and waits for its
/// block: `Ok` once committed, else the refusal's code.
async fn submit(node: &Node, chain: &ChainId, key: &Keypair, action: Action) -> Result<(), String> {
    let handle = node
        .chain(chain)
        .ok_or_else(|| format!("no chain {chain}"))?;
    let (_, sequence) = handle
        .store
        .account(&key.address(), &[])
        .map_err(|e| e.to_string())?;
    let tx = Transaction {
        chain: chain.clone(),
        sender: key.address(),
        sequence,
        expires_at_ms: node.clock.now_ms() + 60_000,
        action,
    };
    let verified = tx.sign(key).verify().map_err(|(_, e)| e.to_string())?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    handle
        .send(Command::Submit {
            txs: vec![verified],
            wait: true,
            reply,
        })
        .map_err(|e| e.to_string())?;
    let admission = answer
        .await
        .map_err(|_| "shutting down".to_owned())?
        .pop()
        .ok_or("no answer")?;
    match admission {
        Admission::Refused { error, .. } => Err(error.code().to_owned()),
        Admission::Accepted {
            outcome: Some(outcome),
            ..
        } => match outcome.await {
            Ok(Outcome::Committed(_)) => Ok(()),
            Ok(Outcome::Dropped(e)) => Err(e.code().to_owned()),
            Ok(Outcome::Halted) | Err(_) => Err("chain_halted".to_owned()),
            Ok(Outcome::Unknown) => Err("unknown".to_owned()),
            Ok(Outcome::Moved) => Err("not_leader".to_owned()),
        },
        Admission::Accepted { outcome: None, .. } => Ok(()),
    }
}

/// An application like the demo newcomer's: two-decimal points worth KRW 10 each, a floor at
/// 80 % of that, 100 points a mile, a float of 1,000,000 points for TICA's inventory.
pub fn application(
    chain: &str,
    name: &str,
    sector: &str,
    symbol: &str,
    expiry_days: Option<u32>,
) -> Application {
    let whole = |n: u128| Amount::from_whole(n, 2).expect("fits");
    Application {
        chain: chain.parse().expect("a valid chain id"),
        name: name.to_owned(),
        sector: sector.to_owned(),
        symbol: symbol.parse().expect("a valid symbol"),
        decimals: 2,
        policy: BrandPolicy {
            redemption_value_krw: 10,
            min_price_bps: 8_000,
            units_per_mileage: 100,
            min_conversion: whole(10),
            max_conversion: whole(100_000),
            daily_user_limit: whole(200_000),
            transfers_allowed: true,
            expiry_days,
        },
        initial_float: whole(1_000_000),
    }
}

/// Paper Lantern Books joins the demo alliance, unless it already has. Returns once its
/// brand chain is open, or the first refusal.
pub async fn grow_alliance(node: &Arc<Node>) -> Result<(), String> {
    let chain: ChainId = DEMO_NEWCOMER.parse().expect("valid chain id");
    let center = ChainId::center();
    let whole = |n: u128| Amount::from_whole(n, 2).expect("fits");
    let issuer = demo_key(&format!("partner:{DEMO_NEWCOMER}"));
    let member = crate::alliance::registered(node, &chain).map_err(|e| e.message().to_owned())?;
    if member.is_none() {
        let application = application(DEMO_NEWCOMER, "Paper Lantern Books", "books", "BOOK", None);
        submit(
            node,
            &center,
            &issuer,
            Action::Alliance(AllianceAction::Apply { application }),
        )
        .await?;
        for partner in ["skyway", "cinema", "dailymart"] {
            let key = demo_key(&format!("partner:{partner}"));
            let approve = Action::Alliance(AllianceAction::Approve {
                chain: chain.clone(),
            });
            submit(node, &center, &key, approve).await?;
        }
        // The operator's transactions go through its lane, which numbers them all.
        let lane =
            crate::lane::get(node, &center).ok_or("this node does not hold the operator's key")?;
        let sign = Action::Alliance(AllianceAction::SignAgreement {
            chain: chain.clone(),
        });
        lane.submit(sign).await.map_err(|e| e.code().to_owned())?;
        tracing::info!(chain = %chain, "demo: Paper Lantern Books joined the alliance");
    }
    // TICA opens a market for its token, like the genesis partners': a 2,000,000-token
    // curve with TICA half-way, matching the float in its inventory.
    let book: Symbol = "BOOK".parse().expect("valid symbol");
    if node.genesis.exchange.is_some()
        && crate::exchange::settlement::market_record(node, &book)
            .map_err(|e| e.to_string())?
            .is_none()
    {
        let lane =
            crate::lane::get(node, &center).ok_or("this node does not hold the operator's key")?;
        let open = Action::Exchange(ExchangeAction::SetMarket {
            asset: book,
            capacity: whole(2_000_000),
            position: Some(whole(1_000_000)),
            max_order: whole(10_000),
            user_daily_limit: whole(50_000),
        });
        lane.submit(open).await.map_err(|e| e.code().to_owned())?;
    }
    // The demo's public credential for it, like the genesis partners'.
    let token = demo_token(&Principal::Partner(chain.clone()));
    if node.credentials.principal(&token).is_none() {
        node.credentials
            .grant(&Principal::Partner(chain), &token)
            .map_err(|e| format!("demo credential: {e}"))?;
    }
    Ok(())
}

/// Links carol to every partner (once; later runs find her linked).
async fn link_users(node: &Node) {
    for handle in node.chain_handles() {
        let Some(issuer) = handle.spec.assets.first().and_then(|a| a.issuer) else {
            continue;
        };
        let partner = demo_key(&format!("partner:{}", handle.spec.id));
        if partner.address() != issuer {
            continue;
        }
        // Only carol: alice and bob are left for people trying the platform by hand.
        for user in ["carol"] {
            let key = demo_key(user);
            let customer = Hash::domain(
                "demo/customer",
                &[handle.spec.id.as_str().as_bytes(), user.as_bytes()],
            );
            let message =
                milk_core::brand::link_message(&handle.spec.id, &key.address(), &customer);
            let action = Action::Brand(BrandAction::Link {
                customer_hash: customer,
                partner_signature: partner.sign(&message.0),
            });
            // `already_linked` on every run after the first.
            if let Err(e) = submit(node, &handle.spec.id, &key, action).await {
                tracing::debug!(chain = %handle.spec.id, user, error = %e, "demo link refused");
            }
        }
    }
}

/// Carol sells (even rounds) or buys (odd) 2 to 10 tokens of this chain's market.
async fn trade(node: &Arc<Node>, from: &Keypair, handle: &crate::node::ChainHandle, n: u64) {
    let Some(asset) = handle.spec.assets.first() else {
        return;
    };
    let amount = Amount::new(10u128.pow(asset.decimals.into()) * (2 + u128::from(n % 9)));
    let (chain, action) = if (n / 4).is_multiple_of(2) {
        (
            handle.spec.id.clone(),
            Action::Exchange(ExchangeAction::Sell {
                amount,
                min_out: Amount::new(1),
            }),
        )
    } else {
        (
            ChainId::center(),
            Action::Exchange(ExchangeAction::Buy {
                asset: asset.symbol,
                pay: "MLK".parse().expect("valid"),
                size: milk_core::tx::OrderSize::Tokens(amount),
                max_in: Amount::new(u128::MAX),
            }),
        )
    };
    let Some(chain_handle) = node.chain(&chain) else {
        return;
    };
    let sequence = match chain_handle.store.account(&from.address(), &[]) {
        Ok((_, s)) => s,
        Err(_) => return,
    };
    let order = Transaction {
        chain,
        sender: from.address(),
        sequence,
        expires_at_ms: node.clock.now_ms() + 60_000,
        action,
    }
    .sign(from);
    if let Err(e) = crate::exchange::settlement::place(node, order).await {
        tracing::debug!(error = ?e, "demo trade not settled");
    }
}

/// Sets the membership scene once: a MiL.k Pack season (a week each, paid automatically)
/// that carol joins, a premium offer from the cinema, and carol's consent to share her
/// level with it. A restarted demo, where carol has acted already, sets nothing again.
pub async fn membership_scene(node: &Arc<Node>) {
    if node.genesis.membership.is_none() {
        return;
    }
    let center = ChainId::center();
    let carol = demo_key("carol");
    let acted = (node
        .chain(&center)
        .map(|h| h.store.account(&carol.address(), &[])))
    .is_some_and(|a| a.is_ok_and(|(_, sequence)| sequence > 0));
    if acted {
        return;
    }
    let now = node.clock.now_ms();
    let mlk = |n: u128| Amount::new(n * 100_000_000);
    if let Some(lane) = crate::lane::get(node, &center) {
        let season = Action::Membership(MembershipAction::OpenPackSeason {
            season: 1,
            starts_ms: now + 60_000,
            weeks: 52,
            weekly_reward: mlk(10_000),
            lzm_per_week: mlk(20),
        });
        if let Err(e) = lane.submit(season).await {
            tracing::debug!(error = %e, "demo: Pack season not opened");
        }
    }
    let cinema = demo_key("partner:cinema");
    let steps = [
        (
            &carol,
            Action::Membership(MembershipAction::JoinPack { amount: mlk(500) }),
        ),
        (
            &cinema,
            Action::Membership(MembershipAction::PublishOffer {
                id: "PREMIERE".into(),
                title: "Premiere night for two".into(),
                level: 1,
                price: mlk(50),
                stock: 100,
                opens_ms: now,
                closes_ms: now + 365 * 86_400_000,
            }),
        ),
    ];
    for (key, action) in steps {
        if let Err(e) = submit(node, &center, key, action).await {
            tracing::debug!(error = %e, "demo: membership step refused");
        }
    }
    // Her consent is kept on the cinema's own chain, out of everyone else's sight.
    let cinema: ChainId = "cinema".parse().expect("valid");
    let consent = Action::Brand(BrandAction::GrantConsent {
        chain: cinema.clone(),
        purpose: "VIP screening invitations".into(),
        items: vec!["level".into(), "activity".into()],
        retention_days: 30,
    });
    if let Err(e) = submit(node, &cinema, &carol, consent).await {
        tracing::debug!(error = %e, "demo: consent refused");
    }
}

/// Carol's address on the main chain, where she cashes MLK out.
pub const DEMO_MAIN_ADDRESS: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";

/// Runs the demo: grows the alliance, links the users, then every `every` does one thing,
/// cycling through the chains: carol sends dave or erin (keys of no genesis allocation) a
/// little, a partner converts some of carol's mileage (one purchase, or a batch of two), or
/// carol sells or buys a few tokens on the exchange; and she checks
/// in daily for LZM. Before that it opens a MiL.k Pack season carol joins, a premium offer,
/// and carol's consent to the cinema. Only carol acts,
/// so alice and bob are free for anyone trying the platform by hand.
///
/// In a replicated network every node runs this, and only the center chain's leader acts.
pub async fn traffic(node: Arc<Node>, every: Duration) {
    while !node.leads_center() {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if let Err(e) = grow_alliance(&node).await {
        tracing::warn!(error = %e, "demo: the alliance did not grow");
    }
    link_users(&node).await;
    membership_scene(&node).await;
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    for n in 0u64.. {
        tick.tick().await;
        if !node.leads_center() {
            continue;
        }
        let chains = node.chain_handles();
        let handle = &chains[n as usize % chains.len()];
        let from = demo_key("carol");
        let to = demo_key(if n % 2 == 0 { "dave" } else { "erin" }).address();
        let Some(asset) = handle.spec.assets.first() else {
            continue;
        };
        if n % 4 == 3 && handle.spec.partner.is_some() {
            convert(&node, handle, &from, n).await;
            continue;
        }
        if n % 4 == 1 && handle.spec.partner.is_some() {
            trade(&node, &from, handle, n).await;
            continue;
        }
        if n % 100 == 7 && node.genesis.bridge.is_some() {
            cash_out(&node, &from).await;
            continue;
        }
        if n % 20 == 0 {
            // Carol's daily check-in earns her LZM (refused, harmlessly, after the first
            // each UTC day).
            let _ = submit(
                &node,
                &ChainId::center(),
                &from,
                Action::Membership(MembershipAction::CheckIn),
            )
            .await;
        }
        let symbol: Symbol = asset.symbol;
        // One whole unit, or less if the sender has run low.
        let units = 10u128.pow(asset.decimals.into()) * (1 + n as u128 % 5) / 2;
        let transfer = Action::Token(TokenAction::Transfer {
            to,
            asset: symbol,
            amount: Amount::new(units.max(1)),
            memo: "demo".to_owned(),
        });
        match submit(&node, &handle.spec.id, &from, transfer).await {
            Err(e) if e == "chain_halted" => return,
            Err(e) => tracing::debug!(chain = %handle.spec.id, error = %e, "demo transfer refused"),
            Ok(()) => {}
        }
    }
}

/// Carol cashes 10 MLK out to her main-chain address (the fee, 1 MLK, on top): without a
/// main chain configured it waits as awaiting_main_chain.
async fn cash_out(node: &Arc<Node>, from: &Keypair) {
    let to = DEMO_MAIN_ADDRESS.parse().expect("a checksummed address");
    let (amount, max_fee) = (Amount::new(1_000_000_000), Amount::new(100_000_000));
    let withdraw = Action::Bridge(BridgeAction::Withdraw {
        to,
        amount,
        max_fee,
    });
    if let Err(e) = submit(node, &ChainId::center(), from, withdraw).await {
        tracing::debug!(error = %e, "demo withdrawal refused");
    }
}

/// A partner converts 50 to 250 of the user's mileage points; every other time, two
/// purchases' worth in one batch.
async fn convert(node: &Arc<Node>, handle: &crate::node::ChainHandle, from: &Keypair, n: u64) {
    let partner = demo_key(&format!("partner:{}", handle.spec.id));
    let item = |k: u64| milk_core::brand::action::ConversionItem {
        to: from.address(),
        mileage: 50 * (1 + (n + k) % 5),
        reference: format!("demo-{}-{n}-{k}", node.clock.now_ms()),
    };
    let convert = match n % 8 {
        7 => Action::Brand(BrandAction::ConvertBatch {
            items: vec![item(0), item(1)],
        }),
        _ => {
            let one = item(0);
            Action::Brand(BrandAction::Convert {
                to: one.to,
                mileage: one.mileage,
                reference: one.reference,
            })
        }
    };
    if let Err(e) = submit(node, &handle.spec.id, &partner, convert).await {
        tracing::debug!(chain = %handle.spec.id, error = %e, "demo conversion refused");
    }
}
