//! The bridge to the main chain, as the node runs it: the center chain's bridge records read
//! back (`ledger`), the API's views of withdrawals and deposits, and, on the operator's node
//! with a main chain configured, the relayer (`relayer`: seal, post, release, confirm) and
//! the deposit watcher (`watcher`).

pub mod ledger;
pub mod relayer;
pub mod watcher;

use crate::error::ApiError;
use crate::node::Node;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use milk_api::bridge::{
    BatchProofView, BridgeView, DepositAddressView, DepositView, MainChainView, WithdrawalView,
};
use milk_core::Address;
use milk_core::bridge::{Deposit, DepositKey, DepositStatus, Withdrawal, record};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

type Shared = Arc<Node>;

/// The bridge's routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/bridge", get(bridge))
        .route("/v1/bridge/withdrawals", get(withdrawals))
        .route("/v1/bridge/withdrawals/{number}", get(withdrawal))
        .route("/v1/bridge/deposits", get(deposits))
        .route("/v1/bridge/deposit-address/{address}", get(deposit_address))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("bridge", e)
}

fn no_bridge() -> ApiError {
    let msg = "this network has no bridge to the main chain";
    ApiError::new(StatusCode::NOT_FOUND, "no_bridge", msg)
}

/// What this node knows of the main chain: reached, or configured and not reached yet.
fn main_chain(node: &Node) -> Option<MainChainView> {
    if let Some(view) = node.main_chain.get() {
        return Some(view.clone());
    }
    let c = node.config.main_chain.as_ref()?;
    Some(MainChainView {
        chain_id: 0,
        vault: c.vault.to_string(),
        confirmations: c.confirmations,
    })
}

/// Where the crossing coin's supply is, outside the center chain's balances.
#[derive(Debug, Clone, Copy)]
pub struct Bridged {
    outside_vault: u128,
    in_transit_out: u128,
    held: u128,
    burned_for_good: u128,
}

impl Bridged {
    /// The view beside the center chain's `total`.
    pub fn view(&self, total: milk_core::Amount) -> milk_api::membership::BridgedView {
        let across = total.units() + self.outside_vault + self.in_transit_out + self.held;
        milk_api::membership::BridgedView {
            outside_vault: self.outside_vault.to_string(),
            in_transit_out: self.in_transit_out.to_string(),
            held_deposits: self.held.to_string(),
            burned_for_good: self.burned_for_good.to_string(),
            genesis: (across + self.burned_for_good).to_string(),
            across_both_chains: across.to_string(),
        }
    }
}

/// The bridge's coin and where the rest of its supply is; none without a bridge.
pub fn bridged(
    node: &Node,
) -> Result<Option<(milk_core::Symbol, Bridged)>, milk_store::StoreError> {
    let Some(config) = &node.genesis.bridge else {
        return Ok(None);
    };
    let t = ledger::totals(node)?;
    let burned = ledger::burned(node, &config.asset)?;
    let (out, released, deposited) = (
        t.out_total.units(),
        t.released_total.units(),
        t.in_total.units(),
    );
    let outside_vault = (config.main_float.units() + released).saturating_sub(deposited);
    // Every burn here, less the withdrawals' (a refund burns nothing here).
    let burned_for_good = (burned.checked_sub(out - t.refund_total.units())).ok_or_else(|| {
        milk_store::StoreError::Corrupt("fewer burns recorded than withdrawals".into())
    })?;
    let b = Bridged {
        outside_vault,
        in_transit_out: out - released,
        held: t.held_total.units(),
        burned_for_good,
    };
    Ok(Some((config.asset, b)))
}

/// The bridge's policy, its main chain and what crossed.
#[utoipa::path(get, path = "/v1/bridge",
    responses((status = 200, description = "The bridge", body = BridgeView),
        (status = 404, description = "No bridge on this network", body = crate::error::ErrorResponse)))]
