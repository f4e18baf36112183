//! The producer set: the keys that may sign a chain's blocks. Genesis names one, the
//! chain's producer; TICA may replace the set on any chain, so that a partner's node can
//! make its brand chain's blocks with its own key. A block is valid only when signed by a
//! key of the set as it stood after the block's parent. The genesis producer stays in
//! every set: TICA can always make a chain's blocks, and change its producers, even when
//! every other producer is gone.

pub mod action;
pub mod error;
pub(crate) mod rules;

use crate::Address;
use crate::ledger::DomainRecords;
use error::ProducersError;

/// The most keys a set may hold.
pub const MAX_PRODUCERS: usize = 16;

/// The producer set's record namespace (every chain).
pub mod record {
    /// `PRODUCERS` → the keys, 32 bytes each, in the order TICA named them. Absent until
    /// TICA first changes the set: the genesis producer alone.
    pub const PRODUCERS: u8 = 60;
    /// The producer set's namespaces.
    pub const NAMESPACES: &[u8] = &[PRODUCERS];
}

/// Who may sign a chain's blocks, and who may change that.
#[derive(Debug, Clone, Default)]
pub struct Producers {
    genesis: Option<Address>,
    authority: Option<Address>,
    set: Option<Vec<Address>>,
    touched: bool,
}

impl Producers {
    /// The set at genesis: `producer` alone, which `authority` (TICA) may replace.
    pub fn new(producer: Address, authority: Address) -> Producers {
        Producers {
            genesis: Some(producer),
            authority: Some(authority),
            ..Producers::default()
        }
    }

    /// The keys that may sign the next block.
    pub fn keys(&self) -> &[Address] {
        match (&self.set, &self.genesis) {
            (Some(set), _) => set,
            (None, Some(genesis)) => std::slice::from_ref(genesis),
            (None, None) => &[],
        }
    }

    /// Whether `key` may sign the next block.
    pub fn allows(&self, key: &Address) -> bool {
        self.keys().contains(key)
    }

    /// Who may change the set.
    pub fn authority(&self) -> Option<&Address> {
        self.authority.as_ref()
    }

    /// Refuses a set [`check`] refuses, or one without the genesis producer.
    pub(crate) fn check_change(&self, set: &[Address]) -> Result<(), ProducersError> {
        check(set)?;
        match &self.genesis {
            Some(g) if !set.contains(g) => Err(ProducersError::GenesisProducerMissing(*g)),
            _ => Ok(()),
        }
    }

    /// Records a checked set.
    pub(crate) fn write(&mut self, set: Vec<Address>) {
        self.set = Some(set);
        self.touched = true;
    }

    fn encoded(&self) -> Option<Vec<u8>> {
        let set = self.set.as_ref()?;
        Some(set.iter().flat_map(|a| *a.as_bytes()).collect())
    }
}

/// Refuses a set that is empty, too large, names a key twice or names an unusable key.
pub fn check(set: &[Address]) -> Result<(), ProducersError> {
    if set.is_empty() || set.len() > MAX_PRODUCERS {
        return Err(ProducersError::BadSize {
            got: set.len(),
            max: MAX_PRODUCERS,
        });
    }
    for (i, key) in set.iter().enumerate() {
        if set[..i].contains(key) {
            return Err(ProducersError::Duplicate(*key));
        }
        if crate::keys::decompress(key).is_none() {
            return Err(ProducersError::InvalidKey(*key));
        }
    }
    Ok(())
}

impl DomainRecords for Producers {
    fn namespaces(&self) -> &'static [u8] {
        record::NAMESPACES
    }

    fn take_records(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        if !std::mem::take(&mut self.touched) {
            return Vec::new();
        }
        vec![(vec![record::PRODUCERS], self.encoded())]
    }

    fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let value = self.encoded();
        value
            .map(|v| (vec![record::PRODUCERS], v))
            .into_iter()
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: &[u8]) -> bool {
        if key != [record::PRODUCERS] || value.is_empty() || !value.len().is_multiple_of(32) {
            return false;
        }
        let keys: Result<Vec<Address>, _> = value
            .chunks(32)
            .map(|c| Address::from_bytes(c.try_into().expect("32-byte chunks")))
            .collect();
        match keys {
            Ok(keys) if check(&keys).is_ok() => {
                self.set = Some(keys);
                true
            }
            _ => false,
        }
    }
}
