//! The caller's own account, and the audit events they may read.

use super::error::ApiError;
use super::extract::ApiActor;
use crate::startup::AppState;
use axum::extract::State;
use axum::Json;
use domain::wire::{AuditEventView, Me};

/// The authenticated user and their tenants.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = domain::wire::ApiErrorBody)))]
pub async fn get_me(State(s): State<AppState>, ApiActor(actor): ApiActor) -> Result<Json<Me>, ApiError> {
    Ok(Json(domain::accounts::me(&s.platform, &actor).await?))
}

/// The audit events the caller may read, newest first, filtered (actor email part,
/// action prefix, project, RFC 3339 time range; 200 by default, at most 10,000).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(("actor" = Option<String>, Query), ("action" = Option<String>, Query), ("project" = Option<uuid::Uuid>, Query),
           ("since" = Option<String>, Query), ("until" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<AuditEventView>), (status = 401, body = domain::wire::ApiErrorBody)))]
pub async fn list_audit(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    axum::extract::Query(f): axum::extract::Query<domain::wire::AuditFilter>,
) -> Result<Json<Vec<AuditEventView>>, ApiError> {
    Ok(Json(domain::audit::search(&s.platform, &actor, &f).await?))
}

/// The same events as a CSV file.
#[utoipa::path(get, path = "/api/v1/audit/export.csv", tag = "audit",
    params(("actor" = Option<String>, Query), ("action" = Option<String>, Query), ("project" = Option<uuid::Uuid>, Query),
           ("since" = Option<String>, Query), ("until" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_audit(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    axum::extract::Query(mut f): axum::extract::Query<domain::wire::AuditFilter>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    f.limit = Some(f.limit.unwrap_or(10_000));
    let events = domain::audit::search(&s.platform, &actor, &f).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"odooops-audit.csv\""),
        ],
        domain::audit::to_csv(&events),
    )
        .into_response())
}

/// Recomputes the hash chain and says where it was tampered with, if anywhere
/// (platform owners, operators and auditors).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = domain::wire::AuditVerification), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn verify_audit(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<domain::wire::AuditVerification>, ApiError> {
    Ok(Json(domain::audit::verify_for(&s.platform, &actor).await?))
}
