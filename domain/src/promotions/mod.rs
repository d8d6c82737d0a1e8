//! Promotion: a staging build's image goes to production only after someone
//! other than the requester, with release rights on the project, approves
//! it (as many approvals as the project requires). The deployment is a
//! production build that reuses the staging build's image (`image_from`),
//! takes a backup of production first and updates the modules; when it
//! fails, a rollback build redeploys the previous image on the
//! pre-promotion backup, by itself. Rollback is also one action for admins
//! (and the `odooops rollback` command): a new build, never an edit.

use crate::access::{self, Access};
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::builds::pipeline::plan::Source;
use crate::builds::queue::{self, system_actor, NewBuild, SYSTEM_USER};
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::{BuildResult, Capability, Stage};
use crate::wire::PromotionView;
use serde_json::json;
use sqlx::{Connection, Row};
use uuid::Uuid;

mod settings;
mod views;
pub use settings::{release_settings, save_release_settings};
pub use views::{get, list};

/// Asks to promote a successful staging build (project admins and testers).
pub async fn request(p: &Platform, actor: &Actor, source: Uuid) -> DomainResult<Uuid> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let b = sqlx::query(concat!(
        "SELECT b.tenant_id, b.project_id, b.stage, b.result, b.image_digest, b.commit_sha, p.required_approvals, ",
        access::columns!("b.project_id"),
        " FROM ops.builds b JOIN ops.projects p ON p.id = b.project_id WHERE b.id = $1"
    ))
    .bind(source)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    Access::from_row(&b).require_project(Capability::RequestPromotion, "requesting a promotion")?;
    // Preflight: a good staging build, its image still here, production reachable.
    if Stage::parse(b.get::<&str, _>("stage")).ok() != Some(Stage::Staging) {
        return Err(DomainError::Invalid("only a staging build is promoted to production".into()));
    }
    if !result(&b).is_some_and(BuildResult::succeeded) {
        return Err(DomainError::Invalid("only a successful build is promoted".into()));
    }
    let digest: String = b
        .get::<Option<String>, _>("image_digest")
        .ok_or_else(|| DomainError::Invalid("this build has no image".into()))?;
    if !p.runtime.image_exists(&digest).await.unwrap_or(false) {
        return Err(DomainError::Conflict(format!("the image {digest} is no longer on this host")));
    }
    let project: Uuid = b.get("project_id");
    let (_, prod_db) = production(&mut tx, project).await?;
    let infra = p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are not configured".into()))?;
    let prod_db = prod_db.ok_or_else(|| DomainError::Conflict("production has never been built".into()))?;
    reachable(infra, &prod_db).await?;
    let id = Uuid::new_v4();
    let commit: String = b.get("commit_sha");
    let row = NewPromotion {
        id,
        tenant: b.get("tenant_id"),
        project,
        source_build: source,
        image_digest: &digest,
        commit_sha: &commit,
        requested_by: actor.user_id.0,
        required: b.get("required_approvals"),
        pushed_by: None,
        upgrade_preview: None,
    };
    if !insert(&mut tx, &row).await? {
        return Err(in_flight());
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::PromotionRequest,
            target: format!("promotion:{id}"),
            tenant_id: Some(b.get("tenant_id")),
            project_id: Some(project),
            summary: json!({"build": source, "image": digest}),
        },
    )
    .await?;
    // Who can approve it hears about it (everyone with release rights but the requester).
    let approvers: Vec<String> = sqlx::query_scalar(
        "SELECT u.email FROM ops.project_members m JOIN ops.users u ON u.id = m.user_id
          WHERE m.project_id = $1 AND m.role IN ('admin', 'release_manager') AND m.user_id <> $2 ORDER BY 1",
    )
    .bind(project)
    .bind(actor.user_id.0)
    .fetch_all(&mut *tx)
    .await?;
    let place = sqlx::query(
        "SELECT p.name, p.slug, t.slug AS tenant_slug, b.seq AS number, b.branch
           FROM ops.builds b JOIN ops.projects p ON p.id = b.project_id JOIN ops.tenants t ON t.id = p.tenant_id WHERE b.id = $1",
    )
    .bind(source)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let (name, number, branch): (String, i64, String) = (place.get("name"), place.get("number"), place.get("branch"));
    let url = format!(
        "{}/projects/{}/{}#promotions",
        p.settings.public_url,
        place.get::<String, _>("tenant_slug"),
        place.get::<String, _>("slug")
    );
    for to in approvers {
        let mail = crate::mailer::OutgoingMail {
            to,
            subject: format!("{name}: a promotion to production waits for your approval"),
            body: format!(
                "{} asks to put staging build #{number} of {branch} (commit {}) in production.\n\n\
                 Approve or reject it on the project page:\n{url}\n",
                actor.email,
                &commit[..commit.len().min(12)],
            ),
        };
        if let Err(e) = p.mailer.send(mail).await {
            tracing::warn!(promotion = %id, error = %format!("{e:#}"), "an approver was not told");
        }
    }
    Ok(id)
}

