//! Promotions for real: a staging build's image goes to production only
//! with another admin's approval (never the requester's), after a backup;
//! a deployment that fails its health check is rolled back by itself and
//! production keeps serving; rollback is one call, also from the CLI.

use crate::helpers::{add_project_member, spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn wait_promotion(api: &Api<'_>, id: &str, states: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(400);
    loop {
        let (_, p) = api.get(&format!("/api/v1/promotions/{id}")).await;
        if states.contains(&p["state"].as_str().unwrap_or_default()) {
            return p;
        }
        assert!(Instant::now() < deadline, "the promotion never reached {states:?}: {p}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn build(api: &Api<'_>, id: &str) -> Value {
    api.get(&format!("/api/v1/builds/{id}")).await.1
}

/// Production and a staging branch (with `standin` as its `.standin`), both built; (project, production, staging).
async fn staged(app: &TestApp, api: &Api<'_>, name: &str, standin: &str) -> (String, Value, Value) {
    let repo = repository();
    let project = standin_project(api, name, &repo).await;
    let main = git(&repo, &["rev-parse", "HEAD"]);
    push(app, api, &project, "main", &main).await;
    let prod = finished(api, &project, &main).await;
    assert_eq!(prod["result"], "ok", "{prod}");
    let sha = commit_file(&repo, "release/1.0", ".standin", standin, "Release 1.0");
    push(app, api, &project, "release/1.0", &sha).await;
    let staging = finished(api, &project, &sha).await;
    assert_eq!((staging["stage"].as_str(), staging["result"].as_str()), (Some("staging"), Some("ok")), "{staging}");
    (project, prod, staging)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_needs_a_second_persons_approval_then_deploys_the_tested_image_and_rolls_back_in_one_call() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let (project, prod, staging) = staged(&app, &api, "Released", "").await;
    let tess = add_project_member(&app, &api, &project, "tess@acme.test", "tester").await;
    let tess = app.api(&tess.token().await);
    let bob = add_project_member(&app, &api, &project, "bob@acme.test", "admin").await;
    let bob = app.api(&bob.token().await);

    // A tester asks; nobody without release rights, and never the requester, approves.
    let (status, pr) =
        tess.post(&format!("/api/v1/builds/{}/promote", staging["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 201, "{pr}");
    let id = pr["id"].as_str().unwrap().to_owned();
    assert_eq!(pr["state"], "requested");
    let (status, e) = tess.post(&format!("/api/v1/promotions/{id}/approve"), json!({})).await;
    assert_eq!(status, 403, "the requester cannot approve: {e}");
    let (status, again) =
        api.post(&format!("/api/v1/builds/{}/promote", staging["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 409, "one promotion in flight: {again}");
    let (status, bad) = api.post(&format!("/api/v1/builds/{}/promote", prod["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 422, "only staging builds are promoted: {bad}");
    // The database refuses a self-approval too, whatever the code does.
    let refused = sqlx::query(
        "INSERT INTO ops.promotion_approvals (promotion_id, user_id) SELECT id, requested_by FROM ops.promotions WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(app.platform.db.owner())
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("cannot approve"), "the trigger refuses self-approval: {refused}");

    // The requester may withdraw it while it waits (issue 20), then ask again.
    let (_, listed) = tess.get(&format!("/api/v1/projects/{project}/promotions")).await;
    assert_eq!(listed[0]["may_withdraw"], true, "{listed}");
    let (status, withdrawn) = tess.post(&format!("/api/v1/promotions/{id}/reject"), json!({})).await;
    assert_eq!(status, 200, "{withdrawn}");
    assert_eq!(withdrawn["state"], "rejected");
    assert_eq!(withdrawn["reason"], "withdrawn by tess@acme.test");
    let withdrawals: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = 'promotion.withdraw' AND target = $1")
            .bind(format!("promotion:{id}"))
            .fetch_one(app.platform.db.owner())
            .await
            .unwrap();
    assert_eq!(withdrawals, 1);
    let (status, pr) =
        tess.post(&format!("/api/v1/builds/{}/promote", staging["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 201, "asking again after withdrawing: {pr}");
    let id = pr["id"].as_str().unwrap().to_owned();

    let (status, approved) = bob.post(&format!("/api/v1/promotions/{id}/approve"), json!({})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["approvals"], json!(["bob@acme.test"]));
    let done = wait_promotion(&api, &id, &["deployed", "failed", "rolled_back"]).await;
    assert_eq!(done["state"], "deployed", "{done}");
    let deployed = build(&api, done["deploy_build"].as_str().unwrap()).await;
    assert_eq!(deployed["image_digest"], staging["image_digest"], "production runs the very image staging tested");
    assert_eq!(deployed["live"], true);
    assert_eq!(build(&api, prod["id"].as_str().unwrap()).await["live"], false, "the previous production build retired");
    let (_, backups) = api.get(&format!("/api/v1/environments/{}/backups", prod["env_id"].as_str().unwrap())).await;
    assert!(backups.as_array().unwrap().iter().any(|b| b["kind"] == "pre_update" && b["state"] == "done"), "{backups}");

    // Rollback in one call, from the CLI with a token.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_odooops"))
        .args(["rollback", &project, prod["id"].as_str().unwrap(), "--json"])
        .env("ODOOOPS_URL", &app.addr)
        .env("ODOOOPS_TOKEN", &api.token)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let queued: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rollback = queued["build_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(300);
    let rolled = loop {
        let b = build(&api, &rollback).await;
        if b["state"] == "done" {
            break b;
        }
        assert!(Instant::now() < deadline, "the rollback did not finish: {b}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(rolled["result"], "ok", "{rolled}");
    assert_eq!(rolled["trigger"], "rollback");
    assert_eq!(rolled["image_digest"], prod["image_digest"], "the earlier image is back");
    let (_, after) = api.get(&format!("/api/v1/promotions/{id}")).await;
    assert_eq!(after["state"], "rolled_back", "the promotion says production was rolled back: {after}");
    assert!(after["reason"].as_str().unwrap_or_default().contains("rolled back by ann@acme.test"), "{after}");
    let (status, e) = tess.post(&format!("/api/v1/projects/{project}/rollback"), json!({"build_id": prod["id"]})).await;
    assert_eq!(status, 403, "testers do not roll production back: {e}");

    let (_, audit) = api.get("/api/v1/audit").await;
    let text = audit.to_string();
    for action in ["promotion.request", "promotion.approve", "promotion.deployed", "production.rollback"] {
        assert!(text.contains(action), "{action} is audited: {text}");
    }
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_that_fails_its_health_check_is_rolled_back_and_production_keeps_serving() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let (project, prod, staging) = staged(&app, &api, "Fragile", "crash-serving-production\n").await;
    let bob = add_project_member(&app, &api, &project, "bob@acme.test", "admin").await;
    let bob = app.api(&bob.token().await);
    let (status, pr) =
        api.post(&format!("/api/v1/builds/{}/promote", staging["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 201, "{pr}");
    let id = pr["id"].as_str().unwrap().to_owned();
    let (status, _) = bob.post(&format!("/api/v1/promotions/{id}/approve"), json!({})).await;
    assert_eq!(status, 200);
    let done = wait_promotion(&api, &id, &["rolled_back", "failed", "deployed"]).await;
    assert_eq!(done["state"], "rolled_back", "{done}");
    let failed = build(&api, done["deploy_build"].as_str().unwrap()).await;
    assert_eq!(failed["result"], "ko", "{failed}");
    assert_eq!(failed["live"], false);
    let rollback = build(&api, done["rollback_build"].as_str().unwrap()).await;
    assert_eq!(rollback["result"], "ok", "{rollback}");
    assert_eq!(rollback["live"], true, "production serves again");
    assert_eq!(rollback["image_digest"], prod["image_digest"], "with the image it had before");
    let (_, audit) = api.get("/api/v1/audit").await;
    assert!(audit.to_string().contains("promotion.rolled_back"), "{audit}");
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_keeping_a_secret_the_project_names_fails_until_its_own_statements_scrub_it() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Scrubbed", &repo).await;
    let main = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &main).await;
    let prod = finished(&api, &project, &main).await;
    assert_eq!(prod["result"], "ok", "{prod}");
    let prod_db = prod["db_name"].as_str().unwrap().to_owned();
    let infra = app.platform.builds.as_ref().unwrap();
    let exec = |db: String, sql: &'static str| {
        let opts = infra.databases.owner_options(&db);
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect_with(&opts).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
    };
    exec(prod_db.clone(), "WITH u AS (UPDATE res_users SET password = 'sk_live_4242' WHERE login = 'admin' RETURNING 1) SELECT count(*) FROM u").await;

    let (status, e) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{project}/release-settings"),
            Some(json!({"secret_patterns": ["(unclosed"]})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    let (status, s) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{project}/release-settings"),
            Some(json!({"secret_patterns": ["^sk_live_"]})),
        )
        .await;
    assert_eq!(status, 200, "{s}");

    let sha = commit_file(&repo, "release/1.0", "CHANGES.md", "1.0\n", "Release");
    push(&app, &api, &project, "release/1.0", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    assert_eq!(staging["result"], "ko", "a live secret left in the copy fails the build: {staging}");
    assert!(staging["reason"].as_str().unwrap().contains("secret pattern"), "{staging}");

    let (status, _) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{project}/release-settings"),
            Some(json!({"neutralize_sql": "UPDATE res_users SET password = NULL WHERE password ~ '^sk_live_'"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, rebuilt) =
        api.post(&format!("/api/v1/builds/{}/rebuild", staging["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 201, "{rebuilt}");
    let id = rebuilt["id"].as_str().unwrap().to_owned();
    let staging = loop {
        let b = build(&api, &id).await;
        if b["state"] == "done" {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(staging["result"], "ok", "{staging}");
    let staging_db = staging["db_name"].as_str().unwrap().to_owned();
    assert_eq!(exec(staging_db, "SELECT count(*) FROM res_users WHERE password LIKE 'sk_live_%'").await, 0);
    assert_eq!(
        exec(prod_db, "SELECT count(*) FROM res_users WHERE password LIKE 'sk_live_%'").await,
        1,
        "production keeps it"
    );

    // A download marked neutralized is scrubbed the same way; the plain one is production as it is.
    let env = prod["env_id"].as_str().unwrap();
    let (status, backup) = api.post(&format!("/api/v1/environments/{env}/backups"), json!({})).await;
    assert_eq!(status, 202, "{backup}");
    let id = backup["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while api.get(&format!("/api/v1/backups/{id}")).await.1["state"] != "done" {
        assert!(std::time::Instant::now() < deadline, "the backup did not finish");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let plain = dump_sql(&api, &id, "").await;
    assert!(plain.contains("sk_live_4242"));
    let neutral = dump_sql(&api, &id, "?neutralized=true").await;
    assert!(!neutral.contains("sk_live_4242"), "no production secret in a neutralized download");
    assert!(neutral.contains("database.is_neutralized"), "it says it is neutralized");
    tear_down_builds(&app).await;
}

/// `dump.sql` of a downloaded backup.
async fn dump_sql(api: &Api<'_>, id: &str, query: &str) -> String {
    let r = api
        .http
        .get(format!("{}/api/v1/backups/{id}/download{query}", api.app.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("dump.sql").unwrap(), &mut text).unwrap();
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_move_branches_between_development_and_staging_and_production_stays_one() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Staged", &repo).await;
    let sha = commit_file(&repo, "feature/x", "X.md", "x\n", "X");
    push(&app, &api, &project, "feature/x", &sha).await;
    let dev = finished(&api, &project, &sha).await;
    let env = dev["env_id"].as_str().unwrap().to_owned();
    let tess = add_project_member(&app, &api, &project, "tess@acme.test", "tester").await;
    let tess = app.api(&tess.token().await);
    assert_eq!(patch(&tess, &env, "staging").await.0, 403, "testers do not move branches");
    let (status, moved) = patch(&api, &env, "staging").await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["stage"], "staging");
    let (status, e) = patch(&api, &env, "production").await;
    assert_eq!(status, 422, "one production branch: {e}");
    assert_eq!(patch(&api, &env, "nowhere").await.0, 422);
    let (_, audit) = api.get("/api/v1/audit?action=environment.stage").await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    // The next build of the branch is a staging build.
    let next = commit_file(&repo, "feature/x", "X.md", "y\n", "Y");
    push(&app, &api, &project, "feature/x", &next).await;
    let staged = finished(&api, &project, &next).await;
    assert_eq!(staged["stage"], "staging", "{staged}");
    tear_down_builds(&app).await;
}

async fn patch(who: &Api<'_>, env: &str, stage: &str) -> (u16, Value) {
    who.call(reqwest::Method::PATCH, &format!("/api/v1/environments/{env}"), Some(json!({ "stage": stage }))).await
}
