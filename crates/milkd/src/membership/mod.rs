//! Membership as the API shows it: a member's level, progress and LZM credits, the earning
//! rules, and the circulating supply of MLK and LZM. All of it is public center-chain data.
//!
//! Check-ins, MLK burns and coupon reports are signed center-chain transactions
//! (`POST /v1/chains/center/txs`; `milk check-in`, `milk burn-for-lzm`, `milk partner
//! coupon`).

pub mod pack;

use crate::error::ApiError;
use crate::node::Node;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
pub use milk_api::membership::{
    AccessView, BucketView, ConsentView, CreditView, FloorView, LeavingView, MemberView, OfferView,
    PackView, RulesView, SegmentMember, SupplyView,
};
use milk_core::brand::consent::{self, Consent};
use milk_core::codec::Decode;
use milk_core::membership::{self, EarningRules, Membership, MembershipConfig, record};
use milk_core::tokenomics;
use milk_core::{Address, Amount, ChainId, Symbol};
use milk_store::ChainStore;
use serde::Deserialize;
use std::sync::Arc;

type Shared = Arc<Node>;

/// The membership routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/members/{address}", get(member))
        .route("/v1/membership/rules", get(rules))
        .route("/v1/supply", get(supply))
        .route("/v1/offers", get(offers))
        .route("/v1/partners/{chain}/segment", get(segment))
        .route("/v1/partners/{chain}/segment/{member}", get(segment_member))
}

/// The consents given to a partner, on its own chain: `(member, consent)`, active ones.
fn active_consents(node: &Node, chain: &ChainId) -> Result<Vec<(Address, Consent)>, ApiError> {
    let handle = node
        .chain(chain)
        .ok_or_else(|| internal("the partner's chain"))?;
    let records = (handle.store.records_with_prefix(&[consent::CONSENT])).map_err(internal)?;
    let consents = records.into_iter().filter_map(|(k, v)| {
        let a = Address::from_bytes(k.get(1..)?.try_into().ok()?).ok()?;
        let c = Consent::from_bytes(&v).ok()?;
        c.active().then_some((a, c))
    });
    Ok(consents.collect())
}

fn segment_view(
    node: &Node,
    chain: &ChainId,
    account: &Address,
    consent: &Consent,
) -> Result<(u8, SegmentMember), ApiError> {
    let m = member_records(node, account)?;
    let now = node.clock.now_ms();
    let level = m.level(account, now);
    let shares = |item: &str| consent.items.iter().any(|i| i == item);
    let activity = shares("activity").then(|| {
        let window_start =
            now.saturating_sub(u64::from(m.config().window_days) * milk_core::brand::DAY_MS);
        let mut by: std::collections::BTreeMap<String, u128> = Default::default();
        for c in m.credits_of(account).filter(|c| c.time_ms >= window_start) {
            *by.entry(c.reason.code().to_owned()).or_default() += c.amount.units();
        }
        by.into_iter().map(|(k, v)| (k, v.to_string())).collect()
    });
    Ok((
        level.index,
        SegmentMember {
            member: membership::member_pseudonym(chain, account).to_hex(),
            level: shares("level").then_some(level.name),
            activity,
            purpose: consent.purpose.clone(),
            retention_days: consent.retention_days,
        },
    ))
}

/// Records the read on the partner's own chain before any data leaves: no log, no data.
async fn log_reads(node: &Shared, chain: &ChainId, users: Vec<Address>) -> Result<(), ApiError> {
    let lane = crate::lane::get(node, chain).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "access_log_unavailable",
            "this node cannot record accesses, so it serves no member data",
        )
    })?;
    for chunk in users.chunks(consent::MAX_READ_PER_RECORD) {
        let action = milk_core::tx::Action::Brand(milk_core::tx::BrandAction::LogAccess {
            chain: chain.clone(),
            users: chunk.to_vec(),
        });
        lane.submit(action).await.map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "access_log_failed",
                format!("the access could not be recorded, so no data is served: {e}"),
            )
        })?;
    }
    Ok(())
}

