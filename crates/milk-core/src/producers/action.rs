//! The producer set: which keys may sign a chain's blocks.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use super::MAX_PRODUCERS;
use crate::Address;
use crate::codec::{DecodeError, Reader, Writer};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProducersAction {
    /// TICA names the keys that may sign this chain's blocks from the next block on (any
    /// chain; the whole set, replacing the last one, always with the genesis producer). A
    /// partner's node joins its brand chain's set with its own key: it never holds TICA's.
    SetProducers {
        /// The keys, 1 to [`MAX_PRODUCERS`], each once.
        producers: Vec<Address>,
    },
}

impl ProducersAction {
    const SET_PRODUCERS: u8 = 49;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[Self::SET_PRODUCERS];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        let Self::SetProducers { producers } = self;
        w.u8(Self::SET_PRODUCERS).u32(producers.len() as u32);
        for p in producers {
            w.put(p);
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if tag != Self::SET_PRODUCERS {
            return Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            });
        }
        let n = r.u32()? as usize;
        if n > MAX_PRODUCERS {
            return Err(DecodeError::TooLong {
                what: "producer set",
                len: n,
                max: MAX_PRODUCERS,
            });
        }
        let producers = (0..n).map(|_| r.get()).collect::<Result<_, _>>()?;
        Ok(Self::SetProducers { producers })
    }
}
