//! The bridge on the demo network's center chain: withdrawals within the policy, batches
//! sealed once with the root the vault checks, deposits recorded once and never beyond what
//! left, held deposits refunded once; and over random histories, the center chain's MLK is
//! always genesis's less what left plus what was credited.

use milk_core::bridge::{BridgePolicy, DepositStatus, MainAddress, tree};
use milk_core::genesis::{Genesis, demo_key};
use milk_core::ledger::DAY_MS;
use milk_core::state::ChainState;
use milk_core::tx::{Action, BridgeAction, Transaction};
use milk_core::{Address, Amount, ChainId, Hash, Keypair, Symbol};
use proptest::prelude::*;
use std::collections::BTreeMap;

const MLK: u128 = 100_000_000;
const TO: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

struct Center {
    state: ChainState,
    now: u64,
    seqs: BTreeMap<Address, u64>,
    last_tx: Hash,
    /// The records as a store holds them: every delta written in turn.
    written: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Center {
    fn new() -> Center {
        let g = Genesis::demo();
        let (_, state) = g.genesis_block(g.center()).unwrap();
        Center {
            now: g.genesis_time_ms + 1_000,
            state,
            seqs: BTreeMap::new(),
            last_tx: Hash::ZERO,
            written: BTreeMap::new(),
        }
    }

    fn run(&mut self, key: &Keypair, action: BridgeAction) -> Result<(), &'static str> {
        self.run_action(key, Action::Bridge(action))
    }

    fn run_action(&mut self, key: &Keypair, action: Action) -> Result<(), &'static str> {
        let seq = *self.seqs.get(&key.address()).unwrap_or(&0);
        let tx = Transaction {
            chain: ChainId::center(),
            sender: key.address(),
            sequence: seq,
            expires_at_ms: self.now + 60_000,
            action,
        };
        let result = self.state.apply(&tx, self.now);
        let delta = self.state.take_delta();
        for (k, v) in &delta.entries {
            match v {
                Some(v) => self.written.insert(k.clone(), v.clone()),
                None => self.written.remove(k),
            };
        }
        match result {
            Ok(()) => {
                self.seqs.insert(key.address(), seq + 1);
                self.last_tx = tx.id();
                Ok(())
            }
            Err(e) => {
                assert_eq!(delta, Default::default(), "{} changed state", e.code());
                Err(e.code())
            }
        }
    }

    fn mlk(&self, who: &Address) -> u128 {
        self.state.balance(who, &mlk()).units()
    }

    fn supply(&self) -> u128 {
        self.state.supply(&mlk()).unwrap().units()
    }

    fn bridge(&self) -> &milk_core::bridge::Bridge {
        self.state.bridge().unwrap()
    }
}

fn mlk() -> Symbol {
    "MLK".parse().unwrap()
}

fn to() -> MainAddress {
    TO.parse().unwrap()
}

fn withdraw(amount: u128) -> BridgeAction {
    BridgeAction::Withdraw {
        to: to(),
        amount: Amount::new(amount),
        max_fee: Amount::new(MLK),
    }
}

fn deposit(n: u8, milk: Hash, amount: u128) -> BridgeAction {
    BridgeAction::RecordDeposit {
        main_tx: Hash([n; 32]),
        log_index: u64::from(n),
        from: to(),
        milk,
        amount: Amount::new(amount),
        block: 1,
    }
}

#[test]
fn a_withdrawal_burns_its_amount_pays_the_fee_and_waits_in_the_queue() {
    let mut c = Center::new();
    let (alice, op) = (demo_key("alice"), demo_key("operator").address());
    let (before, op_before, supply) = (c.mlk(&alice.address()), c.mlk(&op), c.supply());
    c.run(&alice, withdraw(20 * MLK)).unwrap();
    assert_eq!(c.mlk(&alice.address()), before - 21 * MLK);
    assert_eq!(c.mlk(&op), op_before + MLK);
    assert_eq!(c.supply(), supply - 20 * MLK);
    let w = c.bridge().withdrawal(0).unwrap();
    assert_eq!(
        (w.id, w.to, w.amount, w.fee),
        (c.last_tx, to(), Amount::new(20 * MLK), Amount::new(MLK))
    );
    assert_eq!((w.batch, w.released, w.refund), (None, None, false));
}

