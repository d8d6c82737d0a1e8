//! The module catalog: git repositories in the OCA layout (one branch per
//! Odoo series, one folder per module with its `__manifest__.py`), mirrored
//! by the console and read with the manifest reader builds use ([`refresh`]),
//! searched and shown per module; and bundles, named module sets per series
//! whose closure is checked on save ([`bundles`]).
//!
//! Platform staff add and remove sources; everyone signed in reads the
//! catalog. Sources are read as hostile input all the same: fetched through
//! the builds' guarded git (no local paths unless the server allows them, no
//! private hosts), manifests read without Python, sizes and counts capped.

pub mod bundles;
pub mod refresh;

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, ModuleFacts, OdooVersion, RepoUrl, Slug};
use crate::wire::{CatalogModuleView, CatalogPage, CatalogSourceView, ModuleDetail, NewCatalogSource, UsedBy};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

const SOURCE_SQL: &str = "
    SELECT s.id, s.name, s.repo_url, s.series, s.refresh_requested, s.refreshed_at, s.refresh_error,
           (SELECT count(*) FROM ops.catalog_modules m WHERE m.source_id = s.id) AS modules
      FROM ops.catalog_sources s";

fn source_view(r: &sqlx::postgres::PgRow) -> CatalogSourceView {
    CatalogSourceView {
        id: r.get("id"),
        name: r.get("name"),
        repo_url: r.get("repo_url"),
        series: r.get("series"),
        refresh_requested: r.get("refresh_requested"),
        refreshed_at: r.get("refreshed_at"),
        refresh_error: r.get("refresh_error"),
        modules: r.get("modules"),
    }
}

/// The catalog's sources.
pub async fn sources(p: &Platform, actor: &Actor) -> DomainResult<Vec<CatalogSourceView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{SOURCE_SQL} ORDER BY s.name")).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(source_view).collect())
}

fn staff_only(actor: &Actor) -> DomainResult<()> {
    if actor.administers_platform() {
        Ok(())
    } else {
        Err(DomainError::Denied("the catalog's sources are for platform staff".into()))
    }
}

/// Adds a source (platform staff); its first refresh follows at once. Audited.
pub async fn add_source(p: &Platform, actor: &Actor, input: NewCatalogSource) -> DomainResult<CatalogSourceView> {
    staff_only(actor)?;
    let name = Slug::parse(input.name.trim())?;
    let url = RepoUrl::parse(input.repo_url.trim())?;
    let mut series: Vec<String> = Vec::new();
    for s in &input.series {
        let v = OdooVersion::parse(s)?.as_str().to_owned();
        if !series.contains(&v) {
            series.push(v);
        }
    }
    if series.is_empty() {
        return Err(DomainError::Invalid("series: name at least one branch to read (17.0, 18.0, …)".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO ops.catalog_sources (name, repo_url, series, created_by) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name.as_str())
    .bind(url.as_str())
    .bind(&series)
    .bind(actor.user_id.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match DomainError::from(e) {
        DomainError::Conflict(_) => DomainError::Conflict(format!("a source named {} exists", name.as_str())),
        other => other,
    })?;
    audit::record(
        &mut tx,
        actor,
        source_event(
            AuditAction::CatalogSourceAdd,
            id,
            serde_json::json!({"name": name.as_str(), "repo_url": url.as_str(), "series": series}),
        ),
    )
    .await?;
    let row = sqlx::query(&format!("{SOURCE_SQL} WHERE s.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    wake(p).await;
    Ok(source_view(&row))
}

/// Asks for a source's refresh now (platform staff). Audited.
pub async fn request_refresh(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    staff_only(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let name: String =
        sqlx::query_scalar("UPDATE ops.catalog_sources SET refresh_requested = true WHERE id = $1 RETURNING name")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DomainError::NotFound("catalog source"))?;
    audit::record(&mut tx, actor, source_event(AuditAction::CatalogRefresh, id, serde_json::json!({"name": name})))
        .await?;
    tx.commit().await?;
    wake(p).await;
    Ok(())
}

/// Removes a source and its modules (platform staff; bundles keep their names). Audited.
pub async fn remove_source(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    staff_only(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let name: String = sqlx::query_scalar("DELETE FROM ops.catalog_sources WHERE id = $1 RETURNING name")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("catalog source"))?;
    audit::record(
        &mut tx,
        actor,
        source_event(AuditAction::CatalogSourceRemove, id, serde_json::json!({"name": name})),
    )
    .await?;
    tx.commit().await?;
    if let Some(infra) = p.builds.as_ref() {
        let _ = std::fs::remove_dir_all(refresh::mirror_dir(infra, id));
    }
    Ok(())
}

/// The audit event of a change to source `id`.
fn source_event(action: AuditAction, id: Uuid, summary: serde_json::Value) -> Event {
    Event { action, target: format!("catalog_source:{id}"), tenant_id: None, project_id: None, summary }
}

async fn wake(p: &Platform) {
    if let Err(e) = crate::jobs::queue::wake(p, crate::jobs::Kind::CatalogRefresh).await {
        tracing::warn!(error = %format!("{e:#}"), "could not wake the catalog's refresh");
    }
}

const MODULE_SQL: &str = "
    SELECT s.name AS source, m.series, m.name, m.title, m.version, m.summary, m.category, m.license, m.author,
           m.depends, m.installable, m.external_python, m.external_bin, m.problem
      FROM ops.catalog_modules m JOIN ops.catalog_sources s ON s.id = m.source_id";

fn module_view(r: &sqlx::postgres::PgRow) -> CatalogModuleView {
    CatalogModuleView {
        source: r.get("source"),
        series: r.get("series"),
        name: r.get("name"),
        title: r.get("title"),
        version: r.get("version"),
        summary: r.get("summary"),
        category: r.get("category"),
        license: r.get("license"),
        author: r.get("author"),
        depends: r.get("depends"),
        installable: r.get("installable"),
        external_python: r.get("external_python"),
        external_bin: r.get("external_bin"),
        problem: r.get("problem"),
    }
}

/// What a catalog search filters on; empty fields do not filter.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
pub struct Search {
    /// Words in the name, title or summary.
    pub q: Option<String>,
    pub series: Option<String>,
    pub category: Option<String>,
    pub license: Option<String>,
    /// A source's name.
    pub source: Option<String>,
    /// At most 100 (default 20).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A search's filters, trimmed (`None` does not filter).
struct Filters {
    q: Option<String>,
    series: Option<String>,
    category: Option<String>,
    license: Option<String>,
    source: Option<String>,
}

const FILTER_SQL: &str = "WHERE ($1::text IS NULL OR m.name ILIKE $1 OR m.title ILIKE $1 OR m.summary ILIKE $1)
      AND ($2::text IS NULL OR m.series = $2) AND ($3::text IS NULL OR m.category = $3)
      AND ($4::text IS NULL OR m.license = $4) AND ($5::text IS NULL OR s.name = $5)";

fn filtered<'a>(sql: &'a str, f: &Filters) -> sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sql)
        .bind(f.q.clone())
        .bind(f.series.clone())
        .bind(f.category.clone())
        .bind(f.license.clone())
        .bind(f.source.clone())
}

/// A page of modules matching `s`, by name then series, and the filters' choices.
pub async fn search(p: &Platform, actor: &Actor, s: &Search) -> DomainResult<CatalogPage> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let f = Filters {
        q: text(&s.q).map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))),
        series: text(&s.series),
        category: text(&s.category),
        license: text(&s.license),
        source: text(&s.source),
    };
    let list_sql = format!("{MODULE_SQL} {FILTER_SQL} ORDER BY m.name, m.series DESC, s.name LIMIT $6 OFFSET $7");
    let count_sql = format!(
        "SELECT count(*) FROM ops.catalog_modules m JOIN ops.catalog_sources s ON s.id = m.source_id {FILTER_SQL}"
    );
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = filtered(&list_sql, &f)
        .bind(s.limit.unwrap_or(20).clamp(1, 100))
        .bind(s.offset.unwrap_or(0).max(0))
        .fetch_all(&mut *tx)
        .await?;
    let total: i64 = filtered(&count_sql, &f).fetch_one(&mut *tx).await?.get(0);
    let choices = |col: &str| format!("SELECT DISTINCT {col} FROM ops.catalog_modules m WHERE {col} <> '' ORDER BY 1");
    let series: Vec<String> = sqlx::query_scalar(&choices("m.series")).fetch_all(&mut *tx).await?;
    let categories: Vec<String> = sqlx::query_scalar(&choices("m.category")).fetch_all(&mut *tx).await?;
    let licenses: Vec<String> = sqlx::query_scalar(&choices("m.license")).fetch_all(&mut *tx).await?;
    let sources: Vec<String> =
        sqlx::query_scalar("SELECT name FROM ops.catalog_sources ORDER BY name").fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(CatalogPage { modules: rows.iter().map(module_view).collect(), total, series, categories, licenses, sources })
}

