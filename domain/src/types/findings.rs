//! The recommendations console's rules: findings over the fleet, each with
//! the action that fixes it. Plain functions over facts the server gathers,
//! so every rule is tested without a database.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the rules know of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct InstanceFacts {
    pub id: Uuid,
    pub subdomain: String,
    pub tenant_slug: String,
    /// The instance's state (`active`, `paused`, …).
    pub state: String,
    pub odoo_version: String,
    pub storage_limit_mb: i64,
    pub storage_used_bytes: Option<i64>,
    /// The state of its latest backup, if it has one.
    pub last_backup: Option<String>,
    /// When an operation last finished on it (or it was created).
    pub last_activity: DateTime<Utc>,
    /// Its modules that the catalog has for its series but not for the next one.
    pub stuck_modules: Vec<String>,
}

/// One finding, with what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Finding {
    /// `near_quota`, `backup_failing`, `idle` or `no_target_series`.
    pub rule: String,
    /// `warning` or `error`.
    pub severity: String,
    pub instance_id: Uuid,
    pub instance: String,
    pub tenant_slug: String,
    pub message: String,
    pub action: String,
    pub href: String,
}

/// The series after `version` (`17.0` → `18.0`).
pub fn next_series(version: &str) -> Option<String> {
    let major: u32 = version.split('.').next()?.parse().ok()?;
    Some(format!("{}.0", major + 1))
}

/// Storage used, in whole percent of the plan (none when never measured).
fn percent(f: &InstanceFacts) -> Option<i64> {
    let used = f.storage_used_bytes?;
    let limit = f.storage_limit_mb.max(1) * 1024 * 1024;
    Some(used * 100 / limit)
}

/// Every finding over `facts` at `now`, errors first.
pub fn findings(facts: &[InstanceFacts], now: DateTime<Utc>) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in facts.iter().filter(|f| f.state != "decommissioned") {
        let href = format!("/instances/{}", f.id);
        let mut push = |rule: &str, severity: &str, message: String, action: &str| {
            out.push(Finding {
                rule: rule.into(),
                severity: severity.into(),
                instance_id: f.id,
                instance: f.subdomain.clone(),
                tenant_slug: f.tenant_slug.clone(),
                message,
                action: action.into(),
                href: href.clone(),
            });
        };
        if let Some(p) = percent(f).filter(|p| *p >= 80) {
            let severity = if p >= 100 { "error" } else { "warning" };
            push(
                "near_quota",
                severity,
                format!("uses {p} % of its plan's storage"),
                "Move it to a larger plan, or clean up its attachments",
            );
        }
        if f.last_backup.as_deref() == Some("failed") {
            push(
                "backup_failing",
                "error",
                "its latest backup failed".into(),
                "Open its backups, read the failure and back up again",
            );
        }
        if f.state == "active" && now - f.last_activity > Duration::days(30) {
            push(
                "idle",
                "warning",
                format!("nothing happened to it for {} days", (now - f.last_activity).num_days()),
                "Pause it, or ask its tenant whether it is still used",
            );
        }
        if !f.stuck_modules.is_empty() {
            let next = next_series(&f.odoo_version).unwrap_or_default();
            push(
                "no_target_series",
                "warning",
                format!("{} have no {next} version in the catalog", f.stuck_modules.join(", ")),
                "Find replacements or port them before upgrading",
            );
        }
    }
    out.sort_by_key(|f| (f.severity != "error", f.tenant_slug.clone(), f.instance.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: &str, used_mb: Option<i64>, backup: Option<&str>, days: i64, stuck: &[&str]) -> InstanceFacts {
        InstanceFacts {
            id: Uuid::new_v4(),
            subdomain: "acme".into(),
            tenant_slug: "acme".into(),
            state: state.into(),
            odoo_version: "17.0".into(),
            storage_limit_mb: 1000,
            storage_used_bytes: used_mb.map(|m| m * 1024 * 1024),
            last_backup: backup.map(str::to_owned),
            last_activity: Utc::now() - Duration::days(days),
            stuck_modules: stuck.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn each_rule_finds_its_case_and_only_it() {
        let now = Utc::now();
        assert_eq!(findings(&[facts("active", Some(100), Some("done"), 1, &[])], now), vec![]);
        let rules =
            |f: InstanceFacts| findings(&[f], now).into_iter().map(|f| (f.rule, f.severity)).collect::<Vec<_>>();
        assert_eq!(rules(facts("active", Some(850), None, 1, &[])), [("near_quota".into(), "warning".into())]);
        assert_eq!(rules(facts("active", Some(1000), None, 1, &[])), [("near_quota".into(), "error".into())]);
        assert_eq!(rules(facts("active", None, Some("failed"), 1, &[])), [("backup_failing".into(), "error".into())]);
        assert_eq!(rules(facts("active", None, None, 45, &[])), [("idle".into(), "warning".into())]);
        assert_eq!(rules(facts("paused", None, None, 45, &[])), vec![], "a paused instance is not idle");
        let stuck = findings(&[facts("active", None, None, 1, &["partner_firstname"])], now);
        assert!(stuck[0].message.contains("18.0") && stuck[0].message.contains("partner_firstname"));
        assert_eq!(rules(facts("decommissioned", Some(5000), Some("failed"), 90, &["x"])), vec![]);
        let both =
            findings(&[facts("active", None, None, 45, &[]), facts("active", None, Some("failed"), 1, &[])], now);
        assert_eq!(both[0].severity, "error", "errors first");
        assert_eq!(next_series("17.0").as_deref(), Some("18.0"));
    }
}
