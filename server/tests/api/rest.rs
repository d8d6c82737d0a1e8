//! The REST API: tokens, errors as JSON with stable codes, OpenAPI, health.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn health_reports_database_and_docker() {
    let app = spawn_app().await;
    let r = reqwest::get(format!("{}/api/health", app.addr)).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "pass");
    assert_eq!(body["database"], "pass");
    assert_eq!(body["docker"], "Docker is not used by this test");
}

#[tokio::test]
async fn openapi_document_is_generated_from_the_handlers() {
    let app = spawn_app().await;
    let doc: serde_json::Value =
        reqwest::get(format!("{}/api/v1/openapi.json", app.addr)).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/me",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/tenants",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/api/v1/projects/{id}/members",
        "/api/v1/builds/{id}/shell",
        "/api/v1/shells/{id}/transcript",
        "/api/v1/me/ssh-keys",
        "/api/v1/environments/{id}/mails",
        "/api/v1/environments/{id}/mails/{mail}/raw",
        "/api/health",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["ProjectSummary"].is_object());
}

#[tokio::test]
async fn tokens_authenticate_until_revoked() {
    let app = spawn_app().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let secret = b.token().await;
    assert!(secret.starts_with("odo_"));
    let api = app.api(&secret);
    let (status, me) = api.get("/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "ann@acme.test");
    let (_, tokens) = api.get("/api/v1/tokens").await;
    let listed = tokens.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("secret").is_none() && listed[0]["last_used_at"].is_string());
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT token_hash FROM ops.api_tokens").fetch_one(app.platform.db.owner()).await.unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(&secret[4..]), "only a hash is stored");

    let (status, err) = api.post("/api/v1/tokens", json!({"name": "ci", "expires_in_days": 7})).await;
    assert_eq!(status, 403, "a token cannot mint tokens: {err}");
    let (status, created) = b.rpc("tokens/create", &[("name", "ci"), ("expires_in_days", "7")]).await;
    assert_eq!(status, 200, "{created}");
    let id = listed[0]["id"].as_str().unwrap();
    let (status, _) = api.call(reqwest::Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, err) = api.get("/api/v1/me").await;
    assert_eq!(status, 401);
    assert_eq!(err["code"], "unauthenticated");
    let other = app.api(created["secret"].as_str().unwrap());
    assert_eq!(other.get("/api/v1/me").await.0, 200, "the other token still works");
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_stable_codes() {
    let app = spawn_app().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let (status, err) = api.get("/api/v1/me").await;
    assert_eq!(status, 200, "{err}");
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/projects", app.addr))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["code"], "invalid");
    let (status, err) =
        api.post("/api/v1/projects", json!({"name": "X", "repo_url": "ftp://nope", "odoo_version": "17.0"})).await;
    assert_eq!(status, 422);
    assert!(err["message"].as_str().unwrap().starts_with("git URL:"), "{err}");
    let (status, err) = api.get("/api/v1/projects/not-a-uuid").await;
    assert_eq!((status, err["code"].as_str()), (422, Some("invalid")));
    let (status, err) = api.get("/api/v1/nope").await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let (status, err) =
        reqwest::get(format!("{}/api/v1/me", app.addr)).await.map(|r| r.status().as_u16()).map(|s| (s, ())).unwrap();
    assert_eq!(status, 401, "{err:?}");
    let (status, _) = app.api("odo_forged").get("/api/v1/me").await;
    assert_eq!(status, 401);
    let (status, created) = api.post("/api/v1/projects", json!({"name": "Acme ERP", "repo_url": "git@github.com:acme/erp.git", "odoo_version": "18.0", "stage_rules": "main=production, staging/*=staging"})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["slug"], "acme-erp");
    let (_, detail) = api.get(&format!("/api/v1/projects/{}", created["id"].as_str().unwrap())).await;
    assert!(detail["deploy_key_public"].as_str().unwrap().starts_with("ssh-ed25519 "), "{detail}");
    assert!(!detail.to_string().contains("PRIVATE KEY"), "the private half never leaves the server");
    let (status, err) = api
        .post(
            "/api/v1/projects",
            json!({"name": "Acme ERP", "repo_url": "git@github.com:acme/erp.git", "odoo_version": "18.0"}),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (409, Some("conflict")));
}

#[tokio::test]
async fn every_mutation_is_audited() {
    let app = spawn_app().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    b.create_project("Acme ERP").await;
    let api = app.api(&b.token().await);
    let (_, events) = api.get("/api/v1/audit").await;
    let actions: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["account.sign_up", "project.create", "token.create"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(matches!(
        domain::audit::verify(app.platform.db.owner()).await.unwrap(),
        domain::audit::ChainReport::Intact { .. }
    ));
}

/// Pages and JSON go out compressed when the client accepts it (the grid's HTML and the WASM
/// shrink several times); nothing is compressed for a client that did not ask.
#[tokio::test]
async fn answers_are_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let get = |accept: Option<&'static str>, path: &'static str| {
        let url = format!("{}{path}", app.addr);
        async move {
            let mut req = reqwest::Client::new().get(url);
            if let Some(a) = accept {
                req = req.header("accept-encoding", a);
            }
            req.send().await.unwrap()
        }
    };
    for (accept, expected) in [("gzip", "gzip"), ("br, gzip", "br")] {
        let page = get(Some(accept), "/sign-in").await;
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some(expected));
        let json = get(Some(accept), "/api/v1/openapi.json").await;
        assert_eq!(json.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some(expected));
    }
    let plain = get(None, "/sign-in").await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain.text().await.unwrap().contains("<html"), "plain HTML for a client that did not ask");
}
