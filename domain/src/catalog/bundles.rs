//! Bundles: named module sets per Odoo series — the platform's (offered to
//! every tenant) and a tenant's own. Saving one computes its closure over the
//! catalog of its series (the same [`closure`](crate::types::closure) the
//! browser runs as you type) and refuses it when a module is missing for the
//! series or not installable; external dependencies and license mixes are
//! warnings shown with it.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{closure, parse_module_list, AuditAction, Closure, OdooVersion};
use crate::wire::{BundleInput, BundleView, ClosureRequest};
use sqlx::Row;
use uuid::Uuid;

const VIEW_SQL: &str = "
    SELECT b.id, b.tenant_id, t.slug AS tenant_slug, b.name, b.series, b.modules, b.description, b.updated_at,
           (ops.is_platform_admin() OR (b.tenant_id IS NOT NULL AND b.tenant_id IN (SELECT ops.my_admin_tenants())))
               AS may_edit
      FROM ops.bundles b LEFT JOIN ops.tenants t ON t.id = b.tenant_id";

/// Each series' catalog, read once however many bundles use it.
type Catalogs = std::collections::HashMap<String, std::collections::BTreeMap<String, crate::types::ModuleFacts>>;

async fn view(
    tx: &mut crate::db::ScopedTx,
    r: &sqlx::postgres::PgRow,
    seen: &mut Catalogs,
) -> DomainResult<BundleView> {
    let series: String = r.get("series");
    let modules: Vec<String> = r.get("modules");
    if !seen.contains_key(&series) {
        let facts = super::facts(tx, &series).await?;
        seen.insert(series.clone(), facts);
    }
    let catalog = &seen[&series];
    Ok(BundleView {
        id: r.get("id"),
        tenant_id: r.get("tenant_id"),
        tenant_slug: r.get("tenant_slug"),
        name: r.get("name"),
        closure: closure(catalog, &modules),
        series,
        modules,
        description: r.get("description"),
        may_edit: r.get("may_edit"),
        updated_at: r.get("updated_at"),
    })
}

