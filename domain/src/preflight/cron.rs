//! Gate 3, cron runtime: on every serving environment, a periodic job reads
//! Odoo's scheduled actions and stops one that runs past the project's limit
//! (default 15 minutes); the third stop in a day disables it
//! (`ir_cron.active = false`), audited, and the project's admins are told its
//! name, model and durations. The serving build's gate result says so.
//!
//! How a running cron is found: Odoo's cron worker takes a job with
//! `FOR NO KEY UPDATE SKIP LOCKED` on its `ir_cron` row and holds that lock
//! until the job ends, so the row's `xmax` is the worker's transaction id and
//! `pg_stat_activity.backend_xid` names the backend, with `xact_start` as the
//! job's start. The watcher logs in as the database's own role (never a
//! superuser): it may read and signal that role's sessions only, which are
//! Odoo's. Stopping terminates the locking backend; with `--workers` the
//! cron worker is its own process, and its other connections (same
//! `application_name`, `odoo-<pid>`) go too.

use crate::audit::{self, Event};
use crate::builds::infra::BuildInfra;
use crate::builds::queue::{system_actor, SYSTEM_USER};
use crate::mailer::OutgoingMail;
use crate::platform::Platform;
use crate::types::{AuditAction, Gate, GateResult};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, Row};
use std::time::Duration;
use uuid::Uuid;

/// Overruns in a day that disable a scheduled action.
pub const DISABLE_AFTER: i64 = 3;

/// A scheduled action running now.
#[derive(Debug, Clone)]
pub struct RunningCron {
    pub id: i32,
    pub name: String,
    pub model: Option<String>,
    pub pid: i32,
    pub application: String,
    pub started_at: DateTime<Utc>,
    pub seconds: f64,
}

/// What one pass of the watcher did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Watched {
    pub databases: usize,
    pub stopped: usize,
    pub disabled: usize,
}

/// The scheduled actions running in the database `c` is connected to.
pub async fn running(c: &mut sqlx::PgConnection) -> anyhow::Result<Vec<RunningCron>> {
    let has_cron: bool = sqlx::query_scalar("SELECT to_regclass('ir_cron') IS NOT NULL").fetch_one(&mut *c).await?;
    if !has_cron {
        return Ok(Vec::new());
    }
    let model = if sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                         WHERE attrelid = 'ir_cron'::regclass AND attname = 'ir_actions_server_id' AND NOT attisdropped)
                AND to_regclass('ir_act_server') IS NOT NULL",
    )
    .fetch_one(&mut *c)
    .await?
    {
        "(SELECT s.model_name::text FROM ir_act_server s WHERE s.id = c.ir_actions_server_id)"
    } else {
        "NULL::text"
    };
    let rows = sqlx::query(&format!(
        "SELECT c.id, c.cron_name::text AS name, {model} AS model, a.pid, coalesce(a.application_name, '') AS app,
                a.xact_start, extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS seconds
           FROM ir_cron c
           JOIN pg_catalog.pg_stat_activity a ON a.datname = current_database() AND a.backend_xid = c.xmax
          WHERE c.xmax::text <> '0' AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL"
    ))
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| RunningCron {
            id: r.get("id"),
            name: r.get::<Option<String>, _>("name").unwrap_or_default(),
            model: r.get("model"),
            pid: r.get("pid"),
            application: r.get("app"),
            started_at: r.get("xact_start"),
            seconds: r.get("seconds"),
        })
        .collect())
}

/// One serving build the watcher reads.
struct Serving {
    build: Uuid,
    env: Uuid,
    project: Uuid,
    tenant: Uuid,
    slug: String,
    database: String,
    workers: bool,
    limit: i32,
}

