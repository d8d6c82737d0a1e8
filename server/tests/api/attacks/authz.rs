//! Attacks on the role matrix (security review SEC-06, SEC-16, SEC-19): a
//! developer or tester of a project tries to rebuild, kill and read the logs
//! of every stage's builds, over REST, server functions and the live log
//! socket, and to follow mail it may not read; someone outside the project
//! tries the same; then the same people go around the domain layer and talk
//! SQL to the application role directly. Every route × role × stage answer
//! is checked against Odoo.sh's matrix written out below.
//!
//! Builds on staging and production are rows inserted as the database owner:
//! nothing here needs a build to run, only to exist.

use crate::helpers::{add_project_member, spawn_app, Api, Browser, TestApp};
use domain::types::{Capability, ProjectRole, Stage, UserId};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

/// Who may rebuild, kill (`upgrade`) and read the logs (`logs`) of a build, by
/// stage: development, staging, production. Non-members see nothing (404).
pub(crate) const UPGRADE_AND_LOGS: &[(&str, [bool; 3])] =
    &[("admin", [true, true, true]), ("tester", [true, true, false]), ("developer", [true, false, false])];

pub(crate) const STAGES: [&str; 3] = ["development", "staging", "production"];

/// One person: their browser (server functions) and REST client.
pub(crate) struct Person<'a> {
    pub browser: Browser<'a>,
    pub api: Api<'a>,
    pub id: UserId,
}

/// A project with an admin, a tester and a developer, an outsider with a
/// project of their own, and one environment per stage.
pub(crate) struct Fixture<'a> {
    pub app: &'a TestApp,
    pub project: Uuid,
    pub tenant: Uuid,
    /// `admin`, `tester`, `developer`, `outsider`.
    pub people: Vec<(&'static str, Person<'a>)>,
    /// development, staging, production (in [`STAGES`] order).
    pub envs: [Uuid; 3],
    /// The outsider's own project and its production environment.
    pub foreign_project: Uuid,
    pub foreign_env: Uuid,
}

impl<'a> Fixture<'a> {
    pub(crate) fn person(&self, role: &str) -> &Person<'a> {
        &self.people.iter().find(|(r, _)| *r == role).expect("a person of the fixture").1
    }

    pub(crate) fn env(&self, stage: &str) -> Uuid {
        self.envs[STAGES.iter().position(|s| *s == stage).expect("a stage")]
    }

    /// A build of the stage's environment, in `state`, with one log line that names the stage.
    pub(crate) async fn build(&self, stage: &str, state: &str) -> Uuid {
        insert_build(self.app, self.tenant, self.project, self.env(stage), stage, state).await
    }
}

async fn person<'a>(app: &'a TestApp, browser: Browser<'a>) -> Person<'a> {
    let api = app.api(&browser.token().await);
    let (_, me) = api.get("/api/v1/me").await;
    let id = UserId(me["id"].as_str().unwrap().parse().unwrap());
    Person { browser, api, id }
}

pub(crate) async fn fixture(app: &TestApp) -> Fixture<'_> {
    // The first account is the platform owner: keep it out of the way.
    let _root = app.signed_up("root@ops.test", "Ops").await;
    let admin = person(app, app.signed_up("ann@acme.test", "Acme").await).await;
    let (status, p) = admin
        .api
        .post(
            "/api/v1/projects",
            json!({"name": "Acme ERP", "repo_url": "https://github.com/acme/addons.git", "odoo_version": "17.0"}),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let project: Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let tenant: Uuid = p["tenant_id"].as_str().unwrap().parse().unwrap();
    let tester = add_project_member(app, &admin.api, &project.to_string(), "tess@acme.test", "tester").await;
    let developer = add_project_member(app, &admin.api, &project.to_string(), "dev@acme.test", "developer").await;
    let outsider = person(app, app.signed_up("eve@evil.test", "Evil").await).await;
    let (status, f) = outsider
        .api
        .post(
            "/api/v1/projects",
            json!({"name": "Evil ERP", "repo_url": "https://github.com/evil/addons.git", "odoo_version": "17.0"}),
        )
        .await;
    assert_eq!(status, 201, "{f}");
    let foreign_project: Uuid = f["id"].as_str().unwrap().parse().unwrap();
    let owner = app.platform.db.owner();
    let production: Uuid =
        sqlx::query_scalar("SELECT id FROM ops.environments WHERE project_id = $1 AND stage = 'production'")
            .bind(project)
            .fetch_one(owner)
            .await
            .unwrap();
    let foreign_env: Uuid =
        sqlx::query_scalar("SELECT id FROM ops.environments WHERE project_id = $1 AND stage = 'production'")
            .bind(foreign_project)
            .fetch_one(owner)
            .await
            .unwrap();
    let mut envs = [Uuid::nil(), Uuid::nil(), production];
    for (i, (stage, branch)) in [("development", "feature/x"), ("staging", "release/1")].into_iter().enumerate() {
        envs[i] = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(envs[i])
        .bind(tenant)
        .bind(project)
        .bind(branch)
        .bind(stage)
        .execute(owner)
        .await
        .unwrap();
    }
    let people = vec![
        ("admin", admin),
        ("tester", person(app, tester).await),
        ("developer", person(app, developer).await),
        ("outsider", outsider),
    ];
    Fixture { app, project, tenant, people, envs, foreign_project, foreign_env }
}

