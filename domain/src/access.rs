//! One access module: the caller's rights on a project, resolved once per
//! transaction and asked at every domain entry point.
//!
//! Seeing a row only says the caller is in its tenant or project (row-level
//! security). What they may do with it comes from the matrix in
//! [`crate::types::roles`], applied to their project role by membership (tenant
//! admins count as project admins, through `ops.my_membership_role`; platform
//! staff are not members by their office) and their platform rights.
//! The same [`Access`] hands views an [`Allowed`], so the console offers
//! exactly the actions the server accepts. The policies (`ops.may`) say the
//! same again, in case a query ever forgets.

use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::types::{Allowed, Capability, ProjectRole, Stage};
use sqlx::Row;
use uuid::Uuid;

/// The columns [`Access::from_row`] reads besides `tenant_id` and
/// `project_id`, for a query in which `$project` is the project's id.
macro_rules! columns {
    ($project:literal) => {
        concat!(
            "ops.my_membership_role(",
            $project,
            ") AS access_role, ops.is_platform_admin() AS access_platform_admin, ",
            "ops.reads_everything() AS access_reads_everything"
        )
    };
}
pub(crate) use columns;

/// The caller on one project: their role there and their platform rights.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    role: Option<ProjectRole>,
    platform_admin: bool,
    /// Auditors and platform staff read everything, and change nothing through it.
    reads_everything: bool,
}

impl Access {
    /// Reads a row selected with [`columns!`], `tenant_id` and `project_id`.
    pub fn from_row(r: &sqlx::postgres::PgRow) -> Self {
        Access {
            tenant_id: r.get("tenant_id"),
            project_id: r.get("project_id"),
            role: r.get::<Option<String>, _>("access_role").and_then(|s| ProjectRole::parse(&s).ok()),
            platform_admin: r.get("access_platform_admin"),
            reads_everything: r.get("access_reads_everything"),
        }
    }

    /// Whether the caller may use `cap` on a branch of `stage` (any stage for
    /// project-level capabilities).
    pub fn allows(&self, stage: Stage, cap: Capability) -> bool {
        use Capability::*;
        // A shell or an editor puts a person inside a tenant's container: for
        // the project's members only, never for platform staff by their office.
        let inside = matches!(cap, Shell | Editor);
        let read = matches!(cap, Logs | Mails | History | Status);
        (self.platform_admin && !inside)
            || (read && self.reads_everything)
            || self.role.is_some_and(|role| role.allows(stage, cap))
    }

    /// What the caller may do on every stage, for views.
    pub fn allowed(&self) -> Allowed {
        Allowed::from_fn(|stage, cap| self.allows(stage, cap))
    }

    /// [`Self::allows`], or `Denied` saying who may (`what` names the action, e.g. "rebuilding").
    pub fn require(&self, stage: Stage, cap: Capability, what: &str) -> DomainResult<()> {
        if self.allows(stage, cap) {
            return Ok(());
        }
        Err(DomainError::Denied(denial(stage, cap, what)))
    }

    /// [`Self::require`] for a project-level capability (settings, members, promotion, audit).
    pub fn require_project(&self, cap: Capability, what: &str) -> DomainResult<()> {
        debug_assert!(cap.project_level(), "{cap:?} depends on the stage");
        self.require(Stage::Production, cap, what)
    }
}

/// "`what` on `stage` is for the project's admins and testers".
fn denial(stage: Stage, cap: Capability, what: &str) -> String {
    let who: Vec<&str> = ProjectRole::ALL
        .iter()
        .filter(|r| r.allows(stage, cap))
        .map(|r| match r {
            ProjectRole::Admin => "admins",
            ProjectRole::Developer => "developers",
            ProjectRole::Tester => "testers",
            ProjectRole::ReleaseManager => "release managers",
        })
        .collect();
    let place = if cap.project_level() { String::new() } else { format!(" on {}", stage.as_str()) };
    match who.as_slice() {
        [] => format!("{what} is not possible{place}"),
        [one] => format!("{what}{place} is for the project's {one}"),
        [.., last] => format!("{what}{place} is for the project's {} and {last}", who[..who.len() - 1].join(", ")),
    }
}

fn stage(s: String) -> DomainResult<Stage> {
    Ok(Stage::parse(&s).map_err(|e| anyhow::anyhow!("a stored stage does not parse: {e}"))?)
}

/// The caller's access to a project they can see (`NotFound` otherwise).
pub(crate) async fn project(tx: &mut ScopedTx, project: Uuid) -> DomainResult<Access> {
    let r = sqlx::query(concat!(
        "SELECT tenant_id, id AS project_id, ",
        columns!("id"),
        " FROM ops.projects WHERE id = $1"
    ))
    .bind(project)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(DomainError::NotFound("project"))?;
    Ok(Access::from_row(&r))
}

