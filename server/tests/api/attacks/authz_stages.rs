//! Attack on authorization by the *current* stage (security review SEC-18):
//! staging backups and staging mail are copies of production data. When an
//! admin drags a staging branch back to development, they stay what they
//! were: a developer still cannot list, read or download them. What the
//! branch catches after the move is development's, and developers read it.

use super::authz::fixture;
use crate::helpers::spawn_app;
use domain::mail::store::Login;
use domain::mail::writer::Writer;
use serde_json::json;
use uuid::Uuid;

/// A finished backup of `env`, as the backup worker would leave it.
async fn backup(app: &crate::helpers::TestApp, tenant: Uuid, project: Uuid, env: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, state, storage_key, size_bytes, sha256,
                                  started_at, finished_at)
         VALUES ($1, $2, $3, $4, 'manual', 'done', $5, 1, $6, now(), now())",
    )
    .bind(id)
    .bind(tenant)
    .bind(project)
    .bind(env)
    .bind(format!("{project}/{env}/{id}.zip"))
    .bind("0".repeat(64))
    .execute(app.platform.db.owner())
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn moving_staging_to_development_does_not_hand_its_data_to_developers() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let staging = f.env("staging");
    let login = Login { env_id: staging, tenant_id: f.tenant, project_id: f.project };
    let staging_backup = backup(&app, f.tenant, f.project, staging).await;
    let writer = Writer::start(app.platform.clone());
    let staging_mail = writer
        .catch(
            &login,
            "odoo@acme.test",
            &["customer@example.test".into()],
            b"Subject: Invoice for a real customer\r\n\r\nIBAN DE00 1234\r\n".to_vec(),
        )
        .await
        .unwrap();

    let (dev, tester, admin) = (&f.person("developer").api, &f.person("tester").api, &f.person("admin").api);
    let (status, moved) = admin
        .call(reqwest::Method::PATCH, &format!("/api/v1/environments/{staging}"), Some(json!({"stage": "development"})))
        .await;
    assert_eq!((status, moved["stage"].as_str()), (200, Some("development")), "{moved}");

    // The branch is development now; what it held as staging is still staging's.
    let (status, list) = dev.get(&format!("/api/v1/environments/{staging}/backups")).await;
    assert_eq!(status, 200, "{list}");
    assert!(!list.to_string().contains(&staging_backup.to_string()), "a developer lists a staging backup: {list}");
    for path in [
        format!("/api/v1/backups/{staging_backup}"),
        format!("/api/v1/backups/{staging_backup}/download"),
        format!("/api/v1/backups/{staging_backup}/download?neutralized=true"),
        format!("/api/v1/environments/{staging}/mails/{staging_mail}"),
        format!("/api/v1/environments/{staging}/mails/{staging_mail}/raw"),
    ] {
        let (status, body) = dev.get(&path).await;
        assert_eq!(status, 404, "a developer reached {path}: {body}");
    }
    let (_, events) = dev.get(&format!("/api/v1/backups/{staging_backup}/events")).await;
    assert_eq!(events, json!([]), "{events}");
    let (_, mails) = dev.get(&format!("/api/v1/environments/{staging}/mails")).await;
    assert_eq!(mails, json!([]), "a developer lists staging mail: {mails}");
    let (status, _) =
        dev.call(reqwest::Method::DELETE, &format!("/api/v1/environments/{staging}/mails/{staging_mail}"), None).await;
    assert_eq!(status, 404, "nor deletes it");

    // Those who could read them as staging still can, and the backup says what it was.
    let (status, seen) = tester.get(&format!("/api/v1/backups/{staging_backup}")).await;
    assert_eq!((status, seen["stage"].as_str()), (200, Some("staging")), "{seen}");
    let (_, mails) = tester.get(&format!("/api/v1/environments/{staging}/mails")).await;
    assert!(mails.to_string().contains(&staging_mail.to_string()), "{mails}");

    // What the branch catches from now on is development's.
    let new_mail = writer
        .catch(&login, "odoo@acme.test", &["dev@example.test".into()], b"Subject: hi\r\n\r\nx\r\n".to_vec())
        .await
        .unwrap();
    let (_, mails) = dev.get(&format!("/api/v1/environments/{staging}/mails")).await;
    let ids: Vec<&str> = mails.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [new_mail.to_string().as_str()], "{mails}");
    let dev_backup = backup(&app, f.tenant, f.project, staging).await;
    let (status, seen) = dev.get(&format!("/api/v1/backups/{dev_backup}")).await;
    assert_eq!((status, seen["stage"].as_str()), (200, Some("development")), "{seen}");

    // And the stage of a backup or a message cannot be rewritten by the application.
    let mut tx = app.platform.db.begin_as(f.person("admin").id).await.unwrap();
    let rewritten = sqlx::query("UPDATE ops.backups SET stage = 'development' WHERE id = $1")
        .bind(staging_backup)
        .execute(&mut *tx)
        .await;
    assert!(rewritten.is_err(), "a backup's stage was rewritten");
}
