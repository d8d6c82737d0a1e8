//! `POST /api/webhooks/github/{project}`: GitHub's push and pull-request
//! events for a project. Authenticated by the signature alone.

use crate::startup::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::builds::webhooks::{self, Delivery, Outcome, WebhookError};
use domain::wire::ApiErrorBody;
use uuid::Uuid;

/// GitHub sends at most 25 MB; real push payloads are far smaller.
pub const MAX_BODY: usize = 5 * 1024 * 1024;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub async fn github(
    State(s): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = |status: StatusCode, code: &str, message: String| {
        (status, axum::Json(ApiErrorBody { code: code.into(), message })).into_response()
    };
    let Ok(project) = project.parse::<Uuid>() else {
        return error(StatusCode::UNAUTHORIZED, "unauthenticated", "invalid signature or unknown project".into());
    };
    let delivery = Delivery {
        event: header(&headers, "x-github-event").unwrap_or_default(),
        delivery_id: header(&headers, "x-github-delivery").unwrap_or_default(),
        signature: header(&headers, "x-hub-signature-256"),
        body: &body,
    };
    match webhooks::receive(&s.platform, project, delivery).await {
        Ok(Outcome::Accepted(outcome)) => {
            (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"outcome": outcome}))).into_response()
        }
        Ok(Outcome::Duplicate) => {
            (StatusCode::OK, axum::Json(serde_json::json!({"outcome": "duplicate delivery, already processed"})))
                .into_response()
        }
        Err(WebhookError::Unauthorized(m)) => error(StatusCode::UNAUTHORIZED, "unauthenticated", m),
        Err(WebhookError::Invalid(m)) => error(StatusCode::BAD_REQUEST, "invalid", m),
        Err(WebhookError::Domain(e)) => super::error::ApiError::from(e).into_response(),
    }
}
