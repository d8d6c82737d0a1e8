//! Bringing a colleague into a project by email (issue 20), attacked: the
//! project's admins invite only into their own project and only as plain
//! tenant members, developers and outsiders not at all, the answer is the same
//! whether an address has an account, a withdrawn invitation joins no one, and
//! a removed member's access ends at once.

use crate::helpers::{add_project_member, spawn_app};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn project_admins_invite_into_their_own_project_only_and_withdrawn_or_removed_people_are_out() {
    let app = spawn_app().await;
    let _root = app.signed_up("root@ops.test", "Ops").await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let ann_api = app.api(&ann.token().await);
    let project = ann.create_project("ERP").await["id"].as_str().unwrap().to_owned();
    // Dave administers the project without administering its tenant; Carl develops on it.
    let dave = add_project_member(&app, &ann_api, &project, "dave@acme.test", "admin").await;
    let dave_api = app.api(&dave.token().await);
    let carl = add_project_member(&app, &ann_api, &project, "carl@acme.test", "developer").await;
    let carl_api = app.api(&carl.token().await);
    let bob = app.signed_up("bob@bob.test", "Bob's").await;
    let eve = app.signed_up("eve@evil.test", "Evil").await;
    let eve_api = app.api(&eve.token().await);
    let invitations = format!("/api/v1/projects/{project}/invitations");

    // Outsiders get the project's 404, developers a 403, both before anything about the address.
    let (status, _) = eve_api.post(&invitations, json!({"email": "bob@bob.test", "role": "developer"})).await;
    assert_eq!(status, 404);
    let (status, _) = carl_api.post(&invitations, json!({"email": "bob@bob.test", "role": "admin"})).await;
    assert_eq!(status, 403);

    // Someone already in the tenant joins at once; anyone else is invited, the same way whether or not
    // the address has an account.
    let (status, added) =
        dave_api.post(&invitations, json!({"email": "carl@acme.test", "role": "release_manager"})).await;
    assert_eq!((status, added["outcome"].as_str()), (200, Some("added")), "{added}");
    let (status, known) = dave_api.post(&invitations, json!({"email": "bob@bob.test", "role": "developer"})).await;
    assert_eq!(status, 200, "{known}");
    let (_, unknown) = dave_api.post(&invitations, json!({"email": "nobody@nowhere.test", "role": "tester"})).await;
    assert_eq!((known["outcome"].as_str(), known["member"].clone()), (Some("invited"), json!(null)), "{known}");
    assert_eq!((unknown["outcome"].as_str(), unknown["member"].clone()), (Some("invited"), json!(null)), "{unknown}");
    let mails = app.mailer.sent();
    let to_bob: Vec<_> = mails.iter().filter(|m| m.to == "bob@bob.test").collect();
    assert_eq!(to_bob.len(), 1, "{mails:?}");
    assert!(to_bob[0].subject.contains("ERP") && to_bob[0].body.contains("/tenants#invitation-"), "{:?}", to_bob[0]);
    let (_, pending) = dave_api.get(&invitations).await;
    let emails: Vec<&str> = pending.as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap()).collect();
    assert_eq!(emails.len(), 2, "{pending}");
    let (status, _) = carl_api.get(&invitations).await;
    assert_eq!(status, 403, "developers do not read who is invited");

    // Around the domain, as Dave: no tenant-admin invitation, none into another tenant's project,
    // none without a project.
    let dave_id: Uuid = sqlx::query_scalar("SELECT id FROM ops.users WHERE email = 'dave@acme.test'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let acme: Uuid = sqlx::query_scalar("SELECT tenant_id FROM ops.projects WHERE id = $1::uuid")
        .bind(&project)
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let eve_project = eve.create_project("Evil ERP").await["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let evil: Uuid = sqlx::query_scalar("SELECT tenant_id FROM ops.projects WHERE id = $1")
        .bind(eve_project)
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let forge = |tenant: Uuid, role: &'static str, project: Option<Uuid>| {
        let db = app.platform.db.clone();
        async move {
            let mut tx = db.begin_as(domain::types::UserId(dave_id)).await.unwrap();
            sqlx::query(
                "INSERT INTO ops.tenant_invitations (id, tenant_id, email, role, invited_by, project_id, project_role)
                 VALUES ($1, $2, 'mallory@x.test', $3, $4, $5, CASE WHEN $5::uuid IS NULL THEN NULL ELSE 'admin' END)",
            )
            .bind(Uuid::new_v4())
            .bind(tenant)
            .bind(role)
            .bind(dave_id)
            .bind(project)
            .execute(&mut *tx)
            .await
            .map(|_| ())
        }
    };
    let own = project.parse::<Uuid>().unwrap();
    assert!(forge(acme, "tenant_admin", Some(own)).await.is_err(), "a project admin made someone a tenant admin");
    assert!(forge(acme, "member", None).await.is_err(), "a project admin invited into the tenant at large");
    assert!(forge(evil, "member", Some(eve_project)).await.is_err(), "an invitation into another tenant's project");
    assert!(forge(acme, "member", Some(eve_project)).await.is_err(), "a project of another tenant under this one");

    // Bob sees which project invites him, accepts, and is in (tenant member, project developer).
    let (_, mine) = bob.rpc("tenants/invitations", &[]).await;
    let inv = mine.as_array().unwrap().iter().find(|i| i["project_name"] == "ERP").unwrap_or_else(|| panic!("{mine}"));
    assert_eq!(inv["project_role"], "developer", "{mine}");
    let id = inv["id"].as_str().unwrap().to_owned();
    let (status, body) = bob.rpc("tenants/answer_invitation", &[("id", &id), ("accept", "true")]).await;
    assert_eq!(status, 200, "{body}");
    let bob_api = app.api(&bob.token().await);
    let (status, _) = bob_api.get(&format!("/api/v1/projects/{project}")).await;
    assert_eq!(status, 200, "bob joined the project by accepting");
    let role: String = sqlx::query_scalar(
        "SELECT m.role FROM ops.tenant_members m JOIN ops.users u ON u.id = m.user_id WHERE u.email = 'bob@bob.test' AND m.tenant_id = $1",
    )
    .bind(acme)
    .fetch_one(app.platform.db.owner())
    .await
    .unwrap();
    assert_eq!(role, "member", "a project invitation makes a plain tenant member");

    // A withdrawn invitation joins no one, even signed up with the address afterwards.
    let nobody_inv = unknown["invitation"].as_str().unwrap().to_owned();
    let (status, _) = carl_api.call(reqwest::Method::DELETE, &format!("{invitations}/{nobody_inv}"), None).await;
    assert_eq!(status, 403);
    let (status, _) = dave_api.call(reqwest::Method::DELETE, &format!("{invitations}/{nobody_inv}"), None).await;
    assert_eq!(status, 204);
    let nobody = app.signed_up("nobody@nowhere.test", "").await;
    let (_, mine) = nobody.rpc("tenants/invitations", &[]).await;
    assert_eq!(mine, json!([]), "a withdrawn invitation is still offered");
    let (status, _) =
        app.api(&nobody.token().await).post(&format!("/api/v1/invitations/{nobody_inv}/accept"), json!({})).await;
    assert_eq!(status, 404);

    // Removing Bob ends his access at once: the same token reads nothing of the project.
    let bob_id: Uuid = sqlx::query_scalar("SELECT id FROM ops.users WHERE email = 'bob@bob.test'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let (status, _) =
        dave_api.call(reqwest::Method::DELETE, &format!("/api/v1/projects/{project}/members/{bob_id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = bob_api.get(&format!("/api/v1/projects/{project}")).await;
    assert_eq!(status, 404, "a removed member still reads the project");

    // One audit event per action.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM ops.audit_events WHERE action IN ('project.member_invite', 'project.invitation_revoke') ORDER BY id",
    )
    .fetch_all(app.platform.db.owner())
    .await
    .unwrap();
    assert_eq!(actions, ["project.member_invite", "project.member_invite", "project.invitation_revoke"]);
}
