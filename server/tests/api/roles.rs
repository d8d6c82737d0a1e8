//! The platform roles, table-driven (issue 15): platform_owner (everything,
//! and granting roles), platform_operator (everything but granting roles),
//! auditor (reads everything, changes nothing), finance_owner (billing only),
//! a tenant admin (their tenant) and someone of another tenant. Each row is
//! one route; each column what a role gets. The roles are granted through
//! the owners' own endpoint, and the last owner cannot be removed. Pages are
//! checked as rendered on the server: what each role reads there is what
//! PostgreSQL's row-level security let through.

use crate::helpers::{spawn_app, Browser};
use serde_json::{json, Value};

const ROLES: [&str; 6] = ["owner", "operator", "auditor", "finance", "tenant_admin", "outsider"];

/// (method, path, body, status for each of `ROLES`).
fn table() -> Vec<(&'static str, &'static str, Option<Value>, [u16; 6])> {
    vec![
        ("GET", "/api/v1/platform/roles", None, [200, 200, 200, 403, 403, 403]),
        (
            "PUT",
            "/api/v1/platform/roles",
            Some(json!({"email": "nobody@nowhere.test", "role": "auditor"})),
            [404, 403, 403, 403, 403, 403],
        ),
        ("GET", "/api/v1/billing/subscriptions", None, [200, 200, 200, 200, 200, 200]),
        ("GET", "/api/v1/plans", None, [200, 200, 200, 200, 200, 200]),
        ("GET", "/api/v1/tenant-drafts", None, [200, 200, 403, 403, 403, 403]),
        ("POST", "/api/v1/tenant-drafts", Some(json!({})), [201, 201, 403, 403, 403, 403]),
        ("POST", "/api/v1/tenants", Some(json!({"name": ""})), [422, 422, 403, 403, 403, 403]),
        (
            "POST",
            "/api/v1/catalog/sources",
            Some(json!({"name": "x", "repo_url": "file:///nope", "series": ["17.0"]})),
            [422, 422, 403, 403, 403, 403],
        ),
        ("GET", "/api/v1/audit/verify", None, [200, 200, 200, 403, 403, 403]),
        ("GET", "/api/v1/instances", None, [200, 200, 200, 200, 200, 200]),
        // Automation: a tenant's admins and staff subscribe; auditors and finance read or see nothing; others never see it.
        ("GET", "/api/v1/fleet/capacity", None, [200, 200, 200, 403, 403, 403]),
        ("GET", "/api/v1/webhooks", None, [200, 200, 200, 200, 200, 200]),
        (
            "POST",
            "/api/v1/webhooks",
            Some(json!({"tenant": "bobco", "url": "https://hooks.bobco.example/in", "events": ["operation.failed"]})),
            [201, 201, 403, 403, 201, 404],
        ),
        ("GET", "/api/v1/webhook-deliveries", None, [200, 200, 200, 200, 200, 200]),
        (
            "PUT",
            "/api/v1/analytics/bobco",
            Some(json!({"supabase_ref": "abcdefghijklmnopqrst", "dashboards": []})),
            [200, 200, 403, 404, 200, 404],
        ),
        // Deleting a tenant is the owners' alone (operators run everything else).
        ("DELETE", "/api/v1/fleet/tenants/no-such-tenant", None, [404, 403, 403, 403, 403, 403]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_platform_role_gets_what_the_matrix_says_on_every_route() {
    let app = spawn_app().await;
    let owner_b = app.signed_up("ann@platform.test", "Platform").await;
    let owner = app.api(&owner_b.token().await);
    let mut browsers: Vec<Browser<'_>> = vec![owner_b];
    for (email, org) in [
        ("otto@platform.test", ""),
        ("audra@audit.test", ""),
        ("fiona@finance.test", ""),
        ("bob@bobco.test", "Bobco"),
        ("max@maxco.test", "Maxco"),
    ] {
        browsers.push(app.signed_up(email, org).await);
    }
    // Roles are granted by the owner, through the API, to proven addresses only (else whoever signed up
    // first with an address would get its role); a stranger's role is refused, the last owner stays.
    let early = json!({"email": "otto@platform.test", "role": "platform_operator"});
    let (status, body) = owner.call(reqwest::Method::PUT, "/api/v1/platform/roles", Some(early)).await;
    assert_eq!(status, 422, "an unconfirmed address gets no role: {body}");
    sqlx::query(
        "UPDATE ops.users SET email_verified_at = now() WHERE email LIKE '%@platform.test' OR email LIKE '%.test'",
    )
    .execute(app.platform.db.owner())
    .await
    .unwrap();
    for (email, role) in [
        ("otto@platform.test", "platform_operator"),
        ("audra@audit.test", "auditor"),
        ("fiona@finance.test", "finance_owner"),
    ] {
        let (status, body) = owner
            .call(reqwest::Method::PUT, "/api/v1/platform/roles", Some(json!({"email": email, "role": role})))
            .await;
        assert_eq!(status, 204, "{email}: {body}");
    }
    let bad = json!({"email": "bob@bobco.test", "role": "superuser"});
    assert_eq!(owner.call(reqwest::Method::PUT, "/api/v1/platform/roles", Some(bad)).await.0, 422);
    let demote = json!({"email": "ann@platform.test", "role": "auditor"});
    let (status, body) = owner.call(reqwest::Method::PUT, "/api/v1/platform/roles", Some(demote)).await;
    assert_eq!(status, 409, "{body}");
    let (_, listed) = owner.get("/api/v1/platform/roles").await;
    let roles: Vec<&str> = listed.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["auditor", "finance_owner", "platform_operator", "platform_owner"], "{listed}");
    // Bobco has a subscription (the wizard's record).
    sqlx::query(
        "INSERT INTO ops.subscriptions (id, tenant_id, plan, status, started_at)
         SELECT gen_random_uuid(), id, 'standard', 'active', now() FROM ops.tenants WHERE slug = 'bobco'",
    )
    .execute(app.platform.db.owner())
    .await
    .unwrap();

    let mut apis = Vec::new();
    for b in &browsers {
        apis.push(app.api(&b.token().await));
    }
    let mut wrong = Vec::new();
    for (method, path, body, expected) in table() {
        for (i, role) in ROLES.iter().enumerate() {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let (status, answer) = apis[i].call(m, path, body.clone()).await;
            if status != expected[i] {
                wrong.push(format!("{method} {path} as {role}: {status} (expected {}) {answer}", expected[i]));
            }
        }
    }
    assert!(wrong.is_empty(), "the role matrix does not hold:\n{}", wrong.join("\n"));

    // What each role reads: every subscription for staff, auditors and finance; its own for a tenant.
    let seen: Vec<usize> = {
        let mut v = Vec::new();
        for api in &apis {
            v.push(api.get("/api/v1/billing/subscriptions").await.1.as_array().unwrap().len());
        }
        v
    };
    assert_eq!(seen, [1, 1, 1, 1, 1, 0]);
    // Finance sees tenants (whom it bills), nothing below them.
    assert_eq!(apis[3].get("/api/v1/projects").await.1, json!([]));

    // A tenant's page: staff see its people; finance its row and subscription, not its people;
    // another tenant nothing at all.
    let (status, page) = browsers[0].rpc("fleet/tenant", &[("slug", "bobco")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["members"][0]["email"], "bob@bobco.test");
    assert_eq!(page["subscription"]["plan"], "standard");
    let (_, page) = browsers[3].rpc("fleet/tenant", &[("slug", "bobco")]).await;
    assert_eq!(
        (page["members"].clone(), page["subscription"]["plan"].clone()),
        (json!([]), json!("standard")),
        "{page}"
    );
    assert_eq!(browsers[5].rpc("fleet/tenant", &[("slug", "bobco")]).await.0, 404);
    let (_, own) = browsers[4].rpc("fleet/tenant", &[("slug", "bobco")]).await;
    assert!(
        own["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "tenant.create" || e["action"] == "account.sign_up"),
        "{own}"
    );

    // Plan changes: finance proposes, only an owner decides; approval moves the subscription.
    let proposal = json!({"tenant": "bobco", "to_plan": "business", "reason": "They grew."});
    assert_eq!(apis[1].post("/api/v1/billing/plan-changes", proposal.clone()).await.0, 403, "operators do not propose");
    let (status, change) = apis[3].post("/api/v1/billing/plan-changes", proposal.clone()).await;
    assert_eq!(status, 201, "{change}");
    assert_eq!(apis[3].post("/api/v1/billing/plan-changes", proposal).await.0, 409, "one waiting proposal per tenant");
    let decide = format!("/api/v1/billing/plan-changes/{}/decide", change["id"].as_str().unwrap());
    assert_eq!(apis[3].post(&decide, json!({"approve": true})).await.0, 403, "finance does not approve its own");
    let (status, decided) = apis[0].post(&decide, json!({"approve": true})).await;
    assert_eq!((status, decided["state"].as_str()), (200, Some("approved")), "{decided}");
    assert_eq!(apis[0].post(&decide, json!({"approve": false})).await.0, 404, "decided once");
    let (_, subs) = apis[4].get("/api/v1/billing/subscriptions").await;
    assert_eq!(subs[0]["plan"], "business", "{subs}");
    assert_eq!(apis[5].get("/api/v1/billing/plan-changes").await.1, json!([]), "another tenant sees none");

    // The pages, as the server renders them for each role.
    let billing = browsers[3].get("/billing").await.text().await.unwrap();
    assert!(billing.contains("bobco") && billing.contains("Business"), "finance reads billing");
    let outsider = browsers[5].get("/billing").await.text().await.unwrap();
    assert!(outsider.contains("billing-empty") && !outsider.contains("bobco"), "another tenant reads none of it");
    for (i, expected) in [(0, true), (1, true), (2, false), (3, false), (4, false), (5, false)] {
        let page = browsers[i].get("/tenants/new").await.text().await.unwrap();
        assert_eq!(page.contains("wizard-begin"), expected, "the wizard as {}", ROLES[i]);
    }

    // Deleting a tenant: not by an operator, not by its own admin; by an owner, audited, and it is gone.
    assert_eq!(apis[1].call(reqwest::Method::DELETE, "/api/v1/fleet/tenants/maxco", None).await.0, 403);
    assert_eq!(apis[5].call(reqwest::Method::DELETE, "/api/v1/fleet/tenants/maxco", None).await.0, 403);
    let (status, body) = apis[0].call(reqwest::Method::DELETE, "/api/v1/fleet/tenants/maxco", None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(apis[0].get("/api/v1/fleet/tenants/maxco").await.0, 404);
    let (_, audit) = apis[0].get("/api/v1/audit?action=tenant.delete").await;
    assert!(audit.to_string().contains("tenant:maxco"), "{audit}");
}
