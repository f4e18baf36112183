//! Tokenomics: partners' contribution rewards, users' linking rewards, phase-2 stakes and partner allocations.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use crate::codec::{DecodeError, Reader, Writer};
use crate::{Address, Amount, ChainId, Hash};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TokenomicsAction {
    /// TICA pays a partner its contribution reward for a finished epoch: X% of the MLK
    /// volume its customers traded, from partner allocation B (center chain; once).
    PayContribution {
        /// The partner's brand chain.
        chain: ChainId,
        /// The epoch.
        epoch: u64,
    },
    /// TICA pays a user's reward for linking a wallet to a partner, once per link. The
    /// partner is not named: `link` is the link's seal (`brand::link_seal`), which
    /// whoever reads the partner's chain can check and nobody else can tie to a partner.
    RewardLink {
        /// The user.
        user: Address,
        /// The link's seal.
        link: Hash,
    },
    /// TICA switches the alliance to phase 2: from now on an applicant stakes MLK, locked
    /// while it is a member (center chain; once).
    StartPhase2 {
        /// The stake, MLK base units.
        stake: Amount,
    },
    /// TICA sets aside a partner's share of partner allocation A, locked 3 years from the
    /// later of the partner's join date and MLK's listing date (center chain; once per
    /// partner).
    AllocatePartner {
        /// The partner's brand chain.
        chain: ChainId,
        /// MLK base units.
        amount: Amount,
    },
    /// A partner claims its allocation once unlocked (its issuer key).
    ClaimAllocation {
        /// The partner's brand chain.
        chain: ChainId,
    },
}

impl TokenomicsAction {
    const PAY_CONTRIBUTION: u8 = 37;
    const REWARD_LINK: u8 = 38;
    const START_PHASE2: u8 = 39;
    const ALLOCATE_PARTNER: u8 = 40;
    const CLAIM_ALLOCATION: u8 = 41;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[
        Self::PAY_CONTRIBUTION,
        Self::REWARD_LINK,
        Self::START_PHASE2,
        Self::ALLOCATE_PARTNER,
        Self::CLAIM_ALLOCATION,
    ];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::PayContribution { chain, epoch } => {
                w.u8(Self::PAY_CONTRIBUTION).put(chain).u64(*epoch);
            }
            Self::RewardLink { user, link } => {
                w.u8(Self::REWARD_LINK).put(user).put(link);
            }
            Self::StartPhase2 { stake } => {
                w.u8(Self::START_PHASE2).put(stake);
            }
            Self::AllocatePartner { chain, amount } => {
                w.u8(Self::ALLOCATE_PARTNER).put(chain).put(amount);
            }
            Self::ClaimAllocation { chain } => {
                w.u8(Self::CLAIM_ALLOCATION).put(chain);
            }
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::PAY_CONTRIBUTION => Ok(Self::PayContribution {
                chain: r.get()?,
                epoch: r.u64()?,
            }),
            Self::REWARD_LINK => Ok(Self::RewardLink {
                user: r.get()?,
                link: r.get()?,
            }),
            Self::START_PHASE2 => Ok(Self::StartPhase2 { stake: r.get()? }),
            Self::ALLOCATE_PARTNER => Ok(Self::AllocatePartner {
                chain: r.get()?,
                amount: r.get()?,
            }),
            Self::CLAIM_ALLOCATION => Ok(Self::ClaimAllocation { chain: r.get()? }),
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }
}
