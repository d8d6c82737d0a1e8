//! Projects: a git repository, an Odoo version and branch→stage rules, owned
//! by a tenant, with members in the Odoo.sh roles.

use crate::access::Access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::{Capability, Email, OdooVersion, ProjectName, ProjectRole, RepoUrl, Slug, Stage, StageRules};
use crate::wire::{EnvironmentView, MemberView, NewMember, NewProject, ProjectDetail, ProjectSummary};
use sqlx::Row;
use uuid::Uuid;

mod build_settings;
mod people;
pub use build_settings::{build_settings, update_build_settings};
pub use people::{invitations, invite, revoke_invitation};

const SUMMARY_SQL: &str = "
    SELECT p.id, p.tenant_id, t.slug AS tenant_slug, p.slug, p.name, p.repo_url, p.odoo_version,
           p.stage_rules, p.base_image, p.deploy_key_public, p.created_at,
           (SELECT count(*) FROM ops.environments e WHERE e.project_id = p.id) AS environment_count,
           (SELECT m.role FROM ops.project_members m WHERE m.project_id = p.id AND m.user_id = ops.current_user_id()) AS my_role,
           p.id AS project_id, ops.my_membership_role(p.id) AS access_role,
           ops.is_platform_admin() AS access_platform_admin, ops.reads_everything() AS access_reads_everything
      FROM ops.projects p JOIN ops.tenants t ON t.id = p.tenant_id";

fn summary(r: &sqlx::postgres::PgRow) -> DomainResult<ProjectSummary> {
    let rules: StageRules =
        serde_json::from_value(r.get("stage_rules")).map_err(|e| anyhow::anyhow!("stored stage rules: {e}"))?;
    Ok(ProjectSummary {
        id: r.get("id"),
        tenant_id: r.get("tenant_id"),
        tenant_slug: r.get("tenant_slug"),
        slug: r.get("slug"),
        name: r.get("name"),
        repo_url: r.get("repo_url"),
        odoo_version: r.get("odoo_version"),
        production_branch: rules.production_branch().to_string(),
        environment_count: r.get("environment_count"),
        my_role: r.get("my_role"),
        allowed: Access::from_row(r).allowed(),
        created_at: r.get("created_at"),
    })
}

impl EnvironmentView {
    /// An environment row (`id`, `branch`, `stage`, `created_at`) as the wire shows it.
    pub(crate) fn from_row(r: &sqlx::postgres::PgRow) -> DomainResult<Self> {
        Ok(EnvironmentView {
            id: r.get("id"),
            branch: r.get("branch"),
            stage: crate::db::vocabulary(r, "stage")?,
            created_at: r.get("created_at"),
            address: r.try_get("address").ok().flatten(),
        })
    }

    /// The stored host label made into the address people open (the grid and the project's detail).
    pub(crate) fn open_address(&mut self, p: &Platform) {
        self.address = self.address.take().and_then(|label| crate::addresses::url(p, &label));
    }
}

/// Projects the caller can see, newest first.
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<ProjectSummary>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    // Instances' own projects are shown as instances, not here.
    let rows = sqlx::query(&format!("{SUMMARY_SQL} WHERE p.kind = 'repository' ORDER BY p.created_at DESC"))
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.iter().map(summary).collect()
}

