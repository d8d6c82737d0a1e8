//! Shells: open one on a build, list and read sessions and their transcripts;
//! the caller's SSH keys. The terminal itself is the WebSocket in `terminal`.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{NewSshKey, ShellSessionView, ShellTicket, SshKeyView, TranscriptEvent};
use uuid::Uuid;

/// Opens a shell session on a live build; attach within its TTL with the one-time token.
#[utoipa::path(post, path = "/api/v1/builds/{id}/shell", tag = "shells", params(("id" = Uuid, Path)),
    responses((status = 201, body = ShellTicket), (status = 403, body = domain::wire::ApiErrorBody),
              (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn open_shell(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<ShellTicket>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::shell::sessions::open_web(&s.platform, &actor, id).await?)))
}

/// Shell sessions on a build (yours; all of them for project admins and auditors).
#[utoipa::path(get, path = "/api/v1/builds/{id}/shells", tag = "shells", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ShellSessionView>)))]
pub async fn list_shells(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<ShellSessionView>>, ApiError> {
    Ok(axum::Json(domain::shell::sessions::list_for_build(&s.platform, &actor, id).await?))
}

/// One shell session.
#[utoipa::path(get, path = "/api/v1/shells/{id}", tag = "shells", params(("id" = Uuid, Path)),
    responses((status = 200, body = ShellSessionView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_shell(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ShellSessionView>, ApiError> {
    Ok(axum::Json(domain::shell::sessions::get(&s.platform, &actor, id).await?))
}

/// Everything typed and printed in a session, in order.
#[utoipa::path(get, path = "/api/v1/shells/{id}/transcript", tag = "shells", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<TranscriptEvent>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn transcript(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<TranscriptEvent>>, ApiError> {
    Ok(axum::Json(domain::shell::sessions::transcript(&s.platform, &actor, id).await?))
}

/// The caller's SSH public keys.
#[utoipa::path(get, path = "/api/v1/me/ssh-keys", tag = "account", responses((status = 200, body = Vec<SshKeyView>)))]
pub async fn list_keys(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<SshKeyView>>, ApiError> {
    Ok(axum::Json(domain::shell::keys::list(&s.platform, &actor).await?))
}

/// Adds an SSH public key (ed25519, ecdsa, or rsa of at least 3072 bits).
#[utoipa::path(post, path = "/api/v1/me/ssh-keys", tag = "account", request_body = NewSshKey,
    responses((status = 201, body = SshKeyView), (status = 409, body = domain::wire::ApiErrorBody),
              (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn add_key(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewSshKey>,
) -> Result<(StatusCode, axum::Json<SshKeyView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::shell::keys::add(&s.platform, &actor, input).await?)))
}

/// Removes one of the caller's SSH keys.
#[utoipa::path(delete, path = "/api/v1/me/ssh-keys/{id}", tag = "account", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn remove_key(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::shell::keys::remove(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
