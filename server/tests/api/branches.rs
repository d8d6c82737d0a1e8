//! Branch commands and Connect (issue 20): Fork pushes a new branch with the
//! project's deploy key and builds it; Connect signs in to the build's Odoo as
//! its admin through a one-time ticket; Delete removes the branch from the
//! repository and tears it down. Attacked: an outsider (404 everywhere), bad
//! and taken names, a developer on production (the login page, no ticket; no
//! deletion), a ticket used twice, carried to another build's host, or used by
//! someone removed from the project meanwhile. A development build's database
//! downloads as a dump; production's does not (its backups do).

use crate::helpers::{add_project_member, spawn_app_with_builds, tear_down_builds, TestApp};
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use domain::engine::ContainerEngine as _;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The finished build of `branch` (the newest).
async fn finished_on(api: &crate::helpers::Api<'_>, project: &str, branch: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, list) = api.get(&format!("/api/v1/projects/{project}/builds")).await;
        if let Some(b) = list.as_array().unwrap().iter().find(|b| b["branch"] == branch && b["state"] == "done") {
            return b.clone();
        }
        assert!(Instant::now() < deadline, "no build of {branch} finished: {list}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Where the console's Connect sends `token`'s holder for `build`.
async fn connect_url(app: &TestApp, token: &str, build: &str) -> (u16, String) {
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/builds/{build}/connect", app.addr))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, location)
}

/// A browser of the preview host in `url` (resolved to the console), following redirects, with cookies.
fn preview_browser(app: &TestApp, url: &str) -> reqwest::Client {
    let host = url.split("://").nth(1).unwrap().split(['/', ':']).next().unwrap().to_owned();
    let port: u16 = app.addr.rsplit(':').next().unwrap().parse().unwrap();
    reqwest::Client::builder()
        .resolve(&host, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .cookie_store(true)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_builds_a_new_branch_connect_signs_in_as_admin_and_delete_tears_it_down() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let ann_token = ann.token().await;
    let api = app.api(&ann_token);
    let repo = repository();
    let project = standin_project(&api, "Forks", &repo).await;
    let main = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &main).await;
    let production = finished(&api, &project, &main).await;
    let sha = commit_file(&repo, "feature/a", "a.txt", "a", "Feature A");
    // The test repository has a work tree: git refuses to delete the branch it has checked out.
    git(&repo, &["checkout", "-q", "main"]);
    push(&app, &api, &project, "feature/a", &sha).await;
    let a = finished(&api, &project, &sha).await;
    assert_eq!(a["result"], "ok", "{a}");
    let env_a = a["env_id"].as_str().unwrap().to_owned();
    let carl = add_project_member(&app, &api, &project, "carl@acme.test", "developer").await;
    let carl_token = carl.token().await;
    let carl = app.api(&carl_token);
    let eve = app.signed_up("eve@evil.test", "Evil").await;
    let eve_token = eve.token().await;
    let eve = app.api(&eve_token);

    // Fork: outsiders learn nothing; names are checked; a taken name is refused before anything is pushed.
    let (status, _) = eve.post(&format!("/api/v1/environments/{env_a}/fork"), json!({"branch": "feature/b"})).await;
    assert_eq!(status, 404);
    let (status, e) = carl.post(&format!("/api/v1/environments/{env_a}/fork"), json!({"branch": "../b"})).await;
    assert_eq!(status, 422, "{e}");
    let (status, e) = carl.post(&format!("/api/v1/environments/{env_a}/fork"), json!({"branch": "feature/a"})).await;
    assert_eq!(status, 409, "{e}");
    let (status, said) = carl.post(&format!("/api/v1/environments/{env_a}/fork"), json!({"branch": "feature/b"})).await;
    assert_eq!(status, 202, "{said}");
    assert!(said["outcome"].as_str().unwrap().starts_with("queued build"), "{said}");
    assert_eq!(git(&repo, &["rev-parse", "feature/b"]), sha, "the new branch is in the repository at the head forked");
    let b = finished_on(&api, &project, "feature/b").await;
    assert_eq!(b["result"], "ok", "{b}");
    let (b_id, env_b) = (b["id"].as_str().unwrap().to_owned(), b["env_id"].as_str().unwrap().to_owned());

    // Connect on development: signed in as the build's admin, by a ticket that opens once.
    let (status, url) = connect_url(&app, &carl_token, &b_id).await;
    assert_eq!(status, 303);
    assert!(url.contains("/odooops/connect?odooops_ticket="), "{url}");
    let page = preview_browser(&app, &url).get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("signed in as <b id=\"user\">admin</b>"), "{html}");
    let again = preview_browser(&app, &url).get(&url).send().await.unwrap();
    assert_eq!(again.status(), 403, "a ticket opens once");
    // A ticket carried to another build's host opens nothing there.
    let (_, url) = connect_url(&app, &carl_token, &b_id).await;
    let a_slug = a["slug"].as_str().unwrap();
    let b_slug = b["slug"].as_str().unwrap();
    let elsewhere = url.replace(b_slug, a_slug);
    let page = preview_browser(&app, &elsewhere).get(&elsewhere).send().await.unwrap();
    assert_eq!(page.status(), 403, "{elsewhere}");
    // Outsiders get no ticket; a developer on production gets the login page, not its admin.
    let (status, _) = connect_url(&app, &eve_token, &b_id).await;
    assert_eq!(status, 404);
    let (status, url) = connect_url(&app, &carl_token, production["id"].as_str().unwrap()).await;
    assert_eq!(status, 303);
    assert!(url.contains("/web/login?odooops_token="), "{url}");
    let tickets: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.connect_tickets")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(tickets, 2, "only the two development tickets were minted");
    // Someone removed from the project cannot use a ticket minted a moment before.
    let (_, url) = connect_url(&app, &carl_token, &b_id).await;
    let (_, members) = api.get(&format!("/api/v1/projects/{project}/members")).await;
    let carl_id = members.as_array().unwrap().iter().find(|m| m["email"] == "carl@acme.test").unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) =
        api.call(reqwest::Method::DELETE, &format!("/api/v1/projects/{project}/members/{carl_id}"), None).await;
    assert!(status < 300, "{status}");
    let page = preview_browser(&app, &url).get(&url).send().await.unwrap();
    assert_eq!(page.status(), 403);
    let carl = add_project_member(&app, &api, &project, "carl2@acme.test", "developer").await;
    let carl = app.api(&carl.token().await);

    // Download dump: a development build's database in pg_dump's custom format; production through its backups.
    let get = |token: &str, path: String| {
        let token = token.to_owned();
        async move { reqwest::Client::new().get(path).bearer_auth(token).send().await.unwrap() }
    };
    let dump = get(&ann_token, format!("{}/api/v1/builds/{b_id}/dump", app.addr)).await;
    assert_eq!(dump.status(), 200);
    let disposition = dump.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("forks_feature-b_b"), "{disposition}");
    let bytes = dump.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PGDMP"), "a custom-format dump");
    let dump = get(&eve_token, format!("{}/api/v1/builds/{b_id}/dump", app.addr)).await;
    assert_eq!(dump.status(), 404);
    let dump = get(&ann_token, format!("{}/api/v1/builds/{}/dump", app.addr, production["id"].as_str().unwrap())).await;
    assert_eq!(dump.status(), 409);

    // Delete: never production, never by an outsider; a development branch goes from the repository and the grid.
    let prod_env = production["env_id"].as_str().unwrap();
    let (status, _) = eve.call(reqwest::Method::DELETE, &format!("/api/v1/environments/{env_b}"), None).await;
    assert_eq!(status, 404);
    let (status, _) = carl.call(reqwest::Method::DELETE, &format!("/api/v1/environments/{prod_env}"), None).await;
    assert_eq!(status, 403, "a developer has no settings on production");
    let (status, e) = api.call(reqwest::Method::DELETE, &format!("/api/v1/environments/{prod_env}"), None).await;
    assert_eq!(status, 409, "{e}");
    let (status, said) = carl.call(reqwest::Method::DELETE, &format!("/api/v1/environments/{env_b}"), None).await;
    assert_eq!(status, 200, "{said}");
    assert!(git(&repo, &["branch", "--list", "feature/b"]).is_empty(), "gone from the repository");
    let (_, detail) = api.get(&format!("/api/v1/projects/{project}")).await;
    let branches: Vec<&str> =
        detail["environments"].as_array().unwrap().iter().map(|e| e["branch"].as_str().unwrap()).collect();
    assert!(!branches.contains(&"feature/b") && branches.contains(&"feature/a"), "{branches:?}");
    let infra = app.platform.builds.as_ref().unwrap();
    domain::builds::lifecycle::reconcile(&app.platform, infra).await.unwrap();
    let left = crate::helpers::docker().containers_with_label(&format!("odooops.build={b_id}")).await.unwrap();
    assert!(left.is_empty(), "its preview is torn down");
    let (status, _) = api.call(reqwest::Method::DELETE, &format!("/api/v1/environments/{env_b}"), None).await;
    assert_eq!(status, 404, "deleted once");

    // The branch's History names what was done to it.
    let (status, history) = ann.rpc("builds/branch_history", &[("env_id", &env_a)]).await;
    assert_eq!(status, 200, "{history}");
    let actions: Vec<&str> =
        history["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"branch.fork"), "{history}");
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT action, count(*) FROM ops.audit_events
          WHERE action IN ('branch.fork', 'branch.delete', 'build.connect', 'build.dump')
          GROUP BY action ORDER BY action",
    )
    .fetch_all(app.platform.db.owner())
    .await
    .unwrap();
    assert_eq!(
        counts,
        [("branch.delete".into(), 1), ("branch.fork".into(), 1), ("build.connect".into(), 4), ("build.dump".into(), 1)],
        "one event per command that went through"
    );
    tear_down_builds(&app).await;
}
