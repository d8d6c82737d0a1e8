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
