//! Backups as jobs: requested (manual, scheduled, or inline by a build before
//! it touches production), claimed through [`crate::jobs`], written to
//! scratch, checksummed, moved into the store, then the environment is
//! pruned. A backup interrupted by its console's death is marked failed by
//! another console and its partial file removed; finished backups are never
//! touched by that.

use super::archive::{self, WriteSpec};
use super::retention::{self, Candidate, Policy};
use super::BackupInfra;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::builds::infra::BuildInfra;
use crate::builds::queue::SYSTEM_USER;
use crate::error::{DomainError, DomainResult};
use crate::jobs::recovery::{self, Dead};
use crate::jobs::{self, Kind};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::{Capability, Stage};
use crate::wire::{BackupEventView, BackupView};
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// Odoo.sh's limit on manual backups, per environment and UTC day.
pub const MANUAL_PER_DAY: i64 = 5;

const VIEW_SQL: &str = "SELECT b.id, b.env_id, e.branch, b.stage, b.kind, b.state, b.format, b.size_bytes, b.sha256,
        b.progress_bytes, b.error, b.verified_at, b.created_at, b.started_at, b.finished_at, b.build_id,
        b.manifest->'parts'->'filestore'->>'files' AS filestore_files
   FROM ops.backups b JOIN ops.environments e ON e.id = b.env_id";

fn view(r: &sqlx::postgres::PgRow) -> DomainResult<BackupView> {
    Ok(BackupView {
        id: r.get("id"),
        env_id: r.get("env_id"),
        branch: r.get("branch"),
        stage: crate::db::vocabulary(r, "stage")?,
        kind: r.get("kind"),
        state: r.get("state"),
        format: r.get("format"),
        size_bytes: r.get("size_bytes"),
        sha256: r.get("sha256"),
        progress_bytes: r.get("progress_bytes"),
        error: r.get("error"),
        verified_at: r.get("verified_at"),
        created_at: r.get("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        build_id: r.get("build_id"),
        filestore_files: r.get::<Option<String>, _>("filestore_files").and_then(|s| s.parse().ok()),
    })
}

/// Backups of an environment, newest first (pruned ones are left out).
pub async fn list(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<Vec<BackupView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!(
        "{VIEW_SQL} WHERE b.env_id = $1 AND b.state <> 'pruned' ORDER BY b.created_at DESC LIMIT 200"
    ))
    .bind(env)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(view).collect()
}

pub async fn get(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<BackupView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE b.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("backup"))?;
    tx.commit().await?;
    view(&row)
}

