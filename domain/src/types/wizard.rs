//! The tenant wizard's steps and what each one checks, shared by the browser
//! (errors next to their field as you type, Next disabled until the step is
//! valid) and the server (the same checks again before a draft is saved).
//! Identity → Plan → Bundle → Infra → SSO → Review.

use super::{
    parse_module_list, recommend_strategy, Country, CustomDomain, DbStrategy, Email, Language, OdooVersion, Slug,
    StrategyNeeds, TimeZone,
};
use serde::{Deserialize, Serialize};

/// A step of the wizard; its name is the `step=` of the wizard's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WizardStep {
    Identity,
    Plan,
    Bundle,
    Infra,
    Sso,
    Review,
}

impl WizardStep {
    pub const ALL: [WizardStep; 6] = [
        WizardStep::Identity,
        WizardStep::Plan,
        WizardStep::Bundle,
        WizardStep::Infra,
        WizardStep::Sso,
        WizardStep::Review,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WizardStep::Identity => "identity",
            WizardStep::Plan => "plan",
            WizardStep::Bundle => "bundle",
            WizardStep::Infra => "infra",
            WizardStep::Sso => "sso",
            WizardStep::Review => "review",
        }
    }

    /// The step named in a URL; the first one for anything else.
    pub fn from_url(s: &str) -> WizardStep {
        WizardStep::ALL.into_iter().find(|w| w.as_str() == s).unwrap_or(WizardStep::Identity)
    }

    pub fn title(self) -> &'static str {
        match self {
            WizardStep::Identity => "Identity",
            WizardStep::Plan => "Plan",
            WizardStep::Bundle => "Bundle",
            WizardStep::Infra => "Infra",
            WizardStep::Sso => "SSO",
            WizardStep::Review => "Review",
        }
    }

    fn index(self) -> usize {
        WizardStep::ALL.iter().position(|w| *w == self).expect("listed")
    }

    pub fn next(self) -> Option<WizardStep> {
        WizardStep::ALL.get(self.index() + 1).copied()
    }

    pub fn previous(self) -> Option<WizardStep> {
        self.index().checked_sub(1).map(|i| WizardStep::ALL[i])
    }
}

/// A field's error, shown next to it (`field` is the form input's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn check<T>(errors: &mut Vec<FieldError>, field: &str, parsed: Result<T, super::ParseError>) {
    if let Err(e) = parsed {
        errors.push(FieldError { field: field.to_owned(), message: e.reason });
    }
}

fn labels(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    for label in value.split(',').map(str::trim).filter(|l| !l.is_empty()) {
        if label.chars().count() > 40 || !label.chars().all(|c| c.is_alphanumeric() || " -_".contains(c)) {
            errors.push(FieldError {
                field: field.to_owned(),
                message: format!("`{label}`: labels are up to 40 letters, digits, spaces, hyphens or underscores"),
            });
        }
    }
}

/// Step one: who the organisation is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Identity {
    pub organisation: String,
    pub slug: String,
    pub contact_email: String,
    pub country: String,
    pub language: String,
    pub timezone: String,
    /// A region label (`eu-west`), for filtering and placement.
    #[serde(default)]
    pub region: String,
    /// Group labels, separated by commas.
    #[serde(default)]
    pub groups: String,
}

impl Identity {
    pub fn errors(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let name = self.organisation.trim();
        if name.is_empty() || name.chars().count() > 120 {
            e.push(FieldError { field: "organisation".into(), message: "1 to 120 characters".into() });
        }
        check(&mut e, "slug", Slug::parse(self.slug.trim()));
        check(&mut e, "contact_email", Email::parse(&self.contact_email));
        check(&mut e, "country", Country::parse(&self.country));
        check(&mut e, "language", Language::parse(&self.language));
        check(&mut e, "timezone", TimeZone::parse(&self.timezone));
        labels(&mut e, "region", &self.region);
        labels(&mut e, "groups", &self.groups);
        e
    }
}

/// Step four: where and how its instances run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Infra {
    pub series: String,
    /// A size profile's name (`small`, `medium`, `large`).
    pub size: String,
    /// Empty: the recommendation.
    #[serde(default)]
    pub db_strategy: String,
    /// `daily` or `hourly`.
    pub backups: String,
}

/// The size profiles instances are made in.
pub const SIZE_PROFILES: &[&str] = &["small", "medium", "large"];

/// What a size profile expects: database size (GB) and users at once, the
/// figures the database strategy is recommended from.
pub fn size_needs(size: &str) -> (u32, u32) {
    match size.trim() {
        "large" => (40, 100),
        "medium" => (10, 30),
        _ => (2, 10),
    }
}

