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

/// The latest 200 audit events the caller may read.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    responses((status = 200, body = Vec<AuditEventView>), (status = 401, body = domain::wire::ApiErrorBody)))]
pub async fn list_audit(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<AuditEventView>>, ApiError> {
    Ok(Json(domain::audit::list(&s.platform, &actor, 200).await?))
}
