//! The support center over REST: runbooks (staff write, everyone reads) and
//! support requests (a tenant's people open, staff answer). Thin edges over
//! `domain::support`.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{NewSupportRequest, RunbookInput, RunbookView, SupportAnswer, SupportRequestView};
use uuid::Uuid;

/// Every runbook.
#[utoipa::path(get, path = "/api/v1/runbooks", tag = "system", responses((status = 200, body = Vec<RunbookView>)))]
pub async fn runbooks(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<RunbookView>>, ApiError> {
    Ok(axum::Json(domain::support::runbooks(&s.platform, &actor).await?))
}

/// Writes a runbook (platform staff).
#[utoipa::path(put, path = "/api/v1/runbooks", tag = "system", request_body = RunbookInput,
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn save_runbook(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<RunbookInput>,
) -> Result<StatusCode, ApiError> {
    domain::support::save_runbook(&s.platform, &actor, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The support requests the caller sees, newest first.
#[utoipa::path(get, path = "/api/v1/support/requests", tag = "system", responses((status = 200, body = Vec<SupportRequestView>)))]
pub async fn requests(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<SupportRequestView>>, ApiError> {
    Ok(axum::Json(domain::support::requests(&s.platform, &actor).await?))
}

/// Opens a request for one of the caller's tenants.
#[utoipa::path(post, path = "/api/v1/support/requests", tag = "system", request_body = NewSupportRequest,
    responses((status = 201, body = SupportRequestView), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn open(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewSupportRequest>,
) -> Result<(StatusCode, axum::Json<SupportRequestView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::support::open(&s.platform, &actor, input).await?)))
}

/// Moves a request to a state, with an answer (staff; a tenant's admins may close theirs).
#[utoipa::path(post, path = "/api/v1/support/requests/{id}/state", tag = "system", request_body = SupportAnswer,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SupportRequestView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<SupportAnswer>,
) -> Result<axum::Json<SupportRequestView>, ApiError> {
    Ok(axum::Json(domain::support::answer(&s.platform, &actor, id, input).await?))
}
