//! The build queue: builds are rows in `ops.builds`; inserting one queues
//! its job (see [`crate::jobs`]), which a console's runner claims with
//! `FOR UPDATE SKIP LOCKED` (two consoles never take the same build and never
//! wait on each other).
//!
//! A build that was running when its console died never stays "running":
//! another console puts it back in the queue once, or closes it as `ko` with
//! the reason when it already had its retry, and its promotion moves on.

use super::pipeline::plan::Source;
use crate::access;
use crate::audit::{self, Event};
use crate::auth::{Actor, RequestMeta};
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::jobs::channels::{self, Channel};
use crate::jobs::recovery::{self, Dead};
use crate::jobs::{self, Kind};
use crate::platform::Platform;
use crate::types::AuditAction;
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
    /// Why it runs, with what that needs: stored whole when it is queued.
    pub source: Source,
}

/// Queues a build inside the caller's transaction (its job with it); consoles are notified at commit.
pub async fn enqueue(tx: &mut ScopedTx, b: NewBuild<'_>) -> DomainResult<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.builds (id, tenant_id, project_id, env_id, branch, stage, commit_sha, subject, author, trigger,
                                 restore_from, image_from, promotion_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
    .bind(b.source.trigger())
    .bind(b.source.restore_from())
    .bind(b.source.image_from())
    .bind(b.source.promotion())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE ops.environments SET last_activity = now() WHERE id = $1")
        .bind(b.env_id)
        .execute(&mut **tx)
        .await?;
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
    pub attempts: i32,
    /// Why it runs, as stored when it was queued (see [`Claimed::source`]).
    trigger: String,
    restore_from: Option<Uuid>,
    image_from: Option<Uuid>,
    promotion: Option<Uuid>,
}

impl Claimed {
    /// Why it runs (push, rebuild, restore, promotion, rollback, …). `Err`
    /// when what it needs is gone (a deleted backup or build).
    pub fn source(&self) -> anyhow::Result<Source> {
        Source::from_row(&self.trigger, self.restore_from, self.image_from, self.promotion)
    }

    /// What this build does (see `pipeline::plan`).
    pub fn plan(&self) -> anyhow::Result<super::pipeline::plan::Plan> {
        let stage = crate::types::Stage::parse(&self.stage).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(super::pipeline::plan::plan(stage, self.source()?))
    }
}

/// Takes the next pending build, if any, for the console `worker`: its job
/// and its row change in one transaction.
pub async fn claim(p: &Platform, worker: &str) -> DomainResult<Option<Claimed>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let cap = p.builds.as_ref().map_or(i64::MAX, |b| b.max_per_tenant.max(1) as i64);
    loop {
        let Some(job) = jobs::queue::claim(&mut tx, worker, &[Kind::Build], cap).await? else {
            tx.commit().await?;
            return Ok(None);
        };
        let row = sqlx::query(
            "UPDATE ops.builds SET state = 'running', started_at = now(), heartbeat_at = now(), worker = $2,
                    attempts = $3
              WHERE id = $1 AND state = 'pending'
          RETURNING id, tenant_id, project_id, env_id, branch, stage, commit_sha, trigger, attempts, restore_from, image_from,
                    promotion_id",
        )
        .bind(job.subject)
        .bind(worker)
        .bind(job.attempts)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else {
            // Killed (or closed) while it waited: its job has nothing left to do.
            jobs::queue::done(&mut tx, job.id).await?;
            continue;
        };
        tx.commit().await?;
        return Ok(Some(Claimed {
            id: r.get("id"),
            tenant_id: r.get("tenant_id"),
            project_id: r.get("project_id"),
            env_id: r.get("env_id"),
            branch: r.get("branch"),
            stage: r.get("stage"),
            commit_sha: r.get("commit_sha"),
            attempts: r.get("attempts"),
            trigger: r.get("trigger"),
            restore_from: r.get("restore_from"),
            image_from: r.get("image_from"),
            promotion: r.get("promotion_id"),
        }));
    }
}

/// Closes a running build, advances the promotion it deploys or rolls back,
/// and marks its job done: one transaction, so a crash leaves either all of
/// it or none (and then the job is recovered and the build run again).
/// Idempotent: a build already done stays as it was.
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
    if n == 1 {
        crate::promotions::advance(&mut tx, build).await?;
        crate::instances::run::advance(&mut tx, build).await?;
        crate::candidates::after_build(&mut tx, build).await?;
        crate::upgrades::after_build(&mut tx, build).await?;
    }
    jobs::queue::done_for(&mut tx, Kind::Build, build).await?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Builds left `running` by the console `worker`, which is gone: retried
/// once, then closed as `ko`. Returns (retried, closed).
pub async fn recover(p: &Platform, worker: &str) -> DomainResult<(u64, u64)> {
    let r = recovery::recover(p, Dead::Worker(worker), &[Kind::Build]).await.map_err(DomainError::Internal)?;
    Ok((r.retried, r.closed))
}

