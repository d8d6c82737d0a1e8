//! Carrying out instance operations. Each is one job, claimed like every
//! job; every step checks what already exists, so a console that dies
//! half-way leaves work another console simply runs again.
//!
//! Operations that change what serves (provision, redeploy, restart, resume,
//! restore) are carried out by a production build of the instance's project
//! (its log is the operation's live log) and end when that build ends, in
//! the same transaction ([`advance`]). Pause, backup and decommission run
//! here.

use crate::audit::{self, Event};
use crate::builds::infra::BuildInfra;
use crate::builds::pipeline::plan::Source;
use crate::builds::queue::{self as builds, system_actor, NewBuild, SYSTEM_USER};
use crate::db::{vocabulary, ScopedTx};
use crate::error::DomainResult;
use crate::jobs::{self, Kind};
use crate::platform::Platform;
use crate::types::{AuditAction, DbStrategy, InstanceState, OperationKind};
use sqlx::Row;
use uuid::Uuid;

/// A claimed operation and its job.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub operation: Uuid,
    pub job: jobs::queue::Job,
}

/// Claims the next queued operation, if any.
pub async fn claim(p: &Platform, worker: &str) -> DomainResult<Option<Claimed>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let job = jobs::queue::claim(&mut tx, worker, &[Kind::InstanceOperation], i64::MAX).await?;
    tx.commit().await?;
    Ok(job.and_then(|job| job.subject.map(|operation| Claimed { operation, job })))
}

/// Runs a claimed operation; a failure of the step itself (not of the
/// operation) leaves its job to be retried.
pub async fn run(p: &Platform, infra: &BuildInfra, c: &Claimed) {
    let stepped = step(p, infra, c).await;
    if stepped.is_ok() {
        super::quota::after_operation(p, infra, c.operation).await;
    }
    if let Err(e) = stepped {
        let error = format!("{e:#}");
        tracing::warn!(operation = %c.operation, error = %error, "an instance operation's step failed");
        match jobs::queue::failed(p, &c.job, &error).await {
            Ok(true) => {}
            Ok(false) => {
                // No try left: the operation fails, and the instance says why.
                if let Ok(mut tx) = p.db.begin_as(SYSTEM_USER).await {
                    if end(&mut tx, c.operation, Err(&error)).await.is_ok() {
                        let _ = tx.commit().await;
                    }
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "could not record an operation's failure"),
        }
    }
}

pub(super) struct Op {
    pub(super) instance: Uuid,
    pub(super) tenant: Uuid,
    pub(super) project: Uuid,
    pub(super) env: Uuid,
    pub(super) kind: OperationKind,
    pub(super) from: InstanceState,
    pub(super) build: Option<Uuid>,
    pub(super) backup: Option<Uuid>,
    pub(super) version: String,
    pub(super) modules: Vec<String>,
    /// Where the database lives now, and (for `migrate_database`) where it goes.
    pub(super) strategy: DbStrategy,
    pub(super) target: Option<DbStrategy>,
    pub(super) db_port: Option<u16>,
}

pub(super) async fn load(tx: &mut ScopedTx, operation: Uuid) -> anyhow::Result<Option<Op>> {
    let r = sqlx::query(
        "SELECT o.instance_id, o.tenant_id, o.kind, o.from_state, o.state, o.build_id, o.backup_id,
                o.target_strategy, i.project_id, i.env_id, i.odoo_version, i.modules, i.db_strategy, i.db_port
           FROM ops.instance_operations o JOIN ops.instances i ON i.id = o.instance_id WHERE o.id = $1",
    )
    .bind(operation)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else { return Ok(None) };
    if matches!(r.get::<&str, _>("state"), "done" | "failed") {
        return Ok(None);
    }
    Ok(Some(Op {
        instance: r.get("instance_id"),
        tenant: r.get("tenant_id"),
        project: r.get("project_id"),
        env: r.get("env_id"),
        kind: vocabulary(&r, "kind")?,
        from: vocabulary(&r, "from_state")?,
        build: r.get("build_id"),
        backup: r.get("backup_id"),
        version: r.get("odoo_version"),
        modules: r.get("modules"),
        strategy: vocabulary(&r, "db_strategy")?,
        target: crate::db::vocabulary_opt(&r, "target_strategy")?,
        db_port: r.get::<Option<i32>, _>("db_port").and_then(|p| u16::try_from(p).ok()),
    }))
}

async fn step(p: &Platform, infra: &BuildInfra, c: &Claimed) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let Some(op) = load(&mut tx, c.operation).await? else {
        jobs::queue::done(&mut tx, c.job.id).await?;
        tx.commit().await?;
        return Ok(());
    };
    sqlx::query(
        "UPDATE ops.instance_operations SET state = 'running', started_at = coalesce(started_at, now()) WHERE id = $1",
    )
    .bind(c.operation)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE ops.instances SET state = $2, updated_at = now() WHERE id = $1")
        .bind(op.instance)
        .bind(op.kind.running_state(op.from).as_str())
        .execute(&mut *tx)
        .await?;
    match op.kind {
        OperationKind::Provision
        | OperationKind::Redeploy
        | OperationKind::Restart
        | OperationKind::Resume
        | OperationKind::Restore
        | OperationKind::ApplyBundle => {
            if op.strategy == DbStrategy::Dedicated {
                // Its own server runs (and its databases are routed there) before its build starts.
                tx.commit().await?;
                super::migrate::serve_from_dedicated(p, infra, &op).await?;
                tx = p.db.begin_as(SYSTEM_USER).await?;
            }
            if op.build.is_none() {
                let restore = if op.kind == OperationKind::Restore { op.backup } else { None };
                enqueue_build(&mut tx, &op, c.operation, restore).await?;
            }
            // The build carries it on; `advance` ends it with the build.
            jobs::queue::done(&mut tx, c.job.id).await?;
            tx.commit().await?;
        }
        OperationKind::Pause => {
            tx.commit().await?;
            for build in serving(p, op.env).await? {
                crate::builds::lifecycle::teardown(p, infra, build).await?;
            }
            finish(p, c, Ok(())).await?;
        }
        OperationKind::Backup => {
            tx.commit().await?;
            let backup = match op.backup {
                Some(b) => b,
                None => back_up(p, infra, &op, c.operation, "manual").await?,
            };
            record_backup(p, c.operation, backup).await?;
            finish(p, c, Ok(())).await?;
        }
        OperationKind::MigrateDatabase => {
            tx.commit().await?;
            use super::migrate::Moved;
            let moved = super::migrate::migrate(p, infra, &op, c.operation).await?;
            let mut tx = p.db.begin_as(SYSTEM_USER).await?;
            match &moved {
                Moved::Done => end_in(&mut tx, c.operation, Ok(()), None).await?,
                Moved::Reverted(why) => end_in(&mut tx, c.operation, Err(why), None).await?,
                Moved::Broken(why) => end_in(&mut tx, c.operation, Err(why), Some(InstanceState::Error)).await?,
            }
            jobs::queue::done(&mut tx, c.job.id).await?;
            tx.commit().await?;
        }
        OperationKind::Decommission => {
            tx.commit().await?;
            decommission(p, infra, &op, c.operation).await?;
            finish(p, c, Ok(())).await?;
        }
    }
    Ok(())
}

