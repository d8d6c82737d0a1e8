//! The module catalog and bundles over REST: sources (platform staff), a
//! searchable module list and module pages, bundles with their closure, and
//! the closure of any module list (what the forms ask as you type). Each a
//! thin edge over `domain::catalog`.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use domain::wire::{
    BundleInput, BundleView, CatalogPage, CatalogSourceView, ClosureRequest, ModuleDetail, NewCatalogSource,
};
use uuid::Uuid;

/// The catalog's sources (git repositories in the OCA layout) and when each was last read.
#[utoipa::path(get, path = "/api/v1/catalog/sources", tag = "catalog",
    responses((status = 200, body = Vec<CatalogSourceView>)))]
pub async fn list_sources(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<CatalogSourceView>>, ApiError> {
    Ok(axum::Json(domain::catalog::sources(&s.platform, &actor).await?))
}

/// Adds a source (platform staff); it is read at once, then every six hours.
#[utoipa::path(post, path = "/api/v1/catalog/sources", tag = "catalog", request_body = NewCatalogSource,
    responses((status = 201, body = CatalogSourceView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn add_source(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewCatalogSource>,
) -> Result<(StatusCode, axum::Json<CatalogSourceView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::catalog::add_source(&s.platform, &actor, input).await?)))
}

/// Reads a source again now (platform staff).
#[utoipa::path(post, path = "/api/v1/catalog/sources/{id}/refresh", tag = "catalog", params(("id" = Uuid, Path)),
    responses((status = 202), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn refresh_source(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::catalog::request_refresh(&s.platform, &actor, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Removes a source and its modules (platform staff).
#[utoipa::path(delete, path = "/api/v1/catalog/sources/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn remove_source(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::catalog::remove_source(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Searches the catalog: words in a module's name, title or summary; series, category, license and source filters; 20 a page.
#[utoipa::path(get, path = "/api/v1/catalog/modules", tag = "catalog", params(domain::catalog::Search),
    responses((status = 200, body = CatalogPage)))]
pub async fn search_modules(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<domain::catalog::Search>,
) -> Result<axum::Json<CatalogPage>, ApiError> {
    Ok(axum::Json(domain::catalog::search(&s.platform, &actor, &q).await?))
}

/// A module: its versions by series, dependencies, dependents, and the bundles and instances that use it.
#[utoipa::path(get, path = "/api/v1/catalog/modules/{name}", tag = "catalog", params(("name" = String, Path)),
    responses((status = 200, body = ModuleDetail), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_module(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
) -> Result<axum::Json<ModuleDetail>, ApiError> {
    Ok(axum::Json(domain::catalog::module(&s.platform, &actor, &name).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct BundleQuery {
    /// An Odoo series (`17.0`).
    series: Option<String>,
}

/// The bundles you see (the platform's and your tenants'), each with its closure.
#[utoipa::path(get, path = "/api/v1/bundles", tag = "catalog", params(BundleQuery),
    responses((status = 200, body = Vec<BundleView>)))]
pub async fn list_bundles(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<BundleQuery>,
) -> Result<axum::Json<Vec<BundleView>>, ApiError> {
    Ok(axum::Json(domain::catalog::bundles::list(&s.platform, &actor, q.series.as_deref()).await?))
}

/// Creates a bundle: refused (422) when a module is missing for its series or not installable.
#[utoipa::path(post, path = "/api/v1/bundles", tag = "catalog", request_body = BundleInput,
    responses((status = 201, body = BundleView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn create_bundle(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<BundleInput>,
) -> Result<(StatusCode, axum::Json<BundleView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::catalog::bundles::save(&s.platform, &actor, None, input).await?)))
}

/// One bundle with its closure.
#[utoipa::path(get, path = "/api/v1/bundles/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    responses((status = 200, body = BundleView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_bundle(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<BundleView>, ApiError> {
    Ok(axum::Json(domain::catalog::bundles::get(&s.platform, &actor, id).await?))
}

/// Changes a bundle (validated as on creation).
#[utoipa::path(put, path = "/api/v1/bundles/{id}", tag = "catalog", params(("id" = Uuid, Path)), request_body = BundleInput,
    responses((status = 200, body = BundleView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn update_bundle(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<BundleInput>,
) -> Result<axum::Json<BundleView>, ApiError> {
    Ok(axum::Json(domain::catalog::bundles::save(&s.platform, &actor, Some(id), input).await?))
}

/// Deletes a bundle (instances keep their modules).
#[utoipa::path(delete, path = "/api/v1/bundles/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn delete_bundle(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::catalog::bundles::delete(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The closure of a module list in a series: added dependencies, what is missing, warnings. Stores nothing.
#[utoipa::path(post, path = "/api/v1/bundles/closure", tag = "catalog", request_body = ClosureRequest,
    responses((status = 200, body = domain::types::Closure), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn closure(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<ClosureRequest>,
) -> Result<axum::Json<domain::types::Closure>, ApiError> {
    Ok(axum::Json(domain::catalog::bundles::check(&s.platform, &actor, input).await?))
}
