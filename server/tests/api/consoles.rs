//! Several consoles, one installation: real `odooops` processes on the test's
//! control-plane database share its work. A build queued through one console
//! runs on another and its log is live on a third; a token and a session
//! work on all of them; each periodic task has one row, whoever seeds it. A
//! console that dies between closing a promotion's build and advancing the
//! promotion leaves neither half: another console retries the build, and the
//! promotion is deployed.

use crate::helpers::{add_project_member, standin_binary, TestApp};
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An `odooops` process serving the test app's database.
struct Console {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Console {
    /// Starts a console on `app`'s database and the shared data directory, with `env` added.
    async fn start(app: &TestApp, data: &Path, env: &[(&str, &str)]) -> Console {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("http://127.0.0.1:{port}");
        let (builds_url, gateway) = domain::testing::build_databases_url().expect("these tests need Docker");
        let log = data.join(format!("console-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_odooops"))
            .env("DATABASE_URL", domain::testing::database_url(app.db_options.get_database().unwrap()))
            .env("ODOOOPS_BUILDS_DATABASE_URL", builds_url)
            .env("ODOOOPS_BUILDS_DB_HOST", gateway)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("ODOOOPS_PUBLIC_URL", &addr)
            .env("ODOOOPS_DATA_DIR", data)
            .env("ODOOOPS_ALLOW_LOCAL_REPOS", "true")
            .env("ODOOOPS_STANDIN_BIN", standin_binary())
            .env("ODOOOPS_SSH_LISTEN", "off")
            .env("ODOOOPS_SMTP_PORT", "0")
            .env("ODOOOPS_JOB_LEASE_SECS", "2")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("starting odooops");
        let mut c = Console { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/api/health", c.addr)).await {
                if r.status().is_success() {
                    return c;
                }
            }
            assert!(c.child.try_wait().unwrap().is_none(), "the console exited: {}", c.output());
            assert!(Instant::now() < deadline, "the console never answered: {}", c.output());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = reqwest::Client::new().get(format!("{}{path}", self.addr)).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/test-builds/consoles-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn owner_query<T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin>(
    app: &TestApp,
    sql: &str,
) -> Vec<T> {
    sqlx::query_as(sql).fetch_all(app.platform.db.owner()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_share_the_work_the_logs_and_the_sessions_of_one_installation() {
    // The test app serves too but runs no jobs: work queued through it runs on the others.
    let app = TestApp::builder().builds().without_worker().spawn().await;
    // The first account signs up before the others start (each start issues a new setup token).
    let token = app.signed_up("ann@acme.test", "Acme").await.token().await;
    let data = data_dir();
    let a = Console::start(&app, &data, &[]).await;
    let b = Console::start(&app, &data, &[]).await;
    let api = app.api(&token);

    // A token and a browser session made on one console work on every other.
    for c in [&a, &b] {
        let (status, me) = c.get("/api/v1/me", &token).await;
        assert_eq!((status, me["email"].as_str()), (200, Some("ann@acme.test")), "{me}");
    }
    let signed_in = reqwest::Client::new()
        .post(format!("{}/rpc/auth/sign_in", app.addr))
        .header("Origin", &app.addr)
        .form(&[("email", "ann@acme.test"), ("password", crate::helpers::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    for c in [&a, &b] {
        let r =
            reqwest::Client::new().get(format!("{}/api/v1/me", c.addr)).header("Cookie", &cookie).send().await.unwrap();
        assert_eq!(r.status(), 200, "the session works on {}", c.addr);
    }

    // A build queued through the test app runs on A or B, and its log is live on the test app.
    let repo = repository();
    let project = standin_project(&api, "Shared", &repo).await;
    let main = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &main).await;
    let (_, list) = api.get(&format!("/api/v1/projects/{project}/builds")).await;
    let build = list[0]["id"].as_str().unwrap().to_owned();
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "{}/api/v1/builds/{build}/events/ws",
        app.addr.replace("http://", "ws://")
    ))
    .unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (mut live, _) = tokio_tungstenite::connect_async(req).await.expect("the log WebSocket");
    let done = finished(&api, &project, &main).await;
    assert_eq!(done["result"], "ok", "{done}");
    let (_, events) = api.get(&format!("/api/v1/builds/{build}/events?limit=5000")).await;
    let last = events.as_array().unwrap().last().unwrap()["id"].as_i64().unwrap();
    let mut seen = 0;
    while seen < last {
        let msg = tokio::time::timeout(Duration::from_secs(60), live.next()).await.expect("log lines arrive");
        let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = msg else { continue };
        let page: Vec<Value> = serde_json::from_str(&text).unwrap();
        seen = page.iter().filter_map(|e| e["id"].as_i64()).max().unwrap_or(seen).max(seen);
    }
    let ran_on: Vec<(String,)> =
        owner_query(&app, &format!("SELECT worker FROM ops.builds WHERE id = '{build}'")).await;
    let consoles: Vec<(String,)> = owner_query(&app, "SELECT id FROM ops.consoles ORDER BY started_at").await;
    assert_eq!(consoles.len(), 2, "two consoles beat: {consoles:?}");
    assert!(consoles.contains(&ran_on[0]), "the build ran on A or B: {ran_on:?} of {consoles:?}");

    // The same build through A's API, and each periodic task one row, whoever seeded it.
    let (status, again) = a.get(&format!("/api/v1/builds/{build}"), &token).await;
    assert_eq!((status, again["result"].as_str()), (200, Some("ok")));
    let periodic: Vec<(String, i64)> =
        owner_query(&app, "SELECT kind, count(*) FROM ops.jobs WHERE subject IS NULL GROUP BY kind").await;
    let kinds = domain::jobs::Kind::ALL.iter().filter(|k| k.period().is_some()).count();
    assert_eq!(periodic.len(), kinds, "{periodic:?}");
    assert!(periodic.iter().all(|(_, n)| *n == 1), "{periodic:?}");
    drop((a, b));
    crate::helpers::tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_dying_between_a_promotions_build_and_the_promotion_leaves_it_to_another() {
    let app = TestApp::builder().builds().without_worker().spawn().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let data = data_dir();
    // Console A dies inside the transaction that closes a promotion's build.
    let mut a = Console::start(&app, &data, &[("ODOOOPS_FAILPOINTS", "build.finished")]).await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Fragile", &repo).await;
    let main = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &main).await;
    assert_eq!(finished(&api, &project, &main).await["result"], "ok");
    let sha = commit_file(&repo, "release/1.0", ".standin", "", "Release 1.0");
    push(&app, &api, &project, "release/1.0", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    assert_eq!(staging["result"], "ok", "{staging}");
    let bob = add_project_member(&app, &api, &project, "bob@acme.test", "admin").await;
    let bob = app.api(&bob.token().await);
    let (status, pr) =
        api.post(&format!("/api/v1/builds/{}/promote", staging["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 201, "{pr}");
    let id = pr["id"].as_str().unwrap().to_owned();
    let (status, e) = bob.post(&format!("/api/v1/promotions/{id}/approve"), json!({})).await;
    assert_eq!(status, 200, "{e}");

    // A deploys, closes the build, and dies before the promotion moves: nothing of that commit stays.
    let deadline = Instant::now() + Duration::from_secs(400);
    let status = loop {
        if let Some(s) = a.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "console A never reached its failpoint: {}", a.output());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!status.success(), "A was killed by its failpoint: {}", a.output());
    assert!(a.output().contains("failpoint build.finished"), "{}", a.output());
    let (_, p) = api.get(&format!("/api/v1/promotions/{id}")).await;
    assert_eq!(p["state"], "deploying", "{p}");
    let deploy = p["build_id"].as_str().or(p["deploy_build"].as_str()).map(str::to_owned);
    let (state,): (String,) =
        owner_query(&app, "SELECT state FROM ops.builds WHERE promotion_id IS NOT NULL AND trigger = 'promote'")
            .await
            .remove(0);
    assert_eq!(state, "running", "the build's close rolled back with the promotion's ({deploy:?})");

    // B starts; A's lease runs out; B runs the deployment again and the promotion is deployed.
    let b = Console::start(&app, &data, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(400);
    let p = loop {
        let (_, p) = api.get(&format!("/api/v1/promotions/{id}")).await;
        if !matches!(p["state"].as_str(), Some("deploying" | "requested")) {
            break p;
        }
        assert!(Instant::now() < deadline, "the promotion stayed {}: {}", p["state"], b.output());
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(p["state"], "deployed", "{p}");
    let (attempts, result): (i32, Option<String>) = owner_query(
        &app,
        "SELECT attempts, result FROM ops.builds WHERE promotion_id IS NOT NULL AND trigger = 'promote'",
    )
    .await
    .remove(0);
    assert_eq!((attempts, result.as_deref()), (2, Some("ok")));
    let deployed: Vec<(i64,)> =
        owner_query(&app, "SELECT count(*) FROM ops.audit_events WHERE action = 'promotion.deployed'").await;
    assert_eq!(deployed[0].0, 1, "one audit event for one deployment");
    drop((a, b));
    crate::helpers::tear_down_builds(&app).await;
}
