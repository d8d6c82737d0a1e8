//! The upgrade advisor with the stand-in pretending to be 17.0 and 18.0:
//! a preview of production on 18.0 (a neutralized copy, the 18.0 branch,
//! `-u all`, the tests) reports each module's version before and after, the
//! database's size, key tables' rows and the migration's time, as JSON and
//! as an HTML file; a branch whose migration fails and that drops a custom
//! module is reported blocked, and production stays as it was.

use crate::backups::{sql, wait_build};
use crate::helpers::{spawn_app_with_builds, tear_down_builds};
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_on_the_next_series_reports_and_a_failing_migration_is_blocked() {
    let app = spawn_app_with_builds().await;
    let owner = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let repo = repository();
    let project = standin_project(&api, "Upgrading", &repo).await;
    std::fs::create_dir_all(repo.join("acme_legacy")).unwrap();
    std::fs::write(repo.join("acme_legacy/__init__.py"), "").unwrap();
    let main = commit_file(
        &repo,
        "main",
        "acme_legacy/__manifest__.py",
        "{'name': 'Legacy', 'version': '17.0.1.0.0'}\n",
        "legacy",
    );
    let previews = format!("/api/v1/projects/{project}/upgrade-previews");
    let (status, body) = api.post(&previews, json!({"target_series": "18.0"})).await;
    assert_eq!(status, 409, "nothing to upgrade before production exists: {body}");
    push(&app, &api, &project, "main", &main).await;
    let prod = finished(&api, &project, &main).await;
    assert_eq!(prod["result"], "ok", "{prod}");
    let prod_db = api.get(&format!("/api/v1/builds/{}", prod["id"].as_str().unwrap())).await.1["db_name"]
        .as_str()
        .unwrap()
        .to_owned();

    // The project's 18.0 branch: the same modules, ported.
    let ported = commit_file(&repo, "18.0", "CHANGES.md", "ported to 18.0\n", "18.0");
    push(&app, &api, &project, "18.0", &ported).await;
    finished(&api, &project, &ported).await;
    for (target, code) in [("16.0", 422), ("17.0", 422), ("banana", 422)] {
        let (status, body) = api.post(&previews, json!({"target_series": target})).await;
        assert_eq!(status, code, "{target}: {body}");
    }
    let (status, body) = api.post(&previews, json!({"target_series": "18.0", "branch": "nowhere"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("never been pushed"), "{body}");
    let (status, started) = api.post(&previews, json!({"target_series": "18.0", "branch": "18.0"})).await;
    assert_eq!(status, 202, "{started}");
    let build = wait_build(&api, started["build_id"].as_str().unwrap()).await;
    assert_eq!(build["result"], "ok", "{build}");
    assert_eq!(build["stage"], "staging", "a neutralized copy of production: {build}");
    let (_, v) = api.get(&format!("/api/v1/upgrade-previews/{}", started["id"].as_str().unwrap())).await;
    assert_eq!((v["state"].as_str(), v["risk"].as_str()), (Some("passed"), Some("low")), "{v}");
    let report = &v["report"];
    let module = |name: &str| -> Value {
        report["modules"].as_array().unwrap().iter().find(|m| m["name"] == name).cloned().unwrap_or_default()
    };
    assert_eq!(module("acme_sale")["before"], "17.0.1.0", "{report}");
    assert_eq!(module("acme_sale")["after"], "18.0.1.0", "{report}");
    assert_eq!(module("acme_sale")["custom"], true);
    assert_eq!(module("base")["custom"], false);
    assert!(report["size_before"].as_i64().unwrap() > 0 && report["size_after"].as_i64().unwrap() > 0, "{report}");
    assert!(report["duration_ms"].as_i64().is_some(), "{report}");
    let users = report["rows"].as_array().unwrap().iter().find(|r| r["table"] == "res_users").cloned().unwrap();
    assert_eq!(users["before"], users["after"], "{report}");
    assert!(report["missing"].as_array().unwrap().is_empty(), "{report}");
    let r = api
        .http
        .get(format!("{}/api/v1/upgrade-previews/{}/report.html", app.addr, started["id"].as_str().unwrap()))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("17.0-to-18.0.html"));
    assert!(r.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
    let html = r.text().await.unwrap();
    assert!(html.contains("Upgrade report: Upgrading from 17.0 to 18.0") && html.contains("acme_sale"), "{html}");

    // A branch whose migration fails and which dropped a custom module: blocked, production untouched.
    git(&repo, &["checkout", "-q", "-b", "18.0-broken", "18.0"]);
    git(&repo, &["rm", "-q", "-r", "acme_legacy"]);
    let broken = commit_file(&repo, "18.0-broken", ".standin", "fail-migration 18.0\n", "broken port");
    push(&app, &api, &project, "18.0-broken", &broken).await;
    finished(&api, &project, &broken).await;
    let (status, started) = api.post(&previews, json!({"target_series": "18.0", "branch": "18.0-broken"})).await;
    assert_eq!(status, 202, "{started}");
    let build = wait_build(&api, started["build_id"].as_str().unwrap()).await;
    assert_eq!(build["result"], "ko", "{build}");
    let (_, v) = api.get(&format!("/api/v1/upgrade-previews/{}", started["id"].as_str().unwrap())).await;
    assert_eq!((v["state"].as_str(), v["risk"].as_str()), (Some("failed"), Some("blocked")), "{v}");
    let blockers = v["blockers"].to_string();
    assert!(blockers.contains("the migration failed") && blockers.contains("failed (told to fail"), "{v}");
    assert!(blockers.contains("no 18.0 version of: acme_legacy"), "{v}");
    assert!(!v["report"]["errors"].as_array().unwrap().is_empty(), "{v}");
    let (_, list) = api.get(&previews).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "the project's history of previews");
    assert_eq!(
        sql(
            &app,
            &prod_db,
            "SELECT count(*) FROM ir_module_module WHERE name = 'base' AND latest_version = '17.0.1.0'"
        )
        .await,
        1,
        "production is still 17.0"
    );
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = 'upgrade.preview'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(audited, 2);
    tear_down_builds(&app).await;
}

/// The state of a promotion once it settled (deployed, rolled back, failed).
async fn settled(api: &crate::helpers::Api<'_>, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let (_, pr) = api.get(&format!("/api/v1/promotions/{id}")).await;
        if matches!(pr["state"].as_str(), Some("deployed" | "rolled_back" | "failed")) {
            return pr;
        }
        assert!(std::time::Instant::now() < deadline, "the upgrade never settled: {pr}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Previews `branch` on 18.0 and asks to upgrade production with it; the promotion's id.
async fn preview_and_request(api: &crate::helpers::Api<'_>, project: &str, branch: &str) -> String {
    let previews = format!("/api/v1/projects/{project}/upgrade-previews");
    let (status, started) = api.post(&previews, json!({"target_series": "18.0", "branch": branch})).await;
    assert_eq!(status, 202, "{started}");
    let build = wait_build(api, started["build_id"].as_str().unwrap()).await;
    assert_eq!(build["result"], "ok", "{build}");
    let (status, pr) =
        api.post(&format!("/api/v1/upgrade-previews/{}/upgrade", started["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 201, "{pr}");
    pr["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_upgrade_backs_up_rolls_back_a_failed_migration_and_then_moves_the_project() {
    let app = spawn_app_with_builds().await;
    let owner = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let repo = repository();
    let project = standin_project(&api, "Upgraded", &repo).await;
    let bob = crate::helpers::add_project_member(&app, &api, &project, "bob@acme.test", "admin").await;
    let bob = app.api(&bob.token().await);
    let main = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &main).await;
    let prod = finished(&api, &project, &main).await;
    let prod_db = api.get(&format!("/api/v1/builds/{}", prod["id"].as_str().unwrap())).await.1["db_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let base_version = |v: &'static str| {
        format!("SELECT count(*) FROM ir_module_module WHERE name = 'base' AND latest_version = '{v}'")
    };

    // A port whose migration passes on the copy and fails on production: rolled back to the backup.
    let bad = commit_file(&repo, "18.0-bad", ".standin", "fail-migration 18.0 production\n", "fails on production");
    push(&app, &api, &project, "18.0-bad", &bad).await;
    finished(&api, &project, &bad).await;
    let pr = preview_and_request(&api, &project, "18.0-bad").await;
    let approve = format!("/api/v1/promotions/{pr}/approve");
    assert_eq!(api.post(&approve, json!({})).await.0, 403, "the requester never approves");
    assert_eq!(bob.post(&approve, json!({})).await.0, 200);
    let done = settled(&api, &pr).await;
    assert_eq!(done["state"], "rolled_back", "{done}");
    let (_, deploy) = api.get(&format!("/api/v1/builds/{}", done["deploy_build"].as_str().unwrap())).await;
    assert!(deploy["reason"].as_str().unwrap().contains("migration of module base to 18.0 failed"), "{deploy}");
    let (_, rollback) = api.get(&format!("/api/v1/builds/{}", done["rollback_build"].as_str().unwrap())).await;
    assert_eq!(rollback["result"], "ok", "{rollback}");
    let (_, p) = api.get(&format!("/api/v1/projects/{project}")).await;
    assert_eq!(p["project"]["odoo_version"], "17.0", "the project stays on 17.0");
    let live_db = |b: &Value| b["db_name"].as_str().map(str::to_owned);
    let serving_db = live_db(&api.get(&format!("/api/v1/builds/{}", rollback["id"].as_str().unwrap())).await.1)
        .unwrap_or(prod_db.clone());
    assert_eq!(sql(&app, &serving_db, &base_version("17.0.1.0")).await, 1, "production is back on 17.0");

    // A good port: deployed; the project is on 18.0 now.
    git(&repo, &["checkout", "-q", "-b", "18.0", "main"]);
    let good = commit_file(&repo, "18.0", "CHANGES.md", "ported\n", "ported");
    push(&app, &api, &project, "18.0", &good).await;
    finished(&api, &project, &good).await;
    // This time from the command line, as a CI job would.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_odooops"))
            .arg("upgrade")
            .args(args)
            .env("ODOOOPS_URL", &app.addr)
            .env("ODOOOPS_TOKEN", &api.token)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let printed = cli(&["preview", &project, "18.0", "--branch", "18.0", "--wait"]);
    assert!(printed.contains(": passed (risk low)"), "{printed}");
    let preview = printed.split_whitespace().nth(1).unwrap().to_owned();
    let printed = cli(&["start", &preview, "--json"]);
    let requested: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let pr = requested["id"].as_str().unwrap().to_owned();
    assert_eq!(bob.post(&format!("/api/v1/promotions/{pr}/approve"), json!({})).await.0, 200);
    let done = settled(&api, &pr).await;
    assert_eq!(done["state"], "deployed", "{done}");
    let (_, p) = api.get(&format!("/api/v1/projects/{project}")).await;
    assert_eq!(p["project"]["odoo_version"], "18.0", "{p}");
    let (_, deployed) = api.get(&format!("/api/v1/builds/{}", done["deploy_build"].as_str().unwrap())).await;
    assert_eq!(sql(&app, deployed["db_name"].as_str().unwrap(), &base_version("18.0.1.0")).await, 1);
    let (_, backups) = api.get(&format!("/api/v1/environments/{}/backups", prod["env_id"].as_str().unwrap())).await;
    assert!(
        backups.as_array().unwrap().iter().filter(|b| b["kind"] == "pre_update").count() >= 2,
        "each upgrade backed production up first: {backups}"
    );
    let (status, body) =
        api.post(&format!("/api/v1/projects/{project}/upgrade-previews"), json!({"target_series": "18.0"})).await;
    assert_eq!(status, 422, "18.0 is no longer above the project's series: {body}");
    tear_down_builds(&app).await;
}
