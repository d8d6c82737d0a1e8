//! The tenant wizard's presentation: its URLs, which steps may be opened,
//! what Review lists for each step, and how a price reads.

use domain::types::{size_summary, DraftData, FieldError, WizardStep};
use domain::wire::{url_component, PlanView};
use uuid::Uuid;

/// The URL of a draft's step (deep links, back and forward).
pub fn step_url(draft: Uuid, step: WizardStep) -> String {
    format!("/tenants/new?draft={draft}&step={}", url_component(step.as_str()))
}

/// Whether `step` may be opened: every step before it is valid.
pub fn reachable(data: &DraftData, step: WizardStep) -> bool {
    match data.first_invalid() {
        None => true,
        Some(first) => {
            WizardStep::ALL.iter().position(|s| *s == step) <= WizardStep::ALL.iter().position(|s| *s == first)
        }
    }
}

/// A price from cents: `€99.00`.
pub fn price(cents: i64) -> String {
    format!("€{}.{:02}", cents / 100, cents % 100)
}

/// A monthly price from cents: `€99.00 / month`.
pub fn monthly_price(cents: i32) -> String {
    format!("{} / month", price(i64::from(cents)))
}

/// The limits of a plan, on one line.
pub fn plan_limits(p: &PlanView) -> String {
    let workers = if p.workers == 0 { "threaded".to_owned() } else { format!("{} workers", p.workers) };
    format!(
        "{} users · {workers} · {} GB storage · backups kept {} days · {} support",
        p.max_users,
        p.storage_mb / 1024,
        p.backup_retention_days,
        p.support_level
    )
}

/// What Review shows for a step: label and value pairs.
pub fn review_lines(data: &DraftData, step: WizardStep, sso_secret_set: bool) -> Vec<(&'static str, String)> {
    let or_none = |s: &str| if s.trim().is_empty() { "—".to_owned() } else { s.trim().to_owned() };
    match step {
        WizardStep::Identity => vec![
            ("Organisation", or_none(&data.identity.organisation)),
            ("Slug", or_none(&data.identity.slug)),
            ("Contact", or_none(&data.identity.contact_email)),
            ("Country", or_none(&data.identity.country.to_ascii_uppercase())),
            ("Language", or_none(&data.identity.language)),
            ("Time zone", or_none(&data.identity.timezone)),
            ("Region", or_none(&data.identity.region)),
            ("Groups", or_none(&data.identity.groups)),
        ],
        WizardStep::Plan => vec![("Plan", or_none(&data.plan))],
        WizardStep::Bundle => {
            vec![("Bundles", format!("{}", data.bundle.bundles.len())), ("Modules", or_none(&data.bundle.modules))]
        }
        WizardStep::Infra => {
            let (strategy, why) = data.infra.recommendation(&data.plan);
            let chosen = if data.infra.db_strategy.trim().is_empty() {
                format!("{strategy} (recommended: {why})")
            } else {
                data.infra.db_strategy.trim().to_owned()
            };
            vec![
                ("Odoo", or_none(&data.infra.series)),
                ("Size", format!("{} — {}", data.infra.size, size_summary(&data.infra.size))),
                ("Database", chosen),
                ("Backups", or_none(&data.infra.backups)),
            ]
        }
        WizardStep::Sso if data.sso.kind == "oidc" => vec![
            ("Single sign-on", "OpenID Connect".to_owned()),
            ("Issuer", or_none(&data.sso.issuer)),
            ("Client id", or_none(&data.sso.client_id)),
            ("Client secret", if sso_secret_set { "stored, sealed".into() } else { "none".into() }),
            ("Scopes", or_none(&data.sso.scopes)),
        ],
        WizardStep::Sso => vec![("Single sign-on", "none: people sign in with a password".to_owned())],
        WizardStep::Review => Vec::new(),
    }
}

/// The messages for `field`: the live check's first, else the server's.
pub fn field_error(live: &[FieldError], server: &[FieldError], field: &str) -> Option<String> {
    domain::types::error_for(live, field).or_else(|| domain::types::error_for(server, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_open_in_order_and_urls_name_them() {
        let id = Uuid::nil();
        assert_eq!(step_url(id, WizardStep::Bundle), format!("/tenants/new?draft={id}&step=bundle"));
        let d = DraftData::default();
        assert!(reachable(&d, WizardStep::Identity));
        assert!(!reachable(&d, WizardStep::Plan), "Identity is not filled in yet");
        assert_eq!(monthly_price(9900), "€99.00 / month");
        assert_eq!(monthly_price(2950), "€29.50 / month");
        let lines = review_lines(&d, WizardStep::Sso, false);
        assert!(lines[0].1.contains("password"));
        let infra = review_lines(&d, WizardStep::Infra, false);
        assert!(infra.iter().any(|(k, v)| *k == "Database" && v.contains("recommended")));
    }
}
