//! Attacks on tenant membership (security review SEC-17): every sign-up
//! administers a tenant of its own, so "tenant admin" is anyone. Such a
//! person used to add any existing account (the system account included) to
//! their tenant without asking, and the answer told them which emails have an
//! account. Now membership is an invitation its invitee accepts, rights are
//! checked before anything about the address, and known and unknown
//! addresses get the same answer.

use crate::helpers::{spawn_app, Api};
use serde_json::{json, Value};
use uuid::Uuid;

async fn invite(api: &Api<'_>, tenant: &str, email: &str) -> (u16, Value) {
    invite_as(api, tenant, email, "tenant_admin").await
}

async fn invite_as(api: &Api<'_>, tenant: &str, email: &str, role: &str) -> (u16, Value) {
    api.post(&format!("/api/v1/tenants/{tenant}/members"), json!({"email": email, "role": role})).await
}

async fn members(app: &crate::helpers::TestApp, tenant: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT u.email FROM ops.tenant_members m JOIN ops.users u ON u.id = m.user_id WHERE m.tenant_id = $1::uuid ORDER BY 1",
    )
    .bind(tenant)
    .fetch_all(app.platform.db.owner())
    .await
    .unwrap()
}

#[tokio::test]
async fn nobody_joins_a_tenant_without_accepting_and_invitations_reveal_no_accounts() {
    let app = spawn_app().await;
    let _root = app.signed_up("root@ops.test", "Ops").await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let ann_api = app.api(&ann.token().await);
    let (_, tenants) = ann_api.get("/api/v1/tenants").await;
    let acme = tenants[0]["id"].as_str().unwrap().to_owned();
    let bob = app.signed_up("bob@bob.test", "Bob's").await;
    let eve = app.signed_up("eve@evil.test", "Evil").await;
    let eve_api = app.api(&eve.token().await);
    let (_, tenants) = eve_api.get("/api/v1/tenants").await;
    let evil = tenants[0]["id"].as_str().unwrap().to_owned();

    // Someone else's tenant, or one that does not exist: the same 404 for a known and an unknown address.
    for tenant in [acme.clone(), Uuid::new_v4().to_string()] {
        let known = invite(&eve_api, &tenant, "bob@bob.test").await;
        let unknown = invite(&eve_api, &tenant, "nobody@nowhere.test").await;
        assert_eq!(known.0, 404, "{known:?}");
        assert_eq!(known, unknown, "the answer tells whether an account exists");
    }
    // In her own tenant: an invitation, the same for everyone, and nobody joins by it.
    let known = invite(&eve_api, &evil, "bob@bob.test").await;
    let unknown = invite(&eve_api, &evil, "nobody@nowhere.test").await;
    let system = invite(&eve_api, &evil, "system@odooops.invalid").await;
    assert_eq!(known.0, 202, "{known:?}");
    assert_eq!(known, unknown, "the answer tells whether an account exists");
    assert_eq!(known, system);
    assert_eq!(members(&app, &evil).await, ["eve@evil.test"], "nobody joined without saying yes");
    // Each invitee is mailed, the same words whether or not the address has an
    // account; refused invitations mail no one.
    let mails = app.mailer.sent();
    let to = |addr: &str| {
        mails.iter().filter(|m| m.to == addr).map(|m| (m.subject.clone(), m.body.clone())).collect::<Vec<_>>()
    };
    assert_eq!(to("bob@bob.test").len(), 1, "{mails:?}");
    assert_eq!(to("bob@bob.test"), to("nobody@nowhere.test"), "the mail tells whether an account exists");
    assert!(to("bob@bob.test")[0].1.contains(&format!("{}/tenants", app.addr)), "{mails:?}");
    assert_eq!(mails.len(), 3, "only the three invitations into Eve's own tenant were mailed: {mails:?}");

    // Bob sees the invitation, declines it, and stays out; Eve cannot answer for him.
    let (_, pending) = bob.rpc("tenants/invitations", &[]).await;
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["tenant_name"], "Evil", "{pending}");
    let id = pending[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = eve_api.post(&format!("/api/v1/invitations/{id}/accept"), json!({})).await;
    assert_eq!(status, 404, "an invitation is answered by its invitee only");
    let (_, answer) = bob.rpc("tenants/answer_invitation", &[("id", &id), ("accept", "false")]).await;
    assert_eq!(answer, Value::Null, "{answer}");
    assert_eq!(members(&app, &evil).await, ["eve@evil.test"]);
    let (status, _) = app.api(&bob.token().await).post(&format!("/api/v1/invitations/{id}/accept"), json!({})).await;
    assert_eq!(status, 404, "a declined invitation cannot be accepted later");

    // A member who is not a tenant admin may not invite either (before any lookup).
    let (_, pending) = eve.rpc("tenants/invitations", &[]).await;
    assert_eq!(pending, json!([]));
    let (status, _) = invite_as(&ann_api, &acme, "eve@evil.test", "member").await;
    assert_eq!(status, 202);
    let (_, pending) = eve.rpc("tenants/invitations", &[]).await;
    let id = pending[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = eve_api.post(&format!("/api/v1/invitations/{id}/accept"), json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(members(&app, &acme).await, ["ann@acme.test", "eve@evil.test"]);
    let known = invite(&eve_api, &acme, "bob@bob.test").await;
    let unknown = invite(&eve_api, &acme, "nobody@nowhere.test").await;
    assert_eq!(known.0, 403, "{known:?}");
    assert_eq!(known, unknown);

    // And no one writes the membership table around the invitation.
    let eve_id: Uuid = sqlx::query_scalar("SELECT id FROM ops.users WHERE email = 'eve@evil.test'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let bob_id: Uuid = sqlx::query_scalar("SELECT id FROM ops.users WHERE email = 'bob@bob.test'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let mut tx = app.platform.db.begin_as(domain::types::UserId(eve_id)).await.unwrap();
    let forced = sqlx::query("INSERT INTO ops.tenant_members (tenant_id, user_id, role) VALUES ($1, $2, 'member')")
        .bind(evil.parse::<Uuid>().unwrap())
        .bind(bob_id)
        .execute(&mut *tx)
        .await;
    assert!(forced.is_err(), "a tenant admin wrote someone into her tenant without their consent");
}
