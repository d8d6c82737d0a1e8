//! Presentation logic, kept out of components so plain unit tests reach it.

use chrono::{DateTime, Utc};

/// Where to go after signing in: only local paths, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.contains("://") => {
            n.to_owned()
        }
        _ => "/projects".to_owned(),
    }
}

/// CSS class for a stage badge.
pub fn stage_class(stage: &str) -> &'static str {
    match stage {
        "production" => "badge badge-prod",
        "staging" => "badge badge-staging",
        _ => "badge badge-dev",
    }
}

/// Human label for a project, tenant or platform role.
pub fn role_label(role: &str) -> &'static str {
    match role {
        "admin" => "Admin",
        "developer" => "Developer",
        "tester" => "Tester",
        "tenant_admin" => "Tenant admin",
        "member" => "Member",
        "platform_owner" => "Platform owner",
        "platform_operator" => "Platform operator",
        "auditor" => "Auditor",
        _ => "—",
    }
}

/// A compact absolute UTC time; relative times would differ between the
/// server render and hydration.
pub fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The URL of a project's page.
pub fn project_href(tenant: &str, project: &str) -> String {
    format!("/projects/{tenant}/{project}")
}

/// The default stage rules shown in the create-project form.
pub const DEFAULT_STAGE_RULES: &str = "main=production, release/*=staging";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/projects/a/b")), "/projects/a/b");
        assert_eq!(safe_next(Some("//evil.example")), "/projects");
        assert_eq!(safe_next(Some("https://evil.example")), "/projects");
        assert_eq!(safe_next(Some("/\\evil")), "/projects");
        assert_eq!(safe_next(None), "/projects");
    }

    #[test]
    fn labels_and_classes() {
        assert_eq!(stage_class("production"), "badge badge-prod");
        assert_eq!(stage_class("feature"), "badge badge-dev");
        assert_eq!(role_label("tenant_admin"), "Tenant admin");
        assert_eq!(role_label("??"), "—");
        assert_eq!(project_href("acme", "erp"), "/projects/acme/erp");
    }

    #[test]
    fn default_rules_parse() {
        assert!(domain::types::StageRules::parse_text(DEFAULT_STAGE_RULES).is_ok());
    }
}
