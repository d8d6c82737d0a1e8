//! The module catalog's rules, shared with the browser (the wizard's bundle
//! step computes the same closure as the server): module names, what Odoo
//! itself provides, the dependency closure of a chosen set for one series,
//! and which licenses cannot be combined.
//!
//! A module's facts come from its manifest (see `builds::manifest`); here
//! they are plain data, so the rules are pure functions a unit test reaches.

use super::{parsed_serde, ParseError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A module's technical name: its directory (`partner_firstname`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleName(String);

impl ModuleName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let err = |r: &str| Err(ParseError::new("module", format!("`{s}` {r}")));
        if s.is_empty() || s.len() > 100 {
            return err("must have 1 to 100 characters");
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return err("must start with a lowercase letter");
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return err("may contain only lowercase letters, digits and underscores");
        }
        Ok(ModuleName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(ModuleName);

/// Parses a list typed by a person: names separated by commas, spaces or new lines, each once, in order.
pub fn parse_module_list(s: &str) -> Result<Vec<ModuleName>, ParseError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for part in s.split([',', ' ', '\n', '\t', '\r']).filter(|p| !p.trim().is_empty()) {
        let m = ModuleName::parse(part)?;
        if seen.insert(m.clone()) {
            out.push(m);
        }
    }
    Ok(out)
}

/// Modules of Odoo Community itself (in every supported series): the image
/// provides them, so a bundle may depend on them without a catalog source.
/// Localisations (`l10n_…`) and themes (`theme_…`) count too.
pub const ODOO_MODULES: &[&str] = &[
    "account",
    "account_check_printing",
    "account_debit_note",
    "account_edi",
    "account_edi_ubl_cii",
    "account_fleet",
    "account_payment",
    "account_qr_code_sepa",
    "analytic",
    "auth_ldap",
    "auth_oauth",
    "auth_password_policy",
    "auth_signup",
    "auth_totp",
    "auth_totp_mail",
    "barcodes",
    "base",
    "base_address_extended",
    "base_automation",
    "base_geolocalize",
    "base_iban",
    "base_import",
    "base_import_module",
    "base_install_request",
    "base_setup",
    "base_sparse_field",
    "base_vat",
    "board",
    "bus",
    "calendar",
    "contacts",
    "crm",
    "crm_iap_enrich",
    "crm_livechat",
    "delivery",
    "digest",
    "event",
    "event_sale",
    "fetchmail",
    "fleet",
    "gamification",
    "google_calendar",
    "google_gmail",
    "hr",
    "hr_attendance",
    "hr_contract",
    "hr_expense",
    "hr_holidays",
    "hr_recruitment",
    "hr_skills",
    "hr_timesheet",
    "html_editor",
    "http_routing",
    "iap",
    "iap_mail",
    "im_livechat",
    "link_tracker",
    "loyalty",
    "lunch",
    "mail",
    "mail_bot",
    "maintenance",
    "mass_mailing",
    "microsoft_calendar",
    "microsoft_outlook",
    "mrp",
    "mrp_account",
    "note",
    "onboarding",
    "partner_autocomplete",
    "payment",
    "phone_validation",
    "point_of_sale",
    "portal",
    "portal_rating",
    "privacy_lookup",
    "product",
    "product_email_template",
    "project",
    "project_account",
    "purchase",
    "purchase_stock",
    "rating",
    "repair",
    "resource",
    "sale",
    "sale_crm",
    "sale_loyalty",
    "sale_management",
    "sale_mrp",
    "sale_project",
    "sale_purchase",
    "sale_stock",
    "sale_timesheet",
    "sales_team",
    "sms",
    "snailmail",
    "social_media",
    "spreadsheet",
    "spreadsheet_dashboard",
    "stock",
    "stock_account",
    "stock_delivery",
    "stock_picking_batch",
    "survey",
    "uom",
    "utm",
    "web",
    "web_editor",
    "web_tour",
    "web_unsplash",
    "website",
    "website_blog",
    "website_crm",
    "website_event",
    "website_forum",
    "website_sale",
    "website_slides",
];

/// Whether Odoo itself provides `name`.
pub fn is_odoo_module(name: &str) -> bool {
    ODOO_MODULES.binary_search(&name).is_ok() || name.starts_with("l10n_") || name.starts_with("theme_")
}

/// What the closure needs to know of a catalog module in one series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ModuleFacts {
    pub depends: Vec<String>,
    pub installable: bool,
    pub license: String,
    pub external_python: Vec<String>,
    pub external_bin: Vec<String>,
}

