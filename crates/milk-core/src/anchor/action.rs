//! Anchoring a brand chain's block hashes on the center chain.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use crate::codec::{DecodeError, Reader, Writer};
use crate::{ChainId, Hash};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnchorAction {
    /// Records a seal of a brand chain's block on the center chain; only the operator may.
    /// A partner cannot rewrite history before an anchor without every verifier noticing,
    /// and nobody who cannot read the brand chain learns its height or its block hashes.
    Anchor {
        /// The brand chain.
        chain: ChainId,
        /// The block's seal: [`super::anchor_seal`] of its height and hash.
        seal: Hash,
    },
}

impl AnchorAction {
    const ANCHOR: u8 = 8;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[Self::ANCHOR];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::Anchor { chain, seal } => {
                w.u8(Self::ANCHOR).put(chain).put(seal);
            }
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::ANCHOR => Ok(Self::Anchor {
                chain: r.get()?,
                seal: r.get()?,
            }),
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }
}
