//! Row-level security seen from outside: a user of tenant A can neither read
//! nor change tenant B's rows, through the UI's server functions or the REST API.
//! (The raw-SQL half of this proof is in `domain/tests/database.rs`.)

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn server_functions_keep_tenants_apart() {
    let app = spawn_app().await;
    let _owner = app.signed_up("owner@platform.test", "Platform").await;
    let a = app.signed_up("ann@alpha.test", "Alpha").await;
    let b = app.signed_up("bob@beta.test", "Beta").await;
    let pa = a.create_project("Alpha ERP").await;
    b.create_project("Beta ERP").await;

    let (_, list) = b.rpc("projects/list", &[]).await;
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Beta ERP"]);
    let (_, err) = b.rpc("projects/get", &[("tenant", "alpha"), ("project", "alpha-erp")]).await;
    assert_eq!(err["code"], "not_found");
    let (_, err) = b
        .rpc(
            "projects/add_member",
            &[("project_id", pa["id"].as_str().unwrap()), ("email", "bob@beta.test"), ("role", "admin")],
        )
        .await;
    assert_eq!(err["code"], "not_found", "{err}");
    let (_, err) = b
        .rpc(
            "projects/create",
            &[
                ("name", "Sneaky"),
                ("repo_url", "https://github.com/acme/x.git"),
                ("odoo_version", "17.0"),
                ("tenant", "alpha"),
            ],
        )
        .await;
    assert_eq!(err["code"], "invalid", "{err}");
    let (_, tenants) = b.rpc("tenants/list", &[]).await;
    assert_eq!(tenants.as_array().unwrap().len(), 1);
    // Ann still sees her project, unchanged.
    let (_, d) = a.rpc("projects/get", &[("tenant", "alpha"), ("project", "alpha-erp")]).await;
    assert_eq!(d["project"]["name"], "Alpha ERP");
    let pa_id = pa["id"].as_str().unwrap();
    let (_, members) = a.rpc("projects/members", &[("project_id", pa_id)]).await;
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    let (_, grid) = a.rpc("builds/list", &[("project_id", pa_id), ("page", "1")]).await;
    assert_eq!(grid["branches"][0]["environment"]["stage"], "production", "{grid}");
}

#[tokio::test]
async fn rest_api_keeps_tenants_apart() {
    let app = spawn_app().await;
    let _owner = app.signed_up("owner@platform.test", "Platform").await;
    let a = app.signed_up("ann@alpha.test", "Alpha").await;
    let b = app.signed_up("bob@beta.test", "Beta").await;
    let pa = a.create_project("Alpha ERP").await;
    let id = pa["id"].as_str().unwrap();
    let bob = app.api(&b.token().await);

    let (status, list) = bob.get("/api/v1/projects").await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().is_empty());
    assert_eq!(bob.get(&format!("/api/v1/projects/{id}")).await.0, 404);
    assert_eq!(bob.get(&format!("/api/v1/projects/{id}/members")).await.0, 404);
    let (status, _) =
        bob.post(&format!("/api/v1/projects/{id}/members"), json!({"email": "bob@beta.test", "role": "admin"})).await;
    assert_eq!(status, 404);
    let (status, _) = bob
        .post("/api/v1/projects", json!({"tenant": "alpha", "name": "X", "repo_url": "https://github.com/acme/x.git", "odoo_version": "17.0"}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = bob.post("/api/v1/tenants", json!({"name": "Mine now"})).await;
    assert_eq!(status, 403, "only platform admins create tenants");

    let ann = app.api(&a.token().await);
    let (status, d) = ann.get(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(d["project"]["name"], "Alpha ERP");
}

#[tokio::test]
async fn members_follow_the_tenant() {
    let app = spawn_app().await;
    let a = app.signed_up("ann@alpha.test", "Alpha").await;
    let _b = app.signed_up("bob@beta.test", "Beta").await;
    let pa = a.create_project("Alpha ERP").await;
    let id = pa["id"].as_str().unwrap();
    let ann = app.api(&a.token().await);
    let (status, err) =
        ann.post(&format!("/api/v1/projects/{id}/members"), json!({"email": "bob@beta.test", "role": "tester"})).await;
    assert_eq!(status, 422, "Bob is not in Alpha: {err}");
    let (status, err) =
        ann.post(&format!("/api/v1/projects/{id}/members"), json!({"email": "ann@alpha.test", "role": "owner"})).await;
    assert_eq!(status, 422, "{err}");
    let me = ann.get("/api/v1/me").await.1;
    let uid = me["id"].as_str().unwrap();
    let (status, err) = ann.call(reqwest::Method::DELETE, &format!("/api/v1/projects/{id}/members/{uid}"), None).await;
    assert_eq!(status, 409, "the last admin stays: {err}");
}
