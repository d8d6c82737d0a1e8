//! Tenant instances: an Odoo workspace run for a customer organisation on
//! its own subdomain, from an Odoo version and a bundle of modules, with the
//! admin credentials its requester chose.
//!
//! An instance is backed by a project of kind `instance` with one production
//! branch, so it reuses what projects have (builds: image, database, install,
//! start, health, route; backups; shells for tenant admins; the audit trail;
//! the reconciler). Every change is an operation (see `run`), accepted here
//! only when the state machine in [`crate::types::OperationKind`] allows it.

mod apply;
pub mod credentials;
pub mod dedicated;
pub mod domains;
mod members;
pub mod migrate;
mod operations;
pub mod quota;
pub mod reach;
pub mod run;

pub use members::members;
pub(crate) use operations::visible;
pub use operations::{operations, request};
use operations::{queue, Details};

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::db::{vocabulary, ScopedTx};
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{
    recommend_strategy, AuditAction, DbStrategy, Email, InstanceState, OdooVersion, OperationKind, ProjectName,
    StrategyNeeds, Subdomain,
};
use crate::wire::{InstanceOperationView, InstanceView, NewInstance, OperationRequest};
use sha2::Digest;
use sqlx::Row;
use uuid::Uuid;

/// The Odoo version of instances whose request names none.
pub const DEFAULT_VERSION: &str = "17.0";
/// Modules in a bundle, at most.
const MAX_MODULES: usize = 300;

const VIEW_SQL: &str = "
    SELECT i.id, i.tenant_id, t.slug AS tenant_slug, i.name, i.subdomain, i.odoo_version, i.modules, i.plan,
           i.db_strategy, i.state, i.reason, i.admin_login, i.project_id, i.env_id, i.created_at,
           (SELECT b.id FROM ops.builds b WHERE b.env_id = i.env_id AND b.live
             ORDER BY b.finished_at DESC NULLS LAST LIMIT 1) AS serving_build,
           (i.tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin()) AS may_operate,
           ops.is_platform_admin() AS platform_staff
      FROM ops.instances i JOIN ops.tenants t ON t.id = i.tenant_id";

/// Where instances answer: `ODOOOPS_INSTANCES_DOMAIN`, else the preview domain.
pub fn domain_of(p: &Platform) -> String {
    p.builds.as_ref().map(|b| b.instances_domain.clone()).unwrap_or_else(|| "localhost".into())
}

/// `scheme://<subdomain>.<domain>[:port]`, as the console's own URL is reached.
pub fn url_of(p: &Platform, subdomain: &str) -> String {
    crate::builds::preview::preview_origin(&p.settings.public_url, subdomain, &domain_of(p))
}

fn view(p: &Platform, r: &sqlx::postgres::PgRow) -> DomainResult<InstanceView> {
    let state: InstanceState = vocabulary(r, "state")?;
    let subdomain: String = r.get("subdomain");
    Ok(InstanceView {
        id: r.get("id"),
        tenant_id: r.get("tenant_id"),
        tenant_slug: r.get("tenant_slug"),
        name: r.get("name"),
        url: url_of(p, &subdomain),
        subdomain,
        odoo_version: r.get("odoo_version"),
        modules: r.get("modules"),
        plan: r.get("plan"),
        db_strategy: vocabulary(r, "db_strategy")?,
        state,
        reason: r.get("reason"),
        admin_login: r.get("admin_login"),
        offered: OperationKind::offered(state),
        may_operate: r.get("may_operate"),
        may_move_database: r.get("platform_staff"),
        project_id: r.get("project_id"),
        env_id: r.get("env_id"),
        serving_build: r.get("serving_build"),
        created_at: r.get("created_at"),
    })
}

/// An Odoo module's technical name.
fn module_name(m: &str) -> DomainResult<String> {
    let m = m.trim();
    let ok = (2..=64).contains(&m.len())
        && m.starts_with(|c: char| c.is_ascii_lowercase())
        && m.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(m.to_owned())
    } else {
        Err(DomainError::Invalid(format!("`{m}` is not an Odoo module name (lowercase letters, digits and _)")))
    }
}

/// A subdomain that is also not the console's own first host label.
fn subdomain(p: &Platform, s: &str) -> DomainResult<Subdomain> {
    let sub = Subdomain::parse(s)?;
    let console = p.settings.public_host();
    if console.split('.').next().is_some_and(|label| label.eq_ignore_ascii_case(sub.as_str())) {
        return Err(DomainError::Invalid(format!("`{}` is the console's own name; choose another", sub.as_str())));
    }
    Ok(sub)
}

