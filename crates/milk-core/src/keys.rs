//! Identities: Ed25519 keys, the addresses derived from them, and signature checks.
//!
//! An address *is* the 32-byte Ed25519 public key, so one key is one identity on every
//! chain and a signature can be checked from the address alone. Its printable form is
//! bech32m with the prefix `milk`, whose checksum catches any typo of up to four characters.
//!
//! **One signature rule** (ZIP-215, by `ed25519-zebra`): a signature is valid when
//! `[8][s]B = [8]R + [8][k]A`, with `s` canonical and `R`, `A` any encodings of curve points.
//! Single and batch checks accept exactly the same signatures, whatever a batch holds, so
//! admission, block production, `milk verify` and every replica give one answer. (A
//! cofactorless check would let a key's holder add a small-order point to `R`: a batch
//! could accept what a single check refuses.)

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use bech32::{Bech32m, Hrp, primitives::decode::CheckedHrpstring};
use ed25519_dalek::{Signer, SigningKey};
/// A public key ready for checks (its point decompressed once).
pub use ed25519_zebra::VerificationKey as VerifyingKey;
use ed25519_zebra::VerificationKeyBytes;
use rand::SeedableRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The human-readable prefix of printed addresses.
pub const ADDRESS_PREFIX: &str = "milk";

/// A public identity on every chain: an Ed25519 public key.
///
/// Text input ([`FromStr`], [`Address::from_bytes`]) is checked to be a usable key at once.
/// Addresses inside a decoded transaction are only 32 bytes until the transaction is
/// verified (`tx::verify_batch`), which checks every address it names; that keeps
/// the costly point decompression in the parallel verification step, once per key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 32]);

impl Address {
    /// An account nobody holds the key of: the first hash of `domain`, `parts` and a counter
    /// that is a valid curve point. Its discrete log is unknown, so no signature ever spends
    /// from it; only chain rules move what it holds (escrow, stakes, pools).
    pub fn unowned(domain: &str, parts: &[&[u8]]) -> Address {
        (0u32..)
            .find_map(|i| {
                let counter = i.to_be_bytes();
                let mut all: Vec<&[u8]> = parts.to_vec();
                all.push(&counter);
                Address::from_bytes(crate::Hash::domain(domain, &all).0).ok()
            })
            .expect("about half of all hashes are curve points")
    }

    /// Checks that `bytes` are a usable Ed25519 public key.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Address, String> {
        let address = Address(bytes);
        match decompress(&address) {
            Some(_) => Ok(address),
            None => Err("not a valid, non-weak Ed25519 public key".to_owned()),
        }
    }

    /// An address read back from a record the chain wrote itself, without checking the key
    /// again: it was checked when a verified transaction first named it, and decompressing
    /// it costs as much as a third of a signature check.
    pub fn from_stored(bytes: [u8; 32]) -> Address {
        Address(bytes)
    }

    /// The raw public key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The curve point behind an address, if it is a valid key that is not of small order
/// (a weak key could have signatures that match several messages).
pub fn decompress(address: &Address) -> Option<VerifyingKey> {
    let weak = ed25519_dalek::VerifyingKey::from_bytes(&address.0).map(|k| k.is_weak());
    match weak {
        Ok(false) => VerifyingKey::try_from(address.0).ok(),
        _ => None,
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(ADDRESS_PREFIX);
        let text = bech32::encode::<Bech32m>(hrp, &self.0).expect("32 bytes always encode");
        f.write_str(&text)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl FromStr for Address {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let checked = CheckedHrpstring::new::<Bech32m>(s)
            .map_err(|e| format!("{s:?} is not a milk address: {e}"))?;
        if checked.hrp().as_str() != ADDRESS_PREFIX {
            return Err(format!(
                "{s:?} is not a milk address: prefix must be {ADDRESS_PREFIX:?}"
            ));
        }
        let bytes: Vec<u8> = checked.byte_iter().collect();
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("{s:?} is not a milk address: wrong length"))?;
        Address::from_bytes(bytes).map_err(|e| format!("{s:?} is not a milk address: {e}"))
    }
}

impl Encode for Address {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for Address {
    /// Reads 32 bytes; whether they are a usable key is checked on verification.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Address(r.array()?))
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A 64-byte Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// The all-zero signature, used where there is no signer (the genesis block).
    pub const NONE: Signature = Signature([0; 64]);
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", hex::encode(&self.0[..8]))
    }
}

impl Encode for Signature {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for Signature {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Signature(r.array()?))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 64];
        hex::decode_to_slice(&s, &mut out).map_err(serde::de::Error::custom)?;
        Ok(Signature(out))
    }
}

