//! Tenant instances on the wire: what the console, the REST API and the
//! self-service pages show and accept. The admin password travels only in
//! [`NewInstance`], once, and is never part of a response.

use super::*;
use crate::types::{DbStrategy, InstanceState, OperationKind, OperationState, QuotaLevel};

wire! {
    /// A tenant's Odoo workspace.
    pub struct InstanceView {
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub tenant_slug: String,
        pub name: String,
        pub subdomain: String,
        /// Where it answers: `http(s)://<subdomain>.<instances domain>`.
        pub url: String,
        pub odoo_version: String,
        pub modules: Vec<String>,
        pub plan: String,
        pub db_strategy: DbStrategy,
        pub state: InstanceState,
        /// Why it is in `error`, or how the last operation failed.
        pub reason: Option<String>,
        pub admin_login: String,
        /// The operations its state allows now (the console offers only these).
        pub offered: Vec<OperationKind>,
        /// Whether the caller may ask for operations (tenant admins, platform staff).
        pub may_operate: bool,
        /// Whether the caller may move its database between servers (platform staff).
        pub may_move_database: bool,
        /// The backing project (its builds, backups and shells).
        pub project_id: Uuid,
        /// Its branch (backups: `/environments/{env_id}/backups`).
        pub env_id: Uuid,
        /// The build serving it now (shell: `/builds/{id}/shell`), if any.
        pub serving_build: Option<Uuid>,
        pub created_at: DateTime<Utc>,
    }

    /// One change to an instance, with its live log (the build's, when a build carries it out).
    pub struct InstanceOperationView {
        pub id: Uuid,
        pub instance_id: Uuid,
        pub kind: OperationKind,
        pub state: OperationState,
        pub build_id: Option<Uuid>,
        pub backup_id: Option<Uuid>,
        pub error: Option<String>,
        pub requested_by: Option<String>,
        pub created_at: DateTime<Utc>,
        pub started_at: Option<DateTime<Utc>>,
        pub finished_at: Option<DateTime<Utc>>,
        /// `migrate_database`: where the database goes.
        pub target_strategy: Option<DbStrategy>,
        /// Steps of operations that run without a build (a migration's copy, verification, switch-over).
        pub log: Vec<String>,
        /// `migrate_database`: how long the instance did not serve, in milliseconds.
        pub downtime_ms: Option<i64>,
        /// `apply_bundle`: the bundle, and the modules it adds.
        #[serde(default)]
        pub bundle_id: Option<Uuid>,
        #[serde(default)]
        pub added_modules: Vec<String>,
    }

    /// A plan: what an instance may use, and its terms.
    pub struct PlanView {
        pub slug: String,
        pub name: String,
        /// CPUs its containers may use.
        pub cpu_limit: f64,
        pub memory_limit_mb: i32,
        /// Odoo worker processes (0: threaded).
        pub workers: i32,
        /// Database and filestore together.
        pub storage_mb: i32,
        pub max_users: i32,
        pub backup_retention_days: i32,
        pub support_level: String,
        pub monthly_price_cents: i32,
    }

    /// An instance's use of its plan, measured now.
    pub struct InstanceUsage {
        pub plan: PlanView,
        pub database_bytes: i64,
        pub filestore_bytes: i64,
        /// Both together, against `plan.storage_mb`.
        pub storage_used_bytes: i64,
        pub storage_limit_bytes: i64,
        /// Whole percent of the limit used.
        pub storage_percent: i64,
        pub level: QuotaLevel,
    }
}

