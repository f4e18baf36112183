//! Submitting signed transactions, and what became of each.

use crate::error::ErrorBody;
use milk_core::codec::Encode;
use milk_core::tx::{Action, SignedTransaction, Transaction};
use milk_core::{Address, Signature};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// docs/ENCODING.md's first worked example: alice pays bob 12.5 MLK, signed.
pub const EXAMPLE_TRANSFER: &str = "010000000663656e7465727d04f6e20b601fbe0f43e01f94eb1bc5e5402cc4e7fa60350cac6d864a79cd4b0000000000000000000001ba60d3380001ebe387d45a81798ee994b5369d8d96edff168b13f2e0e85988568ad77cf43dba000000034d4c4b0000000000000000000000004a817c800000000d666f7220796f75722074726970acf02a5f3591b4ae651639ee017c22f0537832e67e988c917d649ed65329bf14c159a1dab2255732c6689d92c4e808c530ca560046bccb7873759e9800d82804";

/// Signed transactions to submit.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// Each a signed transaction in its canonical encoding, hex (docs/ENCODING.md).
    #[schema(example = json!([EXAMPLE_TRANSFER]))]
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
    pub action: Action,
}

impl OperatorActionRequest {
    /// The action, if a transaction can carry it: one holding it, as the node would sign it
    /// for `chain`, decodes back to exactly it within every transaction's size bound. JSON
    /// can say more than the canonical encoding carries (a field past its bound); signed,
    /// such an action would make a block no replica or verifier could read.
    pub fn checked_action(&self, chain: &milk_core::ChainId) -> Result<&Action, String> {
        let tx = Transaction {
            chain: chain.clone(),
            sender: Address::unowned("milk/operator-action-check/v1", &[]),
            sequence: u64::MAX,
            expires_at_ms: u64::MAX,
            action: self.action.clone(),
        };
        let signed = SignedTransaction {
            tx,
            signature: Signature::NONE,
        };
        let why = match SignedTransaction::decode_checked(&signed.to_bytes()) {
            Ok(decoded) if decoded == signed => return Ok(&self.action),
            Ok(_) => "it changes when encoded".to_owned(),
            Err(e) => e.to_string(),
        };
        Err(format!("the action does not fit a transaction: {why}"))
    }
}