/// One pass over every serving environment.
#[tracing::instrument(skip_all)]
pub async fn watch(p: &Platform, infra: &BuildInfra) -> anyhow::Result<Watched> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let serving: Vec<Serving> = sqlx::query(
        "SELECT DISTINCT ON (b.db_name) b.id, b.env_id, b.project_id, b.tenant_id, pr.slug, b.db_name,
                b.bus_target IS NOT NULL AS workers, pr.cron_limit_seconds
           FROM ops.builds b JOIN ops.projects pr ON pr.id = b.project_id
           JOIN ops.environments e ON e.id = b.env_id AND e.deleted_at IS NULL
          WHERE b.live AND b.db_name IS NOT NULL
          ORDER BY b.db_name, b.created_at DESC",
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| Serving {
        build: r.get("id"),
        env: r.get("env_id"),
        project: r.get("project_id"),
        tenant: r.get("tenant_id"),
        slug: r.get("slug"),
        database: r.get("db_name"),
        workers: r.get("workers"),
        limit: r.get("cron_limit_seconds"),
    })
    .collect();
    tx.commit().await?;
    let mut done = Watched::default();
    for s in &serving {
        match watch_one(p, infra, s).await {
            Ok((stopped, disabled)) => {
                done.databases += 1;
                done.stopped += stopped;
                done.disabled += disabled;
            }
            Err(e) => {
                tracing::debug!(database = %s.database, error = %format!("{e:#}"), "cron watch skipped a database")
            }
        }
    }
    Ok(done)
}

async fn watch_one(p: &Platform, infra: &BuildInfra, s: &Serving) -> anyhow::Result<(usize, usize)> {
    let options = infra.db(&s.database).owner_options(&s.database);
    let mut c = tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect_with(&options)).await??;
    let over: Vec<RunningCron> =
        running(&mut c).await?.into_iter().filter(|r| r.seconds > f64::from(s.limit)).collect();
    let (mut stopped, mut disabled) = (0, 0);
    for cron in over {
        stop(&mut c, &cron, s.workers).await?;
        stopped += 1;
        let today = record_stop(p, s, &cron).await?;
        if today.len() as i64 >= DISABLE_AFTER {
            match disable(&mut c, cron.id).await {
                Ok(()) => {
                    record_disable(p, s, &cron, &today).await?;
                    disabled += 1;
                }
                Err(e) => tracing::warn!(database = %s.database, cron = cron.id, error = %format!("{e:#}"),
                    "could not disable an overrunning cron; the next pass tries again"),
            }
        } else {
            let reason = format!(
                "“{}” ran {} s, past the {} s limit, and was stopped ({} of {DISABLE_AFTER} today before it is disabled)",
                cron.name,
                cron.seconds.round(),
                s.limit,
                today.len()
            );
            set_gate(p, s, GateResult::warn(Gate::CronRuntime, reason)).await?;
        }
    }
    c.close().await.ok();
    Ok((stopped, disabled))
}

/// Terminates the backend running `cron` (and, with workers, its process's other connections).
async fn stop(c: &mut sqlx::PgConnection, cron: &RunningCron, workers: bool) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_terminate_backend($1)").bind(cron.pid).execute(&mut *c).await?;
    let own_process = cron.application.strip_prefix("odoo-").is_some_and(|pid| pid.chars().all(|d| d.is_ascii_digit()));
    if workers && own_process {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
              WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&cron.application)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// `active = false`, waiting a little for the stopped backend to let go of the row.
