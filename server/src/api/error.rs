//! The REST API's error: the domain error at the HTTP edge, answered as
//! JSON `{code, message}` with the matching status. Internal errors are
//! logged here, once, and answered with a generic message.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::wire::ApiErrorBody;
use domain::{DomainError, ErrorCode};

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn unauthenticated(message: &str) -> Self {
        ApiError { code: ErrorCode::Unauthenticated, message: message.into() }
    }

    pub fn not_found(message: &str) -> Self {
        ApiError { code: ErrorCode::NotFound, message: message.into() }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        if let DomainError::Internal(inner) = &e {
            tracing::error!(error = ?inner, "API request failed");
        }
        ApiError { code: e.code(), message: e.to_string() }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError { code: ErrorCode::Invalid, message: format!("the JSON body is not valid: {}", r.body_text()) }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError { code: ErrorCode::Invalid, message: format!("bad path parameter: {}", r.body_text()) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ApiErrorBody { code: self.code.as_str().into(), message: self.message };
        (status, axum::Json(body)).into_response()
    }
}
