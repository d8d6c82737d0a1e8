//! Integrations: a tenant's event subscriptions (signed webhooks) and their
//! deliveries, its analytics links, and deleting a tenant (owners).

use crate::error::AppError;
use domain::wire::{AnalyticsView, DeliveryPage, DeliveryView, WebhookCreated, WebhookView};
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/rpc", endpoint = "integrations/webhooks")]
pub async fn list_webhooks() -> Result<Vec<WebhookView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::automation::list(&ssr::platform()?, &actor).await?)
}

/// Subscribes a URL to a tenant's events; the signing secret comes back this once. Audited.
#[server(prefix = "/rpc", endpoint = "integrations/create_webhook")]
pub async fn create_webhook(
    tenant: String,
    url: String,
    description: String,
    events: Vec<String>,
) -> Result<WebhookCreated, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewWebhook { tenant, url, description, events };
    Ok(domain::automation::create(&ssr::platform()?, &actor, input).await?)
}

/// Pauses or resumes a subscription. Audited.
#[server(prefix = "/rpc", endpoint = "integrations/set_webhook_active")]
pub async fn set_webhook_active(id: Uuid, active: bool) -> Result<WebhookView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let change = domain::wire::WebhookChange { url: None, description: None, events: None, active: Some(active) };
    Ok(domain::automation::change(&ssr::platform()?, &actor, id, change).await?)
}

/// Deletes a subscription and its history. Audited.
#[server(prefix = "/rpc", endpoint = "integrations/delete_webhook")]
pub async fn delete_webhook(id: Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::automation::delete(&ssr::platform()?, &actor, id).await?)
}

/// Sends a `ping` to a subscription. Audited.
#[server(prefix = "/rpc", endpoint = "integrations/test_webhook")]
pub async fn test_webhook(id: Uuid) -> Result<DeliveryView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::automation::test(&ssr::platform()?, &actor, id).await?)
}

#[server(prefix = "/rpc", endpoint = "integrations/deliveries")]
pub async fn list_deliveries(
    webhook: Option<Uuid>,
    state: Option<String>,
    page: i64,
) -> Result<DeliveryPage, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::automation::deliveries(&ssr::platform()?, &actor, webhook, state, page).await?)
}

/// Sends a failed delivery again. Audited.
#[server(prefix = "/rpc", endpoint = "integrations/retry_delivery")]
pub async fn retry_delivery(id: Uuid) -> Result<DeliveryView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::automation::retry(&ssr::platform()?, &actor, id).await?)
}

#[server(prefix = "/rpc", endpoint = "integrations/analytics")]
pub async fn list_analytics() -> Result<Vec<AnalyticsView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::analytics::list(&ssr::platform()?, &actor).await?)
}

/// Sets a tenant's Supabase ref and dashboards (one `Name https://…` per line). Audited.
#[server(prefix = "/rpc", endpoint = "integrations/save_analytics")]
pub async fn save_analytics(
    tenant: String,
    supabase_ref: String,
    dashboards: String,
) -> Result<AnalyticsView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::AnalyticsInput {
        supabase_ref: Some(supabase_ref),
        dashboards: crate::models::integrations::dashboard_lines(&dashboards),
    };
    Ok(domain::analytics::save(&ssr::platform()?, &actor, &tenant, input).await?)
}

/// Deletes a tenant that runs and keeps nothing (platform owners). Audited.
#[server(prefix = "/rpc", endpoint = "integrations/delete_tenant")]
pub async fn delete_tenant(slug: String) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::tenants::delete(&ssr::platform()?, &actor, &slug).await?)
}

/// The Supabase projects linked to tenants and projects the caller sees (never their tokens).
#[server(prefix = "/rpc", endpoint = "integrations/supabase_links")]
pub async fn list_supabase_links() -> Result<Vec<domain::wire::SupabaseLinkView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::supabase::links(&ssr::platform()?, &actor).await?)
}

/// Links a Supabase project (ref and Management API token, sealed on arrival). Audited.
#[server(prefix = "/rpc", endpoint = "integrations/link_supabase")]
pub async fn link_supabase(
    tenant: String,
    project_id: Option<Uuid>,
    reference: String,
    token: String,
) -> Result<domain::wire::SupabaseLinkView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::SupabaseLinkInput { tenant, project_id, reference, token: Some(token) };
    Ok(domain::supabase::link(&ssr::platform()?, &actor, input).await?)
}

/// Unlinks a Supabase project; its token is deleted. Audited.
#[server(prefix = "/rpc", endpoint = "integrations/unlink_supabase")]
pub async fn unlink_supabase(id: Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::supabase::unlink(&ssr::platform()?, &actor, id).await?)
}
