//! The bridge's rules: a customer's withdrawal within the policy, and TICA's seals,
//! releases, deposits and refunds, each at most once.

use super::action::BridgeAction;
use super::error::BridgeError;
use super::{
    Batch, Bridge, BridgePolicy, BridgeWrite, Deposit, DepositKey, DepositStatus, MAX_BATCH,
    MainAddress, Withdrawal,
};
use crate::amount::Whole;
use crate::error::TxError;
use crate::ledger::DAY_MS;
use crate::state::{ChainState, Change, nonzero};
use crate::tx::Transaction;
use crate::{Address, Amount, Hash};

impl ChainState {
    /// Checks a bridge action at block time `now_ms` and works out what it changes.
    pub(crate) fn check_bridge(
        &self,
        tx: &Transaction,
        action: &BridgeAction,
        now_ms: u64,
    ) -> Result<Change, TxError> {
        let bridge = self.bridge.as_ref().ok_or(BridgeError::NoBridge)?;
        if !matches!(action, BridgeAction::Withdraw { .. }) {
            self.operator_only(tx)?;
        }
        let decimals = self.ledger().decimals(&bridge.asset());
        let mut change = Change::default();
        match action {
            BridgeAction::Withdraw {
                to,
                amount,
                max_fee,
            } => {
                let w = plan_withdrawal(bridge, decimals, tx, *to, *amount, *max_fee, now_ms)?;
                let operator = self.operator.expect("the center chain has an operator");
                post_withdrawal(&mut change, bridge, tx, operator, w, now_ms);
            }
            BridgeAction::SealBatch { batch, count } => {
                change.bridge = plan_seal(bridge, *batch, *count, now_ms)?;
            }
            BridgeAction::ConfirmRelease {
                withdrawal,
                main_tx,
            } => {
                change.bridge = vec![plan_release(bridge, *withdrawal, *main_tx)?];
            }
            BridgeAction::RecordDeposit {
                main_tx,
                log_index,
                from,
                milk,
                amount,
                block,
            } => {
                let key = DepositKey {
                    tx: *main_tx,
                    log_index: *log_index,
                };
                let number = bridge.next_deposit();
                let d = Deposit::arrived(number, *from, *milk, *amount, *block, now_ms);
                let d = plan_deposit(bridge, decimals, &key, d)?;
                if d.status == DepositStatus::Credited {
                    let to = Address::from_stored(d.milk.0);
                    change.postings.mints.push((to, bridge.asset(), d.amount));
                }
                change.bridge = vec![BridgeWrite::Deposit(key, d)];
            }
            BridgeAction::RefundDeposit { main_tx, log_index } => {
                let key = DepositKey {
                    tx: *main_tx,
                    log_index: *log_index,
                };
                change.bridge = plan_refund(bridge, tx, &key, now_ms)?;
            }
            BridgeAction::SetBridgePolicy { policy } => {
                check_policy(policy)?;
                change.bridge = vec![BridgeWrite::Policy(policy.clone())];
            }
        }
        Ok(change)
    }
}

/// A checked withdrawal's postings (its amount burned, its fee to TICA) and records.
fn post_withdrawal(
    change: &mut Change,
    bridge: &Bridge,
    tx: &Transaction,
    operator: Address,
    w: Withdrawal,
    now_ms: u64,
) {
    let asset = bridge.asset();
    change.postings.burns.push((tx.sender, asset, w.amount));
    if !w.fee.is_zero() {
        change
            .postings
            .moves
            .push((tx.sender, operator, asset, w.fee));
    }
    let used = bridge.used_today(&tx.sender, now_ms).checked_add(w.amount);
    let used = used.expect("checked against the daily limit");
    change
        .bridge
        .push(BridgeWrite::Daily(tx.sender, now_ms / DAY_MS, used));
    change
        .bridge
        .push(BridgeWrite::Withdrawal(bridge.next_withdrawal(), w));
}

/// A policy's own consistency.
pub fn check_policy(p: &BridgePolicy) -> Result<(), BridgeError> {
    match p.minimum > p.daily_limit {
        true => Err(BridgeError::BadPolicy),
        false => Ok(()),
    }
}