/// Recovery of an interrupted build with a try left: back to `pending`.
/// Returns false when it must be closed instead (someone asked to stop it).
pub(crate) async fn retry_interrupted(tx: &mut ScopedTx, build: Uuid) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE ops.builds SET state = 'pending', worker = NULL, started_at = NULL,
                reason = 'retried: the server stopped while this build was running'
          WHERE id = $1 AND state = 'running' AND NOT kill_requested",
    )
    .bind(build)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        close_interrupted(tx, build).await?;
    }
    Ok(n == 1)
}

/// Recovery of an interrupted build without tries left: closed, and its promotion moves on.
pub(crate) async fn close_interrupted(tx: &mut ScopedTx, build: Uuid) -> anyhow::Result<()> {
    let n = sqlx::query(
        "UPDATE ops.builds SET state = 'done', finished_at = now(),
                result = CASE WHEN kill_requested THEN 'killed' ELSE 'ko' END,
                reason = CASE WHEN kill_requested THEN 'killed' ELSE 'the server stopped during this build, twice' END
          WHERE id = $1 AND state <> 'done'",
    )
    .bind(build)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        crate::promotions::advance(tx, build).await?;
        crate::instances::run::advance(tx, build).await?;
    }
    Ok(())
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
            channels::notify(&mut tx, Channel::BuildKill, &build.to_string()).await?;
        }
        _ => return Err(DomainError::Conflict("this build has already finished".into())),
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BuildKill,
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
            source: Source::Rebuild,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BuildRebuild,
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

pub(crate) const BUILD_SQL: &str =
    "SELECT id, project_id, seq, env_id, branch, stage, commit_sha, subject, author, trigger, state, result, reason,
        live, image_digest, db_name, preview_slug, created_at, started_at, finished_at, preflight FROM ops.builds";

pub(crate) fn build_view(r: &sqlx::postgres::PgRow) -> DomainResult<BuildView> {
    use crate::db::{vocabulary, vocabulary_opt};
    Ok(BuildView {
        id: r.get("id"),
        project_id: r.get("project_id"),
        number: r.get("seq"),
        env_id: r.get("env_id"),
        branch: r.get("branch"),
        stage: vocabulary(r, "stage")?,
        commit_sha: r.get("commit_sha"),
        subject: r.get("subject"),
        author: r.get("author"),
        trigger: r.get("trigger"),
        state: vocabulary(r, "state")?,
        result: vocabulary_opt(r, "result")?,
        reason: r.get("reason"),
        live: r.get("live"),
        image_digest: r.get("image_digest"),
        db_name: r.get("db_name"),
        slug: r.get("preview_slug"),
        created_at: r.get("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        preflight: preflight_of(r),
    })
}

/// A build row's stored gate results (none when unreadable: shown, never trusted).
pub(crate) fn preflight_of(r: &sqlx::postgres::PgRow) -> Vec<crate::types::GateResult> {
    r.try_get::<serde_json::Value, _>("preflight").ok().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

/// One build and what the caller may do with it (the build page).
pub async fn detail(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<crate::wire::BuildDetail> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let view = one(&mut tx, build).await?;
    let allowed = access::build(&mut tx, build).await?.access.allowed();
    let path = sqlx::query(
        "SELECT e.candidate_for IS NOT NULL AS candidate, pr.production_requires_approval,
                t.slug AS tenant_slug, pr.slug AS project_slug, pr.name AS project_name
           FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id JOIN ops.projects pr ON pr.id = b.project_id
           JOIN ops.tenants t ON t.id = pr.tenant_id
          WHERE b.id = $1",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?;
    let promoted_from: Option<(Uuid, i64)> = sqlx::query_as(
        "SELECT s.id, s.seq FROM ops.builds b JOIN ops.promotions pr ON pr.id = b.promotion_id
           JOIN ops.builds s ON s.id = pr.source_build WHERE b.id = $1 AND b.trigger = 'promote'",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let names = |col: &str| path.as_ref().map(|r| r.get::<String, _>(col)).unwrap_or_default();
    let (tenant_slug, project_slug, project_name) =
        (names("tenant_slug"), names("project_slug"), names("project_name"));
    let release_path = path.and_then(|r| {
        crate::candidates::release_path(view.stage, r.get("candidate"), r.get("production_requires_approval"))
    });
    Ok(crate::wire::BuildDetail {
        build: view,
        allowed,
        release_path: release_path.map(str::to_owned),
        tenant_slug,
        project_slug,
        project_name,
        promoted_from,
    })
}

/// One build the caller can see.
pub async fn get(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<BuildView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let view = one(&mut tx, build).await?;
    tx.commit().await?;
    Ok(view)
}

async fn one(tx: &mut ScopedTx, build: Uuid) -> DomainResult<BuildView> {
    let row = sqlx::query(&format!("{BUILD_SQL} WHERE id = $1"))
        .bind(build)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DomainError::NotFound("build"))?;
    build_view(&row)
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