/// Creates a project in a tenant the caller administers; the caller becomes
/// its admin and the production branch gets its environment.
pub async fn create(p: &Platform, actor: &Actor, input: NewProject) -> DomainResult<ProjectSummary> {
    let name = ProjectName::parse(&input.name)?;
    let slug = match input.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Slug::parse(s)?,
        None => Slug::from_name(name.as_str(), "project"),
    };
    let repo = RepoUrl::parse(&input.repo_url)?;
    if !p.builds.as_ref().is_some_and(|b| b.allow_local_repos) {
        if repo.is_local() {
            return Err(DomainError::Invalid(
                "use an https:// or ssh:// repository URL: repositories on the server itself are for its operator to allow"
                    .into(),
            ));
        }
        crate::builds::git::literal_host_allowed(repo.as_str()).map_err(DomainError::Invalid)?;
    }
    let version = OdooVersion::parse(&input.odoo_version)?;
    let rules = match input.stage_rules.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => StageRules::parse_text(text)?,
        None => StageRules::default_for(&crate::types::BranchName::parse("main").expect("valid")),
    };
    let base_image = match input.base_image.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(img) => parse_image_ref(img)?,
        None => version.official_image(),
    };
    let approvals = input.production_requires_approval.unwrap_or(true);
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant_id = resolve_admin_tenant(&mut tx, input.tenant.as_deref()).await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.projects (id, tenant_id, slug, name, repo_url, odoo_version, base_image, stage_rules,
                                   production_requires_approval)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(slug.as_str())
    .bind(name.as_str())
    .bind(repo.as_str())
    .bind(version.as_str())
    .bind(&base_image)
    .bind(serde_json::to_value(rules.rules()).map_err(anyhow::Error::from)?)
    .bind(approvals)
    .execute(&mut *tx)
    .await
    .map_err(|e| match DomainError::from(e) {
        DomainError::Conflict(_) => DomainError::Conflict(format!("this tenant already has a project `{slug}`")),
        other => other,
    })?;
    let key = deploy_key(slug.as_str()).await?;
    sqlx::query(
        "INSERT INTO ops.project_secrets (project_id, tenant_id, webhook_secret, deploy_key) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(crate::auth::random_token(32))
    .bind(&key.private)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE ops.projects SET deploy_key_public = $2 WHERE id = $1")
        .bind(id)
        .bind(&key.public)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO ops.project_members (project_id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'admin')")
        .bind(id)
        .bind(tenant_id)
        .bind(actor.user_id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage) VALUES ($1, $2, $3, $4, 'production')",
    )
    .bind(Uuid::new_v4())
    .bind(tenant_id)
    .bind(id)
    .bind(rules.production_branch().as_str())
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, actor, Event {
        action: AuditAction::ProjectCreate,
        target: format!("project:{slug}"),
        tenant_id: Some(tenant_id),
        project_id: Some(id),
        summary: serde_json::json!({"name": name.as_str(), "repo_url": repo.as_str(), "odoo_version": version.as_str(), "stage_rules": rules.to_text(), "production_requires_approval": approvals}),
    })
    .await?;
    let row = sqlx::query(&format!("{SUMMARY_SQL} WHERE p.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    summary(&row)
}

/// The tenant a new project goes to: the named one, or the caller's only admin tenant.
pub(crate) async fn resolve_admin_tenant(tx: &mut ScopedTx, slug: Option<&str>) -> DomainResult<Uuid> {
    // (id, slug, whether the caller is this tenant's own admin); platform admins see every tenant.
    let tenants: Vec<(Uuid, String, bool)> = sqlx::query_as(
        "SELECT t.id, t.slug, t.id IN (SELECT ops.my_admin_tenants()) FROM ops.tenants t
          WHERE t.id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin() ORDER BY t.slug",
    )
    .fetch_all(&mut **tx)
    .await?;
    if let Some(s) = slug.map(str::trim).filter(|s| !s.is_empty()) {
        return tenants.iter().find(|(_, slug, _)| slug == s).map(|(id, _, _)| *id).ok_or_else(|| {
            DomainError::Invalid(format!("tenant `{s}` does not exist or you cannot create projects in it"))
        });
    }
    let own: Vec<Uuid> = tenants.iter().filter(|t| t.2).map(|t| t.0).collect();
    match own.as_slice() {
        [id] => Ok(*id),
        [] if tenants.is_empty() => Err(DomainError::Forbidden),
        _ => Err(DomainError::Invalid("choose the tenant the project belongs to".into())),
    }
}

/// A project by tenant and project slug, with environments and members.
///
/// The project page's header: `environments` and `members` are left empty,
/// since the page reads its branches a page at a time (`builds::grid`) and
/// its people through their own list; a project with a hundred branches does
/// not load them all twice.
pub async fn detail(p: &Platform, actor: &Actor, tenant: &str, project: &str) -> DomainResult<ProjectDetail> {
    let condition = "t.slug = $1 AND p.slug = $2";
    detail_where(p, actor, condition, false, |q| q.bind(tenant.to_owned()).bind(project.to_owned())).await
}

/// A project by id, with its branches and members (REST).
pub async fn detail_by_id(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<ProjectDetail> {
    detail_where(p, actor, "p.id = $1", true, |q| q.bind(id)).await
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

async fn detail_where(
    p: &Platform,
    actor: &Actor,
    condition: &str,
    with_lists: bool,
    bind: impl for<'q> FnOnce(PgQuery<'q>) -> PgQuery<'q>,
) -> DomainResult<ProjectDetail> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let sql = format!("{SUMMARY_SQL} WHERE {condition}");
    let row = bind(sqlx::query(&sql)).fetch_optional(&mut *tx).await?.ok_or(DomainError::NotFound("project"))?;
    let mut detail = detail_of(&mut tx, &row, with_lists).await?;
    tx.commit().await?;
    // The stored label becomes the address people open.
    for e in &mut detail.environments {
        e.open_address(p);
    }
    Ok(detail)
}

async fn detail_of(tx: &mut ScopedTx, row: &sqlx::postgres::PgRow, with_lists: bool) -> DomainResult<ProjectDetail> {
    let project = summary(row)?;
    let rules: StageRules =
        serde_json::from_value(row.get("stage_rules")).map_err(|e| anyhow::anyhow!("stored stage rules: {e}"))?;
    if !with_lists {
        return Ok(ProjectDetail {
            base_image: row.get("base_image"),
            stage_rules: rules.to_text(),
            deploy_key_public: row.get("deploy_key_public"),
            environments: Vec::new(),
            members: Vec::new(),
            project,
        });
    }
    let environments = sqlx::query(
        "SELECT e.id, e.branch, e.stage, e.created_at, h.label AS address
           FROM ops.environments e LEFT JOIN ops.env_hosts h ON h.env_id = e.id
          WHERE e.project_id = $1 AND e.deleted_at IS NULL
          ORDER BY CASE e.stage WHEN 'production' THEN 0 WHEN 'staging' THEN 1 ELSE 2 END, e.created_at DESC",
    )
    .bind(project.id)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|r| EnvironmentView::from_row(&r))
    .collect::<DomainResult<_>>()?;
    let members = members_of(tx, project.id).await?;
    Ok(ProjectDetail {
        base_image: row.get("base_image"),
        stage_rules: rules.to_text(),
        deploy_key_public: row.get("deploy_key_public"),
        environments,
        members,
        project,
    })
}

