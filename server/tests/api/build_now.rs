//! "Build now" (issue 20): a branch's head, read from the repository with the
//! project's deploy key, built as a push would be; attacked by an outsider
//! (404), a developer on production (403) and a branch that is gone (409).

use crate::helpers::{add_project_member, spawn_app_with_builds, tear_down_builds};
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_now_builds_the_branch_head_for_those_who_may_rebuild_on_its_stage() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Now", &repo).await;
    let main = git(&repo, &["rev-parse", "HEAD"]);
    let (_, detail) = api.get(&format!("/api/v1/projects/{project}")).await;
    let prod = detail["environments"].as_array().unwrap().iter().find(|e| e["branch"] == "main").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carl = add_project_member(&app, &api, &project, "carl@acme.test", "developer").await;
    let carl = app.api(&carl.token().await);
    let eve = app.signed_up("eve@evil.test", "Evil").await;
    let eve = app.api(&eve.token().await);

    let (status, _) = eve.post(&format!("/api/v1/environments/{prod}/build"), json!({})).await;
    assert_eq!(status, 404, "an outsider learns nothing");
    let (status, e) = carl.post(&format!("/api/v1/environments/{prod}/build"), json!({})).await;
    assert_eq!(status, 403, "a developer does not deploy production: {e}");

    // With no webhook yet, production's head is built.
    let (status, said) = api.post(&format!("/api/v1/environments/{prod}/build"), json!({})).await;
    assert_eq!(status, 202, "{said}");
    assert!(said["outcome"].as_str().unwrap().starts_with("queued build"), "{said}");
    let built = finished(&api, &project, &main).await;
    assert_eq!((built["result"].as_str(), built["trigger"].as_str()), (Some("ok"), Some("api")), "{built}");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = 'build.now'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(events, 1);

    // A branch deleted from the repository (its webhook not delivered): a clear refusal, nothing queued.
    let sha = commit_file(&repo, "feature/gone", "notes.txt", "x", "Gone soon");
    push(&app, &api, &project, "feature/gone", &sha).await;
    finished(&api, &project, &sha).await;
    git(&repo, &["checkout", "-q", "main"]);
    git(&repo, &["branch", "-q", "-D", "feature/gone"]);
    let (_, detail) = api.get(&format!("/api/v1/projects/{project}")).await;
    let gone = detail["environments"].as_array().unwrap().iter().find(|e| e["branch"] == "feature/gone").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, e) = carl.post(&format!("/api/v1/environments/{gone}/build"), json!({})).await;
    assert_eq!(status, 409, "{e}");
    assert!(e["message"].as_str().unwrap_or_default().contains("no branch feature/gone"), "{e}");
    tear_down_builds(&app).await;
}
