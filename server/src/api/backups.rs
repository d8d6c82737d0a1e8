//! Backups over REST: list, take, follow, download (with or without the
//! filestore), restore, import an archive from elsewhere, and the project's
//! backup settings. Imports and downloads stream: an archive never sits in
//! memory.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::wire::{
    BackupEventView, BackupSettings, BackupView, RestoreApprovalView, RestoreDecision, RestoreQueued, RestoreRequest,
};
use domain::DomainError;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// An environment's backups, newest first.
#[utoipa::path(get, path = "/api/v1/environments/{id}/backups", tag = "backups", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<BackupView>)))]
pub async fn list_backups(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
) -> Result<axum::Json<Vec<BackupView>>, ApiError> {
    Ok(axum::Json(domain::backups::jobs::list(&s.platform, &actor, env).await?))
}

/// Takes a manual backup (production and staging; at most five a day).
#[utoipa::path(post, path = "/api/v1/environments/{id}/backups", tag = "backups", params(("id" = Uuid, Path)),
    responses((status = 202, body = BackupView), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn create_backup(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<BackupView>), ApiError> {
    let id = domain::backups::jobs::request(&s.platform, &actor, env).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(domain::backups::jobs::get(&s.platform, &actor, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/backups/{id}", tag = "backups", params(("id" = Uuid, Path)),
    responses((status = 200, body = BackupView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_backup(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<BackupView>, ApiError> {
    Ok(axum::Json(domain::backups::jobs::get(&s.platform, &actor, id).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct After {
    /// Only events after this id.
    after: Option<i64>,
}

/// A backup's log.
#[utoipa::path(get, path = "/api/v1/backups/{id}/events", tag = "backups", params(("id" = Uuid, Path), After),
    responses((status = 200, body = Vec<BackupEventView>)))]
pub async fn backup_events(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Query(q): Query<After>,
) -> Result<axum::Json<Vec<BackupEventView>>, ApiError> {
    Ok(axum::Json(domain::backups::jobs::events(&s.platform, &actor, id, q.after.unwrap_or(0)).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct DownloadQuery {
    /// `false` leaves the filestore out (default: included).
    filestore: Option<bool>,
    /// `true`: restored, neutralized (with the project's scrubbing) and zipped again, for use outside production.
    neutralized: Option<bool>,
}

/// The backup as Odoo's backup zip (or the imported dump), streamed. The
/// stored archive (with its filestore, or a dump) answers `Range: bytes=N-`
/// with 206 and a strong `ETag` that `If-Range` checks, so an interrupted
/// download resumes; the copies made per request (without filestore,
/// neutralized) are not byte-stable and say `Accept-Ranges: none`.
#[utoipa::path(get, path = "/api/v1/backups/{id}/download", tag = "backups", params(("id" = Uuid, Path), DownloadQuery),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), (status = 206, content_type = "application/zip", body = Vec<u8>),
              (status = 404, body = domain::wire::ApiErrorBody), (status = 416)))]
pub async fn download(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Query(q): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let neutralized = q.neutralized.unwrap_or(false);
    let with_filestore = q.filestore.unwrap_or(true);
    let (copy, name) = if neutralized {
        domain::backups::download::neutralized(&s.platform, &actor, id).await?
    } else {
        domain::backups::download::archive(&s.platform, &actor, id, with_filestore).await?
    };
    let mut file = tokio::fs::File::open(&copy.path).await.map_err(|e| DomainError::Internal(e.into()))?;
    let len = file.metadata().await.map_err(|e| DomainError::Internal(e.into()))?.len();
    let stable = !neutralized && !name.ends_with("_no-filestore.zip");
    let etag = format!("\"{}-{len}\"", id.simple());
    let range = if stable { super::range::requested(&headers, &etag, len) } else { super::range::Requested::Whole };
    let (status, start, count) = match range {
        super::range::Requested::Whole => (StatusCode::OK, 0, len),
        super::range::Requested::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        super::range::Requested::Unsatisfiable => {
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))])
                .into_response());
        }
    };
    if start > 0 {
        use tokio::io::AsyncSeekExt;
        file.seek(std::io::SeekFrom::Start(start)).await.map_err(|e| DomainError::Internal(e.into()))?;
    }
    use tokio::io::AsyncReadExt;
    let ctype = if name.ends_with(".zip") { "application/zip" } else { "application/octet-stream" };
    // The copy (a temporary file for S3 or without filestore) lives as long as the stream.
    let ranges = if stable { "bytes" } else { "none" };
    let mut response = super::range::attachment(status, file.take(count), copy, count, &name, ctype, ranges);
    if stable {
        let h = response.headers_mut();
        h.insert(header::ETAG, etag.parse().expect("an ETag header"));
        if status == StatusCode::PARTIAL_CONTENT {
            let range = format!("bytes {start}-{}/{len}", start + count - 1);
            h.insert(header::CONTENT_RANGE, range.parse().expect("a Content-Range header"));
        }
    }
    Ok(response)
}

/// Restores a backup into an environment of its project (a build that loads it).
/// Production needs `confirm` = the project's name, and project admin rights;
/// on a project requiring approval for production, the answer names the
/// request waiting for someone else (`approval_request`) and no build yet.
#[utoipa::path(post, path = "/api/v1/backups/{id}/restore", tag = "backups", params(("id" = Uuid, Path)), request_body = RestoreRequest,
    responses((status = 202, body = RestoreQueued), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn restore(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(r): Json<RestoreRequest>,
) -> Result<(StatusCode, axum::Json<RestoreQueued>), ApiError> {
    let queued = domain::backups::restore::request(&s.platform, &actor, id, r.target_env, r.confirm.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(queued)))
}

/// A project's production restores waiting for approval, and the recent decisions (members).
#[utoipa::path(get, path = "/api/v1/projects/{id}/restore-requests", tag = "backups", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<RestoreApprovalView>)))]
pub async fn list_restore_requests(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
) -> Result<axum::Json<Vec<RestoreApprovalView>>, ApiError> {
    Ok(axum::Json(domain::backups::approvals::list(&s.platform, &actor, project).await?))
}

/// Approves a production restore (release rights; never its requester): the restoring build is queued.
#[utoipa::path(post, path = "/api/v1/restore-requests/{id}/approve", tag = "backups", params(("id" = Uuid, Path)),
    responses((status = 200, body = RestoreApprovalView), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn approve_restore(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RestoreApprovalView>, ApiError> {
    Ok(axum::Json(domain::backups::approvals::approve(&s.platform, &actor, id).await?))
}

/// Rejects a production restore (release rights) or withdraws it (its requester).
#[utoipa::path(post, path = "/api/v1/restore-requests/{id}/reject", tag = "backups", params(("id" = Uuid, Path)),
    request_body = RestoreDecision,
    responses((status = 200, body = RestoreApprovalView), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn reject_restore(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(r): Json<RestoreDecision>,
) -> Result<axum::Json<RestoreApprovalView>, ApiError> {
    Ok(axum::Json(domain::backups::approvals::reject(&s.platform, &actor, id, r.reason.as_deref()).await?))
}

/// Imports an Odoo backup zip or a `pg_dump -Fc` dump into a staging or
/// development environment: the raw file as the body, or a form field `file`.
/// The caller's right to import there is checked before the body is read;
/// a tenant has at most two uploads in flight (429 beyond).
/// Hostile archives (paths escaping, links, bombs, oversize) are refused.
#[utoipa::path(post, path = "/api/v1/environments/{id}/imports", tag = "backups", params(("id" = Uuid, Path)),
    request_body(content = Vec<u8>, content_type = "application/zip"),
    responses((status = 202, body = RestoreQueued), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody), (status = 429, body = domain::wire::ApiErrorBody)))]
pub async fn import(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
    req: Request,
) -> Result<Response, ApiError> {
    let from_form = wants_html(req.headers());
    let result = receive_and_import(&s, &actor, env, req).await;
    if from_form {
        // A plain HTML form: back to the Backups tab, with the outcome.
        let to = match &result {
            Ok(q) => format!("/environments/{env}/backups?restoring={}", q.build_id.unwrap_or_default()),
            // Only the stable code travels in the URL: the page shows its own text for it,
            // so a crafted link cannot make the console say anything else.
            Err(e) => format!("/environments/{env}/backups?error={}", e.code.as_str()),
        };
        return Ok(Redirect::to(&to).into_response());
    }
    Ok((StatusCode::ACCEPTED, axum::Json(result?)).into_response())
}

fn wants_html(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("multipart/form-data"))
        && h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

async fn receive_and_import(
    s: &AppState,
    actor: &domain::auth::Actor,
    env: Uuid,
    req: Request,
) -> Result<RestoreQueued, ApiError> {
    // Authorized from the path alone, before a single byte of the body is read; holds a tenant upload slot.
    let ticket = domain::backups::restore::authorize_import(&s.platform, actor, env).await?;
    let infra = s.platform.builds.as_ref().ok_or(DomainError::Unavailable("builds are not configured".into()))?;
    let limit = infra.backups.limits.max_archive_bytes;
    let path = infra.backups.scratch.join(format!("upload-{}", Uuid::new_v4().simple()));
    let upload = domain::backups::store::LocalCopy::temporary(path.clone());
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let mut out = tokio::fs::File::create(&path).await.map_err(|e| DomainError::Internal(e.into()))?;
    let mut written = 0u64;
    let too_big = || DomainError::Invalid(format!("the upload is larger than the limit of {limit} bytes"));
    if multipart {
        let mut form = axum::extract::Multipart::from_request(req, &())
            .await
            .map_err(|e| DomainError::Invalid(format!("the form is not valid: {}", e.body_text())))?;
        let mut found = false;
        while let Some(mut field) =
            form.next_field().await.map_err(|e| DomainError::Invalid(format!("the upload broke off: {e}")))?
        {
            if field.name() != Some("file") {
                continue;
            }
            found = true;
            while let Some(chunk) =
                field.chunk().await.map_err(|e| DomainError::Invalid(format!("the upload broke off: {e}")))?
            {
                written += chunk.len() as u64;
                if written > limit {
                    return Err(too_big().into());
                }
                out.write_all(&chunk).await.map_err(|e| DomainError::Internal(e.into()))?;
            }
        }
        if !found {
            return Err(DomainError::Invalid("the form has no `file` field".into()).into());
        }
    } else {
        let mut body = req.into_body().into_data_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| DomainError::Invalid(format!("the upload broke off: {e}")))?;
            written += chunk.len() as u64;
            if written > limit {
                return Err(too_big().into());
            }
            out.write_all(&chunk).await.map_err(|e| DomainError::Internal(e.into()))?;
        }
    }
    out.flush().await.map_err(|e| DomainError::Internal(e.into()))?;
    drop(out);
    if written == 0 {
        return Err(DomainError::Invalid("the upload is empty".into()).into());
    }
    let (backup, build) = domain::backups::restore::import(&s.platform, actor, ticket, &upload.path).await?;
    Ok(RestoreQueued { build_id: Some(build), backup_id: backup.id, approval_request: None })
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/backup-settings", tag = "backups", params(("id" = Uuid, Path)),
    responses((status = 200, body = BackupSettings)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
) -> Result<axum::Json<BackupSettings>, ApiError> {
    Ok(axum::Json(domain::backups::settings::get(&s.platform, &actor, project).await?))
}

/// Changes the schedule and retention (project admins); fields left out stay.
#[utoipa::path(patch, path = "/api/v1/projects/{id}/backup-settings", tag = "backups", params(("id" = Uuid, Path)),
    request_body = BackupSettings,
    responses((status = 200, body = BackupSettings), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn patch_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
    Json(input): Json<BackupSettings>,
) -> Result<axum::Json<BackupSettings>, ApiError> {
    Ok(axum::Json(domain::backups::settings::save(&s.platform, &actor, project, input).await?))
}
