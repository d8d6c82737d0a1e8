//! Branch commands from the console (issue 20), as Odoo.sh offers them on a
//! branch: **Fork** (a new branch from this one's head, pushed to the
//! repository with the project's deploy key, then built as a push) and
//! **Delete** (the branch removed from the repository, its builds killed and
//! its environment torn down by the reconciler). Both reach the repository
//! through the same checks as polling (no local paths unless the operator
//! allows them, public hosts only, nothing of the console's own identity), and
//! production is never deleted from here.

use super::github::{CommitInfo, WebhookEvent};
use super::pipeline::plan::Source;
use super::queue::SYSTEM_USER;
use super::webhooks::{act, Ctx, WebhookError};
use crate::access::Access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, BranchName, Capability, Stage, StageRules};
use anyhow::Context;
use sqlx::Row;
use uuid::Uuid;

/// One environment's branch, as its commands need it.
pub(crate) struct Branch {
    pub(crate) env: Uuid,
    pub(crate) name: String,
    pub(crate) stage: Stage,
    pub(crate) access: Access,
    pub(crate) repo_url: String,
    /// A pull request from a fork or a production candidate: not a branch of the repository.
    pub(crate) foreign: bool,
    pub(crate) ctx: Ctx,
}

impl Branch {
    /// The live environment `env` as `actor` sees it (404 when they cannot).
    pub(crate) async fn load(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<Branch> {
        let mut tx = p.db.begin_as(actor.user_id).await?;
        let r = sqlx::query(concat!(
            "SELECT e.branch, e.stage, e.project_id, pr.tenant_id, pr.repo_url, pr.stage_rules, pr.allow_fork_builds,
                    pr.production_requires_approval,
                    (e.pr_number IS NOT NULL AND e.branch LIKE 'pr/%') OR e.candidate_for IS NOT NULL AS foreign, ",
            crate::access::columns!("e.project_id"),
            " FROM ops.environments e JOIN ops.projects pr ON pr.id = e.project_id
              WHERE e.id = $1 AND e.deleted_at IS NULL"
        ))
        .bind(env)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("environment"))?;
        tx.commit().await?;
        Ok(Branch {
            env,
            name: r.get("branch"),
            stage: crate::db::vocabulary(&r, "stage")?,
            access: Access::from_row(&r),
            repo_url: r.get("repo_url"),
            foreign: r.get("foreign"),
            ctx: Ctx {
                project: r.get("project_id"),
                tenant_id: r.get("tenant_id"),
                rules: serde_json::from_value::<StageRules>(r.get("stage_rules"))
                    .map_err(|e| anyhow::anyhow!("stored stage rules: {e}"))?,
                allow_forks: r.get("allow_fork_builds"),
                requires_approval: r.get("production_requires_approval"),
                trigger: Source::Api,
            },
        })
    }

    /// Refuses what is not a branch of the repository.
    pub(crate) fn require_repository_branch(&self, what: &str) -> DomainResult<()> {
        if self.foreign || self.name.contains('~') {
            return Err(DomainError::Invalid(format!(
                "{} is not a branch of the repository: {what} works on the repository's own branches",
                self.name
            )));
        }
        Ok(())
    }

    /// The repository's branch heads, read with the deploy key.
    pub(crate) async fn heads(&self, p: &Platform) -> DomainResult<std::collections::HashMap<String, String>> {
        super::poll::remote_heads(p, self.ctx.project, &self.repo_url).await.map_err(unreadable(self.ctx.project))
    }

    /// A push as the webhook would announce it, queued through the webhook's path.
    pub(crate) async fn announce(&self, p: &Platform, event: WebhookEvent) -> DomainResult<String> {
        let mut sys = p.db.begin_as(SYSTEM_USER).await?;
        let outcome = act(&mut sys, &self.ctx, event).await.map_err(domain_error)?;
        sys.commit().await?;
        Ok(outcome)
    }

