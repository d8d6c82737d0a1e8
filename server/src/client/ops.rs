//! Which command calls which REST operation: one row per operation of the
//! console's OpenAPI document. The command tree is built from these rows
//! (flags and help come from the document itself), and a test holds the
//! rows, the document and the tree in step, so a new route without a
//! command, or a command naming a route that is gone, fails the build.

/// One REST operation and the command that calls it.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    /// `get`, `post`, `put`, `patch` or `delete`, as in the OpenAPI document.
    pub method: &'static str,
    /// The path as the document spells it, `/api/v1/projects/{id}/builds`.
    pub path: &'static str,
    /// The command's words, `builds ls`.
    pub cmd: &'static str,
    /// Fields of the JSON body given as positional arguments after the path's, in order.
    pub pos: &'static [&'static str],
    /// Columns shown when the answer is a list (empty: the first scalar fields).
    pub cols: &'static str,
}

const fn op(method: &'static str, path: &'static str, cmd: &'static str) -> Op {
    Op { method, path, cmd, pos: &[], cols: "" }
}

const fn list(method: &'static str, path: &'static str, cmd: &'static str, cols: &'static str) -> Op {
    Op { method, path, cmd, pos: &[], cols }
}

const fn with(method: &'static str, path: &'static str, cmd: &'static str, pos: &'static [&'static str]) -> Op {
    Op { method, path, cmd, pos, cols: "" }
}

const BUILD_COLS: &str = "id number branch stage state result trigger commit_sha created_at";

/// Every operation of the API. Commands with behaviour of their own (following logs, waiting, transfers,
/// the terminal) are named here too and implemented in [`super::commands`].
pub const OPS: &[Op] = &[
    op("get", "/api/health", "status"),
    op("get", "/api/v1/me", "whoami"),
    list("get", "/api/v1/tokens", "tokens ls", "id name prefix created_at expires_at last_used_at revoked"),
    with("post", "/api/v1/tokens", "tokens create", &["name"]),
    op("delete", "/api/v1/tokens/{id}", "tokens rm"),
    list("get", "/api/v1/tenants", "tenants ls", "id slug name role"),
    with("post", "/api/v1/tenants", "tenants create", &["name"]),
    with("post", "/api/v1/tenants/{id}/members", "tenants invite", &["email"]),
    list("get", "/api/v1/me/invitations", "invitations ls", "id tenant_slug role invited_by created_at"),
    op("post", "/api/v1/invitations/{id}/accept", "invitations accept"),
    op("post", "/api/v1/invitations/{id}/decline", "invitations decline"),
    list("get", "/api/v1/projects", "projects ls", "id tenant_slug slug name odoo_version production_branch my_role"),
    with("post", "/api/v1/projects", "projects create", &["name"]),
    op("get", "/api/v1/projects/{id}", "projects show"),
    list("get", "/api/v1/projects/{id}/members", "members ls", "user_id email display_name role"),
    with("post", "/api/v1/projects/{id}/members", "members add", &["email", "role"]),
    op("delete", "/api/v1/projects/{id}/members/{user_id}", "members rm"),
    with("post", "/api/v1/projects/{id}/invitations", "members invite", &["email", "role"]),
    list("get", "/api/v1/projects/{id}/invitations", "members invitations", "id email role invited_by expires_at"),
    op("delete", "/api/v1/projects/{id}/invitations/{invitation_id}", "members revoke"),
    op("get", "/api/v1/projects/{id}/settings", "projects settings show"),
    op("patch", "/api/v1/projects/{id}/settings", "projects settings set"),
    op("put", "/api/v1/projects/{id}/preflight/{gate}", "projects preflight"),
    op("get", "/api/v1/projects/{id}/webhook", "projects webhook"),
    with("patch", "/api/v1/environments/{id}", "environments stage", &["stage"]),
    op("post", "/api/v1/environments/{id}/build", "environments build"),
    with("post", "/api/v1/environments/{id}/fork", "environments fork", &["branch"]),
    op("delete", "/api/v1/environments/{id}", "environments delete"),
    list("get", "/api/v1/audit", "audit ls", "at actor_email action target summary"),
    op("get", "/api/v1/audit/export.csv", "audit export"),
    op("get", "/api/v1/audit/verify", "audit verify"),
    list("get", "/api/v1/projects/{id}/builds", "builds ls", BUILD_COLS),
    op("get", "/api/v1/builds/{id}", "builds show"),
    op("post", "/api/v1/builds/{id}/rebuild", "builds rebuild"),
    op("post", "/api/v1/builds/{id}/kill", "builds kill"),
    op("post", "/api/v1/builds/{id}/share", "builds share"),
    op("get", "/api/v1/builds/{id}/events", "builds logs"),
    op("post", "/api/v1/builds/{id}/shell", "shell"),
    list("get", "/api/v1/builds/{id}/shells", "shells ls", "id user_email via stage opened_at closed_at close_reason"),
    op("get", "/api/v1/shells/{id}", "shells show"),
    op("get", "/api/v1/shells/{id}/transcript", "shells transcript"),
    list("get", "/api/v1/me/ssh-keys", "ssh-keys ls", "id name algorithm fingerprint created_at last_used_at"),
    with("post", "/api/v1/me/ssh-keys", "ssh-keys add", &["public_key"]),
    op("delete", "/api/v1/me/ssh-keys/{id}", "ssh-keys rm"),
    list("get", "/api/v1/environments/{id}/mails", "mails ls", "id received_at from to subject size read"),
    op("get", "/api/v1/environments/{id}/mails/{mail}", "mails show"),
    op("get", "/api/v1/environments/{id}/mails/{mail}/raw", "mails raw"),
    op("get", "/api/v1/environments/{id}/mails/{mail}/attachments/{index}", "mails attachment"),
    op("delete", "/api/v1/environments/{id}/mails/{mail}", "mails rm"),
    op("delete", "/api/v1/environments/{id}/mails", "mails clear"),
    list("get", "/api/v1/console-mail", "console-mail ls", "id received_at to subject"),
    op("get", "/api/v1/console-mail/{id}", "console-mail show"),
    list(
        "get",
        "/api/v1/environments/{id}/backups",
        "backups ls",
        "id branch stage kind state format size_bytes created_at verified_at",
    ),
    op("post", "/api/v1/environments/{id}/backups", "backups create"),
    op("get", "/api/v1/backups/{id}", "backups show"),
    list("get", "/api/v1/backups/{id}/events", "backups events", "created_at level message"),
    op("get", "/api/v1/backups/{id}/download", "backups download"),
    op("get", "/api/v1/builds/{id}/dump", "builds dump"),
    with("post", "/api/v1/backups/{id}/restore", "backups restore", &["target_env"]),
    op("post", "/api/v1/environments/{id}/imports", "backups import"),
    op("get", "/api/v1/projects/{id}/backup-settings", "backups settings show"),
    op("patch", "/api/v1/projects/{id}/backup-settings", "backups settings set"),
    list(
        "get",
        "/api/v1/projects/{id}/restore-requests",
        "restores ls",
        "id backup_id target_env state requested_by created_at",
    ),
    op("post", "/api/v1/restore-requests/{id}/approve", "restores approve"),
    op("post", "/api/v1/restore-requests/{id}/reject", "restores reject"),
    op("post", "/api/v1/builds/{id}/promote", "promote"),
    list(
        "get",
        "/api/v1/projects/{id}/promotions",
        "promotions ls",
        "id source_number state requested_by approvals required created_at finished_at",
    ),
    op("get", "/api/v1/promotions/{id}", "promotions show"),
    op("post", "/api/v1/promotions/{id}/approve", "promotions approve"),
    with("post", "/api/v1/promotions/{id}/reject", "promotions reject", &["reason"]),
    with("post", "/api/v1/projects/{id}/rollback", "rollback", &["build_id"]),
    op("get", "/api/v1/projects/{id}/release-settings", "promotions settings show"),
    op("patch", "/api/v1/projects/{id}/release-settings", "promotions settings set"),
    with("post", "/api/v1/projects/{id}/upgrade-previews", "upgrade preview", &["target_series"]),
    list("get", "/api/v1/projects/{id}/upgrade-previews", "upgrade ls", "id target_series state risk created_at"),
    op("get", "/api/v1/upgrade-previews/{id}", "upgrade show"),
    op("get", "/api/v1/upgrade-previews/{id}/report.html", "upgrade report"),
    op("post", "/api/v1/upgrade-previews/{id}/upgrade", "upgrade start"),
    list("get", "/api/v1/instances", "instances ls", "id tenant_slug name subdomain odoo_version plan state url"),
    op("post", "/api/v1/instances", "instances create"),
    op("get", "/api/v1/instances/{id}", "instances show"),
    list(
        "get",
        "/api/v1/instances/{id}/operations",
        "instances ops",
        "id kind state requested_by created_at finished_at",
    ),
    with("post", "/api/v1/instances/{id}/operations", "instances op", &["kind"]),
    list("get", "/api/v1/instances/{id}/backups", "instances backups", "id kind state size_bytes created_at"),
    op("get", "/api/v1/instances/{id}/usage", "instances usage"),
    list("get", "/api/v1/instances/{id}/domains", "instances domains ls", "id hostname state verified_at"),
    with("post", "/api/v1/instances/{id}/domains", "instances domains add", &["hostname"]),
    op("delete", "/api/v1/instances/{id}/domains/{domain_id}", "instances domains rm"),
    op("post", "/api/v1/instances/{id}/domains/{domain_id}/verify", "instances domains verify"),
    list("get", "/api/v1/instances/{id}/members", "instances members", "user_id email display_name role"),
    list("get", "/api/v1/plans", "plans", "code name"),
    list("get", "/api/v1/projects/{id}/domains", "domains ls", "id hostname state verified_at"),
    with("post", "/api/v1/projects/{id}/domains", "domains add", &["hostname"]),
    op("delete", "/api/v1/projects/{id}/domains/{domain_id}", "domains rm"),
    op("post", "/api/v1/projects/{id}/domains/{domain_id}/verify", "domains verify"),
    op("get", "/api/v1/environments/{id}/monitor", "environments monitor"),
    list("get", "/api/v1/monitoring/environments", "environments health", "env_id project_name branch stage health"),
    list("get", "/api/v1/environments/{id}/logs", "environments logs", "at level logger message"),
    op("get", "/api/v1/environments/{id}/logs.csv", "environments logs-csv"),
    op("get", "/api/v1/projects/{id}/alerts", "alerts ls"),
    op("patch", "/api/v1/projects/{id}/alert-rules/{rule_id}", "alerts rule"),
    with("post", "/api/v1/projects/{id}/alert-channels", "alerts channels add", &["kind"]),
    op("delete", "/api/v1/projects/{id}/alert-channels/{channel_id}", "alerts channels rm"),
    op("post", "/api/v1/projects/{id}/alert-channels/{channel_id}/test", "alerts channels test"),
    list("get", "/api/v1/catalog/sources", "catalog sources ls", "id name url branch state"),
    op("post", "/api/v1/catalog/sources", "catalog sources add"),
    op("delete", "/api/v1/catalog/sources/{id}", "catalog sources rm"),
    op("post", "/api/v1/catalog/sources/{id}/refresh", "catalog sources refresh"),
    list("get", "/api/v1/catalog/modules", "catalog modules ls", "name version summary"),
    op("get", "/api/v1/catalog/modules/{name}", "catalog modules show"),
    list("get", "/api/v1/bundles", "bundles ls", "id name odoo_version"),
    op("post", "/api/v1/bundles", "bundles create"),
    op("post", "/api/v1/bundles/closure", "bundles closure"),
    op("get", "/api/v1/bundles/{id}", "bundles show"),
    op("put", "/api/v1/bundles/{id}", "bundles update"),
    op("delete", "/api/v1/bundles/{id}", "bundles rm"),
    list("get", "/api/v1/tenant-drafts", "wizard ls", "id name step updated_at"),
    op("post", "/api/v1/tenant-drafts", "wizard start"),
    op("post", "/api/v1/tenant-drafts/closure", "wizard closure"),
    op("get", "/api/v1/tenant-drafts/{id}", "wizard show"),
    op("delete", "/api/v1/tenant-drafts/{id}", "wizard discard"),
    op("put", "/api/v1/tenant-drafts/{id}/steps/{step}", "wizard save"),
    op("post", "/api/v1/tenant-drafts/{id}/sso-test", "wizard sso-test"),
    op("post", "/api/v1/tenant-drafts/{id}/create", "wizard create"),
    op("get", "/api/v1/tenant-slugs/{slug}", "wizard slug"),
    list("get", "/api/v1/platform/roles", "platform roles ls", "email role granted_at"),
    op("put", "/api/v1/platform/roles", "platform roles set"),
    op("get", "/api/v1/platform/settings", "platform settings show"),
    op("patch", "/api/v1/platform/settings", "platform settings set"),
    list("get", "/api/v1/billing/subscriptions", "billing subscriptions", ""),
    list("get", "/api/v1/billing/plan-changes", "billing plan-changes ls", ""),
    op("post", "/api/v1/billing/plan-changes", "billing plan-changes propose"),
    op("post", "/api/v1/billing/plan-changes/{id}/decide", "billing plan-changes decide"),
    list("get", "/api/v1/fleet/tenants", "fleet tenants ls", ""),
    op("get", "/api/v1/fleet/tenants/{slug}", "fleet tenants show"),
    op("delete", "/api/v1/fleet/tenants/{slug}", "fleet tenants rm"),
    list("get", "/api/v1/fleet/findings", "fleet findings", ""),
    op("get", "/api/v1/fleet/capacity", "fleet capacity"),
    list("get", "/api/v1/runbooks", "support runbooks ls", ""),
    op("put", "/api/v1/runbooks", "support runbooks set"),
    list("get", "/api/v1/support/requests", "support requests ls", ""),
    op("post", "/api/v1/support/requests", "support requests open"),
    op("post", "/api/v1/support/requests/{id}/state", "support requests answer"),
    list("get", "/api/v1/webhooks", "webhooks ls", "id url events active created_at"),
    op("post", "/api/v1/webhooks", "webhooks create"),
    op("patch", "/api/v1/webhooks/{id}", "webhooks set"),
    op("delete", "/api/v1/webhooks/{id}", "webhooks rm"),
    op("post", "/api/v1/webhooks/{id}/test", "webhooks test"),
    list("get", "/api/v1/webhook-deliveries", "webhooks deliveries", "id webhook_id event state attempts created_at"),
    op("post", "/api/v1/webhook-deliveries/{id}/retry", "webhooks retry"),
    list("get", "/api/v1/analytics", "analytics ls", ""),
    op("put", "/api/v1/analytics/{slug}", "analytics set"),
    list("get", "/api/v1/supabase/links", "supabase links ls", ""),
    op("post", "/api/v1/supabase/links", "supabase links add"),
    op("delete", "/api/v1/supabase/links/{id}", "supabase links rm"),
    with("post", "/api/v1/builds/{id}/database/query", "supabase query", &["query"]),
    with("post", "/api/v1/builds/{id}/database/query/read-only", "supabase query-read-only", &["query"]),
    op("get", "/api/v1/builds/{id}/database/logs", "supabase logs"),
];

/// The row of a command, by its words (commands that call more than one route name each here).
pub fn by_cmd(cmd: &str) -> &'static Op {
    OPS.iter().find(|o| o.cmd == cmd).unwrap_or_else(|| panic!("no operation for `odooops {cmd}`"))
}

