//! The Supabase kit over HTTP: linking a Supabase project (with its
//! Management API token, sealed on arrival) and `/api/supabase-proxy/{*path}`,
//! the allow-listed, authorised and audited way to the Management API; and
//! the kit's local mode on a build's own database (`/api/v1/builds/{id}/database/…`).
//! Thin edges over `domain::supabase`.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::wire::{SupabaseLinkInput, SupabaseLinkView};
use uuid::Uuid;

/// The Supabase projects linked to tenants and projects you see (never their tokens).
#[utoipa::path(get, path = "/api/v1/supabase/links", tag = "tenants", responses((status = 200, body = Vec<SupabaseLinkView>)))]
pub async fn list_links(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<SupabaseLinkView>>, ApiError> {
    Ok(axum::Json(domain::supabase::links(&s.platform, &actor).await?))
}

/// Links a Supabase project (ref, and a Management API token sealed on arrival) to a tenant or one of its projects.
#[utoipa::path(post, path = "/api/v1/supabase/links", tag = "tenants", request_body = SupabaseLinkInput,
    responses((status = 201, body = SupabaseLinkView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn link(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<SupabaseLinkInput>,
) -> Result<(StatusCode, axum::Json<SupabaseLinkView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::supabase::link(&s.platform, &actor, input).await?)))
}

/// Unlinks a Supabase project; its token is deleted.
#[utoipa::path(delete, path = "/api/v1/supabase/links/{id}", tag = "tenants", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn unlink(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::supabase::unlink(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One Management API call through the kit: allow-listed, checked against the caller's rights on the ref,
/// forwarded with the link's token, audited.
pub async fn proxy(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    method: Method,
    Path(path): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = domain::supabase::proxy::KitRequest {
        method: method.as_str().to_owned(),
        path: format!("/{path}"),
        query,
        body: body.to_vec(),
    };
    let answer = domain::supabase::proxy::call(&s.platform, &actor, req).await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (status, answer.body).into_response();
    let headers = resp.headers_mut();
    let content_type = answer.content_type.unwrap_or_else(|| "application/json".into());
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = answer.retry_after.and_then(|r| HeaderValue::from_str(&r).ok()) {
        headers.insert(header::RETRY_AFTER, v);
    }
    Ok(resp)
}

/// One SQL statement for a build's database.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct DatabaseQuery {
    /// One statement (a second is refused); at most 100 KiB.
    query: String,
}

/// The kit's local mode: one statement on a build's own database that may write (development and staging,
/// for those with the tools there; never production). Audited; at most 1,000 rows back.
#[utoipa::path(post, path = "/api/v1/builds/{id}/database/query", tag = "builds", params(("id" = Uuid, Path)),
    request_body = DatabaseQuery,
    responses((status = 200, description = "{columns, result, truncated, rows_affected}"),
        (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn query_database(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(q): Json<DatabaseQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    Ok(axum::Json(domain::supabase::local::query(&s.platform, &actor, id, &q.query, true).await?))
}

/// The kit's local mode, read-only: one statement as the database's read-only role (5 s, 1,000 rows). Audited.
#[utoipa::path(post, path = "/api/v1/builds/{id}/database/query/read-only", tag = "builds", params(("id" = Uuid, Path)),
    request_body = DatabaseQuery,
    responses((status = 200, description = "{columns, result, truncated}"),
        (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn query_database_read_only(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(q): Json<DatabaseQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    Ok(axum::Json(domain::supabase::local::query(&s.platform, &actor, id, &q.query, false).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct LogsQuery {
    level: Option<String>,
    search: Option<String>,
    hours: Option<u32>,
}

/// The kit's local mode: a build's last 100 log lines within `hours` (default 1), by level and text. Audited.
#[utoipa::path(get, path = "/api/v1/builds/{id}/database/logs", tag = "builds", params(("id" = Uuid, Path), LogsQuery),
    responses((status = 200, description = "{columns, result}"), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn database_logs(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Query(q): Query<LogsQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let search = q.search.unwrap_or_default();
    let v = domain::supabase::local::logs(&s.platform, &actor, id, q.level.as_deref(), &search, q.hours.unwrap_or(1))
        .await?;
    Ok(axum::Json(v))
}
