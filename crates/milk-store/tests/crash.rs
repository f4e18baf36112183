//! Crash consistency of the real store: redb over a simulated disk that loses whatever was
//! not synced when the "power fails", at any write of any commit.

use milk_core::block::Block;
use milk_core::chain;
use milk_core::genesis::{DEMO_USERS, Genesis, demo_key};
use milk_core::mempool::{Mempool, PoolLimits, Share};
use milk_core::state::ChainState;
use milk_core::tx::TokenAction;
use milk_core::tx::{Action, Transaction};
use milk_core::{Amount, ChainId};
use milk_store::simdisk::SimDisk;
use milk_store::{ChainStore, RedbStore, StoreError};
use proptest::prelude::*;

/// The demo center chain, producing blocks of demo-user transfers.
struct Producer {
    state: ChainState,
    head: Block,
    mempool: Mempool,
    seqs: Vec<u64>,
    now: u64,
}

impl Producer {
    fn new() -> (Producer, milk_core::state::StateDelta) {
        let g = Genesis::demo();
        let (head, _) = g.genesis_block(g.center()).unwrap();
        let (state, delta) = g.initial_state(g.center()).unwrap();
        let now = g.genesis_time_ms;
        (
            Producer {
                state,
                head,
                mempool: Mempool::new(PoolLimits::new(1_000)),
                seqs: vec![0; DEMO_USERS.len()],
                now,
            },
            delta,
        )
    }

    fn next_block(
        &mut self,
        txs: usize,
        salt: u64,
    ) -> (
        Block,
        Vec<milk_core::tx::TxId>,
        milk_core::state::StateDelta,
    ) {
        self.now += 1_000;
        for i in 0..txs {
            let from = (i + salt as usize) % DEMO_USERS.len();
            let to = (from + 1) % DEMO_USERS.len();
            let key = demo_key(DEMO_USERS[from]);
            let tx = Transaction {
                chain: ChainId::center(),
                sender: key.address(),
                sequence: self.seqs[from],
                expires_at_ms: self.now + 60_000,
                action: Action::Token(TokenAction::Transfer {
                    to: demo_key(DEMO_USERS[to]).address(),
                    asset: "MLK".parse().unwrap(),
                    amount: Amount::new(1 + salt as u128 * 7 + i as u128),
                    memo: String::new(),
                }),
            };
            self.seqs[from] += 1;
            let standing = self.state.standing(&tx, Share::ORDINARY, 0);
            self.mempool
                .admit(tx.sign(&key).verify().unwrap(), &standing)
                .unwrap();
        }
        let (produced, rejected) = chain::produce(
            &mut self.state,
            &mut self.mempool,
            &self.head.header,
            self.now,
            &demo_key("operator"),
            1_000,
        );
        assert!(rejected.is_empty());
        let p = produced.unwrap();
        self.head = p.block.clone();
        (p.block, p.ids, p.delta)
    }
}

fn sorted_state(state: &ChainState) -> (Vec<String>, Vec<String>) {
    let mut b: Vec<String> = state
        .balances()
        .map(|(a, s, v)| format!("{a}/{s}={v}"))
        .collect();
    let mut s: Vec<String> = state.sequences().map(|(a, n)| format!("{a}={n}")).collect();
    b.sort();
    s.sort();
    (b, s)
}

fn snapshot_state(store: &RedbStore) -> (u64, (Vec<String>, Vec<String>)) {
    let snap = store
        .snapshot()
        .unwrap()
        .expect("a committed genesis at least");
    let g = Genesis::demo();
    let mut state = g.empty_state(g.center());
    state
        .restore(snap.records)
        .expect("stored state conserves supply");
    (snap.head.height, sorted_state(&state))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whenever the power fails, the reopened store holds an acknowledged prefix of the
    /// chain (plus, at most, the block whose commit was under way) and exactly the state
    /// that prefix produced.
    #[test]
    fn a_crash_at_any_write_leaves_a_committed_prefix(
        blocks in 1usize..6,
        crash_at in 1u64..80,
        survivors in any::<u64>(),
    ) {
        let disk = SimDisk::default();
        let store = RedbStore::with_backend(disk.clone()).unwrap();
        disk.crash_after(crash_at, survivors);

        let (mut producer, genesis_delta) = Producer::new();
        let mut states = vec![sorted_state(&producer.state)];
        let mut acked: Option<u64> = None;
        if store.commit(&producer.head, &[], &genesis_delta).is_ok() {
            acked = Some(0);
            for i in 0..blocks {
                let (block, ids, delta) = producer.next_block(1 + i * 3, i as u64);
                states.push(sorted_state(&producer.state));
                match store.commit(&block, &ids, &delta) {
                    Ok(()) => acked = Some(block.header.height),
                    Err(_) => break,
                }
            }
        }
        drop(store);
        // No crash happened: the run simply ended; the image is what was synced.
        let image = disk.platter();
        if image.is_empty() {
            prop_assert_eq!(acked, None);
            return Ok(());
        }
        let reopened = match RedbStore::with_backend(SimDisk::from_image(image)) {
            Ok(s) => s,
            Err(e) => {
                // Only a crash before the database file was first made whole may leave it
                // unopenable, and then nothing had been acknowledged.
                prop_assert_eq!(acked, None, "acknowledged data lost: {}", e);
                return Ok(());
            }
        };
        match reopened.head().unwrap() {
            None => prop_assert_eq!(acked, None),
            Some(_) => {
                let (height, state) = snapshot_state(&reopened);
                let acked = acked.map_or(-1, |h| h as i64);
                prop_assert!(height as i64 == acked || height as i64 == acked + 1,
                    "head {} but acknowledged {}", height, acked);
                prop_assert_eq!(&state, &states[height as usize]);
            }
        }
    }
}

