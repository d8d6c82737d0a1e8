//! How promotions read, and which buttons a build page offers (the server decides anyway).

use domain::types::{BuildResult, BuildState, Stage};
use domain::wire::{BuildView, PromotionView};

/// A successful staging build can be proposed for production.
pub fn may_request_promotion(b: &BuildView) -> bool {
    b.stage == Stage::Staging && b.state == BuildState::Done && b.result.is_some_and(BuildResult::succeeded)
}

/// An earlier production build that no longer serves can be redeployed.
pub fn may_roll_back_to(b: &BuildView) -> bool {
    b.stage == Stage::Production
        && b.state == BuildState::Done
        && !b.live
        && b.image_digest.is_some()
        && b.result.is_some_and(BuildResult::succeeded)
}

pub fn state_label(state: &str) -> &'static str {
    match state {
        "requested" => "waiting for approval",
        "deploying" => "deploying",
        "deployed" => "in production",
        "rolling_back" => "failed; rolling back",
        "rolled_back" => "rolled back",
        "failed" => "failed",
        "rejected" => "rejected",
        _ => "unknown",
    }
}

/// Who asked: a person, or the platform for a push to production (a candidate).
pub fn asked_by(p: &PromotionView) -> String {
    if p.candidate {
        match p.pushed_by.as_deref().filter(|a| !a.is_empty()) {
            Some(author) => format!("candidate of a push by {author}"),
            None => "candidate of a push".to_owned(),
        }
    } else {
        p.requested_by.clone()
    }
}

/// `1 of 2 approvals (ann@…)`.
pub fn approvals_text(p: &PromotionView) -> String {
    let who = if p.approvals.is_empty() { String::new() } else { format!(" ({})", p.approvals.join(", ")) };
    format!("{} of {} approval{}{who}", p.approvals.len(), p.required, if p.required == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(stage: &str, result: &str, live: bool) -> BuildView {
        BuildView {
            id: uuid::Uuid::nil(),
            project_id: uuid::Uuid::nil(),
            number: 1,
            env_id: uuid::Uuid::nil(),
            branch: "b".into(),
            stage: Stage::parse(stage).unwrap(),
            commit_sha: "0".repeat(40),
            subject: String::new(),
            author: String::new(),
            trigger: "push".into(),
            state: BuildState::Done,
            result: Some(BuildResult::parse(result).unwrap()),
            reason: None,
            live,
            image_digest: Some("sha256:x".into()),
            db_name: None,
            slug: None,
            created_at: chrono::Utc::now(),
            started_at: None,
            finished_at: None,
            preflight: Vec::new(),
        }
    }

    #[test]
    fn which_builds_offer_what() {
        assert!(may_request_promotion(&build("staging", "ok", true)));
        assert!(!may_request_promotion(&build("staging", "ko", false)));
        assert!(!may_request_promotion(&build("development", "ok", true)));
        assert!(may_roll_back_to(&build("production", "ok", false)));
        assert!(!may_roll_back_to(&build("production", "ok", true)), "the serving build is not a rollback target");
        assert_eq!(state_label("rolled_back"), "rolled back");
    }

    #[test]
    fn candidates_name_their_pusher() {
        let mut p = PromotionView {
            id: uuid::Uuid::nil(),
            project_id: uuid::Uuid::nil(),
            source_build: uuid::Uuid::nil(),
            source_number: 1,
            commit_sha: "0".repeat(40),
            image_digest: "sha256:x".into(),
            state: "requested".into(),
            requested_by: "system@odooops.invalid".into(),
            approvals: Vec::new(),
            required: 1,
            deploy_build: None,
            rollback_build: None,
            reason: None,
            created_at: chrono::Utc::now(),
            finished_at: None,
            may_approve: true,
            candidate: true,
            pushed_by: Some("Ann".into()),
            may_withdraw: false,
        };
        assert_eq!(asked_by(&p), "candidate of a push by Ann");
        p.candidate = false;
        p.requested_by = "ann@acme.test".into();
        assert_eq!(asked_by(&p), "ann@acme.test");
    }
}
