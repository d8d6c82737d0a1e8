//! The build queue: builds are rows in `ops.builds`, claimed by workers with
//! `FOR UPDATE SKIP LOCKED` (two workers never take the same build and never
//! wait on each other) and woken by `NOTIFY ops_builds`.
//!
//! A build that was running when its server died never stays "running": on
//! start-up, [`recover`] puts it back in the queue once, or closes it as `ko`
//! with the reason when it already had its retry.

use super::access;
use crate::audit::{self, Event};
use crate::auth::{Actor, RequestMeta};
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{Capability, PlatformRole, UserId};
use crate::wire::BuildView;
use sqlx::Row;
use uuid::Uuid;

/// The built-in account background work acts as (see the control-plane migration).
pub const SYSTEM_USER: UserId = UserId(uuid::Uuid::from_u128(1));

/// How many times a build interrupted by a restart is tried again.
pub const MAX_ATTEMPTS: i32 = 2;

pub fn system_actor() -> Actor {
    Actor {
        user_id: SYSTEM_USER,
        email: "system@odooops.invalid".into(),
        display_name: "OdooOps".into(),
        platform_role: Some(PlatformRole::Operator),
        meta: RequestMeta::default(),
    }
}

/// What a new build is made of.
pub struct NewBuild<'a> {
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub env_id: Uuid,
    pub branch: &'a str,
    pub stage: &'a str,
    pub commit_sha: &'a str,
    pub subject: &'a str,
    pub author: &'a str,
    pub trigger: &'a str,
}

/// Queues a build inside the caller's transaction; workers are notified at commit.
pub async fn enqueue(tx: &mut ScopedTx, b: NewBuild<'_>) -> DomainResult<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.builds (id, tenant_id, project_id, env_id, branch, stage, commit_sha, subject, author, trigger)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(b.tenant_id)
    .bind(b.project_id)
    .bind(b.env_id)
    .bind(b.branch)
    .bind(b.stage)
    .bind(b.commit_sha)
    .bind(b.subject.chars().take(300).collect::<String>())
    .bind(b.author.chars().take(200).collect::<String>())
    .bind(b.trigger)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE ops.environments SET last_activity = now() WHERE id = $1")
        .bind(b.env_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("SELECT pg_notify('ops_builds', $1)").bind(id.to_string()).execute(&mut **tx).await?;
    Ok(id)
}

/// A build a worker has claimed.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub env_id: Uuid,
    pub branch: String,
    pub stage: String,
    pub commit_sha: String,
    /// What queued it: `push`, `poll`, `rebuild`, `promote`, …
    pub trigger: String,
    pub attempts: i32,
    /// A restore: the backup this build's database is loaded from.
    pub restore_from: Option<Uuid>,
    /// A promotion or rollback: the build whose image is deployed (nothing is built).
    pub image_from: Option<Uuid>,
}

/// Takes the oldest pending build, if any, for `worker`.
pub async fn claim(p: &Platform, worker: &str) -> DomainResult<Option<Claimed>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    // Fair shares: a tenant below its cap of running builds is served, the one
    // running the fewest first, so one tenant never takes every slot.
    let cap = p.builds.as_ref().map_or(i64::MAX, |b| b.max_per_tenant.max(1) as i64);
    // SKIP LOCKED: a row another worker is claiming right now is skipped, not waited for.
    let row = sqlx::query(
        "UPDATE ops.builds SET state = 'running', started_at = now(), heartbeat_at = now(), worker = $1,
                attempts = attempts + 1
          WHERE id = (SELECT b.id FROM ops.builds b
                       CROSS JOIN LATERAL (SELECT count(*) AS n FROM ops.builds r
                                            WHERE r.tenant_id = b.tenant_id AND r.state = 'running') running
                       WHERE b.state = 'pending' AND running.n < $2
                       ORDER BY running.n, b.created_at, b.seq
                       FOR UPDATE OF b SKIP LOCKED LIMIT 1)
      RETURNING id, tenant_id, project_id, env_id, branch, stage, commit_sha, trigger, attempts, restore_from, image_from",
    )
    .bind(worker)
    .bind(cap)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|r| Claimed {
        id: r.get("id"),
        tenant_id: r.get("tenant_id"),
        project_id: r.get("project_id"),
        env_id: r.get("env_id"),
        branch: r.get("branch"),
        stage: r.get("stage"),
        commit_sha: r.get("commit_sha"),
        trigger: r.get("trigger"),
        attempts: r.get("attempts"),
        restore_from: r.get("restore_from"),
        image_from: r.get("image_from"),
    }))
}

