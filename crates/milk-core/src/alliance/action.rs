//! The alliance's registry on the center chain: applying, approving, admitting, suspending.
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
}

impl AllianceAction {
    const APPLY: u8 = 10;
    const APPROVE: u8 = 11;
    const SIGN_AGREEMENT: u8 = 12;
    const SUSPEND: u8 = 13;
    const REINSTATE: u8 = 14;

    /// The wire tags of these actions.
    pub const TAGS: &'static [u8] = &[
        Self::APPLY,
        Self::APPROVE,
        Self::SIGN_AGREEMENT,
        Self::SUSPEND,
        Self::REINSTATE,
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
            tag => Err(DecodeError::UnknownTag {
                what: "action",
                tag,
            }),
        }
    }
}
