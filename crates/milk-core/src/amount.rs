//! Amounts of an asset in integer base units.
//!
//! An [`Amount`] knows nothing of decimals: `1 MLK` with 8 decimals is `Amount(100_000_000)`.
//! Decimals belong to the asset and are fixed at genesis; they matter only when text is
//! parsed or shown, and that conversion is exact (no floating point anywhere).

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// The largest number of decimals an asset may have. `10^24` still leaves `u128` room for
/// more than `10^14` whole units.
pub const MAX_DECIMALS: u8 = 24;

/// A non-negative quantity of one asset, in its smallest unit.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u128);

/// An amount with its asset's decimals, shown in whole units (`12.5`): how refusals quote
/// amounts to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole {
    /// The amount, base units.
    pub amount: Amount,
    /// Its asset's decimals.
    pub decimals: u8,
}

impl Whole {
    /// `units` base units of an asset with `decimals` decimals.
    pub fn new(units: u128, decimals: u8) -> Whole {
        Whole {
            amount: Amount(units),
            decimals,
        }
    }
}

impl fmt::Display for Whole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&grouped(&self.amount.to_decimal(self.decimals)))
    }
}

/// A decimal number with its whole part in groups of three (`1300000000.5` becomes
/// `1,300,000,000.5`), for people; anything else is returned as it is.
pub fn grouped(decimal: &str) -> String {
    let (sign, rest) = match decimal.strip_prefix(['-', '+']) {
        Some(r) => (&decimal[..1], r),
        None => ("", decimal),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return decimal.to_owned();
    }
    let mut out = String::from(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Why a decimal string is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    /// Not digits with at most one decimal point.
    #[error("{0:?} is not a decimal number (digits, optionally one '.')")]
    Syntax(String),
    /// More fractional digits than the asset has decimals.
    #[error("{text:?} has more than {decimals} decimal places")]
    TooPrecise {
        /// The input.
        text: String,
        /// The asset's decimals.
        decimals: u8,
    },
    /// Larger than the largest representable amount.
    #[error("{0:?} is too large")]
    Overflow(String),
}

impl Amount {
    /// Zero units.
    pub const ZERO: Amount = Amount(0);
    /// The largest amount.
    pub const MAX: Amount = Amount(u128::MAX);

    /// An amount of `units` base units.
    pub const fn new(units: u128) -> Amount {
        Amount(units)
    }

    /// The number of base units.
    pub const fn units(self) -> u128 {
        self.0
    }

    /// `whole * 10^decimals` base units, or `None` on overflow.
    pub fn from_whole(whole: u128, decimals: u8) -> Option<Amount> {
        10u128
            .checked_pow(decimals.into())
            .and_then(|scale| whole.checked_mul(scale))
            .map(Amount)
    }

    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + rhs`, or `None` on overflow.
    pub fn checked_add(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_add(rhs.0).map(Amount)
    }

    /// `self - rhs`, or `None` if `rhs` is larger.
    pub fn checked_sub(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_sub(rhs.0).map(Amount)
    }

    /// Parses a decimal such as `"12.5"` for an asset with `decimals` decimals, exactly.
    pub fn parse_decimal(text: &str, decimals: u8) -> Result<Amount, AmountError> {
        let syntax = || AmountError::Syntax(text.to_owned());
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && frac.is_empty()
            || !all_digits(whole)
            || !all_digits(frac)
            || text.ends_with('.')
        {
            return Err(syntax());
        }
        if frac.len() > decimals as usize {
            return Err(AmountError::TooPrecise {
                text: text.to_owned(),
                decimals,
            });
        }
        let overflow = || AmountError::Overflow(text.to_owned());
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| overflow())?
        };
        let mut units = Amount::from_whole(whole, decimals).ok_or_else(overflow)?.0;
        if !frac.is_empty() {
            let frac_units: u128 = frac.parse().map_err(|_| overflow())?;
            let scale = 10u128.pow(u32::from(decimals) - frac.len() as u32);
            units = units.checked_add(frac_units * scale).ok_or_else(overflow)?;
        }
        Ok(Amount(units))
    }

    /// Formats as a decimal for an asset with `decimals` decimals, without trailing zeros.
    pub fn to_decimal(self, decimals: u8) -> String {
        let scale = 10u128.pow(decimals.into());
        let whole = self.0 / scale;
        let frac = self.0 % scale;
        if frac == 0 {
            return whole.to_string();
        }
        let frac = format!("{frac:0width$}", width = decimals as usize);
        format!("{whole}.{}", frac.trim_end_matches('0'))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.0)
    }
}

impl Encode for Amount {
    fn encode(&self, w: &mut Writer) {
        w.u128(self.0);
    }
}

impl Decode for Amount {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Amount(r.u128()?))
    }
}

/// JSON carries amounts as strings of base units: `u128` does not fit a JSON number that
/// every client (JavaScript included) reads exactly.
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!(
                "amount {s:?} must be a string of base-unit digits"
            )));
        }
        s.parse::<u128>()
            .map(Amount)
            .map_err(|_| serde::de::Error::custom(format!("amount {s:?} is too large")))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn whole_parts_are_grouped_in_threes_for_people() {
        assert_eq!(grouped("1300000000"), "1,300,000,000");
        assert_eq!(grouped("-1234.5678"), "-1,234.5678");
        assert_eq!(grouped("999.99"), "999.99");
        assert_eq!(grouped("100000"), "100,000");
        assert_eq!(grouped("private"), "private");
        assert_eq!(Whole::new(123_456_789_000, 2).to_string(), "1,234,567,890");
    }
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_text_is_exact() {
        assert_eq!(Amount::parse_decimal("12.5", 8), Ok(Amount(1_250_000_000)));
        assert_eq!(Amount::parse_decimal("0.00000001", 8), Ok(Amount(1)));
        assert_eq!(Amount::parse_decimal(".5", 2), Ok(Amount(50)));
        assert_eq!(Amount::parse_decimal("7", 0), Ok(Amount(7)));
        assert_eq!(Amount(1_250_000_000).to_decimal(8), "12.5");
        assert_eq!(Amount(1).to_decimal(8), "0.00000001");
        assert_eq!(Amount(300).to_decimal(2), "3");
    }

    #[test]
    fn bad_decimal_text_is_refused() {
        for bad in ["", ".", "1.", "-1", "1e5", "1.2.3", " 1", "0x10"] {
            assert!(
                matches!(Amount::parse_decimal(bad, 8), Err(AmountError::Syntax(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Amount::parse_decimal("0.001", 2),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            Amount::parse_decimal("340282366920938463463374607431768211456", 0),
            Err(AmountError::Overflow(_))
        ));
        assert!(matches!(
            Amount::parse_decimal("340282366920938463463374607431768211455", 1),
            Err(AmountError::Overflow(_))
        ));
    }

    proptest! {
        #[test]
        fn decimal_round_trip(units in any::<u128>(), decimals in 0u8..=MAX_DECIMALS) {
            let text = Amount(units).to_decimal(decimals);
            prop_assert_eq!(Amount::parse_decimal(&text, decimals), Ok(Amount(units)));
        }

        #[test]
        fn json_round_trip(units in any::<u128>()) {
            let json = serde_json::to_string(&Amount(units)).unwrap();
            prop_assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), Amount(units));
        }
    }
}
