//! Coupon payments a partner reports, and their refunds, kept on the partner's own chain:
//! only the member, the partner, its auditors and TICA see that a wallet bought something
//! from this partner. TICA credits the LZM a payment earns on the center chain under the
//! report's seal ([`coupon_seal`]), which names neither the partner nor the coupon.

use crate::error::BrandError;
use crate::{Address, ChainId, Hash};
use std::collections::BTreeMap;

/// `COUPON_REPORT ‖ coupon id` → `user (32) ‖ krw (u64) ‖ seal (32) ‖ refunded (u8)`.
pub const COUPON_REPORT: u8 = 61;

/// The seal of a coupon report: what the center chain's credit names. It commits to the
/// partner's chain and the report's transaction id, which only the partner's chain holds.
pub fn coupon_seal(chain: &ChainId, report: &Hash) -> Hash {
    Hash::domain(
        "milk/coupon-seal/v1",
        &[chain.as_str().as_bytes(), &[0], &report.0],
    )
}

/// A coupon payment as its partner reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CouponReport {
    /// The customer.
    pub user: Address,
    /// What the coupon paid, KRW.
    pub krw: u64,
    /// The report's seal.
    pub seal: Hash,
    /// Whether the partner reported its refund.
    pub refunded: bool,
}

impl CouponReport {
    /// The record's value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.user.as_bytes().to_vec();
        v.extend_from_slice(&self.krw.to_be_bytes());
        v.extend_from_slice(&self.seal.0);
        v.push(u8::from(self.refunded));
        v
    }

    /// Reads a record's value; `None` if malformed.
    pub fn from_bytes(v: &[u8]) -> Option<CouponReport> {
        if v.len() != 73 {
            return None;
        }
        Some(CouponReport {
            user: Address::from_bytes(v[..32].try_into().ok()?).ok()?,
            krw: u64::from_be_bytes(v[32..40].try_into().ok()?),
            seal: Hash(v[40..72].try_into().ok()?),
            refunded: match v[72] {
                0 => false,
                1 => true,
                _ => return None,
            },
        })
    }
}

/// The coupon reports of one brand chain, by coupon id.
#[derive(Debug, Clone, Default)]
pub struct Coupons {
    reports: BTreeMap<String, CouponReport>,
}

/// The key of a coupon's report.
pub fn report_key(coupon_id: &str) -> Vec<u8> {
    let mut k = vec![COUPON_REPORT];
    k.extend_from_slice(coupon_id.as_bytes());
    k
}

impl Coupons {
    /// A coupon's report.
    pub fn report(&self, coupon_id: &str) -> Option<&CouponReport> {
        self.reports.get(coupon_id)
    }

    /// Checks a new report of a coupon payment; `seal` is its seal.
    pub(crate) fn plan_report(
        &self,
        user: Address,
        krw: u64,
        coupon_id: &str,
        seal: Hash,
    ) -> Result<(String, CouponReport), BrandError> {
        if self.reports.contains_key(coupon_id) {
            return Err(BrandError::CouponUsed);
        }
        if krw == 0 {
            return Err(BrandError::InvalidCoupon);
        }
        let report = CouponReport {
            user,
            krw,
            seal,
            refunded: false,
        };
        Ok((coupon_id.to_owned(), report))
    }

    /// Checks the refund of a reported payment of `user`'s.
    pub(crate) fn plan_refund(
        &self,
        user: &Address,
        coupon_id: &str,
    ) -> Result<(String, CouponReport), BrandError> {
        let report = (self.reports.get(coupon_id))
            .filter(|r| r.user == *user)
            .ok_or(BrandError::CouponUnknown)?;
        if report.refunded {
            return Err(BrandError::CouponRefunded);
        }
        let refunded = CouponReport {
            refunded: true,
            ..*report
        };
        Ok((coupon_id.to_owned(), refunded))
    }

    /// Records a checked report or refund; returns the key it touched.
    pub(crate) fn write(&mut self, coupon_id: String, report: CouponReport) -> Vec<u8> {
        let key = report_key(&coupon_id);
        self.reports.insert(coupon_id, report);
        key
    }

    /// The value of one of this part's records.
    pub(crate) fn value(&self, key: &[u8]) -> Option<Vec<u8>> {
        let id = std::str::from_utf8(key.get(1..)?).ok()?;
        self.reports.get(id).map(CouponReport::to_bytes)
    }

    /// Every key this part holds.
    pub(crate) fn keys(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.reports.keys().map(|id| report_key(id))
    }

    /// Restores one record; `false` if it is malformed.
    pub(crate) fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let id = key.get(1..).and_then(|k| std::str::from_utf8(k).ok());
        match (id, CouponReport::from_bytes(value)) {
            (Some(id), Some(report)) => {
                self.reports.insert(id.to_owned(), report);
                true
            }
            _ => false,
        }
    }
}
