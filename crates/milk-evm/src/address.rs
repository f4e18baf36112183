//! Main-chain addresses as customers type them: `0x` and 40 hex digits whose letters' case
//! carries the EIP-55 checksum, so a mistyped digit is caught before MLK leaves.

use alloy::primitives::Address;

/// Why an address was refused.
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

/// Parses a main-chain address, its checksum required.
pub fn parse(text: &str) -> Result<Address, AddressError> {
    let digits = text.strip_prefix("0x").ok_or(AddressError::Malformed)?;
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::Malformed);
    }
    let letters = || digits.bytes().filter(u8::is_ascii_alphabetic);
    if letters().all(|b| b.is_ascii_lowercase()) || letters().all(|b| b.is_ascii_uppercase()) {
        // An address of digits only has no letters to carry a checksum, and needs none.
        if letters().next().is_some() {
            return Err(AddressError::NoChecksum);
        }
    }
    let address = Address::parse_checksummed(text, None).map_err(|_| AddressError::BadChecksum)?;
    match address.is_zero() {
        true => Err(AddressError::Zero),
        false => Ok(address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    #[test]
    fn a_checksummed_address_parses_and_prints_back() {
        assert_eq!(parse(GOOD).unwrap().to_checksum(None), GOOD);
    }

    #[test]
    fn a_wrong_case_missing_checksum_or_bad_shape_is_refused() {
        let flipped = GOOD.replace("aA", "Aa");
        assert_eq!(parse(&flipped), Err(AddressError::BadChecksum));
        assert_eq!(parse(&GOOD.to_lowercase()), Err(AddressError::NoChecksum));
        assert_eq!(parse(&GOOD[2..]), Err(AddressError::Malformed));
        assert_eq!(parse(&GOOD[..41]), Err(AddressError::Malformed));
        assert_eq!(parse(&GOOD.replace('5', "g")), Err(AddressError::Malformed));
        let zero = format!("0x{}", "0".repeat(40));
        assert_eq!(parse(&zero), Err(AddressError::Zero));
    }
}
