//! The alliance: partners, applicants and their credentials.

use milk_core::alliance::Status;
use milk_core::brand::BrandPolicy;
use milk_core::genesis::ChainSpec;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A partner or applicant.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[schema(as = AllianceMember)]
pub struct MemberView {
    /// Its brand chain.
    pub chain: String,
    /// The company's name.
    pub name: String,
    /// Its sector (one partner per sector).
    pub sector: String,
    /// Its Brand Token.
    pub symbol: String,
    /// The token's decimals.
    pub decimals: u8,
    /// `applied`, `admitted`, `suspended`, `exiting` (leaving: no conversions, its market
    /// only buys back, redemptions until the final date) or `exited`.
    #[schema(value_type = String)]
    pub status: Status,
    /// Its exit, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitView>,
    /// The issuer key, which signs its conversions and refunds.
    pub issuer: String,
    /// Members that approved its application.
    pub approvals: Vec<String>,
    /// Approvals it needed.
    pub quorum: u32,
    /// When TICA signed its agreement (Unix ms); absent for applicants and genesis partners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_at_ms: Option<u64>,
    /// Tokens issued to TICA's inventory when its chain was created, whole units.
    pub initial_float: String,
    /// Its token's rules.
    #[schema(value_type = Object)]
    pub policy: BrandPolicy,
    /// Whether this node hosts its brand chain.
    pub hosted: bool,
    /// For a partner admitted after the genesis: its brand chain's starting definition,
    /// derived from this record, which `milk verify` rebuilds the genesis block from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub chain_spec: Option<ChainSpec>,
}

/// A partner's exit.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ExitView {
    /// When it started (Unix ms): conversions and buys of its token stopped then.
    pub started_ms: u64,
    /// The final date it committed to (Unix ms): redemptions and sales until then.
    pub final_ms: u64,
    /// Whether TICA started it, for cause.
    pub for_cause: bool,
}

impl From<milk_core::alliance::Exit> for ExitView {
    fn from(e: milk_core::alliance::Exit) -> ExitView {
        ExitView {
            started_ms: e.started_ms,
            final_ms: e.final_ms,
            for_cause: e.for_cause,
        }
    }
}

/// A new partner API credential: the token is shown once and never stored.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct PartnerCredential {
    /// The brand chain it acts for.
    pub chain: String,
    /// Its id.
    pub id: String,
    /// The bearer token to hand to the partner's engineers.
    pub token: String,
}
