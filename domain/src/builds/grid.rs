//! The project's grid a page at a time: a project with a hundred branches and
//! thousands of kept builds shows twenty branches per page, each with its five
//! newest builds. The cost of a page follows what it shows, not what the
//! project has kept: the branches come in the grid's order from the
//! environments table, and each branch's newest builds through its
//! `(env_id, created_at)` index, never a scan and sort of every build.

use super::queue::{build_view, BUILD_SQL};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::wire::{EnvironmentView, GridBranch, GridPage};
use uuid::Uuid;

/// Branches per page unless asked otherwise (the console's default for a list).
pub const PER_PAGE: u32 = 20;
/// At most this many branches per page.
pub const MAX_PER_PAGE: u32 = 100;
/// Builds shown per branch.
pub const BUILDS_PER_BRANCH: i64 = 5;

/// Which page: 1-based, `per_page` branches (default 20, at most 100).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// 1-based page of branches (default 1).
    pub page: Option<u32>,
    /// Branches per page (default 20, at most 100).
    pub per_page: Option<u32>,
}

impl PageQuery {
    fn bounds(self) -> (u32, u32) {
        (self.page.unwrap_or(1).max(1), self.per_page.unwrap_or(PER_PAGE).clamp(1, MAX_PER_PAGE))
    }
}

/// One page of the grid of `project` as the caller sees it (404 when the
/// caller cannot see the project).
pub async fn page(p: &Platform, actor: &Actor, project: Uuid, which: PageQuery) -> DomainResult<GridPage> {
    let (page, per_page) = which.bounds();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let total: Option<i64> = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM ops.environments e WHERE e.project_id = p.id AND e.deleted_at IS NULL)
           FROM ops.projects p WHERE p.id = $1",
    )
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?;
    let total = total.ok_or(DomainError::NotFound("project"))?;
    let envs = sqlx::query(
        r#"SELECT e.id, e.branch, e.stage, e.created_at, h.label AS address
           FROM ops.environments e LEFT JOIN ops.env_hosts h ON h.env_id = e.id
          WHERE e.project_id = $1 AND e.deleted_at IS NULL
          ORDER BY CASE e.stage WHEN 'production' THEN 0 WHEN 'staging' THEN 1 ELSE 2 END, e.branch COLLATE "C", e.id
          LIMIT $2 OFFSET $3"#,
    )
    .bind(project)
    .bind(i64::from(per_page))
    .bind(i64::from(page - 1) * i64::from(per_page))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(EnvironmentView::from_row)
    .collect::<DomainResult<Vec<_>>>()?;
    let ids: Vec<Uuid> = envs.iter().map(|e| e.id).collect();
    let builds = sqlx::query(&format!(
        "SELECT newest.* FROM unnest($1::uuid[]) AS env(id) CROSS JOIN LATERAL (
            {BUILD_SQL} b WHERE b.env_id = env.id ORDER BY b.created_at DESC, b.seq DESC LIMIT $2) newest"
    ))
    .bind(&ids)
    .bind(BUILDS_PER_BRANCH)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut branches: Vec<GridBranch> = envs
        .into_iter()
        .map(|mut environment| {
            environment.open_address(p);
            GridBranch { environment, builds: Vec::new() }
        })
        .collect();
    for r in &builds {
        let b = build_view(r)?;
        if let Some(branch) = branches.iter_mut().find(|g| g.environment.id == b.env_id) {
            branch.builds.push(b);
        }
    }
    Ok(GridPage { branches, page, per_page, total: u32::try_from(total).unwrap_or(u32::MAX) })
}

/// The builds of one grid page as a flat list, newest first (the REST list
/// and the command line).
pub async fn page_builds(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    which: PageQuery,
) -> DomainResult<Vec<crate::wire::BuildView>> {
    let mut all: Vec<_> = page(p, actor, project, which).await?.branches.into_iter().flat_map(|b| b.builds).collect();
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.number.cmp(&a.number)));
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        assert_eq!(PageQuery::default().bounds(), (1, PER_PAGE));
        assert_eq!(PageQuery { page: Some(0), per_page: Some(0) }.bounds(), (1, 1));
        assert_eq!(PageQuery { page: Some(3), per_page: Some(10_000) }.bounds(), (3, MAX_PER_PAGE));
    }
}
