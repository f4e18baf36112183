//! The errors clients see: a status, a stable code and a sentence, always as
//! `{"error": {"code": …, "message": …}}`.

use crate::worker::SendError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use milk_api::error::ErrorBody;
use serde::Serialize;
use utoipa::ToSchema;

/// An error as clients see it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorResponse {
    error: ErrorBody,
}

impl ApiError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The sentence for people.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// A transaction the chain refused, with the chain rule's own code.
    pub(crate) fn refused(error: &ErrorBody) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            &error.code,
            error.message.clone(),
        )
    }

    pub(crate) fn internal(context: &str, e: impl std::fmt::Display) -> ApiError {
        tracing::error!(context, error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the node log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            error: ErrorBody {
                code: self.code,
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<SendError> for ApiError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
            }
            SendError::Stopped => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                e.to_string(),
            ),
        }
    }
}
