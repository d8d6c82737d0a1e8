//! "Build now" on a branch (issue 20): its current head, read from the
//! repository with the project's deploy key, built as if it had just been
//! pushed — for a project whose webhook is not set up yet, or a branch to build
//! again from its tip. It goes through the same path as a push, so production
//! with approvals gets a candidate, never a direct deployment. Allowed to those
//! who may rebuild on the branch's stage.

use super::github::{CommitInfo, WebhookEvent};
use super::pipeline::plan::Source;
use super::queue::SYSTEM_USER;
use super::webhooks::{act, Ctx};
use crate::access::Access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, BranchName, Capability, Stage, StageRules};
use sqlx::Row;
use uuid::Uuid;

/// Queues a build of the head of environment `env`'s branch; what happened, in a webhook's words.
pub async fn build_now(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<String> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT e.branch, e.stage, e.project_id, pr.tenant_id, pr.repo_url, pr.stage_rules, pr.allow_fork_builds,
                pr.production_requires_approval, e.pr_number IS NOT NULL AS pull_request, ",
        crate::access::columns!("e.project_id"),
        " FROM ops.environments e JOIN ops.projects pr ON pr.id = e.project_id WHERE e.id = $1 AND e.deleted_at IS NULL"
    ))
    .bind(env)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    tx.commit().await?;
    let stage: Stage = crate::db::vocabulary(&r, "stage")?;
    Access::from_row(&r).require(stage, Capability::Upgrade, "building a branch")?;
    let branch: String = r.get("branch");
    if r.get::<bool, _>("pull_request") || branch.contains('~') {
        return Err(DomainError::Invalid(
            "this environment is not a branch of the repository: rebuild one of its builds".into(),
        ));
    }
    let project: Uuid = r.get("project_id");
    let heads = super::poll::remote_heads(p, project, &r.get::<String, _>("repo_url")).await.map_err(|e| {
        tracing::info!(%project, error = %format!("{e:#}"), "build now: reading the repository failed");
        let why = format!("{e:#}");
        DomainError::Conflict(format!("the repository could not be read: {}", why.lines().next().unwrap_or_default()))
    })?;
    let sha = heads
        .get(&branch)
        .cloned()
        .ok_or_else(|| DomainError::Conflict(format!("the repository has no branch {branch} any more")))?;
    let ctx = Ctx {
        project,
        tenant_id: r.get("tenant_id"),
        rules: serde_json::from_value::<StageRules>(r.get("stage_rules"))
            .map_err(|e| anyhow::anyhow!("stored stage rules: {e}"))?,
        allow_forks: r.get("allow_fork_builds"),
        requires_approval: r.get("production_requires_approval"),
        trigger: Source::Api,
    };
    let name = BranchName::parse(&branch)?;
    let commit = CommitInfo { sha: sha.clone(), subject: String::new(), author: String::new() };
    let mut sys = p.db.begin_as(SYSTEM_USER).await?;
    let outcome = act(
        &mut sys,
        &ctx,
        WebhookEvent::BranchUpdated { branch: name, commit, forced: false, pusher: Some(actor.email.clone()) },
    )
    .await
    .map_err(|e| match e {
        super::webhooks::WebhookError::Domain(d) => d,
        other => DomainError::Conflict(other.to_string()),
    })?;
    sys.commit().await?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BuildNow,
            target: format!("environment:{env}"),
            tenant_id: Some(ctx.tenant_id),
            project_id: Some(project),
            summary: serde_json::json!({"branch": branch, "commit": sha, "outcome": outcome}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}
