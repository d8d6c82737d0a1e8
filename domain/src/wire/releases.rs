//! Backups, restores, promotions, rollbacks, stage changes, release
//! settings and the audit trail's filters on the wire: what a release
//! manager and a sysadmin see and send.

use super::*;

wire! {
    /// A backup of an environment.
    pub struct BackupView {
        pub id: Uuid,
        pub env_id: Uuid,
        pub branch: String,
        pub stage: Stage,
        /// `daily`, `manual`, `pre_update`, `pre_restore` or `import`.
        pub kind: String,
        /// `pending`, `running`, `done`, `failed` (or `pruned`).
        pub state: String,
        /// `zip` (Odoo's backup zip) or `dump` (an imported pg_dump).
        pub format: String,
        pub size_bytes: Option<i64>,
        pub sha256: Option<String>,
        /// Bytes written so far while running.
        pub progress_bytes: i64,
        pub error: Option<String>,
        /// When a restore drill last proved this backup restores.
        pub verified_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
        pub started_at: Option<DateTime<Utc>>,
        pub finished_at: Option<DateTime<Utc>>,
        pub build_id: Option<Uuid>,
        pub filestore_files: Option<i64>,
    }

    /// A line of a backup's log.
    pub struct BackupEventView {
        pub id: i64,
        pub level: String,
        pub message: String,
        pub created_at: DateTime<Utc>,
    }

    /// When production is backed up and drilled, and what retention keeps.
    pub struct BackupSettings {
        /// Five-field cron, UTC (default `0 3 * * *`, daily at 03:00).
        #[serde(default)]
        pub backup_cron: Option<String>,
        /// Five-field cron, UTC (default `0 4 1 * *`, monthly).
        #[serde(default)]
        pub drill_cron: Option<String>,
        #[serde(default)]
        pub keep_daily: Option<i32>,
        #[serde(default)]
        pub keep_weekly: Option<i32>,
        #[serde(default)]
        pub keep_monthly: Option<i32>,
        /// Read only.
        #[serde(default)]
        pub next_backup_at: Option<DateTime<Utc>>,
        /// Read only: `passed` or `failed`.
        #[serde(default)]
        pub last_drill: Option<String>,
        #[serde(default)]
        pub last_drill_passed_at: Option<DateTime<Utc>>,
    }

    /// Restore a backup into an environment of its project.
    pub struct RestoreRequest {
        pub target_env: Uuid,
        /// For production: the project's name, typed.
        #[serde(default)]
        pub confirm: Option<String>,
    }

    /// A queued restore: the build that performs it, or (production of a
    /// project requiring approval) the request waiting for a second person.
    pub struct RestoreQueued {
        pub build_id: Option<Uuid>,
        pub backup_id: Uuid,
        #[serde(default)]
        pub approval_request: Option<Uuid>,
    }

    /// A production restore waiting for (or decided by) someone other than its requester.
    pub struct RestoreApprovalView {
        pub id: Uuid,
        pub project_id: Uuid,
        pub backup_id: Uuid,
        /// The backup's time, for people to recognise it (for those who may see production's backups).
        pub backup_created_at: Option<DateTime<Utc>>,
        /// `requested`, `approved`, `rejected`.
        pub state: String,
        pub requested_by: String,
        pub decided_by: Option<String>,
        /// The restoring build, once approved.
        pub build_id: Option<Uuid>,
        pub reason: Option<String>,
        pub created_at: DateTime<Utc>,
        /// Whether the caller may approve it now (release rights, not the requester).
        pub may_approve: bool,
        /// Whether the caller may reject or withdraw it.
        pub may_reject: bool,
    }

    /// Why a production restore is refused (optional).
    pub struct RestoreDecision {
        #[serde(default)]
        pub reason: Option<String>,
    }
}

wire! {
    /// What the Backups tab of an environment needs besides the list.
    pub struct BackupsContext {
        pub env: EnvironmentView,
        pub project_id: Uuid,
        pub project_name: String,
        pub project_slug: String,
        pub tenant_slug: String,
        /// What the caller may do on the project, per stage.
        pub allowed: Allowed,
        /// Environments a backup of this one may be restored into.
        pub targets: Vec<EnvironmentView>,
    }
}