/// A line describing a size profile, for the Infra step and the size profiles page.
pub fn size_summary(size: &str) -> String {
    let (gb, users) = size_needs(size);
    format!("about {gb} GB of data, up to {users} people at once")
}

impl Infra {
    pub fn errors(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check(&mut e, "series", OdooVersion::parse(&self.series));
        if !SIZE_PROFILES.contains(&self.size.trim()) {
            e.push(FieldError { field: "size".into(), message: format!("one of {}", SIZE_PROFILES.join(", ")) });
        }
        if !self.db_strategy.trim().is_empty() {
            check(&mut e, "db_strategy", DbStrategy::parse(self.db_strategy.trim()));
        }
        if !matches!(self.backups.trim(), "daily" | "hourly") {
            e.push(FieldError { field: "backups".into(), message: "daily or hourly".into() });
        }
        e
    }

    /// Where the database should live for `plan` at this size, and why.
    pub fn recommendation(&self, plan: &str) -> (DbStrategy, &'static str) {
        let (expected_size_gb, expected_users) = size_needs(&self.size);
        recommend_strategy(StrategyNeeds { plan, dedicated_required: false, expected_size_gb, expected_users })
    }

    /// The chosen strategy, or the recommendation when none was chosen.
    pub fn strategy(&self, plan: &str) -> DbStrategy {
        DbStrategy::parse(self.db_strategy.trim()).unwrap_or_else(|_| self.recommendation(plan).0)
    }

    /// The backup schedule as a cron expression (UTC).
    pub fn backup_cron(&self) -> &'static str {
        if self.backups.trim() == "hourly" {
            "0 * * * *"
        } else {
            "0 3 * * *"
        }
    }
}

/// Step three: bundles and single modules (their closure is checked against
/// the catalog of the chosen series on the server, and shown as you pick).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BundleChoice {
    #[serde(default)]
    pub bundles: Vec<uuid::Uuid>,
    /// Module names, separated by commas, spaces or new lines.
    #[serde(default)]
    pub modules: String,
}

impl BundleChoice {
    pub fn errors(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check(&mut e, "modules", parse_module_list(&self.modules));
        if self.bundles.len() > 20 {
            e.push(FieldError { field: "bundles".into(), message: "at most 20 bundles".into() });
        }
        e
    }
}

/// Everything the wizard collects, as typed (a draft keeps it between steps).
/// The SSO client secret is not here: it goes to the server sealed, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DraftData {
    #[serde(default)]
    pub identity: Identity,
    /// A plan's slug.
    #[serde(default)]
    pub plan: String,
    #[serde(default)]
    pub bundle: BundleChoice,
    #[serde(default)]
    pub infra: Infra,
    #[serde(default)]
    pub sso: Sso,
}

impl Default for DraftData {
    fn default() -> Self {
        DraftData {
            identity: Identity { language: "en_US".into(), timezone: "UTC".into(), ..Identity::default() },
            plan: String::new(),
            bundle: BundleChoice::default(),
            infra: Infra {
                series: "17.0".into(),
                size: "small".into(),
                db_strategy: String::new(),
                backups: "daily".into(),
            },
            sso: Sso { kind: "none".into(), scopes: "openid email profile".into(), ..Sso::default() },
        }
    }
}

impl DraftData {
    /// What is wrong with one step's fields (Review: with any step).
    pub fn errors(&self, step: WizardStep) -> Vec<FieldError> {
        match step {
            WizardStep::Identity => self.identity.errors(),
            WizardStep::Plan => match Slug::parse(self.plan.trim()) {
                Ok(_) => Vec::new(),
                Err(_) => vec![FieldError { field: "plan".into(), message: "choose a plan".into() }],
            },
            WizardStep::Bundle => self.bundle.errors(),
            WizardStep::Infra => self.infra.errors(),
            WizardStep::Sso => self.sso.errors(),
            WizardStep::Review => self.first_invalid().map(|s| self.errors(s)).unwrap_or_default(),
        }
    }

    /// The first step that is not valid yet.
    pub fn first_invalid(&self) -> Option<WizardStep> {
        WizardStep::ALL.into_iter().filter(|s| *s != WizardStep::Review).find(|s| !self.errors(*s).is_empty())
    }
}

/// The message for `field` among `errors`, if any.
pub fn error_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.clone())
}

/// Step five: how people sign in to the instances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Sso {
    /// `none` or `oidc`.
    pub kind: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub client_id: String,
    /// Space-separated; `openid` is required.
    #[serde(default)]
    pub scopes: String,
}

