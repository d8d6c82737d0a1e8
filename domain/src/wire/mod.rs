//! Types that cross the wire: server-function results, REST bodies, forms.
//!
//! They are plain data (strings, uuids, times) and never hold a secret that is
//! stored server-side: password hashes and session/token hashes live only in
//! SSR-only row types. The one exception is [`CreatedToken::secret`], the
//! personal access token shown exactly once, at creation.
//! Inputs are plain strings on purpose: the domain parses them into newtypes
//! and answers a readable error instead of a serde message.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::types::{Allowed, BuildResult, BuildState, Stage};

/// The stand-in Odoo image OdooOps builds from its own binary (tests, demos,
/// machines that cannot pull `odoo:<version>`).
pub const STANDIN_IMAGE: &str = concat!("odooops/odoo-standin:", env!("CARGO_PKG_VERSION"));

/// `s` percent-encoded for a URL query value or path segment (links the
/// server and the browser both build).
pub fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

macro_rules! wire {
    ($($item:item)+) => {$(
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        $item
    )+};
}

mod catalog;
mod fleet;
mod instances;
mod integrations;
mod monitoring;
mod releases;
mod support;
mod wizard;
pub use catalog::*;
pub use fleet::*;
pub use instances::*;
pub use integrations::*;
pub use monitoring::*;
pub use releases::*;
pub use support::*;
pub use wizard::*;