#[test]
fn a_withdrawal_outside_the_policy_or_the_balance_is_refused_and_changes_nothing() {
    let mut c = Center::new();
    let alice = demo_key("alice");
    assert_eq!(c.run(&alice, withdraw(9 * MLK)), Err("below_minimum"));
    assert_eq!(c.run(&alice, withdraw(0)), Err("zero_amount"));
    let cheap = BridgeAction::Withdraw {
        to: to(),
        amount: Amount::new(10 * MLK),
        max_fee: Amount::new(MLK - 1),
    };
    assert_eq!(c.run(&alice, cheap), Err("fee_above_max"));
    assert_eq!(c.run(&alice, withdraw(10_000 * MLK)), Err("daily_limit"));
    c.run(&alice, withdraw(4_990 * MLK)).unwrap();
    assert_eq!(c.run(&alice, withdraw(11 * MLK)), Err("daily_limit"));
    c.run(&alice, withdraw(10 * MLK)).unwrap();
    c.now += DAY_MS;
    // A new day, a new limit; but alice has about 4,998 MLK left of her 10,000.
    assert_eq!(
        c.run(&alice, withdraw(4_998 * MLK)),
        Err("insufficient_balance")
    );
    c.run(&alice, withdraw(4_000 * MLK)).unwrap();
    let bob = demo_key("nobody-with-mlk");
    assert_eq!(c.run(&bob, withdraw(10 * MLK)), Err("insufficient_balance"));
}

#[test]
fn a_batch_is_sealed_once_by_tica_with_the_root_the_vault_checks() {
    let mut c = Center::new();
    let (alice, op) = (demo_key("alice"), demo_key("operator"));
    for _ in 0..3 {
        c.run(&alice, withdraw(10 * MLK)).unwrap();
    }
    let seal = |batch, count| BridgeAction::SealBatch { batch, count };
    assert_eq!(c.run(&alice, seal(0, 2)), Err("not_operator"));
    assert_eq!(c.run(&op, seal(1, 2)), Err("not_next_batch"));
    assert_eq!(c.run(&op, seal(0, 0)), Err("bad_batch_size"));
    assert_eq!(c.run(&op, seal(0, 4)), Err("bad_batch_size"));
    c.run(&op, seal(0, 2)).unwrap();
    assert_eq!(c.run(&op, seal(0, 1)), Err("not_next_batch"));
    assert_eq!(c.run(&op, seal(1, 2)), Err("bad_batch_size"));
    c.run(&op, seal(1, 1)).unwrap();
    let b = c.bridge().batch(0).unwrap().clone();
    assert_eq!((b.first, b.count), (0, 2));
    let tree = c.bridge().batch_tree(0).unwrap();
    assert_eq!(tree.root(), b.root.0);
    for n in 0..2u64 {
        let w = c.bridge().withdrawal(n).unwrap();
        assert_eq!(w.batch, Some(0));
        let leaf = tree::leaf(&w.id.0, &w.to, w.amount);
        assert!(tree::verify(
            &tree.proof(n as usize).unwrap(),
            &b.root.0,
            &leaf
        ));
    }
    assert_eq!(c.bridge().withdrawal(2).unwrap().batch, Some(1));
}

#[test]
fn a_release_is_recorded_once_and_only_for_a_sealed_withdrawal() {
    let mut c = Center::new();
    let (alice, op) = (demo_key("alice"), demo_key("operator"));
    c.run(&alice, withdraw(10 * MLK)).unwrap();
    c.run(&alice, withdraw(10 * MLK)).unwrap();
    c.run(&op, BridgeAction::SealBatch { batch: 0, count: 1 })
        .unwrap();
    let release = |withdrawal, n| BridgeAction::ConfirmRelease {
        withdrawal,
        main_tx: Hash([n; 32]),
    };
    assert_eq!(c.run(&op, release(1, 1)), Err("not_sealed"));
    assert_eq!(c.run(&op, release(2, 1)), Err("unknown_withdrawal"));
    assert_eq!(c.run(&alice, release(0, 1)), Err("not_operator"));
    c.run(&op, release(0, 1)).unwrap();
    assert_eq!(c.run(&op, release(0, 2)), Err("already_released"));
    assert_eq!(
        c.bridge().withdrawal(0).unwrap().released,
        Some(Hash([1; 32]))
    );
}

