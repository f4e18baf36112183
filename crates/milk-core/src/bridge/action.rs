//! The bridge's actions (center chain).
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use super::{BridgePolicy, MainAddress};
use crate::codec::{DecodeError, Reader, Writer};
use crate::{Amount, Hash};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BridgeAction {
    /// A customer withdraws MLK to a main-chain address: the amount is burned here at once
    /// and the fee paid to TICA; the vault releases the amount once its batch is posted.
    Withdraw {
        /// The main-chain address (EIP-55 checksummed in JSON).
        to: MainAddress,
        /// MLK base units to arrive there.
        amount: Amount,
        /// The most fee the customer agrees to pay: a policy change between signing and
        /// the block cannot charge more.
        max_fee: Amount,
    },
    /// TICA seals the next `count` unsealed withdrawals into batch `batch`; the chain
    /// computes the batch's Merkle root (operator only).
    SealBatch {
        /// The batch's number: the next one, so a repeated seal is refused.
        batch: u64,
        /// How many withdrawals, from the first unsealed.
        count: u32,
    },
    /// TICA records the main-chain transaction that released a withdrawal (operator only).
    ConfirmRelease {
        /// The withdrawal's number.
        withdrawal: u64,
        /// The releasing main-chain transaction.
        main_tx: Hash,
    },
    /// TICA records a deposit into the vault, once per (transaction, log index): minted to
    /// the milk address it names, or held if that is not a usable key (operator only).
    RecordDeposit {
        /// The main-chain transaction.
        main_tx: Hash,
        /// The deposit event's log index.
        log_index: u64,
        /// Who sent it.
        from: MainAddress,
        /// The 32 bytes it named as a milk address.
        milk: Hash,
        /// MLK base units.
        amount: Amount,
        /// The main-chain block it was in.
        block: u64,
    },
    /// TICA refunds a held deposit to its sender on the main chain (operator only).
    RefundDeposit {
        /// The main-chain transaction.
        main_tx: Hash,
        /// The deposit event's log index.
        log_index: u64,
    },
    /// TICA changes the bridge policy (operator only).
    SetBridgePolicy {
        /// The new policy.
        policy: BridgePolicy,
    },
}

impl BridgeAction {
    const WITHDRAW: u8 = 58;
    const SEAL_BATCH: u8 = 59;
    const CONFIRM_RELEASE: u8 = 60;
    const RECORD_DEPOSIT: u8 = 61;
    const REFUND_DEPOSIT: u8 = 62;
    const SET_POLICY: u8 = 63;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[
        Self::WITHDRAW,
        Self::SEAL_BATCH,
        Self::CONFIRM_RELEASE,
        Self::RECORD_DEPOSIT,
        Self::REFUND_DEPOSIT,
        Self::SET_POLICY,
    ];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::Withdraw {
                to,
                amount,
                max_fee,
            } => {
                w.u8(Self::WITHDRAW).put(to).put(amount).put(max_fee);
            }
            Self::SealBatch { batch, count } => {
                w.u8(Self::SEAL_BATCH).u64(*batch).u32(*count);
            }
            Self::ConfirmRelease {
                withdrawal,
                main_tx,
            } => {
                w.u8(Self::CONFIRM_RELEASE).u64(*withdrawal).put(main_tx);
            }
            Self::RecordDeposit {
                main_tx,
                log_index,
                from,
                milk,
                amount,
                block,
            } => {
                w.u8(Self::RECORD_DEPOSIT).put(main_tx).u64(*log_index);
                w.put(from).put(milk).put(amount).u64(*block);
            }
            Self::RefundDeposit { main_tx, log_index } => {
                w.u8(Self::REFUND_DEPOSIT).put(main_tx).u64(*log_index);
            }
            Self::SetBridgePolicy { policy } => {
                w.u8(Self::SET_POLICY).put(policy);
            }
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match tag {
            Self::WITHDRAW => Self::Withdraw {
                to: r.get()?,
                amount: r.get()?,
                max_fee: r.get()?,
            },
            Self::SEAL_BATCH => Self::SealBatch {
                batch: r.u64()?,
                count: r.u32()?,
            },
            Self::CONFIRM_RELEASE => Self::ConfirmRelease {
                withdrawal: r.u64()?,
                main_tx: r.get()?,
            },
            Self::RECORD_DEPOSIT => Self::RecordDeposit {
                main_tx: r.get()?,
                log_index: r.u64()?,
                from: r.get()?,
                milk: r.get()?,
                amount: r.get()?,
                block: r.u64()?,
            },
            Self::REFUND_DEPOSIT => Self::RefundDeposit {
                main_tx: r.get()?,
                log_index: r.u64()?,
            },
            Self::SET_POLICY => Self::SetBridgePolicy { policy: r.get()? },
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "action",
                    tag,
                });
            }
        })
    }

    /// The event kind a feed names it by.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Withdraw { .. } => "withdrawal",
            Self::RecordDeposit { .. } => "deposit",
            _ => "bridge",
        }
    }
}
