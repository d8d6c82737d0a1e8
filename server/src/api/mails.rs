//! Caught mail of development and staging environments: list and search,
//! read, the exact bytes (`message/rfc822`), attachments, delete; and the
//! console's own mailbox (platform owners, while no SMTP relay is set).

use super::error::ApiError;
use super::extract::{ApiActor, Path};
use crate::startup::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::wire::{MailSummary, MailView};
use uuid::Uuid;

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct Search {
    /// `from:` `to:` `subject:` `has:attachment` `is:unread` and free words.
    q: Option<String>,
    limit: Option<i64>,
}

/// An environment's caught mail, newest first.
#[utoipa::path(get, path = "/api/v1/environments/{id}/mails", tag = "mails", params(("id" = Uuid, Path), Search),
    responses((status = 200, body = Vec<MailSummary>)))]
pub async fn list_mails(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
    Query(q): Query<Search>,
) -> Result<axum::Json<Vec<MailSummary>>, ApiError> {
    let query = q.q.unwrap_or_default();
    Ok(axum::Json(domain::mail::store::list(&s.platform, &actor, env, &query, q.limit.unwrap_or(100)).await?))
}

/// One message, parsed (marks it read).
#[utoipa::path(get, path = "/api/v1/environments/{id}/mails/{mail}", tag = "mails",
    params(("id" = Uuid, Path), ("mail" = Uuid, Path)),
    responses((status = 200, body = MailView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_mail(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((env, id)): Path<(Uuid, Uuid)>,
) -> Result<axum::Json<MailView>, ApiError> {
    Ok(axum::Json(domain::mail::store::get(&s.platform, &actor, env, id).await?))
}

/// The message exactly as it was received, as an `.eml` file.
#[utoipa::path(get, path = "/api/v1/environments/{id}/mails/{mail}/raw", tag = "mails",
    params(("id" = Uuid, Path), ("mail" = Uuid, Path)),
    responses((status = 200, content_type = "message/rfc822", body = Vec<u8>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn raw_mail(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((env, id)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let raw = domain::mail::store::raw(&s.platform, &actor, env, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "message/rfc822".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{id}.eml\"")),
        ],
        raw,
    )
        .into_response())
}

/// One attachment, decoded.
#[utoipa::path(get, path = "/api/v1/environments/{id}/mails/{mail}/attachments/{index}", tag = "mails",
    params(("id" = Uuid, Path), ("mail" = Uuid, Path), ("index" = u32, Path)),
    responses((status = 200, body = Vec<u8>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn attachment(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((env, id, index)): Path<(Uuid, Uuid, u32)>,
) -> Result<Response, ApiError> {
    let (name, ctype, bytes) = domain::mail::store::attachment(&s.platform, &actor, env, id, index).await?;
    let safe: String = name.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/')).collect();
    Ok((
        [
            (header::CONTENT_TYPE, ctype),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Deletes one message.
#[utoipa::path(delete, path = "/api/v1/environments/{id}/mails/{mail}", tag = "mails",
    params(("id" = Uuid, Path), ("mail" = Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn delete_mail(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((env, id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    domain::mail::store::delete(&s.platform, &actor, env, Some(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes all of an environment's caught mail.
#[utoipa::path(delete, path = "/api/v1/environments/{id}/mails", tag = "mails", params(("id" = Uuid, Path)),
    responses((status = 204)))]
pub async fn delete_all(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::mail::store::delete(&s.platform, &actor, env, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/environments/{id}/mails/ws`: a text frame `new` whenever mail
/// arrives for the environment, so an open viewer refreshes at once.
pub async fn events(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
    headers: axum::http::HeaderMap,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    if let Err(e) = crate::middleware::same_origin_websocket(&headers, &s.platform.settings.public_url) {
        return e.into_response();
    }
    // An environment the caller cannot see is unknown (404); one whose stage keeps mail from their role is 403.
    if let Err(e) = domain::mail::store::authorize_viewer(&s.platform, &actor, env).await {
        return ApiError::from(e).into_response();
    }
    let mut rx = s.mail_hub.0.subscribe();
    // The viewer only listens: small client frames are plenty.
    ws.max_message_size(64 << 10).max_frame_size(64 << 10).on_upgrade(move |mut socket| async move {
        use axum::extract::ws::Message;
        use tokio::sync::broadcast::error::RecvError;
        let _open = domain::metrics::OpenSocket::open();
        loop {
            tokio::select! {
                n = rx.recv() => match n {
                    Ok(id) if id != env => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if socket.send(Message::Text("new".into())).await.is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    _ => {}
                },
            }
        }
    })
}

/// The console's own mail while no SMTP relay is configured, newest first (platform owners).
#[utoipa::path(get, path = "/api/v1/console-mail", tag = "mails",
    responses((status = 200, body = Vec<domain::wire::ConsoleMailSummary>), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn list_console_mail(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<domain::wire::ConsoleMailSummary>>, ApiError> {
    Ok(axum::Json(domain::mail::console::list(&s.platform, &actor, 200).await?))
}

/// One console message with its text (marks it read; audited as `console_mail.read`).
#[utoipa::path(get, path = "/api/v1/console-mail/{id}", tag = "mails", params(("id" = Uuid, Path)),
    responses((status = 200, body = domain::wire::ConsoleMailView), (status = 403, body = domain::wire::ApiErrorBody),
              (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_console_mail(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<domain::wire::ConsoleMailView>, ApiError> {
    Ok(axum::Json(domain::mail::console::get(&s.platform, &actor, id).await?))
}
