//! Integrations over REST: a tenant's outbound event subscriptions (signed
//! webhooks) with their deliveries, and its analytics links. Thin edges over
//! `domain::automation` and `domain::analytics`.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use domain::wire::{
    AnalyticsInput, AnalyticsView, DeliveryPage, DeliveryView, NewWebhook, WebhookChange, WebhookCreated, WebhookView,
};
use uuid::Uuid;

/// The event subscriptions you manage or read.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "tenants", responses((status = 200, body = Vec<WebhookView>)))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<WebhookView>>, ApiError> {
    Ok(axum::Json(domain::automation::list(&s.platform, &actor).await?))
}

/// Subscribes an `https://` URL to a tenant's events; the answer holds the signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "tenants", request_body = NewWebhook,
    responses((status = 201, body = WebhookCreated), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn create_webhook(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewWebhook>,
) -> Result<(StatusCode, axum::Json<WebhookCreated>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::automation::create(&s.platform, &actor, input).await?)))
}

/// Changes a subscription's URL, description, events, or pauses and resumes it.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "tenants", request_body = WebhookChange,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn change_webhook(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<WebhookChange>,
) -> Result<axum::Json<WebhookView>, ApiError> {
    Ok(axum::Json(domain::automation::change(&s.platform, &actor, id, input).await?))
}

/// Deletes a subscription and its delivery history.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "tenants", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn delete_webhook(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::automation::delete(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a `ping` event to the subscription.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "tenants", params(("id" = Uuid, Path)),
    responses((status = 202, body = DeliveryView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn test_webhook(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<DeliveryView>), ApiError> {
    Ok((StatusCode::ACCEPTED, axum::Json(domain::automation::test(&s.platform, &actor, id).await?)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct DeliveryQuery {
    /// One subscription's deliveries.
    webhook: Option<Uuid>,
    /// `pending`, `sending`, `failed`, `delivered` or `gave_up`.
    state: Option<String>,
    /// From 1; 20 deliveries a page, newest first.
    page: Option<i64>,
}

/// Deliveries you see, newest first.
#[utoipa::path(get, path = "/api/v1/webhook-deliveries", tag = "tenants", params(DeliveryQuery),
    responses((status = 200, body = DeliveryPage), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn list_deliveries(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<DeliveryQuery>,
) -> Result<axum::Json<DeliveryPage>, ApiError> {
    let page = q.page.unwrap_or(1);
    Ok(axum::Json(domain::automation::deliveries(&s.platform, &actor, q.webhook, q.state, page).await?))
}

/// Sends a failed or given-up delivery again, with a fresh set of tries.
#[utoipa::path(post, path = "/api/v1/webhook-deliveries/{id}/retry", tag = "tenants", params(("id" = Uuid, Path)),
    responses((status = 202, body = DeliveryView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn retry_delivery(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<DeliveryView>), ApiError> {
    Ok((StatusCode::ACCEPTED, axum::Json(domain::automation::retry(&s.platform, &actor, id).await?)))
}

/// Every tenant you see, with its Supabase project and dashboard links.
#[utoipa::path(get, path = "/api/v1/analytics", tag = "tenants", responses((status = 200, body = Vec<AnalyticsView>)))]
pub async fn list_analytics(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<AnalyticsView>>, ApiError> {
    Ok(axum::Json(domain::analytics::list(&s.platform, &actor).await?))
}

/// Sets a tenant's Supabase project ref and dashboard links (its admins and platform staff).
#[utoipa::path(put, path = "/api/v1/analytics/{slug}", tag = "tenants", request_body = AnalyticsInput,
    params(("slug" = String, Path)),
    responses((status = 200, body = AnalyticsView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn save_analytics(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(slug): Path<String>,
    Json(input): Json<AnalyticsInput>,
) -> Result<axum::Json<AnalyticsView>, ApiError> {
    Ok(axum::Json(domain::analytics::save(&s.platform, &actor, &slug, input).await?))
}