/// Queues the production build that carries out an operation, and links it
/// to the operation (its log is the operation's live log).
pub(super) async fn enqueue_build(
    tx: &mut ScopedTx,
    op: &Op,
    operation: Uuid,
    restore: Option<Uuid>,
) -> anyhow::Result<Uuid> {
    let sha = super::bundle_digest(&op.version, &op.modules);
    let build = builds::enqueue(
        tx,
        NewBuild {
            tenant_id: op.tenant,
            project_id: op.project,
            env_id: op.env,
            branch: "main",
            stage: "production",
            commit_sha: &sha,
            subject: &format!("{} of the instance", op.kind),
            author: "OdooOps",
            source: Source::Instance { restore },
        },
    )
    .await?;
    sqlx::query("UPDATE ops.instance_operations SET build_id = $2 WHERE id = $1")
        .bind(operation)
        .bind(build)
        .execute(&mut **tx)
        .await?;
    Ok(build)
}

/// Every database (and role) the instance's builds used.
pub(super) async fn env_databases(p: &Platform, env: Uuid) -> anyhow::Result<Vec<(String, String)>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let rows = sqlx::query_as(
        "SELECT DISTINCT db_name, db_role FROM ops.builds
          WHERE env_id = $1 AND db_name IS NOT NULL AND db_role IS NOT NULL",
    )
    .bind(env)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// The instance's builds that serve now.
pub(super) async fn serving(p: &Platform, env: Uuid) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let ids = sqlx::query_scalar("SELECT id FROM ops.builds WHERE env_id = $1 AND (live OR container_id IS NOT NULL)")
        .bind(env)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids)
}

async fn back_up(p: &Platform, infra: &BuildInfra, op: &Op, operation: Uuid, kind: &str) -> anyhow::Result<Uuid> {
    let mirror = |_: &str, _: &str| {};
    crate::backups::jobs::run_inline(p, infra, op.env, kind, operation, &mirror).await
}

async fn record_backup(p: &Platform, operation: Uuid, backup: Uuid) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.instance_operations SET backup_id = $2 WHERE id = $1")
        .bind(operation)
        .bind(backup)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A final backup (when there is a database), then nothing left: no