/// A secret signing key and its address.
#[derive(Clone)]
pub struct Keypair {
    key: SigningKey,
    address: Address,
}

impl Keypair {
    /// The keypair of a 32-byte Ed25519 secret seed.
    pub fn from_secret(secret: [u8; 32]) -> Keypair {
        let key = SigningKey::from_bytes(&secret);
        let address = Address(key.verifying_key().to_bytes());
        Keypair { key, address }
    }

    /// A keypair derived from a label: for demos, tests and benchmarks only, never for value.
    pub fn from_label(label: &str) -> Keypair {
        Keypair::from_secret(crate::Hash::domain("milk/dev-key/v1", &[label.as_bytes()]).0)
    }

    /// The secret seed, for an encrypted keystore.
    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public identity.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.key.sign(message).to_bytes())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({})", self.address)
    }
}

/// Checks one signature.
pub fn verify(address: &Address, message: &[u8], signature: &Signature) -> bool {
    decompress(address).is_some_and(|key| verify_with(&key, message, signature))
}

/// Checks one signature against an already decompressed key.
pub fn verify_with(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    let sig = ed25519_zebra::Signature::from_bytes(&signature.0);
    key.verify(&sig, message).is_ok()
}

/// Checks many signatures at once and tells, for each, whether it is valid: exactly what
/// [`verify_with`] tells of each (the one rule, above).
///
/// A batch check costs about half as much per signature as single checks. When the batch
/// fails, each signature is checked on its own to find the bad ones. The batch's random
/// weights are drawn from a hash of everything in it (as Fiat–Shamir would), so the check is
/// deterministic and nobody can choose a batch to suit its weights.
pub fn verify_many(items: &[(&VerifyingKey, &[u8], &Signature)]) -> Vec<bool> {
    if items.is_empty() {
        return Vec::new();
    }
    let mut batch = ed25519_zebra::batch::Verifier::new();
    let mut transcript = Sha256::new_with_prefix(b"milk/batch-weights/v1");
    for (key, message, signature) in items {
        let key = VerificationKeyBytes::from(**key);
        transcript.update(key.as_ref());
        transcript.update(signature.0);
        transcript.update((message.len() as u64).to_be_bytes());
        transcript.update(message);
        let sig = ed25519_zebra::Signature::from_bytes(&signature.0);
        batch.queue((key, sig, *message));
    }
    let seed: [u8; 32] = transcript.finalize().into();
    if batch.verify(rand::rngs::StdRng::from_seed(seed)).is_ok() {
        return vec![true; items.len()];
    }
    items.iter().map(|(k, m, s)| verify_with(k, m, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_and_parse_with_a_checksum() {
        let kp = Keypair::from_label("alice");
        let text = kp.address().to_string();
        assert!(text.starts_with("milk1"), "{text}");
        assert_eq!(text.parse::<Address>(), Ok(kp.address()));
        // One changed character breaks the checksum.
        let mut bad = text.clone().into_bytes();
        let i = bad.len() - 3;
        bad[i] = if bad[i] == b'q' { b'p' } else { b'q' };
        assert!(String::from_utf8(bad).unwrap().parse::<Address>().is_err());
        // Another prefix is refused.
        let other =
            bech32::encode::<Bech32m>(Hrp::parse("btc").unwrap(), kp.address().as_bytes()).unwrap();
        assert!(other.parse::<Address>().is_err());
    }

    #[test]
    fn weak_keys_are_not_addresses() {
        // The identity point encodes as 1 followed by zeros: small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(Address::from_bytes(identity).is_err());
        // A y coordinate with no point on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        assert!(Address::from_bytes(off_curve).is_err());
    }

    #[test]
    fn batch_verification_agrees_with_single_checks() {
        let keys: Vec<Keypair> = (0..8)
            .map(|i| Keypair::from_label(&format!("k{i}")))
            .collect();
        let msgs: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let vkeys: Vec<VerifyingKey> = keys
            .iter()
            .map(|k| decompress(&k.address()).unwrap())
            .collect();
        let items = |sigs: &[Signature]| -> Vec<bool> {
            let v: Vec<_> = (0..8)
                .map(|i| (&vkeys[i], msgs[i].as_slice(), &sigs[i]))
                .collect();
            verify_many(&v)
        };
        assert_eq!(items(&sigs), vec![true; 8]);
        sigs[3].0[0] ^= 1;
        let mut expected = vec![true; 8];
        expected[3] = false;
        assert_eq!(items(&sigs), expected);
    }
}
