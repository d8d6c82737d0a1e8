//! Personal access tokens.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{CreatedToken, NewToken, TokenView};
use uuid::Uuid;

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "account", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<TokenView>>, ApiError> {
    Ok(axum::Json(domain::accounts::list_tokens(&s.platform, &actor).await?))
}

/// Creates a token. The secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "account", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewToken>,
) -> Result<(StatusCode, axum::Json<CreatedToken>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::accounts::create_token(&s.platform, &actor, input).await?)))
}

/// Revokes a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::accounts::revoke_token(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
