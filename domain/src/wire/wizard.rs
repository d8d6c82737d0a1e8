//! The tenant wizard on the wire: a draft as the browser shows it, what the
//! issuer's discovery document said, and the choices the steps offer.

use super::*;
use crate::types::{DraftData, FieldError, WizardStep};

wire! {
    /// A wizard in progress. The SSO client secret never comes back: only whether one is stored.
    pub struct DraftView {
        pub id: Uuid,
        pub data: DraftData,
        pub sso_secret_set: bool,
        /// What the last SSO Test found (none: not tested since the issuer changed).
        pub sso_found: Option<SsoFound>,
        pub expires_at: DateTime<Utc>,
        /// Set once Create made them.
        pub tenant_slug: Option<String>,
        pub instance_id: Option<Uuid>,
    }

    /// A step saved: the draft as stored (always, even with errors, so nothing typed is lost) and
    /// what is still wrong with the step (empty: the wizard may go on).
    pub struct StepSaved {
        pub draft: DraftView,
        pub step: WizardStep,
        pub errors: Vec<FieldError>,
    }

    /// What an OpenID Connect issuer's discovery document announced.
    pub struct SsoFound {
        pub issuer: String,
        pub authorization_endpoint: String,
        pub token_endpoint: String,
        pub userinfo_endpoint: Option<String>,
        pub jwks_uri: String,
        pub scopes_supported: Vec<String>,
        pub tested_at: DateTime<Utc>,
    }
}

wire! {
    /// Whether a tenant slug is free.
    pub struct SlugAvailability {
        pub slug: String,
        pub available: bool,
    }

    /// The closure of some bundles and single modules in a series.
    pub struct WizardClosureRequest {
        pub series: String,
        #[serde(default)]
        pub bundles: Vec<Uuid>,
        #[serde(default)]
        pub modules: String,
    }
}

/// A step as typed; `sso_secret`, when given, is sealed and replaces the stored one.
/// Its `Debug` leaves the secret out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StepInput {
    pub data: crate::types::DraftData,
    #[serde(default)]
    pub sso_secret: Option<String>,
}

impl std::fmt::Debug for StepInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepInput")
            .field("data", &self.data)
            .field("sso_secret", &self.sso_secret.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Create: the first instance's admin password, given once. Its `Debug` leaves it out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WizardCreate {
    pub admin_password: String,
}

impl std::fmt::Debug for WizardCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WizardCreate { admin_password: … }")
    }
}
