//! Plans and quotas (issue 14): an instance's containers get its plan's CPU
//! and memory; its storage (database + filestore) is measured against the
//! plan, its tenant's admins are mailed once at 80 % and once at 100 %, and
//! from 100 % a restore is refused with the reason; an unknown plan is
//! refused when the instance is asked for.

use crate::helpers::{spawn_app_with_builds, tear_down_builds, TestApp};
use crate::instances::{confirmed, ended, operate, ADMIN_PASSWORD};
use serde_json::json;
use sqlx::Connection;

async fn superuser(app: &TestApp, sql: &str) {
    let mut c = sqlx::PgConnection::connect_with(&app.db_options).await.unwrap();
    sqlx::query(sql).execute(&mut c).await.unwrap();
    c.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_gets_its_plans_limits_and_is_warned_then_refused_at_its_storage_quota() {
    let app = spawn_app_with_builds().await;
    let _owner = app.signed_up("ann@platform.test", "Platform").await;
    superuser(
        &app,
        "INSERT INTO ops.plans (slug, name, cpu_limit, memory_limit_mb, workers, storage_mb, max_users)
         VALUES ('tiny', 'Tiny', 0.5, 512, 0, 1000, 2)",
    )
    .await;
    let bob = confirmed(&app, "bob@bobco.test", "Bobco").await;
    let base = json!({"name": "Small", "subdomain": "small", "admin_login": "bob@bobco.test",
                      "admin_password": ADMIN_PASSWORD});
    let mut unknown = base.clone();
    unknown["plan"] = json!("platinum");
    let (status, refused) = bob.post("/api/v1/instances", unknown).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("tiny"), "names the plans there are: {refused}");
    let (_, plans) = bob.get("/api/v1/plans").await;
    assert!(plans.as_array().unwrap().iter().any(|p| p["slug"] == "starter" && p["storage_mb"] == 2048), "{plans}");

    let mut body = base.clone();
    body["plan"] = json!("tiny");
    let (status, created) = bob.post("/api/v1/instances", body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, ops) = bob.get(&format!("/api/v1/instances/{id}/operations")).await;
    assert_eq!(ended(&bob, &id, ops[0]["id"].as_str().unwrap()).await["state"], "done");

    // The plan's CPU and memory limit its container.
    let (container, db): (String, String) =
        crate::instances::serving_build(&app, &id, "b.container_id, b.db_name").await;
    let inspect = std::process::Command::new("docker")
        .args(["inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", &container])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&inspect.stdout).trim(), format!("500000000 {}", 512 * 1024 * 1024));

    // Well under: ok, and nobody is mailed.
    let (status, usage) = bob.get(&format!("/api/v1/instances/{id}/usage")).await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["level"], "ok", "{usage}");
    let used = usage["storage_used_bytes"].as_i64().unwrap();
    assert!(used > 0 && usage["database_bytes"].as_i64().unwrap() > 0, "{usage}");
    let notices = |app: &TestApp| app.mailer.sent().into_iter().filter(|m| m.subject.contains("storage")).count();
    assert_eq!(notices(&app), 0);

    // The plan shrinks to put it at about 90 %: a warning, mailed once.
    let limit_mb = (used as f64 / 0.9 / (1024.0 * 1024.0)).ceil() as i64;
    superuser(&app, &format!("UPDATE ops.plans SET storage_mb = {limit_mb} WHERE slug = 'tiny'")).await;
    let (_, usage) = bob.get(&format!("/api/v1/instances/{id}/usage")).await;
    assert_eq!(usage["level"], "warning", "{usage}");
    let (_, _) = bob.get(&format!("/api/v1/instances/{id}/usage")).await;
    let mails: Vec<_> = app.mailer.sent().into_iter().filter(|m| m.subject.contains("storage")).collect();
    assert_eq!(mails.len(), 1, "mailed once: {mails:?}");
    assert_eq!(mails[0].to, "bob@bobco.test");
    assert!(mails[0].body.contains(&format!("of the {limit_mb} MB")), "{}", mails[0].body);

    // A backup while there is room, then data past the limit: exceeded, mailed, and restores refused.
    let (_, backup) = operate(&bob, &id, json!({"kind": "backup"})).await;
    let backup = ended(&bob, &id, backup["id"].as_str().unwrap()).await;
    assert_eq!(backup["state"], "done", "{backup}");
    let infra = app.platform.builds.as_ref().unwrap();
    let mut c = sqlx::PgConnection::connect_with(&infra.db(&db).owner_options(&db)).await.unwrap();
    sqlx::query("CREATE TABLE x_big AS SELECT g, repeat(md5(g::text), 20) AS filler FROM generate_series(1, 8000) g")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.ok();
    let (_, usage) = bob.get(&format!("/api/v1/instances/{id}/usage")).await;
    assert_eq!(usage["level"], "exceeded", "{usage}");
    assert!(usage["storage_percent"].as_i64().unwrap() >= 100);
    assert_eq!(notices(&app), 2, "the crossing to exceeded is mailed too");
    let (status, refused) =
        operate(&bob, &id, json!({"kind": "restore", "backup_id": backup["backup_id"].clone()})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("over its Tiny plan"), "{refused}");
    // A larger plan lifts it.
    superuser(&app, "UPDATE ops.plans SET storage_mb = 1000 WHERE slug = 'tiny'").await;
    let (_, usage) = bob.get(&format!("/api/v1/instances/{id}/usage")).await;
    assert_eq!(usage["level"], "ok", "{usage}");
    let (status, restore) =
        operate(&bob, &id, json!({"kind": "restore", "backup_id": backup["backup_id"].clone()})).await;
    assert_eq!(status, 202, "{restore}");
    assert_eq!(ended(&bob, &id, restore["id"].as_str().unwrap()).await["state"], "done");
    tear_down_builds(&app).await;
}
