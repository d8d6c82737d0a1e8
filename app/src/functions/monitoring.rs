//! Monitoring and alerts: an environment's charts, the fleet's health, and a
//! project's alert rules, channels, alerts and deliveries.

use crate::error::AppError;
use domain::wire::{AlertChannelCreated, AlertDeliveryView, AlertRuleView, AlertsPage, EnvMonitor, FleetHealth};
use leptos::prelude::*;

/// An environment's health and charts over `range` (1h, 24h, 7d, 30d).
#[server(prefix = "/rpc", endpoint = "monitoring/environment")]
pub async fn environment_monitor(env_id: uuid::Uuid, range: String) -> Result<EnvMonitor, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::monitoring::view::env_monitor(&ssr::platform()?, &actor, env_id, &range).await?)
}

/// Every serving environment the caller can see, with its health.
#[server(prefix = "/rpc", endpoint = "monitoring/fleet")]
pub async fn list_fleet_health() -> Result<Vec<FleetHealth>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::monitoring::view::fleet(&ssr::platform()?, &actor).await?)
}

/// A project's alert rules, channels, alerts and deliveries.
#[server(prefix = "/rpc", endpoint = "alerts/page")]
pub async fn get_alerts(project_id: uuid::Uuid) -> Result<AlertsPage, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::alerts::page(&ssr::platform()?, &actor, project_id).await?)
}

/// Changes a rule (project admins). The checkbox arrives only when ticked.
#[server(prefix = "/rpc", endpoint = "alerts/change_rule")]
pub async fn change_alert_rule(
    project_id: uuid::Uuid,
    rule_id: uuid::Uuid,
    enabled: Option<String>,
    threshold: i64,
    repeat_minutes: i32,
) -> Result<AlertRuleView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let change = domain::wire::AlertRuleChange {
        enabled: Some(enabled.is_some()),
        threshold: Some(threshold),
        repeat_minutes: Some(repeat_minutes),
    };
    Ok(domain::alerts::change_rule(&ssr::platform()?, &actor, project_id, rule_id, change).await?)
}

/// Adds a channel (project admins); a webhook's signing secret shows once.
#[server(prefix = "/rpc", endpoint = "alerts/add_channel")]
pub async fn add_alert_channel(
    project_id: uuid::Uuid,
    kind: String,
    name: String,
    target: String,
) -> Result<AlertChannelCreated, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewAlertChannel { kind, name, target };
    Ok(domain::alerts::add_channel(&ssr::platform()?, &actor, project_id, input).await?)
}

/// Removes a channel (project admins).
#[server(prefix = "/rpc", endpoint = "alerts/remove_channel")]
pub async fn remove_alert_channel(project_id: uuid::Uuid, channel_id: uuid::Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::alerts::remove_channel(&ssr::platform()?, &actor, project_id, channel_id).await?)
}

/// Sends a test notice to a channel (project admins).
#[server(prefix = "/rpc", endpoint = "alerts/test_channel")]
pub async fn test_alert_channel(project_id: uuid::Uuid, channel_id: uuid::Uuid) -> Result<AlertDeliveryView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::alerts::test_channel(&ssr::platform()?, &actor, project_id, channel_id).await?)
}

/// The serving Odoo's lines of an environment, filtered; with `after`, those that came since (a live tail).
#[server(prefix = "/rpc", endpoint = "monitoring/logs")]
pub async fn runtime_logs(
    env_id: uuid::Uuid,
    level: String,
    logger: String,
    text: String,
    range: String,
    after: Option<i64>,
) -> Result<Vec<domain::wire::RuntimeLogLine>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let since = crate::models::runtime_log_since(&range).map(|m| chrono::Utc::now() - chrono::Duration::minutes(m));
    let q = domain::wire::RuntimeLogQuery {
        level: Some(level),
        logger: Some(logger),
        text: Some(text),
        since,
        after,
        ..Default::default()
    };
    Ok(domain::monitoring::logs::query(&ssr::platform()?, &actor, env_id, &q).await?)
}
