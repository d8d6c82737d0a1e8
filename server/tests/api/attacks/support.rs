//! What several attack tests need: a one-shot container with its exit code
//! and output, and the app's platform with other build settings.

use crate::helpers::{Api, TestApp};
use domain::builds::infra::BuildInfra;
use domain::engine::ContainerEngine as _;
use domain::engine::RunSpec;
use domain::platform::Platform;
use std::collections::HashMap;
use std::time::Duration;

/// Runs `spec` (labelled as this app's, so teardown finds it) to its end; its exit code and output.
pub async fn run_once(app: &TestApp, mut spec: RunSpec) -> (i64, String) {
    let infra = app.platform.builds.as_ref().unwrap();
    let engine = crate::helpers::docker();
    spec.name = format!("odooops-attack-{}", uuid::Uuid::new_v4().simple());
    spec.labels = HashMap::from([
        ("odooops.managed".to_owned(), "true".to_owned()),
        ("odooops.installation".to_owned(), infra.installation.clone()),
    ]);
    let id = engine.start(&spec).await.unwrap();
    let code = tokio::time::timeout(Duration::from_secs(120), engine.wait(&id)).await.unwrap().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(domain::engine::LINE_SINK_CAPACITY);
    let collect = tokio::spawn(async move {
        let mut out = String::new();
        while let Some(line) = rx.recv().await {
            out.push_str(&line);
            out.push('\n');
        }
        out
    });
    engine.follow_logs(&id, tx).await.unwrap();
    let out = collect.await.unwrap();
    engine.remove_container(&id).await.unwrap();
    (code, out)
}

/// The app's platform (same database, runtime, mailer, settings) with its build settings changed by `adjust`.
pub fn with_infra(app: &TestApp, adjust: impl FnOnce(&mut BuildInfra)) -> Platform {
    let mut infra = app.platform.builds.clone().unwrap();
    adjust(&mut infra);
    Platform::with_builds(
        app.platform.db.clone(),
        app.platform.runtime.clone(),
        app.platform.mailer.clone(),
        app.platform.settings.clone(),
        Some(infra),
    )
}

/// A manual backup of `env`, finished; its id.
pub async fn backup_now(api: &Api<'_>, env: &str) -> String {
    let (status, backup) = api.post(&format!("/api/v1/environments/{env}/backups"), serde_json::json!({})).await;
    assert_eq!(status, 202, "{backup}");
    let id = backup["id"].as_str().unwrap().to_owned();
    assert_eq!(crate::backups::wait_backup(api, &id).await["state"], "done");
    id
}
