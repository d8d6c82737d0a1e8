//! How instances read: state badges and words, operation names, the bundle
//! field, and the subdomain rule as you type (the same parse the server runs).

use domain::types::{DbStrategy, InstanceState, OperationKind, OperationState, Subdomain};

/// CSS class of an instance's state badge.
pub fn state_class(state: InstanceState) -> &'static str {
    match state {
        InstanceState::Active => "badge badge-ok",
        InstanceState::Provisioning | InstanceState::Migrating | InstanceState::Decommissioning => {
            "badge badge-running"
        }
        InstanceState::Error => "badge badge-ko",
        InstanceState::Draft | InstanceState::Paused | InstanceState::Decommissioned => "badge",
    }
}

/// An operation's name on its button.
pub fn operation_label(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Provision => "Provision",
        OperationKind::Pause => "Pause",
        OperationKind::Resume => "Resume",
        OperationKind::Restart => "Restart",
        OperationKind::Redeploy => "Redeploy",
        OperationKind::Backup => "Back up now",
        OperationKind::Restore => "Restore…",
        OperationKind::MigrateDatabase => "Move database…",
        OperationKind::Decommission => "Decommission",
    }
}

/// Operations offered as one click (restore and moving the database need more than a click).
pub fn one_click(kind: OperationKind) -> bool {
    !matches!(kind, OperationKind::Restore | OperationKind::MigrateDatabase)
}

/// Operations that ask "are you sure" first.
pub fn needs_confirmation(kind: OperationKind) -> bool {
    matches!(kind, OperationKind::Decommission | OperationKind::Pause)
}

/// CSS class of an operation's state.
pub fn operation_class(state: OperationState) -> &'static str {
    match state {
        OperationState::Done => "badge badge-ok",
        OperationState::Failed => "badge badge-ko",
        OperationState::Running => "badge badge-running",
        OperationState::Queued => "badge",
    }
}

/// Whether the page should refresh briskly (something is moving).
pub fn moving(state: InstanceState) -> bool {
    state.working()
}

/// Where a database move goes from `now`.
pub fn other_strategy(now: DbStrategy) -> DbStrategy {
    match now {
        DbStrategy::Shared => DbStrategy::Dedicated,
        DbStrategy::Dedicated => DbStrategy::Shared,
    }
}

/// The move button's words.
pub fn move_label(to: DbStrategy) -> &'static str {
    match to {
        DbStrategy::Dedicated => "Move database to its own server",
        DbStrategy::Shared => "Move database to the shared server",
    }
}

/// A migration's downtime, as people read it.
pub fn downtime_text(ms: i64) -> String {
    format!("downtime {:.1} s", ms as f64 / 1000.0)
}

/// The bundle field: module names separated by commas, spaces or lines.
pub fn parse_modules(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n', '\t', ';']).map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned).collect()
}

/// What to say under the subdomain field while typing (`None` when it reads well).
pub fn subdomain_hint(input: &str) -> Option<String> {
    if input.trim().is_empty() {
        return None;
    }
    Subdomain::parse(input).err().map(|e| e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_moves_name_where_they_go() {
        assert_eq!(other_strategy(DbStrategy::Shared), DbStrategy::Dedicated);
        assert_eq!(other_strategy(DbStrategy::Dedicated), DbStrategy::Shared);
        assert!(move_label(DbStrategy::Dedicated).contains("its own server"));
        assert_eq!(downtime_text(2345), "downtime 2.3 s");
    }

    #[test]
    fn bundles_and_subdomains_read_as_the_server_reads_them() {
        assert_eq!(parse_modules("sale, crm\nstock  website"), vec!["sale", "crm", "stock", "website"]);
        assert!(parse_modules(" , ").is_empty());
        assert_eq!(subdomain_hint("acme"), None);
        assert!(subdomain_hint("www").unwrap().contains("reserved"));
        assert!(subdomain_hint("b12-x").unwrap().contains("preview"));
        assert_eq!(subdomain_hint(""), None);
    }

    #[test]
    fn states_and_operations_have_their_look() {
        assert_eq!(state_class(InstanceState::Active), "badge badge-ok");
        assert_eq!(state_class(InstanceState::Error), "badge badge-ko");
        assert!(needs_confirmation(OperationKind::Decommission) && !needs_confirmation(OperationKind::Resume));
        assert!(!one_click(OperationKind::Restore) && one_click(OperationKind::Backup));
        assert_eq!(operation_label(OperationKind::Backup), "Back up now");
        assert!(moving(InstanceState::Provisioning) && !moving(InstanceState::Active));
    }
}