#[test]
fn an_io_error_fails_the_commit_and_loses_nothing_committed() {
    let disk = SimDisk::default();
    let store = RedbStore::with_backend(disk.clone()).unwrap();
    let (mut producer, genesis_delta) = Producer::new();
    store.commit(&producer.head, &[], &genesis_delta).unwrap();
    let state_at_genesis = sorted_state(&producer.state);
    let (block, ids, delta) = producer.next_block(3, 1);
    disk.fail_after(2);
    assert!(store.commit(&block, &ids, &delta).is_err());
    drop(store);
    let image = disk.platter();
    let reopened = RedbStore::with_backend(SimDisk::from_image(image)).unwrap();
    assert_eq!(snapshot_state(&reopened), (0, state_at_genesis));
}

#[test]
fn blocks_round_trip_and_only_the_next_block_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("center.redb")).unwrap();
    assert!(store.head().unwrap().is_none());
    let (mut producer, genesis_delta) = Producer::new();
    let genesis = producer.head.clone();
    store.commit(&genesis, &[], &genesis_delta).unwrap();
    let (b1, ids1, d1) = producer.next_block(4, 0);
    store.commit(&b1, &ids1, &d1).unwrap();
    assert!(matches!(
        store.commit(&b1, &ids1, &d1),
        Err(StoreError::NotNext { head: 1, got: 1 })
    ));
    assert!(matches!(
        store.commit(&genesis, &[], &genesis_delta),
        Err(StoreError::NotNext { head: 1, got: 0 })
    ));
    assert_eq!(store.block(1).unwrap().unwrap(), b1);
    assert_eq!(store.head().unwrap().unwrap(), b1.header);
    let loc = store.tx_location(&b1.txs[2].tx.id()).unwrap().unwrap();
    assert_eq!((loc.height, loc.index), (1, 2));
    let alice = demo_key("alice").address();
    let (amounts, seq) = store.account(&alice, &["MLK".parse().unwrap()]).unwrap();
    assert_eq!(
        amounts[0],
        producer.state.balance(&alice, &"MLK".parse().unwrap())
    );
    assert_eq!(seq, producer.state.next_sequence(&alice));
    drop(store);
    // Reopening from the file gives back the same state.
    let store = RedbStore::open(&dir.path().join("center.redb")).unwrap();
    assert_eq!(snapshot_state(&store), (1, sorted_state(&producer.state)));
}

/// Reads share the state table between commits; one made after a commit sees it, with the
/// table already opened for reads before it.
#[test]
fn every_read_after_a_commit_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("center.redb")).unwrap();
    let (mut producer, genesis_delta) = Producer::new();
    store
        .commit(&producer.head.clone(), &[], &genesis_delta)
        .unwrap();
    let mlk = ["MLK".parse().unwrap()];
    let users: Vec<_> = DEMO_USERS.iter().map(|u| demo_key(u).address()).collect();
    for salt in 0..6 {
        for user in &users {
            let (amounts, sequence) = store.account(user, &mlk).unwrap();
            assert_eq!(amounts[0], producer.state.balance(user, &mlk[0]));
            assert_eq!(sequence, producer.state.next_sequence(user));
            let key = milk_core::state::record::balance(user, &mlk[0]);
            let units = store.record(&key).unwrap().map(|v| v.len());
            assert_eq!(units, (!amounts[0].is_zero()).then_some(16));
        }
        assert_eq!(
            store.supplies(&mlk).unwrap()[0],
            producer.state.supply(&mlk[0]).unwrap_or_default()
        );
        let (block, ids, delta) = producer.next_block(3, salt);
        store.commit(&block, &ids, &delta).unwrap();
    }
}

#[test]
fn the_transaction_index_rolls_over_epochs_and_finds_every_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.redb");
    let store = RedbStore::open(&path).unwrap().with_index_epoch(5);
    let (mut producer, genesis_delta) = Producer::new();
    store.commit(&producer.head, &[], &genesis_delta).unwrap();
    let mut all = Vec::new();
    for i in 0..8 {
        let (block, ids, delta) = producer.next_block(1 + i % 4, i as u64);
        store.commit(&block, &ids, &delta).unwrap();
        for (index, id) in ids.iter().enumerate() {
            all.push((*id, block.header.height, index as u32));
        }
    }
    let check = |store: &RedbStore| {
        for (id, height, index) in &all {
            let loc = store
                .tx_location(id)
                .unwrap()
                .expect("every committed id is found");
            assert_eq!((loc.height, loc.index), (*height, *index));
        }
        assert_eq!(store.tx_location(&milk_core::Hash::ZERO).unwrap(), None);
    };
    check(&store);
    drop(store);
    check(&RedbStore::open(&path).unwrap());
}
