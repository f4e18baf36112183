//! A partner's terms that may change after admission: whether customers may send its
//! token to each other, and its conversion limits. The redemption value, the price floor,
//! the conversion rate and the expiry stay as admitted: customers already hold tokens, and
//! the exchange already prices them, on those.

use super::{BrandPolicy, BrandState, BrandWrite, check_policy};
use crate::Amount;
use crate::codec::{Decode, DecodeError, Encode, Reader, Writer, flag};
use crate::error::BrandError;
use serde::{Deserialize, Serialize};

/// The terms a partner may change with `SetPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyTerms {
    /// Whether customers may send the token to each other.
    pub transfers_allowed: bool,
    /// The smallest conversion, in base units.
    pub min_conversion: Amount,
    /// The largest single conversion, in base units.
    pub max_conversion: Amount,
    /// The most one customer may have converted in one UTC day, in base units.
    pub daily_user_limit: Amount,
}

impl PolicyTerms {
    /// The terms of a policy.
    pub fn of(p: &BrandPolicy) -> PolicyTerms {
        PolicyTerms {
            transfers_allowed: p.transfers_allowed,
            min_conversion: p.min_conversion,
            max_conversion: p.max_conversion,
            daily_user_limit: p.daily_user_limit,
        }
    }

    /// `p` with these terms.
    pub fn applied_to(&self, p: &BrandPolicy) -> BrandPolicy {
        BrandPolicy {
            transfers_allowed: self.transfers_allowed,
            min_conversion: self.min_conversion,
            max_conversion: self.max_conversion,
            daily_user_limit: self.daily_user_limit,
            ..p.clone()
        }
    }
}

impl Encode for PolicyTerms {
    fn encode(&self, w: &mut Writer) {
        w.u8(u8::from(self.transfers_allowed))
            .put(&self.min_conversion)
            .put(&self.max_conversion)
            .put(&self.daily_user_limit);
    }
}

impl Decode for PolicyTerms {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PolicyTerms {
            transfers_allowed: flag(r, "transfers allowed")?,
            min_conversion: r.get()?,
            max_conversion: r.get()?,
            daily_user_limit: r.get()?,
        })
    }
}

impl BrandState {
    /// Checks new terms: the policy they make must make sense as a whole.
    pub(crate) fn plan_terms(&self, terms: PolicyTerms) -> Result<BrandWrite, BrandError> {
        check_policy(&terms.applied_to(self.policy())).map_err(BrandError::InvalidPolicy)?;
        Ok(BrandWrite::Terms(terms))
    }
}
