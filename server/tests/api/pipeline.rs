//! Builds for real: a git repository made here, a signed push, the worker
//! running the pipeline in Docker against the stand-in image and a real
//! PostgreSQL, the preview served through the router, and nothing left
//! behind when the branch goes away.

use crate::helpers::{spawn_app_with_builds, spawn_app_with_builds_no_worker, Api, TestApp};
use domain::engine::ContainerEngine as _;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ann")
        .env("GIT_AUTHOR_EMAIL", "ann@acme.test")
        .env("GIT_COMMITTER_NAME", "Ann")
        .env("GIT_COMMITTER_EMAIL", "ann@acme.test")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository with one addon, on branch `main`.
pub fn repository() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/test-repos/{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("acme_sale")).unwrap();
    std::fs::write(
        dir.join("acme_sale/__manifest__.py"),
        "{'name': 'Acme Sale', 'version': '17.0.1.0.0', 'depends': ['sale']}\n",
    )
    .unwrap();
    std::fs::write(dir.join("acme_sale/__init__.py"), "").unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "Acme sale addon"]);
    dir
}

pub(crate) fn commit_file(repo: &Path, branch: &str, file: &str, content: &str, message: &str) -> String {
    if git(repo, &["branch", "--list", branch]).is_empty() {
        git(repo, &["checkout", "-q", "-b", branch]);
    } else {
        git(repo, &["checkout", "-q", branch]);
    }
    std::fs::write(repo.join(file), content).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

/// A project on `repo` built on the stand-in image; its id.
pub(crate) async fn standin_project(api: &Api<'_>, name: &str, repo: &Path) -> String {
    let (status, project) = api
        .post(
            "/api/v1/projects",
            json!({"name": name, "repo_url": repo.to_str().unwrap(), "odoo_version": "17.0",
                   "base_image": domain::builds::infra::STANDIN_IMAGE, "production_requires_approval": false}),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    project["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn push(app: &TestApp, api: &Api<'_>, project: &str, branch: &str, sha: &str) {
    push_as(app, api, project, branch, sha, None).await
}

/// A push as GitHub sends it, naming who pushed when `pusher` (an email) is given.
pub(crate) async fn push_as(
    app: &TestApp,
    api: &Api<'_>,
    project: &str,
    branch: &str,
    sha: &str,
    pusher: Option<&str>,
) {
    let (_, hook) = api.get(&format!("/api/v1/projects/{project}/webhook")).await;
    let mut payload = json!({"ref": format!("refs/heads/{branch}"), "after": sha, "deleted": false,
        "head_commit": {"id": sha, "message": "change", "author": {"name": "Ann"}}});
    if let Some(email) = pusher {
        payload["pusher"] = json!({"name": "ann", "email": email});
    }
    let body = serde_json::to_vec(&payload).unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/api/webhooks/github/{project}", app.addr))
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", uuid::Uuid::new_v4().to_string())
        .header("X-Hub-Signature-256", domain::builds::github::sign(hook["secret"].as_str().unwrap().as_bytes(), &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

/// Waits (with a generous deadline, not a timing assertion) for a build of `branch` at `sha` to finish.
pub(crate) async fn finished(api: &Api<'_>, project: &str, sha: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, list) = api.get(&format!("/api/v1/projects/{project}/builds")).await;
        if let Some(b) = list.as_array().unwrap().iter().find(|b| b["commit_sha"] == sha && b["state"] == "done") {
            return b.clone();
        }
        assert!(Instant::now() < deadline, "the build of {sha} did not finish: {list}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn events(api: &Api<'_>, build: &str) -> Vec<Value> {
    let (status, list) = api.get(&format!("/api/v1/builds/{build}/events?limit=5000")).await;
    assert_eq!(status, 200);
    list.as_array().unwrap().clone()
}

async fn managed_containers(_app: &TestApp, build: &str) -> usize {
    crate::helpers::docker().containers_with_label(&format!("odooops.build={build}")).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_builds_a_preview_that_serves_odoo_and_a_deleted_branch_leaves_nothing() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let project = standin_project(&api, "Acme ERP", &repo).await;

    let sha = commit_file(&repo, "feature/ok", "README.md", "hello\n", "Readme");
    push(&app, &api, &project, "feature/ok", &sha).await;
    let build = finished(&api, &project, &sha).await;
    let id = build["id"].as_str().unwrap().to_owned();
    let log = events(&api, &id).await;
    let text: Vec<String> =
        log.iter().map(|e| format!("[{}] {}", e["source"].as_str().unwrap(), e["message"].as_str().unwrap())).collect();
    assert_eq!(build["result"], "ok", "build failed: {}\n{}", build["reason"], text.join("\n"));
    assert_eq!(build["live"], true);
    for phase in ["checkout", "discover", "image", "database", "install", "start", "health", "route"] {
        assert!(
            log.iter().any(|e| e["meta"]["phase"] == phase && e["meta"]["status"] == "done"),
            "phase {phase} missing:\n{}",
            text.join("\n")
        );
    }
    assert!(
        log.iter().any(|e| e["source"] == "install" && e["meta"]["logger"] == "odoo.modules.loading"),
        "Odoo's log lines are parsed"
    );

    // The preview, through a share link, on <slug>.localhost.
    let (status, share) = api.post(&format!("/api/v1/builds/{id}/share"), json!({})).await;
    assert_eq!(status, 200, "{share}");
    let url = share["url"].as_str().unwrap().to_owned();
    let host = url.split("://").nth(1).unwrap().split(['/', ':']).next().unwrap().to_owned();
    let port: u16 = app.addr.rsplit(':').next().unwrap().parse().unwrap();
    let browser = reqwest::Client::builder()
        .resolve(&host, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .cookie_store(true)
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Login | Odoo"), "{html}");
    let anonymous =
        reqwest::Client::builder().resolve(&host, std::net::SocketAddr::from(([127, 0, 0, 1], port))).build().unwrap();
    let denied = anonymous.get(format!("http://{host}:{port}/web/login")).send().await.unwrap();
    assert_eq!(denied.status(), 401, "a private preview needs the link");

    // A failing test makes the build ko, and it leaves no container behind.
    let bad = commit_file(&repo, "feature/ok", ".standin", "fail-test\n", "Break a test");
    push(&app, &api, &project, "feature/ok", &bad).await;
    let failed = finished(&api, &project, &bad).await;
    assert_eq!(failed["result"], "ko", "{failed}");
    assert!(failed["reason"].as_str().unwrap().contains("error"), "{failed}");
    assert_eq!(managed_containers(&app, failed["id"].as_str().unwrap()).await, 0);
    assert_eq!(managed_containers(&app, &id).await, 1, "the good build keeps serving");

    // Deleting the branch retires it; the reconciler leaves nothing.
    let body =
        serde_json::to_vec(&json!({"ref": "refs/heads/feature/ok", "after": "0".repeat(40), "deleted": true})).unwrap();
    let (_, hook) = api.get(&format!("/api/v1/projects/{project}/webhook")).await;
    reqwest::Client::new()
        .post(format!("{}/api/webhooks/github/{project}", app.addr))
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", "delete-1")
        .header("X-Hub-Signature-256", domain::builds::github::sign(hook["secret"].as_str().unwrap().as_bytes(), &body))
        .body(body)
        .send()
        .await
        .unwrap();
    let infra = app.platform.builds.as_ref().unwrap();
    domain::builds::lifecycle::reconcile(&app.platform, infra).await.unwrap();
    assert_eq!(managed_containers(&app, &id).await, 0);
    assert!(infra.databases.list(&infra.installation).await.unwrap().is_empty(), "no build database left");
    let networks = crate::helpers::docker()
        .networks_with_label(&format!("odooops.installation={}", infra.installation))
        .await
        .unwrap();
    assert!(networks.is_empty(), "no network left: {networks:?}");
    let gone = reqwest::Client::builder()
        .resolve(&host, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .cookie_store(true)
        .build()
        .unwrap();
    let page = gone.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 503, "a stopped build answers a clear page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dying_mid_build_leaves_no_orphans_after_restart() {
    use domain::builds::{lifecycle, pipeline, queue};
    let app = spawn_app_with_builds_no_worker().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let project = standin_project(&api, "Crashy", &repo).await;
    let sha = commit_file(&repo, "feature/slow", ".standin", "slow-start 120\n", "Start slowly");
    push(&app, &api, &project, "feature/slow", &sha).await;

    let p = app.platform.clone();
    let infra = p.builds.clone().unwrap();
    let claimed = queue::claim(&p, "dead-host").await.unwrap().expect("a pending build");
    let build = claimed.id.to_string();
    let (_kill, rx) = tokio::sync::watch::channel(false);
    let running = {
        let (p, infra) = (p.clone(), infra.clone());
        tokio::spawn(async move { pipeline::run(&p, &infra, &claimed, rx).await })
    };
    // Wait until Odoo's container is up (the build is then waiting for /web/health).
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let mut tx = p.db.begin_as(queue::SYSTEM_USER).await.unwrap();
        let container: Option<String> = sqlx::query_scalar("SELECT container_id FROM ops.builds WHERE id = $1")
            .bind(uuid::Uuid::parse_str(&build).unwrap())
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        if container.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "Odoo's container never started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The server "dies": the pipeline stops where it is, no cleanup runs.
    running.abort();
    assert!(managed_containers(&app, &build).await >= 1, "the crash left a container behind");

    // The server starts again: the interrupted build is closed, the reconciler cleans up.
    sqlx::query("UPDATE ops.jobs SET attempts = max_attempts WHERE kind = 'build'")
        .execute(p.db.owner())
        .await
        .unwrap();
    assert_eq!(queue::recover(&p, "dead-host").await.unwrap(), (0, 1));
    let report = lifecycle::reconcile(&p, &infra).await.unwrap();
    assert!(report.containers >= 1 && report.networks == 1 && report.databases == 1, "{report:?}");
    assert_eq!(managed_containers(&app, &build).await, 0);
    assert!(infra.databases.list(&infra.installation).await.unwrap().is_empty());
    let images =
        app.platform.runtime.images_matching(&format!("odooops-build/{}-*", infra.installation)).await.unwrap();
    assert!(images.is_empty(), "no build image left: {images:?}");
    let (_, b) = api.get(&format!("/api/v1/builds/{build}")).await;
    assert_eq!((b["state"].as_str(), b["result"].as_str()), (Some("done"), Some("ko")), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_spares_what_a_running_build_has_just_made() {
    // The race the browser suite found: a build creates its network, and the
    // reconciler, having read the builds a moment before, removed it.
    use domain::builds::{lifecycle, queue};
    let app = spawn_app_with_builds_no_worker().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let project = standin_project(&api, "Racy", &repo).await;
    let sha = commit_file(&repo, "feature/race", "RACE", "1\n", "Race");
    push(&app, &api, &project, "feature/race", &sha).await;
    let p = app.platform.clone();
    let infra = p.builds.clone().unwrap();
    let claimed = queue::claim(&p, p.console()).await.unwrap().expect("a pending build");
    // What the build makes first, before it records anything in its row.
    let network = format!("odooops-race-{}", uuid::Uuid::new_v4().simple());
    let labels = std::collections::HashMap::from([
        ("odooops.managed".to_owned(), "true".to_owned()),
        ("odooops.installation".to_owned(), infra.installation.clone()),
        ("odooops.build".to_owned(), claimed.id.to_string()),
    ]);
    crate::helpers::docker().create_network(&network, labels).await.unwrap();
    let mine = format!("odooops.installation={}", infra.installation);
    let report = lifecycle::reconcile(&p, &infra).await.unwrap();
    let left = crate::helpers::docker().networks_with_label(&mine).await.unwrap();
    assert!(left.iter().any(|n| n.id == network), "the running build's network was removed: {report:?}");

    // Once the build is over, what it left goes.
    queue::finish(&p, claimed.id, "ko", Some("stopped by the test")).await.unwrap();
    let report = lifecycle::reconcile(&p, &infra).await.unwrap();
    assert_eq!(report.networks, 1, "{report:?}");
    assert!(!crate::helpers::docker().networks_with_label(&mine).await.unwrap().iter().any(|n| n.id == network));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_gets_a_neutralized_copy_of_serving_production_and_production_is_dumped_before_updates() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let project = standin_project(&api, "Staged", &repo).await;
    let main = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &main).await;
    let prod = finished(&api, &project, &main).await;
    assert_eq!((prod["stage"].as_str(), prod["result"].as_str()), (Some("production"), Some("ok")), "{prod}");

    // Production is serving (its database is in use): staging still gets a copy.
    let sha = commit_file(&repo, "release/1.0", "CHANGES.md", "1.0\n", "Release 1.0");
    push(&app, &api, &project, "release/1.0", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    let log = events(&api, staging["id"].as_str().unwrap()).await;
    let text: Vec<String> =
        log.iter().map(|e| format!("[{}] {}", e["source"].as_str().unwrap(), e["message"].as_str().unwrap())).collect();
    assert_eq!(staging["result"], "ok", "{}\n{}", staging["reason"], text.join("\n"));
    assert!(text.iter().any(|l| l.contains("a fresh copy of production")), "{}", text.join("\n"));
    assert!(text.iter().any(|l| l.starts_with("[neutralize] verified")), "{}", text.join("\n"));

    let infra = app.platform.builds.as_ref().unwrap();
    let mut tx = app.platform.db.begin_as(domain::builds::queue::SYSTEM_USER).await.unwrap();
    let dbs: Vec<(String, String)> = sqlx::query_as("SELECT stage, db_name FROM ops.builds WHERE db_name IS NOT NULL")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let db_of = |stage: &str| dbs.iter().find(|(s, _)| s == stage).unwrap().1.clone();
    let query = |db: String, sql: &'static str| {
        let opts = infra.databases.owner_options(&db);
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect_with(&opts).await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap();
            n
        }
    };
    let live_mail = "SELECT count(*) FROM ir_mail_server WHERE active AND smtp_host <> 'invalid' AND name <> 'OdooOps mail catcher'";
    let caught =
        "SELECT count(*) FROM ir_mail_server WHERE active AND name = 'OdooOps mail catcher' AND smtp_user LIKE 'env-%'";
    let live_payment = "SELECT count(*) FROM payment_provider WHERE state = 'enabled'";
    let neutral = "SELECT count(*) FROM ir_config_parameter WHERE key = 'database.is_neutralized' AND value = 'true'";
    let autovacuum = "SELECT count(*) FROM ir_cron WHERE active";
    assert_eq!(query(db_of("staging"), live_mail).await, 0, "staging sends no mail");
    assert_eq!(query(db_of("staging"), caught).await, 1, "staging's mail goes to the catcher");
    assert_eq!(query(db_of("staging"), live_payment).await, 0, "staging takes no payment");
    assert_eq!(query(db_of("staging"), neutral).await, 1);
    assert_eq!(query(db_of("staging"), autovacuum).await, 1, "only the autovacuum cron stays active");
    assert_eq!(query(db_of("production"), live_mail).await, 1, "production is untouched");
    assert_eq!(query(db_of("production"), live_payment).await, 1);

    // A second production build updates in place, after a dump.
    let next = commit_file(&repo, "main", "VERSION", "2\n", "Bump");
    push(&app, &api, &project, "main", &next).await;
    let prod2 = finished(&api, &project, &next).await;
    assert_eq!(prod2["result"], "ok", "{prod2}");
    let log = events(&api, prod2["id"].as_str().unwrap()).await;
    assert!(log.iter().any(|e| e["message"].as_str().unwrap().starts_with("pre-update backup of production")));

    // Leave nothing: tear down every live build (production's database stays by design; drop it here).
    for id in [&prod, &staging, &prod2].iter().map(|b| b["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap()) {
        domain::builds::lifecycle::teardown(&app.platform, infra, id).await.unwrap();
    }
    let prod_db = db_of("production");
    infra.databases.drop(&prod_db, &prod_db).await.unwrap();
    for image in app.platform.runtime.images_matching(&format!("odooops-build/{}-*", infra.installation)).await.unwrap()
    {
        app.platform.runtime.remove_image(&image).await.unwrap();
    }
}