/// Closes a running build. Idempotent: a build already done stays as it was.
pub async fn finish(p: &Platform, build: Uuid, result: &str, reason: Option<&str>) -> DomainResult<bool> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let n = sqlx::query(
        "UPDATE ops.builds SET state = 'done', result = $2, reason = $3, finished_at = now()
          WHERE id = $1 AND state <> 'done'",
    )
    .bind(build)
    .bind(result)
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n == 1)
}

/// Builds left `running` by a previous life of `worker`: retried once, then closed as `ko`.
pub async fn recover(p: &Platform, worker: &str) -> DomainResult<(u64, u64)> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let retried = sqlx::query(
        "UPDATE ops.builds SET state = 'pending', worker = NULL, started_at = NULL,
                reason = 'retried: the server stopped while this build was running'
          WHERE state = 'running' AND worker = $1 AND attempts < $2 AND NOT kill_requested",
    )
    .bind(worker)
    .bind(MAX_ATTEMPTS)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let closed = sqlx::query(
        "UPDATE ops.builds SET state = 'done', finished_at = now(),
                result = CASE WHEN kill_requested THEN 'killed' ELSE 'ko' END,
                reason = CASE WHEN kill_requested THEN 'killed' ELSE 'the server stopped during this build, twice' END
          WHERE state = 'running' AND worker = $1",
    )
    .bind(worker)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if retried > 0 {
        sqlx::query("SELECT pg_notify('ops_builds', 'recovered')").execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((retried, closed))
}

