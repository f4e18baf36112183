//! A store's image carries the whole chain to another store: a replica that installs it has
//! the same blocks, index, state and meta entries, and a damaged image is refused whole.

use milk_core::chain;
use milk_core::codec::Encode;
use milk_core::genesis::{DEMO_USERS, Genesis, demo_key};
use milk_core::mempool::{Mempool, PoolLimits, Share};
use milk_core::tx::{Action, TokenAction, Transaction};
use milk_core::{Amount, ChainId};
use milk_store::{ChainStore, RedbStore, StoreImage};

/// A center chain of `blocks` blocks of transfers, committed to a fresh store with a meta
/// entry beside each block; returns the store and the ids of the last block.
fn chain_of(path: &std::path::Path, blocks: u64) -> (RedbStore, Vec<milk_core::tx::TxId>) {
    let g = Genesis::demo();
    let (mut head, _) = g.genesis_block(g.center()).unwrap();
    let (mut state, delta) = g.initial_state(g.center()).unwrap();
    let store = RedbStore::open(path).unwrap().with_index_epoch(3);
    store.commit(&head, &[], &delta).unwrap();
    let mut pool = Mempool::new(PoolLimits::new(100));
    let mut ids = Vec::new();
    for b in 0..blocks {
        let now = g.genesis_time_ms + 1_000 * (b + 1);
        for (i, user) in DEMO_USERS.iter().enumerate().take(2) {
            let key = demo_key(user);
            let tx = Transaction {
                chain: ChainId::center(),
                sender: key.address(),
                sequence: b,
                expires_at_ms: now + 60_000,
                action: Action::Token(TokenAction::Transfer {
                    to: demo_key(DEMO_USERS[(i + 1) % 2]).address(),
                    asset: "MLK".parse().unwrap(),
                    amount: Amount::new(1 + b as u128),
                    memo: String::new(),
                }),
            };
            let standing = state.standing(&tx, Share::ORDINARY, 0);
            pool.admit(tx.sign(&key).verify().unwrap(), &standing)
                .unwrap();
        }
        let operator = demo_key("operator");
        let (p, _) = chain::produce(&mut state, &mut pool, &head.header, now, &operator, 100);
        let p = p.unwrap();
        let applied = b.to_be_bytes();
        store
            .commit_with(&p.block, &p.ids, &p.delta, &[("applied", &applied)])
            .unwrap();
        head = p.block;
        ids = p.ids;
    }
    (store, ids)
}

#[test]
fn an_installed_image_is_the_same_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (a, last_ids) = chain_of(&dir.path().join("a.redb"), 7);
    let image = StoreImage::check(a.image().unwrap()).unwrap();
    assert_eq!(image.head, a.head().unwrap().unwrap());
    // Its state records, read before installing it, are the store's.
    let records: Vec<(Vec<u8>, Vec<u8>)> = (image.state().unwrap().into_iter())
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    let stored = a.snapshot().unwrap().unwrap().records;
    assert!(!records.is_empty());
    assert_eq!(
        records,
        stored
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect::<Vec<_>>()
    );

    // The receiving store already holds another, shorter chain: all of it is replaced.
    let (b, _) = chain_of(&dir.path().join("b.redb"), 2);
    b.install(&image).unwrap();
    assert_eq!(b.head().unwrap(), a.head().unwrap());
    for h in 0..=7 {
        assert_eq!(b.block_bytes(h).unwrap(), a.block_bytes(h).unwrap());
    }
    assert_eq!(
        b.snapshot().unwrap().unwrap().records,
        a.snapshot().unwrap().unwrap().records
    );
    assert_eq!(
        b.meta("applied").unwrap(),
        Some(6u64.to_be_bytes().to_vec())
    );
    for id in &last_ids {
        assert_eq!(b.tx_location(id).unwrap(), a.tx_location(id).unwrap());
        assert!(b.tx_location(id).unwrap().is_some());
    }
    let alice = demo_key(DEMO_USERS[0]).address();
    assert_eq!(b.history(&alice, None, 100).unwrap().len(), 14);
    assert_eq!(
        b.history(&alice, None, 100).unwrap(),
        a.history(&alice, None, 100).unwrap()
    );
}

/// Each block has the two users pay each other `height` base units of MLK: each has one
/// line for what it sent and one for what it received, newest first, read a page at a time.
#[test]
fn each_account_reads_its_own_history_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = chain_of(&dir.path().join("a.redb"), 3);
    let mlk: milk_core::Symbol = "MLK".parse().unwrap();
    let alice = demo_key(DEMO_USERS[0]).address();
    let lines = store.history(&alice, None, 100).unwrap();
    let heights: Vec<u64> = lines.iter().map(|l| l.height).collect();
    assert_eq!(heights, [3, 3, 2, 2, 1, 1]);
    for pair in lines.chunks(2) {
        let h = pair[0].height as u128;
        let mut changes: Vec<_> = pair.iter().flat_map(|l| l.changes.clone()).collect();
        changes.sort_by_key(|c| c.2);
        assert_eq!(
            changes,
            [(mlk, Amount::new(h), false), (mlk, Amount::new(h), true)]
        );
        assert!(pair[0].index > pair[1].index, "newest first within a block");
    }
    // The next page starts after the last line read.
    let page = store
        .history(&alice, Some((lines[1].height, lines[1].index)), 2)
        .unwrap();
    assert_eq!(page, lines[2..4]);
    // Nobody else's lines.
    let carol = demo_key(DEMO_USERS[2]).address();
    assert!(store.history(&carol, None, 100).unwrap().is_empty());
}

#[test]
fn a_damaged_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = chain_of(&dir.path().join("a.redb"), 3);
    let bytes = a.image().unwrap();
    // A flipped byte anywhere in a block below the head (outside its signature) breaks the
    // chain of hashes, the transactions' root or the encoding.
    let block = a.block_bytes(1).unwrap().unwrap();
    let start = bytes.windows(block.len()).position(|w| w == block).unwrap();
    let header = a.block(1).unwrap().unwrap().header.to_bytes().len();
    let signature = header..header + 64;
    for at in (0..block.len())
        .step_by(5)
        .filter(|at| !signature.contains(at))
    {
        let mut flipped = bytes.clone();
        flipped[start + at] ^= 0x55;
        assert!(StoreImage::check(flipped).is_err(), "byte {at} of block 1");
    }
    assert!(StoreImage::check(bytes[..bytes.len() / 2].to_vec()).is_err());
    assert!(StoreImage::check(b"not an image".to_vec()).is_err());
    // The store's own meta keys cannot be overwritten from outside.
    assert!(a.put_meta(&[("head", b"x")]).is_err());
}
