//! Evaluating the rules: each kind is a condition that holds now for some
//! subjects (an environment, a custom domain, a scheduled action). A subject
//! that newly meets its rule fires an alert; one still meeting it repeats
//! the notice once the rule's interval passed; an alert whose condition went
//! away recovers. Each notice is queued as one delivery per channel (or, for
//! a project without channels, one mail to its admins) in the same
//! transaction as the alert's change, which is audited.

use crate::audit::{self, Event};
use crate::builds::queue::{system_actor, SYSTEM_USER};
use crate::platform::Platform;
use crate::types::AuditAction;
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// What one evaluation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Evaluated {
    pub fired: usize,
    pub repeated: usize,
    pub resolved: usize,
}

/// Every subject meeting an enabled rule now: (rule, tenant, project, kind, subject, env, summary).
const CONDITIONS: &str = "
    SELECT r.id AS rule_id, r.tenant_id, r.project_id, r.kind, h.env_id::text AS subject, h.env_id,
           format('%s (%s) is down since %s UTC: %s', e.branch, e.stage,
                  to_char(h.since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), coalesce(h.detail, 'no answer')) AS summary
      FROM ops.alert_rules r
      JOIN ops.env_health h ON h.project_id = r.project_id
      JOIN ops.environments e ON e.id = h.env_id AND e.deleted_at IS NULL
     WHERE r.kind = 'env_down' AND r.enabled AND NOT h.up
       AND h.since <= now() - make_interval(mins => r.threshold::int)
       AND EXISTS (SELECT 1 FROM ops.builds b WHERE b.env_id = e.id AND b.live)
    UNION ALL
    SELECT r.id, r.tenant_id, r.project_id, r.kind, e.id::text, e.id,
           format('Production build #%s of %s failed: %s', b.seq, e.branch, coalesce(b.reason, 'no reason given'))
      FROM ops.alert_rules r
      JOIN ops.environments e ON e.project_id = r.project_id AND e.stage = 'production' AND e.deleted_at IS NULL
      JOIN LATERAL (SELECT seq, result, reason FROM ops.builds
                     WHERE env_id = e.id AND state = 'done' AND result IS NOT NULL AND result <> 'killed'
                     ORDER BY finished_at DESC NULLS LAST, seq DESC LIMIT 1) b ON true
     WHERE r.kind = 'build_failed' AND r.enabled AND b.result = 'ko'
    UNION ALL
    SELECT r.id, r.tenant_id, r.project_id, r.kind, e.id::text, e.id,
           format('The last backup of %s failed: %s', e.branch, coalesce(k.error, 'no reason given'))
      FROM ops.alert_rules r
      JOIN ops.environments e ON e.project_id = r.project_id AND e.deleted_at IS NULL
      JOIN LATERAL (SELECT state, error FROM ops.backups
                     WHERE env_id = e.id AND state IN ('done', 'failed') AND kind <> 'import'
                     ORDER BY created_at DESC LIMIT 1) k ON true
     WHERE r.kind = 'backup_failed' AND r.enabled AND k.state = 'failed'
    UNION ALL
    SELECT r.id, r.tenant_id, r.project_id, r.kind, 'drill', NULL,
           format('The last restore drill failed: %s', coalesce(d.error, 'no reason given'))
      FROM ops.alert_rules r
      JOIN LATERAL (SELECT state, error FROM ops.backup_drills
                     WHERE project_id = r.project_id AND state IN ('passed', 'failed')
                     ORDER BY created_at DESC LIMIT 1) d ON true
     WHERE r.kind = 'backup_failed' AND r.enabled AND d.state = 'failed'
    UNION ALL
    SELECT r.id, r.tenant_id, r.project_id, r.kind, s.env_id::text, s.env_id,
           format('The database of %s is %s MB, over %s MB', e.branch, s.db_bytes / 1048576, r.threshold)
      FROM ops.alert_rules r
      JOIN LATERAL (SELECT DISTINCT ON (x.env_id) x.env_id, x.db_bytes FROM ops.env_samples x
                     WHERE x.project_id = r.project_id AND x.at > now() - interval '10 minutes'
                     ORDER BY x.env_id, x.at DESC) s ON true
      JOIN ops.environments e ON e.id = s.env_id AND e.deleted_at IS NULL
     WHERE r.kind = 'db_size' AND r.enabled AND s.db_bytes > r.threshold * 1048576
    UNION ALL
    SELECT r.id, r.tenant_id, r.project_id, r.kind, s.env_id::text, s.env_id,
           format('The filestore of %s is %s MB, over %s MB', e.branch, s.filestore_bytes / 1048576, r.threshold)
      FROM ops.alert_rules r
      JOIN LATERAL (SELECT DISTINCT ON (x.env_id) x.env_id, x.filestore_bytes FROM ops.env_samples x
                     WHERE x.project_id = r.project_id AND x.at > now() - interval '10 minutes'
                       AND x.filestore_bytes IS NOT NULL
                     ORDER BY x.env_id, x.at DESC) s ON true
      JOIN ops.environments e ON e.id = s.env_id AND e.deleted_at IS NULL
     WHERE r.kind = 'filestore_size' AND r.enabled AND s.filestore_bytes > r.threshold * 1048576
    UNION ALL
    SELECT DISTINCT ON (r.id, o.env_id, o.cron_id) r.id, r.tenant_id, r.project_id, r.kind,
           o.env_id::text || ':' || o.cron_id, o.env_id,
           format('The scheduled action %s was disabled after running past its limit three times', o.cron_name)
      FROM ops.alert_rules r
      JOIN ops.cron_overruns o ON o.project_id = r.project_id AND o.disabled AND o.stopped_at > now() - interval '24 hours'
     WHERE r.kind = 'cron_disabled' AND r.enabled
    UNION ALL
    SELECT r.id, r.tenant_id, r.project_id, r.kind, d.hostname, NULL,
           format('%s is not verified: %s', d.hostname, d.last_error)
      FROM ops.alert_rules r
      JOIN ops.custom_domains d ON d.project_id = r.project_id AND d.state = 'pending' AND d.last_error IS NOT NULL
     WHERE r.kind = 'domain_failing' AND r.enabled";

