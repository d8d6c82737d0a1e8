use crate::error::AppError;
use domain::wire::BuildSettings;
use leptos::prelude::*;

/// A project's build settings.
#[server(prefix = "/rpc", endpoint = "projects/build_settings")]
pub async fn get_build_settings(project_id: uuid::Uuid) -> Result<BuildSettings, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::build_settings(&ssr::platform()?, &actor, project_id).await?)
}

/// Saves a project's build settings (project admins). Checkboxes arrive only when ticked.
#[server(prefix = "/rpc", endpoint = "projects/save_build_settings")]
pub async fn save_build_settings(
    project_id: uuid::Uuid,
    poll_minutes: i32,
    keep_dev_builds: i32,
    dev_idle_hours: i32,
    shell_ttl_minutes: i32,
    smtp_relay: String,
    cron_limit_seconds: i32,
    log_retention_days: Option<i32>,
    allow_fork_builds: Option<String>,
    public_previews: Option<String>,
    production_requires_approval: Option<String>,
    private_production: Option<String>,
) -> Result<BuildSettings, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let settings = BuildSettings {
        poll_minutes: Some(poll_minutes),
        keep_dev_builds: Some(keep_dev_builds),
        dev_idle_hours: Some(dev_idle_hours),
        shell_ttl_minutes: Some(shell_ttl_minutes),
        smtp_relay: Some(smtp_relay),
        cron_limit_seconds: Some(cron_limit_seconds),
        allow_fork_builds: Some(allow_fork_builds.is_some()),
        public_previews: Some(public_previews.is_some()),
        production_requires_approval: Some(production_requires_approval.is_some()),
        private_production: Some(private_production.is_some()),
        log_retention_days,
    };
    Ok(domain::projects::update_build_settings(&ssr::platform()?, &actor, project_id, settings).await?)
}
