//! The Supabase kit's proxy against a stand-in Management API (axum, on
//! loopback) that answers the allow-listed operations in the spec's shapes
//! and records what it received. The 403 matrix (a ref linked elsewhere, a
//! ref linked nowhere, a member writing), the 404 of everything off the
//! allow-list (never forwarded), secrets without values, 429 passing through
//! with `Retry-After`, the answer-size cap, one audit event per request, and
//! the token: sealed, sent upstream only, never in a response or a log line.

use crate::canary::{self, Never};
use crate::helpers::{join_tenant, spawn_app_and, Api};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "sbp_canary_0123456789abcdef0123456789abcdef";
const SECRET_VALUE: &str = "sk_live_canary_value_never_shown";
const REF: &str = "abcdefghijklmnopqrst";
const FOREIGN: &str = "zyxwvutsrqponmlkjihg";

type Seen = Arc<Mutex<Vec<Value>>>;

/// The stand-in: records every request, checks the token, answers by path.
async fn management_api(
    State(seen): State<Seen>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    seen.lock().unwrap().push(json!({
        "method": method.as_str(), "path": uri.path(), "query": uri.query(),
        "authorization": headers.get("authorization").and_then(|v| v.to_str().ok()),
        "body": String::from_utf8_lossy(&body),
    }));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Unauthorized"}))).into_response();
    }
    let base = format!("/v1/projects/{REF}");
    let path = uri.path().strip_prefix(&base).unwrap_or("?");
    match (method.as_str(), path) {
        ("POST", "/database/query/read-only") | ("POST", "/database/query") => {
            axum::Json(json!([{"table_name": "partners", "rows": 3}])).into_response()
        }
        ("GET", "/secrets") => axum::Json(json!([{"name": "STRIPE_KEY", "value": SECRET_VALUE}])).into_response(),
        ("GET", "/storage/buckets") => {
            axum::Json(json!([{"id": "avatars", "name": "avatars", "public": false, "owner": "", "created_at": "", "updated_at": ""}]))
                .into_response()
        }
        ("GET", "/config/auth") => {
            axum::Json(json!({"site_url": "https://portal.acme.test", "smtp_pass": SECRET_VALUE, "jwt_exp": 3600})).into_response()
        }
        ("GET", "/health") => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")], "slow down").into_response(),
        ("GET", "/advisors/security") => vec![b' '; 6 << 20].into_response(),
        ("GET", "/analytics/endpoints/logs.all") => axum::Json(json!({"result": []})).into_response(),
        _ => (StatusCode::NOT_FOUND, "no such stand-in route").into_response(),
    }
}