/// A module's page: its versions by series, who depends on it, and the bundles and instances that use it.
pub async fn module(p: &Platform, actor: &Actor, name: &str) -> DomainResult<ModuleDetail> {
    let name = crate::types::ModuleName::parse(name)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let versions = sqlx::query(&format!("{MODULE_SQL} WHERE m.name = $1 ORDER BY m.series DESC, s.name"))
        .bind(name.as_str())
        .fetch_all(&mut *tx)
        .await?;
    if versions.is_empty() {
        return Err(DomainError::NotFound("module"));
    }
    let dependents: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT m.series || ': ' || m.name FROM ops.catalog_modules m WHERE $1 = ANY (m.depends) ORDER BY 1",
    )
    .bind(name.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let used = |r: sqlx::postgres::PgRow| UsedBy { id: r.get("id"), name: r.get("name"), series: r.get("series") };
    let bundles = sqlx::query("SELECT id, name, series FROM ops.bundles WHERE $1 = ANY (modules) ORDER BY name")
        .bind(name.as_str())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(used)
        .collect();
    let instances = sqlx::query(
        "SELECT id, name, odoo_version AS series FROM ops.instances
          WHERE $1 = ANY (modules) AND state <> 'decommissioned' ORDER BY name",
    )
    .bind(name.as_str())
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(used)
    .collect();
    tx.commit().await?;
    Ok(ModuleDetail {
        name: name.as_str().to_owned(),
        versions: versions.iter().map(module_view).collect(),
        dependents,
        bundles,
        instances,
    })
}

/// The catalog of one series, as the closure reads it: a name found in several
/// sources is taken from the first by source name.
pub async fn facts(tx: &mut crate::db::ScopedTx, series: &str) -> DomainResult<BTreeMap<String, ModuleFacts>> {
    let rows = sqlx::query(
        "SELECT DISTINCT ON (m.name) m.name, m.depends, m.installable AND m.problem IS NULL AS installable, m.license,
                m.external_python, m.external_bin
           FROM ops.catalog_modules m JOIN ops.catalog_sources s ON s.id = m.source_id
          WHERE m.series = $1 ORDER BY m.name, s.name",
    )
    .bind(series)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get("name"),
                ModuleFacts {
                    depends: r.get("depends"),
                    installable: r.get("installable"),
                    license: r.get("license"),
                    external_python: r.get("external_python"),
                    external_bin: r.get("external_bin"),
                },
            )
        })
        .collect())
}