/// Which segment.
#[derive(Deserialize, utoipa::IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct SegmentQuery {
    /// The lowest level (its index); 0 by default.
    level: Option<u8>,
}

/// The consenting members of a level and up, under pseudonyms (the partner only). Every
/// read is recorded on the partner's own chain first; the members can see it.
#[utoipa::path(get, path = "/v1/partners/{chain}/segment",
    params(("chain" = String, Path, description = "The partner's brand chain"), SegmentQuery),
    responses((status = 200, description = "The segment", body = Vec<SegmentMember>),
        (status = 403, description = "Not this partner (auditors included)", body = crate::error::ErrorResponse)))]
async fn segment(
    State(node): State<Shared>,
    Path(chain): Path<String>,
    headers: axum::http::HeaderMap,
    q: Result<axum::extract::Query<SegmentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<SegmentMember>>, ApiError> {
    let handle = crate::brand::authorize(&node, &headers, &chain, true)?;
    let axum::extract::Query(q) =
        q.map_err(|e| ApiError::bad_request("malformed_query", e.body_text()))?;
    let chain = handle.spec.id.clone();
    let min = q.level.unwrap_or(0);
    let mut out = Vec::new();
    let mut read = Vec::new();
    for (account, consent) in active_consents(&node, &chain)? {
        let (level, view) = segment_view(&node, &chain, &account, &consent)?;
        if level >= min {
            out.push(view);
            read.push(account);
        }
    }
    log_reads(&node, &chain, read).await?;
    Ok(Json(out))
}

/// One consenting member by pseudonym (the partner only); 403 without an active consent.
#[utoipa::path(get, path = "/v1/partners/{chain}/segment/{member}",
    params(("chain" = String, Path, description = "The partner's brand chain"), ("member" = String, Path, description = "The member's pseudonym")),
    responses((status = 200, description = "The member", body = SegmentMember),
        (status = 403, description = "No consent (never given, or withdrawn)", body = crate::error::ErrorResponse)))]
