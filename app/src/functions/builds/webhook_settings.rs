use crate::error::AppError;
use domain::wire::WebhookSettings;
use leptos::prelude::*;

/// The GitHub webhook URL and secret (project admins).
#[server(prefix = "/rpc", endpoint = "builds/webhook")]
pub async fn get_webhook_settings(project_id: uuid::Uuid) -> Result<WebhookSettings, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::webhooks::settings(&ssr::platform()?, &actor, project_id).await?)
}
