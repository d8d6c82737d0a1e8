//! The cron-runtime gate on a serving environment: the stand-in runs a
//! scheduled action that never finishes within the project's limit; the
//! watcher (the periodic job) stops it each time and disables it at the
//! third overrun in a day, audits both, tells the project's admins its name,
//! model and durations, and the serving build's gate fails with the reason.
//! The cron's name comes from the tenant's database and is only ever text.

use crate::backups::sql;
use crate::helpers::{spawn_app_with_builds_and, tear_down_builds};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_past_its_limit_is_stopped_and_disabled_at_the_third_overrun() {
    let app = spawn_app_with_builds_and(|_| {}).await;
    let owner = app.signed_up("owner@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let repo = repository();
    let project = standin_project(&api, "Crons", &repo).await;
    let settings = format!("/api/v1/projects/{project}/settings");
    let (status, body) = api.call(reqwest::Method::PATCH, &settings, Some(json!({"cron_limit_seconds": 1}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("cron_limit_seconds must be between 5 and 86400"), "{body}");
    let (status, body) = api.call(reqwest::Method::PATCH, &settings, Some(json!({"cron_limit_seconds": 5}))).await;
    assert_eq!((status, body["cron_limit_seconds"].as_i64()), (200, Some(5)), "{body}");

    let sha = commit_file(&repo, "feature-cron", ".standin", "slow-cron 600\n", "a cron that takes ten minutes");
    push(&app, &api, &project, "feature-cron", &sha).await;
    let b = finished(&api, &project, &sha).await;
    assert_eq!(b["result"], "ok", "{b}");
    let id = b["id"].as_str().unwrap().to_owned();
    let (_, view) = api.get(&format!("/api/v1/builds/{id}")).await;
    let db = view["db_name"].as_str().unwrap().to_owned();

    // The watcher runs as a periodic job; waking it keeps the test short.
    let deadline = Instant::now() + Duration::from_secs(240);
    let notice = loop {
        domain::jobs::queue::wake(&app.platform, domain::jobs::Kind::CronWatch).await.unwrap();
        if let Some(m) = app.mailer.sent().into_iter().find(|m| m.subject.contains("scheduled action")) {
            break m;
        }
        assert!(Instant::now() < deadline, "the cron was never disabled");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(notice.to, "owner@acme.test");
    assert!(notice.subject.contains("“Stand-in: slow job” disabled"), "{}", notice.subject);
    assert!(notice.body.contains("(res.partner)") && notice.body.contains("limit of 5 s"), "{}", notice.body);
    assert_eq!(
        sql(&app, &db, "SELECT count(*) FROM ir_cron WHERE cron_name = 'Stand-in: slow job' AND active").await,
        0,
        "disabled in the environment's database"
    );
    assert_eq!(
        sql(&app, &db, "SELECT count(*) FROM ir_cron WHERE cron_name = 'Base: Auto-vacuum internal data' AND active")
            .await,
        1,
        "other crons are left alone"
    );
    let owner_db = app.platform.db.owner();
    let (stops, disables): (i64, i64) = (
        sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = 'cron.stopped'")
            .fetch_one(owner_db)
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = 'cron.disabled'")
            .fetch_one(owner_db)
            .await
            .unwrap(),
    );
    assert!(stops >= 3, "each stop is audited: {stops}");
    assert_eq!(disables, 1);
    let rows: Vec<(i32, bool)> =
        sqlx::query_as("SELECT ran_seconds, disabled FROM ops.cron_overruns ORDER BY stopped_at")
            .fetch_all(owner_db)
            .await
            .unwrap();
    assert!(rows.iter().all(|(secs, _)| *secs >= 5), "stopped only past the limit: {rows:?}");
    assert_eq!(rows.last().map(|r| r.1), Some(true), "the last stop disabled it: {rows:?}");

    // The serving build's gate says so (page, grid tooltip, API).
    let (_, view) = api.get(&format!("/api/v1/builds/{id}")).await;
    let gate = view["preflight"].as_array().unwrap().iter().find(|g| g["gate"] == "cron_runtime").cloned();
    let gate = gate.unwrap_or_else(|| panic!("no cron gate: {view}"));
    assert_eq!(gate["verdict"], "fail", "{gate}");
    assert!(gate["reason"].as_str().unwrap().contains("was disabled"), "{gate}");

    // Disabled stays disabled: the next passes find nothing running.
    let before = app.mailer.sent().len();
    for _ in 0..3 {
        let w = domain::preflight::cron::watch(&app.platform, app.platform.builds.as_ref().unwrap()).await.unwrap();
        assert_eq!(w.stopped, 0, "{w:?}");
    }
    assert_eq!(app.mailer.sent().len(), before);
    tear_down_builds(&app).await;
}
