//! Moving, creating and destroying any asset of a chain: the ledger's own actions.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use crate::codec::{DecodeError, MAX_MEMO_BYTES, Reader, Writer};
use crate::{Address, Amount, Symbol};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TokenAction {
    /// Moves `amount` of `asset` from the sender to `to`.
    Transfer {
        /// The recipient.
        to: Address,
        /// The asset moved.
        asset: Symbol,
        /// How much, in base units; never zero.
        amount: Amount,
        /// A short note for the recipient (a gift message, an invoice reference).
        memo: String,
    },
    /// Creates `amount` of `asset` for `to`; only the asset's issuer may.
    Mint {
        /// The recipient.
        to: Address,
        /// The asset created.
        asset: Symbol,
        /// How much, in base units; never zero.
        amount: Amount,
    },
    /// Destroys `amount` of the sender's own `asset`.
    Burn {
        /// The asset destroyed.
        asset: Symbol,
        /// How much, in base units; never zero.
        amount: Amount,
    },
}

impl TokenAction {
    /// The event kind a partner's feed names it by.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transfer { .. } => "transfer",
            Self::Mint { .. } => "mint",
            Self::Burn { .. } => "burn",
        }
    }

    /// The asset moved, created or destroyed.
    pub fn asset(&self) -> &Symbol {
        match self {
            Self::Transfer { asset, .. } | Self::Mint { asset, .. } | Self::Burn { asset, .. } => {
                asset
            }
        }
    }

    /// The account paid, other than the sender, if any.
    pub fn recipient(&self) -> Option<&Address> {
        match self {
            Self::Transfer { to, .. } | Self::Mint { to, .. } => Some(to),
            Self::Burn { .. } => None,
        }
    }

    const TRANSFER: u8 = 1;
    const MINT: u8 = 2;
    const BURN: u8 = 3;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[Self::TRANSFER, Self::MINT, Self::BURN];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::Transfer {
                to,
                asset,
                amount,
                memo,
            } => {
                w.u8(Self::TRANSFER)
                    .put(to)
                    .put(asset)
                    .put(amount)
                    .str(memo);
            }
            Self::Mint { to, asset, amount } => {
                w.u8(Self::MINT).put(to).put(asset).put(amount);
            }
            Self::Burn { asset, amount } => {
                w.u8(Self::BURN).put(asset).put(amount);
            }
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::TRANSFER => Ok(Self::Transfer {
                to: r.get()?,
                asset: r.get()?,
                amount: r.get()?,
                memo: r.str("memo", MAX_MEMO_BYTES)?.to_owned(),
            }),
            Self::MINT => Ok(Self::Mint {
                to: r.get()?,
                asset: r.get()?,
                amount: r.get()?,
            }),
            Self::BURN => Ok(Self::Burn {
                asset: r.get()?,
                amount: r.get()?,
            }),
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }
}
