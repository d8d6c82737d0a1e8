//! Attack on webhook idempotency (security review SEC-14): the signature
//! covers the body, not the `X-GitHub-Delivery` id. Someone who captured one
//! signed push (GitHub's "Recent deliveries", a proxy log) sends it again
//! under a fresh delivery id, hoping to redeploy production at that old
//! commit. The body was seen before: it is acknowledged and nothing is queued.
//! And should an old push reach production anyway (one never delivered
//! before, or delivered late), the worker deploys only the branch's head.

use crate::helpers::{spawn_app, spawn_app_with_builds, tear_down_builds};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use serde_json::json;

#[tokio::test]
async fn a_captured_push_replayed_under_a_new_delivery_id_is_not_queued_again() {
    let app = spawn_app().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let project = ann.create_project("Acme ERP").await;
    let id = project["id"].as_str().unwrap().to_owned();
    let api = app.api(&ann.token().await);
    let (_, hook) = api.get(&format!("/api/v1/projects/{id}/webhook")).await;
    let secret = hook["secret"].as_str().unwrap().as_bytes().to_vec();
    let sha = "1234567890123456789012345678901234567890";
    let body = serde_json::to_vec(&json!({"ref": "refs/heads/main", "after": sha, "deleted": false,
        "head_commit": {"id": sha, "message": "release 1", "author": {"name": "Ann"}}}))
    .unwrap();
    let signature = domain::builds::github::sign(&secret, &body);
    let send = |delivery: String| {
        let (url, body, signature) =
            (format!("{}/api/webhooks/github/{id}", app.addr), body.clone(), signature.clone());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("X-GitHub-Event", "push")
                .header("X-GitHub-Delivery", delivery)
                .header("X-Hub-Signature-256", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let builds = || async {
        let (_, list) = api.get(&format!("/api/v1/projects/{id}/builds")).await;
        list.as_array().unwrap().len()
    };
    let (status, first) = send(uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(builds().await, 1);

    // The same signed body, again and again, each time with a delivery id never seen.
    for _ in 0..3 {
        let (status, again) = send(uuid::Uuid::new_v4().to_string()).await;
        assert_eq!(status, 200, "a replay is acknowledged, not acted on: {again}");
    }
    assert_eq!(builds().await, 1, "the replays queued nothing");

    // Another project receiving the same bytes is another matter (its own secret signs them).
    let other = ann.create_project("Acme Shop").await;
    let other_id = other["id"].as_str().unwrap();
    let (_, other_hook) = api.get(&format!("/api/v1/projects/{other_id}/webhook")).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/webhooks/github/{other_id}", app.addr))
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", uuid::Uuid::new_v4().to_string())
        .header(
            "X-Hub-Signature-256",
            domain::builds::github::sign(other_hook["secret"].as_str().unwrap().as_bytes(), &body),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_commit_pushed_late_is_not_deployed_to_production() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Acme", &repo).await;
    let old = commit_file(&repo, "main", "VERSION", "1\n", "release 1");
    let head = commit_file(&repo, "main", "VERSION", "2\n", "release 2");
    // A signed push for `main` at the old commit, arriving after main moved on.
    push(&app, &api, &project, "main", &old).await;
    let build = finished(&api, &project, &old).await;
    assert_eq!(build["stage"], "production", "{build}");
    assert_eq!(build["result"], "ko", "{build}");
    let reason = build["reason"].as_str().unwrap();
    assert!(reason.contains("not deployed") && reason.contains(&head[..12]), "{reason}");
    assert_eq!(build["live"], false, "nothing serves the old commit");
    tear_down_builds(&app).await;
}