wire! {
    /// The signed-in user.
    pub struct Me {
        pub id: Uuid,
        pub email: String,
        pub display_name: String,
        /// `platform_owner`, `platform_operator`, `auditor`, or none.
        pub platform_role: Option<String>,
        pub tenants: Vec<TenantSummary>,
        /// Whether the address is confirmed (self-service instances need it).
        #[serde(default)]
        pub email_verified: bool,
    }

    pub struct TenantSummary {
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        /// The caller's role in the tenant (`tenant_admin`, `member`), if a member.
        pub role: Option<String>,
        pub created_at: DateTime<Utc>,
    }

    pub struct ProjectSummary {
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub tenant_slug: String,
        pub slug: String,
        pub name: String,
        pub repo_url: String,
        pub odoo_version: String,
        pub production_branch: String,
        pub environment_count: i64,
        /// The caller's project role (`admin`, `developer`, `tester`), if any.
        pub my_role: Option<String>,
        /// What the caller may do on the project, per stage (the console shows only these actions).
        pub allowed: Allowed,
        pub created_at: DateTime<Utc>,
    }

    pub struct ProjectDetail {
        pub project: ProjectSummary,
        pub base_image: String,
        /// `pattern=stage` pairs, first match wins, e.g. `main=production, release/*=staging`.
        pub stage_rules: String,
        /// Add this as a read-only deploy key to a private repository (ssh URLs).
        pub deploy_key_public: Option<String>,
        /// Every live branch (REST); empty in the project page's header, whose grid pages them.
        pub environments: Vec<EnvironmentView>,
        /// Empty in the project page's header, which lists its people on its own.
        pub members: Vec<MemberView>,
    }

    pub struct EnvironmentView {
        pub id: Uuid,
        pub branch: String,
        pub stage: Stage,
        pub created_at: DateTime<Utc>,
        /// The stable address (`http://<project>.<domain>` for production,
        /// `http://<branch>-<project>.<domain>` otherwise), once a build started.
        #[serde(default)]
        pub address: Option<String>,
    }

    /// One page of a project's grid: its branches in the grid's order
    /// (production, staging, then development, each by name), each with its
    /// newest builds, and how many branches there are in all.
    pub struct GridPage {
        pub branches: Vec<GridBranch>,
        /// 1-based.
        pub page: u32,
        pub per_page: u32,
        /// Live branches of the project, on every page.
        pub total: u32,
    }

    pub struct GridBranch {
        pub environment: EnvironmentView,
        /// Newest first, at most five.
        pub builds: Vec<BuildView>,
    }

    /// A build, as in Runbot: `state` (pending, running, done) and, once done,
    /// `result` (ok, warn, ko, killed).
    pub struct BuildView {
        pub id: Uuid,
        #[serde(default)]
        pub project_id: Uuid,
        /// Sequential number, for people (#42).
        pub number: i64,
        pub env_id: Uuid,
        pub branch: String,
        pub stage: Stage,
        pub commit_sha: String,
        pub subject: String,
        pub author: String,
        /// push, pull_request, rebuild, poll or api.
        pub trigger: String,
        pub state: BuildState,
        pub result: Option<BuildResult>,
        pub reason: Option<String>,
        /// Whether its preview is serving now.
        pub live: bool,
        /// The image the build produced (`sha256:…`).
        pub image_digest: Option<String>,
        /// Its Odoo database.
        pub db_name: Option<String>,
        /// The build's name in preview URLs and the SSH user name (`b12-shop`).
        #[serde(default)]
        pub slug: Option<String>,
        pub created_at: DateTime<Utc>,
        pub started_at: Option<DateTime<Utc>>,
        pub finished_at: Option<DateTime<Utc>>,
        /// The preflight gates' results (empty before the phase ran).
        #[serde(default)]
        pub preflight: Vec<crate::types::GateResult>,
    }

    /// One line of a build's log or phase timeline.
    /// A build with what the caller may do with it (the build page).
    pub struct BuildDetail {
        pub build: BuildView,
        pub allowed: Allowed,
        /// How this build's changes reach production (production builds and
        /// candidates): through approved promotions, or in place.
        #[serde(default)]
        pub release_path: Option<String>,
        /// Where the build belongs, for the page's breadcrumb: tenant slug, project slug, project name.
        #[serde(default)]
        pub tenant_slug: String,
        #[serde(default)]
        pub project_slug: String,
        #[serde(default)]
        pub project_name: String,
        /// For a production build a promotion deployed: the staging build it came from, and its number.
        #[serde(default)]
        pub promoted_from: Option<(Uuid, i64)>,
    }

    pub struct RunEventView {
        pub id: i64,
        /// debug, info, warning or error.
        pub level: String,
        /// The phase or stream: checkout, discover, image, database, install, start, health, route, odoo, …
        pub source: String,
        pub message: String,
        /// For Odoo lines: logger, db, odoo_level; for phase boundaries: phase, status, duration_ms.
        pub meta: serde_json::Value,
        pub created_at: DateTime<Utc>,
    }

    /// How a project's builds behave. Every field is optional in a PATCH.
    pub struct BuildSettings {
        /// Check the repository every N minutes when it cannot send webhooks (0 = off).
        pub poll_minutes: Option<i32>,
        /// Build pull requests from forks.
        pub allow_fork_builds: Option<bool>,
        /// Development previews open without a share link.
        pub public_previews: Option<bool>,
        /// Live development builds kept per branch.
        pub keep_dev_builds: Option<i32>,
        /// Development previews idle this long are stopped.
        pub dev_idle_hours: Option<i32>,
        /// Web and SSH shells close this many minutes after opening (15–30).
        #[serde(default)]
        pub shell_ttl_minutes: Option<i32>,
        /// Production's outgoing SMTP relay, `host:port` (empty to remove).
        /// Development and staging mail is always caught instead.
        #[serde(default)]
        pub smtp_relay: Option<String>,
        /// The longest one run of a scheduled action may take on a serving
        /// environment before it is stopped (seconds, 5–86400; default 900).
        #[serde(default)]
        pub cron_limit_seconds: Option<i32>,
        /// A push to production builds a candidate that waits for an approved
        /// promotion instead of deploying in place; production restores wait for approval too.
        #[serde(default)]
        pub production_requires_approval: Option<bool>,
        /// Production's stable address opens only with a share link (default: public).
        #[serde(default)]
        pub private_production: Option<bool>,
        /// Days the serving Odoo's log lines are kept (1–365; default 14).
        #[serde(default)]
        pub log_retention_days: Option<i32>,
    }

    /// A link that opens a build's preview without an OdooOps account.
    pub struct ShareLink {
        pub url: String,
    }

    /// Where GitHub should send webhooks for a project (project admins only).
    pub struct WebhookSettings {
        /// Path of the endpoint on this console: `/api/webhooks/github/<project id>`.
        pub url: String,
        pub secret: String,
    }

    pub struct MemberView {
        pub user_id: Uuid,
        pub email: String,
        pub display_name: String,
        pub role: String,
    }

    pub struct TokenView {
        pub id: Uuid,
        pub name: String,
        /// The first characters of the token, to recognise it.
        pub prefix: String,
        pub created_at: DateTime<Utc>,
        pub expires_at: Option<DateTime<Utc>>,
        pub last_used_at: Option<DateTime<Utc>>,
        pub revoked: bool,
    }

    /// Returned once when a token is created; the secret is never shown again.
    pub struct CreatedToken {
        pub token: TokenView,
        pub secret: String,
    }

    pub struct AuditEventView {
        pub id: i64,
        pub at: DateTime<Utc>,
        pub actor_email: Option<String>,
        pub action: crate::types::AuditAction,
        pub target: String,
        pub tenant_id: Option<Uuid>,
        pub project_id: Option<Uuid>,
        pub summary: serde_json::Value,
        pub ip: Option<String>,
    }

    pub struct Health {
        /// `pass` when the database answers, else `fail`.
        pub status: String,
        pub database: String,
        /// `pass`, or why Docker-backed features are unavailable.
        pub docker: String,
    }

    pub struct NewProject {
        /// Tenant slug; defaults to the caller's only tenant.
        pub tenant: Option<String>,
        pub name: String,
        /// Defaults to a slug derived from the name.
        pub slug: Option<String>,
        pub repo_url: String,
        pub odoo_version: String,
        /// Defaults to `main=production, release/*=staging`.
        pub stage_rules: Option<String>,
        /// Defaults to the official `odoo:<version>`; `odooops/odoo-standin:<v>` for the stand-in.
        #[serde(default)]
        pub base_image: Option<String>,
        /// Production changes only through approved promotions (default: yes).
        #[serde(default)]
        pub production_requires_approval: Option<bool>,
    }

    pub struct NewTenant {
        pub name: String,
        pub slug: Option<String>,
    }

    pub struct NewToken {
        pub name: String,
        /// Days until the token expires: 1 to 365; none or 0 for the default, 90.
        pub expires_in_days: Option<u32>,
        /// `api` (the default) or `metrics`: reads `/metrics` and nothing else (platform staff).
        #[serde(default)]
        pub scope: Option<String>,
    }

    pub struct NewMember {
        pub email: String,
        pub role: String,
    }

    /// An invitation into a tenant, waiting for the invitee's answer.
    pub struct Invitation {
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub tenant_name: String,
        /// `tenant_admin` or `member`.
        pub role: String,
        pub created_at: DateTime<Utc>,
        pub expires_at: DateTime<Utc>,
        /// The project it also joins, and the role there (a project's invitation).
        #[serde(default)]
        pub project_name: Option<String>,
        #[serde(default)]
        pub project_role: Option<String>,
    }

    /// An invitation into a project waiting for its answer (the project's admins see them).
    pub struct ProjectInvitation {
        pub id: Uuid,
        pub email: String,
        /// The role in the project once accepted.
        pub role: String,
        pub invited_by: Option<String>,
        pub created_at: DateTime<Utc>,
        pub expires_at: DateTime<Utc>,
    }

    /// What "Build now" did with a branch's head, in a webhook's words (`queued build … of main`).
    pub struct BuildNowOutcome {
        pub outcome: String,
    }

    /// What adding someone to a project did: `added` (they were in its tenant already) or
    /// `invited` (a mail went out; they join when they accept).
    pub struct InviteOutcome {
        pub outcome: String,
        pub member: Option<MemberView>,
        pub invitation: Option<Uuid>,
    }

    /// A shell just opened on a build: attach the terminal with `token`
    /// (once) on the WebSocket at `ws_path`.
    pub struct ShellTicket {
        pub session_id: Uuid,
        pub token: String,
        pub ws_path: String,
        pub build_id: Uuid,
        pub build_number: i64,
        pub branch: String,
        /// `production` shells are framed red, `staging` yellow.
        pub stage: Stage,
        pub expires_at: DateTime<Utc>,
        pub idle_timeout_secs: i32,
    }

    /// A shell session (web or SSH) and how it ended.
    pub struct ShellSessionView {
        pub id: Uuid,
        pub build_id: Uuid,
        pub project_id: Uuid,
        pub user_email: String,
        /// `web` or `ssh`.
        pub via: String,
        pub stage: Stage,
        pub opened_at: DateTime<Utc>,
        pub attached_at: Option<DateTime<Utc>>,
        pub expires_at: DateTime<Utc>,
        pub closed_at: Option<DateTime<Utc>>,
        pub close_reason: Option<String>,
        pub bytes_in: i64,
        pub bytes_out: i64,
        /// Bytes beyond the transcript limit: counted, not stored.
        pub dropped_bytes: i64,
    }

    /// One entry of a shell transcript.
    pub struct TranscriptEvent {
        /// Milliseconds since the session opened.
        pub at_ms: i64,
        /// `in` (typed), `out` (printed), `resize` (`COLSxROWS`) or `note`.
        pub direction: String,
        /// The bytes, base64-encoded (terminal output is not always UTF-8).
        pub data_b64: String,
    }

    pub struct SshKeyView {
        pub id: Uuid,
        pub name: String,
        pub algorithm: String,
        pub bits: i32,
        /// `SHA256:…`, as `ssh-keygen -l` prints it.
        pub fingerprint: String,
        pub created_at: DateTime<Utc>,
        pub last_used_at: Option<DateTime<Utc>>,
    }

    pub struct NewSshKey {
        /// Defaults to the key's comment.
        #[serde(default)]
        pub name: String,
        /// One line of a `.pub` file: `ssh-ed25519 AAAA… comment`.
        pub public_key: String,
    }

    /// A caught message in a list.
    pub struct MailSummary {
        pub id: Uuid,
        pub env_id: Uuid,
        pub received_at: DateTime<Utc>,
        pub envelope_from: String,
        pub envelope_to: Vec<String>,
        pub subject: Option<String>,
        /// The `From:` header, decoded.
        pub from: Option<String>,
        pub to: Option<String>,
        pub size: i32,
        pub has_attachments: bool,
        pub read: bool,
        /// Could not be parsed: shown raw.
        pub malformed: bool,
    }

    pub struct MailAttachment {
        pub index: u32,
        pub name: String,
        pub content_type: String,
        pub size: u64,
    }

    /// One caught message, parsed.
    pub struct MailView {
        pub summary: MailSummary,
        pub cc: Option<String>,
        pub date: Option<DateTime<Utc>>,
        pub message_id: Option<String>,
        pub text: Option<String>,
        pub html: Option<String>,
        /// `(name, raw value)` in message order.
        pub headers: Vec<(String, String)>,
        pub attachments: Vec<MailAttachment>,
        pub parse_error: Option<String>,
    }

    /// The JSON body of every API error.
    pub struct ApiErrorBody {
        /// Stable, machine-readable: `invalid`, `unauthenticated`, `forbidden`,
        /// `not_found`, `conflict`, `throttled`, `unavailable`, `internal`.
        pub code: String,
        pub message: String,
    }
}

wire! {
    /// A message the console itself sent while no SMTP relay is configured
    /// (kept for platform owners; see `mail::console`).
    pub struct ConsoleMailSummary {
        pub id: Uuid,
        pub received_at: DateTime<Utc>,
        pub to: String,
        pub subject: String,
        pub read: bool,
    }

    /// One console message with its text (opening it is audited).
    pub struct ConsoleMailView {
        pub summary: ConsoleMailSummary,
        pub body: String,
    }
}
