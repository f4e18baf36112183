//! The chain rules, tested as features: random streams of transactions (valid and not)
//! go through the mempool and block producer, and a simple reference model, the replaying
//! verifier and the conservation checks must all agree after every block.

use milk_core::block::Block;
use milk_core::chain::{self, BlockError, Verifier};
use milk_core::genesis::{Allocation, ChainKind, ChainSpec, Genesis, PartnerInfo};
use milk_core::mempool::{Mempool, MempoolError};
use milk_core::state::{AssetSpec, ChainState, MAX_TX_LIFETIME_MS, TxError};
use milk_core::tx::{Action, SignedTransaction, Transaction};
use milk_core::{Address, Amount, ChainId, Keypair, Symbol};
use proptest::prelude::*;
use std::collections::BTreeMap;

const T0: u64 = 1_800_000_000_000;

fn key(i: usize) -> Keypair {
    Keypair::from_label(&format!("rules-{i}"))
}

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

/// A brand chain with one mintable asset `PTS` (issuer = key 0) and a fixed-supply `FIX`.
fn genesis() -> Genesis {
    let chain: ChainId = "brand".parse().unwrap();
    let mut allocations = Vec::new();
    for i in 1..5 {
        for asset in ["PTS", "FIX"] {
            allocations.push(Allocation {
                label: format!("k{i}"),
                account: key(i).address(),
                asset: sym(asset),
                amount: Amount::new(1_000),
            });
        }
    }
    let producer = Keypair::from_label("producer").address();
    let center = ChainSpec {
        id: ChainId::center(),
        kind: ChainKind::Center,
        name: "center".into(),
        producer,
        partner: None,
        assets: vec![],
        allocations: vec![],
    };
    let brand = ChainSpec {
        id: chain,
        kind: ChainKind::Brand,
        name: "brand".into(),
        producer,
        partner: Some(PartnerInfo {
            name: "P".into(),
            sector: "s".into(),
        }),
        assets: vec![AssetSpec {
            symbol: sym("PTS"),
            name: "points".into(),
            decimals: 0,
            issuer: Some(key(0).address()),
        }],
        allocations,
    };
    let mut g = Genesis {
        network: "test".into(),
        genesis_time_ms: T0,
        operator: producer,
        chains: vec![center, brand],
    };
    // A second, fixed-supply asset lives on the same chain here, to test both kinds at once.
    g.chains[1].assets.push(AssetSpec {
        symbol: sym("FIX"),
        name: "fixed".into(),
        decimals: 0,
        issuer: None,
    });
    g
}

#[derive(Debug, Clone)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        fix: bool,
        amount: u128,
    },
    Mint {
        by: usize,
        to: usize,
        amount: u128,
    },
    Burn {
        from: usize,
        fix: bool,
        amount: u128,
    },
    /// Resend an earlier transaction exactly (a replay).
    Replay {
        back: usize,
    },
    /// Skip the sender's sequence ahead, or behind.
    SequenceSkew {
        from: usize,
        skew: i8,
    },
    Expired {
        from: usize,
    },
    Block,
}

fn arb_op() -> impl Strategy<Value = Op> {
    let k = 0usize..5;
    let amt = prop_oneof![1u128..300, 0u128..1, 900u128..3_000, Just(u128::MAX)];
    prop_oneof![
        6 => (k.clone(), k.clone(), any::<bool>(), amt.clone())
            .prop_map(|(from, to, fix, amount)| Op::Transfer { from, to, fix, amount }),
        2 => (k.clone(), k.clone(), amt.clone()).prop_map(|(by, to, amount)| Op::Mint { by, to, amount }),
        2 => (k.clone(), any::<bool>(), amt).prop_map(|(from, fix, amount)| Op::Burn { from, fix, amount }),
        1 => (0usize..20).prop_map(|back| Op::Replay { back }),
        1 => (k.clone(), -2i8..3).prop_map(|(from, skew)| Op::SequenceSkew { from, skew }),
        1 => k.prop_map(|from| Op::Expired { from }),
        2 => Just(Op::Block),
    ]
}

