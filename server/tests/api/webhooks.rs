//! GitHub webhooks end to end: signature checks before anything is stored,
//! replayed deliveries, branch and pull-request events becoming builds.

use crate::helpers::{spawn_app, Api, Browser, TestApp};
use serde_json::{json, Value};

const SHA1: &str = "1111111111111111111111111111111111111111";
const SHA2: &str = "2222222222222222222222222222222222222222";

struct Hook {
    url: String,
    secret: String,
}

async fn setup(app: &TestApp) -> (Browser<'_>, Api<'_>, String, Hook) {
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let project = b.create_project("Acme ERP").await;
    let id = project["id"].as_str().unwrap().to_owned();
    let api = app.api(&b.token().await);
    let (status, settings) = api.get(&format!("/api/v1/projects/{id}/webhook")).await;
    assert_eq!(status, 200, "{settings}");
    let hook = Hook {
        url: format!("{}/api/webhooks/github/{id}", app.addr),
        secret: settings["secret"].as_str().unwrap().to_owned(),
    };
    assert_eq!(settings["url"].as_str().unwrap(), hook.url);
    (b, api, id, hook)
}

async fn deliver(hook: &Hook, event: &str, delivery: &str, body: &Value, signature: Option<String>) -> (u16, Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let signature = signature.unwrap_or_else(|| domain::builds::github::sign(hook.secret.as_bytes(), &raw));
    let r = reqwest::Client::new()
        .post(&hook.url)
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", signature)
        .header("Content-Type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn push(branch: &str, sha: &str) -> Value {
    json!({"ref": format!("refs/heads/{branch}"), "before": "0".repeat(40), "after": sha, "created": true,
           "deleted": false, "forced": false,
           "head_commit": {"id": sha, "message": "Add the thing\n\nLong body", "author": {"name": "Ann"}}})
}

async fn builds(api: &Api<'_>, project: &str) -> Vec<Value> {
    let (status, list) = api.get(&format!("/api/v1/projects/{project}/builds")).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

async fn deliveries(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ops.webhook_deliveries").fetch_one(app.platform.db.owner()).await.unwrap()
}

#[tokio::test]
async fn a_signed_push_queues_one_build_even_when_replayed() {
    let app = spawn_app().await;
    let (_, api, project, hook) = setup(&app).await;
    let (status, body) = deliver(&hook, "ping", "d-0", &json!({"zen": "Keep it logically awesome."}), None).await;
    assert_eq!((status, body["outcome"].as_str()), (202, Some("pong")));

    let (status, _) = deliver(&hook, "push", "d-1", &push("feature/login", SHA1), None).await;
    assert_eq!(status, 202);
    let list = builds(&api, &project).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["branch"], "feature/login");
    assert_eq!(list[0]["stage"], "development");
    assert_eq!(list[0]["state"], "pending");
    assert_eq!(list[0]["subject"], "Add the thing");
    assert_eq!(list[0]["author"], "Ann");

    let (status, body) = deliver(&hook, "push", "d-1", &push("feature/login", SHA1), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(builds(&api, &project).await.len(), 1, "a replayed delivery is not built twice");

    deliver(&hook, "push", "d-2", &push("release/1.0", SHA2), None).await;
    deliver(&hook, "push", "d-3", &push("main", SHA2), None).await;
    let stages: Vec<(String, String)> = builds(&api, &project)
        .await
        .iter()
        .map(|b| (b["branch"].as_str().unwrap().to_owned(), b["stage"].as_str().unwrap().to_owned()))
        .collect();
    assert!(stages.contains(&("release/1.0".into(), "staging".into())));
    assert!(stages.contains(&("main".into(), "production".into())));
}

#[tokio::test]
async fn bad_or_missing_signatures_store_nothing() {
    let app = spawn_app().await;
    let (_, api, project, hook) = setup(&app).await;
    let body = push("feature/x", SHA1);
    let (status, err) = deliver(&hook, "push", "d-1", &body, Some(format!("sha256={}", "0".repeat(64)))).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthenticated")));
    let wrong = Hook { url: hook.url.clone(), secret: "not the secret".into() };
    assert_eq!(deliver(&wrong, "push", "d-2", &body, None).await.0, 401);
    let r = reqwest::Client::new()
        .post(&hook.url)
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", "d-3")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "missing signature");
    let unknown =
        Hook { url: format!("{}/api/webhooks/github/{}", app.addr, uuid::Uuid::new_v4()), secret: hook.secret.clone() };
    assert_eq!(deliver(&unknown, "push", "d-4", &body, None).await.0, 401);
    // Signed but malformed: a clear 400, nothing stored.
    let raw = b"{\"ref\": \"refs/heads/x\", \"after\": 12";
    let r = reqwest::Client::new()
        .post(&hook.url)
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", "d-5")
        .header("X-Hub-Signature-256", domain::builds::github::sign(hook.secret.as_bytes(), raw))
        .body(raw.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().starts_with("push payload"), "{err}");
    assert!(builds(&api, &project).await.is_empty());
    assert_eq!(deliveries(&app).await, 0);
}

#[tokio::test]
async fn tags_are_ignored_and_deleted_branches_are_retired() {
    let app = spawn_app().await;
    let (_, api, project, hook) = setup(&app).await;
    let tag = json!({"ref": "refs/tags/v1.0", "after": SHA1});
    let (status, body) = deliver(&hook, "push", "t-1", &tag, None).await;
    assert_eq!(status, 202);
    assert!(body["outcome"].as_str().unwrap().starts_with("ignored"));
    deliver(&hook, "push", "p-1", &push("feature/gone", SHA1), None).await;
    let del = json!({"ref": "refs/heads/feature/gone", "before": SHA1, "after": "0".repeat(40), "deleted": true});
    let (status, body) = deliver(&hook, "push", "p-2", &del, None).await;
    assert_eq!((status, body["outcome"].as_str()), (202, Some("retired feature/gone")));
    assert!(builds(&api, &project).await.is_empty(), "a deleted branch leaves the grid");
    let (state, result): (String, Option<String>) =
        sqlx::query_as("SELECT state, result FROM ops.builds").fetch_one(app.platform.db.owner()).await.unwrap();
    assert_eq!((state.as_str(), result.as_deref()), ("done", Some("killed")), "its pending build was killed");
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ops.environments WHERE branch = 'feature/gone' AND deleted_at IS NULL",
    )
    .fetch_one(app.platform.db.owner())
    .await
    .unwrap();
    assert_eq!(live, 0);
}

#[tokio::test]
async fn fork_pull_requests_build_only_when_allowed_and_clean_up_when_closed() {
    let app = spawn_app().await;
    let (_, api, project, hook) = setup(&app).await;
    let pr = |action: &str, head_repo: &str| {
        json!({"action": action, "number": 42, "pull_request": {"title": "Fix invoices", "user": {"login": "octo"},
            "head": {"ref": "fix", "sha": SHA1, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "sha": SHA2, "repo": {"full_name": "acme/addons"}}}})
    };
    let (_, body) = deliver(&hook, "pull_request", "pr-1", &pr("opened", "mallory/addons"), None).await;
    assert!(body["outcome"].as_str().unwrap().contains("fork builds are off"));
    assert!(builds(&api, &project).await.is_empty());

    sqlx::query("UPDATE ops.projects SET allow_fork_builds = true").execute(app.platform.db.owner()).await.unwrap();
    deliver(&hook, "pull_request", "pr-2", &pr("synchronize", "mallory/addons"), None).await;
    let list = builds(&api, &project).await;
    assert_eq!((list[0]["branch"].as_str(), list[0]["trigger"].as_str()), (Some("pr/42"), Some("pull_request")));
    let (_, body) = deliver(&hook, "pull_request", "pr-3", &pr("reopened", "mallory/addons"), None).await;
    assert!(body["outcome"].as_str().unwrap().contains("already built"));
    let (_, body) = deliver(&hook, "pull_request", "pr-4", &pr("closed", "mallory/addons"), None).await;
    assert_eq!(body["outcome"], "retired pr/42");
}

#[tokio::test]
async fn rebuild_and_kill_are_audited_and_respect_tenants() {
    let app = spawn_app().await;
    let (_, api, project, hook) = setup(&app).await;
    deliver(&hook, "push", "p-1", &push("feature/a", SHA1), None).await;
    let first = builds(&api, &project).await[0]["id"].as_str().unwrap().to_owned();
    let (status, rebuilt) = api.post(&format!("/api/v1/builds/{first}/rebuild"), json!({})).await;
    assert_eq!(status, 201, "{rebuilt}");
    assert_eq!((rebuilt["trigger"].as_str(), rebuilt["commit_sha"].as_str()), (Some("rebuild"), Some(SHA1)));
    let (status, _) = api.post(&format!("/api/v1/builds/{first}/kill"), json!({})).await;
    assert_eq!(status, 204);
    let (status, err) = api.post(&format!("/api/v1/builds/{first}/kill"), json!({})).await;
    assert_eq!((status, err["code"].as_str()), (409, Some("conflict")));

    let other = app.signed_up("bob@beta.test", "Beta").await;
    let bob = app.api(&other.token().await);
    assert_eq!(bob.get(&format!("/api/v1/builds/{first}")).await.0, 404);
    assert_eq!(bob.post(&format!("/api/v1/builds/{first}/rebuild"), json!({})).await.0, 404);
    assert_eq!(bob.get(&format!("/api/v1/projects/{project}/webhook")).await.0, 404);

    let (_, events) = api.get("/api/v1/audit").await;
    let actions: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"build.rebuild") && actions.contains(&"build.kill"), "{actions:?}");
}