/// A backup's log, after event `after`.
pub async fn events(p: &Platform, actor: &Actor, id: Uuid, after: i64) -> DomainResult<Vec<BackupEventView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT id, level, message, created_at FROM ops.backup_events
          WHERE backup_id = $1 AND id > $2 AND backup_id IN (SELECT id FROM ops.backups) ORDER BY id LIMIT 2000",
    )
    .bind(id)
    .bind(after)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| BackupEventView {
            id: r.get("id"),
            level: r.get("level"),
            message: r.get("message"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// A manual backup of a production or staging environment (at most five a day).
pub async fn request(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<Uuid> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(concat!(
        "SELECT e.tenant_id, e.project_id, e.stage, ",
        crate::access::columns!("e.project_id"),
        ", (SELECT count(*) FROM ops.backups b WHERE b.env_id = e.id AND b.kind = 'manual'
                AND b.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS today
           FROM ops.environments e WHERE e.id = $1 AND e.deleted_at IS NULL"
    ))
    .bind(env)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    let stage: Stage = crate::db::vocabulary(&row, "stage")?;
    if stage == Stage::Development {
        return Err(DomainError::Denied("development databases are not backed up; they are rebuilt".into()));
    }
    crate::access::Access::from_row(&row).require(stage, Capability::Backups, "backing up")?;
    if row.get::<i64, _>("today") >= MANUAL_PER_DAY {
        return Err(DomainError::Conflict(format!(
            "at most {MANUAL_PER_DAY} manual backups a day per environment; the next one is possible after midnight UTC"
        )));
    }
    current_database(&mut tx, env)
        .await?
        .ok_or_else(|| DomainError::Conflict("this environment has no database yet: nothing to back up".into()))?;
    let id = Uuid::new_v4();
    let (tenant, project): (Uuid, Uuid) = (row.get("tenant_id"), row.get("project_id"));
    sqlx::query(
        "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, requested_by) VALUES ($1, $2, $3, $4, 'manual', $5)",
    )
    .bind(id)
    .bind(tenant)
    .bind(project)
    .bind(env)
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BackupCreate,
            target: format!("backup:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"env": env, "stage": stage, "kind": "manual"}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The database an environment serves now, with the build that made it.
pub(crate) async fn current_database(tx: &mut crate::db::ScopedTx, env: Uuid) -> DomainResult<Option<(String, Uuid)>> {
    let row = sqlx::query(
        "SELECT db_name, id FROM ops.builds WHERE env_id = $1 AND db_name IS NOT NULL
            AND (live OR result IN ('ok', 'warn'))
          ORDER BY live DESC, finished_at DESC NULLS LAST LIMIT 1",
    )
    .bind(env)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| (r.get("db_name"), r.get("id"))))
}

/// A backup a worker has claimed.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub env_id: Uuid,
}

pub async fn claim(p: &Platform, worker: &str) -> DomainResult<Option<Claimed>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    loop {
        let Some(job) = jobs::queue::claim(&mut tx, worker, &[Kind::Backup], i64::MAX).await? else {
            tx.commit().await?;
            return Ok(None);
        };
        let row = sqlx::query(
            "UPDATE ops.backups SET state = 'running', started_at = now(), worker = $2
              WHERE id = $1 AND state = 'pending' RETURNING id, env_id",
        )
        .bind(job.subject)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        match row {
            Some(r) => {
                tx.commit().await?;
                return Ok(Some(Claimed { id: r.get("id"), env_id: r.get("env_id") }));
            }
            None => jobs::queue::done(&mut tx, job.id).await?,
        }
    }
}

/// Backups left running by the console `worker`, which is gone, are failed,
/// and their partial files removed. Returns how many.
pub async fn recover(p: &Platform, backups: &BackupInfra, worker: &str) -> DomainResult<u64> {
    let ids: Vec<Uuid> = {
        let mut tx = p.db.begin_as(SYSTEM_USER).await?;
        let ids = sqlx::query_scalar(
            "SELECT subject FROM ops.jobs WHERE kind = 'backup' AND state = 'running' AND worker = $1",
        )
        .bind(worker)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        ids
    };
    let r = recovery::recover(p, Dead::Worker(worker), &[Kind::Backup]).await.map_err(DomainError::Internal)?;
    for id in ids {
        remove_partial(backups, id);
    }
    Ok(r.closed)
}

/// Recovery of an interrupted backup: failed (a backup is not resumed; the next one starts afresh).
pub(crate) async fn close_interrupted(tx: &mut crate::db::ScopedTx, id: Uuid) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE ops.backups SET state = 'failed', finished_at = now(),
                error = 'the server stopped during this backup; earlier backups are not affected'
          WHERE id = $1 AND state = 'running'",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes what an interrupted backup left in scratch.
pub(crate) fn remove_partial(b: &BackupInfra, id: Uuid) {
    let _ = std::fs::remove_file(partial_path(b, id));
}

fn partial_path(b: &BackupInfra, id: Uuid) -> std::path::PathBuf {
    b.scratch.join(format!("{id}.zip.partial"))
}

/// Where an inline backup also writes its lines (`level`, `message`): the build's log.
pub type Mirror<'a> = &'a (dyn Fn(&str, &str) + Send + Sync);

/// Appends a line to a backup's log (and to `mirror`, the build log of an inline backup).
pub(crate) struct JobLog<'a> {
    pub p: &'a Platform,
    pub backup: Uuid,
    pub mirror: Option<Mirror<'a>>,
}