/// A build as the matrix sees it.
#[derive(Debug, Clone)]
pub(crate) struct BuildAccess {
    pub access: Access,
    /// The stage the build was made for (its logs and database belong to it).
    pub build_stage: Stage,
    /// The stage of its branch now (what a new build of it would be).
    pub env_stage: Stage,
    /// Whether the branch still exists.
    pub env_live: bool,
}

/// The caller's access to a build they can see (`NotFound` otherwise).
pub(crate) async fn build(tx: &mut ScopedTx, build: Uuid) -> DomainResult<BuildAccess> {
    let r = sqlx::query(concat!(
        "SELECT b.tenant_id, b.project_id, b.stage, e.stage AS env_stage, e.deleted_at IS NULL AS env_live, ",
        columns!("b.project_id"),
        " FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id WHERE b.id = $1"
    ))
    .bind(build)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    Ok(BuildAccess {
        access: Access::from_row(&r),
        build_stage: stage(r.get("stage"))?,
        env_stage: stage(r.get("env_stage"))?,
        env_live: r.get("env_live"),
    })
}

/// A branch (environment) as the matrix sees it.
#[derive(Debug, Clone)]
pub(crate) struct EnvAccess {
    pub access: Access,
    pub stage: Stage,
}

/// The caller's access to a live environment they can see (`NotFound` otherwise).
pub(crate) async fn environment(tx: &mut ScopedTx, env: Uuid) -> DomainResult<EnvAccess> {
    let r = sqlx::query(concat!(
        "SELECT e.tenant_id, e.project_id, e.stage, ",
        columns!("e.project_id"),
        " FROM ops.environments e WHERE e.id = $1 AND e.deleted_at IS NULL"
    ))
    .bind(env)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    Ok(EnvAccess { access: Access::from_row(&r), stage: stage(r.get("stage"))? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_role(role: Option<ProjectRole>) -> Access {
        Access { tenant_id: Uuid::nil(), project_id: Uuid::nil(), role, platform_admin: false, reads_everything: false }
    }

    #[test]
    fn denials_say_who_may() {
        let dev = as_role(Some(ProjectRole::Developer));
        let e = dev.require(Stage::Production, Capability::Upgrade, "rebuilding").unwrap_err();
        assert_eq!(e.to_string(), "rebuilding on production is for the project's admins");
        let e = dev.require(Stage::Staging, Capability::Logs, "reading build logs").unwrap_err();
        assert_eq!(
            e.to_string(),
            "reading build logs on staging is for the project's admins, testers and release managers"
        );
        assert!(dev.require(Stage::Development, Capability::Upgrade, "rebuilding").is_ok());
        assert!(!as_role(None).allows(Stage::Development, Capability::Logs));
        let e = dev.require_project(Capability::RequestPromotion, "requesting a promotion").unwrap_err();
        assert_eq!(e.to_string(), "requesting a promotion is for the project's admins, testers and release managers");
    }

    #[test]
    fn auditors_read_and_change_nothing() {
        let auditor = Access { reads_everything: true, ..as_role(None) };
        assert!(auditor.allows(Stage::Production, Capability::Logs));
        assert!(!auditor.allows(Stage::Development, Capability::Upgrade));
        assert!(!auditor.allowed().can_project(Capability::Promote));
    }

    #[test]
    fn platform_staff_administer_but_do_not_get_inside_containers() {
        let staff = Access { platform_admin: true, reads_everything: true, ..as_role(None) };
        assert!(staff.allows(Stage::Production, Capability::Upgrade));
        assert!(staff.allowed().can_project(Capability::ProjectSettings));
        assert!(!staff.allows(Stage::Development, Capability::Shell), "shells are for members");
        let member = Access { platform_admin: true, ..as_role(Some(ProjectRole::Admin)) };
        assert!(member.allows(Stage::Production, Capability::Shell));
    }

    #[test]
    fn views_carry_exactly_what_require_accepts() {
        for role in std::iter::once(None).chain(ProjectRole::ALL.iter().copied().map(Some)) {
            let a = as_role(role);
            let allowed = a.allowed();
            for stage in Stage::ALL {
                for cap in Capability::ALL {
                    assert_eq!(
                        allowed.can(*stage, *cap),
                        a.require(*stage, *cap, "x").is_ok(),
                        "{role:?} {stage:?} {cap:?}"
                    );
                }
            }
        }
    }
}
