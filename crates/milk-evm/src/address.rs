//! Main-chain addresses between the center chain's form (`milk_core::bridge::MainAddress`,
//! which checks the EIP-55 checksum customers type) and alloy's.

use alloy::primitives::Address;
use milk_core::bridge::MainAddress;
pub use milk_core::bridge::main_address::AddressError;

/// Parses a main-chain address as a customer types it, its checksum required.
pub fn parse(text: &str) -> Result<Address, AddressError> {
    text.parse::<MainAddress>().map(|a| to_alloy(&a))
}

/// The center chain's main-chain address as alloy's.
pub fn to_alloy(a: &MainAddress) -> Address {
    Address::from(*a.as_bytes())
}

/// Alloy's address as the center chain's; the zero address is refused.
pub fn from_alloy(a: Address) -> Result<MainAddress, AddressError> {
    MainAddress::from_bytes(a.into_array())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_carry_the_same_address_and_checksum() {
        let text = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let ours = parse(text).unwrap();
        assert_eq!(ours.to_checksum(None), text);
        assert_eq!(from_alloy(ours).unwrap().to_string(), text);
        assert_eq!(parse(&text.to_lowercase()), Err(AddressError::NoChecksum));
        assert_eq!(from_alloy(Address::ZERO), Err(AddressError::Zero));
    }
}
