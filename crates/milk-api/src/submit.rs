//! Submitting signed transactions, and what became of each.

use crate::error::ErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Signed transactions to submit.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// Each a signed transaction in its canonical encoding, hex.
    pub txs: Vec<String>,
}

/// What became of one submitted transaction.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct SubmitResult {
    /// Its id (absent if it could not be decoded).
    pub id: Option<String>,
    /// `pending`, `committed` or `rejected`.
    pub status: String,
    /// The block, once committed.
    pub height: Option<u64>,
    /// The position in the block, once committed.
    pub index: Option<u32>,
    /// Why it was rejected.
    pub error: Option<ErrorBody>,
}

/// One result per submitted transaction, in order.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubmitResponse {
    /// The results.
    pub results: Vec<SubmitResult>,
}

impl SubmitResult {
    /// A transaction that was not committed and never will be, with why.
    pub fn rejected(id: Option<milk_core::tx::TxId>, code: &str, message: String) -> SubmitResult {
        SubmitResult {
            id: id.map(|i| i.to_hex()),
            status: "rejected".into(),
            height: None,
            index: None,
            error: Some(ErrorBody {
                code: code.to_owned(),
                message,
            }),
        }
    }
}

/// An action TICA asks its node to sign with the operator's key (which never leaves the
/// node) and commit through the node's operator lane.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OperatorActionRequest {
    /// The chain (default `center`).
    #[serde(default)]
    pub chain: Option<String>,
    /// The action, as in a transaction's JSON (`{"type": "suspend", "chain": "gym"}`).
    #[schema(value_type = Object)]
    pub action: milk_core::tx::Action,
}