/// Inserts a build as the database owner (no worker runs it), with one log line naming its stage.
pub(crate) async fn insert_build(
    app: &TestApp,
    tenant: Uuid,
    project: Uuid,
    env: Uuid,
    stage: &str,
    state: &str,
) -> Uuid {
    let id = Uuid::new_v4();
    let owner = app.platform.db.owner();
    let branch: String = sqlx::query_scalar("SELECT branch FROM ops.environments WHERE id = $1")
        .bind(env)
        .fetch_one(owner)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ops.builds (id, tenant_id, project_id, env_id, branch, stage, commit_sha, trigger, state, result,
                                 started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'push', $8, CASE WHEN $8 = 'done' THEN 'ok' END,
                 CASE WHEN $8 <> 'pending' THEN now() END, CASE WHEN $8 = 'done' THEN now() END)",
    )
    .bind(id)
    .bind(tenant)
    .bind(project)
    .bind(env)
    .bind(&branch)
    .bind(stage)
    .bind("a".repeat(40))
    .bind(state)
    .execute(owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ops.run_events (tenant_id, build_id, level, source, message) VALUES ($1, $2, 'info', 'odoo', $3)",
    )
    .bind(tenant)
    .bind(id)
    .bind(log_line(stage))
    .execute(owner)
    .await
    .unwrap();
    id
}

pub(crate) fn log_line(stage: &str) -> String {
    format!("the {stage} database password is hunter2")
}

/// What the matrix says for `role` on `stage`: allowed, refused (403), or unseen (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Refused,
    Unseen,
}

fn expect(role: &str, stage_index: usize) -> Expect {
    match UPGRADE_AND_LOGS.iter().find(|(r, _)| *r == role) {
        None => Expect::Unseen,
        Some((_, row)) if row[stage_index] => Expect::Allowed,
        Some(_) => Expect::Refused,
    }
}

/// A WebSocket connection's answer: the first text frame, or the HTTP status it was refused with.
pub(crate) async fn socket(app: &TestApp, path: &str, token: &str) -> Result<String, u16> {
    let mut req = format!("{}{path}", app.addr.replace("http://", "ws://")).into_client_request().unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, _)) => {
            use futures_util::StreamExt;
            match ws.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => Ok(t.to_string()),
                other => Ok(format!("{other:?}")),
            }
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{path}: {e}"),
    }
}

/// Whether a WebSocket upgrade is accepted (without waiting for a message), or the HTTP status it was refused with.
pub(crate) async fn upgrade(app: &TestApp, path: &str, token: &str) -> Result<(), u16> {
    let mut req = format!("{}{path}", app.addr.replace("http://", "ws://")).into_client_request().unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => Ok(()),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{path}: {e}"),
    }
}

/// The code a refused server function answered with (`""` when it succeeded).
fn rpc_code(answer: &(u16, Value)) -> String {
    if (200..300).contains(&answer.0) {
        String::new()
    } else {
        answer.1["code"].as_str().unwrap_or_default().to_owned()
    }
}

async fn build_state(app: &TestApp, build: Uuid) -> (String, bool) {
    sqlx::query_as("SELECT state, kill_requested FROM ops.builds WHERE id = $1")
        .bind(build)
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap()
}