/// A promotion request's row: a person's, a push's candidate (`pushed_by`) or an upgrade's.
pub(crate) struct NewPromotion<'a> {
    pub id: Uuid,
    pub tenant: Uuid,
    pub project: Uuid,
    pub source_build: Uuid,
    pub image_digest: &'a str,
    pub commit_sha: &'a str,
    pub requested_by: Uuid,
    pub required: i32,
    pub pushed_by: Option<&'a str>,
    pub upgrade_preview: Option<Uuid>,
}

/// Inserts a promotion request; `false` when another promotion of the project
/// is in flight (the database keeps one open per project). Never aborts the
/// caller's transaction, which may be a build's closing one.
pub(crate) async fn insert(tx: &mut ScopedTx, n: &NewPromotion<'_>) -> DomainResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO ops.promotions (id, tenant_id, project_id, source_build, image_digest, commit_sha, requested_by,
                                     required, candidate, pushed_by, upgrade_preview)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind(n.id)
    .bind(n.tenant)
    .bind(n.project)
    .bind(n.source_build)
    .bind(n.image_digest)
    .bind(n.commit_sha)
    .bind(n.requested_by)
    .bind(n.required)
    .bind(n.pushed_by.is_some())
    .bind(n.pushed_by)
    .bind(n.upgrade_preview)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub(crate) fn in_flight() -> DomainError {
    DomainError::Conflict("another promotion of this project is in flight".into())
}

async fn reachable(infra: &crate::builds::infra::BuildInfra, db: &str) -> DomainResult<()> {
    let mut c = sqlx::PgConnection::connect_with(&infra.db(db).owner_options(db))
        .await
        .map_err(|e| DomainError::Unavailable(format!("the production database is not reachable: {e}")))?;
    sqlx::query("SELECT 1").execute(&mut c).await.map_err(anyhow::Error::from)?;
    c.close().await.ok();
    Ok(())
}

/// The production environment of a project and the database it serves.
async fn production(tx: &mut ScopedTx, project: Uuid) -> DomainResult<(Uuid, Option<String>)> {
    let env: Uuid = sqlx::query_scalar(
        "SELECT id FROM ops.environments WHERE project_id = $1 AND stage = 'production' AND deleted_at IS NULL",
    )
    .bind(project)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| DomainError::Conflict("this project has no production branch".into()))?;
    let db = crate::backups::jobs::current_database(tx, env).await?.map(|(db, _)| db);
    Ok((env, db))
}

