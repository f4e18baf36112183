//! Main-chain addresses and the keccak hashing the main chain's contracts use.
//!
//! An address is written as `0x` and 40 hex digits whose letters' case carries the EIP-55
//! checksum, so a mistyped digit is caught before MLK leaves. On the center chain it is its
//! 20 bytes; in JSON, its checksummed text.

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use std::fmt;
use std::str::FromStr;

/// Keccak-256, the main chain's hash.
pub fn keccak(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// An address on the main chain (20 bytes), never the zero address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MainAddress([u8; 20]);

/// Why a main-chain address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not `0x` and 40 hex digits.
    #[error("a main-chain address is 0x and 40 hex digits")]
    Malformed,
    /// All one case: no checksum to check.
    #[error("the address carries no checksum: write it as your wallet shows it (mixed case)")]
    NoChecksum,
    /// The checksum does not match: a digit is wrong.
    #[error("the address's checksum does not match: a character is wrong")]
    BadChecksum,
    /// The zero address, where MLK would be lost.
    #[error("the zero address cannot receive MLK")]
    Zero,
}

impl MainAddress {
    /// The address of these bytes; the zero address is refused.
    pub fn from_bytes(bytes: [u8; 20]) -> Result<MainAddress, AddressError> {
        match bytes == [0; 20] {
            true => Err(AddressError::Zero),
            false => Ok(MainAddress(bytes)),
        }
    }

    /// The raw 20 bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The address's EIP-55 text: each hex letter upper case where the keccak of the
    /// lower-case hex has a nibble of 8 or more.
    pub fn checksummed(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak(&[lower.as_bytes()]);
        let digits = lower.char_indices().map(|(i, c)| {
            let nibble = (hash[i / 2] >> (4 * (1 - i % 2))) & 0xf;
            if nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        });
        format!("0x{}", digits.collect::<String>())
    }
}

impl FromStr for MainAddress {
    type Err = AddressError;

    /// Parses an address, its checksum required (an address of digits only has no letters
    /// to carry one, and needs none).
    fn from_str(text: &str) -> Result<MainAddress, AddressError> {
        let digits = text.strip_prefix("0x").ok_or(AddressError::Malformed)?;
        if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AddressError::Malformed);
        }
        let letters = || digits.bytes().filter(u8::is_ascii_alphabetic);
        let one_case =
            letters().all(|b| b.is_ascii_lowercase()) || letters().all(|b| b.is_ascii_uppercase());
        if one_case && letters().next().is_some() {
            return Err(AddressError::NoChecksum);
        }
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| AddressError::Malformed)?;
        let address = MainAddress::from_bytes(bytes)?;
        match address.checksummed() == text {
            true => Ok(address),
            false => Err(AddressError::BadChecksum),
        }
    }
}

impl fmt::Display for MainAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.checksummed())
    }
}

impl fmt::Debug for MainAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MainAddress({self})")
    }
}

impl Encode for MainAddress {
    fn encode(&self, w: &mut Writer) {
        w.fixed(&self.0);
    }
}

impl Decode for MainAddress {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        MainAddress::from_bytes(r.array()?).map_err(|e| DecodeError::Invalid {
            what: "main-chain address",
            reason: e.to_string(),
        })
    }
}

impl Serialize for MainAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.checksummed())
    }
}

impl<'de> Deserialize<'de> for MainAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // EIP-55's own examples.
    const GOOD: [&str; 4] = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn checksummed_addresses_parse_and_print_back() {
        for text in GOOD {
            let a: MainAddress = text.parse().unwrap();
            assert_eq!(a.to_string(), text);
            assert_eq!(MainAddress::from_bytes_checked(&a.to_bytes()), Ok(a));
        }
    }

    #[test]
    fn a_wrong_case_missing_checksum_or_bad_shape_is_refused() {
        let good = GOOD[0];
        let parse = |t: &str| t.parse::<MainAddress>();
        assert_eq!(
            parse(&good.replace("aA", "Aa")),
            Err(AddressError::BadChecksum)
        );
        assert_eq!(parse(&good.to_lowercase()), Err(AddressError::NoChecksum));
        assert_eq!(parse(&good[2..]), Err(AddressError::Malformed));
        assert_eq!(parse(&good[..41]), Err(AddressError::Malformed));
        assert_eq!(parse(&good.replace('5', "g")), Err(AddressError::Malformed));
        assert_eq!(
            parse(&format!("0x{}", "0".repeat(40))),
            Err(AddressError::Zero)
        );
        let digits = format!("0x{}", "1".repeat(40));
        assert!(parse(&digits).is_ok(), "digits only carry no checksum");
    }

    #[test]
    fn the_zero_address_does_not_decode() {
        let bytes = [0u8; 20];
        assert!(MainAddress::from_bytes_checked(&bytes).is_err());
    }

    impl MainAddress {
        fn to_bytes(self) -> Vec<u8> {
            Encode::to_bytes(&self)
        }
        fn from_bytes_checked(bytes: &[u8]) -> Result<MainAddress, DecodeError> {
            Decode::from_bytes(bytes)
        }
    }
}