#[tokio::test]
async fn polling_turns_new_branches_into_builds_and_settings_are_admin_only() {
    // Builds configured (polling runs git as the build runner does), no worker: nothing runs.
    let app = crate::helpers::spawn_app_with_builds_no_worker().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = crate::pipeline::repository();
    let (_, project) = api
        .post("/api/v1/projects", json!({"name": "Polled", "repo_url": repo.to_str().unwrap(), "odoo_version": "17.0"}))
        .await;
    let id = project["id"].as_str().unwrap().to_owned();
    let (status, s) = api
        .call(reqwest::Method::PATCH, &format!("/api/v1/projects/{id}/settings"), Some(json!({"poll_minutes": 5000})))
        .await;
    assert_eq!(status, 422, "{s}");
    let (status, s) = api
        .call(reqwest::Method::PATCH, &format!("/api/v1/projects/{id}/settings"), Some(json!({"poll_minutes": 1})))
        .await;
    assert_eq!((status, s["poll_minutes"].as_i64()), (200, Some(1)), "{s}");
    assert_eq!(domain::builds::poll::poll_due(&app.platform).await.unwrap(), 1);
    let list = builds(&api, &id).await;
    assert_eq!((list[0]["branch"].as_str(), list[0]["trigger"].as_str()), (Some("main"), Some("poll")));
    // Not due again until a minute passed; and nothing new to build anyway.
    assert_eq!(domain::builds::poll::poll_due(&app.platform).await.unwrap(), 0);

    let other = app.signed_up("bob@beta.test", "Beta").await;
    let bob = app.api(&other.token().await);
    let (status, _) = bob
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{id}/settings"),
            Some(json!({"public_previews": true})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn build_settings_form_saves_and_refuses_nonsense() {
    let app = spawn_app().await;
    let (b, _, project, _) = setup(&app).await;
    let form = |poll: &'static str| {
        vec![
            ("project_id", project.clone()),
            ("poll_minutes", poll.to_string()),
            ("keep_dev_builds", "2".to_string()),
            ("dev_idle_hours", "24".to_string()),
            ("shell_ttl_minutes", "20".to_string()),
            ("cron_limit_seconds", "900".to_string()),
            ("smtp_relay", "smtp.acme.test:587".to_string()),
            ("public_previews", "on".to_string()),
        ]
    };
    let pairs = form("5");
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, saved) = b.rpc("projects/save_build_settings", &refs).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["poll_minutes"], 5);
    assert_eq!(saved["public_previews"], true);
    assert_eq!(saved["allow_fork_builds"], false, "an unticked checkbox is false");
    assert_eq!(saved["shell_ttl_minutes"], 20);
    assert_eq!(saved["smtp_relay"], "smtp.acme.test:587");
    let pairs = form("99999");
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, err) = b.rpc("projects/save_build_settings", &refs).await;
    assert_eq!(err["code"], "invalid", "{err}");
}