async fn segment_member(
    State(node): State<Shared>,
    Path((chain, member)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Result<Json<SegmentMember>, ApiError> {
    let handle = crate::brand::authorize(&node, &headers, &chain, true)?;
    let chain = handle.spec.id.clone();
    let found = active_consents(&node, &chain)?
        .into_iter()
        .find(|(a, _)| membership::member_pseudonym(&chain, a).to_hex() == member);
    let Some((account, consent)) = found else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "no_consent",
            "no member with this pseudonym has an active consent for this partner",
        ));
    };
    let (_, view) = segment_view(&node, &chain, &account, &consent)?;
    log_reads(&node, &chain, vec![account]).await?;
    Ok(Json(view))
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
            let (chain, id) = record::split_partner_key(&k[1..])
                .ok_or_else(|| internal("malformed offer key"))?;
            let offer = membership::Offer::from_bytes(&v).map_err(internal)?;
            Ok(OfferView {
                chain: chain.to_string(),
                id: String::from_utf8_lossy(id).into_owned(),
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
pub(crate) fn member_records(node: &Node, account: &Address) -> Result<Membership, ApiError> {
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
    let keys = [
        record::floor(account),
        vec![record::RULES],
        vec![record::PACK_SEASON],
    ];
    for key in keys
        .into_iter()
        .chain([record::pack(account), record::debt(account)])
    {
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

/// The Pack season in force, if any, and what `account` committed to it and earned.
fn pack_view(m: &Membership, account: &Address) -> Option<PackView> {
    let season = m.season()?;
    let mine = m.pack_of(account);
    let earned = (m.credits_of(account))
        .filter(|c| c.reason == membership::Reason::Pack)
        .fold(0u128, |sum, c| sum.saturating_add(c.amount.units()));
    Some(PackView {
        season: season.season,
        starts_ms: season.starts_ms,
        weeks: season.weeks,
        weekly_reward: season.weekly_reward.units().to_string(),
        lzm_per_week: season.lzm_per_week.units().to_string(),
        committed: mine.map(|(amount, _)| amount.to_string()),
        since_ms: mine.map(|(_, since)| since),
        lzm_earned: earned.to_string(),
    })
}

/// A member's level, progress, what leaves the window when, and their credits.
#[utoipa::path(get, path = "/v1/members/{address}",
    params(("address" = String, Path, description = "The member's milk1… address")),
    responses((status = 200, description = "The member", body = MemberView),
        (status = 400, description = "Malformed address", body = crate::error::ErrorResponse)))]
async fn member(
    State(node): State<Shared>,
    Path(address): Path<String>,
    headers: axum::http::HeaderMap,
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
    let (consents, access_log) = match may_see_sharing(&node, &headers, &account)? {
        true => {
            let (c, a) = sharing_of(&node, &account)?;
            (Some(c), Some(a))
        }
        false => (None, None),
    };
    let pack = pack_view(&m, &account);
    Ok(Json(MemberView {
        address: account.to_string(),
        level: view.index,
        level_name: view.name,
        earned_in_window: view.earned_in_window.units().to_string(),
        owed: m.debt_of(&account).to_string(),
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
        consents,
        access_log,
        pack,
    }))
}

/// Whether the caller may see a member's consents and access log: the member, by a read
/// signed with their key, or TICA.
fn may_see_sharing(
    node: &Node,
    headers: &axum::http::HeaderMap,
    account: &Address,
) -> Result<bool, ApiError> {
    use crate::auth::{Caller, Principal};
    Ok(match crate::access::caller(node, headers)? {
        Caller::Account(a) => a == *account,
        Caller::Credential(p) => p == Principal::Operator,
        Caller::Anonymous => false,
    })
}

/// A member's consents and the reads of their data, from every partner chain this node
/// holds (newest reads first, at most 100).
fn sharing_of(
    node: &Node,
    account: &Address,
) -> Result<(Vec<ConsentView>, Vec<AccessView>), ApiError> {
    let (mut consents, mut access_log) = (Vec::new(), Vec::new());
    for handle in (node.chain_handles().iter()).filter(|h| h.spec.partner.is_some()) {
        let chain = handle.spec.id.to_string();
        let given = handle.store.record(&consent::consent_key(account));
        if let Some(v) = given.map_err(internal)? {
            let c = Consent::from_bytes(&v).map_err(internal)?;
            consents.push(ConsentView {
                chain: chain.clone(),
                purpose: c.purpose,
                items: c.items,
                retention_days: c.retention_days,
                granted_ms: c.granted_ms,
                withdrawn_ms: c.withdrawn_ms,
            });
        }
        let reads = handle
            .store
            .records_with_prefix(&consent::accesses_prefix(account));
        for (k, _) in reads.map_err(internal)? {
            if let Some((time_ms, _)) = consent::access_of(&k) {
                let chain = chain.clone();
                access_log.push(AccessView { time_ms, chain });
            }
        }
    }
    access_log.sort_by_key(|a| std::cmp::Reverse(a.time_ms));
    access_log.truncate(100);
    Ok((consents, access_log))
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
    // Partners' shares of allocation A, from their records.
    let vesting: Vec<(String, Address, u64)> = center
        .store
        .records_with_prefix(&[tokenomics::record::VEST])
        .map_err(internal)?
        .iter()
        .filter_map(|(k, v)| tokenomics::vesting_entry(k, v))
        .collect();
    let reports = tokenomics::supply_report(
        &node.genesis.roles,
        node.genesis.membership.as_ref(),
        &assets,
        &vesting,
        balance,
        node.clock.now_ms(),
    );
    let bridged = crate::bridge::bridged(&node).map_err(internal)?;
    Ok(Json(
        reports
            .into_iter()
            .map(|r| SupplyView {
                bridged: bridged
                    .as_ref()
                    .filter(|(asset, _)| *asset == r.asset)
                    .map(|(_, b)| b.view(r.total)),
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