/// Why a module is in a closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Chosen (in the bundle, or picked).
    Chosen,
    /// Added because a chosen module depends on it, directly or not.
    Dependency,
    /// Odoo's own (the image has it).
    Odoo,
}

/// A module the closure needs, and which module needs it (`chosen` when picked directly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Need {
    pub module: String,
    pub by: String,
}

/// The dependency closure of a set of modules in one series, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Closure {
    /// Every module to install, with why.
    pub modules: BTreeMap<String, Origin>,
    /// Errors: modules neither in the catalog for the series nor Odoo's, and who needs them.
    pub missing: Vec<Need>,
    /// Errors: modules whose manifest says `installable: False` for the series.
    pub not_installable: Vec<String>,
    /// Warnings: Python packages and programs the modules need (`by` is the module).
    pub external: Vec<Need>,
    /// Warnings: licenses that cannot be combined.
    pub license_warnings: Vec<String>,
}

impl Closure {
    /// Whether it can be installed (warnings aside).
    pub fn is_valid(&self) -> bool {
        self.missing.is_empty() && self.not_installable.is_empty()
    }

    /// The modules to install besides Odoo's own, in name order.
    pub fn to_install(&self) -> Vec<String> {
        self.modules.iter().filter(|(_, o)| **o != Origin::Odoo).map(|(m, _)| m.clone()).collect()
    }
}

/// Computes the closure of `chosen` over `catalog` (one series' modules by name).
pub fn closure(catalog: &BTreeMap<String, ModuleFacts>, chosen: &[String]) -> Closure {
    let mut c = Closure::default();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    for m in chosen {
        queue.push_back((m.clone(), String::new()));
    }
    while let Some((m, by)) = queue.pop_front() {
        if c.modules.contains_key(&m) {
            continue;
        }
        let origin = if by.is_empty() { Origin::Chosen } else { Origin::Dependency };
        match catalog.get(&m) {
            Some(f) => {
                c.modules.insert(m.clone(), origin);
                if !f.installable {
                    c.not_installable.push(m.clone());
                }
                for p in &f.external_python {
                    c.external.push(Need { module: format!("python: {p}"), by: m.clone() });
                }
                for b in &f.external_bin {
                    c.external.push(Need { module: format!("program: {b}"), by: m.clone() });
                }
                for d in &f.depends {
                    queue.push_back((d.clone(), m.clone()));
                }
            }
            None if is_odoo_module(&m) => {
                c.modules.insert(m, Origin::Odoo);
            }
            None => {
                let needed_by = if by.is_empty() { "chosen".to_owned() } else { by };
                c.missing.push(Need { module: m, by: needed_by });
            }
        }
    }
    c.license_warnings = license_warnings(c.modules.keys().filter_map(|m| Some((m, &catalog.get(m)?.license))));
    c
}

/// The license families that matter for combining.
fn family(license: &str) -> &'static str {
    match license.trim() {
        "AGPL-3" => "agpl",
        "GPL-2" | "GPL-2 or any later version" | "GPL-3" | "GPL-3 or any later version" => "gpl",
        "LGPL-3" => "lgpl",
        "OPL-1" | "Other proprietary" => "proprietary",
        "" => "unknown",
        _ => "other",
    }
}

