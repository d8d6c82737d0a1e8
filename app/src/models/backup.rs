//! How the Backups tab reads: labels, who is offered what (the server
//! decides anyway), and the production danger rule.

use domain::types::{Allowed, Capability, Stage};
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

/// Whether to offer the Backups tab of an environment: production and
/// staging (development is rebuilt, not backed up), for those the server
/// lets use backups there (production: admins; staging: admins and testers).
pub fn may_manage_backups(allowed: &Allowed, stage: Stage) -> bool {
    stage != Stage::Development && allowed.can(stage, Capability::Backups)
}

/// Imports go to staging and development, never production.
pub fn may_import(stage: Stage) -> bool {
    stage != Stage::Production
}

/// A restore into production asks for the project's name to be typed.
pub fn needs_confirmation(target_stage: Stage) -> bool {
    target_stage == Stage::Production
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
        use domain::types::ProjectRole::*;
        assert!(may_manage_backups(&Allowed::of_role(Admin), Stage::Production));
        assert!(!may_manage_backups(&Allowed::of_role(Tester), Stage::Production));
        assert!(may_manage_backups(&Allowed::of_role(Tester), Stage::Staging));
        assert!(!may_manage_backups(&Allowed::of_role(Developer), Stage::Staging));
        assert!(!may_manage_backups(&Allowed::from_fn(|_, _| true), Stage::Development));
    }

    #[test]
    fn production_is_the_dangerous_target() {
        assert!(needs_confirmation(Stage::Production) && !needs_confirmation(Stage::Staging));
        assert!(danger_text("Acme").contains("Type Acme"));
        assert!(!may_import(Stage::Production) && may_import(Stage::Staging));
    }

    #[test]
    fn labels() {
        assert_eq!(kind_label("pre_update"), "before update");
        assert_eq!(kind_label("weird"), "other");
    }
}
