//! Preflight gates in real builds: sources that create a PostgreSQL
//! extension, install a system package from a hook and open a websocket
//! client make the build `ko` naming the first failing gate and its file and
//! line; platform staff waive the failures (a project admin may not) and the
//! next build passes with a warning; a database over the platform's object
//! limit fails after install; production's relay on port 25 fails. Every
//! override is audited.

use crate::helpers::{add_project_member, spawn_app_with_builds_and, tear_down_builds, Api};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use serde_json::{json, Value};

fn gate<'a>(build: &'a Value, name: &str) -> &'a Value {
    build["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == name)
        .unwrap_or_else(|| panic!("no {name}: {build}"))
}

async fn put(api: &Api<'_>, project: &str, gate: &str, body: Value) -> u16 {
    api.call(reqwest::Method::PUT, &format!("/api/v1/projects/{project}/preflight/{gate}"), Some(body)).await.0
}

async fn set_relay(api: &Api<'_>, project: &str) -> (u16, Value) {
    let path = format!("/api/v1/projects/{project}/settings");
    api.call(reqwest::Method::PATCH, &path, Some(json!({"smtp_relay": "smtp.acme.test:25"}))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_gates_make_builds_ko_with_their_reason_until_waived() {
    let app = spawn_app_with_builds_and(|_| {}).await;
    // The first account is the platform's owner (platform staff).
    let owner = app.signed_up("owner@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let repo = repository();
    let project = standin_project(&api, "Gates", &repo).await;

    // Sources: an extension in a data file, a package installed by a hook, a websocket client.
    std::fs::create_dir_all(repo.join("acme_sale/data")).unwrap();
    commit_file(&repo, "feature-geo", "acme_sale/data/init.sql", "CREATE EXTENSION IF NOT EXISTS postgis;\n", "geo");
    let hook = "import subprocess\n\ndef post_init_hook(env):\n    subprocess.check_call('apt-get install -y gdal-bin', shell=True)\n";
    commit_file(&repo, "feature-geo", "acme_sale/hooks.py", hook, "gdal");
    let sha = commit_file(&repo, "feature-geo", "acme_sale/feed.py", "import websocket\n", "feed");
    push(&app, &api, &project, "feature-geo", &sha).await;
    let b = finished(&api, &project, &sha).await;
    assert_eq!(b["result"], "ko", "{b}");
    let reason = b["reason"].as_str().unwrap();
    assert!(
        reason.contains("preflight: PostgreSQL extensions failed") && reason.contains("acme_sale/data/init.sql:1"),
        "{reason}"
    );
    let (_, view) = api.get(&format!("/api/v1/builds/{}", b["id"].as_str().unwrap())).await;
    assert_eq!(gate(&view, "extensions")["verdict"], "fail");
    assert_eq!(gate(&view, "system_packages")["verdict"], "fail");
    assert!(gate(&view, "system_packages")["reason"].as_str().unwrap().contains("acme_sale/hooks.py:4"), "{view}");
    assert_eq!(gate(&view, "long_connections")["verdict"], "warn");

    // A project admin accepts warnings but may not waive a failure; platform staff may.
    let admin = add_project_member(&app, &api, &project, "lead@acme.test", "admin").await;
    let admin = app.api(&admin.token().await);
    assert_eq!(put(&admin, &project, "extensions", json!({"waive": true, "reason": "we need maps"})).await, 403);
    assert_eq!(
        put(&admin, &project, "long_connections", json!({"reason": "the feed reconnects on every call"})).await,
        204
    );
    assert_eq!(put(&admin, &project, "nonsense", json!({"reason": "x"})).await, 422);
    for g in ["extensions", "system_packages"] {
        assert_eq!(put(&api, &project, g, json!({"waive": true, "reason": "a vendor image provides them"})).await, 204);
    }
    let sha = commit_file(&repo, "feature-geo", "README.md", "again\n", "again");
    push(&app, &api, &project, "feature-geo", &sha).await;
    let b = finished(&api, &project, &sha).await;
    let extensions = gate(&b, "extensions");
    assert_eq!(extensions["verdict"], "fail");
    assert!(extensions["overridden"].as_str().unwrap().starts_with("waived by owner@acme.test"), "{b}");
    assert!(gate(&b, "long_connections")["overridden"].as_str().unwrap().starts_with("accepted by lead@acme.test"));
    assert_eq!(b["result"], "ok", "every gate waived or accepted, and the stand-in installs cleanly: {b}");
    assert!(gate(&b, "object_count")["figure"].as_i64().unwrap() > 0, "{b}");

    // The platform's object limit, after install.
    sqlx::query("INSERT INTO ops.platform_settings (key, value) VALUES ('preflight_objects_fail', '3')")
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    let sha = commit_file(&repo, "feature-geo", "README.md", "objects\n", "objects");
    push(&app, &api, &project, "feature-geo", &sha).await;
    let b = finished(&api, &project, &sha).await;
    assert_eq!(b["result"], "ko", "{b}");
    assert!(b["reason"].as_str().unwrap().contains("preflight: Database objects failed"), "{b}");
    sqlx::query("DELETE FROM ops.platform_settings WHERE key = 'preflight_objects_fail'")
        .execute(app.platform.db.owner())
        .await
        .unwrap();

    // Production's relay on port 25: the settings refuse it unless platform staff waived the gate;
    // once the waiver is withdrawn, the next production build fails on it.
    let (status, body) = set_relay(&api, &project).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("465 (TLS) or 587"), "{body}");
    assert_eq!(
        put(&api, &project, "smtp_ports", json!({"waive": true, "reason": "moving to 587 next week"})).await,
        204
    );
    assert_eq!(set_relay(&api, &project).await.0, 200);
    assert_eq!(put(&api, &project, "smtp_ports", json!({"waive": true})).await, 204, "withdrawn");
    let main = commit_file(&repo, "main", "README.md", "production\n", "production");
    push(&app, &api, &project, "main", &main).await;
    let b = finished(&api, &project, &main).await;
    assert_eq!(b["result"], "ko", "{b}");
    assert!(b["reason"].as_str().unwrap().contains("SMTP ports failed: the project's relay uses port 25"), "{b}");

    let overrides: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = 'preflight.override'")
            .fetch_one(app.platform.db.owner())
            .await
            .unwrap();
    assert_eq!(overrides, 5, "the accepted warning, three waivers and a withdrawal");
    tear_down_builds(&app).await;
}