/// A customer's withdrawal: at least the minimum, within the day's limit, at a fee they
/// agreed to. The balance is checked with the postings.
fn plan_withdrawal(
    bridge: &Bridge,
    decimals: u8,
    tx: &Transaction,
    to: MainAddress,
    amount: Amount,
    max_fee: Amount,
    now_ms: u64,
) -> Result<Withdrawal, TxError> {
    nonzero(amount)?;
    let (policy, w) = (bridge.policy(), |a: Amount| Whole::new(a.units(), decimals));
    if amount < policy.minimum {
        let minimum = w(policy.minimum);
        return Err(BridgeError::BelowMinimum { minimum }.into());
    }
    if policy.fee > max_fee {
        let (fee, max_fee) = (w(policy.fee), w(max_fee));
        return Err(BridgeError::FeeAboveMax { fee, max_fee }.into());
    }
    let used = bridge.used_today(&tx.sender, now_ms);
    let within = used.checked_add(amount);
    if within.is_none_or(|t| t > policy.daily_limit) {
        let (limit, used) = (w(policy.daily_limit), w(used));
        return Err(BridgeError::DailyLimit { limit, used }.into());
    }
    Ok(Withdrawal {
        id: tx.id(),
        account: tx.sender,
        to,
        amount,
        fee: policy.fee,
        at_ms: now_ms,
        refund: false,
        batch: None,
        released: None,
    })
}

/// The next batch: the first `count` unsealed withdrawals, marked with it, and its root.
fn plan_seal(
    bridge: &Bridge,
    batch: u64,
    count: u32,
    now_ms: u64,
) -> Result<Vec<BridgeWrite>, BridgeError> {
    let expected = bridge.next_batch();
    if batch != expected {
        return Err(BridgeError::NotNextBatch { expected });
    }
    let first = bridge.first_unsealed();
    let waiting = bridge.next_withdrawal() - first;
    if count == 0 || count > MAX_BATCH || u64::from(count) > waiting {
        return Err(BridgeError::BadBatchSize {
            max: MAX_BATCH,
            waiting,
        });
    }
    let tree = bridge.tree_of(first, count).expect("the withdrawals exist");
    let mut writes: Vec<BridgeWrite> = bridge
        .withdrawals_from(first)
        .take(count as usize)
        .map(|(n, w)| {
            BridgeWrite::Withdrawal(
                n,
                Withdrawal {
                    batch: Some(batch),
                    ..w.clone()
                },
            )
        })
        .collect();
    let root = Hash(tree.root());
    writes.push(BridgeWrite::Batch(
        batch,
        Batch {
            first,
            count,
            root,
            at_ms: now_ms,
        },
    ));
    Ok(writes)
}

/// A sealed withdrawal's release, once.
fn plan_release(bridge: &Bridge, number: u64, main_tx: Hash) -> Result<BridgeWrite, BridgeError> {
    let w = bridge
        .withdrawal(number)
        .ok_or(BridgeError::UnknownWithdrawal { number })?;
    if w.batch.is_none() {
        return Err(BridgeError::NotSealed { number });
    }
    if let Some(main_tx) = w.released {
        return Err(BridgeError::AlreadyReleased { number, main_tx });
    }
    let released = Withdrawal {
        released: Some(main_tx),
        ..w.clone()
    };
    Ok(BridgeWrite::Withdrawal(number, released))
}

/// A deposit, once, within what ever left the center chain.
fn plan_deposit(
    bridge: &Bridge,
    decimals: u8,
    key: &DepositKey,
    d: Deposit,
) -> Result<Deposit, TxError> {
    nonzero(d.amount)?;
    if bridge.deposit(key).is_some() {
        return Err(BridgeError::DepositRecorded.into());
    }
    match bridge
        .totals()
        .admits_deposit(bridge.main_float(), d.amount)
    {
        Ok(()) => Ok(d),
        Err((would_be, bound)) => {
            let (would_be, bound) = (
                Whole::new(would_be.units(), decimals),
                Whole::new(bound.units(), decimals),
            );
            Err(BridgeError::DepositsExceedOutflow { would_be, bound }.into())
        }
    }
}

/// A held deposit's refund: a withdrawal of its amount to its sender, without a fee.
fn plan_refund(
    bridge: &Bridge,
    tx: &Transaction,
    key: &DepositKey,
    now_ms: u64,
) -> Result<Vec<BridgeWrite>, BridgeError> {
    let d = bridge.deposit(key).ok_or(BridgeError::UnknownDeposit)?;
    if d.status != DepositStatus::Held {
        return Err(BridgeError::NotHeld);
    }
    let number = bridge.next_withdrawal();
    let refund = Withdrawal {
        id: tx.id(),
        account: tx.sender,
        to: d.from,
        amount: d.amount,
        fee: Amount::ZERO,
        at_ms: now_ms,
        refund: true,
        batch: None,
        released: None,
    };
    let status = DepositStatus::Refunded { withdrawal: number };
    Ok(vec![
        BridgeWrite::Withdrawal(number, refund),
        BridgeWrite::Deposit(
            *key,
            Deposit {
                status,
                ..d.clone()
            },
        ),
    ])
}