impl JobLog<'_> {
    pub async fn line(&self, level: &str, message: impl Into<String>) {
        let message = message.into();
        if let Some(m) = self.mirror {
            m(level, &message);
        }
        let res: anyhow::Result<()> = async {
            let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
            sqlx::query("INSERT INTO ops.backup_events (backup_id, level, message) VALUES ($1, $2, $3)")
                .bind(self.backup)
                .bind(level)
                .bind(&message)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = res {
            tracing::warn!(backup = %self.backup, error = %format!("{e:#}"), "could not log a backup line");
        }
    }
}

/// Runs a claimed backup to its end, recording success or failure on the row.
pub async fn run(p: &Platform, infra: &BuildInfra, id: Uuid) -> anyhow::Result<()> {
    let log = JobLog { p, backup: id, mirror: None };
    let result = execute(p, infra, id, &log).await;
    finish(p, infra, id, &log, result).await
}

/// Takes a backup of `env` now, inside a build (before an update or a restore).
pub async fn run_inline(
    p: &Platform,
    infra: &BuildInfra,
    env: Uuid,
    kind: &str,
    build: Uuid,
    mirror: Mirror<'_>,
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, state, started_at, worker)
         SELECT $1, e.tenant_id, e.project_id, e.id, $3, 'running', now(), $4 FROM ops.environments e WHERE e.id = $2",
    )
    .bind(id)
    .bind(env)
    .bind(kind)
    .bind(&infra.worker)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let log = JobLog { p, backup: id, mirror: Some(mirror) };
    log.line("info", format!("{} backup, for build {build}", kind.replace('_', "-"))).await;
    let result = execute(p, infra, id, &log).await;
    finish(p, infra, id, &log, result).await?;
    Ok(id)
}

async fn finish(
    p: &Platform,
    infra: &BuildInfra,
    id: Uuid,
    log: &JobLog<'_>,
    result: anyhow::Result<archive::Written>,
) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    match result {
        Ok(w) => {
            let env: Uuid = sqlx::query_scalar(
                "UPDATE ops.backups SET state = 'done', finished_at = now(), size_bytes = $2, sha256 = $3,
                        manifest = $4, progress_bytes = $2 WHERE id = $1 RETURNING env_id",
            )
            .bind(id)
            .bind(w.size as i64)
            .bind(&w.sha256)
            .bind(&w.manifest)
            .fetch_one(&mut *tx)
            .await?;
            jobs::queue::done_for(&mut tx, Kind::Backup, id).await?;
            tx.commit().await?;
            log.line("info", format!("done: {} bytes, sha256 {}", w.size, w.sha256)).await;
            match prune(p, &infra.backups, env).await {
                Ok(0) => {}
                Ok(n) => log.line("info", format!("retention pruned {n} older backup(s)")).await,
                Err(e) => log.line("warning", format!("pruning failed (retried after the next backup): {e:#}")).await,
            }
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(partial_path(&infra.backups, id));
            sqlx::query("UPDATE ops.backups SET state = 'failed', finished_at = now(), error = $2 WHERE id = $1")
                .bind(id)
                .bind(format!("{e:#}").chars().take(500).collect::<String>())
                .execute(&mut *tx)
                .await?;
            jobs::queue::done_for(&mut tx, Kind::Backup, id).await?;
            tx.commit().await?;
            log.line("error", format!("failed: {e:#}")).await;
            Err(e)
        }
    }
}

