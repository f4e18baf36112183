//! The alliance's registry on the center chain: applying, approving, admitting, suspending,
//! leaving.
//!
//! The actions' wire tags are one byte each, unique across every domain (checked at
//! compile time by the action dispatch, `tx::Action`).

use crate::ChainId;
use crate::codec::{DecodeError, Reader, Writer};
use serde::{Deserialize, Serialize};

/// What a transaction of this domain does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AllianceAction {
    /// Applies to join the alliance (center chain), signed by the key that will issue the
    /// applicant's Brand Token.
    Apply {
        /// What the applicant asks for.
        application: super::Application,
    },
    /// A member partner approves an application (center chain).
    Approve {
        /// The applicant's chain.
        chain: ChainId,
    },
    /// TICA signs the service agreement: the applicant is admitted (center chain).
    SignAgreement {
        /// The applicant's chain.
        chain: ChainId,
    },
    /// TICA suspends a member: trading halts, redemptions go on (center chain).
    Suspend {
        /// The member's chain.
        chain: ChainId,
    },
    /// TICA lifts a suspension (center chain).
    Reinstate {
        /// The member's chain.
        chain: ChainId,
    },
    /// A member starts leaving the alliance, signed by its issuer key (or by TICA, for
    /// cause): conversions and buys stop now; redemptions and sales go on until `final_ms`
    /// (center chain).
    StartExit {
        /// The member's chain.
        chain: ChainId,
        /// The final date it commits to, Unix ms: at least the alliance's notice away.
        final_ms: u64,
    },
    /// TICA finishes a member's exit once its final date has passed and no buy of its
    /// token is open: the stake comes back and the sector is free (center chain).
    FinishExit {
        /// The member's chain.
        chain: ChainId,
    },
}

impl AllianceAction {
    const APPLY: u8 = 10;
    const APPROVE: u8 = 11;
    const SIGN_AGREEMENT: u8 = 12;
    const SUSPEND: u8 = 13;
    const REINSTATE: u8 = 14;
    const START_EXIT: u8 = 51;
    const FINISH_EXIT: u8 = 52;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[
        Self::APPLY,
        Self::APPROVE,
        Self::SIGN_AGREEMENT,
        Self::SUSPEND,
        Self::REINSTATE,
        Self::START_EXIT,
        Self::FINISH_EXIT,
    ];

    /// Writes the action: its tag, then its fields.
    pub fn encode_into(&self, w: &mut Writer) {
        match self {
            Self::Apply { application } => {
                w.u8(Self::APPLY).put(application);
            }
            Self::Approve { chain } => {
                w.u8(Self::APPROVE).put(chain);
            }
            Self::SignAgreement { chain } => {
                w.u8(Self::SIGN_AGREEMENT).put(chain);
            }
            Self::Suspend { chain } => {
                w.u8(Self::SUSPEND).put(chain);
            }
            Self::Reinstate { chain } => {
                w.u8(Self::REINSTATE).put(chain);
            }
            Self::StartExit { chain, final_ms } => {
                w.u8(Self::START_EXIT).put(chain).u64(*final_ms);
            }
            Self::FinishExit { chain } => {
                w.u8(Self::FINISH_EXIT).put(chain);
            }
        }
    }

    /// Reads the fields of the action whose tag, one of [`Self::TAGS`], was just read.
    pub fn decode_fields(tag: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match tag {
            Self::APPLY => Ok(Self::Apply {
                application: r.get()?,
            }),
            Self::APPROVE => Ok(Self::Approve { chain: r.get()? }),
            Self::SIGN_AGREEMENT => Ok(Self::SignAgreement { chain: r.get()? }),
            Self::SUSPEND => Ok(Self::Suspend { chain: r.get()? }),
            Self::REINSTATE => Ok(Self::Reinstate { chain: r.get()? }),
            Self::START_EXIT => Ok(Self::StartExit {
                chain: r.get()?,
                final_ms: r.u64()?,
            }),
            Self::FINISH_EXIT => Ok(Self::FinishExit { chain: r.get()? }),
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }
}