async fn members_of(tx: &mut ScopedTx, project: Uuid) -> DomainResult<Vec<MemberView>> {
    Ok(sqlx::query(
        "SELECT m.user_id, u.email, u.display_name, m.role FROM ops.project_members m
           JOIN ops.users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.email",
    )
    .bind(project)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|r| MemberView {
        user_id: r.get("user_id"),
        email: r.get("email"),
        display_name: r.get("display_name"),
        role: r.get("role"),
    })
    .collect())
}

/// The people told about a project's trouble: its admin members and its tenant's admins
/// (as `ops.my_project_role` counts them). Read as the system.
pub async fn admin_emails(tx: &mut crate::db::ScopedTx, project: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT u.email FROM ops.project_members m JOIN ops.users u ON u.id = m.user_id
          WHERE m.project_id = $1 AND m.role = 'admin'
         UNION
         SELECT u.email FROM ops.tenant_members t JOIN ops.users u ON u.id = t.user_id
          WHERE t.tenant_id = (SELECT tenant_id FROM ops.projects WHERE id = $1) AND t.role = 'tenant_admin'",
    )
    .bind(project)
    .fetch_all(&mut **tx)
    .await
}

pub async fn members(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<Vec<MemberView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let visible: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ops.projects WHERE id = $1)")
        .bind(project)
        .fetch_one(&mut *tx)
        .await?;
    if !visible {
        return Err(DomainError::NotFound("project"));
    }
    let m = members_of(&mut tx, project).await?;
    tx.commit().await?;
    Ok(m)
}

