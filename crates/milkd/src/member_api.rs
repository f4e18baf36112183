//! Membership as the API shows it: a member's level, progress and LZM credits, the earning
//! rules, and the circulating supply of MLK and LZM. All of it is public center-chain data.
//!
//! Check-ins, MLK burns and coupon reports are signed center-chain transactions
//! (`POST /v1/chains/center/txs`; `milk check-in`, `milk burn-for-lzm`, `milk partner
//! coupon`).

use crate::api::{ApiError, ErrorBody};
use crate::node::Node;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use milk_core::codec::Decode;
use milk_core::membership::{self, EarningRules, Membership, MembershipConfig, record};
use milk_core::{Address, Amount, ChainId, Symbol};
use milk_store::ChainStore;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

type Shared = Arc<Node>;

/// The membership routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/members/{address}", get(member))
        .route("/v1/membership/rules", get(rules))
        .route("/v1/supply", get(supply))
        .route("/v1/offers", get(offers))
}

/// A premium offer.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct OfferView {
    /// The partner's brand chain.
    pub chain: String,
    /// The offer's id.
    pub id: String,
    /// What it is.
    pub title: String,
    /// The lowest level that may buy it, by index and name.
    pub level: u8,
    /// See `level`.
    pub level_name: String,
    /// Its price, LZM base units.
    pub price: String,
    /// How many are left.
    pub left: u32,
    /// When it opens and closes, Unix ms.
    pub opens_ms: u64,
    /// See `opens_ms`.
    pub closes_ms: u64,
}

/// Every partner's premium offers.
#[utoipa::path(get, path = "/v1/offers",
    responses((status = 200, description = "The offers", body = Vec<OfferView>)))]
async fn offers(State(node): State<Shared>) -> Result<Json<Vec<OfferView>>, ApiError> {
    let config = config(&node)?;
    let records = center(&node)
        .store
        .records_with_prefix(&[record::OFFER])
        .map_err(internal)?;
    records
        .into_iter()
        .map(|(k, v)| {
            let rest = &k[1..];
            let split = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| internal("malformed offer key"))?;
            let offer = membership::Offer::from_bytes(&v).map_err(internal)?;
            Ok(OfferView {
                chain: String::from_utf8_lossy(&rest[..split]).into_owned(),
                id: String::from_utf8_lossy(&rest[split + 1..]).into_owned(),
                title: offer.title,
                level: offer.level,
                level_name: config
                    .levels
                    .get(usize::from(offer.level))
                    .map_or_else(String::new, |l| l.name.clone()),
                price: offer.price.units().to_string(),
                left: offer.stock.saturating_sub(offer.sold),
                opens_ms: offer.opens_ms,
                closes_ms: offer.closes_ms,
            })
        })
        .collect::<Result<_, _>>()
        .map(Json)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("membership", e)
}

fn config(node: &Node) -> Result<&MembershipConfig, ApiError> {
    node.genesis.membership.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_membership",
            "this network has no membership",
        )
    })
}

fn center(node: &Node) -> Arc<crate::node::ChainHandle> {
    node.chain(&ChainId::center())
        .expect("every node hosts the center chain")
}

/// One member's records, from the center store, as a [`Membership`] to ask.
fn member_records(node: &Node, account: &Address) -> Result<Membership, ApiError> {
    let mut m = Membership::new(config(node)?.clone());
    let store = &center(node).store;
    let mut records = store
        .records_with_prefix(&record::earned(account))
        .map_err(internal)?;
    records.extend(
        store
            .records_with_prefix(&record::credits(account))
            .map_err(internal)?,
    );
    for key in [record::floor(account), vec![record::RULES]] {
        if let Some(v) = store.record(&key).map_err(internal)? {
            records.push((key, v));
        }
    }
    for (k, v) in records {
        if !m.restore_record(&k, &v) {
            return Err(internal("malformed membership record"));
        }
    }
    Ok(m)
}

/// A member's level and what makes it.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct MemberView {
    /// The account.
    pub address: String,
    /// The level's index (0 = the first).
    pub level: u8,
    /// Its name.
    pub level_name: String,
    /// LZM base units earned in the window.
    pub earned_in_window: String,
    /// The window, days.
    pub window_days: u32,
    /// The next level, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_level: Option<String>,
    /// LZM base units still needed for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<String>,
    /// TICA's floor under the level, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<FloorView>,
    /// When earnings leave the window, soonest first.
    pub leaving: Vec<LeavingView>,
    /// The latest credits (at most 100), newest first.
    pub credits: Vec<CreditView>,
}

/// TICA's floor under a member's level.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct FloorView {
    /// The level's index.
    pub level: u8,
    /// Why.
    pub reason: String,
}

/// Earnings that leave the window at a time.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct LeavingView {
    /// When, Unix ms.
    pub at_ms: u64,
    /// LZM base units.
    pub amount: String,
}

/// One LZM credit.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct CreditView {
    /// When (block time), Unix ms.
    pub time_ms: u64,
    /// `check_in`, `trade`, `coupon` or `mlk_burn`.
    pub reason: String,
    /// LZM base units.
    pub amount: String,
    /// The source: a transaction or trade id, or `chain:coupon`.
    pub reference: String,
}