#[test]
fn a_deposit_is_credited_once_and_never_beyond_what_left() {
    let mut c = Center::new();
    let (alice, op) = (demo_key("alice"), demo_key("operator"));
    let dave = demo_key("dave-on-the-main-chain").address();
    let milk = Hash(*dave.as_bytes());
    assert_eq!(
        c.run(&op, deposit(1, milk, MLK)),
        Err("deposits_exceed_outflow")
    );
    c.run(&alice, withdraw(100 * MLK)).unwrap();
    let supply = c.supply();
    assert_eq!(
        c.run(&alice, deposit(1, milk, 40 * MLK)),
        Err("not_operator")
    );
    c.run(&op, deposit(1, milk, 40 * MLK)).unwrap();
    assert_eq!(c.mlk(&dave), 40 * MLK);
    assert_eq!(c.supply(), supply + 40 * MLK);
    assert_eq!(
        c.run(&op, deposit(1, milk, 40 * MLK)),
        Err("deposit_recorded")
    );
    assert_eq!(
        c.run(&op, deposit(2, milk, 60 * MLK + 1)),
        Err("deposits_exceed_outflow")
    );
    assert_eq!(c.run(&op, deposit(2, milk, 0)), Err("zero_amount"));
    c.run(&op, deposit(2, milk, 60 * MLK)).unwrap();
    assert_eq!(c.mlk(&dave), 100 * MLK);
}

#[test]
fn a_deposit_naming_no_usable_key_is_held_then_refunded_once_as_a_withdrawal() {
    let mut c = Center::new();
    let (alice, op) = (demo_key("alice"), demo_key("operator"));
    c.run(&alice, withdraw(100 * MLK)).unwrap();
    // Not a point on the curve: no key could ever spend from it.
    let bad = (0u8..)
        .map(|i| Hash([i; 32]))
        .find(|h| Address::from_bytes(h.0).is_err())
        .unwrap();
    let supply = c.supply();
    c.run(&op, deposit(3, bad, 30 * MLK)).unwrap();
    assert_eq!(c.supply(), supply, "a held deposit mints nothing");
    assert_eq!(c.bridge().totals().held_total, Amount::new(30 * MLK));
    let key = milk_core::bridge::DepositKey {
        tx: Hash([3; 32]),
        log_index: 3,
    };
    assert_eq!(
        c.bridge().deposit(&key).unwrap().status,
        DepositStatus::Held
    );
    let refund = || BridgeAction::RefundDeposit {
        main_tx: Hash([3; 32]),
        log_index: 3,
    };
    assert_eq!(c.run(&alice, refund()), Err("not_operator"));
    c.run(&op, refund()).unwrap();
    assert_eq!(
        c.bridge().deposit(&key).unwrap().status,
        DepositStatus::Refunded { withdrawal: 1 }
    );
    let w = c.bridge().withdrawal(1).unwrap();
    assert_eq!(
        (w.to, w.amount, w.fee, w.refund),
        (to(), Amount::new(30 * MLK), Amount::ZERO, true)
    );
    assert_eq!(c.run(&op, refund()), Err("not_held"));
    assert_eq!(c.bridge().totals().held_total, Amount::ZERO, "refunded");
    let unknown = BridgeAction::RefundDeposit {
        main_tx: Hash([9; 32]),
        log_index: 3,
    };
    assert_eq!(c.run(&op, unknown), Err("unknown_deposit"));
    assert_eq!(c.supply(), supply);
}

#[test]
fn tica_changes_the_policy_within_its_own_consistency() {
    let mut c = Center::new();
    let (alice, op) = (demo_key("alice"), demo_key("operator"));
    let policy = |minimum| BridgePolicy {
        fee: Amount::new(2 * MLK),
        minimum: Amount::new(minimum),
        daily_limit: Amount::new(50 * MLK),
    };
    let set = |p| BridgeAction::SetBridgePolicy { policy: p };
    assert_eq!(c.run(&alice, set(policy(MLK))), Err("not_operator"));
    assert_eq!(c.run(&op, set(policy(51 * MLK))), Err("bad_policy"));
    c.run(&op, set(policy(MLK))).unwrap();
    assert_eq!(c.run(&alice, withdraw(MLK)), Err("fee_above_max"));
    let agreed = |amount| BridgeAction::Withdraw {
        to: to(),
        amount: Amount::new(amount),
        max_fee: Amount::new(2 * MLK),
    };
    assert_eq!(c.run(&alice, agreed(51 * MLK)), Err("daily_limit"));
    c.run(&alice, agreed(MLK)).unwrap();
}