/// The reference model: plain maps and the rules written as directly as possible.
#[derive(Default)]
struct Model {
    balances: BTreeMap<(Address, Symbol), u128>,
    supply: BTreeMap<Symbol, u128>,
    sequences: BTreeMap<Address, u64>,
}

impl Model {
    fn apply(&mut self, tx: &Transaction, issuer: Address) -> bool {
        let next = self.sequences.get(&tx.sender).copied().unwrap_or(0);
        if tx.sequence != next {
            return false;
        }
        let bal =
            |m: &Model, a: &Address, s: &Symbol| m.balances.get(&(*a, *s)).copied().unwrap_or(0);
        let ok = match &tx.action {
            Action::Transfer {
                to, asset, amount, ..
            } => {
                let from = bal(self, &tx.sender, asset);
                if amount.units() == 0 || from < amount.units() {
                    false
                } else {
                    self.balances
                        .insert((tx.sender, *asset), from - amount.units());
                    let to_bal = bal(self, to, asset);
                    self.balances.insert((*to, *asset), to_bal + amount.units());
                    true
                }
            }
            Action::Mint { to, asset, amount } => {
                let supply = self.supply[asset];
                let allowed = amount.units() != 0 && tx.sender == issuer && asset.as_str() == "PTS";
                if !allowed || supply.checked_add(amount.units()).is_none() {
                    false
                } else {
                    self.supply.insert(*asset, supply + amount.units());
                    let to_bal = bal(self, to, asset);
                    self.balances.insert((*to, *asset), to_bal + amount.units());
                    true
                }
            }
            Action::Burn { asset, amount } => {
                let from = bal(self, &tx.sender, asset);
                if amount.units() == 0 || from < amount.units() {
                    false
                } else {
                    self.balances
                        .insert((tx.sender, *asset), from - amount.units());
                    *self.supply.get_mut(asset).unwrap() -= amount.units();
                    true
                }
            }
        };
        if ok {
            self.sequences.insert(tx.sender, next + 1);
        }
        ok
    }
}

struct Harness {
    genesis: Genesis,
    chain: ChainId,
    state: ChainState,
    mempool: Mempool,
    blocks: Vec<Block>,
    producer: Keypair,
    model: Model,
    next_seq: BTreeMap<usize, u64>,
    sent: Vec<SignedTransaction>,
    now: u64,
}

impl Harness {
    fn new() -> Harness {
        let genesis = genesis();
        let spec = genesis.chains[1].clone();
        let (block, state) = genesis.genesis_block(&spec).unwrap();
        let mut model = Model::default();
        for (a, s, v) in state.balances() {
            model.balances.insert((*a, *s), v.units());
        }
        for (spec, supply) in state.assets() {
            model.supply.insert(spec.symbol, supply.units());
        }
        Harness {
            chain: spec.id.clone(),
            genesis,
            state,
            mempool: Mempool::new(10_000, 64),
            blocks: vec![block],
            producer: Keypair::from_label("producer"),
            model,
            next_seq: BTreeMap::new(),
            sent: Vec::new(),
            now: T0 + 1,
        }
    }

    fn tx(
        &mut self,
        from: usize,
        action: Action,
        seq: Option<u64>,
        expires_at_ms: u64,
    ) -> SignedTransaction {
        let s = self.next_seq.entry(from).or_insert(0);
        let sequence = seq.unwrap_or(*s);
        if seq.is_none() {
            *s += 1;
        }
        Transaction {
            chain: self.chain.clone(),
            sender: key(from).address(),
            sequence,
            expires_at_ms,
            action,
        }
        .sign(&key(from))
    }

