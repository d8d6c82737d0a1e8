//! Receiving GitHub webhooks for a project.
//!
//! Order matters: the signature is checked over the raw body before anything
//! is parsed or stored; an unknown project answers like a bad signature (it
//! does not reveal which ids exist); a delivery id seen before, or a body this
//! project received before under any delivery id (the id is not signed, so a
//! captured push could otherwise be replayed), is acknowledged without
//! building twice; a malformed payload stores nothing.

use super::github::{self, CommitInfo, WebhookEvent};
use super::queue::{self, NewBuild, SYSTEM_USER};
use crate::db::ScopedTx;
use crate::error::DomainError;
use crate::platform::Platform;
use crate::types::{BranchName, StageRules};
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// 401: missing or wrong signature, or no such project.
    #[error("{0}")]
    Unauthorized(String),
    /// 400: signed, but not a payload we understand.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<sqlx::Error> for WebhookError {
    fn from(e: sqlx::Error) -> Self {
        WebhookError::Domain(e.into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// What was done, for the delivery log and GitHub's "recent deliveries" view.
    Accepted(String),
    /// This delivery id, or this very body, was processed before.
    Duplicate,
}

pub struct Delivery<'a> {
    pub event: &'a str,
    pub delivery_id: &'a str,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

pub async fn receive(p: &Platform, project: Uuid, d: Delivery<'_>) -> Result<Outcome, WebhookError> {
    // Secrets are for project admins and the platform: the receiver reads it as the system.
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let secret: Option<String> =
        sqlx::query_scalar("SELECT ops.webhook_secret($1)").bind(project).fetch_one(&mut *tx).await?;
    let unauthorized = || WebhookError::Unauthorized("invalid signature or unknown project".into());
    let secret = secret.ok_or_else(unauthorized)?;
    github::verify_signature(secret.as_bytes(), d.body, d.signature).map_err(|e| match e {
        github::SignatureError::Mismatch => unauthorized(),
        other => WebhookError::Unauthorized(other.to_string()),
    })?;
    if d.delivery_id.is_empty() || d.delivery_id.len() > 100 {
        return Err(WebhookError::Invalid("missing or oversized X-GitHub-Delivery header".into()));
    }
    let event = github::parse_event(d.event, d.body).map_err(WebhookError::Invalid)?;

    let project_row = sqlx::query("SELECT tenant_id, stage_rules, allow_fork_builds, production_requires_approval FROM ops.projects WHERE id = $1")
        .bind(project)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(unauthorized)?;
    let tenant_id: Uuid = project_row.get("tenant_id");
    let inserted = sqlx::query(
        "INSERT INTO ops.webhook_deliveries (delivery_id, tenant_id, project_id, event, outcome, body_sha256)
         VALUES ($1, $2, $3, $4, 'processing', $5) ON CONFLICT DO NOTHING",
    )
    .bind(d.delivery_id)
    .bind(tenant_id)
    .bind(project)
    .bind(d.event)
    .bind(Sha256::digest(d.body).to_vec())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Outcome::Duplicate);
    }
    let rules: StageRules = serde_json::from_value(project_row.get("stage_rules"))
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored stage rules: {e}")))?;
    let ctx = Ctx {
        project,
        tenant_id,
        rules,
        allow_forks: project_row.get("allow_fork_builds"),
        requires_approval: project_row.get("production_requires_approval"),
        trigger: super::pipeline::plan::Source::Push,
    };
    let outcome = act(&mut tx, &ctx, event).await?;
    sqlx::query("UPDATE ops.webhook_deliveries SET outcome = $2 WHERE delivery_id = $1")
        .bind(d.delivery_id)
        .bind(&outcome)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Outcome::Accepted(outcome))
}

pub(crate) struct Ctx {
    pub(crate) project: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) rules: StageRules,
    pub(crate) allow_forks: bool,
    /// Production changes only through approvals: a push to it builds a candidate (see `crate::candidates`).
    pub(crate) requires_approval: bool,
    /// `push` for webhooks, `poll` for polling.
    pub(crate) trigger: super::pipeline::plan::Source,
}

