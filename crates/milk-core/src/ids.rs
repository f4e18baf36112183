//! Names of chains and assets, validated once at the edge.

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Identifies one chain: `center` or a brand chain such as `skyway`.
///
/// 1 to 32 characters of `a-z`, `0-9` and `-`, starting with a letter. Every transaction
/// names its chain, and the name is part of what is signed, so a transaction can never be
/// replayed on another chain.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainId(String);

impl ChainId {
    /// The longest chain id, in bytes.
    pub const MAX_LEN: usize = 32;

    /// The center chain's id.
    pub fn center() -> ChainId {
        ChainId("center".to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ChainId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(ChainId(s.to_owned()))
        } else {
            Err(format!(
                "chain id {s:?} must be 1 to {} characters of a-z, 0-9 and '-', starting with a letter",
                Self::MAX_LEN
            ))
        }
    }
}

/// The ticker of an asset (`MLK`, `LZM`, `SKY`, …): 1 to 12 of `A-Z` and `0-9`, starting
/// with a letter.
///
/// Stored inline (no heap), so it is `Copy` and cheap to hash: balances are keyed by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    // Ordered by the text: unused bytes are zero, and zero sorts before every allowed byte.
    bytes: [u8; Symbol::MAX_LEN],
}

impl Symbol {
    /// The longest symbol, in bytes.
    pub const MAX_LEN: usize = 12;

    /// The symbol as text.
    pub fn as_str(&self) -> &str {
        let len = self
            .bytes
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(Self::MAX_LEN);
        std::str::from_utf8(&self.bytes[..len]).expect("validated ASCII on construction")
    }
}

impl FromStr for Symbol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            let mut bytes = [0u8; Self::MAX_LEN];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Ok(Symbol { bytes })
        } else {
            Err(format!(
                "asset symbol {s:?} must be 1 to {} characters of A-Z and 0-9, starting with a letter",
                Self::MAX_LEN
            ))
        }
    }
}

macro_rules! text_id_impls {
    ($t:ident, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.as_str())
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.str(self.as_str());
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let s = r.str($what, Self::MAX_LEN)?;
                s.parse().map_err(|reason| DecodeError::Invalid {
                    what: $what,
                    reason,
                })
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_id_impls!(ChainId, "chain id");
text_id_impls!(Symbol, "asset symbol");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!("center".parse::<ChainId>().is_ok());
        assert!("sky-way2".parse::<ChainId>().is_ok());
        for bad in ["", "Center", "2x", "a b", &"a".repeat(33)] {
            assert!(bad.parse::<ChainId>().is_err(), "{bad:?}");
        }
        assert!("MLK".parse::<Symbol>().is_ok());
        for bad in ["", "mlk", "1AB", "ABCDEFGHIJKLM", "A-B"] {
            assert!(bad.parse::<Symbol>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn symbols_order_and_print_as_text() {
        let mut v: Vec<Symbol> = ["SKY", "MLK", "MLKX", "A", "LZM"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        v.sort();
        let text: Vec<&str> = v.iter().map(Symbol::as_str).collect();
        assert_eq!(text, ["A", "LZM", "MLK", "MLKX", "SKY"]);
        assert_eq!(
            "ABCDEFGHIJKL".parse::<Symbol>().unwrap().to_string(),
            "ABCDEFGHIJKL"
        );
    }

    #[test]
    fn decoding_validates_like_parsing() {
        let mut w = Writer::new();
        w.str("Bad Chain");
        assert!(ChainId::from_bytes(&w.into_bytes()).is_err());
    }
}
