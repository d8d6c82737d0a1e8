//! `GET /metrics` (outside `/api`, where scrapers look): the console's
//! figures in Prometheus' text format, for platform staff, with a session,
//! a personal access token or a token scoped to `metrics` only.

use super::error::ApiError;
use super::extract::ApiActor;
use crate::startup::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

pub async fn metrics(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::response::Response, ApiError> {
    let text = domain::metrics::render(&s.platform, &actor).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}