/// Whether `s` is free (and valid): the live check of the self-service form.
pub async fn subdomain_available(p: &Platform, s: &str) -> DomainResult<bool> {
    let sub = subdomain(p, s)?;
    let mut tx = p.db.begin_as(crate::builds::queue::SYSTEM_USER).await?;
    // A branch's or production's stable address holds its name too.
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM ops.instances WHERE subdomain = $1) OR ops.env_host_taken($1)",
    )
    .bind(sub.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(!taken)
}

/// Creates an instance in a tenant the caller administers, and queues its
/// provisioning unless it is a draft. Audited.
pub async fn create(p: &Platform, actor: &Actor, input: NewInstance) -> DomainResult<InstanceView> {
    let name = ProjectName::parse(&input.name)?;
    let sub = subdomain(p, &input.subdomain)?;
    let version = OdooVersion::parse(input.odoo_version.as_deref().map(str::trim).unwrap_or(DEFAULT_VERSION))?;
    let mut modules: Vec<String> = input.modules.iter().map(|m| module_name(m)).collect::<DomainResult<_>>()?;
    modules.sort();
    modules.dedup();
    modules.retain(|m| m != "base");
    if modules.len() > MAX_MODULES {
        return Err(DomainError::Invalid(format!("a bundle has at most {MAX_MODULES} modules")));
    }
    let plan = input.plan.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("starter");
    crate::types::Slug::parse(plan).map_err(|_| DomainError::Invalid(format!("`{plan}` is not a plan")))?;
    let (recommended, _) = recommend_strategy(StrategyNeeds {
        plan,
        dedicated_required: input.dedicated_required,
        expected_size_gb: input.expected_size_gb.unwrap_or(0),
        expected_users: input.expected_users.unwrap_or(0),
    });
    let strategy = match input.db_strategy.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => recommended,
        Some(s) => DbStrategy::parse(s)?,
    };
    if strategy != recommended && !actor.administers_platform() {
        return Err(DomainError::Denied(format!(
            "this workspace's database goes on the {recommended} server (the recommendation); \
             only platform staff choose otherwise"
        )));
    }
    if strategy == DbStrategy::Dedicated {
        // Each dedicated server is a process of this host: outside the plans that include one, staff decide.
        if !actor.administers_platform() && !crate::types::DEDICATED_PLANS.contains(&plan) {
            return Err(DomainError::Denied(format!(
                "a PostgreSQL server of its own comes with the {} plan; choose it, or ask platform staff",
                crate::types::DEDICATED_PLANS[0]
            )));
        }
        dedicated_available(p)?;
    }
    let login = Email::parse(&input.admin_login)?;
    let (lang, country, timezone) = locale(&input)?;
    if !actor.administers_platform() && !crate::accounts::email_verified(p, actor).await? {
        return Err(DomainError::Denied(
            "confirm your e-mail address first: open the link we sent (or ask for it again)".into(),
        ));
    }
    credentials::check_password(login.as_str(), &input.admin_password)?;
    if p.builds.is_none() {
        return Err(DomainError::Unavailable("instances need builds to be configured".into()));
    }
    let official = version.official_image();
    let base_image = if p.runtime.image_exists(&official).await.unwrap_or(false) {
        official
    } else {
        crate::wire::STANDIN_IMAGE.to_owned()
    };
    // Cheap checks first, in a short transaction: the costly hash only once
    // the request is otherwise acceptable, and never while holding a connection.
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = crate::projects::resolve_admin_tenant(&mut tx, input.tenant.as_deref()).await?;
    let terms = quota::plan(&mut tx, plan).await?;
    let (live, free): (i64, bool) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM ops.instances WHERE tenant_id = $1 AND state <> 'decommissioned'),
                NOT EXISTS (SELECT 1 FROM ops.instances WHERE subdomain = $2) AND NOT ops.env_host_taken($2)",
    )
    .bind(tenant)
    .bind(sub.as_str())
    .fetch_one(&mut *tx)
    .await?;
    if !actor.administers_platform() && live >= crate::platform_settings::instances_per_tenant(&mut *tx).await? {
        return Err(DomainError::Conflict(format!(
            "this organisation already has {live} workspaces, the most it may keep; decommission one first"
        )));
    }
    if !free {
        return Err(DomainError::Conflict(format!("`{}` is taken; choose another name", sub.as_str())));
    }
    tx.commit().await?;
    let hash = if input.draft { None } else { Some(credentials::odoo_hash_async(input.admin_password.clone()).await?) };
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let (id, project, env) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let taken = |e: sqlx::Error| match DomainError::from(e) {
        DomainError::Conflict(_) => DomainError::Conflict(format!("`{}` is taken; choose another name", sub.as_str())),
        other => other,
    };
    sqlx::query(
        "INSERT INTO ops.projects (id, tenant_id, slug, name, repo_url, odoo_version, base_image, stage_rules, kind,
                                   cpu_limit, memory_limit_mb)
         VALUES ($1, $2, $3, $4, $5, $6, $7, '[{\"pattern\": \"main\", \"stage\": \"production\"}]', 'instance',
                 $8, $9)",
    )
    .bind(project)
    .bind(tenant)
    .bind(sub.as_str())
    .bind(name.as_str())
    .bind(format!("instance:{}", sub.as_str()))
    .bind(version.as_str())
    .bind(&base_image)
    // The plan's CPU and memory limit the instance's containers.
    .bind(terms.cpu_limit)
    .bind(terms.memory_limit_mb)
    .execute(&mut *tx)
    .await
    .map_err(taken)?;
    sqlx::query(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage) VALUES ($1, $2, $3, 'main', 'production')",
    )
    .bind(env)
    .bind(tenant)
    .bind(project)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO ops.instances (id, tenant_id, project_id, env_id, subdomain, name, odoo_version, modules, plan,
                                    db_strategy, admin_login, created_by, lang, country, timezone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(id)
    .bind(tenant)
    .bind(project)
    .bind(env)
    .bind(sub.as_str())
    .bind(name.as_str())
    .bind(version.as_str())
    .bind(&modules)
    .bind(plan)
    .bind(strategy.as_str())
    .bind(login.as_str())
    .bind(actor.user_id.0)
    .bind(lang)
    .bind(country)
    .bind(timezone)
    .execute(&mut *tx)
    .await
    .map_err(taken)?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::InstanceCreate,
            target: format!("instance:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: serde_json::json!({"subdomain": sub.as_str(), "name": name.as_str(), "odoo_version": version.as_str(),
                "modules": modules, "plan": plan, "db_strategy": strategy.as_str(), "admin_login": login.as_str()}),
        },
    )
    .await?;
    if let Some(hash) = hash {
        let d = Details { hash: Some(&hash), ..Details::default() };
        queue(&mut tx, actor, id, tenant, OperationKind::Provision, InstanceState::Draft, d).await?;
    }
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE i.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    view(p, &row)
}

