//! Monitoring and alerts over REST: an environment's charts (and their live
//! WebSocket), the fleet's health, a project's alert rules, channels, alerts
//! and deliveries.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::wire::{
    AlertChannelCreated, AlertDeliveryView, AlertRuleChange, AlertRuleView, AlertsPage, EnvMonitor, FleetHealth,
    NewAlertChannel, RuntimeLogLine, RuntimeLogQuery,
};
use uuid::Uuid;

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct RangeQuery {
    /// `1h`, `24h` (the default), `7d` or `30d`.
    pub range: Option<String>,
}

/// An environment's health, uptime, charts' series, health changes and slowest statements.
#[utoipa::path(get, path = "/api/v1/environments/{id}/monitor", tag = "monitoring",
    params(("id" = Uuid, Path), RangeQuery),
    responses((status = 200, body = EnvMonitor), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn env_monitor(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Query(q): Query<RangeQuery>,
) -> Result<axum::Json<EnvMonitor>, ApiError> {
    let range = q.range.unwrap_or_else(|| "24h".into());
    Ok(axum::Json(domain::monitoring::view::env_monitor(&s.platform, &actor, id, &range).await?))
}

/// The same data, sent again each time the monitor samples the environment (a WebSocket).
pub async fn env_monitor_socket(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
    Query(q): Query<RangeQuery>,
    headers: HeaderMap,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    if let Err(e) = crate::middleware::same_origin_websocket(&headers, &s.platform.settings.public_url) {
        return e.into_response();
    }
    let range = q.range.unwrap_or_else(|| "24h".into());
    // Refused before the upgrade when the caller cannot see it.
    let first = match domain::monitoring::view::env_monitor(&s.platform, &actor, env, &range).await {
        Ok(m) => m,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut rx = s.sample_hub.0.subscribe();
    let p = s.platform.clone();
    ws.max_message_size(64 << 10).max_frame_size(64 << 10).on_upgrade(move |mut socket| async move {
        use axum::extract::ws::Message;
        use tokio::sync::broadcast::error::RecvError;
        let _open = domain::metrics::OpenSocket::open();
        let mut next = Some(first);
        loop {
            if let Some(m) = next.take() {
                let Ok(text) = serde_json::to_string(&m) else { return };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                n = rx.recv() => match n {
                    Ok(id) if id != env => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        match domain::monitoring::view::env_monitor(&p, &actor, env, &range).await {
                            Ok(m) => next = Some(m),
                            Err(_) => return,
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

/// Every serving environment the caller can see, with its health (the dashboard's overview).
#[utoipa::path(get, path = "/api/v1/monitoring/environments", tag = "monitoring",
    responses((status = 200, body = Vec<FleetHealth>)))]
pub async fn fleet(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<FleetHealth>>, ApiError> {
    Ok(axum::Json(domain::monitoring::view::fleet(&s.platform, &actor).await?))
}

/// A project's alert rules, channels, recent alerts and deliveries.
#[utoipa::path(get, path = "/api/v1/projects/{id}/alerts", tag = "monitoring", params(("id" = Uuid, Path)),
    responses((status = 200, body = AlertsPage), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn alerts(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<AlertsPage>, ApiError> {
    Ok(axum::Json(domain::alerts::page(&s.platform, &actor, id).await?))
}

/// Changes an alert rule (project admins).
#[utoipa::path(patch, path = "/api/v1/projects/{id}/alert-rules/{rule_id}", tag = "monitoring",
    params(("id" = Uuid, Path), ("rule_id" = Uuid, Path)), request_body = AlertRuleChange,
    responses((status = 200, body = AlertRuleView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn change_rule(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, rule_id)): Path<(Uuid, Uuid)>,
    Json(change): Json<AlertRuleChange>,
) -> Result<axum::Json<AlertRuleView>, ApiError> {
    Ok(axum::Json(domain::alerts::change_rule(&s.platform, &actor, id, rule_id, change).await?))
}

/// Adds an alert channel: `email` (addresses), `webhook` (an https URL; the
/// signing secret is in this answer only) or `slack` (an incoming-webhook URL). Project admins.
#[utoipa::path(post, path = "/api/v1/projects/{id}/alert-channels", tag = "monitoring", params(("id" = Uuid, Path)),
    request_body = NewAlertChannel,
    responses((status = 201, body = AlertChannelCreated), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn add_channel(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<NewAlertChannel>,
) -> Result<(StatusCode, axum::Json<AlertChannelCreated>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::alerts::add_channel(&s.platform, &actor, id, input).await?)))
}

/// Removes an alert channel (project admins).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/alert-channels/{channel_id}", tag = "monitoring",
    params(("id" = Uuid, Path), ("channel_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn remove_channel(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, channel_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    domain::alerts::remove_channel(&s.platform, &actor, id, channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test notice to a channel (project admins); its outcome shows with the deliveries.
#[utoipa::path(post, path = "/api/v1/projects/{id}/alert-channels/{channel_id}/test", tag = "monitoring",
    params(("id" = Uuid, Path), ("channel_id" = Uuid, Path)),
    responses((status = 202, body = AlertDeliveryView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn test_channel(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, channel_id)): Path<(Uuid, Uuid)>,
) -> Result<(StatusCode, axum::Json<AlertDeliveryView>), ApiError> {
    Ok((StatusCode::ACCEPTED, axum::Json(domain::alerts::test_channel(&s.platform, &actor, id, channel_id).await?)))
}

/// What the serving Odoo printed, across the environment's builds: newest
/// first, or after `after` oldest first (a live tail). Needs the *Logs* right on its stage.
#[utoipa::path(get, path = "/api/v1/environments/{id}/logs", tag = "monitoring",
    params(("id" = Uuid, Path), ("level" = Option<String>, Query, description = "lowest level: debug, info, warning, error"),
        ("logger" = Option<String>, Query), ("text" = Option<String>, Query),
        ("since" = Option<String>, Query, description = "RFC 3339"), ("until" = Option<String>, Query, description = "RFC 3339"),
        ("after" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<RuntimeLogLine>), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn runtime_logs(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Query(q): Query<RuntimeLogQuery>,
) -> Result<axum::Json<Vec<RuntimeLogLine>>, ApiError> {
    Ok(axum::Json(domain::monitoring::logs::query(&s.platform, &actor, id, &q).await?))
}

/// The same lines as CSV (oldest first, up to 2,000).
#[utoipa::path(get, path = "/api/v1/environments/{id}/logs.csv", tag = "monitoring",
    params(("id" = Uuid, Path), ("level" = Option<String>, Query), ("logger" = Option<String>, Query),
        ("text" = Option<String>, Query), ("since" = Option<String>, Query), ("until" = Option<String>, Query)),
    responses((status = 200, content_type = "text/csv"), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn runtime_logs_csv(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Query(mut q): Query<RuntimeLogQuery>,
) -> Result<Response, ApiError> {
    q.after = None;
    q.limit = Some(domain::monitoring::logs::MAX_LINES);
    let lines = domain::monitoring::logs::query(&s.platform, &actor, id, &q).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"runtime-{id}.csv\"")),
        ],
        domain::monitoring::logs::csv(&lines),
    )
        .into_response())
}
