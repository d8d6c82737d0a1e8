//! Builds: list a project's recent builds, rebuild, kill; webhook settings.

use super::error::ApiError;
use super::extract::{ApiActor, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{BuildView, RunEventView, ShareLink, WebhookSettings};
use uuid::Uuid;

/// The five newest builds of each branch of a project, newest first, a page
/// of branches at a time (production, staging, then development by name;
/// 20 branches per page unless `per_page` says otherwise, at most 100).
#[utoipa::path(get, path = "/api/v1/projects/{id}/builds", tag = "builds",
    params(("id" = Uuid, Path), domain::builds::grid::PageQuery),
    responses((status = 200, body = Vec<BuildView>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_builds(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    axum::extract::Query(q): axum::extract::Query<domain::builds::grid::PageQuery>,
) -> Result<axum::Json<Vec<BuildView>>, ApiError> {
    Ok(axum::Json(domain::builds::grid::page_builds(&s.platform, &actor, id, q).await?))
}

/// One build.
#[utoipa::path(get, path = "/api/v1/builds/{id}", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 200, body = BuildView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_build(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<BuildView>, ApiError> {
    Ok(axum::Json(domain::builds::queue::get(&s.platform, &actor, id).await?))
}

/// Queues the same commit again as a new build.
#[utoipa::path(post, path = "/api/v1/builds/{id}/rebuild", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 201, body = BuildView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn rebuild(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<BuildView>), ApiError> {
    let new = domain::builds::queue::rebuild(&s.platform, &actor, id).await?;
    Ok((StatusCode::CREATED, axum::Json(domain::builds::queue::get(&s.platform, &actor, new).await?)))
}

/// Stops a build: a pending one at once, a running one as soon as its worker sees it.
#[utoipa::path(post, path = "/api/v1/builds/{id}/kill", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn kill(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::builds::queue::kill(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The GitHub webhook URL and secret of a project (project admins).
#[utoipa::path(get, path = "/api/v1/projects/{id}/webhook", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookSettings), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn webhook_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<WebhookSettings>, ApiError> {
    Ok(axum::Json(domain::builds::webhooks::settings(&s.platform, &actor, id).await?))
}

/// A share link to a live build's preview, valid for `hours` (default 24, max 168).
#[utoipa::path(post, path = "/api/v1/builds/{id}/share", tag = "builds", params(("id" = Uuid, Path), ("hours" = Option<u32>, Query)),
    responses((status = 200, body = ShareLink), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn share(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    axum::extract::Query(q): axum::extract::Query<HoursQuery>,
) -> Result<axum::Json<ShareLink>, ApiError> {
    let url = domain::builds::preview::share_link(&s.platform, &actor, id, q.hours.unwrap_or(24)).await?;
    Ok(axum::Json(ShareLink { url }))
}

#[derive(serde::Deserialize)]
pub struct HoursQuery {
    hours: Option<u32>,
}

/// `POST /builds/{id}/connect` (console's Connect form): opens the build's
/// Odoo signed in as its admin where the role matrix allows, its login page
/// otherwise (see `domain::builds::connect`). A POST, because minting the
/// ticket is audited: a cross-site GET (a link or an image) must not do it,
/// and the Origin check covers POSTs.
pub async fn connect(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::response::Redirect, ApiError> {
    let url = domain::builds::connect::open(&s.platform, &actor, id).await?;
    Ok(axum::response::Redirect::to(&url))
}

#[derive(serde::Deserialize)]
pub struct EventsQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// A build's log and phase events after `after` (an event id), oldest first.
#[utoipa::path(get, path = "/api/v1/builds/{id}/events", tag = "builds",
    params(("id" = Uuid, Path), ("after" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<RunEventView>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn events(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    axum::extract::Query(q): axum::extract::Query<EventsQuery>,
) -> Result<axum::Json<Vec<RunEventView>>, ApiError> {
    let list =
        domain::builds::queue::events(&s.platform, &actor, id, q.after.unwrap_or(0), q.limit.unwrap_or(1000)).await?;
    Ok(axum::Json(list))
}
