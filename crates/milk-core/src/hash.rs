//! SHA-256 digests with domain separation.
//!
//! Every hash the platform computes starts with a short domain tag (`milk/tx/v1`, …) so a
//! digest of one kind of value can never be presented as a digest of another.

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;

/// The id of a transaction: the domain-separated hash of its unsigned encoding. It is also
/// the message that is signed, so it cannot be changed without the signer's key.
pub type TxId = Hash;

/// A 32-byte SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash: the parent of every genesis block.
    pub const ZERO: Hash = Hash([0; 32]);

    /// The digest of `parts`, in order, under a domain tag.
    pub fn domain(tag: &str, parts: &[&[u8]]) -> Hash {
        let mut h = Sha256::new();
        h.update((tag.len() as u8).to_be_bytes());
        h.update(tag.as_bytes());
        for p in parts {
            h.update(p);
        }
        Hash(h.finalize().into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Hash, String> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|e| format!("not a 32-byte hex hash: {e}"))?;
        Ok(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", &self.to_hex()[..16])
    }
}

impl Encode for Hash {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for Hash {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Hash(r.array()?))
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}