/// The path of a command's operation below `/api/v1`, filled in (what [`super::Api::get`] takes).
pub fn rest_path(cmd: &str, values: &[String]) -> String {
    let full = fill(by_cmd(cmd).path, values);
    full.strip_prefix("/api/v1").map(str::to_owned).unwrap_or(full)
}

/// The path's parameters in order: `/projects/{id}/members/{user_id}` → `["id", "user_id"]`.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect()
}

/// What a path parameter is called on the command line: `{id}` after `projects` is a `project`,
/// `{user_id}` a `user`, `{mail}` a `mail`.
pub fn param_label(path: &str, param: &str) -> String {
    if param != "id" {
        return param.trim_end_matches("_id").replace('_', "-");
    }
    let segs: Vec<&str> = path.split('/').collect();
    let at = segs.iter().position(|s| *s == "{id}").unwrap_or(0);
    let prev = segs.get(at.wrapping_sub(1)).copied().unwrap_or("id");
    let singular = match prev {
        "tenant-drafts" => "draft",
        "restore-requests" => "request",
        "upgrade-previews" => "preview",
        "webhook-deliveries" => "delivery",
        "plan-changes" => "change",
        p => p.strip_suffix("es").filter(|s| s.ends_with("ss") || s.ends_with("ch")).unwrap_or(p.trim_end_matches('s')),
    };
    singular.to_owned()
}

