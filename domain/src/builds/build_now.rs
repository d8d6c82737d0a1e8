//! "Build now" on a branch (issue 20): its current head, read from the
//! repository with the project's deploy key, built as if it had just been
//! pushed — for a project whose webhook is not set up yet, or a branch to build
//! again from its tip. It goes through the same path as a push, so production
//! with approvals gets a candidate, never a direct deployment. Allowed to those
//! who may rebuild on the branch's stage.

use super::branches::Branch;
use super::github::{CommitInfo, WebhookEvent};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, BranchName, Capability};
use uuid::Uuid;

/// Queues a build of the head of environment `env`'s branch; what happened, in a webhook's words.
pub async fn build_now(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<String> {
    let b = Branch::load(p, actor, env).await?;
    b.access.require(b.stage, Capability::Upgrade, "building a branch")?;
    b.require_repository_branch("Build now")?;
    let heads = b.heads(p).await?;
    let sha = heads
        .get(&b.name)
        .cloned()
        .ok_or_else(|| DomainError::Conflict(format!("the repository has no branch {} any more", b.name)))?;
    let name = BranchName::parse(&b.name)?;
    let commit = CommitInfo { sha: sha.clone(), subject: String::new(), author: String::new() };
    let event = WebhookEvent::BranchUpdated { branch: name, commit, forced: false, pusher: Some(actor.email.clone()) };
    let outcome = b.announce(p, event).await?;
    let summary = serde_json::json!({"branch": b.name, "commit": sha, "outcome": outcome});
    b.audit(p, actor, AuditAction::BuildNow, summary).await?;
    Ok(outcome)
}
