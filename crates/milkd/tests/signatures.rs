//! One signature rule everywhere: a signature crafted by its own key's holder, with a
//! small-order point added to `R`, gets one answer alone, in any batch, at admission, in
//! blocks and on replay. (Under a cofactorless batch with a strict single fallback, such a
//! transaction could be admitted and committed, and then every auditor's replay failed.)

mod support;

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use milk_core::chain::Verifier;
use milk_core::keys::{self, Keypair, Signature};
use milk_core::tx::{SignedTransaction, Transaction};
use milk_core::{ChainId, Hash};
use sha2::{Digest, Sha512};
use support::{Http, account, transfer};

const NOW: u64 = 1_900_000_000_000;
const LATER: u64 = NOW + 60_000;

/// Signs `message` as `key`'s holder can, with `R` moved by a point of order 8: valid under
/// the cofactored equation, refused by a cofactorless one.
fn sign_with_torsion(key: &Keypair, message: &[u8]) -> Signature {
    let expanded = Sha512::digest(key.secret());
    let lower: [u8; 32] = expanded[..32].try_into().unwrap();
    let a = Scalar::from_bytes_mod_order(clamp_integer(lower));
    let public = key.address();
    assert_eq!(
        (ED25519_BASEPOINT_POINT * a).compress().0,
        *public.as_bytes()
    );
    let nonce = Sha512::new()
        .chain_update(b"a chosen nonce")
        .chain_update(message);
    let r = Scalar::from_bytes_mod_order_wide(&nonce.finalize().into());
    let big_r = (ED25519_BASEPOINT_POINT * r + EIGHT_TORSION[1])
        .compress()
        .0;
    let challenge = Sha512::new()
        .chain_update(big_r)
        .chain_update(public.as_bytes())
        .chain_update(message);
    let k = Scalar::from_bytes_mod_order_wide(&challenge.finalize().into());
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&big_r);
    sig[32..].copy_from_slice(&s.to_bytes());
    Signature(sig)
}

fn crafted(tx: Transaction, key: &Keypair) -> SignedTransaction {
    let signature = sign_with_torsion(key, &tx.id().0);
    SignedTransaction { tx, signature }
}

#[test]
fn a_torsioned_signature_gets_one_answer_alone_and_in_every_batch() {
    let mallory = account(0);
    let message = b"pay bob";
    let sig = sign_with_torsion(&mallory, message);
    // A strict cofactorless check refuses it; that was the single-check fallback.
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(mallory.address().as_bytes()).unwrap();
    let strict = dalek.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig.0));
    assert!(strict.is_err());
    // The platform's one rule accepts it, alone and in any batch, wherever it stands.
    assert!(keys::verify(&mallory.address(), message, &sig));
    let honest: Vec<Keypair> = (1..8).map(account).collect();
    let msgs: Vec<Vec<u8>> = (1..8u8).map(|i| vec![i; 12]).collect();
    let sigs: Vec<Signature> = honest.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
    let vk = |k: &Keypair| keys::decompress(&k.address()).unwrap();
    let (mk, hk): (_, Vec<_>) = (vk(&mallory), honest.iter().map(vk).collect());
    for at in 0..=honest.len() {
        let mut items: Vec<_> = (0..honest.len())
            .map(|i| (&hk[i], msgs[i].as_slice(), &sigs[i]))
            .collect();
        items.insert(at, (&mk, message.as_slice(), &sig));
        assert_eq!(keys::verify_many(&items), vec![true; 8], "at {at}");
    }
    // A signature of another message is still refused, in a batch and alone.
    let items = vec![
        (&mk, b"pay carol".as_slice(), &sig),
        (&hk[0], msgs[0].as_slice(), &sigs[0]),
    ];
    assert_eq!(keys::verify_many(&items), vec![false, true]);
}

#[test]
fn a_torsioned_transfer_commits_and_the_chain_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let node = support::test_node(dir.path(), NOW, |_| {});
    let http = Http::new(&node.url()).with_token(support::OPERATOR_TOKEN);

    let (mallory, bob) = (account(0), account(1));
    // Several crafted transfers, alone and batched with honest ones.
    for sequence in 0..4 {
        let tx = transfer(
            &mallory,
            bob.address(),
            1 + sequence as u128,
            sequence,
            LATER,
        )
        .tx;
        let mut batch = vec![crafted(tx, &mallory)];
        batch.push(transfer(&account(2), bob.address(), 1, sequence, LATER));
        let r = http.submit("center", &batch, true).unwrap();
        for result in &r.results {
            assert_eq!(result.status, "committed", "{result:?}");
        }
    }
    // The replay every auditor runs accepts every block.
    let (_, genesis) = http.get("/v1/genesis");
    let genesis: milk_core::genesis::Genesis = serde_json::from_value(genesis).unwrap();
    let (_, raw) = http.get_bytes("/v1/chains/center/raw-blocks?from=0&limit=100");
    let blocks = milkd::api::decode_raw_blocks(&raw).unwrap();
    let mut v = Verifier::start(&genesis, &ChainId::center(), &blocks[0]).unwrap();
    for b in &blocks[1..] {
        v.apply(b).unwrap();
    }
    let (_, head) = http.get("/v1/chains/center");
    let head = Hash::from_hex(head["head"]["hash"].as_str().unwrap()).unwrap();
    assert_eq!(v.head().hash(), head);
    assert_eq!(http.account(&mallory.address(), "center", "MLK").1, 4);
}