    /// The one audit event of a branch command, as its actor.
    pub(crate) async fn audit(
        &self,
        p: &Platform,
        actor: &Actor,
        action: AuditAction,
        summary: serde_json::Value,
    ) -> DomainResult<()> {
        let mut tx = p.db.begin_as(actor.user_id).await?;
        audit::record(
            &mut tx,
            actor,
            Event {
                action,
                target: format!("environment:{}", self.env),
                tenant_id: Some(self.ctx.tenant_id),
                project_id: Some(self.ctx.project),
                summary,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn unreadable(project: Uuid) -> impl Fn(anyhow::Error) -> DomainError {
    move |e| {
        tracing::info!(%project, error = %format!("{e:#}"), "reading the repository failed");
        let why = format!("{e:#}");
        DomainError::Conflict(format!("the repository could not be read: {}", why.lines().next().unwrap_or_default()))
    }
}

fn domain_error(e: WebhookError) -> DomainError {
    match e {
        WebhookError::Domain(d) => d,
        other => DomainError::Conflict(other.to_string()),
    }
}

/// Pushes `refspec` from the project's mirror (brought up to date first) to its repository.
async fn push(p: &Platform, b: &Branch, refspec: &str) -> anyhow::Result<()> {
    let infra = p.builds.as_ref().context("branch commands need builds on this server")?;
    let remotes = super::git::remotes_for(infra.allow_local_repos, &b.repo_url).await?;
    let ssh = super::git::ssh_command_for(p, infra, b.ctx.project).await?;
    std::fs::create_dir_all(&infra.repos_dir)?;
    let lock = super::pipeline::mirror_lock(b.ctx.project);
    let _held = lock.lock().await;
    let mirror = infra.repos_dir.join(format!("{}.git", b.ctx.project));
    super::git::sync_mirror(&mirror, &b.repo_url, remotes, &ssh, infra.git_timeout).await?;
    let mut cmd = super::git::command(remotes, &ssh);
    cmd.arg("--git-dir").arg(&mirror).args(["push", "--quiet", "--no-verify", "--", &b.repo_url, refspec]);
    super::git::run(cmd, "push", infra.git_timeout).await?;
    Ok(())
}

fn refused_push(e: anyhow::Error) -> DomainError {
    tracing::info!(error = %format!("{e:#}"), "pushing to the repository failed");
    let why = format!("{e:#}");
    DomainError::Conflict(format!(
        "the repository refused the change (does the deploy key have write access?): {}",
        why.lines().next().unwrap_or_default()
    ))
}

/// Forks environment `env`'s branch: `new` is created in the repository at
/// the branch's current head and built as a push of it. Allowed to those who
/// may build on the stage the new branch gets (and see the one forked).
pub async fn fork(p: &Platform, actor: &Actor, env: Uuid, new: &BranchName) -> DomainResult<String> {
    let b = Branch::load(p, actor, env).await?;
    b.require_repository_branch("forking")?;
    let target = b.ctx.rules.stage_of(new);
    b.access.require(target, Capability::Upgrade, "creating a branch of that stage")?;
    let heads = b.heads(p).await?;
    if heads.contains_key(new.as_str()) {
        return Err(DomainError::Conflict(format!("the repository already has a branch {new}")));
    }
    let sha = heads
        .get(&b.name)
        .cloned()
        .ok_or_else(|| DomainError::Conflict(format!("the repository has no branch {} any more", b.name)))?;
    push(p, &b, &format!("{sha}:refs/heads/{new}")).await.map_err(refused_push)?;
    let commit = CommitInfo { sha: sha.clone(), subject: String::new(), author: String::new() };
    let event =
        WebhookEvent::BranchUpdated { branch: new.clone(), commit, forced: false, pusher: Some(actor.email.clone()) };
    let outcome = b.announce(p, event).await?;
    let summary = serde_json::json!({"branch": b.name, "fork": new.as_str(), "commit": sha, "outcome": outcome});
    b.audit(p, actor, AuditAction::BranchFork, summary).await?;
    Ok(outcome)
}

/// Deletes environment `env`'s branch: from the repository (when it is still
/// there), then its builds are killed and its previews, databases and
/// volumes torn down. Never production; allowed to those who may change the
/// branch's settings on its stage.
pub async fn delete(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<String> {
    let b = Branch::load(p, actor, env).await?;
    b.access.require(b.stage, Capability::BranchSettings, "deleting a branch")?;
    if b.stage == Stage::Production {
        return Err(DomainError::Conflict(
            "production is not deleted from here: make another branch production first".into(),
        ));
    }
    let in_repository = if b.foreign {
        false
    } else {
        let heads = b.heads(p).await?;
        heads.contains_key(&b.name)
    };
    if in_repository {
        push(p, &b, &format!(":refs/heads/{}", b.name)).await.map_err(refused_push)?;
    }
    let mut sys = p.db.begin_as(SYSTEM_USER).await?;
    let outcome = super::webhooks::retire(&mut sys, &b.ctx, &b.name).await.map_err(domain_error)?;
    sys.commit().await?;
    let summary = serde_json::json!({"branch": b.name, "stage": b.stage.as_str(), "from_repository": in_repository});
    b.audit(p, actor, AuditAction::BranchDelete, summary).await?;
    Ok(outcome)
}

/// What a branch's History shows of the audit trail: what was done to the branch or its builds.
const HISTORY_ACTIONS: &[AuditAction] = &[
    AuditAction::BackupCreate,
    AuditAction::BackupImport,
    AuditAction::BackupRestore,
    AuditAction::BackupRestoreProduction,
    AuditAction::BackupRestoreRequest,
    AuditAction::BranchFork,
    AuditAction::BuildKill,
    AuditAction::BuildNow,
    AuditAction::BuildRebuild,
    AuditAction::EnvironmentStage,
    AuditAction::ProductionRollback,
    AuditAction::PromotionApprove,
    AuditAction::PromotionReject,
    AuditAction::PromotionRequest,
    AuditAction::PromotionWithdraw,
];

/// A branch's History: its last `limit` builds and the platform events of the
/// branch and its builds, newest first. Everyone who may see the branch's
/// history on its stage reads it (as Odoo.sh's History tab), including the
/// events the audit log itself shows only to admins: who did what to this
/// branch, never anything else of the trail (no addresses, no other targets).
pub async fn history(p: &Platform, actor: &Actor, env: Uuid, limit: i64) -> DomainResult<crate::wire::BranchHistory> {
    let b = Branch::load(p, actor, env).await?;
    b.access.require(b.stage, Capability::History, "reading a branch's history")?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!(
        "{} b WHERE b.env_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2",
        super::queue::BUILD_SQL
    ))
    .bind(env)
    .bind(limit.clamp(1, 200))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let builds = rows.iter().map(super::queue::build_view).collect::<DomainResult<Vec<_>>>()?;
    let actions: Vec<&str> = HISTORY_ACTIONS.iter().map(|a| a.as_str()).collect();
    let mut sys = p.db.begin_as(SYSTEM_USER).await?;
    let rows = sqlx::query(
        "SELECT * FROM (
            SELECT DISTINCT ON (a.id) a.id, a.at, a.actor_email, a.action, a.summary, b.id AS build_id, b.seq AS build_number
              FROM ops.audit_events a
              LEFT JOIN ops.builds b ON b.env_id = $1
                   AND (a.target = 'build:' || b.id::text OR a.summary->>'build' = b.id::text)
             WHERE a.project_id = $2 AND a.action = ANY($3)
               AND (a.target IN ('environment:' || $1::text, 'env:' || $1::text) OR a.summary->>'env' = $1::text
                    OR b.id IS NOT NULL)
             ORDER BY a.id DESC) e
          ORDER BY at DESC LIMIT $4",
    )
    .bind(env)
    .bind(b.ctx.project)
    .bind(&actions)
    .bind(limit.clamp(1, 200))
    .fetch_all(&mut *sys)
    .await?;
    sys.commit().await?;
    let events = rows
        .iter()
        .map(|r| {
            let build: Option<Uuid> = r.get("build_id");
            Ok(crate::wire::BranchEvent {
                at: r.get("at"),
                actor_email: r.get("actor_email"),
                action: crate::db::vocabulary(r, "action")?,
                build: build.map(|id| (id, r.get::<i64, _>("build_number"))),
                summary: r.get("summary"),
            })
        })
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(crate::wire::BranchHistory { builds, events })
}
