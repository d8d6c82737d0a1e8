//! The role matrix applied to one build or environment.
//!
//! Seeing a build only says the caller is in its project. What they may do
//! with it depends on the stage (see [`crate::types::roles`]): a developer
//! reads staging's history but not its logs, and neither rebuilds nor kills
//! production. Every operation on a build or a branch loads its
//! [`StageAccess`] in its own transaction and asks it before acting; the
//! row-level-security policies say the same again (`ops.may`), in case a
//! query ever forgets.

use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::types::{Capability, ProjectRole, Stage};
use sqlx::Row;
use uuid::Uuid;

/// The caller on one project: their role there and their platform rights.
#[derive(Debug, Clone)]
pub(crate) struct StageAccess {
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    role: Option<ProjectRole>,
    platform_admin: bool,
    /// Auditors and platform staff read everything, and change nothing through it.
    reads_everything: bool,
}

impl StageAccess {
    /// Whether the caller may use `cap` on a branch of `stage`.
    pub fn allows(&self, stage: Stage, cap: Capability) -> bool {
        let read = matches!(cap, Capability::Logs | Capability::Mails | Capability::History | Capability::Status);
        self.platform_admin || (read && self.reads_everything) || self.role.is_some_and(|role| role.allows(stage, cap))
    }

    /// [`Self::allows`], or `Denied` saying who may (`what` names the action, e.g. "rebuilding").
    pub fn require(&self, stage: Stage, cap: Capability, what: &str) -> DomainResult<()> {
        if self.allows(stage, cap) {
            return Ok(());
        }
        let who: Vec<&str> = ProjectRole::ALL
            .iter()
            .filter(|r| r.allows(stage, cap))
            .map(|r| match r {
                ProjectRole::Admin => "admins",
                ProjectRole::Developer => "developers",
                ProjectRole::Tester => "testers",
            })
            .collect();
        Err(DomainError::Denied(match who.as_slice() {
            [] => format!("{what} is not possible on {}", stage.as_str()),
            [one] => format!("{what} on {} is for the project's {one}", stage.as_str()),
            [.., last] => format!(
                "{what} on {} is for the project's {} and {last}",
                stage.as_str(),
                who[..who.len() - 1].join(", ")
            ),
        }))
    }
}

fn access(r: &sqlx::postgres::PgRow) -> StageAccess {
    StageAccess {
        tenant_id: r.get("tenant_id"),
        project_id: r.get("project_id"),
        role: r.get::<Option<String>, _>("role").and_then(|s| ProjectRole::parse(&s).ok()),
        platform_admin: r.get("platform_admin"),
        reads_everything: r.get("reads_everything"),
    }
}

fn stage(s: String) -> DomainResult<Stage> {
    Ok(Stage::parse(&s).map_err(|e| anyhow::anyhow!("a stored stage does not parse: {e}"))?)
}

/// A build as the matrix sees it.
#[derive(Debug, Clone)]
pub(crate) struct BuildAccess {
    pub access: StageAccess,
    /// The stage the build was made for (its logs and database belong to it).
    pub build_stage: Stage,
    /// The stage of its branch now (what a new build of it would be).
    pub env_stage: Stage,
    /// Whether the branch still exists.
    pub env_live: bool,
}

/// The caller's access to a build they can see (`NotFound` otherwise).
pub(crate) async fn build(tx: &mut ScopedTx, build: Uuid) -> DomainResult<BuildAccess> {
    let r = sqlx::query(
        "SELECT b.tenant_id, b.project_id, b.stage, e.stage AS env_stage,
                e.deleted_at IS NULL AS env_live, ops.my_project_role(b.project_id) AS role,
                ops.is_platform_admin() AS platform_admin, ops.reads_everything() AS reads_everything
           FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    Ok(BuildAccess {
        access: access(&r),
        build_stage: stage(r.get("stage"))?,
        env_stage: stage(r.get("env_stage"))?,
        env_live: r.get("env_live"),
    })
}

/// A branch (environment) as the matrix sees it.
#[derive(Debug, Clone)]
pub(crate) struct EnvAccess {
    pub access: StageAccess,
    pub stage: Stage,
}

/// The caller's access to a live environment they can see (`NotFound` otherwise).
pub(crate) async fn environment(tx: &mut ScopedTx, env: Uuid) -> DomainResult<EnvAccess> {
    let r = sqlx::query(
        "SELECT e.tenant_id, e.project_id, e.stage, ops.my_project_role(e.project_id) AS role,
                ops.is_platform_admin() AS platform_admin, ops.reads_everything() AS reads_everything
           FROM ops.environments e WHERE e.id = $1 AND e.deleted_at IS NULL",
    )
    .bind(env)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    Ok(EnvAccess { access: access(&r), stage: stage(r.get("stage"))? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_role(role: Option<ProjectRole>) -> StageAccess {
        StageAccess {
            tenant_id: Uuid::nil(),
            project_id: Uuid::nil(),
            role,
            platform_admin: false,
            reads_everything: false,
        }
    }

    #[test]
    fn denials_say_who_may() {
        let dev = as_role(Some(ProjectRole::Developer));
        let e = dev.require(Stage::Production, Capability::Upgrade, "rebuilding").unwrap_err();
        assert_eq!(e.to_string(), "rebuilding on production is for the project's admins");
        let e = dev.require(Stage::Staging, Capability::Logs, "reading build logs").unwrap_err();
        assert_eq!(e.to_string(), "reading build logs on staging is for the project's admins and testers");
        assert!(dev.require(Stage::Development, Capability::Upgrade, "rebuilding").is_ok());
        assert!(!as_role(None).allows(Stage::Development, Capability::Logs));
    }

    #[test]
    fn auditors_read_and_change_nothing() {
        let auditor = StageAccess { reads_everything: true, ..as_role(None) };
        assert!(auditor.allows(Stage::Production, Capability::Logs));
        assert!(!auditor.allows(Stage::Development, Capability::Upgrade));
    }
}