async fn execute(p: &Platform, infra: &BuildInfra, id: Uuid, log: &JobLog<'_>) -> anyhow::Result<archive::Written> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let env: Uuid =
        sqlx::query_scalar("SELECT env_id FROM ops.backups WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
    let (db, build) = current_database(&mut tx, env)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("this environment has no database yet: nothing to back up")?;
    let r = sqlx::query(
        "SELECT p.slug, p.id AS project_id, e.branch, e.stage, b.seq, b.commit_sha, b.image_digest
           FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id JOIN ops.projects p ON p.id = b.project_id
          WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&mut *tx)
    .await?;
    let events: Vec<(DateTime<Utc>, String, String, String)> = sqlx::query_as(
        "SELECT created_at, level, source, message FROM ops.run_events WHERE build_id = $1 ORDER BY id LIMIT 100000",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("UPDATE ops.backups SET build_id = $2, db_name = $3 WHERE id = $1")
        .bind(id)
        .bind(build)
        .bind(&db)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    log.line(
        "info",
        format!("backing up {db} (build #{}) to {}", r.get::<i64, _>("seq"), infra.backups.store.describe()),
    )
    .await;

    let odoo_manifest = odoo_manifest(infra, &db).await.context("reading the installed modules")?;
    let build_log: String = events
        .iter()
        .map(|(t, level, source, message)| {
            format!("{} {level} {source}: {message}\n", t.format("%Y-%m-%d %H:%M:%S%.3f"))
        })
        .collect();
    let about = json!({
        "project": r.get::<String, _>("slug"),
        "project_id": r.get::<Uuid, _>("project_id"),
        "env_id": env,
        "branch": r.get::<String, _>("branch"),
        "stage": r.get::<String, _>("stage"),
        "build_id": build,
        "build_number": r.get::<i64, _>("seq"),
        "commit": r.get::<String, _>("commit_sha"),
        "image_digest": r.get::<Option<String>, _>("image_digest"),
        "db_name": db,
        "backup_id": id,
        "created_at": Utc::now(),
    });
    let bin = crate::db::embedded::find_bin_dir()?;
    let mut pg_dump = std::process::Command::new(bin.join("pg_dump"));
    pg_dump.args(["--no-owner", "--no-acl", "--format=plain"]).envs(infra.db(&db).owner_env(&db));
    let progress = Arc::new(AtomicU64::new(0));
    let spec = WriteSpec {
        out: partial_path(&infra.backups, id),
        pg_dump,
        filestore: Some(infra.filestore_dir.join(&db)),
        odoo_manifest,
        extras: vec![("build.log".into(), build_log.into_bytes())],
        about,
        progress: progress.clone(),
    };
    let reporter = {
        let (p, progress) = (p.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                let n = progress.load(Ordering::Relaxed) as i64;
                if let Ok(mut tx) = p.db.begin_as(SYSTEM_USER).await {
                    let _ =
                        sqlx::query("UPDATE ops.backups SET progress_bytes = $2 WHERE id = $1 AND state = 'running'")
                            .bind(id)
                            .bind(n)
                            .execute(&mut *tx)
                            .await;
                    let _ = tx.commit().await;
                }
            }
        })
    };
    let written = tokio::task::spawn_blocking(move || archive::write(spec)).await;
    reporter.abort();
    let written = written.context("the backup writer panicked")??;
    let key = format!("{}/{env}/{id}.zip", r.get::<Uuid, _>("project_id"));
    infra.backups.store.put(&key, &partial_path(&infra.backups, id)).await.context("storing the archive")?;
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.backups SET storage_key = $2 WHERE id = $1").bind(id).bind(&key).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(written)
}

/// Odoo's `manifest.json` for a database: its version and installed modules.
pub(super) async fn odoo_manifest(infra: &BuildInfra, db: &str) -> anyhow::Result<serde_json::Value> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect_with(&infra.db(db).owner_options(db)).await?;
    let server: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut c).await?;
    let has_modules: bool =
        sqlx::query_scalar("SELECT to_regclass('public.ir_module_module') IS NOT NULL").fetch_one(&mut c).await?;
    let modules: Vec<(String, Option<String>)> = if has_modules {
        sqlx::query_as("SELECT name, latest_version FROM ir_module_module WHERE state = 'installed' ORDER BY name")
            .fetch_all(&mut c)
            .await?
    } else {
        Vec::new()
    };
    c.close().await.ok();
    let base = modules.iter().find(|(n, _)| n == "base").and_then(|(_, v)| v.clone()).unwrap_or_default();
    let series: Vec<&str> = base.split('.').take(2).collect();
    let version = if series.len() == 2 { series.join(".") } else { base.clone() };
    let major: i64 = series.first().and_then(|s| s.parse().ok()).unwrap_or(0);
    let minor: i64 = series.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let pg_major = server.split(['.', ' ']).next().unwrap_or("15");
    Ok(json!({
        "odoo_dump": "1",
        "db_name": db,
        "version": version,
        "version_info": [major, minor, 0, "final", 0, ""],
        "major_version": version,
        "pg_version": format!("{pg_major}.0"),
        "modules": modules.into_iter().map(|(n, v)| (n, json!(v.unwrap_or_default()))).collect::<serde_json::Map<_, _>>(),
    }))
}

