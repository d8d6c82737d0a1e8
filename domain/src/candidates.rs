//! Production changes only through approvals. On a project that requires
//! them, a push to the production branch does not deploy in place: it builds
//! a **candidate** in a staging environment of its own (a neutralized copy
//! of production, tests run, a preview to look at), and when that build
//! succeeds the platform asks for its promotion, in the name of the pusher
//! when GitHub names them and they have an account (so the database refuses
//! their own approval), otherwise in its own. Someone else with release
//! rights approves it, and the promotion deploys the candidate's image to
//! production with a backup first and a rollback on failure
//! ([`crate::promotions`]). A newer candidate supersedes a request still
//! waiting. With the setting off, a push deploys in place as before.

use crate::audit::{self, Event};
use crate::builds::queue::{system_actor, SYSTEM_USER};
use crate::db::ScopedTx;
use crate::types::{AuditAction, BuildResult, Stage};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// The name of a production branch's candidate environment. `~` cannot
/// appear in a git branch name, so no pushed branch ever lands there.
pub fn candidate_branch(production: &str) -> String {
    format!("{production}~candidate")
}

/// Whether an environment's branch is a candidate's (for display).
pub fn is_candidate_branch(branch: &str) -> bool {
    branch.ends_with("~candidate")
}

/// What a build page says about how changes reach production (nothing for
/// development and ordinary staging builds).
pub fn release_path(stage: Stage, candidate: bool, requires_approval: bool) -> Option<&'static str> {
    match (stage, candidate, requires_approval) {
        (_, true, _) => Some(
            "A candidate for production: built on a neutralized copy of production; when it passes, it waits as a \
             promotion until someone other than its pusher approves it.",
        ),
        (Stage::Production, _, true) => {
            Some("Production changes only through approved promotions: a push to this branch builds a candidate first.")
        }
        (Stage::Production, _, false) => Some(
            "Pushes to this branch deploy to production in place: “production requires approval” is off in the \
             project's settings.",
        ),
        _ => None,
    }
}

/// The candidate environment of `production` (created on first use).
pub(crate) async fn environment(
    tx: &mut ScopedTx,
    tenant: Uuid,
    project: Uuid,
    production: Uuid,
    branch: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage, candidate_for)
         VALUES ($1, $2, $3, $4, 'staging', $5)
         ON CONFLICT (project_id, branch) DO UPDATE SET deleted_at = NULL, last_activity = now()
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(project)
    .bind(candidate_branch(branch))
    .bind(production)
    .fetch_one(&mut **tx)
    .await
}

/// After a build closed (in its closing transaction): a successful candidate
/// becomes a promotion request, superseding a candidate's request still waiting.
pub(crate) async fn after_build(tx: &mut ScopedTx, build: Uuid) -> anyhow::Result<()> {
    let Some(b) = sqlx::query(
        "SELECT b.tenant_id, b.project_id, b.result, b.image_digest, b.commit_sha, b.author, b.seq,
                pr.required_approvals, pr.production_requires_approval,
                -- The pusher, when they have an account here: the request is theirs (they cannot approve it).
                (SELECT u.id FROM ops.users u WHERE u.email = lower(b.pusher_email)) AS pusher
           FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id JOIN ops.projects pr ON pr.id = b.project_id
          WHERE b.id = $1 AND e.candidate_for IS NOT NULL AND b.trigger IN ('push', 'poll', 'rebuild')",
    )
    .bind(build)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(());
    };
    let ok = crate::db::vocabulary_opt::<BuildResult>(&b, "result").ok().flatten().is_some_and(BuildResult::succeeded);
    let Some(digest) = b.get::<Option<String>, _>("image_digest").filter(|_| ok) else {
        return Ok(());
    };
    let (tenant, project): (Uuid, Uuid) = (b.get("tenant_id"), b.get("project_id"));
    let superseded: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE ops.promotions SET state = 'rejected', reason = 'superseded by a newer candidate', finished_at = now()
          WHERE project_id = $1 AND state = 'requested' AND candidate RETURNING id",
    )
    .bind(project)
    .fetch_all(&mut **tx)
    .await?;
    let id = Uuid::new_v4();
    let author: String = b.get("author");
    let commit: String = b.get("commit_sha");
    let row = crate::promotions::NewPromotion {
        id,
        tenant,
        project,
        source_build: build,
        image_digest: &digest,
        commit_sha: &commit,
        requested_by: b.get::<Option<Uuid>, _>("pusher").unwrap_or(SYSTEM_USER.0),
        required: b.get("required_approvals"),
        // `Some` marks the request as a push's candidate.
        pushed_by: Some(&author),
        upgrade_preview: None,
    };
    if !crate::promotions::insert(tx, &row).await? {
        // A promotion is deploying or rolling back: this candidate waits to be promoted by hand.
        tracing::warn!(%project, %build, "a candidate passed while another promotion was in flight; not requested");
        return Ok(());
    }
    audit::record(
        tx,
        &system_actor(),
        Event {
            action: AuditAction::PromotionRequest,
            target: format!("promotion:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"build": build, "image": digest, "candidate": true, "pushed_by": author,
                            "superseded": superseded}),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_named_apart_from_any_git_branch() {
        assert_eq!(candidate_branch("main"), "main~candidate");
        assert!(is_candidate_branch("main~candidate"));
        assert!(crate::types::BranchName::parse(&candidate_branch("main")).is_err(), "no push can name it");
    }

    #[test]
    fn build_pages_say_how_production_changes() {
        assert!(release_path(Stage::Production, false, true).unwrap().contains("only through approved promotions"));
        assert!(release_path(Stage::Production, false, false).unwrap().contains("in place"));
        assert!(release_path(Stage::Staging, true, true).unwrap().starts_with("A candidate"));
        assert_eq!(release_path(Stage::Staging, false, true), None);
        assert_eq!(release_path(Stage::Development, false, false), None);
    }
}
