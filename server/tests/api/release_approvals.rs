//! Production changes only through approvals. On a project that requires
//! them (the default for new projects): the first push creates production;
//! a later push builds a candidate on a neutralized copy and waits as a
//! promotion in the pusher's name, which the pusher and a developer may not
//! approve and a release manager (not an admin) does; a production restore waits the same way;
//! with the setting off, a push deploys in place again.

use crate::backups::{wait_backup, wait_build};
use crate::helpers::{add_project_member, spawn_app_with_builds, tear_down_builds, Api};
use crate::pipeline::{commit_file, finished, push_as, repository};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn promotions(api: &Api<'_>, project: &str) -> Vec<Value> {
    api.get(&format!("/api/v1/projects/{project}/promotions")).await.1.as_array().unwrap().clone()
}

/// Production's serving build.
async fn serving(api: &Api<'_>, project: &str) -> Value {
    let (_, list) = api.get(&format!("/api/v1/projects/{project}/builds")).await;
    list.as_array().unwrap().iter().find(|b| b["stage"] == "production" && b["live"] == true).cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_production_waits_for_a_second_person_and_so_does_a_restore() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let (status, project) = api
        .post(
            "/api/v1/projects",
            json!({"name": "Guarded", "repo_url": repo.to_str().unwrap(), "odoo_version": "17.0",
                   "base_image": domain::builds::infra::STANDIN_IMAGE}),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    let project = project["id"].as_str().unwrap().to_owned();
    let settings = format!("/api/v1/projects/{project}/settings");
    assert_eq!(api.get(&settings).await.1["production_requires_approval"], true, "on for new projects");
    // The second person is a release manager: approves without administering the project.
    let bob = add_project_member(&app, &api, &project, "bob@acme.test", "release_manager").await;
    let bob = app.api(&bob.token().await);
    let dave = add_project_member(&app, &api, &project, "dave@acme.test", "developer").await;
    let dave = app.api(&dave.token().await);

    // The first push creates production in place: there is nothing to protect yet.
    let v1 = git_head(&repo);
    push_as(&app, &api, &project, "main", &v1, Some("ann@acme.test")).await;
    let first = finished(&api, &project, &v1).await;
    assert_eq!((first["stage"].as_str(), first["result"].as_str()), (Some("production"), Some("ok")), "{first}");

    // A later push builds a candidate (staging, a neutralized copy) and leaves production alone.
    let v2 = commit_file(&repo, "main", "CHANGES.md", "v2\n", "Second release");
    push_as(&app, &api, &project, "main", &v2, Some("ann@acme.test")).await;
    let candidate = finished(&api, &project, &v2).await;
    assert_eq!(candidate["stage"], "staging", "{candidate}");
    assert_eq!(candidate["result"], "ok", "{candidate}");
    assert_eq!(serving(&api, &project).await["commit_sha"], v1.as_str(), "production still serves v1");
    let waiting = promotions(&api, &project).await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let pr = &waiting[0];
    assert_eq!((pr["state"].as_str(), pr["candidate"].as_bool()), (Some("requested"), Some(true)), "{pr}");
    assert_eq!(pr["source_build"], candidate["id"]);
    assert_eq!(pr["requested_by"], "ann@acme.test", "asked in the pusher's name");
    let approve = format!("/api/v1/promotions/{}/approve", pr["id"].as_str().unwrap());
    let (status, body) = api.post(&approve, json!({})).await;
    assert_eq!(status, 403, "the pusher cannot approve their own change: {body}");
    assert_eq!(dave.post(&approve, json!({})).await.0, 403, "a developer has no release rights");
    let (status, body) = bob.post(&approve, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let pr = promotions(&api, &project).await[0].clone();
        match pr["state"].as_str().unwrap() {
            "deployed" => break,
            "requested" | "deploying" => {}
            other => panic!("the approved candidate did not reach production ({other}): {pr}"),
        }
        assert!(Instant::now() < deadline, "the approved candidate never reached production: {pr}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(serving(&api, &project).await["commit_sha"], v2.as_str(), "production serves the candidate's commit");

    // A production restore waits for someone else too (on top of the typed name).
    let prod = serving(&api, &project).await;
    let prod_env = prod["env_id"].as_str().unwrap().to_owned();
    let (status, backup) = api.post(&format!("/api/v1/environments/{prod_env}/backups"), json!({})).await;
    assert_eq!(status, 202, "{backup}");
    let backup = wait_backup(&api, backup["id"].as_str().unwrap()).await;
    let restore = format!("/api/v1/backups/{}/restore", backup["id"].as_str().unwrap());
    let (status, body) = api.post(&restore, json!({"target_env": prod_env})).await;
    assert_eq!(status, 422, "the name is still typed: {body}");
    let (status, queued) = api.post(&restore, json!({"target_env": prod_env, "confirm": "Guarded"})).await;
    assert_eq!(status, 202, "{queued}");
    assert!(queued["build_id"].is_null(), "nothing restores yet: {queued}");
    let request = queued["approval_request"].as_str().unwrap().to_owned();
    let (status, _) = api.post(&restore, json!({"target_env": prod_env, "confirm": "Guarded"})).await;
    assert_eq!(status, 409, "one production restore waits at a time");
    let (_, list) = bob.get(&format!("/api/v1/projects/{project}/restore-requests")).await;
    assert_eq!((list[0]["state"].as_str(), list[0]["may_approve"].as_bool()), (Some("requested"), Some(true)));
    let approve = format!("/api/v1/restore-requests/{request}/approve");
    assert_eq!(api.post(&approve, json!({})).await.0, 403, "the requester cannot approve it");
    assert_eq!(dave.post(&approve, json!({})).await.0, 403);
    let (status, approved) = bob.post(&approve, json!({})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["decided_by"], "bob@acme.test");
    let restored = wait_build(&api, approved["build_id"].as_str().unwrap()).await;
    assert_eq!(restored["result"], "ok", "{restored}");
    assert_eq!(bob.post(&approve, json!({})).await.0, 409, "decided once");
    let owner = app.platform.db.owner();
    let count = |action: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM ops.audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(owner)
            .await
            .unwrap()
    };
    assert_eq!(count("backup.restore_request").await, 1);
    assert_eq!(count("backup.restore_production").await, 1, "one event for the restore, by its approver");

    // With the setting off, a push deploys in place, as before.
    let (status, body) =
        api.call(reqwest::Method::PATCH, &settings, Some(json!({"production_requires_approval": false}))).await;
    assert_eq!((status, body["production_requires_approval"].as_bool()), (200, Some(false)), "{body}");
    let v3 = commit_file(&repo, "main", "CHANGES.md", "v3\n", "Third release");
    push_as(&app, &api, &project, "main", &v3, Some("ann@acme.test")).await;
    let direct = finished(&api, &project, &v3).await;
    assert_eq!((direct["stage"].as_str(), direct["result"].as_str()), (Some("production"), Some("ok")), "{direct}");
    assert_eq!(promotions(&api, &project).await.len(), 1, "no new promotion");
    tear_down_builds(&app).await;
}

fn git_head(repo: &std::path::Path) -> String {
    crate::pipeline::git(repo, &["checkout", "-q", "main"]);
    crate::pipeline::git(repo, &["rev-parse", "HEAD"])
}
