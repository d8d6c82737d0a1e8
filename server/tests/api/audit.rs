//! The audit trail over REST: filters, CSV export, and verification that
//! finds a row edited behind the application's back (as superuser).

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn the_trail_filters_exports_and_proves_it_was_not_edited() {
    let app = spawn_app().await;
    let owner = app.signed_up("root@ops.test", "Ops").await;
    let api = app.api(&owner.token().await);
    for name in ["One", "Two"] {
        let (status, body) = api
            .post(
                "/api/v1/projects",
                json!({"name": name, "repo_url": "https://github.com/acme/addons.git", "odoo_version": "17.0"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, projects) = api.get("/api/v1/audit?action=project.").await;
    let list = projects.as_array().unwrap();
    assert!(
        list.len() >= 2 && list.iter().all(|e| e["action"].as_str().unwrap().starts_with("project.")),
        "{projects}"
    );
    let (_, nobody) = api.get("/api/v1/audit?actor=nobody-at-all").await;
    assert_eq!(nobody, json!([]));
    let (_, future) = api.get("/api/v1/audit?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future, json!([]));

    let r = api
        .http
        .get(format!("{}/api/v1/audit/export.csv?action=project.", app.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("id,at,actor,action,target,tenant_id,project_id,ip,summary"));
    assert_eq!(lines.filter(|l| l.contains("project.create")).count(), 2, "{csv}");

    let (status, v) = api.get("/api/v1/audit/verify").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["intact"], true, "{v}");

    // As superuser, around the append-only trigger, edit one event.
    let owner_pool = app.platform.db.owner();
    let mut tx = owner_pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE ops.audit_events DISABLE TRIGGER audit_append_only").execute(&mut *tx).await.unwrap();
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM ops.audit_events WHERE action = 'project.create' ORDER BY id LIMIT 1")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    sqlx::query("UPDATE ops.audit_events SET target = 'project:forged' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE ops.audit_events ENABLE TRIGGER audit_append_only").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let (_, v) = api.get("/api/v1/audit/verify").await;
    assert_eq!((v["intact"].clone(), v["broken_at"].clone()), (json!(false), json!(id)), "{v}");

    // Someone without a platform role may not run the verification.
    let member = app.signed_up("ann@acme.test", "Acme").await;
    let member = app.api(&member.token().await);
    let (status, _) = member.get("/api/v1/audit/verify").await;
    assert_eq!(status, 403);
}

/// Every mutating REST operation, with the audit action it writes and its
/// entry in the role matrix (see [`matrix_entry_is_known`]). A new route fails
/// `every_mutation_is_listed_with_its_audit_action` until it is here.
const REST: &[(&str, &str, &str, &str)] = &[
    ("POST", "/api/v1/tokens", "token.create", "self"),
    ("DELETE", "/api/v1/tokens/{id}", "token.revoke", "self"),
    ("POST", "/api/v1/tenants", "tenant.create", "platform_admin"),
    ("POST", "/api/v1/tenants/{id}/members", "tenant.member_invite", "tenant_admin"),
    ("POST", "/api/v1/invitations/{id}/accept", "tenant.invitation_accept", "self"),
    ("POST", "/api/v1/invitations/{id}/decline", "tenant.invitation_decline", "self"),
    ("POST", "/api/v1/projects", "project.create", "tenant_admin"),
    ("POST", "/api/v1/projects/{id}/members", "project.member_set", "project:manage_members"),
    ("DELETE", "/api/v1/projects/{id}/members/{user_id}", "project.member_remove", "project:manage_members"),
    ("POST", "/api/v1/projects/{id}/invitations", "project.member_invite", "project:manage_members"),
    ("POST", "/api/v1/environments/{id}/build", "build.now", "stage:upgrade"),
    ("POST", "/api/v1/environments/{id}/fork", "branch.fork", "stage:upgrade"),
    ("DELETE", "/api/v1/environments/{id}", "branch.delete", "stage:branch_settings"),
    (
        "DELETE",
        "/api/v1/projects/{id}/invitations/{invitation_id}",
        "project.invitation_revoke",
        "project:manage_members",
    ),
    ("PATCH", "/api/v1/projects/{id}/settings", "project.build_settings", "project:project_settings"),
    ("POST", "/api/v1/projects/{id}/domains", "project.domain_add", "project:project_settings"),
    ("POST", "/api/v1/projects/{id}/domains/{domain_id}/verify", "project.domain_verify", "project:project_settings"),
    ("DELETE", "/api/v1/projects/{id}/domains/{domain_id}", "project.domain_remove", "project:project_settings"),
    ("PATCH", "/api/v1/projects/{id}/alert-rules/{rule_id}", "alert.rule_change", "project:project_settings"),
    ("POST", "/api/v1/projects/{id}/alert-channels", "alert.channel_add", "project:project_settings"),
    ("DELETE", "/api/v1/projects/{id}/alert-channels/{channel_id}", "alert.channel_remove", "project:project_settings"),
    (
        "POST",
        "/api/v1/projects/{id}/alert-channels/{channel_id}/test",
        "alert.channel_test",
        "project:project_settings",
    ),
    ("PATCH", "/api/v1/environments/{id}", "environment.stage", "project:project_settings"),
    ("POST", "/api/v1/builds/{id}/rebuild", "build.rebuild", "stage:upgrade"),
    ("POST", "/api/v1/builds/{id}/kill", "build.kill", "stage:upgrade"),
    ("POST", "/api/v1/builds/{id}/share", "build.share", "stage:connect"),
    ("POST", "/api/v1/builds/{id}/shell", "shell.open", "stage:shell"),
    ("POST", "/api/v1/me/ssh-keys", "ssh_key.add", "self"),
    ("DELETE", "/api/v1/me/ssh-keys/{id}", "ssh_key.remove", "self"),
    ("DELETE", "/api/v1/environments/{id}/mails", "mail.delete", "stage:mails"),
    ("DELETE", "/api/v1/environments/{id}/mails/{mail}", "mail.delete", "stage:mails"),
    ("POST", "/api/v1/environments/{id}/backups", "backup.create", "stage:backups"),
    ("POST", "/api/v1/environments/{id}/imports", "backup.import", "stage:upgrade"),
    ("POST", "/api/v1/backups/{id}/restore", "backup.restore", "stage:upgrade"),
    // A production restore waiting for approval: a second person with release rights restores.
    ("POST", "/api/v1/restore-requests/{id}/approve", "backup.restore_production", "project:promote"),
    ("POST", "/api/v1/restore-requests/{id}/reject", "backup.restore_reject", "project:promote"),
    ("PATCH", "/api/v1/projects/{id}/backup-settings", "backup.settings", "project:project_settings"),
    ("POST", "/api/v1/builds/{id}/promote", "promotion.request", "project:request_promotion"),
    ("POST", "/api/v1/promotions/{id}/approve", "promotion.approve", "project:promote"),
    ("POST", "/api/v1/promotions/{id}/reject", "promotion.reject", "project:promote"),
    ("POST", "/api/v1/projects/{id}/rollback", "production.rollback", "project:promote"),
    // A preview copies production: the upgrade tool of production's stage.
    ("POST", "/api/v1/projects/{id}/upgrade-previews", "upgrade.preview", "stage:upgrade"),
    // An upgrade is a promotion of the preview's build: someone else approves it.
    ("POST", "/api/v1/upgrade-previews/{id}/upgrade", "upgrade.request", "stage:upgrade"),
    ("PATCH", "/api/v1/projects/{id}/release-settings", "project.release_settings", "project:project_settings"),
    ("POST", "/api/v1/instances", "instance.create", "tenant_admin"),
    ("POST", "/api/v1/instances/{id}/operations", "instance.operation", "tenant_admin"),
    ("POST", "/api/v1/instances/{id}/domains", "instance.domain_add", "tenant_admin"),
    ("POST", "/api/v1/instances/{id}/domains/{domain_id}/verify", "instance.domain_verify", "tenant_admin"),
    ("DELETE", "/api/v1/instances/{id}/domains/{domain_id}", "instance.domain_remove", "tenant_admin"),
    ("POST", "/api/v1/catalog/sources", "catalog.source_add", "platform_admin"),
    ("POST", "/api/v1/catalog/sources/{id}/refresh", "catalog.refresh", "platform_admin"),
    ("DELETE", "/api/v1/catalog/sources/{id}", "catalog.source_remove", "platform_admin"),
    ("POST", "/api/v1/bundles", "bundle.save", "tenant_admin"),
    ("PUT", "/api/v1/bundles/{id}", "bundle.save", "tenant_admin"),
    ("DELETE", "/api/v1/bundles/{id}", "bundle.delete", "tenant_admin"),
    // Computes a closure; stores nothing.
    ("POST", "/api/v1/bundles/closure", "read", "self"),
    // The wizard's drafts are their author's scratch data: Create is the privileged act.
    ("POST", "/api/v1/tenant-drafts", "read", "platform_admin"),
    ("DELETE", "/api/v1/tenant-drafts/{id}", "read", "platform_admin"),
    ("PUT", "/api/v1/tenant-drafts/{id}/steps/{step}", "read", "platform_admin"),
    ("POST", "/api/v1/tenant-drafts/{id}/sso-test", "read", "platform_admin"),
    ("POST", "/api/v1/tenant-drafts/{id}/create", "tenant.create", "platform_admin"),
    ("POST", "/api/v1/tenant-drafts/closure", "read", "platform_admin"),
    ("PUT", "/api/v1/platform/roles", "platform.role_set", "platform_owner"),
    ("PATCH", "/api/v1/platform/settings", "platform.settings", "platform_owner"),
    ("POST", "/api/v1/billing/plan-changes", "plan_change.propose", "finance_owner"),
    ("POST", "/api/v1/billing/plan-changes/{id}/decide", "plan_change.decide", "platform_owner"),
    ("PUT", "/api/v1/runbooks", "runbook.save", "platform_admin"),
    ("POST", "/api/v1/support/requests", "support.request_open", "tenant_member"),
    ("POST", "/api/v1/support/requests/{id}/state", "support.request_state", "platform_admin"),
    ("DELETE", "/api/v1/fleet/tenants/{slug}", "tenant.delete", "platform_owner"),
    ("POST", "/api/v1/webhooks", "webhook.create", "tenant_admin"),
    ("PATCH", "/api/v1/webhooks/{id}", "webhook.update", "tenant_admin"),
    ("DELETE", "/api/v1/webhooks/{id}", "webhook.delete", "tenant_admin"),
    ("POST", "/api/v1/webhooks/{id}/test", "webhook.test", "tenant_admin"),
    ("POST", "/api/v1/webhook-deliveries/{id}/retry", "webhook.retry", "tenant_admin"),
    ("PUT", "/api/v1/analytics/{slug}", "tenant.analytics", "tenant_admin"),
    ("POST", "/api/v1/supabase/links", "supabase.link", "tenant_admin"),
    ("DELETE", "/api/v1/supabase/links/{id}", "supabase.unlink", "tenant_admin"),
    // Accepting a warning is the project admins'; waiving a failure platform staff's (checked in the domain).
    ("PUT", "/api/v1/projects/{id}/preflight/{gate}", "preflight.override", "project:project_settings"),
    // The kit's local mode: one event per call, reads included; never production for writes.
    ("POST", "/api/v1/builds/{id}/database/query", "kit.local_call", "stage:shell"),
    ("POST", "/api/v1/builds/{id}/database/query/read-only", "kit.local_call", "stage:shell"),
];

/// Every server function (all are POSTs): the audit action it writes, or
/// `read` for the ones that change nothing that matters, and the matrix entry
/// of the ones that change something.
const RPC: &[(&str, &str, &str)] = &[
    ("audit/list", "read", "read"),
    ("auth/me", "read", "read"),
    // Sends the link; confirming it is audited.
    ("auth/request_verification", "read", "read"),
    ("auth/verify_email", "account.verify_email", "anonymous"),
    // Anonymous, and changes no account: the reset itself is audited.
    ("auth/request_reset", "read", "read"),
    ("auth/setup_required", "read", "read"),
    ("auth/reset_password", "account.password_reset", "anonymous"),
    ("auth/sign_in", "account.sign_in", "anonymous"),
    ("auth/sign_out", "account.sign_out", "self"),
    ("auth/sign_up", "account.sign_up", "anonymous"),
    ("backups/context", "read", "read"),
    ("backups/create", "backup.create", "stage:backups"),
    ("backups/list", "read", "read"),
    ("backups/restore", "backup.restore", "stage:upgrade"),
    ("backups/restore_requests", "read", "read"),
    ("upgrades/previews", "read", "read"),
    ("upgrades/preview", "upgrade.preview", "stage:upgrade"),
    ("upgrades/request", "upgrade.request", "stage:upgrade"),
    ("backups/approve_restore", "backup.restore_production", "project:promote"),
    ("backups/reject_restore", "backup.restore_reject", "project:promote"),
    ("backups/settings", "read", "read"),
    ("backups/settings/save", "backup.settings", "project:project_settings"),
    ("builds/get", "read", "read"),
    ("bundles/closure", "read", "read"),
    ("bundles/delete", "bundle.delete", "tenant_admin"),
    ("bundles/get", "read", "read"),
    ("bundles/list", "read", "read"),
    ("bundles/save", "bundle.save", "tenant_admin"),
    ("catalog/add_source", "catalog.source_add", "platform_admin"),
    ("catalog/module", "read", "read"),
    ("catalog/refresh", "catalog.refresh", "platform_admin"),
    ("catalog/remove_source", "catalog.source_remove", "platform_admin"),
    ("catalog/search", "read", "read"),
    ("catalog/sources", "read", "read"),
    ("builds/kill", "build.kill", "stage:upgrade"),
    ("builds/list", "read", "read"),
    ("builds/rebuild", "build.rebuild", "stage:upgrade"),
    ("builds/share", "build.share", "stage:connect"),
    ("builds/webhook", "read", "read"),
    ("console_mail/get", "console_mail.read", "platform_owner"),
    ("console_mail/list", "read", "read"),
    ("mails/delete", "mail.delete", "stage:mails"),
    // Marks the message read, nothing else.
    ("mails/get", "read", "read"),
    ("mails/list", "read", "read"),
    ("instances/available", "read", "read"),
    ("instances/create", "instance.create", "tenant_admin"),
    ("instances/domain_add", "instance.domain_add", "tenant_admin"),
    ("instances/domain_remove", "instance.domain_remove", "tenant_admin"),
    ("instances/domain_verify", "instance.domain_verify", "tenant_admin"),
    ("instances/domains", "read", "read"),
    ("instances/get", "read", "read"),
    ("instances/list", "read", "read"),
    ("instances/members", "read", "read"),
    ("instances/operate", "instance.operation", "tenant_admin"),
    ("instances/operations", "read", "read"),
    ("instances/plans", "read", "read"),
    // Measures storage (kept by the system, not the caller): a read.
    ("instances/usage", "read", "read"),
    ("builds/build_now", "build.now", "stage:upgrade"),
    ("builds/fork_branch", "branch.fork", "stage:upgrade"),
    ("builds/delete_branch", "branch.delete", "stage:branch_settings"),
    ("builds/branch_history", "read", "read"),
    ("projects/add_member", "project.member_set", "project:manage_members"),
    ("projects/invitations", "read", "read"),
    ("projects/invite", "project.member_invite", "project:manage_members"),
    ("projects/members", "read", "read"),
    ("projects/remove_member", "project.member_remove", "project:manage_members"),
    ("projects/revoke_invitation", "project.invitation_revoke", "project:manage_members"),
    ("projects/build_settings", "read", "read"),
    ("projects/create", "project.create", "tenant_admin"),
    ("projects/get", "read", "read"),
    ("projects/list", "read", "read"),
    ("projects/save_build_settings", "project.build_settings", "project:project_settings"),
    ("alerts/change_rule", "alert.rule_change", "project:project_settings"),
    ("alerts/add_channel", "alert.channel_add", "project:project_settings"),
    ("alerts/remove_channel", "alert.channel_remove", "project:project_settings"),
    ("alerts/test_channel", "alert.channel_test", "project:project_settings"),
    ("alerts/page", "read", "read"),
    ("monitoring/environment", "read", "read"),
    ("monitoring/fleet", "read", "read"),
    ("monitoring/logs", "read", "read"),
    ("projects/set_stage", "environment.stage", "project:project_settings"),
    ("promotions/approve", "promotion.approve", "project:promote"),
    ("promotions/list", "read", "read"),
    ("promotions/reject", "promotion.reject", "project:promote"),
    ("promotions/request", "promotion.request", "project:request_promotion"),
    ("promotions/rollback", "production.rollback", "project:promote"),
    ("shells/list", "read", "read"),
    ("shells/open", "shell.open", "stage:shell"),
    ("shells/ssh_command", "read", "read"),
    ("shells/transcript", "read", "read"),
    ("ssh_keys/add", "ssh_key.add", "self"),
    ("ssh_keys/list", "read", "read"),
    ("ssh_keys/remove", "ssh_key.remove", "self"),
    ("system/status", "read", "read"),
    // Writes tenant.invitation_accept or tenant.invitation_decline.
    ("start/sign_up", "account.sign_up", "anonymous"),
    ("tenants/answer_invitation", "tenant.invitation_accept", "self"),
    ("tenants/create", "tenant.create", "platform_admin"),
    ("wizard/start", "read", "read"),
    ("wizard/get", "read", "read"),
    ("wizard/list", "read", "read"),
    ("wizard/save", "read", "read"),
    ("wizard/discard", "read", "read"),
    ("wizard/slug", "read", "read"),
    ("wizard/closure", "read", "read"),
    ("wizard/test_sso", "read", "read"),
    ("wizard/create", "tenant.create", "platform_admin"),
    ("fleet/tenants", "read", "read"),
    ("fleet/tenant", "read", "read"),
    ("fleet/findings", "read", "read"),
    ("fleet/sso", "read", "read"),
    ("platform/roles", "read", "read"),
    ("platform/set_role", "platform.role_set", "platform_owner"),
    ("platform/settings", "read", "read"),
    ("billing/plan_changes", "read", "read"),
    ("billing/propose", "plan_change.propose", "finance_owner"),
    ("billing/decide", "plan_change.decide", "platform_owner"),
    ("platform/save_settings", "platform.settings", "platform_owner"),
    ("support/runbooks", "read", "read"),
    ("support/save_runbook", "runbook.save", "platform_admin"),
    ("support/requests", "read", "read"),
    ("support/open", "support.request_open", "tenant_member"),
    ("support/answer", "support.request_state", "platform_admin"),
    ("integrations/webhooks", "read", "read"),
    ("integrations/create_webhook", "webhook.create", "tenant_admin"),
    ("integrations/set_webhook_active", "webhook.update", "tenant_admin"),
    ("integrations/delete_webhook", "webhook.delete", "tenant_admin"),
    ("integrations/test_webhook", "webhook.test", "tenant_admin"),
    ("integrations/deliveries", "read", "read"),
    ("integrations/retry_delivery", "webhook.retry", "tenant_admin"),
    ("integrations/analytics", "read", "read"),
    ("integrations/save_analytics", "tenant.analytics", "tenant_admin"),
    ("integrations/delete_tenant", "tenant.delete", "platform_owner"),
    ("builds/preflight_override", "preflight.override", "project:project_settings"),
    ("integrations/supabase_links", "read", "read"),
    ("integrations/link_supabase", "supabase.link", "tenant_admin"),
    ("integrations/unlink_supabase", "supabase.unlink", "tenant_admin"),
    ("fleet/operations", "read", "read"),
    ("fleet/capacity", "read", "read"),
    ("fleet/subscriptions", "read", "read"),
    ("tenants/invitations", "read", "read"),
    ("tenants/invite", "tenant.member_invite", "tenant_admin"),
    ("tenants/list", "read", "read"),
    ("tokens/create", "token.create", "self"),
    ("tokens/list", "read", "read"),
    ("tokens/revoke", "token.revoke", "self"),
];

/// Every WebSocket, with its entry in the role matrix: checked before the upgrade.
const SOCKETS: &[(&str, &str)] = &[
    ("/api/v1/builds/{id}/events/ws", "stage:logs"),
    ("/api/v1/environments/{id}/mails/ws", "stage:mails"),
    ("/api/v1/environments/{id}/monitor/ws", "stage:monitor"),
    // The session's owner only; opening it was `stage:shell`.
    ("/api/v1/shells/{id}/ws", "self"),
];

/// Who may use a route: `anonymous`, `self` (the caller's own account),
/// `tenant_member` (anyone in the tenant), `tenant_admin`, `platform_admin`, `platform_owner`, `project:<capability>` (project-level
/// rows of the matrix) or `stage:<capability>` (the matrix on the stage of the
/// branch the route acts on). Capabilities are those of `domain::types::Capability`.
fn matrix_entry_is_known(entry: &str) -> bool {
    use domain::types::Capability;
    match entry.split_once(':') {
        Some(("stage" | "project", cap)) => Capability::parse(cap).is_ok(),
        Some(_) => false,
        None => matches!(
            entry,
            "anonymous"
                | "self"
                | "tenant_member"
                | "tenant_admin"
                | "platform_admin"
                | "platform_owner"
                | "finance_owner"
        ),
    }
}

/// The text of every file below `dir` with extension `ext`.
fn sources(dir: &std::path::Path, ext: &str, out: &mut String) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            sources(&path, ext, out);
        } else if path.extension().is_some_and(|x| x == ext) {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_mutation_is_listed_with_its_audit_action_and_each_action_is_written() {
    use utoipa::OpenApi;
    let doc = server::api::ApiDoc::openapi();
    let mut rest = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [("POST", &item.post), ("PUT", &item.put), ("PATCH", &item.patch), ("DELETE", &item.delete)]
        {
            if op.is_some() {
                rest.push((method, path.clone()));
            }
        }
    }
    for (method, path) in &rest {
        assert!(
            REST.iter().any(|(m, p, _, _)| m == method && p == path),
            "{method} {path} changes something: list it in REST with the audit action it writes"
        );
    }
    for (m, p, _, matrix) in REST {
        assert!(rest.iter().any(|(method, path)| method == m && path == p), "{m} {p} is listed but no longer exists");
        assert!(matrix_entry_is_known(matrix), "{m} {p}: `{matrix}` is not an entry of the role matrix");
    }
    let rpc: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/rpc/").to_owned())
        .collect();
    assert!(rpc.len() > 20, "the server functions are registered: {rpc:?}");
    for endpoint in &rpc {
        assert!(
            RPC.iter().any(|(e, _, _)| e == endpoint),
            "server function {endpoint} is not listed: say which audit action it writes, or that it only reads"
        );
    }
    for (e, action, matrix) in RPC {
        assert!(rpc.iter().any(|r| r == e), "{e} is listed but no longer exists");
        if *action == "read" {
            continue;
        }
        assert!(matrix_entry_is_known(matrix), "{e}: `{matrix}` is not an entry of the role matrix");
        // The UI and the API do the same thing under the same rule.
        for (m, p, _, rest_matrix) in REST.iter().filter(|(_, _, a, _)| a == action) {
            assert_eq!(matrix, rest_matrix, "{e} and {m} {p} both write {action} but follow different rules");
        }
    }
    // Each action is written somewhere: in the domain layer or the database's own functions.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut code = String::new();
    sources(&root.join("domain/src"), "rs", &mut code);
    sources(&root.join("migrations"), "sql", &mut code);
    for action in REST.iter().map(|(_, _, a, _)| *a).chain(RPC.iter().map(|(_, a, _)| *a)).filter(|a| *a != "read") {
        assert!(domain::types::AuditAction::parse(action).is_ok(), "{action} is not in the audit vocabulary");
        assert!(
            code.contains(&format!("\"{action}\"")) || code.contains(&format!("'{action}'")),
            "nothing writes the audit action {action}"
        );
    }
    // Every WebSocket route of the router is listed, and every socket handler is behind one of them.
    let mut server = String::new();
    sources(&root.join("server/src"), "rs", &mut server);
    let routes: Vec<String> = server
        .split(".route(\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .filter(|r| r.ends_with("/ws"))
        .map(|r| format!("/api{r}"))
        .collect();
    for route in &routes {
        assert!(SOCKETS.iter().any(|(p, _)| p == route), "WebSocket {route} has no entry in SOCKETS");
    }
    for (path, matrix) in SOCKETS {
        assert!(routes.contains(&path.to_string()), "WebSocket {path} is listed but not routed");
        assert!(matrix_entry_is_known(matrix), "{path}: `{matrix}` is not an entry of the role matrix");
    }
    assert_eq!(
        server.matches("ws: WebSocketUpgrade").count()
            + server.matches("ws: axum::extract::ws::WebSocketUpgrade").count(),
        SOCKETS.len(),
        "a WebSocket handler is not routed under a listed path"
    );
}

#[tokio::test]
async fn an_auditor_reads_every_tenant_and_changes_nothing() {
    let app = spawn_app().await;
    let _owner = app.signed_up("root@ops.test", "Ops").await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let ann = app.api(&ann.token().await);
    let (status, project) = ann
        .post(
            "/api/v1/projects",
            json!({"name": "Acme ERP", "repo_url": "https://github.com/acme/addons.git", "odoo_version": "17.0"}),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    let id = project["id"].as_str().unwrap().to_owned();
    let tenant = project["tenant_id"].as_str().unwrap().to_owned();
    let audra = app.signed_up("audra@audit.test", "").await;
    sqlx::query("UPDATE ops.users SET platform_role = 'auditor' WHERE email = 'audra@audit.test'")
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    let audra = app.api(&audra.token().await);

    let (status, seen) = audra.get(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(status, 200, "an auditor reads other tenants' projects: {seen}");
    let (_, events) = audra.get("/api/v1/audit?action=project.create").await;
    assert!(events.to_string().contains(&id), "and their audit events: {events}");
    let (status, _) = audra.get("/api/v1/audit/verify").await;
    assert_eq!(status, 200);

    let before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.audit_events").fetch_one(app.platform.db.owner()).await.unwrap();
    let attempts = [
        (
            reqwest::Method::POST,
            format!("/api/v1/projects/{id}/members"),
            json!({"email": "audra@audit.test", "role": "admin"}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/tenants/{tenant}/members"),
            json!({"email": "audra@audit.test", "role": "admin"}),
        ),
        (reqwest::Method::PATCH, format!("/api/v1/projects/{id}/settings"), json!({"poll_minutes": 5})),
        (reqwest::Method::PATCH, format!("/api/v1/projects/{id}/release-settings"), json!({"required_approvals": 1})),
        (reqwest::Method::PATCH, format!("/api/v1/projects/{id}/backup-settings"), json!({"keep_daily": 1})),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = audra.call(method.clone(), &path, Some(body)).await;
        assert!((400..500).contains(&status), "{method} {path} must be refused to an auditor: {status} {answer}");
    }
    let after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.audit_events").fetch_one(app.platform.db.owner()).await.unwrap();
    assert_eq!(before, after, "nothing changed, so nothing was recorded");
    let (_, settings) = ann.get(&format!("/api/v1/projects/{id}/settings")).await;
    assert_ne!(settings["poll_minutes"], 5, "{settings}");
}

/// Runs one call and checks it wrote exactly one audit event, with `action`.
async fn exactly_one(
    app: &crate::helpers::TestApp,
    action: &str,
    call: impl std::future::Future<Output = (u16, serde_json::Value)>,
) -> serde_json::Value {
    let count = || async {
        sqlx::query_as::<_, (i64, Option<String>)>(
            "SELECT count(*), (SELECT action FROM ops.audit_events ORDER BY id DESC LIMIT 1) FROM ops.audit_events",
        )
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap()
    };
    let (before, _) = count().await;
    let (status, body) = call.await;
    assert!((200..300).contains(&status), "{action}: {status} {body}");
    let (after, last) = count().await;
    assert_eq!(after - before, 1, "{action} writes exactly one audit event");
    assert_eq!(last.as_deref(), Some(action));
    body
}

#[tokio::test]
async fn each_privileged_action_writes_exactly_one_event() {
    use reqwest::Method;
    let app = spawn_app().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let bob = app.signed_up("bob@acme.test", "").await;

    let token =
        exactly_one(&app, "token.create", ann.rpc("tokens/create", &[("name", "ci"), ("expires_in_days", "1")])).await;
    let token_id = token["token"]["id"].as_str().unwrap().to_owned();
    exactly_one(&app, "token.revoke", api.call(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), None)).await;
    let project = exactly_one(
        &app,
        "project.create",
        api.post(
            "/api/v1/projects",
            json!({"name": "ERP", "repo_url": "https://github.com/acme/addons.git", "odoo_version": "17.0"}),
        ),
    )
    .await;
    let (id, tenant) = (project["id"].as_str().unwrap().to_owned(), project["tenant_id"].as_str().unwrap().to_owned());
    exactly_one(&app, "tenant.create", api.post("/api/v1/tenants", json!({"name": "Second"}))).await;
    exactly_one(
        &app,
        "tenant.member_invite",
        api.post(&format!("/api/v1/tenants/{tenant}/members"), json!({"email": "bob@acme.test", "role": "member"})),
    )
    .await;
    let (_, pending) = bob.rpc("tenants/invitations", &[]).await;
    let invitation = pending[0]["id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        "tenant.invitation_accept",
        bob.rpc("tenants/answer_invitation", &[("id", &invitation), ("accept", "true")]),
    )
    .await;
    let member = exactly_one(
        &app,
        "project.member_set",
        api.post(&format!("/api/v1/projects/{id}/members"), json!({"email": "bob@acme.test", "role": "tester"})),
    )
    .await;
    let bob_id = member["user_id"].as_str().unwrap().to_owned();
    exactly_one(
        &app,
        "project.member_remove",
        api.call(Method::DELETE, &format!("/api/v1/projects/{id}/members/{bob_id}"), None),
    )
    .await;
    exactly_one(
        &app,
        "project.build_settings",
        api.call(Method::PATCH, &format!("/api/v1/projects/{id}/settings"), Some(json!({"poll_minutes": 5}))),
    )
    .await;
    exactly_one(
        &app,
        "project.release_settings",
        api.call(
            Method::PATCH,
            &format!("/api/v1/projects/{id}/release-settings"),
            Some(json!({"required_approvals": 2})),
        ),
    )
    .await;
    exactly_one(
        &app,
        "backup.settings",
        api.call(Method::PATCH, &format!("/api/v1/projects/{id}/backup-settings"), Some(json!({"keep_daily": 8}))),
    )
    .await;
    let key = domain::projects::generate_ed25519("ann@laptop").await.unwrap().public;
    let added = exactly_one(&app, "ssh_key.add", api.post("/api/v1/me/ssh-keys", json!({"public_key": key}))).await;
    let key_id = added["id"].as_str().unwrap().to_owned();
    exactly_one(&app, "ssh_key.remove", api.call(Method::DELETE, &format!("/api/v1/me/ssh-keys/{key_id}"), None)).await;
}
