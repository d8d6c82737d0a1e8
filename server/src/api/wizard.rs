//! The tenant wizard over REST: drafts (start, list, read, save a step,
//! discard), the slug's availability, the modules' closure, the SSO Test and
//! Create. Each a thin edge over `domain::wizard`; platform owners and
//! operators only, and a draft is its author's.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::types::{Closure, WizardStep};
use domain::wire::{
    DraftView, InstanceView, SlugAvailability, SsoFound, StepInput, StepSaved, WizardClosureRequest, WizardCreate,
};
use uuid::Uuid;

/// Starts a draft with the defaults filled in.
#[utoipa::path(post, path = "/api/v1/tenant-drafts", tag = "tenants",
    responses((status = 201, body = DraftView), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn start(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<(StatusCode, axum::Json<DraftView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::wizard::start(&s.platform, &actor).await?)))
}

/// The caller's drafts still open, newest first.
#[utoipa::path(get, path = "/api/v1/tenant-drafts", tag = "tenants",
    responses((status = 200, body = Vec<DraftView>), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<DraftView>>, ApiError> {
    Ok(axum::Json(domain::wizard::list(&s.platform, &actor).await?))
}

/// One of the caller's drafts.
#[utoipa::path(get, path = "/api/v1/tenant-drafts/{id}", tag = "tenants", params(("id" = Uuid, Path)),
    responses((status = 200, body = DraftView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<DraftView>, ApiError> {
    Ok(axum::Json(domain::wizard::get(&s.platform, &actor, id).await?))
}

/// Saves a step as typed (always) and answers what is still wrong with it.
#[utoipa::path(put, path = "/api/v1/tenant-drafts/{id}/steps/{step}", tag = "tenants", request_body = StepInput,
    params(("id" = Uuid, Path), ("step" = String, Path, description = "identity, plan, bundle, infra, sso or review")),
    responses((status = 200, body = StepSaved), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn save(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, step)): Path<(Uuid, String)>,
    Json(input): Json<StepInput>,
) -> Result<axum::Json<StepSaved>, ApiError> {
    let step = WizardStep::ALL
        .into_iter()
        .find(|w| w.as_str() == step)
        .ok_or_else(|| domain::DomainError::Invalid(format!("`{step}` is not a step of the wizard")))?;
    Ok(axum::Json(domain::wizard::save(&s.platform, &actor, id, step, input.data, input.sso_secret).await?))
}

/// Forgets a draft.
#[utoipa::path(delete, path = "/api/v1/tenant-drafts/{id}", tag = "tenants", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn discard(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::wizard::discard(&s.platform, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fetches the draft's OpenID Connect issuer's discovery document (public addresses only, https).
#[utoipa::path(post, path = "/api/v1/tenant-drafts/{id}/sso-test", tag = "tenants", params(("id" = Uuid, Path)),
    responses((status = 200, body = SsoFound), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn test_sso(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<SsoFound>, ApiError> {
    Ok(axum::Json(domain::wizard::sso::test(&s.platform, &actor, id).await?))
}

/// Makes the tenant (subscription, SSO) and provisions its first instance.
#[utoipa::path(post, path = "/api/v1/tenant-drafts/{id}/create", tag = "tenants", request_body = WizardCreate,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = InstanceView), (status = 409, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<WizardCreate>,
) -> Result<(StatusCode, axum::Json<InstanceView>), ApiError> {
    let instance = domain::wizard::create(&s.platform, &actor, id, input.admin_password).await?;
    Ok((StatusCode::CREATED, axum::Json(instance)))
}

/// Whether a tenant slug is free (tenants and instances' addresses alike).
#[utoipa::path(get, path = "/api/v1/tenant-slugs/{slug}", tag = "tenants", params(("slug" = String, Path)),
    responses((status = 200, body = SlugAvailability), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn slug(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(slug): Path<String>,
) -> Result<axum::Json<SlugAvailability>, ApiError> {
    let available = domain::wizard::slug_available(&s.platform, &actor, &slug).await?;
    Ok(axum::Json(SlugAvailability { slug, available }))
}

/// The closure of some bundles and single modules in a series.
#[utoipa::path(post, path = "/api/v1/tenant-drafts/closure", tag = "tenants", request_body = WizardClosureRequest,
    responses((status = 200, body = Closure), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn closure(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(r): Json<WizardClosureRequest>,
) -> Result<axum::Json<Closure>, ApiError> {
    Ok(axum::Json(domain::wizard::preview_closure(&s.platform, &actor, &r.series, &r.bundles, &r.modules).await?))
}