/// Adds (or changes the role of) a member; the person must already have an
/// account in the project's tenant.
pub async fn add_member(p: &Platform, actor: &Actor, project: Uuid, input: NewMember) -> DomainResult<MemberView> {
    let email = Email::parse(&input.email)?;
    let role = ProjectRole::parse(input.role.trim())?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let access = crate::access::project(&mut tx, project).await?;
    access.require_project(Capability::ManageMembers, "managing members")?;
    let tenant_id = access.tenant_id;
    let user: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT u.id, u.display_name FROM ops.users u JOIN ops.tenant_members m ON m.user_id = u.id AND m.tenant_id = $2
          WHERE u.email = $1",
    )
    .bind(email.as_str())
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (user_id, display_name) =
        user.ok_or_else(|| {
            DomainError::Invalid(format!(
                "{email} is not a member of this project's tenant: invite them on the Tenants page; they join when they accept"
            ))
        })?;
    sqlx::query(
        "INSERT INTO ops.project_members (project_id, tenant_id, user_id, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role",
    )
    .bind(project)
    .bind(tenant_id)
    .bind(user_id)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ProjectMemberSet,
            target: format!("user:{user_id}"),
            tenant_id: Some(tenant_id),
            project_id: Some(project),
            summary: serde_json::json!({"email": email.as_str(), "role": role.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(MemberView { user_id, email: email.to_string(), display_name, role: role.as_str().into() })
}

pub async fn remove_member(p: &Platform, actor: &Actor, project: Uuid, user: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant_id: Option<Uuid> = sqlx::query_scalar(
        "DELETE FROM ops.project_members WHERE project_id = $1 AND user_id = $2 RETURNING tenant_id",
    )
    .bind(project)
    .bind(user)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(tenant_id) = tenant_id else { return Err(DomainError::NotFound("member")) };
    let admins_left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.project_members WHERE project_id = $1 AND role = 'admin'")
            .bind(project)
            .fetch_one(&mut *tx)
            .await?;
    if admins_left == 0 {
        return Err(DomainError::Conflict("a project keeps at least one admin".into()));
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ProjectMemberRemove,
            target: format!("user:{user}"),
            tenant_id: Some(tenant_id),
            project_id: Some(project),
            summary: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    // Their access ends with the membership (every request checks it); open shells end now.
    let ended = crate::shell::bridge::revoke(user, project);
    if ended > 0 {
        tracing::info!(%user, %project, ended, "ended the open shells of a removed member");
    }
    Ok(())
}

/// A Docker image reference as people type it: `name[:tag]`, lowercase path components.
pub fn parse_image_ref(s: &str) -> DomainResult<String> {
    let ok = !s.is_empty()
        && s.len() <= 200
        && !s.starts_with(['-', '/', ':'])
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:@".contains(c));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(DomainError::Invalid("base image: use a Docker image reference such as odoo:18.0".into()))
    }
}

/// A project's deploy key pair. The private half is never `Serialize`.
pub struct DeployKey {
    pub public: String,
    private: String,
}

impl DeployKey {
    /// The private key in OpenSSH format (kept server-side only).
    pub fn private_openssh(&self) -> &str {
        &self.private
    }
}

async fn deploy_key(slug: &str) -> DomainResult<DeployKey> {
    generate_ed25519(&format!("odooops-{slug}")).await
}

/// Generates an ed25519 key pair with OpenSSH's `ssh-keygen` (deploy keys, the SSH gateway's host key).
pub async fn generate_ed25519(comment: &str) -> DomainResult<DeployKey> {
    let dir = std::env::temp_dir().join(format!("odooops-key-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
    let file = dir.join("key");
    let out = tokio::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(&file)
        .output()
        .await
        .map_err(|e| {
            DomainError::Unavailable(format!("ssh-keygen is needed for SSH keys (apt-get install openssh-client): {e}"))
        })?;
    let result = if out.status.success() {
        let private = std::fs::read_to_string(&file).map_err(anyhow::Error::from)?;
        let public = std::fs::read_to_string(dir.join("key.pub")).map_err(anyhow::Error::from)?.trim().to_owned();
        Ok(DeployKey { public, private })
    } else {
        Err(DomainError::Internal(anyhow::anyhow!("ssh-keygen: {}", String::from_utf8_lossy(&out.stderr))))
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The private deploy key of a project, for fetching (system use only).
pub(crate) async fn deploy_key_private(tx: &mut ScopedTx, project: Uuid) -> DomainResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT deploy_key FROM ops.project_secrets WHERE project_id = $1")
        .bind(project)
        .fetch_optional(&mut **tx)
        .await?
        .flatten())
}

/// Moves a branch between development and staging, as Odoo.sh's drag and
/// drop does (project admins; audited). Production stays where it is: a
/// project has exactly one production branch. New builds take the new stage.
pub async fn set_stage(
    p: &Platform,
    actor: &Actor,
    env: Uuid,
    stage: &str,
) -> DomainResult<crate::wire::EnvironmentView> {
    let to = crate::types::Stage::parse(stage.trim())?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT e.tenant_id, e.project_id, e.branch, e.stage, e.created_at, ",
        crate::access::columns!("e.project_id"),
        " FROM ops.environments e WHERE e.id = $1 AND e.deleted_at IS NULL"
    ))
    .bind(env)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    Access::from_row(&r).require_project(Capability::ProjectSettings, "changing a branch's stage")?;
    let from: Stage = crate::db::vocabulary(&r, "stage")?;
    if from == Stage::Production || to == Stage::Production {
        return Err(DomainError::Invalid(
            "a project has exactly one production branch: branches move between development and staging".into(),
        ));
    }
    if r.get::<String, _>("branch").contains('~') {
        return Err(DomainError::Invalid(
            "this environment is the platform's (production's candidates or upgrade previews): it stays staging".into(),
        ));
    }
    if from != to {
        sqlx::query("UPDATE ops.environments SET stage = $2 WHERE id = $1")
            .bind(env)
            .bind(to.as_str())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            Event {
                action: AuditAction::EnvironmentStage,
                target: format!("env:{env}"),
                tenant_id: Some(r.get("tenant_id")),
                project_id: Some(r.get("project_id")),
                summary: serde_json::json!({"branch": r.get::<String, _>("branch"), "from": from, "to": to}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(crate::wire::EnvironmentView {
        id: env,
        branch: r.get("branch"),
        stage: to,
        created_at: r.get("created_at"),
        address: None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_refs() {
        for ok in ["odoo:18.0", "odooops/odoo-standin:0.1.0", "registry.local:5000/acme/odoo:17"] {
            assert!(super::parse_image_ref(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Odoo", "odoo 18", "-x", "a;b"] {
            assert!(super::parse_image_ref(bad).is_err(), "{bad}");
        }
    }
}