#[tokio::test]
async fn rebuild_kill_and_logs_follow_the_matrix_by_stage_for_every_route() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    for (role, who) in &f.people {
        for (i, stage) in STAGES.iter().enumerate() {
            let want = expect(role, i);
            let case = format!("{role} on {stage}");
            let status = |allowed: u16| match want {
                Expect::Allowed => allowed,
                Expect::Refused => 403,
                Expect::Unseen => 404,
            };
            let code = match want {
                Expect::Allowed => "",
                Expect::Refused => "forbidden",
                Expect::Unseen => "not_found",
            };
            let done = f.build(stage, "done").await;

            // Logs over REST and the live socket.
            let (s, events) = who.api.get(&format!("/api/v1/builds/{done}/events")).await;
            assert_eq!(s, status(200), "{case}: GET events: {events}");
            assert_eq!(events.to_string().contains(&log_line(stage)), want == Expect::Allowed, "{case}: {events}");
            let live = socket(&app, &format!("/api/v1/builds/{done}/events/ws"), &who.api.token).await;
            match want {
                Expect::Allowed => {
                    assert!(live.as_ref().unwrap().contains(&log_line(stage)), "{case}: log socket {live:?}")
                }
                _ => assert_eq!(live, Err(status(101)), "{case}: the log socket is refused before the upgrade"),
            }

            // Rebuild over REST and the server function.
            let (s, body) = who.api.post(&format!("/api/v1/builds/{done}/rebuild"), json!({})).await;
            assert_eq!(s, status(201), "{case}: POST rebuild: {body}");
            let answer = who.browser.rpc("builds/rebuild", &[("id", &done.to_string())]).await;
            assert_eq!(rpc_code(&answer), code, "{case}: builds/rebuild: {answer:?}");

            // Kill over REST and the server function, each on a build of its own.
            let pending = f.build(stage, "pending").await;
            let (s, body) = who.api.post(&format!("/api/v1/builds/{pending}/kill"), json!({})).await;
            assert_eq!(s, status(204), "{case}: POST kill: {body}");
            let running = f.build(stage, "running").await;
            let answer = who.browser.rpc("builds/kill", &[("id", &running.to_string())]).await;
            assert_eq!(rpc_code(&answer), code, "{case}: builds/kill: {answer:?}");
            let killed = want == Expect::Allowed;
            assert_eq!(build_state(&app, pending).await.0 == "done", killed, "{case}: the pending build");
            assert_eq!(build_state(&app, running).await.1, killed, "{case}: the running build");
        }
    }
    // Each refusal changed nothing: the only rebuilds queued are the allowed ones.
    let rebuilds: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.builds WHERE trigger = 'rebuild'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let allowed: usize = UPGRADE_AND_LOGS.iter().map(|(_, row)| row.iter().filter(|a| **a).count()).sum();
    assert_eq!(rebuilds as usize, 2 * allowed, "one rebuild per allowed REST call and server function");
}

#[tokio::test]
async fn going_around_the_domain_the_database_still_says_no() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let dev = f.person("developer");
    let production = f.env("production");
    let prod_done = f.build("production", "done").await;
    let prod_running = f.build("production", "running").await;
    let dev_done = f.build("development", "done").await;

    let mut tx = app.platform.db.begin_as(dev.id).await.unwrap();
    let logs: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.run_events WHERE build_id = ANY($1)")
        .bind(vec![prod_done, dev_done])
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(logs, 1, "a developer reads development's log line, not production's");
    let killed = sqlx::query("UPDATE ops.builds SET kill_requested = true WHERE id = $1")
        .bind(prod_running)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(killed, 0, "a developer cannot flag a production build for killing");
    tx.commit().await.unwrap();

    // Queuing a production build, honestly or by calling it development.
    for stage in ["production", "development"] {
        let mut tx = app.platform.db.begin_as(dev.id).await.unwrap();
        let queued = sqlx::query(
            "INSERT INTO ops.builds (id, tenant_id, project_id, env_id, branch, stage, commit_sha, trigger)
             VALUES ($1, $2, $3, $4, 'main', $5, $6, 'rebuild')",
        )
        .bind(Uuid::new_v4())
        .bind(f.tenant)
        .bind(f.project)
        .bind(production)
        .bind(stage)
        .bind("b".repeat(40))
        .execute(&mut *tx)
        .await;
        assert!(queued.is_err(), "a developer queued a build on production (as {stage})");
    }
    // Nobody rewrites what a build was: its stage and commit are not updatable, even for admins.
    let admin = f.person("admin");
    let mut tx = app.platform.db.begin_as(admin.id).await.unwrap();
    let moved = sqlx::query("UPDATE ops.builds SET stage = 'development' WHERE id = $1")
        .bind(prod_done)
        .execute(&mut *tx)
        .await;
    assert!(moved.is_err(), "a build's stage was rewritten");

    // The SQL matrix is the Rust one.
    for role in ProjectRole::ALL {
        for stage in Stage::ALL {
            for cap in Capability::ALL {
                let sql: bool = sqlx::query_scalar("SELECT ops.role_allows($1, $2, $3)")
                    .bind(role.as_str())
                    .bind(stage.as_str())
                    .bind(cap.as_str())
                    .fetch_one(app.platform.db.owner())
                    .await
                    .unwrap();
                assert_eq!(sql, role.allows(*stage, *cap), "{role:?} {stage:?} {cap:?}");
            }
        }
    }
}