/// A member's level, progress, what leaves the window when, and their credits.
#[utoipa::path(get, path = "/v1/members/{address}",
    params(("address" = String, Path, description = "The member's milk1… address")),
    responses((status = 200, description = "The member", body = MemberView),
        (status = 400, description = "Malformed address", body = ErrorBody)))]
async fn member(
    State(node): State<Shared>,
    Path(address): Path<String>,
) -> Result<Json<MemberView>, ApiError> {
    let account: Address = address
        .parse()
        .map_err(|e: String| ApiError::bad_request("malformed_address", e))?;
    let m = member_records(&node, &account)?;
    let view = m.level(&account, node.clock.now_ms());
    let store = &center(&node).store;
    let mut credits: Vec<CreditView> = store
        .records_with_prefix(&record::credits(&account))
        .map_err(internal)?
        .iter()
        .filter_map(|(k, v)| membership::decode_credit(k, v))
        .map(|(_, c)| CreditView {
            time_ms: c.time_ms,
            reason: c.reason.code().to_owned(),
            amount: c.amount.units().to_string(),
            reference: c.reference,
        })
        .collect();
    credits.reverse();
    credits.truncate(100);
    Ok(Json(MemberView {
        address: account.to_string(),
        level: view.index,
        level_name: view.name,
        earned_in_window: view.earned_in_window.units().to_string(),
        window_days: m.config().window_days,
        next_level: view.next.as_ref().map(|(n, _)| n.clone()),
        needed: view.next.as_ref().map(|(_, a)| a.units().to_string()),
        floor: view
            .floor
            .map(|(level, reason)| FloorView { level, reason }),
        leaving: view
            .leaving
            .into_iter()
            .map(|(at_ms, a)| LeavingView {
                at_ms,
                amount: a.units().to_string(),
            })
            .collect(),
        credits,
    }))
}

/// The earning rules in force, and the levels.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct RulesView {
    /// The rules (LZM base units).
    #[schema(value_type = Object)]
    pub rules: EarningRules,
    /// The levels: name and threshold (LZM base units earned in the window).
    #[schema(value_type = Object)]
    pub levels: Vec<membership::LevelSpec>,
    /// The window, days.
    pub window_days: u32,
}

/// The earning rules and levels.
#[utoipa::path(get, path = "/v1/membership/rules",
    responses((status = 200, description = "The rules", body = RulesView)))]
async fn rules(State(node): State<Shared>) -> Result<Json<RulesView>, ApiError> {
    let config = config(&node)?;
    let rules = match center(&node)
        .store
        .record(&[record::RULES])
        .map_err(internal)?
    {
        Some(v) => EarningRules::from_bytes(&v).map_err(internal)?,
        None => config.rules.clone(),
    };
    Ok(Json(RulesView {
        rules,
        levels: config.levels.clone(),
        window_days: config.window_days,
    }))
}

/// One asset's circulating supply.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct SupplyView {
    /// The asset.
    pub asset: String,
    /// All of it, base units.
    pub total: String,
    /// In allocations whose lock is in force.
    pub locked: String,
    /// In reserves: the exchange's liquidity, reward pools not paid out, escrow.
    pub reserve: String,
    /// Held by TICA.
    pub tica_held: String,
    /// Total less the three above.
    pub circulating: String,
    /// Each excluded bucket.
    pub buckets: Vec<BucketView>,
}

/// One excluded bucket.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct BucketView {
    /// Its label.
    pub label: String,
    /// `locked`, `reserve` or `tica_held`.
    pub class: String,
    /// Its balance, base units.
    pub amount: String,
}

/// The circulating supply of the center chain's assets (MLK, LZM), now.
#[utoipa::path(get, path = "/v1/supply",
    responses((status = 200, description = "Per asset", body = Vec<SupplyView>)))]
async fn supply(State(node): State<Shared>) -> Result<Json<Vec<SupplyView>>, ApiError> {
    let center = center(&node);
    let symbols: Vec<Symbol> = center.spec.assets.iter().map(|a| a.symbol).collect();
    let totals = center.store.supplies(&symbols).map_err(internal)?;
    let assets: Vec<(Symbol, Amount)> = symbols.iter().copied().zip(totals).collect();
    let balance = |a: &Address, s: &Symbol| {
        center
            .store
            .account(a, &[*s])
            .ok()
            .and_then(|(v, _)| v.first().copied())
            .unwrap_or(Amount::ZERO)
    };
    let reports = membership::supply_report(
        &node.genesis.roles,
        node.genesis.membership.as_ref(),
        &assets,
        balance,
        node.clock.now_ms(),
    );
    Ok(Json(
        reports
            .into_iter()
            .map(|r| SupplyView {
                asset: r.asset.to_string(),
                total: r.total.units().to_string(),
                locked: r.locked.units().to_string(),
                reserve: r.reserve.units().to_string(),
                tica_held: r.tica_held.units().to_string(),
                circulating: r.circulating.units().to_string(),
                buckets: r
                    .buckets
                    .into_iter()
                    .map(|(label, class, a)| BucketView {
                        label,
                        class,
                        amount: a.units().to_string(),
                    })
                    .collect(),
            })
            .collect(),
    ))
}