struct Condition {
    rule: Uuid,
    tenant: Uuid,
    project: Uuid,
    kind: String,
    subject: String,
    env: Option<Uuid>,
    summary: String,
}

/// Fires, repeats and resolves alerts against the conditions of now.
#[tracing::instrument(skip_all)]
pub async fn evaluate(p: &Platform) -> anyhow::Result<Evaluated> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let now: Vec<Condition> = sqlx::query(CONDITIONS)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Condition {
            rule: r.get("rule_id"),
            tenant: r.get("tenant_id"),
            project: r.get("project_id"),
            kind: r.get("kind"),
            subject: r.get("subject"),
            env: r.get("env_id"),
            summary: r.get("summary"),
        })
        .collect();
    let firing = sqlx::query(
        "SELECT a.id, a.rule_id, a.tenant_id, a.project_id, a.kind, a.subject, a.env_id, a.summary,
                a.last_notified_at <= now() - make_interval(mins => r.repeat_minutes) AS due
           FROM ops.alerts a JOIN ops.alert_rules r ON r.id = a.rule_id WHERE a.state = 'firing'",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut done = Evaluated::default();
    for c in &now {
        let existing =
            firing.iter().find(|a| a.get::<Uuid, _>("rule_id") == c.rule && a.get::<String, _>("subject") == c.subject);
        match existing {
            None => {
                let id: Option<Uuid> = sqlx::query_scalar(
                    "INSERT INTO ops.alerts (tenant_id, project_id, rule_id, kind, subject, env_id, summary)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(c.tenant)
                .bind(c.project)
                .bind(c.rule)
                .bind(&c.kind)
                .bind(&c.subject)
                .bind(c.env)
                .bind(&c.summary)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = id {
                    notice(&mut tx, id, c.tenant, c.project, &c.kind, &c.summary, "fired").await?;
                    done.fired += 1;
                }
            }
            Some(a) if a.get::<bool, _>("due") => {
                let id: Uuid = a.get("id");
                sqlx::query("UPDATE ops.alerts SET last_notified_at = now(), summary = $2 WHERE id = $1")
                    .bind(id)
                    .bind(&c.summary)
                    .execute(&mut *tx)
                    .await?;
                notice(&mut tx, id, c.tenant, c.project, &c.kind, &c.summary, "repeat").await?;
                done.repeated += 1;
            }
            Some(_) => {}
        }
    }
    for a in &firing {
        let (rule, subject): (Uuid, String) = (a.get("rule_id"), a.get("subject"));
        if now.iter().any(|c| c.rule == rule && c.subject == subject) {
            continue;
        }
        let id: Uuid = a.get("id");
        sqlx::query("UPDATE ops.alerts SET state = 'resolved', resolved_at = now() WHERE id = $1 AND state = 'firing'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let summary = format!("Recovered: {}", a.get::<String, _>("summary"));
        notice(&mut tx, id, a.get("tenant_id"), a.get("project_id"), &a.get::<String, _>("kind"), &summary, "resolved")
            .await?;
        done.resolved += 1;
    }
    tx.commit().await?;
    if done != Evaluated::default() {
        super::deliver::wake(p).await;
    }
    Ok(done)
}

/// Queues one notice of an alert to each of the project's channels (its
/// admins by mail when it has none), and audits it.
async fn notice(
    tx: &mut crate::db::ScopedTx,
    alert: Uuid,
    tenant: Uuid,
    project: Uuid,
    kind: &str,
    summary: &str,
    notice: &str,
) -> anyhow::Result<()> {
    let payload = json!({"type": format!("alert.{notice}"), "alert": {"id": alert, "kind": kind, "summary": summary},
                         "project_id": project, "at": chrono::Utc::now()});
    let queued = sqlx::query(
        "INSERT INTO ops.alert_deliveries (tenant_id, project_id, alert_id, channel_id, channel_kind, notice, payload)
         SELECT $1, $2, $3, c.id, c.kind, $4, $5 FROM ops.alert_channels c WHERE c.project_id = $2",
    )
    .bind(tenant)
    .bind(project)
    .bind(alert)
    .bind(notice)
    .bind(&payload)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if queued == 0 {
        let admins = crate::projects::admin_emails(tx, project).await?;
        let mut payload = payload.clone();
        payload["to"] = json!(admins);
        sqlx::query(
            "INSERT INTO ops.alert_deliveries (tenant_id, project_id, alert_id, channel_kind, notice, payload)
             VALUES ($1, $2, $3, 'email', $4, $5)",
        )
        .bind(tenant)
        .bind(project)
        .bind(alert)
        .bind(notice)
        .bind(&payload)
        .execute(&mut **tx)
        .await?;
    }
    let action = match notice {
        "resolved" => AuditAction::AlertResolved,
        _ => AuditAction::AlertFired,
    };
    audit::record(
        tx,
        &system_actor(),
        Event {
            action,
            target: format!("alert:{alert}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"kind": kind, "notice": notice, "summary": summary}),
        },
    )
    .await?;
    Ok(())
}