#[tokio::test]
async fn the_mail_socket_checks_visibility_and_the_matrix_before_the_upgrade() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let ws = |env: Uuid| format!("/api/v1/environments/{env}/mails/ws");
    let eve = &f.person("outsider").api.token;
    // Unknown and invisible environments look the same (the socket says nothing until mail comes: only connect).
    assert_eq!(upgrade(&app, &ws(Uuid::new_v4()), eve).await, Err(404));
    assert_eq!(upgrade(&app, &ws(f.env("staging")), eve).await, Err(404), "another tenant's staging");
    assert_eq!(upgrade(&app, &ws(f.env("development")), eve).await, Err(404), "another tenant's development");
    // Members: the matrix on the branch's stage (production mail is never caught, so never followed).
    let cases = [
        ("developer", "development", true),
        ("developer", "staging", false),
        ("developer", "production", false),
        ("tester", "staging", true),
        ("tester", "production", false),
        ("admin", "staging", true),
        ("admin", "production", false),
    ];
    for (role, stage, allowed) in cases {
        let answer = upgrade(&app, &ws(f.env(stage)), &f.person(role).api.token).await;
        assert_eq!(answer, if allowed { Ok(()) } else { Err(403) }, "{role} following {stage} mail");
    }
}

#[tokio::test]
async fn child_ids_stay_in_their_project_and_secrets_with_their_admins() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let admin = f.person("admin");
    let foreign_tenant: Uuid = sqlx::query_scalar("SELECT tenant_id FROM ops.projects WHERE id = $1")
        .bind(f.foreign_project)
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let foreign_build =
        insert_build(&app, foreign_tenant, f.foreign_project, f.foreign_env, "production", "done").await;
    let own_build = f.build("staging", "done").await;
    let backup = |env: Uuid| {
        format!(
            "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind) VALUES ('{}', '{}', '{}', '{env}', 'manual')",
            Uuid::new_v4(),
            f.tenant,
            f.project
        )
    };
    let shell = |build: Uuid| {
        format!(
            "INSERT INTO ops.shell_sessions (id, tenant_id, project_id, build_id, user_id, user_email, container_id,
                                            stage, via, expires_at, idle_timeout_secs)
             VALUES ('{}', '{}', '{}', '{build}', '{}', 'ann@acme.test', 'c', 'staging', 'web', now() + interval '1 hour', 60)",
            Uuid::new_v4(),
            f.tenant,
            f.project,
            admin.id.0
        )
    };
    let promotion = |build: Uuid| {
        format!(
            "INSERT INTO ops.promotions (id, tenant_id, project_id, source_build, image_digest, commit_sha, requested_by, required)
             VALUES ('{}', '{}', '{}', '{build}', 'sha256:x', '{}', '{}', 1)",
            Uuid::new_v4(),
            f.tenant,
            f.project,
            "a".repeat(40),
            admin.id.0
        )
    };
    // Each insert as the project's admin: with a child of another tenant refused, with their own accepted.
    let cases = [
        ("a backup of another tenant's environment", backup(f.foreign_env), backup(f.env("staging"))),
        ("a shell session on another tenant's build", shell(foreign_build), shell(own_build)),
        ("a promotion of another tenant's build", promotion(foreign_build), promotion(own_build)),
    ];
    for (what, foreign, own) in cases {
        let mut tx = app.platform.db.begin_as(admin.id).await.unwrap();
        assert!(sqlx::query(&foreign).execute(&mut *tx).await.is_err(), "{what}, filed under my project, was accepted");
        drop(tx);
        let mut tx = app.platform.db.begin_as(admin.id).await.unwrap();
        sqlx::query(&own).execute(&mut *tx).await.unwrap_or_else(|e| panic!("the same with my own ids: {e}"));
    }
    // The webhook secret: the project's admins and the platform, nobody else, and not without a user.
    async fn secret(app: &TestApp, user: Option<UserId>, project: Uuid) -> Option<String> {
        let q = sqlx::query_scalar("SELECT ops.webhook_secret($1)").bind(project);
        match user {
            Some(u) => {
                let mut tx = app.platform.db.begin_as(u).await.unwrap();
                q.fetch_one(&mut *tx).await.unwrap()
            }
            None => q.fetch_one(app.platform.db.anonymous()).await.unwrap(),
        }
    }
    assert!(secret(&app, Some(admin.id), f.project).await.is_some(), "the admin reads their project's secret");
    assert!(secret(&app, Some(f.person("developer").id), f.project).await.is_none(), "a developer does not");
    assert!(secret(&app, Some(f.person("outsider").id), f.project).await.is_none(), "another tenant does not");
    assert!(secret(&app, None, f.project).await.is_none(), "nor a connection that has not said who it is");
}
