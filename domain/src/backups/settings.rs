//! A project's backup settings: when production is backed up and drilled,
//! and how many daily, weekly and monthly backups retention keeps.

use super::schedule::Schedule;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::wire::BackupSettings;
use sqlx::Row;
use uuid::Uuid;

pub async fn get(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<BackupSettings> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(
        "SELECT backup_cron, drill_cron, keep_daily, keep_weekly, keep_monthly, id AS project_id,
                (SELECT max(d.finished_at) FROM ops.backup_drills d WHERE d.project_id = p.id AND d.state = 'passed') AS last_drill_passed,
                (SELECT d.state FROM ops.backup_drills d WHERE d.project_id = p.id AND d.state IN ('passed', 'failed')
                  ORDER BY d.finished_at DESC LIMIT 1) AS last_drill
           FROM ops.projects p WHERE id = $1",
    )
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("project"))?;
    tx.commit().await?;
    let cron: String = r.get("backup_cron");
    let next = Schedule::parse(&cron).ok().and_then(|s| s.next_after(chrono::Utc::now()));
    Ok(BackupSettings {
        backup_cron: Some(cron),
        drill_cron: Some(r.get("drill_cron")),
        keep_daily: Some(r.get("keep_daily")),
        keep_weekly: Some(r.get("keep_weekly")),
        keep_monthly: Some(r.get("keep_monthly")),
        next_backup_at: next,
        last_drill: r.get("last_drill"),
        last_drill_passed_at: r.get("last_drill_passed"),
    })
}

/// Project admins change what they send; anything left out stays.
pub async fn save(p: &Platform, actor: &Actor, project: Uuid, s: BackupSettings) -> DomainResult<BackupSettings> {
    for cron in [&s.backup_cron, &s.drill_cron].into_iter().flatten() {
        Schedule::parse(cron).map_err(DomainError::Invalid)?;
    }
    let check = |v: Option<i32>, lo: i32, hi: i32, what: &str| match v {
        Some(n) if !(lo..=hi).contains(&n) => {
            Err(DomainError::Invalid(format!("{what} must be between {lo} and {hi}")))
        }
        _ => Ok(()),
    };
    check(s.keep_daily, 1, 366, "daily backups kept")?;
    check(s.keep_weekly, 0, 520, "weekly backups kept")?;
    check(s.keep_monthly, 0, 240, "monthly backups kept")?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let access = crate::access::project(&mut tx, project).await?;
    access.require_project(crate::types::Capability::ProjectSettings, "changing backup settings")?;
    sqlx::query(
        "UPDATE ops.projects SET backup_cron = coalesce($2, backup_cron), drill_cron = coalesce($3, drill_cron),
                keep_daily = coalesce($4, keep_daily), keep_weekly = coalesce($5, keep_weekly),
                keep_monthly = coalesce($6, keep_monthly) WHERE id = $1",
    )
    .bind(project)
    .bind(s.backup_cron.as_deref().map(str::trim))
    .bind(s.drill_cron.as_deref().map(str::trim))
    .bind(s.keep_daily)
    .bind(s.keep_weekly)
    .bind(s.keep_monthly)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BackupSettings,
            target: format!("project:{project}"),
            tenant_id: Some(access.tenant_id),
            project_id: Some(project),
            summary: serde_json::json!({
                "backup_cron": s.backup_cron, "drill_cron": s.drill_cron,
                "keep": [s.keep_daily, s.keep_weekly, s.keep_monthly],
            }),
        },
    )
    .await?;
    tx.commit().await?;
    get(p, actor, project).await
}
