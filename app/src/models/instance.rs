//! How instances read: state badges and words, operation names, the bundle
//! field, and the subdomain rule as you type (the same parse the server runs).

use domain::types::{DbStrategy, InstanceState, OperationKind, OperationState, QuotaLevel, Subdomain};
use domain::wire::{InstanceUsage, PlanView};

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
        OperationKind::ApplyBundle => "Apply a bundle…",
    }
}

/// Operations offered as one click (restoring, moving the database and applying a bundle need more than a click).
pub fn one_click(kind: OperationKind) -> bool {
    !matches!(kind, OperationKind::Restore | OperationKind::MigrateDatabase | OperationKind::ApplyBundle)
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

/// CSS class of a storage level.
pub fn quota_class(level: QuotaLevel) -> &'static str {
    match level {
        QuotaLevel::Ok => "badge badge-ok",
        QuotaLevel::Warning => "badge badge-warn",
        QuotaLevel::Exceeded => "badge badge-ko",
    }
}

fn mb(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// "12.3 MB of 2048 MB (1 %)", and what the level means.
pub fn usage_text(u: &InstanceUsage) -> String {
    let head = format!("{} of {} MB ({} %)", mb(u.storage_used_bytes), u.plan.storage_mb, u.storage_percent);
    match u.level {
        QuotaLevel::Ok => head,
        QuotaLevel::Warning => format!("{head}: nearly full"),
        QuotaLevel::Exceeded => format!("{head}: over the plan, restores are refused"),
    }
}

/// A plan's limits in one line.
pub fn plan_terms(p: &PlanView) -> String {
    let workers = if p.workers == 0 { "threaded".to_owned() } else { format!("{} workers", p.workers) };
    format!(
        "{}: {} CPU, {} MB memory, {workers}, {} MB storage, up to {} users, backups kept {} days, {:.2} a month",
        p.name,
        p.cpu_limit,
        p.memory_limit_mb,
        p.storage_mb,
        p.max_users,
        p.backup_retention_days,
        f64::from(p.monthly_price_cents) / 100.0
    )
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

/// A tenant's modules across its instances: each module with the instances
/// that have it, sorted by module.
pub fn modules_by_instance(instances: &[domain::wire::InstanceView]) -> Vec<(String, Vec<String>)> {
    let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for i in instances {
        for m in &i.modules {
            map.entry(m.clone()).or_default().push(i.subdomain.clone());
        }
    }
    map.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_with_its_level() {
        let plan = PlanView {
            slug: "starter".into(),
            name: "Starter".into(),
            cpu_limit: 1.0,
            memory_limit_mb: 1024,
            workers: 0,
            storage_mb: 100,
            max_users: 5,
            backup_retention_days: 30,
            support_level: "community".into(),
            monthly_price_cents: 2900,
        };
        let mut u = InstanceUsage {
            plan,
            database_bytes: 80 << 20,
            filestore_bytes: 5 << 20,
            storage_used_bytes: 85 << 20,
            storage_limit_bytes: 100 << 20,
            storage_percent: 85,
            level: QuotaLevel::Warning,
        };
        assert_eq!(usage_text(&u), "85.0 MB of 100 MB (85 %): nearly full");
        u.level = QuotaLevel::Exceeded;
        assert!(usage_text(&u).contains("restores are refused"));
        assert!(plan_terms(&u.plan).contains("threaded") && plan_terms(&u.plan).contains("29.00 a month"));
    }

    #[test]
    fn database_moves_name_where_they_go() {
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
