//! When scheduled work is due: production backups (the project's
//! `backup_cron`, daily by default) and restore drills (`drill_cron`,
//! monthly). Expressions have five fields and are read in UTC. A console that
//! was down takes one catch-up backup, not one per missed slot; a slot is
//! claimed by a unique index, so two consoles never take the same one twice.

use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use chrono::{DateTime, Utc};
use croner::Cron;
use sqlx::Row;
use uuid::Uuid;

/// A parsed five-field cron expression.
#[derive(Debug, Clone)]
pub struct Schedule(Cron);

impl Schedule {
    pub fn parse(expr: &str) -> Result<Self, String> {
        let expr = expr.trim();
        if expr.split_whitespace().count() != 5 {
            return Err(format!("`{expr}` is not a five-field cron expression (minute hour day month weekday)"));
        }
        Cron::new(expr).parse().map(Schedule).map_err(|e| format!("`{expr}`: {e}"))
    }

    /// The latest slot after `since` that is not later than `now`, if any.
    pub fn due(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut slot = self.0.find_next_occurrence(&since, false).ok()?;
        if slot > now {
            return None;
        }
        // Catch up to the newest missed slot (bounded: a minutely cron after a year down).
        for _ in 0..600_000 {
            match self.0.find_next_occurrence(&slot, false) {
                Ok(next) if next <= now => slot = next,
                _ => break,
            }
        }
        Some(slot)
    }

    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.find_next_occurrence(&t, false).ok()
    }
}

/// Queues the production backups and drills that are due; returns how many.
pub async fn enqueue_due(p: &Platform, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    // Production environments that have served a build, with their last slot.
    let rows = sqlx::query(
        "SELECT e.id AS env_id, e.project_id, e.tenant_id, p.backup_cron, p.drill_cron, e.created_at,
                (SELECT max(scheduled_for) FROM ops.backups b WHERE b.env_id = e.id) AS last_backup,
                (SELECT max(scheduled_for) FROM ops.backup_drills d WHERE d.project_id = e.project_id) AS last_drill
           FROM ops.environments e JOIN ops.projects p ON p.id = e.project_id
          WHERE e.stage = 'production' AND e.deleted_at IS NULL
            AND EXISTS (SELECT 1 FROM ops.builds b WHERE b.env_id = e.id AND b.result IN ('ok', 'warn'))",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut queued = 0;
    for r in rows {
        let (env, project, tenant): (Uuid, Uuid, Uuid) = (r.get("env_id"), r.get("project_id"), r.get("tenant_id"));
        let since: DateTime<Utc> = r.get("created_at");
        if let Ok(s) = Schedule::parse(&r.get::<String, _>("backup_cron")) {
            let last = r.get::<Option<DateTime<Utc>>, _>("last_backup").unwrap_or(since);
            if let Some(slot) = s.due(last, now) {
                let n = sqlx::query(
                    "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, scheduled_for)
                     VALUES ($1, $2, $3, $4, 'daily', $5) ON CONFLICT DO NOTHING",
                )
                .bind(Uuid::new_v4())
                .bind(tenant)
                .bind(project)
                .bind(env)
                .bind(slot)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                queued += n as usize;
            }
        }
        if let Ok(s) = Schedule::parse(&r.get::<String, _>("drill_cron")) {
            let last = r.get::<Option<DateTime<Utc>>, _>("last_drill").unwrap_or(since);
            if let Some(slot) = s.due(last, now) {
                let n = sqlx::query(
                    "INSERT INTO ops.backup_drills (id, tenant_id, project_id, scheduled_for)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(Uuid::new_v4())
                .bind(tenant)
                .bind(project)
                .bind(slot)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                queued += n as usize;
            }
        }
    }
    tx.commit().await?;
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap()
    }

    #[test]
    fn daily_at_three() {
        let s = Schedule::parse("0 3 * * *").unwrap();
        assert_eq!(s.due(t(1, 12, 0), t(2, 2, 59)), None);
        assert_eq!(s.due(t(1, 12, 0), t(2, 3, 0)), Some(t(2, 3, 0)));
        assert_eq!(s.due(t(2, 3, 0), t(2, 12, 0)), None, "a slot is taken once");
        assert_eq!(s.due(t(2, 3, 0), t(9, 12, 0)), Some(t(9, 3, 0)), "one catch-up after downtime");
    }

    #[test]
    fn refuses_what_is_not_five_fields() {
        assert!(Schedule::parse("0 3 * *").is_err());
        assert!(Schedule::parse("0 0 3 * * *").is_err());
        assert!(Schedule::parse("61 3 * * *").is_err());
        assert!(Schedule::parse("often").is_err());
        assert!(Schedule::parse(" 0 4 1 * * ").is_ok());
    }
}