#[test]
fn the_bridge_state_restores_from_its_records() {
    let mut c = Center::new();
    let (alice, op) = (demo_key("alice"), demo_key("operator"));
    c.run(&alice, withdraw(100 * MLK)).unwrap();
    c.run(&op, BridgeAction::SealBatch { batch: 0, count: 1 })
        .unwrap();
    c.run(&op, deposit(1, Hash(*alice.address().as_bytes()), 10 * MLK))
        .unwrap();
    let g = Genesis::demo();
    let mut back = g.empty_state(g.center());
    back.restore(c.state.records()).unwrap();
    assert_eq!(back.records(), c.state.records());
    assert_eq!(back.bridge().unwrap().in_total(), Amount::new(10 * MLK));
}

#[derive(Debug, Clone)]
enum Op {
    Withdraw(u8, u32),
    Seal(u32),
    Release(u8),
    Deposit(u8, bool, u32),
    Refund(u8),
    NextDay,
    BurnForLzm(u8, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 1u32..3_000).prop_map(|(w, a)| Op::Withdraw(w, a)),
        (0u32..5).prop_map(Op::Seal),
        any::<u8>().prop_map(Op::Release),
        (any::<u8>(), any::<bool>(), 1u32..3_000).prop_map(|(n, ok, a)| Op::Deposit(n, ok, a)),
        any::<u8>().prop_map(Op::Refund),
        Just(Op::NextDay),
        (0u8..3, 1u32..50).prop_map(|(w, a)| Op::BurnForLzm(w, a)),
    ]
}

