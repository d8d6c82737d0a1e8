//! The support center (issue 15): runbooks are written by platform staff and
//! read by everyone; a tenant's people open requests for their own tenant
//! only, another tenant neither sees nor touches them, staff answer, and a
//! tenant's admin may only close theirs. Every change is audited.

use crate::helpers::{spawn_app, Api};
use serde_json::{json, Value};

async fn put(api: &Api<'_>, body: Value) -> (u16, Value) {
    api.call(reqwest::Method::PUT, "/api/v1/runbooks", Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbooks_are_staffs_and_requests_stay_in_their_tenant() {
    let app = spawn_app().await;
    let owner = app.signed_up("ann@platform.test", "Platform").await;
    let owner = app.api(&owner.token().await);
    let bob = app.signed_up("bob@bobco.test", "Bobco").await;
    let bob = app.api(&bob.token().await);
    let max = app.signed_up("max@maxco.test", "Maxco").await;
    let max = app.api(&max.token().await);

    // Runbooks: staff write, everyone reads.
    let book =
        json!({"title": "Restoring a backup", "body": "1. Open the backups page.\n2. <script>alert(1)</script>"});
    assert_eq!(put(&owner, book.clone()).await.0, 204);
    assert_eq!(put(&bob, book).await.0, 403);
    let (_, books) = max.get("/api/v1/runbooks").await;
    assert_eq!(books[0]["slug"], "restoring-a-backup", "{books}");

    // Requests: for one's own tenant only.
    let (status, req) = bob
        .post(
            "/api/v1/support/requests",
            json!({"tenant": "bobco", "subject": "Slow reports", "body": "Since Monday."}),
        )
        .await;
    assert_eq!(status, 201, "{req}");
    let id = req["id"].as_str().unwrap().to_owned();
    let (status, _) = bob.post("/api/v1/support/requests", json!({"tenant": "maxco", "subject": "Not mine"})).await;
    assert_eq!(status, 404);
    assert_eq!(max.get("/api/v1/support/requests").await.1, json!([]), "another tenant sees none of it");
    assert_eq!(owner.get("/api/v1/support/requests").await.1.as_array().unwrap().len(), 1);

    // Staff answer; a tenant's admin only closes; a stranger's attempt finds nothing.
    let state = |s: &str| json!({"state": s, "answer": "Reindexed: try again."});
    let path = format!("/api/v1/support/requests/{id}/state");
    assert_eq!(bob.post(&path, state("answered")).await.0, 403);
    assert_eq!(max.post(&path, json!({"state": "closed"})).await.0, 404);
    let (status, answered) = owner.post(&path, state("answered")).await;
    assert_eq!((status, answered["state"].as_str()), (200, Some("answered")), "{answered}");
    let (status, closed) = bob.post(&path, json!({"state": "closed"})).await;
    assert_eq!(
        (status, closed["state"].as_str(), closed["answer"].as_str()),
        (200, Some("closed"), Some("Reindexed: try again."))
    );
    assert_eq!(owner.post(&path, json!({"state": "lost"})).await.0, 422);

    let (_, events) = owner.get("/api/v1/audit?action=support.").await;
    let actions: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["support.request_state", "support.request_state", "support.request_open"]);
}