    fn submit(&mut self, signed: SignedTransaction) {
        self.sent.push(signed.clone());
        let verified = signed.verify().expect("test signs correctly");
        // Admission only refuses what the pool cannot hold; validity is decided in the block.
        match self.mempool.admit(verified) {
            Ok(()) | Err(MempoolError::Duplicate) => {}
            Err(e) => panic!("unexpected mempool refusal: {e}"),
        }
    }

    fn block(&mut self) {
        self.now += 1_000;
        let parent = self.blocks.last().unwrap().header.clone();
        let (produced, _rejected) = chain::produce(
            &mut self.state,
            &mut self.mempool,
            &parent,
            self.now,
            &self.producer,
            5_000,
        );
        let issuer = key(0).address();
        if let Some(p) = produced {
            for tx in &p.block.txs {
                assert!(
                    self.model.apply(&tx.tx, issuer),
                    "state applied what the model refuses: {:?}",
                    tx.tx
                );
            }
            self.blocks.push(p.block);
        }
        self.state.check_conservation().unwrap();
        // The model and the state agree on every balance and supply.
        for ((a, s), v) in &self.model.balances {
            assert_eq!(self.state.balance(a, s).units(), *v);
        }
        for (s, v) in &self.model.supply {
            assert_eq!(self.state.supply(s).unwrap().units(), *v);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Supply is conserved, only authorized mints and burns change it, nothing is applied
    /// twice, and a replaying verifier accepts exactly the chain that was produced.
    #[test]
    fn random_streams_conserve_supply_and_replay_exactly(ops in prop::collection::vec(arb_op(), 1..120)) {
        let mut h = Harness::new();
        let exp = T0 + 3_600_000;
        for op in ops {
            match op {
                Op::Transfer { from, to, fix, amount } => {
                    let asset = sym(if fix { "FIX" } else { "PTS" });
                    let tx = h.tx(from, Action::Transfer { to: key(to).address(), asset, amount: Amount::new(amount), memo: "gift".into() }, None, exp);
                    h.submit(tx);
                }
                Op::Mint { by, to, amount } => {
                    let tx = h.tx(by, Action::Mint { to: key(to).address(), asset: sym("PTS"), amount: Amount::new(amount) }, None, exp);
                    h.submit(tx);
                }
                Op::Burn { from, fix, amount } => {
                    let asset = sym(if fix { "FIX" } else { "PTS" });
                    let tx = h.tx(from, Action::Burn { asset, amount: Amount::new(amount) }, None, exp);
                    h.submit(tx);
                }
                Op::Replay { back } => {
                    if let Some(old) = h.sent.iter().rev().nth(back).cloned() {
                        h.submit(old);
                    }
                }
                Op::SequenceSkew { from, skew } => {
                    let base = *h.next_seq.get(&from).unwrap_or(&0) as i64;
                    let seq = (base + i64::from(skew)).max(0) as u64;
                    let tx = h.tx(from, Action::Burn { asset: sym("PTS"), amount: Amount::new(1) }, Some(seq), exp);
                    h.submit(tx);
                }
                Op::Expired { from } => {
                    let tx = h.tx(from, Action::Burn { asset: sym("PTS"), amount: Amount::new(1) }, Some(0), T0);
                    h.submit(tx);
                }
                Op::Block => h.block(),
            }
        }
        h.block();

        // Every transaction in the chain is distinct: none was applied twice.
        let mut ids = std::collections::HashSet::new();
        for b in &h.blocks {
            for tx in &b.txs {
                prop_assert!(ids.insert(tx.tx.id()), "applied twice");
            }
        }
        // The verifier replays the produced chain to the same state.
        let mut v = Verifier::start(&h.genesis, &h.chain, &h.blocks[0]).unwrap();
        for b in &h.blocks[1..] {
            v.apply(b).unwrap();
        }
        prop_assert_eq!(v.head(), &h.blocks.last().unwrap().header);
        for ((a, s), val) in &h.model.balances {
            prop_assert_eq!(v.state().balance(a, s).units(), *val);
        }
    }
}

fn one_block_chain() -> Harness {
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    for i in 1..4 {
        let tx = h.tx(
            i,
            Action::Transfer {
                to: key(4).address(),
                asset: sym("PTS"),
                amount: Amount::new(5),
                memo: String::new(),
            },
            None,
            exp,
        );
        h.submit(tx);
    }
    h.block();
    assert_eq!(h.blocks.len(), 2);
    h
}

fn verify_all(h: &Harness, blocks: &[Block]) -> Result<(), BlockError> {
    let mut v = Verifier::start(&h.genesis, &h.chain, &h.blocks[0]).unwrap();
    blocks.iter().try_for_each(|b| v.apply(b))
}

#[test]
fn verifier_names_each_kind_of_tampering() {
    let h = one_block_chain();
    let good = h.blocks[1].clone();
    assert_eq!(verify_all(&h, std::slice::from_ref(&good)), Ok(()));

    let mut b = good.clone();
    b.header.height = 5;
    assert!(matches!(
        verify_all(&h, &[b]),
        Err(BlockError::WrongHeight { .. })
    ));

    let mut b = good.clone();
    b.header.prev_hash = milk_core::Hash::ZERO;
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::PrevHashMismatch));