/// Approves a promotion (release rights, never the requester); the last
/// approval needed starts the deployment.
pub async fn approve(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<PromotionView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let pr = sqlx::query(concat!(
        "SELECT tenant_id, project_id, state, requested_by, required, source_build, commit_sha, ",
        access::columns!("project_id"),
        " FROM ops.promotions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("promotion"))?;
    if pr.get::<Uuid, _>("requested_by") == actor.user_id.0 {
        return Err(DomainError::Denied("you requested this promotion: someone else must approve it".into()));
    }
    Access::from_row(&pr).require_project(Capability::Promote, "approving a promotion")?;
    if pr.get::<String, _>("state") != "requested" {
        return Err(DomainError::Conflict("this promotion is no longer waiting for approval".into()));
    }
    let added = sqlx::query(
        "INSERT INTO ops.promotion_approvals (promotion_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added == 0 {
        return Err(DomainError::Conflict("you already approved this promotion".into()));
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.promotion_approvals WHERE promotion_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let project: Uuid = pr.get("project_id");
    let ready = count >= i64::from(pr.get::<i32, _>("required"));
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::PromotionApprove,
            target: format!("promotion:{id}"),
            tenant_id: Some(pr.get("tenant_id")),
            project_id: Some(project),
            summary: json!({"approvals": count, "required": pr.get::<i32, _>("required"), "deploys": ready}),
        },
    )
    .await?;
    tx.commit().await?;
    if ready {
        deploy(p, id).await?;
    }
    get(p, actor, id).await
}

/// Queues the production build of an approved promotion (as the system).
async fn deploy(p: &Platform, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    // Two last approvals at once start one deployment: whoever moves the state first.
    let Some(pr) = sqlx::query(
        "UPDATE ops.promotions pr SET state = 'deploying' FROM ops.builds b
          WHERE pr.id = $1 AND pr.state = 'requested' AND b.id = pr.source_build
      RETURNING pr.tenant_id, pr.project_id, pr.source_build, pr.commit_sha, b.subject",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(());
    };
    let project: Uuid = pr.get("project_id");
    let (env, _) = production(&mut tx, project).await?;
    let branch: String =
        sqlx::query_scalar("SELECT branch FROM ops.environments WHERE id = $1").bind(env).fetch_one(&mut *tx).await?;
    let previous: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM ops.builds WHERE env_id = $1 AND live ORDER BY created_at DESC, seq DESC LIMIT 1",
    )
    .bind(env)
    .fetch_optional(&mut *tx)
    .await?;
    let sha: String = pr.get("commit_sha");
    let build = queue::enqueue(
        &mut tx,
        NewBuild {
            tenant_id: pr.get("tenant_id"),
            project_id: project,
            env_id: env,
            branch: &branch,
            stage: "production",
            commit_sha: &sha,
            subject: &format!("promotion of {}", pr.get::<String, _>("subject")),
            author: "OdooOps",
            source: Source::Promote { image_from: pr.get("source_build"), promotion: id },
        },
    )
    .await?;
    sqlx::query("UPDATE ops.promotions SET deploy_build = $2, previous_build = $3 WHERE id = $1")
        .bind(id)
        .bind(build)
        .bind(previous)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses a promotion waiting for approval (project admins; the requester may withdraw it).
pub async fn reject(p: &Platform, actor: &Actor, id: Uuid, reason: Option<&str>) -> DomainResult<PromotionView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let pr = sqlx::query(concat!(
        "SELECT tenant_id, project_id, state, requested_by, ",
        access::columns!("project_id"),
        " FROM ops.promotions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("promotion"))?;
    // The requester withdraws their own request; others need release rights to reject it.
    let withdrawing = pr.get::<Uuid, _>("requested_by") == actor.user_id.0;
    if !withdrawing {
        Access::from_row(&pr).require_project(Capability::Promote, "rejecting a promotion")?;
    }
    if pr.get::<String, _>("state") != "requested" {
        return Err(DomainError::Conflict("this promotion is no longer waiting for approval".into()));
    }
    let reason = if withdrawing {
        format!("withdrawn by {}", actor.email)
    } else {
        reason.map(str::trim).filter(|r| !r.is_empty()).unwrap_or("rejected").to_owned()
    };
    let n = sqlx::query(
        "UPDATE ops.promotions SET state = 'rejected', reason = $2, finished_at = now() WHERE id = $1 AND state = 'requested'",
    )
    .bind(id)
    .bind(&reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(DomainError::Conflict("this promotion is no longer waiting for approval".into()));
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: if withdrawing { AuditAction::PromotionWithdraw } else { AuditAction::PromotionReject },
            target: format!("promotion:{id}"),
            tenant_id: Some(pr.get("tenant_id")),
            project_id: Some(pr.get("project_id")),
            summary: json!({"reason": reason}),
        },
    )
    .await?;
    tx.commit().await?;
    get(p, actor, id).await
}

/// After any build ends, in the transaction that closes it: moves its
/// promotion on, and queues the automatic rollback when a promotion's
/// deployment failed.
pub(crate) async fn advance(tx: &mut ScopedTx, build: Uuid) -> anyhow::Result<()> {
    let Some(b) = sqlx::query(
        "SELECT b.promotion_id, b.trigger, b.result, b.reason, b.pre_backup, pr.previous_build, pr.tenant_id, pr.project_id
           FROM ops.builds b JOIN ops.promotions pr ON pr.id = b.promotion_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(());
    };
    let id: Uuid = b.get("promotion_id");
    crate::jobs::failpoint("build.finished");
    let ok = result(&b).is_some_and(BuildResult::succeeded);
    let (tenant, project): (Uuid, Uuid) = (b.get("tenant_id"), b.get("project_id"));
    let reason: Option<String> = b.get("reason");
    let (action, state, summary) = match (b.get::<String, _>("trigger").as_str(), ok) {
        ("promote", true) => {
            let upgraded = crate::upgrades::after_deployed(tx, id).await?;
            (AuditAction::PromotionDeployed, "deployed", json!({"build": build, "upgraded_to": upgraded}))
        }
        ("promote", false) => match b.get::<Option<Uuid>, _>("previous_build") {
            Some(previous) => {
                let rollback = enqueue_rollback(tx, previous, b.get("pre_backup"), Some(id)).await?;
                sqlx::query("UPDATE ops.promotions SET rollback_build = $2 WHERE id = $1")
                    .bind(id)
                    .bind(rollback)
                    .execute(&mut **tx)
                    .await?;
                (
                    AuditAction::PromotionRollback,
                    "rolling_back",
                    json!({"failed_build": build, "reason": reason, "rollback_build": rollback, "to": previous}),
                )
            }
            None => (AuditAction::PromotionFailed, "failed", json!({"build": build, "reason": reason})),
        },
        ("rollback", true) => (AuditAction::PromotionRolledBack, "rolled_back", json!({"build": build})),
        ("rollback", false) => {
            (AuditAction::PromotionFailed, "failed", json!({"rollback_build": build, "reason": reason}))
        }
        _ => return Ok(()),
    };
    let done = !matches!(state, "rolling_back");
    sqlx::query(
        "UPDATE ops.promotions SET state = $2, reason = coalesce($3, reason),
                finished_at = CASE WHEN $4 THEN now() ELSE finished_at END WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(&reason)
    .bind(done)
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        &system_actor(),
        Event {
            action,
            target: format!("promotion:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary,
        },
    )
    .await?;
    Ok(())
}

/// Queues a production build that redeploys `target`'s image, on `backup` when given.
async fn enqueue_rollback(
    tx: &mut ScopedTx,
    target: Uuid,
    backup: Option<Uuid>,
    promotion: Option<Uuid>,
) -> DomainResult<Uuid> {
    let t = sqlx::query(
        "SELECT b.tenant_id, b.project_id, b.env_id, e.branch, b.commit_sha, b.seq, b.image_digest
           FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id
          WHERE b.id = $1 AND b.stage = 'production'",
    )
    .bind(target)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| DomainError::Invalid("only an earlier production build can be rolled back to".into()))?;
    if t.get::<Option<String>, _>("image_digest").is_none() {
        return Err(DomainError::Invalid("that build has no image to redeploy".into()));
    }
    let (branch, sha): (String, String) = (t.get("branch"), t.get("commit_sha"));
    let build = queue::enqueue(
        tx,
        NewBuild {
            tenant_id: t.get("tenant_id"),
            project_id: t.get("project_id"),
            env_id: t.get("env_id"),
            branch: &branch,
            stage: "production",
            commit_sha: &sha,
            subject: &format!("rollback to build #{}", t.get::<i64, _>("seq")),
            author: "OdooOps",
            source: Source::Rollback { image_from: target, backup, promotion },
        },
    )
    .await?;
    Ok(build)
}

/// One-action rollback (project admins): redeploys an earlier production
/// build's image, restoring `backup` of production or keeping the database.
pub async fn rollback(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    target: Uuid,
    backup: Option<Uuid>,
) -> DomainResult<Uuid> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let t = sqlx::query(concat!(
        "SELECT tenant_id, project_id, env_id, ",
        access::columns!("project_id"),
        " FROM ops.builds WHERE id = $1"
    ))
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    if t.get::<Uuid, _>("project_id") != project {
        return Err(DomainError::Invalid("that build is not of this project".into()));
    }
    Access::from_row(&t).require_project(Capability::Promote, "rolling production back")?;
    if let Some(b) = backup {
        let ok: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM ops.backups WHERE id = $1 AND env_id = $2 AND state = 'done')",
        )
        .bind(b)
        .bind(t.get::<Uuid, _>("env_id"))
        .fetch_one(&mut *tx)
        .await?;
        if !ok {
            return Err(DomainError::Invalid("that is not a finished backup of production".into()));
        }
    }
    tx.commit().await?;
    let mut sys = p.db.begin_as(SYSTEM_USER).await?;
    let build = enqueue_rollback(&mut sys, target, backup, None).await?;
    // The promotion whose deployment production serves now says it was rolled back.
    sqlx::query(
        "UPDATE ops.promotions pr SET state = 'rolled_back', reason = $2, finished_at = coalesce(pr.finished_at, now())
          WHERE pr.project_id = $1 AND pr.state = 'deployed'
            AND pr.deploy_build IN (SELECT id FROM ops.builds WHERE project_id = $1 AND stage = 'production' AND live)",
    )
    .bind(project)
    .bind(format!("production rolled back by {} (build {})", actor.email, &build.to_string()[..8]))
    .execute(&mut *sys)
    .await?;
    sys.commit().await?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ProductionRollback,
            target: format!("build:{target}"),
            tenant_id: Some(t.get("tenant_id")),
            project_id: Some(t.get("project_id")),
            summary: json!({"build": build, "restore_backup": backup}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(build)
}

/// A build row's `result`, typed.
fn result(r: &sqlx::postgres::PgRow) -> Option<BuildResult> {
    crate::db::vocabulary_opt(r, "result").ok().flatten()
}

/// [`rollback`] to a build, whichever project it belongs to (the build page).
pub async fn rollback_to(p: &Platform, actor: &Actor, target: Uuid, backup: Option<Uuid>) -> DomainResult<Uuid> {
    let project = crate::builds::queue::project_of(p, actor, target).await?;
    rollback(p, actor, project, target, backup).await
}
