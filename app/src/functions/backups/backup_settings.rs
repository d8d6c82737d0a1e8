use crate::error::AppError;
use domain::wire::BackupSettings;
use leptos::prelude::*;

/// The project's backup schedule, drill schedule and retention.
#[server(prefix = "/rpc", endpoint = "backups/settings")]
pub async fn get_backup_settings(project_id: uuid::Uuid) -> Result<BackupSettings, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::backups::settings::get(&ssr::platform()?, &actor, project_id).await?)
}

/// Saves the schedule and retention (project admins); audited.
#[server(prefix = "/rpc", endpoint = "backups/settings/save")]
pub async fn save_backup_settings(
    project_id: uuid::Uuid,
    backup_cron: String,
    drill_cron: String,
    keep_daily: i32,
    keep_weekly: i32,
    keep_monthly: i32,
) -> Result<BackupSettings, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let settings = BackupSettings {
        backup_cron: Some(backup_cron),
        drill_cron: Some(drill_cron),
        keep_daily: Some(keep_daily),
        keep_weekly: Some(keep_weekly),
        keep_monthly: Some(keep_monthly),
        next_backup_at: None,
        last_drill: None,
        last_drill_passed_at: None,
    };
    Ok(domain::backups::settings::save(&ssr::platform()?, &actor, project_id, settings).await?)
}
