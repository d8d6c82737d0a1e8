//! Platform settings at run time (issue 15): an owner closes sign-up and it
//! is closed at once, without a restart; operators read but do not change;
//! nonsense is refused; each change is one audit event.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_closes_sign_up_at_run_time_and_only_an_owner_may() {
    let app = spawn_app().await;
    let owner = app.signed_up("ann@platform.test", "Platform").await;
    let owner = app.api(&owner.token().await);
    let otto = app.signed_up("otto@platform.test", "").await;
    sqlx::query("UPDATE ops.users SET platform_role = 'platform_operator' WHERE email = 'otto@platform.test'")
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    let operator = app.api(&otto.token().await);
    let patch = |body| (reqwest::Method::PATCH, "/api/v1/platform/settings", Some(body));

    let (_, s) = operator.get("/api/v1/platform/settings").await;
    assert_eq!((s["signup_open"].clone(), s["instances_per_tenant"].clone()), (json!(true), json!(10)), "{s}");
    let (m, p, b) = patch(json!({"signup_open": false}));
    assert_eq!(operator.call(m, p, b).await.0, 403);
    let (m, p, b) = patch(json!({"instances_per_tenant": 0}));
    assert_eq!(owner.call(m, p, b).await.0, 422);
    let (m, p, b) = patch(json!({"signup_open": false, "instances_per_tenant": 3}));
    let (status, s) = owner.call(m, p, b).await;
    assert_eq!(
        (status, s["signup_open"].clone(), s["instances_per_tenant"].clone()),
        (200, json!(false), json!(3)),
        "{s}"
    );

    // Closed at once: a new sign-up is refused.
    let b = app.browser();
    let (status, _) = b.rpc("auth/sign_up", &app.sign_up_form("late@comer.test", "Late")).await;
    assert_ne!(status, 200, "sign-up is closed");
    let (m, p, b) = patch(json!({"signup_open": true}));
    assert_eq!(owner.call(m, p, b).await.0, 200);
    app.signed_up("late@comer.test", "Late").await;

    // The preflight gates' limits (issue 17): names only, thresholds in order.
    assert_eq!(s["preflight_extensions"], json!(["plpgsql"]), "{s}");
    for bad in [json!({"preflight_extensions": ["pg_trgm; drop"]}), json!({"preflight_objects_warn": 20_000})] {
        let (m, p, b) = patch(bad);
        assert_eq!(owner.call(m, p, b).await.0, 422);
    }
    let (m, p, b) = patch(json!({"preflight_extensions": ["pg_trgm", "plpgsql"], "preflight_objects_warn": 5000}));
    let (status, s) = owner.call(m, p, b).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["preflight_extensions"].clone(), s["preflight_objects_warn"].clone()),
        (json!(["pg_trgm", "plpgsql"]), json!(5000))
    );

    let (_, events) = owner.get("/api/v1/audit?action=platform.settings").await;
    assert_eq!(events.as_array().unwrap().len(), 3, "{events}");
    assert_eq!(events[2]["summary"]["signup_open"], false);
}