pub(crate) async fn bridge(State(node): State<Shared>) -> Result<Json<BridgeView>, ApiError> {
    let config = node.genesis.bridge.as_ref().ok_or_else(no_bridge)?;
    let policy = ledger::policy(&node)
        .map_err(internal)?
        .ok_or_else(no_bridge)?;
    let t = ledger::totals(&node).map_err(internal)?;
    Ok(Json(BridgeView {
        asset: config.asset.to_string(),
        fee: policy.fee.to_string(),
        minimum: policy.minimum.to_string(),
        daily_limit: policy.daily_limit.to_string(),
        main_chain: main_chain(&node),
        withdrawals: t.next_withdrawal,
        sealed: t.first_unsealed,
        batches: t.next_batch,
        out_total: t.out_total.to_string(),
        in_total: t.in_total.to_string(),
        relayer: node.relayer.lock().expect("not poisoned").clone(),
    }))
}

/// A withdrawal's status word.
pub fn status(w: &Withdrawal, main_chain: bool) -> &'static str {
    match (w.released, w.batch, main_chain) {
        (Some(_), _, _) => "released",
        (None, Some(_), _) => "sealed",
        (None, None, true) => "queued",
        (None, None, false) => "awaiting_main_chain",
    }
}

fn withdrawal_view(
    node: &Node,
    trees: &mut ledger::Trees,
    number: u64,
    w: &Withdrawal,
) -> Result<WithdrawalView, ApiError> {
    let proof = match w.batch {
        Some(batch) => trees.proof(node, batch, number).map_err(internal)?,
        None => None,
    };
    let proof = proof.map(|(root, siblings)| BatchProofView {
        root: hex0x(&root),
        siblings: siblings.iter().map(hex0x).collect(),
    });
    Ok(WithdrawalView {
        number,
        id: hex0x(&w.id.0),
        account: w.account.to_string(),
        to: w.to.to_string(),
        amount: w.amount.to_string(),
        fee: w.fee.to_string(),
        at_ms: w.at_ms,
        refund: w.refund,
        status: status(w, node.config.main_chain.is_some()).to_owned(),
        batch: w.batch,
        proof,
        released_tx: w.released.map(|h| hex0x(&h.0)),
    })
}

/// 32 bytes as the main chain writes them.
pub fn hex0x(bytes: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// One withdrawal, with its proof once sealed.
#[utoipa::path(get, path = "/v1/bridge/withdrawals/{number}",
    params(("number" = u64, Path, description = "The withdrawal's number")),
    responses((status = 200, description = "The withdrawal", body = WithdrawalView),
        (status = 400, description = "Not a withdrawal number", body = crate::error::ErrorResponse),
        (status = 404, description = "No such withdrawal", body = crate::error::ErrorResponse)))]
pub(crate) async fn withdrawal(
    State(node): State<Shared>,
    Path(number): Path<String>,
) -> Result<Json<WithdrawalView>, ApiError> {
    let number: u64 = number.parse().map_err(|_| {
        ApiError::bad_request("malformed_number", "a withdrawal number is a whole number")
    })?;
    match ledger::withdrawal(&node, number).map_err(internal)? {
        Some(w) => withdrawal_view(&node, &mut ledger::Trees::default(), number, &w).map(Json),
        None => {
            let msg = format!("no withdrawal number {number}");
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_withdrawal",
                msg,
            ))
        }
    }
}

/// Whose withdrawals or deposits, and how many.
#[derive(Deserialize, IntoParams, Debug)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this account's (`milk1…`).
    account: Option<String>,
    /// At most this many (default 50, at most 500).
    limit: Option<usize>,
    /// Only those numbered below this: the next page starts before the last number seen.
    before: Option<u64>,
}

/// A list's page: whose, how many, and below which number.
struct Page {
    account: Option<Address>,
    limit: usize,
    before: Option<u64>,
}

impl Page {
    /// The numbers of this page, newest first: the account's, or all below `next`.
    fn numbers(&self, node: &Node, kind: u8, next: u64) -> Result<Vec<u64>, ApiError> {
        match &self.account {
            Some(a) => {
                ledger::account_numbers(node, a, kind, self.before, self.limit).map_err(internal)
            }
            None => {
                let top = self.before.map_or(next, |b| b.min(next));
                let bottom = top.saturating_sub(self.limit as u64);
                Ok((bottom..top).rev().collect())
            }
        }
    }
}

fn parse_list(q: Result<Query<ListQuery>, QueryRejection>) -> Result<Page, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("malformed_query", e.body_text()))?;
    let account = match q.account {
        Some(a) => Some(
            a.parse::<Address>()
                .map_err(|e| ApiError::bad_request("malformed_address", e))?,
        ),
        None => None,
    };
    Ok(Page {
        account,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
        before: q.before,
    })
}

