//! One tenant cannot take every build slot (SEC-09): with two slots and one
//! per tenant, a tenant whose builds hang keeps one slot, and another
//! tenant's push still builds beside them.

use crate::helpers::{spawn_app_with_builds_no_worker, tear_down_builds, Api};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use serde_json::Value;
use std::time::Duration;

async fn builds_of(api: &Api<'_>, project: &str) -> Vec<Value> {
    api.get(&format!("/api/v1/projects/{project}/builds")).await.1.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_builds_hang_keeps_one_slot_and_others_still_build() {
    let app = spawn_app_with_builds_no_worker().await;
    let p = super::support::with_infra(&app, |infra| {
        infra.max_concurrent = 2;
        infra.max_per_tenant = 1;
        infra.health_timeout = Duration::from_secs(600);
    });
    let worker = server::worker::spawn(p);

    // Mallory's two branches start and then never become healthy.
    let m = app.signed_up("mallory@evil.test", "Evil").await;
    let mallory = app.api(&m.token().await);
    let slow = repository();
    let hog = standin_project(&mallory, "Hog", &slow).await;
    let mut hogs = Vec::new();
    for branch in ["hog-1", "hog-2"] {
        let sha = commit_file(&slow, branch, ".standin", &format!("slow-start 600\n# {branch}\n"), "never healthy");
        push(&app, &mallory, &hog, branch, &sha).await;
        hogs.push(sha);
    }

    // Ann's push builds all the same.
    let a = app.signed_up("ann@acme.test", "Acme").await;
    let ann = app.api(&a.token().await);
    let repo = repository();
    let project = standin_project(&ann, "Fine", &repo).await;
    let sha = crate::pipeline::git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &ann, &project, "main", &sha).await;
    assert_eq!(finished(&ann, &project, &sha).await["result"], "ok");

    let states: Vec<String> =
        builds_of(&mallory, &hog).await.iter().map(|b| b["state"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        states.iter().filter(|s| *s == "pending").count(),
        1,
        "one of mallory's builds waited for its tenant's slot: {states:?}"
    );
    for b in builds_of(&mallory, &hog).await {
        let (status, _) =
            mallory.post(&format!("/api/v1/builds/{}/kill", b["id"].as_str().unwrap()), serde_json::json!({})).await;
        assert!(status < 300, "{status}");
    }
    worker.abort();
    tear_down_builds(&app).await;
}