impl Sso {
    pub fn errors(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        match self.kind.trim() {
            "none" => {}
            "oidc" => {
                if let Err(m) = oidc_issuer(&self.issuer) {
                    e.push(FieldError { field: "issuer".into(), message: m });
                }
                let id = self.client_id.trim();
                if id.is_empty() || id.len() > 200 || id.chars().any(char::is_whitespace) {
                    e.push(FieldError { field: "client_id".into(), message: "1 to 200 characters, no spaces".into() });
                }
                if !self.scopes.split_whitespace().any(|s| s == "openid") {
                    e.push(FieldError {
                        field: "scopes".into(),
                        message: "OpenID Connect needs the `openid` scope".into(),
                    });
                }
            }
            _ => e.push(FieldError { field: "kind".into(), message: "none or OpenID Connect".into() }),
        }
        e
    }
}

/// An OpenID Connect issuer: an `https://` URL on a public host name, without
/// credentials, query or fragment (its discovery document is fetched from it).
pub fn oidc_issuer(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let rest = s.strip_prefix("https://").ok_or("the issuer is an https:// URL")?;
    if rest.contains(['@', '?', '#', ' ']) {
        return Err("the issuer has no credentials, query or fragment".into());
    }
    let host = rest.split('/').next().unwrap_or_default();
    let name =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    CustomDomain::parse(name).map_err(|e| format!("the issuer's host: {}", e.reason))?;
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_go_in_order_and_urls_name_them() {
        assert_eq!(WizardStep::Identity.next(), Some(WizardStep::Plan));
        assert_eq!(WizardStep::Review.next(), None);
        assert_eq!(WizardStep::Identity.previous(), None);
        assert_eq!(WizardStep::from_url("bundle"), WizardStep::Bundle);
        assert_eq!(WizardStep::from_url("nonsense"), WizardStep::Identity);
        assert_eq!(WizardStep::ALL.map(|s| s.as_str()).len(), 6);
    }

    #[test]
    fn identity_errors_sit_on_their_fields() {
        let good = Identity {
            organisation: "Acme Belgium".into(),
            slug: "acme-be".into(),
            contact_email: "it@acme.example".into(),
            country: "be".into(),
            language: "fr_BE".into(),
            timezone: "Europe/Brussels".into(),
            region: "eu-west".into(),
            groups: "retail, pilot".into(),
        };
        assert_eq!(good.errors(), vec![]);
        let bad = Identity { slug: "Acme!".into(), country: "Belgium".into(), groups: "ok, <script>".into(), ..good };
        let errors = bad.errors();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["slug", "country", "groups"]);
    }

    #[test]
    fn a_draft_is_checked_step_by_step() {
        let mut d = DraftData::default();
        assert_eq!(d.first_invalid(), Some(WizardStep::Identity));
        d.identity = Identity {
            organisation: "Acme".into(),
            slug: "acme".into(),
            contact_email: "it@acme.example".into(),
            country: "BE".into(),
            ..d.identity
        };
        assert_eq!(d.first_invalid(), Some(WizardStep::Plan));
        d.plan = "standard".into();
        assert_eq!(d.first_invalid(), None, "{:?}", d.errors(WizardStep::Review));
        d.bundle.modules = "sale, Bad!".into();
        assert_eq!(d.first_invalid(), Some(WizardStep::Bundle));
        assert!(error_for(&d.errors(WizardStep::Review), "modules").is_some());
        assert_eq!(d.infra.strategy("standard"), DbStrategy::Shared);
        let large = Infra { size: "large".into(), ..d.infra.clone() };
        assert_eq!(large.recommendation("standard").0, DbStrategy::Dedicated);
        assert_eq!(large.strategy("standard"), DbStrategy::Dedicated);
        assert_eq!(Infra { backups: "hourly".into(), ..large }.backup_cron(), "0 * * * *");
    }

    #[test]
    fn infra_and_sso_are_checked() {
        let infra =
            Infra { series: "17.0".into(), size: "medium".into(), db_strategy: String::new(), backups: "daily".into() };
        assert!(infra.errors().is_empty());
        let bad =
            Infra { series: "12.0".into(), size: "huge".into(), db_strategy: "cloud".into(), backups: "weekly".into() };
        assert_eq!(bad.errors().len(), 4);
        let sso = Sso {
            kind: "oidc".into(),
            issuer: "https://login.example.com/realms/acme".into(),
            client_id: "odoo".into(),
            scopes: "openid email".into(),
        };
        assert!(sso.errors().is_empty(), "{:?}", sso.errors());
        for issuer in [
            "http://login.example.com",
            "https://127.0.0.1",
            "https://user:pw@login.example.com",
            "https://localhost:8443",
        ] {
            let s = Sso { issuer: issuer.into(), ..sso.clone() };
            assert_eq!(s.errors()[0].field, "issuer", "{issuer}");
        }
        assert_eq!(Sso { scopes: "email".into(), ..sso.clone() }.errors()[0].field, "scopes");
        assert!(Sso { kind: "none".into(), ..Sso::default() }.errors().is_empty());
    }
}
