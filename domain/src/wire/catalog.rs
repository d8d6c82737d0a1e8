//! The module catalog and bundles on the wire (the catalog pages, the bundle
//! editor, the wizard's bundle step and the REST API).

use super::*;
use crate::types::Closure;

wire! {
    /// A git repository in the OCA layout the catalog reads.
    pub struct CatalogSourceView {
        pub id: Uuid,
        pub name: String,
        pub repo_url: String,
        /// The branches read, one per Odoo series (`17.0`, `18.0`).
        pub series: Vec<String>,
        pub refresh_requested: bool,
        pub refreshed_at: Option<DateTime<Utc>>,
        /// Why the last refresh failed.
        pub refresh_error: Option<String>,
        /// Modules read from it, all series together.
        pub modules: i64,
    }

    /// `POST /api/v1/catalog/sources` (platform staff).
    pub struct NewCatalogSource {
        /// A short name (`oca-server-tools`): lowercase letters, digits, hyphens.
        pub name: String,
        /// `https://` or `ssh://` (a local path only where the server allows local repositories).
        pub repo_url: String,
        /// Branches to read, each an Odoo series.
        pub series: Vec<String>,
    }

    /// One module in one series, as its manifest describes it.
    pub struct CatalogModuleView {
        pub source: String,
        pub series: String,
        pub name: String,
        pub title: String,
        pub version: String,
        pub summary: String,
        pub category: String,
        pub license: String,
        pub author: String,
        pub depends: Vec<String>,
        pub installable: bool,
        pub external_python: Vec<String>,
        pub external_bin: Vec<String>,
        /// Why its manifest did not read (it is then never installed).
        pub problem: Option<String>,
    }

    /// A page of the catalog and how many modules match in all.
    pub struct CatalogPage {
        pub modules: Vec<CatalogModuleView>,
        pub total: i64,
        /// What the filters offer.
        pub series: Vec<String>,
        pub categories: Vec<String>,
        pub licenses: Vec<String>,
        pub sources: Vec<String>,
    }

    /// Something that uses a module (a bundle, an instance).
    pub struct UsedBy {
        pub id: Uuid,
        pub name: String,
        pub series: String,
    }

    /// A module's page: its versions by series, dependencies and dependents, and who uses it.
    pub struct ModuleDetail {
        pub name: String,
        pub versions: Vec<CatalogModuleView>,
        /// Modules of the catalog that depend on it, as `series: name`.
        pub dependents: Vec<String>,
        pub bundles: Vec<UsedBy>,
        pub instances: Vec<UsedBy>,
    }

    /// A named module set for one series, with its closure computed now.
    pub struct BundleView {
        pub id: Uuid,
        /// None: the platform's, offered to every tenant.
        pub tenant_id: Option<Uuid>,
        pub tenant_slug: Option<String>,
        pub name: String,
        pub series: String,
        pub modules: Vec<String>,
        pub description: String,
        pub closure: Closure,
        /// Whether the caller may change it.
        pub may_edit: bool,
        pub updated_at: DateTime<Utc>,
    }

    /// Creating or changing a bundle.
    pub struct BundleInput {
        /// The tenant's slug; none: a platform bundle (platform staff).
        #[serde(default)]
        pub tenant: Option<String>,
        pub name: String,
        pub series: String,
        /// Module names, separated by commas, spaces or new lines.
        pub modules: String,
        #[serde(default)]
        pub description: String,
    }

    /// The closure of some modules in a series (the bundle editor and the wizard ask as you type).
    pub struct ClosureRequest {
        pub series: String,
        pub modules: String,
    }
}