async fn disable(c: &mut sqlx::PgConnection, cron: i32) -> anyhow::Result<()> {
    let mut tx = c.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '10s'").execute(&mut *tx).await?;
    sqlx::query("UPDATE ir_cron SET active = false WHERE id = $1").bind(cron).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Records and audits a stop; the action's overruns in the last day (seconds each), this one included.
async fn record_stop(p: &Platform, s: &Serving, cron: &RunningCron) -> anyhow::Result<Vec<i32>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        "INSERT INTO ops.cron_overruns (tenant_id, project_id, env_id, build_id, cron_id, cron_name, model,
                                        started_at, ran_seconds, limit_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(s.tenant)
    .bind(s.project)
    .bind(s.env)
    .bind(s.build)
    .bind(cron.id)
    .bind(&cron.name)
    .bind(&cron.model)
    .bind(cron.started_at)
    .bind(cron.seconds.round() as i32)
    .bind(s.limit)
    .execute(&mut *tx)
    .await?;
    let today: Vec<i32> = sqlx::query_scalar(
        "SELECT ran_seconds FROM ops.cron_overruns
          WHERE env_id = $1 AND cron_id = $2 AND stopped_at > now() - interval '1 day' ORDER BY stopped_at",
    )
    .bind(s.env)
    .bind(cron.id)
    .fetch_all(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &system_actor(),
        Event {
            action: AuditAction::CronStopped,
            target: format!("build:{}", s.build),
            tenant_id: Some(s.tenant),
            project_id: Some(s.project),
            summary: json!({"cron": cron.id, "name": cron.name, "model": cron.model,
                            "seconds": cron.seconds.round(), "limit": s.limit, "today": today.len()}),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(project = %s.slug, database = %s.database, cron = %cron.name, seconds = cron.seconds.round(),
        limit = s.limit, "stopped a cron past its limit");
    Ok(today)
}

/// Records and audits a disable, marks the serving build's gate failed and tells the project's admins.
async fn record_disable(p: &Platform, s: &Serving, cron: &RunningCron, today: &[i32]) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        "UPDATE ops.cron_overruns SET disabled = true
          WHERE id = (SELECT max(id) FROM ops.cron_overruns WHERE env_id = $1 AND cron_id = $2)",
    )
    .bind(s.env)
    .bind(cron.id)
    .execute(&mut *tx)
    .await?;
    let durations: Vec<String> = today.iter().map(|d| format!("{d} s")).collect();
    audit::record(
        &mut tx,
        &system_actor(),
        Event {
            action: AuditAction::CronDisabled,
            target: format!("build:{}", s.build),
            tenant_id: Some(s.tenant),
            project_id: Some(s.project),
            summary: json!({"cron": cron.id, "name": cron.name, "model": cron.model, "durations": today,
                            "limit": s.limit}),
        },
    )
    .await?;
    let admins = crate::projects::admin_emails(&mut tx, s.project).await?;
    tx.commit().await?;
    let reason = format!(
        "“{}” overran its {} s limit {} times in a day ({}) and was disabled",
        cron.name,
        s.limit,
        today.len(),
        durations.join(", ")
    );
    set_gate(p, s, GateResult::fail(Gate::CronRuntime, reason)).await?;
    let model = cron.model.as_deref().unwrap_or("unknown model");
    for to in admins {
        let mail = OutgoingMail {
            to,
            subject: format!("[OdooOps] {}: scheduled action “{}” disabled", s.slug, cron.name),
            body: format!(
                "The scheduled action “{}” ({model}) of {} ran past its limit of {} s {} times in a day \
                 and was stopped each time: {}.\nIt is now disabled (active = false) in the database {}.\n\n{}\n\
                 Re-enable it in Odoo (Settings → Technical → Scheduled Actions) once it finishes within the limit, \
                 or raise the project's cron limit in its settings.\n",
                cron.name,
                s.slug,
                s.limit,
                today.len(),
                durations.join(", "),
                s.database,
                Gate::CronRuntime.remedy()
            ),
        };
        if let Err(e) = p.mailer.send(mail).await {
            tracing::warn!(error = %format!("{e:#}"), "could not send the cron notice");
        }
    }
    Ok(())
}

/// Puts the cron gate's latest answer on the serving build (the project's overrides applied).
async fn set_gate(p: &Platform, s: &Serving, result: GateResult) -> anyhow::Result<()> {
    let mut results = [result];
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    super::apply_overrides(&mut tx, s.project, &mut results).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    sqlx::query(
        "UPDATE ops.builds SET preflight = coalesce((SELECT jsonb_agg(g) FROM jsonb_array_elements(preflight) g
                                                     WHERE g->>'gate' <> 'cron_runtime'), '[]'::jsonb) || $2
          WHERE id = $1",
    )
    .bind(s.build)
    .bind(serde_json::to_value(&results)?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