    let mut b = good.clone();
    b.header.time_ms = T0 - 1;
    assert!(matches!(
        verify_all(&h, &[b]),
        Err(BlockError::TimeWentBack { .. })
    ));

    let mut b = good.clone();
    b.signature.0[0] ^= 1;
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::BadSignature));

    // A transaction changed after sealing: the Merkle root no longer matches.
    let mut b = good.clone();
    b.txs[0].signature.0[5] ^= 1;
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::TxRootMismatch));

    // A producer who re-seals a block with a forged transaction is caught by its signature.
    let mut b = good.clone();
    b.txs[0].signature.0[5] ^= 1;
    b.header.tx_root = b.computed_tx_root();
    let b = Block::seal(b.header, b.txs, &h.producer);
    assert_eq!(
        verify_all(&h, &[b]),
        Err(BlockError::InvalidTx {
            index: 0,
            reason: milk_core::tx::VerifyError::BadSignature
        })
    );

    // A producer who lies about the resulting state is caught by replay.
    let mut b = good.clone();
    b.header.state_root = milk_core::Hash::ZERO;
    let b = Block::seal(b.header, b.txs, &h.producer);
    assert_eq!(verify_all(&h, &[b]), Err(BlockError::StateRootMismatch));

    // A block signed by someone else.
    let mut b = good;
    let other = Keypair::from_label("intruder");
    b.header.producer = other.address();
    let b = Block::seal(b.header, b.txs, &other);
    assert!(matches!(
        verify_all(&h, &[b]),
        Err(BlockError::WrongProducer { .. })
    ));
}