fn apply(c: &mut Center, op: &Op, bad: Hash) -> Result<(), &'static str> {
    let opk = demo_key("operator");
    let users = ["alice", "bob", "carol"];
    match *op {
        Op::Withdraw(w, a) => c.run(&demo_key(users[w as usize]), withdraw(u128::from(a) * MLK)),
        Op::Seal(n) => c.run(
            &opk,
            BridgeAction::SealBatch {
                batch: c.bridge().next_batch(),
                count: n,
            },
        ),
        Op::Release(n) => c.run(
            &opk,
            BridgeAction::ConfirmRelease {
                withdrawal: u64::from(n % 8),
                main_tx: Hash([n; 32]),
            },
        ),
        Op::Deposit(n, ok, a) => {
            let milk = if ok {
                Hash(*demo_key("alice").address().as_bytes())
            } else {
                bad
            };
            c.run(&opk, deposit(n % 16, milk, u128::from(a) * MLK))
        }
        Op::Refund(n) => c.run(
            &opk,
            BridgeAction::RefundDeposit {
                main_tx: Hash([n % 16; 32]),
                log_index: u64::from(n % 16),
            },
        ),
        Op::NextDay => {
            c.now += DAY_MS;
            Ok(())
        }
        Op::BurnForLzm(w, a) => {
            let amount = Amount::new(u128::from(a) * MLK);
            let burn = milk_core::membership::action::MembershipAction::BurnForLzm { amount };
            c.run_action(&demo_key(users[w as usize]), Action::Membership(burn))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mlk_is_genesis_less_what_left_plus_what_was_credited(ops in prop::collection::vec(op(), 1..60)) {
        let mut c = Center::new();
        let genesis = c.supply();
        let bad = (0u8..).map(|i| Hash([i; 32])).find(|h| Address::from_bytes(h.0).is_err()).unwrap();
        let mut for_lzm = 0;
        for op in &ops {
            if let (Op::BurnForLzm(_, a), Ok(())) = (op, apply(&mut c, op, bad)) {
                for_lzm += u128::from(*a) * MLK;
            }
            let b = c.bridge();
            let withdrawn: u128 = b.withdrawals_from(0).filter(|(_, w)| !w.refund).map(|(_, w)| w.amount.units()).sum();
            let credited: u128 = b.deposits().filter(|(_, d)| d.status == DepositStatus::Credited).map(|(_, d)| d.amount.units()).sum();
            prop_assert_eq!(c.supply(), genesis - withdrawn - for_lzm + credited);
            prop_assert_eq!(c.state.burned(&mlk()).units(), withdrawn + for_lzm, "every burn counted");
            prop_assert!(b.in_total() <= b.out_total());
            let released: u128 = b.withdrawals_from(0).filter(|(_, w)| w.released.is_some()).map(|(_, w)| w.amount.units()).sum();
            prop_assert_eq!(b.released_total().units(), released);
            // Batches tile the sealed withdrawals, in order, each sealed once.
            let mut next = 0;
            for (n, batch) in b.batches() {
                prop_assert_eq!(batch.first, next);
                for (_, w) in b.withdrawals_from(batch.first).take(batch.count as usize) {
                    prop_assert_eq!(w.batch, Some(n));
                }
                next += u64::from(batch.count);
            }
            for (n, w) in b.withdrawals_from(next) {
                prop_assert!(w.batch.is_none() && w.released.is_none(), "withdrawal {} unsealed", n);
            }
            let held: u128 = b.deposits().filter(|(_, d)| d.status == DepositStatus::Held).map(|(_, d)| d.amount.units()).sum();
            prop_assert_eq!(b.totals().held_total.units(), held);
            // Across both chains, with what was burned here for good (for LZM), the coin is
            // what genesis made: the supply report's sum.
            // (Outside the vault may be negative here, with no main chain to bound deposits.)
            let t = b.totals();
            let i = |a: Amount| a.units() as i128;
            let outside = i(t.released_total) - i(t.in_total);
            let in_transit = i(t.out_total) - i(t.released_total);
            let burned_for_good = i(c.state.burned(&mlk())) - (i(t.out_total) - i(t.refund_total));
            let across = c.supply() as i128 + outside + in_transit + held as i128 + burned_for_good;
            prop_assert_eq!(across, genesis as i128);
            check_indexes(&c)?;
        }
    }
}

/// Every withdrawal is found by its id and among its account's; deposits are numbered
/// 0, 1, … in the order recorded, each found by its number and, when credited, among its
/// account's; and no index names anything else.
fn check_indexes(c: &Center) -> Result<(), TestCaseError> {
    use milk_core::bridge::record;
    let b = c.bridge();
    let ours = |k: &Vec<u8>| record::NAMESPACES.contains(&k[0]);
    let records: BTreeMap<_, _> = c
        .state
        .records()
        .into_iter()
        .filter(|(k, _)| ours(k))
        .collect();
    let written: BTreeMap<_, _> = c
        .written
        .clone()
        .into_iter()
        .filter(|(k, _)| ours(k))
        .collect();
    prop_assert_eq!(
        &written,
        &records,
        "the blocks wrote every record the state has, and no other"
    );
    let mut expected = BTreeMap::new();
    for (n, w) in b.withdrawals_from(0) {
        expected.insert(record::withdrawal_id(&w.id), n.to_be_bytes().to_vec());
        let mut k = record::account(&w.account, record::ACCOUNT_WITHDRAWAL);
        k.extend_from_slice(&n.to_be_bytes());
        expected.insert(k, Vec::new());
    }
    let mut numbers: Vec<u64> = b.deposits().map(|(_, d)| d.number).collect();
    numbers.sort_unstable();
    prop_assert_eq!(numbers, (0..b.next_deposit()).collect::<Vec<_>>());
    for (key, d) in b.deposits() {
        let k = record::numbered(record::DEPOSIT_NUMBER, d.number);
        expected.insert(k, record::deposit_key_bytes(key));
        if let Some(a) = d.account() {
            let mut k = record::account(&a, record::ACCOUNT_DEPOSIT);
            k.extend_from_slice(&d.number.to_be_bytes());
            expected.insert(k, Vec::new());
        }
    }
    let index = [
        record::WITHDRAWAL_ID,
        record::DEPOSIT_NUMBER,
        record::ACCOUNT,
    ];
    let found: BTreeMap<_, _> = (written.into_iter())
        .filter(|(k, _)| index.contains(&k[0]))
        .collect();
    prop_assert_eq!(found, expected);
    Ok(())
}
