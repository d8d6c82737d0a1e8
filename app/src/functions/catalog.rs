//! The module catalog and bundles: sources (platform staff), search, a
//! module's page, bundles with their closure, and the closure of a list as
//! you type.

use crate::error::AppError;
use domain::types::Closure;
use domain::wire::{BundleView, CatalogPage, CatalogSourceView, ModuleDetail};
use leptos::prelude::*;

/// The catalog's sources.
#[server(prefix = "/rpc", endpoint = "catalog/sources")]
pub async fn list_sources() -> Result<Vec<CatalogSourceView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::catalog::sources(&ssr::platform()?, &actor).await?)
}

/// Adds a source (platform staff); `series` separated by commas or spaces. Audited.
#[server(prefix = "/rpc", endpoint = "catalog/add_source")]
pub async fn add_source(name: String, repo_url: String, series: String) -> Result<CatalogSourceView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let series = series.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let input = domain::wire::NewCatalogSource { name, repo_url, series };
    Ok(domain::catalog::add_source(&ssr::platform()?, &actor, input).await?)
}

/// Reads a source again now (platform staff). Audited.
#[server(prefix = "/rpc", endpoint = "catalog/refresh")]
pub async fn refresh_source(id: uuid::Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::catalog::request_refresh(&ssr::platform()?, &actor, id).await?)
}

/// Removes a source (platform staff). Audited.
#[server(prefix = "/rpc", endpoint = "catalog/remove_source")]
pub async fn remove_source(id: uuid::Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::catalog::remove_source(&ssr::platform()?, &actor, id).await?)
}

/// A page of the catalog.
#[server(prefix = "/rpc", endpoint = "catalog/search")]
pub async fn search_catalog(
    q: Option<String>,
    series: Option<String>,
    category: Option<String>,
    license: Option<String>,
    source: Option<String>,
    offset: Option<i64>,
) -> Result<CatalogPage, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let s = domain::catalog::Search { q, series, category, license, source, limit: Some(20), offset };
    Ok(domain::catalog::search(&ssr::platform()?, &actor, &s).await?)
}

/// A module's page.
#[server(prefix = "/rpc", endpoint = "catalog/module")]
pub async fn get_module(name: String) -> Result<ModuleDetail, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::catalog::module(&ssr::platform()?, &actor, &name).await?)
}

/// The bundles the caller sees, optionally of one series.
#[server(prefix = "/rpc", endpoint = "bundles/list")]
pub async fn list_bundles(series: Option<String>) -> Result<Vec<BundleView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::catalog::bundles::list(&ssr::platform()?, &actor, series.as_deref()).await?)
}

/// One bundle.
#[server(prefix = "/rpc", endpoint = "bundles/get")]
pub async fn get_bundle(id: uuid::Uuid) -> Result<BundleView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::catalog::bundles::get(&ssr::platform()?, &actor, id).await?)
}

/// Creates (no `id`) or changes a bundle. Audited.
#[server(prefix = "/rpc", endpoint = "bundles/save")]
pub async fn save_bundle(
    id: Option<uuid::Uuid>,
    tenant: Option<String>,
    name: String,
    series: String,
    modules: String,
    description: Option<String>,
) -> Result<BundleView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input =
        domain::wire::BundleInput { tenant, name, series, modules, description: description.unwrap_or_default() };
    Ok(domain::catalog::bundles::save(&ssr::platform()?, &actor, id, input).await?)
}

/// Deletes a bundle. Audited.
#[server(prefix = "/rpc", endpoint = "bundles/delete")]
pub async fn delete_bundle(id: uuid::Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::catalog::bundles::delete(&ssr::platform()?, &actor, id).await?)
}

/// The closure of a typed list in a series (nothing stored).
#[server(prefix = "/rpc", endpoint = "bundles/closure")]
pub async fn bundle_closure(series: String, modules: String) -> Result<Closure, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let req = domain::wire::ClosureRequest { series, modules };
    Ok(domain::catalog::bundles::check(&ssr::platform()?, &actor, req).await?)
}