fn corrupt(what: &str, number: u64) -> ApiError {
    internal(format!("{what} {number} is indexed but has no record"))
}

/// Withdrawals, newest first: an account's, or everyone's.
#[utoipa::path(get, path = "/v1/bridge/withdrawals", params(ListQuery),
    responses((status = 200, description = "Withdrawals, newest first", body = [WithdrawalView]),
        (status = 400, description = "Malformed query", body = crate::error::ErrorResponse)))]
pub(crate) async fn withdrawals(
    State(node): State<Shared>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<WithdrawalView>>, ApiError> {
    let page = parse_list(q)?;
    let next = ledger::totals(&node).map_err(internal)?.next_withdrawal;
    let numbers = page.numbers(&node, record::ACCOUNT_WITHDRAWAL, next)?;
    let mut trees = ledger::Trees::default();
    let mut out = Vec::with_capacity(numbers.len());
    for number in numbers {
        let w = ledger::withdrawal(&node, number).map_err(internal)?;
        let w = w.ok_or_else(|| corrupt("withdrawal", number))?;
        out.push(withdrawal_view(&node, &mut trees, number, &w)?);
    }
    Ok(Json(out))
}

fn deposit_view(key: &DepositKey, d: &Deposit) -> DepositView {
    let milk = d
        .account()
        .map_or_else(|| hex0x(&d.milk.0), |a| a.to_string());
    let (status, refund_withdrawal) = match d.status {
        DepositStatus::Credited => ("credited", None),
        DepositStatus::Held => ("held", None),
        DepositStatus::Refunded { withdrawal } => ("refunded", Some(withdrawal)),
    };
    DepositView {
        number: d.number,
        main_tx: hex0x(&key.tx.0),
        log_index: key.log_index,
        from: d.from.to_string(),
        milk,
        amount: d.amount.to_string(),
        block: d.block,
        status: status.to_owned(),
        refund_withdrawal,
    }
}

/// Deposits recorded, newest first: those credited to an account, or everyone's (held ones
/// too).
#[utoipa::path(get, path = "/v1/bridge/deposits", params(ListQuery),
    responses((status = 200, description = "Deposits", body = [DepositView]),
        (status = 400, description = "Malformed query", body = crate::error::ErrorResponse)))]
pub(crate) async fn deposits(
    State(node): State<Shared>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<DepositView>>, ApiError> {
    let page = parse_list(q)?;
    let next = ledger::totals(&node).map_err(internal)?.next_deposit;
    let mut out = Vec::new();
    for number in page.numbers(&node, record::ACCOUNT_DEPOSIT, next)? {
        let found = ledger::deposit_numbered(&node, number).map_err(internal)?;
        let (key, d) = found.ok_or_else(|| corrupt("deposit", number))?;
        out.push(deposit_view(&key, &d));
    }
    Ok(Json(out))
}

/// Where and how an account deposits main-chain MLK.
#[utoipa::path(get, path = "/v1/bridge/deposit-address/{address}",
    params(("address" = String, Path, description = "The milk account to credit (`milk1…`)")),
    responses((status = 200, description = "How to deposit", body = DepositAddressView),
        (status = 400, description = "Malformed address", body = crate::error::ErrorResponse),
        (status = 404, description = "No bridge on this network", body = crate::error::ErrorResponse)))]
pub(crate) async fn deposit_address(
    State(node): State<Shared>,
    Path(address): Path<String>,
) -> Result<Json<DepositAddressView>, ApiError> {
    node.genesis.bridge.as_ref().ok_or_else(no_bridge)?;
    let account: Address = address
        .parse()
        .map_err(|e| ApiError::bad_request("malformed_address", e))?;
    let main_chain = main_chain(&node);
    let vault = main_chain
        .as_ref()
        .map_or("the vault".to_owned(), |m| m.vault.clone());
    let milk_address = hex0x(account.as_bytes());
    let how = format!(
        "approve {vault} to take the MLK, then call its deposit(amount, {milk_address}); \
         the center chain credits {account} once the deposit has its confirmations"
    );
    Ok(Json(DepositAddressView {
        account: account.to_string(),
        milk_address,
        main_chain,
        how,
    }))
}