/// The path with its parameters filled in, each escaped as one segment.
pub fn fill(path: &str, values: &[String]) -> String {
    let mut out = String::new();
    let mut values = values.iter();
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if seg.starts_with('{') {
            out.push_str(&escape_segment(values.next().map(String::as_str).unwrap_or("")));
        } else {
            out.push_str(seg);
        }
    }
    out
}

fn escape_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_as_what_they_are() {
        assert_eq!(path_params("/api/v1/projects/{id}/members/{user_id}"), ["id", "user_id"]);
        assert_eq!(param_label("/api/v1/projects/{id}/members/{user_id}", "id"), "project");
        assert_eq!(param_label("/api/v1/projects/{id}/members/{user_id}", "user_id"), "user");
        assert_eq!(param_label("/api/v1/me/ssh-keys/{id}", "id"), "ssh-key");
        assert_eq!(param_label("/api/v1/environments/{id}/mails", "id"), "environment");
        assert_eq!(param_label("/api/v1/promotions/{id}", "id"), "promotion");
        assert_eq!(param_label("/api/v1/catalog/sources/{id}", "id"), "source");
        assert_eq!(param_label("/api/v1/tenant-drafts/{id}", "id"), "draft");
    }

    #[test]
    fn values_fill_one_segment_each() {
        let p = fill("/api/v1/fleet/tenants/{slug}", &["a/../b c".into()]);
        assert_eq!(p, "/api/v1/fleet/tenants/a%2F..%2Fb%20c");
    }

    #[test]
    fn every_command_is_named_once() {
        let mut seen = std::collections::HashSet::new();
        for o in OPS {
            assert!(seen.insert(o.cmd), "`{}` names two operations", o.cmd);
            assert!(seen.insert(Box::leak(format!("{} {}", o.method, o.path).into_boxed_str())), "{} twice", o.path);
        }
    }
}
