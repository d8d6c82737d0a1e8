//! The console's own mail without an SMTP relay: it waits in the console
//! mailbox, which platform owners alone read (audited), and the link in it
//! works; the log says a message waits, never what it says.

use crate::canary::{self, Never};
use crate::helpers::spawn_app_with_console_mailbox;
use serde_json::Value;

#[tokio::test]
async fn without_a_relay_reset_mail_waits_for_platform_owners_only() {
    let app = spawn_app_with_console_mailbox().await;
    let owner = app.signed_up("root@ops.test", "Ops").await;
    let owner_api = app.api(&owner.token().await);
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let ann_api = app.api(&ann.token().await);

    let anonymous = app.browser();
    let (status, _) = anonymous.rpc("auth/request_reset", &[("email", "ann@acme.test")]).await;
    assert_eq!(status, 200);
    assert!(app.mailer.sent().is_empty(), "the console mailbox, not the test mailer, took it");

    // The platform owner sees it waiting, and opens it.
    let (status, list) = owner_api.get("/api/v1/console-mail").await;
    assert_eq!(status, 200, "{list}");
    let mail = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["to"] == "ann@acme.test")
        .unwrap_or_else(|| panic!("no reset mail for ann: {list}"))
        .clone();
    assert_eq!((mail["subject"].as_str(), mail["read"].as_bool()), (Some("Reset your OdooOps password"), Some(false)));
    assert!(mail.get("body").is_none(), "the list carries no text: {mail}");
    let id = mail["id"].as_str().unwrap();
    let (status, opened) = owner_api.get(&format!("/api/v1/console-mail/{id}")).await;
    assert_eq!(status, 200, "{opened}");
    let body = opened["body"].as_str().unwrap();
    let token = body.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    // From here on, no log line may ever have carried the link's token.
    canary::watch(&token, Never::Logged);
    let (_, events) = owner_api.get("/api/v1/audit?action=console_mail.read").await;
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target"], format!("console_mail:{id}"));

    // The server-rendered page and its server functions say the same.
    let (status, listed) = owner.rpc("console_mail/list", &[]).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["read"], Value::Bool(true));
    let page = owner.get("/console-mail").await.text().await.unwrap();
    assert!(page.contains("Console mail") && page.contains("ann@acme.test"), "the page lists it");

    // Nobody else reads it: not an ordinary account (REST and server function),
    // not a platform operator (the domain refuses; row-level security hides every row).
    let (status, body) = ann_api.get("/api/v1/console-mail").await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = ann_api.get(&format!("/api/v1/console-mail/{id}")).await;
    assert_eq!(status, 403);
    let (status, _) = ann.rpc("console_mail/get", &[("id", id)]).await;
    assert_eq!(status, 403);
    let operator = app.signed_up("op@ops.test", "").await;
    let (_, me) = operator.rpc("auth/me", &[]).await;
    let operator_id: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    sqlx::query("UPDATE ops.users SET platform_role = 'platform_operator' WHERE id = $1")
        .bind(operator_id)
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    let operator_api = app.api(&operator.token().await);
    let (status, _) = operator_api.get("/api/v1/console-mail").await;
    assert_eq!(status, 403);
    let mut tx = app.platform.db.begin_as(domain::types::UserId(operator_id)).await.unwrap();
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.console_mail").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(visible, 0, "row-level security hides console mail from operators");
    let updated = sqlx::query("UPDATE ops.console_mail SET read = false").execute(&mut *tx).await.unwrap();
    assert_eq!(updated.rows_affected(), 0);
    drop(tx);

    // The link in it works, once.
    let (status, body) =
        anonymous.rpc("auth/reset_password", &[("token", &token), ("password", "a whole new password")]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) =
        anonymous.rpc("auth/sign_in", &[("email", "ann@acme.test"), ("password", "a whole new password")]).await;
    assert_eq!(status, 200);
}
