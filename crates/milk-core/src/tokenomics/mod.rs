//! Tokenomics: partners' contribution rewards, users' rewards for linking, phase-2 stakes
//! and partners' shares of allocation A, with the allocation locks and the circulating
//! supply (in `rules`).
//!
//! Its records (namespaces 52–57) are keyed per partner ([`record::partner_key`]) and kept
//! as bytes.

pub mod action;
pub mod error;
pub(crate) mod needs;
pub(crate) mod rules;
mod supply;

pub use supply::{
    AccountRole, LockRule, Role, STAKES, SupplyReport, decode_vest, encode_vest, lock_in_force,
    supply_report, vesting_account, vesting_entry,
};

/// Record namespaces of tokenomics (center chain); every key is per partner
/// ([`record::partner_key`]) but the phase-2 stake's.
pub mod record {
    pub use crate::ledger::record::{partner_key, split_partner_key};

    /// `VOLUME ‖ chain ‖ 0 ‖ epoch` → MLK base units the partner's customers traded.
    pub const VOLUME: u8 = 52;
    /// `CONTRIBUTION ‖ chain ‖ 0 ‖ epoch` → MLK base units paid to the partner for it.
    pub const CONTRIBUTION: u8 = 53;
    /// `LINKED ‖ seal` → empty: the linking reward of the link with that seal
    /// (`brand::link_seal`) was paid.
    pub const LINKED: u8 = 54;

    /// The key that records a link's reward as paid.
    pub fn linked(seal: &crate::Hash) -> Vec<u8> {
        let mut k = vec![LINKED];
        k.extend_from_slice(&seal.0);
        k
    }
    /// `PHASE2` → the stake (u128) a new partner puts up, once phase 2 has begun.
    pub const PHASE2: u8 = 55;
    /// `STAKE ‖ chain ‖ 0` → the MLK (u128) a partner staked when it applied; gone once it
    /// is given back, when the partner leaves.
    pub const STAKE: u8 = 56;
    /// `VEST ‖ chain ‖ 0` → `amount (u128) ‖ unlock (u64) ‖ claimed (u8)`: a partner's
    /// share of allocation A.
    pub const VEST: u8 = 57;
}
use crate::{Address, ChainId};
use std::collections::BTreeMap;

/// Tokenomics' namespaces: partners' volumes and contributions, linking rewards paid, the
/// phase-2 stake, partners' stakes and their shares of allocation A.
pub const NAMESPACES: &[u8] = &[
    record::VOLUME,
    record::CONTRIBUTION,
    record::LINKED,
    record::PHASE2,
    record::STAKE,
    record::VEST,
];

/// A checked change to tokenomics' records.
#[derive(Debug, Clone)]
pub(crate) enum TokenomicsWrite {
    /// A record set (`Some`) or deleted (`None`).
    Raw(Vec<u8>, Option<Vec<u8>>),
}

/// Tokenomics' records on the center chain.
#[derive(Debug, Clone, Default)]
pub struct Tokenomics {
    raw: BTreeMap<Vec<u8>, Vec<u8>>,
    touched: Vec<Vec<u8>>,
}

impl Tokenomics {
    /// A record (volumes, contributions paid, linking rewards paid, stakes, shares).
    pub fn raw(&self, key: &[u8]) -> Option<&Vec<u8>> {
        self.raw.get(key)
    }

    /// Partners' shares of allocation A: `(label, account, unlock ms)`.
    pub fn vesting(&self) -> Vec<(String, Address, u64)> {
        self.raw
            .iter()
            .filter_map(|(k, v)| vesting_entry(k, v))
            .collect()
    }

    /// The stake a new partner puts up, once phase 2 has begun.
    pub fn phase2_stake(&self) -> Option<u128> {
        self.raw
            .get(&[record::PHASE2][..])
            .and_then(|v| v.as_slice().try_into().ok())
            .map(u128::from_be_bytes)
    }

    /// MLK base units a partner's customers traded in an epoch.
    pub fn volume(&self, chain: &ChainId, epoch: u64) -> u128 {
        self.raw
            .get(&record::partner_key(
                record::VOLUME,
                chain,
                &epoch.to_be_bytes(),
            ))
            .and_then(|v| v.as_slice().try_into().ok())
            .map_or(0, u128::from_be_bytes)
    }

    /// Writes a checked change.
    pub(crate) fn write(&mut self, w: TokenomicsWrite) {
        let TokenomicsWrite::Raw(key, value) = w;
        self.touched.push(key.clone());
        match value {
            Some(v) => self.raw.insert(key, v),
            None => self.raw.remove(&key),
        };
    }
}

impl crate::ledger::DomainRecords for Tokenomics {
    fn namespaces(&self) -> &'static [u8] {
        NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let touched = std::mem::take(&mut self.touched);
        crate::ledger::touched_records(touched, |k| self.raw.get(k).cloned())
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.raw
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let well_formed = match key.first() {
            Some(&record::LINKED) => value.is_empty() && key.len() == 33,
            Some(&record::VEST) => value.len() == 25,
            Some(&(record::VOLUME | record::CONTRIBUTION | record::PHASE2 | record::STAKE)) => {
                value.len() == 16
            }
            _ => false,
        };
        if well_formed {
            self.raw.insert(key.to_vec(), value.to_vec());
        }
        well_formed
    }
}
