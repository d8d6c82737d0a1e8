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
        {
            if let domain::DomainError::Internal(inner) = &e {
                tracing::error!(error = ?inner, "server function failed");
            }
            set_rpc_status(e.code());
        }
        AppError { code: e.code(), message: e.to_string() }
    }
}

/// A server-function call answers with the error's HTTP status (403, 404, 422…)
/// rather than server_fn's default 500. Page renders keep theirs: one failing
/// section must not change a page's status.
#[cfg(feature = "ssr")]
fn set_rpc_status(code: ErrorCode) {
    let is_rpc =
        leptos::prelude::use_context::<http::request::Parts>().is_some_and(|p| p.uri.path().starts_with("/rpc/"));
    if let (true, Some(res)) = (is_rpc, leptos::prelude::use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(status) = http::StatusCode::from_u16(code.http_status()) {
            res.set_status(status);
        }
    }
}

impl From<domain::types::ParseError> for AppError {
    fn from(e: domain::types::ParseError) -> Self {
        AppError { code: ErrorCode::Invalid, message: e.to_string() }
    }
}