/// Dedicated servers are started from the machine's PostgreSQL binaries, next to the builds.
fn dedicated_available(p: &Platform) -> DomainResult<()> {
    if p.builds.is_none() {
        return Err(DomainError::Unavailable("instances need builds to be configured".into()));
    }
    crate::db::embedded::find_bin_dir().map(|_| ()).map_err(|e| {
        tracing::warn!(error = %e, "no PostgreSQL binaries for dedicated servers");
        DomainError::Unavailable("dedicated PostgreSQL servers need PostgreSQL's server binaries on this host".into())
    })
}

/// Instances the caller can see (their tenants'; every one for platform staff), newest first.
pub async fn list(
    p: &Platform,
    actor: &Actor,
    tenant: Option<&str>,
    state: Option<&str>,
    limit: i64,
    offset: i64,
) -> DomainResult<Vec<InstanceView>> {
    let state = state.map(str::trim).filter(|s| !s.is_empty()).map(InstanceState::parse).transpose()?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!(
        "{VIEW_SQL} WHERE ($1::text IS NULL OR t.slug = $1) AND ($2::text IS NULL OR i.state = $2)
          ORDER BY i.created_at DESC, i.id LIMIT $3 OFFSET $4"
    ))
    .bind(tenant.map(str::trim).filter(|s| !s.is_empty()))
    .bind(state.map(|s| s.as_str()))
    .bind(limit.clamp(1, 500))
    .bind(offset.max(0))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(|r| view(p, r)).collect()
}

/// One instance the caller can see.
pub async fn get(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<InstanceView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("instance"))?;
    tx.commit().await?;
    view(p, &row)
}

/// The instance's backups, newest first (the backups of its branch, under the same rules).
pub async fn backups(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<Vec<crate::wire::BackupView>> {
    let instance = get(p, actor, id).await?;
    crate::backups::jobs::list(p, actor, instance.env_id).await
}

/// The requester's language, country and time zone, checked (empty means Odoo's default).
fn locale(input: &NewInstance) -> DomainResult<(Option<String>, Option<String>, Option<String>)> {
    let field = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let lang = field(&input.lang).map(|l| crate::types::Language::parse(&l)).transpose()?;
    let country = field(&input.country).map(|c| crate::types::Country::parse(&c)).transpose()?;
    let timezone = field(&input.timezone).map(|t| crate::types::TimeZone::parse(&t)).transpose()?;
    Ok((
        lang.map(|l| l.as_str().to_owned()),
        country.map(|c| c.as_str().to_owned()),
        timezone.map(|t| t.as_str().to_owned()),
    ))
}

/// The `commit` an instance build records: a digest of what it is made of.
pub(crate) fn bundle_digest(version: &str, modules: &[String]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(version.as_bytes());
    for m in modules {
        h.update(b"\n");
        h.update(m.as_bytes());
    }
    hex::encode(h.finalize())[..40].to_owned()
}
