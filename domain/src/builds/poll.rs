//! Polling, for repositories that cannot send webhooks: every
//! `poll_minutes`, list the remote's branches (`git ls-remote`) and turn what
//! changed into the same events a webhook would have delivered.

use super::github::{CommitInfo, WebhookEvent};
use super::queue::SYSTEM_USER;
use super::webhooks::{act, Ctx};
use crate::platform::Platform;
use crate::types::{BranchName, StageRules};
use anyhow::Context;
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;

/// Branch → commit from `git ls-remote --heads` output.
pub fn parse_ls_remote(out: &str) -> HashMap<String, String> {
    out.lines()
        .filter_map(|l| {
            let (sha, r) = l.split_once('\t')?;
            let branch = r.strip_prefix("refs/heads/")?;
            (sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| (branch.to_owned(), sha.to_owned()))
        })
        .collect()
}

/// Polls every project that is due; returns the number of builds queued.
pub async fn poll_due(p: &Platform) -> anyhow::Result<usize> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let due = sqlx::query(
        "UPDATE ops.projects SET last_polled_at = now()
          WHERE poll_minutes > 0 AND (last_polled_at IS NULL OR last_polled_at < now() - make_interval(mins => poll_minutes))
      RETURNING id, tenant_id, repo_url, stage_rules, allow_fork_builds, production_requires_approval",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    // Several remotes at once, each bounded by the git timeout: a slow one delays no other.
    use futures_util::StreamExt;
    let counts: Vec<usize> = futures_util::stream::iter(due)
        .map(|project| async move {
            let id: Uuid = project.get("id");
            match poll_one(p, &project).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(project = %id, error = %format!("{e:#}"), "polling failed");
                    0
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    Ok(counts.into_iter().sum())
}

/// The remote's branches and their heads (`git ls-remote --heads`), reached as a build's checkout
/// is: the project's deploy key or none (never the console's own ssh identity or agent), local
/// paths only where the operator allows them, and the network checks of [`super::git::check_remote`].
pub(crate) async fn remote_heads(p: &Platform, project: Uuid, url: &str) -> anyhow::Result<HashMap<String, String>> {
    let infra = p.builds.as_ref().context("reading the repository needs builds on this server")?;
    let remotes = super::git::remotes_for(infra.allow_local_repos, url).await?;
    let ssh = super::git::ssh_command_for(p, infra, project).await?;
    let mut cmd = super::git::command(remotes, &ssh);
    cmd.args(["ls-remote", "--heads", "--", url]);
    let out = super::git::run(cmd, "ls-remote", infra.git_timeout).await?;
    Ok(parse_ls_remote(&String::from_utf8_lossy(&out)))
}

async fn poll_one(p: &Platform, project: &sqlx::postgres::PgRow) -> anyhow::Result<usize> {
    let url: String = project.get("repo_url");
    let remote = remote_heads(p, project.get("id"), &url).await?;
    let ctx = Ctx {
        project: project.get("id"),
        tenant_id: project.get("tenant_id"),
        rules: serde_json::from_value::<StageRules>(project.get("stage_rules"))?,
        allow_forks: project.get("allow_fork_builds"),
        requires_approval: project.get("production_requires_approval"),
        trigger: super::pipeline::plan::Source::Poll,
    };
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    // The newest commit built (or queued) per live branch; a production
    // candidate's builds count for its production branch.
    let known: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT DISTINCT ON (branch) branch, commit_sha FROM (
            SELECT coalesce(prod.branch, e.branch) AS branch, b.commit_sha, b.created_at
              FROM ops.environments e LEFT JOIN ops.environments prod ON prod.id = e.candidate_for
              JOIN ops.builds b ON b.env_id = e.id
             WHERE e.project_id = $1 AND e.deleted_at IS NULL AND e.pr_number IS NULL) k
          ORDER BY branch, created_at DESC",
    )
    .bind(ctx.project)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let mut queued = 0;
    for (branch, sha) in &remote {
        if known.get(branch) == Some(sha) {
            continue;
        }
        let Ok(branch) = BranchName::parse(branch) else { continue };
        let commit = CommitInfo { sha: sha.clone(), subject: String::new(), author: String::new() };
        act(&mut tx, &ctx, WebhookEvent::BranchUpdated { branch, commit, forced: false, pusher: None }).await?;
        queued += 1;
    }
    for branch in known.keys().filter(|b| !remote.contains_key(*b)) {
        if let Ok(branch) = BranchName::parse(branch) {
            act(&mut tx, &ctx, WebhookEvent::BranchDeleted { branch }).await?;
        }
    }
    tx.commit().await?;
    Ok(queued)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_ls_remote() {
        let out = format!(
            "{a}\trefs/heads/main\n{b}\trefs/heads/feature/x\n{a}\trefs/tags/v1\nbogus\n",
            a = "a".repeat(40),
            b = "b".repeat(40)
        );
        let m = super::parse_ls_remote(&out);
        assert_eq!(m.len(), 2);
        assert_eq!(m["feature/x"], "b".repeat(40));
    }
}
