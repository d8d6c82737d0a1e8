//! Branch commands (issue 20): Fork and Delete, as on an Odoo.sh branch.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{BuildNowOutcome, ForkBranch};
use uuid::Uuid;

/// Creates a new branch in the repository at this branch's head (with the project's deploy key)
/// and builds it as a push (those who may build on the new branch's stage; audited).
#[utoipa::path(post, path = "/api/v1/environments/{id}/fork", tag = "builds", params(("id" = Uuid, Path)),
    request_body = ForkBranch,
    responses((status = 202, body = BuildNowOutcome), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn fork(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
    Json(input): Json<ForkBranch>,
) -> Result<(StatusCode, axum::Json<BuildNowOutcome>), ApiError> {
    let name = domain::types::BranchName::parse(input.branch.trim()).map_err(domain::error::DomainError::from)?;
    let outcome = domain::builds::branches::fork(&s.platform, &actor, env, &name).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(BuildNowOutcome { outcome })))
}

/// Deletes a branch: from the repository, then its builds and everything they run (not production;
/// those who may change the branch's settings; audited).
#[utoipa::path(delete, path = "/api/v1/environments/{id}", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 200, body = BuildNowOutcome), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
) -> Result<axum::Json<BuildNowOutcome>, ApiError> {
    let outcome = domain::builds::branches::delete(&s.platform, &actor, env).await?;
    Ok(axum::Json(BuildNowOutcome { outcome }))
}

/// A development or staging build's database as a `pg_dump` custom-format file, streamed
/// (those with the build's tools; audited). Production is downloaded as a backup.
#[utoipa::path(get, path = "/api/v1/builds/{id}/dump", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn dump(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(build): Path<Uuid>,
) -> Result<axum::response::Response, ApiError> {
    use domain::error::DomainError;
    let (copy, name) = domain::builds::dump::dump(&s.platform, &actor, build).await?;
    let file = tokio::fs::File::open(&copy.path).await.map_err(|e| DomainError::Internal(e.into()))?;
    let len = file.metadata().await.map_err(|e| DomainError::Internal(e.into()))?.len();
    // Made for this request, so not byte-stable: no ranges.
    Ok(super::range::attachment(StatusCode::OK, file, copy, len, &name, "application/octet-stream", "none"))
}
