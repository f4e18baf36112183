//! Anchors: TICA records seals of brand chains' blocks on the center chain, so a partner
//! cannot rewrite its history before an anchor without every verifier noticing. A seal
//! commits to a block's height and hash without showing either: the center chain is public
//! and brand chains are not, so strangers learn neither how long a partner's chain is nor
//! its block hashes. Anchors are numbered per chain, in order; whoever reads the brand chain
//! finds each seal's block, and each at a greater height than the one before.

pub mod action;
pub mod error;
pub(crate) mod needs;
pub(crate) mod rules;

use crate::ledger::DomainRecords;
use crate::{ChainId, Hash};
use error::AnchorError;
use std::collections::BTreeMap;

/// The anchor's record namespace (center chain).
pub mod record {
    /// `ANCHOR ‖ chain ‖ 0 ‖ number (u64)` → the seal of a block of the brand chain (its
    /// anchors are numbered from 0, in order).
    pub const ANCHOR: u8 = 20;
    /// The anchors' namespaces.
    pub const NAMESPACES: &[u8] = &[ANCHOR];

    /// The key of a brand chain's anchor by its number.
    pub fn anchor(chain: &crate::ChainId, number: u64) -> Vec<u8> {
        let mut k = anchor_prefix(chain);
        k.extend_from_slice(&number.to_be_bytes());
        k
    }

    /// The prefix of every anchor of a brand chain.
    pub fn anchor_prefix(chain: &crate::ChainId) -> Vec<u8> {
        let mut k = vec![ANCHOR];
        k.extend_from_slice(chain.as_str().as_bytes());
        k.push(0);
        k
    }
}

/// The seal of a brand chain's block at `height` whose hash is `hash`: what an anchor
/// records.
pub fn anchor_seal(chain: &ChainId, height: u64, hash: &Hash) -> Hash {
    let height = height.to_be_bytes();
    Hash::domain(
        "milk/anchor/v1",
        &[chain.as_str().as_bytes(), &[0], &height, &hash.0],
    )
}

/// Every brand chain's anchors, by chain and number.
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    anchors: BTreeMap<(ChainId, u64), Hash>,
    touched: Vec<(ChainId, u64)>,
}

impl Anchors {
    /// The anchors recorded for a brand chain: `(number, seal)`, in order.
    pub fn of<'a>(&'a self, chain: &'a ChainId) -> impl Iterator<Item = (u64, Hash)> + 'a {
        self.anchors
            .range((chain.clone(), 0)..=(chain.clone(), u64::MAX))
            .map(|((_, h), hash)| (*h, *hash))
    }

    /// The number the chain's next anchor takes, or `anchor_not_newer` if `seal` repeats
    /// its last one.
    pub(crate) fn check(&self, chain: &ChainId, seal: &Hash) -> Result<u64, AnchorError> {
        match self.of(chain).last() {
            Some((anchored, last)) if last == *seal => Err(AnchorError::AnchorNotNewer {
                chain: chain.clone(),
                anchored,
            }),
            Some((anchored, _)) => Ok(anchored + 1),
            None => Ok(0),
        }
    }

    /// Records a checked anchor under its number.
    pub(crate) fn write(&mut self, chain: ChainId, number: u64, seal: Hash) {
        self.anchors.insert((chain.clone(), number), seal);
        self.touched.push((chain, number));
    }
}

impl DomainRecords for Anchors {
    fn namespaces(&self) -> &'static [u8] {
        record::NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        std::mem::take(&mut self.touched)
            .into_iter()
            .map(|(chain, height)| {
                let hash = self.anchors[&(chain.clone(), height)];
                (record::anchor(&chain, height), Some(hash.0.to_vec()))
            })
            .collect()
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.anchors
            .iter()
            .map(|((c, h), hash)| (record::anchor(c, *h), hash.0.to_vec()))
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        let rest = &key[1..];
        let Some(split) = rest.iter().position(|b| *b == 0) else {
            return false;
        };
        let chain = std::str::from_utf8(&rest[..split])
            .ok()
            .and_then(|c| c.parse::<ChainId>().ok());
        let height = crate::ledger::record::u64_value(&rest[split + 1..]);
        let hash: Option<[u8; 32]> = value.try_into().ok();
        match (chain, height, hash) {
            (Some(chain), Some(height), Some(hash)) => {
                self.anchors.insert((chain, height), Hash(hash));
                true
            }
            _ => false,
        }
    }
}