/// Warnings for a set of `(module, license)`: proprietary modules (Odoo's OPL-1 or other proprietary
/// terms) cannot be combined with AGPL or GPL ones in one database; unknown licenses are pointed out.
pub fn license_warnings<'a>(modules: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<String> {
    let mut by_family: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
    for (m, l) in modules {
        by_family.entry(family(l)).or_default().push(m.as_str());
    }
    let mut out = Vec::new();
    let copyleft: Vec<&str> =
        ["agpl", "gpl"].iter().flat_map(|f| by_family.get(f).cloned().unwrap_or_default()).collect();
    if let (Some(prop), false) = (by_family.get("proprietary"), copyleft.is_empty()) {
        out.push(format!(
            "proprietary modules ({}) cannot be combined with (A)GPL ones ({})",
            prop.join(", "),
            copyleft.join(", ")
        ));
    }
    if let Some(unknown) = by_family.get("unknown") {
        out.push(format!("no license stated: {}", unknown.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(depends: &[&str], license: &str) -> ModuleFacts {
        ModuleFacts {
            depends: depends.iter().map(|s| s.to_string()).collect(),
            installable: true,
            license: license.into(),
            ..Default::default()
        }
    }

    fn catalog() -> BTreeMap<String, ModuleFacts> {
        BTreeMap::from([
            ("partner_company_group".into(), facts(&["base_partner_company_group", "sale"], "AGPL-3")),
            ("base_partner_company_group".into(), facts(&["contacts"], "AGPL-3")),
            ("attachment_synchronize".into(), facts(&["attachment_queue", "queue_job"], "AGPL-3")),
            ("attachment_queue".into(), facts(&["base"], "AGPL-3")),
            ("jsonifier".into(), facts(&["base"], "LGPL-3")),
            ("views_migration_17".into(), ModuleFacts { installable: false, ..facts(&["base"], "AGPL-3") }),
            ("shiny_theme".into(), facts(&["web"], "OPL-1")),
            ("sentry".into(), ModuleFacts { external_python: vec!["sentry_sdk".into()], ..facts(&["base"], "AGPL-3") }),
        ])
    }

    #[test]
    fn the_closure_adds_dependencies_and_marks_them() {
        let c = closure(&catalog(), &["partner_company_group".into()]);
        assert!(c.is_valid(), "{c:?}");
        assert_eq!(c.modules["partner_company_group"], Origin::Chosen);
        assert_eq!(c.modules["base_partner_company_group"], Origin::Dependency);
        assert_eq!(c.modules["sale"], Origin::Odoo);
        assert_eq!(c.modules["contacts"], Origin::Odoo);
        assert_eq!(c.to_install(), ["base_partner_company_group", "partner_company_group"]);
    }

    #[test]
    fn missing_and_uninstallable_modules_are_errors_with_who_needs_them() {
        let c = closure(&catalog(), &["attachment_synchronize".into(), "views_migration_17".into(), "nope".into()]);
        assert!(!c.is_valid());
        let need = |m: &str, by: &str| Need { module: m.into(), by: by.into() };
        assert!(c.missing.contains(&need("queue_job", "attachment_synchronize")), "{c:?}");
        assert!(c.missing.contains(&need("nope", "chosen")));
        assert_eq!(c.not_installable, ["views_migration_17"]);
    }

    #[test]
    fn external_dependencies_and_license_mixes_are_warnings() {
        let c = closure(&catalog(), &["sentry".into(), "jsonifier".into()]);
        assert!(c.is_valid());
        assert_eq!(c.external, [Need { module: "python: sentry_sdk".into(), by: "sentry".into() }]);
        assert!(c.license_warnings.is_empty(), "LGPL and AGPL combine: {c:?}");
        let c = closure(&catalog(), &["shiny_theme".into(), "sentry".into()]);
        assert!(c.license_warnings[0].contains("shiny_theme") && c.license_warnings[0].contains("sentry"), "{c:?}");
    }

    #[test]
    fn a_dependency_cycle_ends() {
        let mut cat = catalog();
        cat.insert("a".into(), facts(&["b"], "AGPL-3"));
        cat.insert("b".into(), facts(&["a"], "AGPL-3"));
        let c = closure(&cat, &["a".into()]);
        assert_eq!(c.to_install(), ["a", "b"]);
    }

    #[test]
    fn module_names_and_lists_parse() {
        assert!(ModuleName::parse("partner_firstname").is_ok());
        for bad in ["", "Sale", "1x", "a-b", "a b"] {
            assert!(ModuleName::parse(bad).is_err(), "{bad}");
        }
        let l = parse_module_list("sale, crm\npartner_firstname  sale").unwrap();
        assert_eq!(l.iter().map(|m| m.as_str()).collect::<Vec<_>>(), ["sale", "crm", "partner_firstname"]);
        assert!(parse_module_list("sale, Bad").is_err());
    }

    #[test]
    fn odoos_own_modules_are_sorted_for_the_lookup() {
        assert!(ODOO_MODULES.windows(2).all(|w| w[0] < w[1]), "keep ODOO_MODULES sorted");
        assert!(is_odoo_module("sale") && is_odoo_module("l10n_be") && !is_odoo_module("partner_firstname"));
    }
}