wire! {
    /// A request to put a staging build's image in production.
    pub struct PromotionView {
        pub id: Uuid,
        pub project_id: Uuid,
        pub source_build: Uuid,
        pub source_number: i64,
        pub commit_sha: String,
        pub image_digest: String,
        /// `requested`, `deploying`, `deployed`, `rolling_back`, `rolled_back`, `failed`, `rejected`.
        pub state: String,
        pub requested_by: String,
        /// Who approved, by email.
        pub approvals: Vec<String>,
        pub required: i32,
        pub deploy_build: Option<Uuid>,
        pub rollback_build: Option<Uuid>,
        pub reason: Option<String>,
        pub created_at: DateTime<Utc>,
        pub finished_at: Option<DateTime<Utc>>,
        /// Whether the caller may approve it now (release rights, not the requester, not yet approved).
        pub may_approve: bool,
        /// The platform asked for it: a push to production built this candidate.
        #[serde(default)]
        pub candidate: bool,
        /// Who pushed the candidate's commit (its git author).
        #[serde(default)]
        pub pushed_by: Option<String>,
        /// Whether the caller asked for it and may still withdraw it.
        #[serde(default)]
        pub may_withdraw: bool,
    }

    /// Redeploy an earlier production build.
    pub struct RollbackRequest {
        pub build_id: Uuid,
        /// Also restore this backup of production (otherwise the database is kept).
        #[serde(default)]
        pub restore_backup: Option<Uuid>,
    }

    /// Why a promotion is refused.
    pub struct RejectRequest {
        #[serde(default)]
        pub reason: Option<String>,
    }
}

wire! {
    /// A queued rollback: the production build that performs it.
    pub struct RollbackQueued {
        pub build_id: Uuid,
    }
}

wire! {
    /// Which audit events to read; every field narrows.
    #[derive(Default)]
    pub struct AuditFilter {
        /// Part of the actor's email (`system` for background work).
        #[serde(default)]
        pub actor: Option<String>,
        /// An action or its start (`backup.` for every backup action).
        #[serde(default)]
        pub action: Option<String>,
        #[serde(default)]
        pub project: Option<Uuid>,
        /// One tenant's events.
        #[serde(default)]
        pub tenant: Option<Uuid>,
        #[serde(default)]
        pub since: Option<DateTime<Utc>>,
        #[serde(default)]
        pub until: Option<DateTime<Utc>>,
        #[serde(default)]
        pub limit: Option<i64>,
    }

    /// Whether the audit trail is as it was written.
    pub struct AuditVerification {
        pub intact: bool,
        pub events: i64,
        /// The first event that was edited, deleted or reordered.
        pub broken_at: Option<i64>,
        pub reason: Option<String>,
    }
}

wire! {
    /// Move a branch between `development` and `staging`.
    pub struct StageChange {
        pub stage: String,
    }
}

wire! {
    /// How a project releases: approvals a promotion needs, and the token
    /// scrubbing it adds to neutralisation of production copies.
    pub struct ReleaseSettings {
        /// Approvals by people other than the requester (1–5).
        #[serde(default)]
        pub required_approvals: Option<i32>,
        /// Extra SQL statements (`;`-separated), run as the copy's owner after the built-in rules.
        #[serde(default)]
        pub neutralize_sql: Option<String>,
        /// PostgreSQL regular expressions that no credential-like column of a copy may match.
        #[serde(default)]
        pub secret_patterns: Option<Vec<String>>,
    }
}

wire! {
    /// An upgrade preview as the API and the page show it (see `crate::upgrades`).
    pub struct PreviewView {
        pub id: Uuid,
        pub project_id: Uuid,
        pub build_id: Option<Uuid>,
        pub source_series: String,
        pub target_series: String,
        pub target_branch: String,
        /// `running`, `passed`, `warned`, `failed`.
        pub state: String,
        /// Once finished: `low`, `medium` or `blocked`.
        pub risk: Option<crate::types::Risk>,
        pub blockers: Vec<String>,
        pub concerns: Vec<String>,
        pub report: crate::types::UpgradeReport,
        pub requested_by: Option<String>,
        pub created_at: DateTime<Utc>,
        pub finished_at: Option<DateTime<Utc>>,
    }

    /// Preview production on a target series.
    pub struct NewPreview {
        /// The series to upgrade to, e.g. `18.0` (a supported one above the project's).
        pub target_series: String,
        /// The project's branch for that series; defaults to the production branch.
        #[serde(default)]
        pub branch: Option<String>,
    }

    /// A preview started: its id and its build.
    pub struct PreviewStarted {
        pub id: Uuid,
        pub build_id: Uuid,
    }
}

wire! {
    /// Fork a branch: the new branch's name (created in the repository at this branch's head).
    pub struct ForkBranch {
        pub branch: String,
    }
}

wire! {
    /// A branch's history (its page's first tab): its builds, newest first, and
    /// what people and the platform did to it (stage changes, restores, imports,
    /// promotions, rollbacks, forks, builds asked for).
    pub struct BranchHistory {
        pub builds: Vec<super::BuildView>,
        pub events: Vec<BranchEvent>,
    }

    /// One platform event of a branch.
    pub struct BranchEvent {
        pub at: DateTime<Utc>,
        pub actor_email: Option<String>,
        pub action: crate::types::AuditAction,
        /// The build it concerned, when one: its id and number.
        pub build: Option<(Uuid, i64)>,
        pub summary: serde_json::Value,
    }
}