/// A request for a new instance. Provisioning starts at once unless `draft`.
/// Its `Debug` leaves the password out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewInstance {
    /// The tenant it belongs to (its slug); may be left out by the admin of one tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    pub name: String,
    /// `<subdomain>.<instances domain>`; slug rules, reserved names refused.
    pub subdomain: String,
    #[serde(default)]
    pub odoo_version: Option<String>,
    /// Modules to install besides `base` (the bundle).
    #[serde(default)]
    pub modules: Vec<String>,
    #[serde(default)]
    pub plan: Option<String>,
    /// `shared` or `dedicated`; left out, the recommendation (see `recommend_strategy`) applies.
    /// Only platform staff may choose against it.
    #[serde(default)]
    pub db_strategy: Option<String>,
    /// A compliance requirement: the data must not share a PostgreSQL server.
    #[serde(default)]
    pub dedicated_required: bool,
    /// Expected database size (GB) and users at once, for the recommendation.
    #[serde(default)]
    pub expected_size_gb: Option<u32>,
    #[serde(default)]
    pub expected_users: Option<u32>,
    /// The Odoo admin's login (an email) and password; OdooOps keeps only its hash, until provisioning writes it.
    pub admin_login: String,
    pub admin_password: String,
    #[serde(default)]
    pub draft: bool,
    /// Odoo's language code (`fr_FR`), country (`BE`) and time zone (`Europe/Brussels`), when chosen.
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
}

impl std::fmt::Debug for NewInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewInstance")
            .field("tenant", &self.tenant)
            .field("name", &self.name)
            .field("subdomain", &self.subdomain)
            .field("odoo_version", &self.odoo_version)
            .field("modules", &self.modules)
            .field("plan", &self.plan)
            .field("db_strategy", &self.db_strategy)
            .field("dedicated_required", &self.dedicated_required)
            .field("expected_size_gb", &self.expected_size_gb)
            .field("expected_users", &self.expected_users)
            .field("admin_login", &self.admin_login)
            .field("admin_password", &"<redacted>")
            .field("draft", &self.draft)
            .field("lang", &self.lang)
            .field("country", &self.country)
            .field("timezone", &self.timezone)
            .finish()
    }
}

/// `POST /api/v1/instances/{id}/operations`.
/// Its `Debug` leaves the password out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OperationRequest {
    /// provision, pause, resume, restart, redeploy, backup, restore, migrate_database, decommission.
    pub kind: String,
    /// The same key answers the same operation (safe retries).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// For `restore`: the backup.
    #[serde(default)]
    pub backup_id: Option<Uuid>,
    /// For `provision` of a draft or a retry: the admin password to set (required when none is pending).
    #[serde(default)]
    pub admin_password: Option<String>,
    /// For `migrate_database` (platform staff): `shared` or `dedicated`; left out, the other one.
    #[serde(default)]
    pub db_strategy: Option<String>,
    /// For `apply_bundle`: the bundle whose modules (and their dependencies) to install.
    #[serde(default)]
    pub bundle_id: Option<Uuid>,
}

impl std::fmt::Debug for OperationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationRequest")
            .field("kind", &self.kind)
            .field("idempotency_key", &self.idempotency_key)
            .field("backup_id", &self.backup_id)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "<redacted>"))
            .field("db_strategy", &self.db_strategy)
            .field("bundle_id", &self.bundle_id)
            .finish()
    }
}

wire! {
    /// A custom domain of an instance (`erp.example.com`). It routes to the
    /// instance once verified: point its DNS at `dns_target`, then verify.
    pub struct CustomDomainView {
        pub id: Uuid,
        /// The instance it routes to, or
        pub instance_id: Option<Uuid>,
        /// the project whose production it routes to.
        #[serde(default)]
        pub project_id: Option<Uuid>,
        pub hostname: String,
        /// `pending` or `verified`.
        pub state: String,
        /// The address the console fetches to verify it; it must answer `token`.
        pub challenge_url: String,
        pub token: String,
        /// What the domain's DNS should point at (a CNAME to the instance's own host).
        pub dns_target: String,
        /// Why the last verification failed.
        pub last_error: Option<String>,
        pub checked_at: Option<DateTime<Utc>>,
        pub verified_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
    }

    /// `POST /api/v1/instances/{id}/domains`.
    pub struct NewCustomDomain {
        /// A host name (`erp.example.com`): not under the console's own domains.
        pub hostname: String,
    }

    /// A member of the instance's tenant, as its page lists them.
    pub struct InstanceMember {
        pub email: String,
        pub display_name: String,
        /// `tenant_admin` or `member`.
        pub role: String,
    }
}