async fn proxied(api: &Api<'_>, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    api.call(method, &format!("/api/supabase-proxy{path}"), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_forwards_only_allowed_calls_for_people_with_rights_and_never_shows_the_token() {
    canary::watch(TOKEN, Never::LoggedOrSent);
    canary::watch(SECRET_VALUE, Never::LoggedOrSent);
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().fallback(management_api).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let app = spawn_app_and(move |s| s.supabase_api = upstream).await;
    let ann_b = app.signed_up("ann@acme.test", "Acme").await;
    let ann = app.api(&ann_b.token().await);
    let (_, me) = ann.get("/api/v1/me").await;
    let acme = me["tenants"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(me["tenants"][0]["slug"], "acme", "{me}");
    let dave_b = app.signed_up("dave@acme.test", "").await;
    join_tenant(&ann, &dave_b, &acme, "member").await;
    let dave = app.api(&dave_b.token().await);
    let eve = app.api(&app.signed_up("eve@evil.test", "Evil").await.token().await);
    let mut requests = 0;

    // Linking: admins only, the token sealed and never answered.
    let link = json!({"tenant": "acme", "reference": REF, "token": TOKEN});
    assert_eq!(dave.post("/api/v1/supabase/links", link.clone()).await.0, 403, "a member does not link");
    assert_eq!(eve.post("/api/v1/supabase/links", link.clone()).await.0, 404, "another tenant does not link");
    let bad = json!({"tenant": "acme", "reference": "ABC", "token": TOKEN});
    assert_eq!(ann.post("/api/v1/supabase/links", bad).await.0, 422);
    let (status, linked) = ann.post("/api/v1/supabase/links", link).await;
    assert_eq!((status, linked["has_token"].as_bool()), (201, Some(true)), "{linked}");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_sealed FROM ops.supabase_links")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("sbp_"), "the database holds it sealed");

    // Reading, by an admin and by a member; the stand-in got the token and the exact path.
    let read = format!("/v1/projects/{REF}/database/query/read-only");
    let (status, rows) = proxied(&ann, reqwest::Method::POST, &read, Some(json!({"query": "select 1"}))).await;
    requests += 1;
    assert_eq!((status, rows[0]["table_name"].as_str()), (200, Some("partners")), "{rows}");
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (last["path"].as_str(), last["authorization"].as_str()),
        (Some(read.as_str()), Some(&*format!("Bearer {TOKEN}")))
    );
    assert_eq!(proxied(&dave, reqwest::Method::POST, &read, Some(json!({"query": "select 1"}))).await.0, 200);
    requests += 1;

    // The 403 matrix: nothing of these reaches Supabase.
    let before = seen.lock().unwrap().len();
    let write = format!("/v1/projects/{REF}/database/query");
    for (who, method, path, expected) in [
        (&dave, reqwest::Method::POST, write.clone(), 403),
        (&dave, reqwest::Method::GET, format!("/v1/projects/{REF}/secrets"), 403),
        (&eve, reqwest::Method::POST, read.clone(), 403),
        (&ann, reqwest::Method::POST, format!("/v1/projects/{FOREIGN}/database/query/read-only"), 403),
        (&ann, reqwest::Method::GET, format!("/v1/projects/{REF}/api-keys"), 404),
        (&ann, reqwest::Method::DELETE, format!("/v1/projects/{REF}/secrets"), 404),
        (&ann, reqwest::Method::GET, format!("/v1/projects/{REF}/health%2F..%2F..%2Fapi-keys"), 404),
        (&ann, reqwest::Method::GET, "/v1/organizations".to_owned(), 404),
        (&ann, reqwest::Method::GET, format!("/v1/projects/{REF}/health/x"), 404),
    ] {
        let (status, body) = proxied(who, method.clone(), &path, Some(json!({"query": "drop table x"}))).await;
        requests += 1;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert!(body["code"].is_string() && body["message"].is_string(), "the usual JSON error: {body}");
    }
    assert_eq!(seen.lock().unwrap().len(), before, "refused calls are never forwarded");

    // Writing as an admin; secrets as names and digests; unknown query parameters dropped.
    assert_eq!(proxied(&ann, reqwest::Method::POST, &write, Some(json!({"query": "create table t()"}))).await.0, 200);
    let (status, secrets) = proxied(&ann, reqwest::Method::GET, &format!("/v1/projects/{REF}/secrets"), None).await;
    requests += 2;
    assert_eq!(status, 200);
    assert_eq!(secrets[0]["name"], "STRIPE_KEY");
    assert_eq!(secrets[0]["digest"].as_str().map(str::len), Some(64), "{secrets}");
    let logs = format!("/v1/projects/{REF}/analytics/endpoints/logs.all?sql=select%201&evil=1&iso_timestamp_start=2026-12-01T00:00:00Z");
    assert_eq!(proxied(&dave, reqwest::Method::GET, &logs, None).await.0, 200);
    requests += 1;
    let query = seen.lock().unwrap().last().unwrap()["query"].as_str().unwrap_or_default().to_owned();
    assert!(
        query.contains("sql=select") && query.contains("iso_timestamp_start") && !query.contains("evil"),
        "{query}"
    );

    // Auth settings reach readers with their secrets masked.
    let (status, config) = proxied(&dave, reqwest::Method::GET, &format!("/v1/projects/{REF}/config/auth"), None).await;
    requests += 1;
    assert_eq!(
        (status, config["site_url"].as_str(), config["smtp_pass"].as_str()),
        (200, Some("https://portal.acme.test"), Some("(set)"))
    );

    // Supabase's 429 passes through with Retry-After; an answer over the cap is a clear error.
    let resp = ann_b_like(&app, &ann, &format!("/api/supabase-proxy/v1/projects/{REF}/health")).await;
    requests += 1;
    assert_eq!((resp.0, resp.1.as_deref()), (429, Some("7")));
    let (status, body) =
        proxied(&ann, reqwest::Method::GET, &format!("/v1/projects/{REF}/advisors/security"), None).await;
    requests += 1;
    assert_eq!(status, 503, "{body}");
    assert!(body["message"].as_str().unwrap().contains("larger than 5 MiB"), "{body}");

    // One audit event per request, with the template and status, never a body or the token.
    let audited: Vec<Value> =
        sqlx::query_scalar("SELECT summary FROM ops.audit_events WHERE action = 'supabase.call' ORDER BY id")
            .fetch_all(app.platform.db.owner())
            .await
            .unwrap();
    assert_eq!(audited.len(), requests, "{audited:?}");
    let all = serde_json::to_string(&audited).unwrap();
    assert!(!all.contains("drop table") && !all.contains("sbp_"), "{all}");
    assert!(audited.iter().any(|a| a["template"] == "/v1/projects/{ref}/database/query" && a["status"] == 403));
    let of_tenant: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ops.audit_events WHERE action = 'supabase.call' AND target = $1 AND tenant_id IS NOT NULL",
    )
    .bind(format!("supabase:{REF}"))
    .fetch_one(app.platform.db.owner())
    .await
    .unwrap();
    assert!(of_tenant > 0, "calls through a link name its tenant");

    // Unlinking deletes the token; the kit then refuses.
    let id = linked["id"].as_str().unwrap();
    assert_eq!(dave.call(reqwest::Method::DELETE, &format!("/api/v1/supabase/links/{id}"), None).await.0, 403);
    assert_eq!(ann.call(reqwest::Method::DELETE, &format!("/api/v1/supabase/links/{id}"), None).await.0, 204);
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.supabase_links").fetch_one(app.platform.db.owner()).await.unwrap();
    assert_eq!(left, 0);
    assert_eq!(proxied(&ann, reqwest::Method::POST, &read, Some(json!({"query": "select 1"}))).await.0, 403);
}

/// A GET through the proxy, answering the status and the `Retry-After` header.
async fn ann_b_like(app: &crate::helpers::TestApp, api: &Api<'_>, path: &str) -> (u16, Option<String>) {
    let resp = reqwest::Client::new().get(format!("{}{path}", app.addr)).bearer_auth(&api.token).send().await.unwrap();
    let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (resp.status().as_u16(), retry)
}