pub(crate) async fn act(tx: &mut ScopedTx, ctx: &Ctx, event: WebhookEvent) -> Result<String, WebhookError> {
    Ok(match event {
        WebhookEvent::Ping => "pong".into(),
        WebhookEvent::Ignored(what) => format!("ignored: {what}"),
        WebhookEvent::BranchUpdated { branch, commit, pusher, .. } => {
            let (env, stage) = environment(tx, ctx, &branch, None).await?;
            // Production's first build creates it; every later change goes through a candidate.
            let serving = stage == "production"
                && ctx.requires_approval
                && crate::backups::jobs::current_database(tx, env).await?.is_some();
            if serving {
                let candidate = crate::candidates::environment(tx, ctx.tenant_id, ctx.project, env, branch.as_str())
                    .await
                    .map_err(DomainError::from)?;
                let id = queue_build(tx, ctx, candidate, &branch, "staging", &commit, ctx.trigger).await?;
                sqlx::query("UPDATE ops.builds SET pusher_email = $2 WHERE id = $1")
                    .bind(id)
                    .bind(pusher.as_deref())
                    .execute(&mut **tx)
                    .await
                    .map_err(DomainError::from)?;
                format!("queued candidate build {id} of {branch}: production changes through an approved promotion")
            } else {
                let id = queue_build(tx, ctx, env, &branch, &stage, &commit, ctx.trigger).await?;
                format!("queued build {id} of {branch}")
            }
        }
        WebhookEvent::BranchDeleted { branch } => retire(tx, ctx, branch.as_str()).await?,
        WebhookEvent::PullRequestHead { number, branch, sha, from_fork, title, author } => {
            if from_fork && !ctx.allow_forks {
                return Ok(format!("ignored: PR #{number} comes from a fork and fork builds are off"));
            }
            // A PR from this repository builds through its branch's pushes; a fork's gets its own environment.
            let name = if from_fork { BranchName::parse(&format!("pr/{number}")).expect("valid") } else { branch };
            let (env, stage) = environment(tx, ctx, &name, Some(number)).await?;
            let already: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ops.builds WHERE env_id = $1 AND commit_sha = $2)")
                    .bind(env)
                    .bind(&sha)
                    .fetch_one(&mut **tx)
                    .await?;
            if already {
                format!("PR #{number}: {sha} is already built")
            } else {
                let commit = CommitInfo { sha, subject: title, author };
                let id = queue_build(tx, ctx, env, &name, &stage, &commit, super::pipeline::plan::Source::PullRequest)
                    .await?;
                format!("queued build {id} of PR #{number}")
            }
        }
        WebhookEvent::PullRequestClosed { number, branch, from_fork } => {
            if from_fork {
                retire(tx, ctx, &format!("pr/{number}")).await?
            } else {
                sqlx::query("UPDATE ops.environments SET pr_number = NULL WHERE project_id = $1 AND branch = $2")
                    .bind(ctx.project)
                    .bind(branch.as_str())
                    .execute(&mut **tx)
                    .await?;
                format!("PR #{number} closed; branch {branch} keeps its environment while it exists")
            }
        }
    })
}

/// Queues a build of `commit` for an environment.
async fn queue_build(
    tx: &mut ScopedTx,
    ctx: &Ctx,
    env: Uuid,
    branch: &BranchName,
    stage: &str,
    commit: &CommitInfo,
    source: super::pipeline::plan::Source,
) -> Result<Uuid, WebhookError> {
    let build = NewBuild {
        tenant_id: ctx.tenant_id,
        project_id: ctx.project,
        env_id: env,
        branch: branch.as_str(),
        stage,
        commit_sha: &commit.sha,
        subject: &commit.subject,
        author: &commit.author,
        source,
    };
    Ok(queue::enqueue(tx, build).await?)
}

/// The live environment of a branch, created on first push.
async fn environment(
    tx: &mut ScopedTx,
    ctx: &Ctx,
    branch: &BranchName,
    pr: Option<u64>,
) -> Result<(Uuid, String), WebhookError> {
    let stage = ctx.rules.stage_of(branch).as_str().to_owned();
    let row = sqlx::query(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage, pr_number)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (project_id, branch) DO UPDATE
            SET deleted_at = NULL, last_activity = now(),
                pr_number = coalesce(EXCLUDED.pr_number, ops.environments.pr_number)
         RETURNING id, stage",
    )
    .bind(Uuid::new_v4())
    .bind(ctx.tenant_id)
    .bind(ctx.project)
    .bind(branch.as_str())
    .bind(&stage)
    .bind(pr.map(|n| n as i32))
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.get("id"), row.get("stage")))
}

/// A deleted branch or closed fork PR: kill its builds and mark it deleted
/// (the reconciler removes its containers, volumes and databases).
pub(crate) async fn retire(tx: &mut ScopedTx, ctx: &Ctx, branch: &str) -> Result<String, WebhookError> {
    let env: Option<Uuid> = sqlx::query_scalar(
        "UPDATE ops.environments SET deleted_at = now() WHERE project_id = $1 AND branch = $2 AND deleted_at IS NULL
           AND stage <> 'production' RETURNING id",
    )
    .bind(ctx.project)
    .bind(branch)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(env) = env else { return Ok(format!("nothing to clean up for {branch}")) };
    sqlx::query(
        "UPDATE ops.builds SET state = 'done', result = 'killed', reason = 'branch deleted', finished_at = now()
          WHERE env_id = $1 AND state = 'pending'",
    )
    .bind(env)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE ops.builds SET kill_requested = true WHERE env_id = $1 AND state = 'running'")
        .bind(env)
        .execute(&mut **tx)
        .await?;
    // Workers tear the environment's previews down now rather than at their next sweep.
    crate::jobs::channels::notify(tx, crate::jobs::channels::Channel::Jobs, "reconcile").await?;
    Ok(format!("retired {branch}"))
}

/// The webhook settings of a project, for its admins.
pub async fn settings(
    p: &Platform,
    actor: &crate::auth::Actor,
    project: Uuid,
) -> crate::error::DomainResult<crate::wire::WebhookSettings> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let secret: Option<String> =
        sqlx::query_scalar("SELECT webhook_secret FROM ops.project_secrets WHERE project_id = $1")
            .bind(project)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    let secret = secret.ok_or(DomainError::NotFound("project"))?;
    Ok(crate::wire::WebhookSettings { url: format!("{}/api/webhooks/github/{project}", p.settings.public_url), secret })
}
