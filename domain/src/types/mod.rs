//! Parse, don't validate: every value that comes from outside (forms, REST,
//! webhooks, the CLI) becomes one of these newtypes at the edge, and the rest
//! of the code can rely on the rule having been checked once.

mod address;
mod branch;
mod catalog;
mod email;
mod findings;
mod hostname;
mod ids;
mod instance;
mod locale;
mod preflight;
mod project_fields;
mod roles;
mod secret;
mod slug;
mod supabase;
mod upgrade;
mod vocabulary;
mod webhook;
mod wizard;

pub use address::{dns_label, stable_label_candidates};
pub use branch::{BranchName, BranchPattern, StageRule, StageRules};
pub use catalog::{
    closure, is_odoo_module, license_warnings, parse_module_list, Closure, ModuleFacts, ModuleName, Need, Origin,
    ODOO_MODULES,
};
pub use email::Email;
pub use findings::{findings, next_series, Finding, InstanceFacts};
pub use hostname::CustomDomain;
pub use ids::{EnvironmentId, ProjectId, TenantId, TokenId, UserId};
pub use instance::{
    quota_level, recommend_strategy, DbStrategy, InstanceState, OperationKind, OperationState, QuotaLevel,
    StrategyNeeds, Subdomain, DEDICATED_PLANS, RESERVED_SUBDOMAINS,
};
pub use locale::{Country, Language, TimeZone};
pub use preflight::{summary as preflight_summary, worst, Gate, GateResult, Verdict};
pub use project_fields::{OdooVersion, ProjectName, RepoUrl};
pub use roles::{Allowed, Capability, PlatformRole, ProjectRole, Stage, TenantRole};
pub use secret::Password;
pub use slug::Slug;
pub use supabase::{kit_call, KitAccess, KitCall, SupabaseRef, KIT_CALLS};
pub use upgrade::{parse_target, upgrade_targets, ModuleRow, Risk, RowCount, UpgradeReport};
pub use vocabulary::{AuditAction, BuildResult, BuildState};
pub use webhook::{
    dashboard_url, webhook_backoff_secs, webhook_events, webhook_url, PING_EVENT, WEBHOOK_EVENTS, WEBHOOK_MAX_ATTEMPTS,
};
pub use wizard::{
    error_for, oidc_issuer, size_needs, size_summary, BundleChoice, DraftData, FieldError, Identity, Infra, Sso,
    WizardStep, SIZE_PROFILES,
};

/// Why a value was refused. The message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        ParseError { field, reason: reason.into() }
    }
}

/// Implements `Deserialize` through `parse`, so bad input is refused by serde too.
macro_rules! parsed_serde {
    ($t:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $t {
            type Err = crate::types::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t>::parse(s)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}
pub(crate) use parsed_serde;

/// A closed vocabulary stored and sent as strings (`snake_case`): parsed at the
/// edge, matched exhaustively inside, and described as a string enum in OpenAPI.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(s: &str) -> Result<Self, crate::types::ParseError> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(crate::types::ParseError::new($field, format!(
                        "must be one of: {}", [$($s),+].join(", ")))),
                }
            }

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        crate::types::parsed_serde!($name);

        #[cfg(feature = "server")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($s),+]))
                    .into()
            }
        }
        #[cfg(feature = "server")]
        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use string_enum;
