//! One error type for every domain operation, with a stable machine-readable
//! code and the HTTP status the edge should answer with.
//!
//! Inside the domain, unexpected failures carry `anyhow` context; at the edge
//! they become [`DomainError::Internal`] and only a generic message leaves the
//! server (the detail is logged once, where it is handled).

use serde::{Deserialize, Serialize};

/// Stable codes that clients (REST, UI) can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    Throttled,
    Unavailable,
    Internal,
    /// The request named a host this console does not serve (DNS rebinding); HTTP 421.
    Misdirected,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Invalid => 422,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::Throttled => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
            ErrorCode::Misdirected => 421,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Throttled => "throttled",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::Misdirected => "misdirected",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input that does not parse; the message says what is wrong and is safe to show.
    #[error("{0}")]
    Invalid(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("you are not allowed to do that")]
    Forbidden,
    /// Not allowed, with the rule that says so (safe to show).
    #[error("{0}")]
    Denied(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; try again in {0} seconds")]
    Throttled(u64),
    /// A per-tenant limit on work in flight is reached (429); the message says which.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Unavailable(String),
    #[cfg(feature = "server")]
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl DomainError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DomainError::Invalid(_) => ErrorCode::Invalid,
            DomainError::Unauthenticated => ErrorCode::Unauthenticated,
            DomainError::Forbidden | DomainError::Denied(_) => ErrorCode::Forbidden,
            DomainError::NotFound(_) => ErrorCode::NotFound,
            DomainError::Conflict(_) => ErrorCode::Conflict,
            DomainError::Throttled(_) | DomainError::Busy(_) => ErrorCode::Throttled,
            DomainError::Unavailable(_) => ErrorCode::Unavailable,
            #[cfg(feature = "server")]
            DomainError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<crate::types::ParseError> for DomainError {
    fn from(e: crate::types::ParseError) -> Self {
        DomainError::Invalid(e.to_string())
    }
}

#[cfg(feature = "server")]
impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        if let sqlx::Error::Database(db) = &e {
            match db.kind() {
                ErrorKind::UniqueViolation => return DomainError::Conflict("that name is already taken".into()),
                // 42501: insufficient_privilege, raised by row-level security on writes.
                _ if db.code().as_deref() == Some("42501") => return DomainError::Forbidden,
                _ => {}
            }
        }
        DomainError::Internal(anyhow::Error::new(e))
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