/// Kill: a pending build is closed at once; a running one is flagged and its
/// worker stops it. Stopping a build is `upgrade` on its stage: a developer
/// does not stop a production deployment half-way.
pub async fn kill(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let a = access::build(&mut tx, build).await?;
    a.access.require(a.build_stage, Capability::Upgrade, "stopping builds")?;
    let state: String = sqlx::query_scalar("SELECT state FROM ops.builds WHERE id = $1 FOR UPDATE")
        .bind(build)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("build"))?;
    match state.as_str() {
        "pending" => {
            sqlx::query("UPDATE ops.builds SET state = 'done', result = 'killed', reason = $2, finished_at = now() WHERE id = $1")
                .bind(build)
                .bind(format!("killed by {}", actor.email))
                .execute(&mut *tx)
                .await?;
        }
        "running" => {
            sqlx::query("UPDATE ops.builds SET kill_requested = true WHERE id = $1")
                .bind(build)
                .execute(&mut *tx)
                .await?;
            sqlx::query("SELECT pg_notify('ops_build_kill', $1)").bind(build.to_string()).execute(&mut *tx).await?;
        }
        _ => return Err(DomainError::Conflict("this build has already finished".into())),
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: "build.kill",
            target: format!("build:{build}"),
            tenant_id: Some(a.access.tenant_id),
            project_id: Some(a.access.project_id),
            summary: serde_json::json!({"state": state, "stage": a.build_stage.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Rebuild: the same commit again, as a new build of the branch at its
/// current stage. That is `upgrade` there: on production it redeploys over the
/// live database, so it is for the project's admins.
pub async fn rebuild(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<Uuid> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let a = access::build(&mut tx, build).await?;
    if !a.env_live {
        return Err(DomainError::NotFound("build"));
    }
    a.access.require(a.env_stage, Capability::Upgrade, "rebuilding")?;
    let r = sqlx::query(
        "SELECT b.tenant_id, b.project_id, b.env_id, e.branch, e.stage, b.commit_sha, b.subject, b.author
           FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id WHERE b.id = $1 AND e.deleted_at IS NULL",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    let (branch, stage, sha, subject, author): (String, String, String, String, String) =
        (r.get("branch"), r.get("stage"), r.get("commit_sha"), r.get("subject"), r.get("author"));
    let id = enqueue(
        &mut tx,
        NewBuild {
            tenant_id: r.get("tenant_id"),
            project_id: r.get("project_id"),
            env_id: r.get("env_id"),
            branch: &branch,
            stage: &stage,
            commit_sha: &sha,
            subject: &subject,
            author: &author,
            trigger: "rebuild",
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: "build.rebuild",
            target: format!("build:{id}"),
            tenant_id: Some(r.get("tenant_id")),
            project_id: Some(r.get("project_id")),
            summary: serde_json::json!({"from": build, "commit": sha}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

const BUILD_SQL: &str =
    "SELECT id, seq, env_id, branch, stage, commit_sha, subject, author, trigger, state, result, reason,
        live, image_digest, db_name, preview_slug, created_at, started_at, finished_at FROM ops.builds";

fn build_view(r: &sqlx::postgres::PgRow) -> BuildView {
    BuildView {
        id: r.get("id"),
        number: r.get("seq"),
        env_id: r.get("env_id"),
        branch: r.get("branch"),
        stage: r.get("stage"),
        commit_sha: r.get("commit_sha"),
        subject: r.get("subject"),
        author: r.get("author"),
        trigger: r.get("trigger"),
        state: r.get("state"),
        result: r.get("result"),
        reason: r.get("reason"),
        live: r.get("live"),
        image_digest: r.get("image_digest"),
        db_name: r.get("db_name"),
        slug: r.get("preview_slug"),
        created_at: r.get("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
    }
}

/// The last `per_env` builds of every live environment of a project, newest first.
pub async fn recent_for_project(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    per_env: i64,
) -> DomainResult<Vec<BuildView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!(
        "{BUILD_SQL} b WHERE b.project_id = $1
            AND b.env_id IN (SELECT id FROM ops.environments WHERE project_id = $1 AND deleted_at IS NULL)
            AND b.id IN (
            SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY env_id ORDER BY created_at DESC, seq DESC) AS n
                              FROM ops.builds WHERE project_id = $1) ranked WHERE n <= $2)
          ORDER BY created_at DESC, seq DESC"
    ))
    .bind(project)
    .bind(per_env.clamp(1, 20))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(build_view).collect())
}

pub async fn get(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<BuildView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(&format!("{BUILD_SQL} WHERE id = $1"))
        .bind(build)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("build"))?;
    tx.commit().await?;
    Ok(build_view(&row))
}

/// Whether the caller may read a build's logs: `logs` on the build's stage
/// (production logs carry production data). The live log socket asks before
/// it upgrades.
pub async fn authorize_logs(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    require_logs(&mut tx, build).await?;
    tx.commit().await?;
    Ok(())
}

async fn require_logs(tx: &mut ScopedTx, build: Uuid) -> DomainResult<()> {
    let a = access::build(tx, build).await?;
    a.access.require(a.build_stage, Capability::Logs, "reading build logs")
}

/// A build's events after `after` (exclusive), oldest first, at most `limit`.
pub async fn events(
    p: &Platform,
    actor: &Actor,
    build: Uuid,
    after: i64,
    limit: i64,
) -> DomainResult<Vec<crate::wire::RunEventView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    require_logs(&mut tx, build).await?;
    let rows = sqlx::query(
        "SELECT id, level, source, message, meta, created_at FROM ops.run_events
          WHERE build_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(build)
    .bind(after)
    .bind(limit.clamp(1, 5000))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| crate::wire::RunEventView {
            id: r.get("id"),
            level: r.get("level"),
            source: r.get("source"),
            message: r.get("message"),
            meta: r.get("meta"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// The project a visible build belongs to.
pub async fn project_of(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<Uuid> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let project = sqlx::query_scalar("SELECT project_id FROM ops.builds WHERE id = $1")
        .bind(build)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("build"))?;
    tx.commit().await?;
    Ok(project)
}