/// container, network, database, role or filestore; the branch is closed.
async fn decommission(p: &Platform, infra: &BuildInfra, op: &Op, operation: Uuid) -> anyhow::Result<()> {
    let databases = env_databases(p, op.env).await?;
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let has_data = crate::backups::jobs::current_database(&mut tx, op.env).await?.is_some();
    tx.commit().await?;
    if has_data && op.backup.is_none() {
        let backup = back_up(p, infra, op, operation, "final").await?;
        record_backup(p, operation, backup).await?;
    }
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let all: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT id, seq FROM ops.builds WHERE env_id = $1").bind(op.env).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    for (build, seq) in all {
        crate::builds::lifecycle::teardown(p, infra, build).await?;
        p.runtime.remove_image(&crate::builds::pipeline::image_tag(&infra.installation, op.project, seq)).await?;
    }
    for (db, role) in databases {
        infra.db(&db).drop(&db, &role).await?;
        let _ = std::fs::remove_dir_all(infra.filestore_dir.join(&db));
    }
    // Its own server goes too, data directory and all.
    if op.strategy == DbStrategy::Dedicated || infra.dedicated.exists(op.instance) {
        infra.dedicated.remove(op.instance).await?;
    }
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.environments SET deleted_at = coalesce(deleted_at, now()) WHERE id = $1")
        .bind(op.env)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends an operation that ran here, and its job, in one transaction.
async fn finish(p: &Platform, c: &Claimed, outcome: Result<(), &str>) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    end(&mut tx, c.operation, outcome).await?;
    jobs::queue::done(&mut tx, c.job.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Closes an operation and moves its instance to where the state machine
/// says, audited. Idempotent: a closed operation stays as it was.
async fn end(tx: &mut ScopedTx, operation: Uuid, outcome: Result<(), &str>) -> anyhow::Result<()> {
    end_in(tx, operation, outcome, None).await
}

/// As [`end`], with the failure's state given (a migration whose revert
/// could not bring the instance back ends in `error`, not where it was).
async fn end_in(
    tx: &mut ScopedTx,
    operation: Uuid,
    outcome: Result<(), &str>,
    failed_to: Option<InstanceState>,
) -> anyhow::Result<()> {
    let Some(op) = load(tx, operation).await? else { return Ok(()) };
    let error: Option<String> = outcome.err().map(|e| e.chars().take(500).collect());
    sqlx::query(
        "UPDATE ops.instance_operations SET state = $2, error = $3, finished_at = now(), admin_password_hash = NULL
          WHERE id = $1",
    )
    .bind(operation)
    .bind(if error.is_none() { "done" } else { "failed" })
    .bind(&error)
    .execute(&mut **tx)
    .await?;
    let to = match error {
        None => op.kind.success_state(op.from),
        Some(_) => failed_to.unwrap_or_else(|| op.kind.failure_state(op.from)),
    };
    sqlx::query("UPDATE ops.instances SET state = $2, reason = $3, updated_at = now() WHERE id = $1")
        .bind(op.instance)
        .bind(to.as_str())
        .bind(&error)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        &system_actor(),
        Event {
            action: if error.is_none() {
                AuditAction::InstanceOperationDone
            } else {
                AuditAction::InstanceOperationFailed
            },
            target: format!("instance:{}", op.instance),
            tenant_id: Some(op.tenant),
            project_id: Some(op.project),
            summary: serde_json::json!({"operation": operation, "kind": op.kind, "state": to, "error": error}),
        },
    )
    .await?;
    Ok(())
}

/// Recovery of an interrupted operation without tries left: failed, and the instance says why.
pub(crate) async fn close_interrupted(tx: &mut ScopedTx, operation: Uuid) -> anyhow::Result<()> {
    end(tx, operation, Err("the server stopped during this operation, three times")).await
}

/// A build of an instance ended: the operation it carried out ends with it,
/// in the same transaction.
pub(crate) async fn advance(tx: &mut ScopedTx, build: Uuid) -> anyhow::Result<()> {
    let r = sqlx::query(
        "SELECT o.id, b.result, b.reason FROM ops.instance_operations o JOIN ops.builds b ON b.id = o.build_id
          WHERE o.build_id = $1 AND o.state IN ('queued', 'running') AND o.kind <> 'migrate_database'",
    )
    .bind(build)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else { return Ok(()) };
    let ok = matches!(r.get::<Option<&str>, _>("result"), Some("ok" | "warn"));
    let reason: Option<String> = r.get("reason");
    let why = reason.unwrap_or_else(|| "the build did not succeed".into());
    let operation: Uuid = r.get("id");
    // The build's backup before it changed the database is the operation's.
    sqlx::query(
        "UPDATE ops.instance_operations o SET backup_id = coalesce(o.backup_id, b.pre_backup)
           FROM ops.builds b WHERE o.id = $1 AND b.id = o.build_id",
    )
    .bind(operation)
    .execute(&mut **tx)
    .await?;
    if ok {
        super::apply::record(tx, operation).await?;
    }
    end(tx, operation, if ok { Ok(()) } else { Err(&why) }).await
}