#[test]
fn each_bad_transaction_gets_its_own_error_and_changes_nothing() {
    let g = genesis();
    let (_, state) = g.genesis_block(&g.chains[1]).unwrap();
    let now = T0 + 10;
    let tx = |from: usize, seq: u64, exp: u64, action: Action| Transaction {
        chain: "brand".parse().unwrap(),
        sender: key(from).address(),
        sequence: seq,
        expires_at_ms: exp,
        action,
    };
    let pay = |amount: u128| Action::Transfer {
        to: key(2).address(),
        asset: sym("PTS"),
        amount: Amount::new(amount),
        memo: String::new(),
    };
    let exp = now + 1_000;
    let cases: Vec<(Transaction, &str)> = vec![
        (
            Transaction {
                chain: ChainId::center(),
                ..tx(1, 0, exp, pay(1))
            },
            "wrong_chain",
        ),
        (tx(1, 0, now, pay(1)), "expired"),
        (
            tx(1, 0, now + MAX_TX_LIFETIME_MS + 1, pay(1)),
            "expiry_too_far",
        ),
        (tx(1, 1, exp, pay(1)), "sequence_gap"),
        (tx(1, 0, exp, pay(0)), "zero_amount"),
        (tx(1, 0, exp, pay(1_001)), "insufficient_balance"),
        (
            tx(
                1,
                0,
                exp,
                Action::Burn {
                    asset: sym("NOPE"),
                    amount: Amount::new(1),
                },
            ),
            "unknown_asset",
        ),
        (
            tx(
                1,
                0,
                exp,
                Action::Mint {
                    to: key(1).address(),
                    asset: sym("PTS"),
                    amount: Amount::new(1),
                },
            ),
            "not_issuer",
        ),
        (
            tx(
                0,
                0,
                exp,
                Action::Mint {
                    to: key(1).address(),
                    asset: sym("PTS"),
                    amount: Amount::MAX,
                },
            ),
            "overflow",
        ),
    ];
    for (t, code) in cases {
        let mut s = state.clone();
        let err = s.apply(&t, now).unwrap_err();
        assert_eq!(err.code(), code, "{t:?}");
        assert_eq!(s.take_delta(), Default::default(), "{code} changed state");
    }
    // A replay: the same transaction applied a second time.
    let mut s = state.clone();
    let t = tx(1, 0, exp, pay(1));
    s.apply(&t, now).unwrap();
    assert!(matches!(
        s.apply(&t, now),
        Err(TxError::SequenceUsed {
            expected: 1,
            got: 0
        })
    ));
}

#[test]
fn out_of_order_arrivals_still_apply_in_sequence() {
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let txs: Vec<_> = (0..3)
        .map(|_| {
            h.tx(
                1,
                Action::Burn {
                    asset: sym("PTS"),
                    amount: Amount::new(1),
                },
                None,
                exp,
            )
        })
        .collect();
    for t in txs.into_iter().rev() {
        h.submit(t);
    }
    h.block();
    assert_eq!(h.blocks[1].txs.len(), 3);
    assert_eq!(h.state.next_sequence(&key(1).address()), 3);
}

#[test]
fn the_mempool_is_bounded() {
    let mut pool = Mempool::new(3, 2);
    let mut h = Harness::new();
    let exp = T0 + 3_600_000;
    let mut t = |from| {
        h.tx(
            from,
            Action::Burn {
                asset: sym("PTS"),
                amount: Amount::new(1),
            },
            None,
            exp,
        )
        .verify()
        .unwrap()
    };
    let a = t(1);
    pool.admit(a.clone()).unwrap();
    assert_eq!(pool.admit(a), Err(MempoolError::Duplicate));
    pool.admit(t(1)).unwrap();
    assert_eq!(pool.admit(t(1)), Err(MempoolError::SenderFull(2)));
    pool.admit(t(2)).unwrap();
    assert_eq!(pool.admit(t(3)), Err(MempoolError::Full(3)));
}

#[test]
fn persisted_records_restore_the_same_state_and_malformed_ones_are_refused() {
    let mut h = one_block_chain();
    h.block();
    let records = h.state.records();
    let spec = &h.genesis.chains[1];
    let mut restored = ChainState::new(spec.id.clone(), spec.assets.clone());
    restored.restore(records.clone()).unwrap();
    assert_eq!(restored.records(), records);

    let fresh = || ChainState::new(spec.id.clone(), spec.assets.clone());
    let mut bad_value = records.clone();
    bad_value[0].1.pop();
    assert!(
        fresh()
            .restore(bad_value)
            .unwrap_err()
            .contains("malformed")
    );
    let unknown_namespace = vec![(vec![0xee, 1, 2], vec![0u8; 16])];
    assert!(
        fresh()
            .restore(unknown_namespace)
            .unwrap_err()
            .contains("malformed")
    );
    // A lost balance record breaks conservation, and restoring says so.
    let balance_key = records
        .iter()
        .position(|(k, _)| k[0] == milk_core::state::record::BALANCE)
        .unwrap();
    let mut missing = records.clone();
    missing.remove(balance_key);
    assert!(fresh().restore(missing).is_err());
}
