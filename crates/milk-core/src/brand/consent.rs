//! Members' consents to share their membership data with this chain's partner, and the log
//! of the partner's reads, kept on the partner's own brand chain: only the member, the
//! partner, TICA (and the partner's auditors) can read them, so nobody else learns that a
//! wallet shares data with a partner, or that a partner read it.

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::error::BrandError;
use crate::{Address, Hash};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The data items a member may share.
pub const DATA_ITEMS: [&str; 2] = ["level", "activity"];
/// The most members one access record names.
pub const MAX_READ_PER_RECORD: usize = 24;

/// A member's consent to share membership data with the chain's partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// What the partner may use it for.
    pub purpose: String,
    /// The data items: `level`, `activity`.
    pub items: Vec<String>,
    /// How long the partner may keep what it reads, days.
    pub retention_days: u32,
    /// When it was given, Unix ms.
    pub granted_ms: u64,
    /// When it was withdrawn, if it was.
    pub withdrawn_ms: Option<u64>,
}

impl Consent {
    /// Whether it lets the partner read now.
    pub fn active(&self) -> bool {
        self.withdrawn_ms.is_none()
    }
}

impl Encode for Consent {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.purpose).u32(self.items.len() as u32);
        for i in &self.items {
            w.str(i);
        }
        w.u32(self.retention_days).u64(self.granted_ms);
        match self.withdrawn_ms {
            Some(t) => w.u8(1).u64(t),
            None => w.u8(0),
        };
    }
}

impl Decode for Consent {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let purpose = r.str("purpose", crate::codec::MAX_MEMO_BYTES)?.to_owned();
        let n = r.u32()?.min(8);
        let items = (0..n)
            .map(|_| r.str("data item", 32).map(str::to_owned))
            .collect::<Result<_, _>>()?;
        Ok(Consent {
            purpose,
            items,
            retention_days: r.u32()?,
            granted_ms: r.u64()?,
            withdrawn_ms: match r.u8()? {
                0 => None,
                1 => Some(r.u64()?),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "withdrawn",
                        tag,
                    });
                }
            },
        })
    }
}

/// A write to the consents or the access log, checked.
#[derive(Debug, Clone)]
pub enum SharingWrite {
    /// A member's consent, given or withdrawn.
    Consent(Address, Consent),
    /// The partner read a member's data: the member, the time and the recording tx.
    Access(Address, u64, Hash),
}

/// The consents and the access log of one brand chain.
#[derive(Debug, Clone, Default)]
pub struct Sharing {
    consents: BTreeMap<Address, Consent>,
    // `ACCESS ‖ account ‖ time ‖ tx id` keys (their values are empty).
    accesses: BTreeMap<Vec<u8>, ()>,
}

/// `CONSENT ‖ account` → a member's [`Consent`] to this chain's partner.
pub const CONSENT: u8 = 47;
/// `ACCESS ‖ account ‖ time (u64) ‖ tx id` → empty: the partner read the member's data.
pub const ACCESS: u8 = 48;

/// The key of a member's consent.
pub fn consent_key(account: &Address) -> Vec<u8> {
    let mut k = vec![CONSENT];
    k.extend_from_slice(account.as_bytes());
    k
}

/// The prefix of the reads of a member's data.
pub fn accesses_prefix(account: &Address) -> Vec<u8> {
    let mut k = vec![ACCESS];
    k.extend_from_slice(account.as_bytes());
    k
}

/// Splits an access key's rest (after its namespace) into the time and the tx id.
pub fn access_of(key: &[u8]) -> Option<(u64, Hash)> {
    let rest = key.get(33..)?;
    let time = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    let tx: [u8; 32] = rest.get(8..)?.try_into().ok()?;
    Some((time, Hash(tx)))
}

impl Sharing {
    /// A member's consent.
    pub fn consent(&self, account: &Address) -> Option<&Consent> {
        self.consents.get(account)
    }

    /// Checks a new consent at block time `now_ms`.
    pub(crate) fn plan_grant(
        &self,
        account: Address,
        purpose: &str,
        items: &[String],
        retention_days: u32,
        now_ms: u64,
    ) -> Result<SharingWrite, BrandError> {
        let known = items.iter().all(|i| DATA_ITEMS.contains(&i.as_str()));
        if purpose.trim().is_empty() || items.is_empty() || !known || retention_days == 0 {
            return Err(BrandError::InvalidConsent(format!(
                "name a purpose, a retention of at least a day, and items among {DATA_ITEMS:?}"
            )));
        }
        let consent = Consent {
            purpose: purpose.to_owned(),
            items: items.to_vec(),
            retention_days,
            granted_ms: now_ms,
            withdrawn_ms: None,
        };
        Ok(SharingWrite::Consent(account, consent))
    }

    /// Checks withdrawing a member's active consent at block time `now_ms`.
    pub(crate) fn plan_withdraw(
        &self,
        account: Address,
        now_ms: u64,
    ) -> Result<SharingWrite, BrandError> {
        let mut consent = (self.consent(&account).filter(|c| c.active()).cloned())
            .ok_or(BrandError::NoConsent)?;
        consent.withdrawn_ms = Some(now_ms);
        Ok(SharingWrite::Consent(account, consent))
    }

    /// Checks logging a read of `users`' data by transaction `tx` at `now_ms`: only
    /// consenting members' data is ever read, so only they are logged.
    pub(crate) fn plan_log(
        &self,
        users: &[Address],
        tx: Hash,
        now_ms: u64,
    ) -> Result<Vec<SharingWrite>, BrandError> {
        let active = |u: &Address| self.consent(u).is_some_and(Consent::active);
        if users.is_empty() || users.len() > MAX_READ_PER_RECORD || !users.iter().all(active) {
            return Err(BrandError::NoConsent);
        }
        Ok(users
            .iter()
            .map(|u| SharingWrite::Access(*u, now_ms, tx))
            .collect())
    }

    /// Records a checked write; returns the key it touched.
    pub(crate) fn write(&mut self, w: SharingWrite) -> Vec<u8> {
        match w {
            SharingWrite::Consent(account, consent) => {
                self.consents.insert(account, consent);
                consent_key(&account)
            }
            SharingWrite::Access(account, time_ms, tx) => {
                let mut key = accesses_prefix(&account);
                key.extend_from_slice(&time_ms.to_be_bytes());
                key.extend_from_slice(&tx.0);
                self.accesses.insert(key.clone(), ());
                key
            }
        }
    }

    /// The value of one of this part's records.
    pub(crate) fn value(&self, key: &[u8]) -> Option<Vec<u8>> {
        match key.split_first()? {
            (&CONSENT, rest) => {
                let a = Address::from_stored(rest.try_into().ok()?);
                self.consents.get(&a).map(Encode::to_bytes)
            }
            (&ACCESS, _) => self.accesses.get(key).map(|()| Vec::new()),
            _ => None,
        }
    }

    /// Every key this part holds.
    pub(crate) fn keys(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        let consents = self.consents.keys().map(consent_key);
        consents.chain(self.accesses.keys().cloned())
    }

    /// Restores one record; `false` if it is malformed.
    pub(crate) fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        match key.split_first() {
            Some((&CONSENT, rest)) => {
                let a = rest
                    .try_into()
                    .ok()
                    .and_then(|b| Address::from_bytes(b).ok());
                let (Some(a), Ok(c)) = (a, Consent::from_bytes(value)) else {
                    return false;
                };
                self.consents.insert(a, c);
                true
            }
            Some((&ACCESS, _)) if key.len() == 73 && value.is_empty() => {
                self.accesses.insert(key.to_vec(), ());
                true
            }
            _ => false,
        }
    }
}
