//! The platform team's fleet views on the wire: tenants with what their list
//! filters on, the operations timeline, subscriptions.

use super::*;

wire! {
    /// A tenant as the tenants list shows it.
    pub struct FleetTenant {
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        /// `active`, `suspended` or `archived`.
        pub status: String,
        pub region: String,
        pub groups: Vec<String>,
        pub contact_email: Option<String>,
        /// The plan of its open subscription, if any.
        pub plan: Option<String>,
        pub subscription: Option<String>,
        pub instances: i64,
        pub active_instances: i64,
        pub created_at: DateTime<Utc>,
    }

    /// One instance operation in the fleet's timeline.
    /// The fleet's use of the platform's capacity: what active plans reserve
    /// and what instances store, against what the container runtime has.
    pub struct FleetCapacity {
        /// Instances provisioning or serving.
        pub running: i64,
        /// CPUs and memory the plans of those instances may use.
        pub cpu_reserved: f64,
        pub memory_reserved_mb: i64,
        /// What the runtime's nodes have (0 when it could not be asked).
        pub cpu_total: f64,
        pub memory_total_mb: i64,
        /// Storage the plans of live instances allot, and what they use (last measured).
        pub storage_allotted_mb: i64,
        pub storage_used_bytes: i64,
        /// The runtime in a line, or why it could not be asked.
        pub runtime: String,
    }

    pub struct FleetOperation {
        pub id: Uuid,
        pub instance_id: Uuid,
        /// The instance's subdomain.
        pub instance: String,
        pub tenant_slug: String,
        pub kind: String,
        pub state: String,
        pub error: Option<String>,
        pub build_id: Option<Uuid>,
        pub created_at: DateTime<Utc>,
        pub finished_at: Option<DateTime<Utc>>,
    }

    /// Someone in a tenant.
    pub struct TenantMember {
        pub email: String,
        pub display_name: String,
        /// `tenant_admin` or `member`.
        pub role: String,
    }

    /// A tenant's page: its row, and each tab's content.
    pub struct TenantDetail {
        pub summary: FleetTenant,
        pub country: Option<String>,
        pub language: Option<String>,
        pub timezone: Option<String>,
        /// Its OpenID Connect issuer, when it signs in through one.
        pub sso_issuer: Option<String>,
        pub sso_tested_at: Option<DateTime<Utc>>,
        pub subscription: Option<SubscriptionView>,
        pub members: Vec<TenantMember>,
        pub instances: Vec<InstanceView>,
        /// The last 7 days of its audit trail, newest first, at most 500.
        pub events: Vec<AuditEventView>,
        /// Its instances' latest backups, newest first (at most 50).
        #[serde(default)]
        pub backups: Vec<TenantBackup>,
        /// Bundles of its own, by name and series.
        #[serde(default)]
        pub bundles: Vec<String>,
    }

    /// One backup of one of a tenant's instances.
    pub struct TenantBackup {
        pub id: Uuid,
        pub instance: String,
        pub kind: String,
        pub state: String,
        pub size_bytes: Option<i64>,
        pub verified_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
    }

    /// The platform's run-time settings.
    pub struct PlatformSettingsView {
        /// Whether anyone may sign up now.
        pub signup_open: bool,
        /// What `ODOOOPS_SIGNUP_OPEN` says (the setting overrides it once an owner sets it).
        pub signup_open_flag: bool,
        /// Instances a tenant may keep (platform staff are not held to it).
        pub instances_per_tenant: i64,
        /// PostgreSQL extensions modules may use (the preflight gate; plpgsql always).
        #[serde(default)]
        pub preflight_extensions: Vec<String>,
        /// Relations in a build's database from which the preflight gate warns, and fails.
        #[serde(default)]
        pub preflight_objects_warn: i64,
        #[serde(default)]
        pub preflight_objects_fail: i64,
    }

    /// Changing platform settings: the ones given.
    pub struct PlatformSettingsInput {
        #[serde(default)]
        pub signup_open: Option<bool>,
        #[serde(default)]
        pub instances_per_tenant: Option<i64>,
        #[serde(default)]
        pub preflight_extensions: Option<Vec<String>>,
        #[serde(default)]
        pub preflight_objects_warn: Option<i64>,
        #[serde(default)]
        pub preflight_objects_fail: Option<i64>,
    }

    /// A tenant's single sign-on (the client secret stays sealed on the server).
    pub struct SsoConfigView {
        pub tenant_slug: String,
        pub tenant_name: String,
        pub issuer: String,
        pub client_id: String,
        pub scopes: String,
        pub has_secret: bool,
        pub tested_at: Option<DateTime<Utc>>,
    }

    /// A proposed move of a tenant's subscription to another plan.
    pub struct PlanChangeView {
        pub id: Uuid,
        pub tenant_slug: String,
        pub from_plan: Option<String>,
        pub to_plan: String,
        pub reason: String,
        /// `proposed`, `approved` or `rejected`.
        pub state: String,
        pub proposed_by: Option<String>,
        pub decided_by: Option<String>,
        pub created_at: DateTime<Utc>,
        pub decided_at: Option<DateTime<Utc>>,
    }

    /// Proposing a plan for a tenant (its slug).
    pub struct NewPlanChange {
        pub tenant: String,
        pub to_plan: String,
        #[serde(default)]
        pub reason: String,
    }

    /// Deciding a proposal.
    pub struct PlanChangeDecision {
        pub approve: bool,
    }

    /// Someone with a platform role.
    pub struct PlatformMember {
        pub email: String,
        pub display_name: String,
        /// `platform_owner`, `platform_operator`, `auditor` or `finance_owner`.
        pub role: String,
    }

    /// Granting (or, with no role, withdrawing) a platform role.
    pub struct PlatformRoleGrant {
        pub email: String,
        #[serde(default)]
        pub role: Option<String>,
    }

    /// A tenant's subscription (the manual billing provider's record).
    pub struct SubscriptionView {
        pub id: Uuid,
        pub tenant_slug: String,
        pub tenant_name: String,
        pub plan: String,
        pub plan_name: String,
        pub monthly_price_cents: i32,
        /// `manual`: invoiced by the platform team; OdooOps processes no payment.
        pub provider: String,
        /// `pending`, `active`, `past_due` or `cancelled`.
        pub status: String,
        pub started_at: Option<DateTime<Utc>>,
    }
}
