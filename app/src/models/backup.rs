//! How the Backups tab reads: labels, who is offered what (the server
//! decides anyway), and the production danger rule.

use domain::types::{Capability, ProjectRole, Stage};
use domain::wire::BackupView;

/// The text for `?error=<code>` after a failed import from the HTML form.
/// Only these known texts are ever shown: the query string is anyone's to
/// write, so it must not put words in the console's mouth.
pub fn import_error_text(code: &str) -> &'static str {
    match code {
        "invalid" => "The archive was refused: it is not an Odoo backup zip or a pg_dump file, it is too large, or it is unsafe (links, paths leaving the archive). The REST API answers with the exact reason.",
        "forbidden" => "You may not import into this environment.",
        "not_found" => "This environment does not exist, or you cannot see it.",
        "conflict" => "This environment is busy; try again when its current build has finished.",
        "throttled" => "Too many imports; try again later.",
        "unavailable" => "Imports are not available on this server (builds are off).",
        _ => "The import failed.",
    }
}

/// What kind of backup this is, for people.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "daily" => "daily",
        "manual" => "manual",
        "pre_update" => "before update",
        "pre_restore" => "before restore",
        "import" => "imported",
        _ => "other",
    }
}

/// The status cell: `running 12.0 MiB`, `done`, `failed`.
pub fn status_text(b: &BackupView) -> String {
    match b.state.as_str() {
        "running" => format!("running · {} written", super::human_bytes(b.progress_bytes)),
        "pending" => "queued".into(),
        other => other.to_owned(),
    }
}

/// Whether the list should refresh briskly (something is moving).
pub fn any_in_progress(list: &[BackupView]) -> bool {
    list.iter().any(|b| b.state == "pending" || b.state == "running")
}

/// Whether to offer the Backups tab of an environment: per the role matrix
/// (production: admins; staging: admins and testers). `None` means an
/// administrator above the project.
pub fn may_manage_backups(my_role: Option<&str>, stage: &str) -> bool {
    let Ok(stage) = Stage::parse(stage) else { return false };
    if stage == Stage::Development {
        return false;
    }
    my_role.is_none_or(|r| ProjectRole::parse(r).is_ok_and(|r| r.allows(stage, Capability::Backups)))
}

/// Imports go to staging and development, never production.
pub fn may_import(stage: &str) -> bool {
    stage == "staging" || stage == "development"
}

/// A restore into production asks for the project's name to be typed.
pub fn needs_confirmation(target_stage: &str) -> bool {
    target_stage == "production"
}

/// What the confirmation box says.
pub fn danger_text(project_name: &str) -> String {
    format!(
        "This replaces production's database and filestore with this backup. A backup of production is taken first. \
         Type {project_name} to confirm."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_errors_show_only_known_texts() {
        assert!(import_error_text("forbidden").starts_with("You may not import"));
        assert_eq!(import_error_text("Your account is suspended, call +1 555 0100"), "The import failed.");
    }

    #[test]
    fn backups_follow_the_role_matrix() {
        assert!(may_manage_backups(Some("admin"), "production"));
        assert!(!may_manage_backups(Some("tester"), "production"));
        assert!(may_manage_backups(Some("tester"), "staging"));
        assert!(!may_manage_backups(Some("developer"), "staging"));
        assert!(!may_manage_backups(None, "development"));
        assert!(may_manage_backups(None, "production"));
    }

    #[test]
    fn production_is_the_dangerous_target() {
        assert!(needs_confirmation("production") && !needs_confirmation("staging"));
        assert!(danger_text("Acme").contains("Type Acme"));
        assert!(!may_import("production") && may_import("staging"));
    }

    #[test]
    fn labels() {
        assert_eq!(kind_label("pre_update"), "before update");
        assert_eq!(kind_label("weird"), "other");
    }
}