/// Applies the project's retention to one environment: prunes what
/// [`retention::plan`] lets go. Imports count like any other backup, so
/// uploads cannot fill the store.
pub async fn prune(p: &Platform, backups: &BackupInfra, env: Uuid) -> anyhow::Result<usize> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let policy = sqlx::query(
        "SELECT p.keep_daily, p.keep_weekly, p.keep_monthly FROM ops.environments e
           JOIN ops.projects p ON p.id = e.project_id WHERE e.id = $1",
    )
    .bind(env)
    .fetch_one(&mut *tx)
    .await?;
    let policy = Policy {
        daily: policy.get::<i32, _>("keep_daily") as u32,
        weekly: policy.get::<i32, _>("keep_weekly") as u32,
        monthly: policy.get::<i32, _>("keep_monthly") as u32,
    };
    let rows = sqlx::query(
        "SELECT b.id, b.created_at, b.state, b.storage_key,
                EXISTS (SELECT 1 FROM ops.builds r WHERE r.restore_from = b.id AND r.state <> 'done')
                OR EXISTS (SELECT 1 FROM ops.backup_drills d WHERE d.backup_id = b.id AND d.state IN ('pending', 'running'))
                AS in_use
           FROM ops.backups b WHERE b.env_id = $1 AND b.state IN ('done', 'failed')",
    )
    .bind(env)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let candidates: Vec<Candidate> = rows
        .iter()
        .map(|r| Candidate {
            id: r.get("id"),
            created_at: r.get("created_at"),
            good: r.get::<String, _>("state") == "done",
            in_use: r.get("in_use"),
        })
        .collect();
    let plan = retention::plan(&candidates, policy, Utc::now());
    for id in &plan.prune {
        let key =
            rows.iter().find(|r| r.get::<Uuid, _>("id") == *id).and_then(|r| r.get::<Option<String>, _>("storage_key"));
        // The row says pruned only once the archive is gone, so a failure is retried.
        if let Some(key) = key {
            backups.store.delete(&key).await?;
        }
        let mut tx = p.db.begin_as(SYSTEM_USER).await?;
        sqlx::query("UPDATE ops.backups SET state = 'pruned', pruned_at = now() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(plan.prune.len())
}

/// The environment, its project and where its backups may be restored.
pub async fn context(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<crate::wire::BackupsContext> {
    use crate::wire::EnvironmentView;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT e.id, e.branch, e.stage, e.created_at, p.tenant_id, p.id AS project_id, p.name, p.slug,
                t.slug AS tenant_slug, ",
        crate::access::columns!("p.id"),
        " FROM ops.environments e JOIN ops.projects p ON p.id = e.project_id JOIN ops.tenants t ON t.id = p.tenant_id
          WHERE e.id = $1 AND e.deleted_at IS NULL"
    ))
    .bind(env)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    let project: Uuid = r.get("project_id");
    let here = EnvironmentView::from_row(&r)?;
    let envs = sqlx::query(
        "SELECT id, branch, stage, created_at FROM ops.environments
          WHERE project_id = $1 AND deleted_at IS NULL ORDER BY stage, branch",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    // Production only from its own backups; staging and development from any.
    let targets = envs
        .iter()
        .map(EnvironmentView::from_row)
        .filter(|e| e.as_ref().map_or(true, |e| e.stage != Stage::Production || e.id == here.id))
        .collect::<DomainResult<_>>()?;
    Ok(crate::wire::BackupsContext {
        allowed: crate::access::Access::from_row(&r).allowed(),
        env: here,
        project_id: project,
        project_name: r.get("name"),
        project_slug: r.get("slug"),
        tenant_slug: r.get("tenant_slug"),
        targets,
    })
}
