//! The error every server function returns: a stable code and a message that
//! is safe to show. Internal details never cross the wire; they are logged once
//! on the server where the error is converted.

use domain::ErrorCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let message = match value {
            ServerFnErrorErr::Request(_) => "the server could not be reached; check your connection".to_string(),
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => {
                format!("the request was malformed: {m}")
            }
            other => other.to_string(),
        };
        AppError { code: ErrorCode::Internal, message }
    }
}

impl From<domain::DomainError> for AppError {
    fn from(e: domain::DomainError) -> Self {
        #[cfg(feature = "ssr")]
        if let domain::DomainError::Internal(inner) = &e {
            tracing::error!(error = ?inner, "server function failed");
        }
        AppError { code: e.code(), message: e.to_string() }
    }
}

impl From<domain::types::ParseError> for AppError {
    fn from(e: domain::types::ParseError) -> Self {
        AppError { code: ErrorCode::Invalid, message: e.to_string() }
    }
}
