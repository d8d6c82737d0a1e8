//! The tenant wizard's steps and what each one checks, shared by the browser
//! (errors next to their field as you type, Next disabled until the step is
//! valid) and the server (the same checks again before a draft is saved).
//! Identity → Plan → Bundle → Infra → SSO → Review.

use super::{Country, CustomDomain, DbStrategy, Email, Language, OdooVersion, Slug, TimeZone};
use serde::{Deserialize, Serialize};

/// A step of the wizard; its name is the `step=` of the wizard's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

/// Step five: how people sign in to the instances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