/// The bundles the caller sees (the platform's and their tenants'), optionally of one series.
pub async fn list(p: &Platform, actor: &Actor, series: Option<&str>) -> DomainResult<Vec<BundleView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!(
        "{VIEW_SQL} WHERE ($1::text IS NULL OR b.series = $1) ORDER BY b.tenant_id NULLS FIRST, b.name, b.series"
    ))
    .bind(series.map(str::trim).filter(|s| !s.is_empty()))
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut seen = Catalogs::new();
    for r in &rows {
        out.push(view(&mut tx, r, &mut seen).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// One bundle with its closure.
pub async fn get(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<BundleView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(&format!("{VIEW_SQL} WHERE b.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("bundle"))?;
    let v = view(&mut tx, &r, &mut Catalogs::new()).await?;
    tx.commit().await?;
    Ok(v)
}

/// The closure of modules typed in a form, for a series (nothing is stored).
pub async fn check(p: &Platform, actor: &Actor, req: ClosureRequest) -> DomainResult<Closure> {
    let series = OdooVersion::parse(&req.series)?;
    let modules: Vec<String> = parse_module_list(&req.modules)?.into_iter().map(|m| m.as_str().to_owned()).collect();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let catalog = super::facts(&mut tx, series.as_str()).await?;
    tx.commit().await?;
    Ok(closure(&catalog, &modules))
}

/// Why a closure cannot be saved, for the person who typed it.
pub fn refusal(c: &Closure) -> Option<String> {
    let mut why = Vec::new();
    if !c.missing.is_empty() {
        let list: Vec<String> = c.missing.iter().map(|n| format!("{} (needed by {})", n.module, n.by)).collect();
        why.push(format!("not in the catalog for this series: {}", list.join(", ")));
    }
    if !c.not_installable.is_empty() {
        why.push(format!("not installable in this series: {}", c.not_installable.join(", ")));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// Creates (`id` none) or changes a bundle; refused (422) when its closure
/// is not installable for its series. Audited.
pub async fn save(p: &Platform, actor: &Actor, id: Option<Uuid>, input: BundleInput) -> DomainResult<BundleView> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(DomainError::Invalid("name: 1 to 80 characters".into()));
    }
    let series = OdooVersion::parse(&input.series)?;
    let modules: Vec<String> = parse_module_list(&input.modules)?.into_iter().map(|m| m.as_str().to_owned()).collect();
    if modules.is_empty() {
        return Err(DomainError::Invalid("modules: name at least one".into()));
    }
    if modules.len() > 300 {
        return Err(DomainError::Invalid("modules: at most 300".into()));
    }
    let description = input.description.trim();
    if description.chars().count() > 2000 {
        return Err(DomainError::Invalid("description: at most 2,000 characters".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant: Option<Uuid> = match input.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(slug) => Some(
            sqlx::query_scalar("SELECT id FROM ops.tenants WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(DomainError::NotFound("tenant"))?,
        ),
        None => None,
    };
    let may: bool = sqlx::query_scalar(
        "SELECT ops.is_platform_admin() OR ($1::uuid IS NOT NULL AND $1 IN (SELECT ops.my_admin_tenants()))",
    )
    .bind(tenant)
    .fetch_one(&mut *tx)
    .await?;
    if !may {
        return Err(DomainError::Denied(match tenant {
            None => "platform bundles are for platform staff".into(),
            Some(_) => "a tenant's bundles are for its admins".into(),
        }));
    }
    let catalog = super::facts(&mut tx, series.as_str()).await?;
    let c = closure(&catalog, &modules);
    if let Some(why) = refusal(&c) {
        return Err(DomainError::Invalid(format!("the bundle cannot be installed on {}: {why}", series.as_str())));
    }
    let conflict = |e: sqlx::Error| match DomainError::from(e) {
        DomainError::Conflict(_) => {
            DomainError::Conflict(format!("a bundle named {name} exists for {}", series.as_str()))
        }
        other => other,
    };
    let id: Uuid = match id {
        None => sqlx::query_scalar(
            "INSERT INTO ops.bundles (tenant_id, name, series, modules, description, created_by)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(tenant)
        .bind(name)
        .bind(series.as_str())
        .bind(&modules)
        .bind(description)
        .bind(actor.user_id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict)?,
        Some(id) => sqlx::query_scalar(
            "UPDATE ops.bundles SET name = $2, series = $3, modules = $4, description = $5, updated_at = now()
              WHERE id = $1 AND tenant_id IS NOT DISTINCT FROM $6 RETURNING id",
        )
        .bind(id)
        .bind(name)
        .bind(series.as_str())
        .bind(&modules)
        .bind(description)
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await
        .map_err(conflict)?
        .ok_or(DomainError::NotFound("bundle"))?,
    };
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BundleSave,
            target: format!("bundle:{id}"),
            tenant_id: tenant,
            project_id: None,
            summary: serde_json::json!({"name": name, "series": series.as_str(), "modules": modules,
                                        "warnings": c.license_warnings, "external": c.external.len()}),
        },
    )
    .await?;
    let r = sqlx::query(&format!("{VIEW_SQL} WHERE b.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    let v = view(&mut tx, &r, &mut Catalogs::new()).await?;
    tx.commit().await?;
    Ok(v)
}

/// Deletes a bundle (instances keep the modules they have). Audited.
pub async fn delete(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(&format!("{VIEW_SQL} WHERE b.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("bundle"))?;
    if !r.get::<bool, _>("may_edit") {
        return Err(DomainError::Denied("this bundle is not yours to delete".into()));
    }
    let tenant: Option<Uuid> = r.get("tenant_id");
    sqlx::query("DELETE FROM ops.bundles WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BundleDelete,
            target: format!("bundle:{id}"),
            tenant_id: tenant,
            project_id: None,
            summary: serde_json::json!({"name": r.get::<String, _>("name"), "series": r.get::<String, _>("series")}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
