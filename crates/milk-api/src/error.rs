//! The error body every refusal carries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code (`unknown_chain`, `insufficient_balance`, …).
    #[schema(example = "insufficient_balance")]
    pub code: String,
    /// A sentence for people.
    #[schema(
        example = "transfer rejected: holds 9,988 MLK but this and the waiting transactions move 99,999,999 MLK"
    )]
    pub message: String,
}
