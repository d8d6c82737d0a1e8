//! Projects, their members, settings and custom domains.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::instances::domains::{self, Owner};
use domain::wire::{
    BuildSettings, InviteOutcome, MemberView, NewMember, NewProject, ProjectDetail, ProjectInvitation, ProjectSummary,
};
use uuid::Uuid;

/// Projects the caller can see.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", responses((status = 200, body = Vec<ProjectSummary>)))]
pub async fn list_projects(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<ProjectSummary>>, ApiError> {
    Ok(axum::Json(domain::projects::list(&s.platform, &actor).await?))
}

/// Creates a project in a tenant the caller administers.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = ProjectSummary), (status = 422, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn create_project(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewProject>,
) -> Result<(StatusCode, axum::Json<ProjectSummary>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::projects::create(&s.platform, &actor, input).await?)))
}

/// One project with its environments and members.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProjectDetail), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_project(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ProjectDetail>, ApiError> {
    Ok(axum::Json(domain::projects::detail_by_id(&s.platform, &actor, id).await?))
}

/// Members of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/members", tag = "projects", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<MemberView>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_members(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<MemberView>>, ApiError> {
    Ok(axum::Json(domain::projects::members(&s.platform, &actor, id).await?))
}

/// Adds a member of the project's tenant, or changes their role (project admins).
#[utoipa::path(post, path = "/api/v1/projects/{id}/members", tag = "projects", params(("id" = Uuid, Path)), request_body = NewMember,
    responses((status = 200, body = MemberView), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn add_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<NewMember>,
) -> Result<axum::Json<MemberView>, ApiError> {
    Ok(axum::Json(domain::projects::add_member(&s.platform, &actor, id, input).await?))
}

/// Removes a member (a project keeps at least one admin).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/members/{user_id}", tag = "projects",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn remove_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    domain::projects::remove_member(&s.platform, &actor, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds someone to the project by email (project admins): a member of its tenant joins at once
/// (`added`); anyone else is sent an invitation (`invited`) and joins the tenant and the project
/// when they accept it.
#[utoipa::path(post, path = "/api/v1/projects/{id}/invitations", tag = "projects", params(("id" = Uuid, Path)), request_body = NewMember,
    responses((status = 200, body = InviteOutcome), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn invite(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<NewMember>,
) -> Result<axum::Json<InviteOutcome>, ApiError> {
    Ok(axum::Json(domain::projects::invite(&s.platform, &actor, id, input).await?))
}

/// The project's invitations waiting for an answer (project admins).
#[utoipa::path(get, path = "/api/v1/projects/{id}/invitations", tag = "projects", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ProjectInvitation>), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_invitations(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<ProjectInvitation>>, ApiError> {
    Ok(axum::Json(domain::projects::invitations(&s.platform, &actor, id).await?))
}

/// Withdraws a pending invitation into the project (project admins).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/invitations/{invitation_id}", tag = "projects",
    params(("id" = Uuid, Path), ("invitation_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn revoke_invitation(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, invitation)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    domain::projects::revoke_invitation(&s.platform, &actor, id, invitation).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's build settings.
#[utoipa::path(get, path = "/api/v1/projects/{id}/settings", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 200, body = BuildSettings), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<BuildSettings>, ApiError> {
    Ok(axum::Json(domain::projects::build_settings(&s.platform, &actor, id).await?))
}

/// Changes a project's build settings (project admins). Omitted fields keep their value.
#[utoipa::path(patch, path = "/api/v1/projects/{id}/settings", tag = "builds", params(("id" = Uuid, Path)), request_body = BuildSettings,
    responses((status = 200, body = BuildSettings), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn patch_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<BuildSettings>,
) -> Result<axum::Json<BuildSettings>, ApiError> {
    Ok(axum::Json(domain::projects::update_build_settings(&s.platform, &actor, id, input).await?))
}

/// Moves a branch between development and staging (project admins; audited).
#[utoipa::path(patch, path = "/api/v1/environments/{id}", tag = "projects", params(("id" = Uuid, Path)),
    request_body = domain::wire::StageChange,
    responses((status = 200, body = domain::wire::EnvironmentView), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn set_stage(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
    Json(input): Json<domain::wire::StageChange>,
) -> Result<axum::Json<domain::wire::EnvironmentView>, ApiError> {
    Ok(axum::Json(domain::projects::set_stage(&s.platform, &actor, env, &input.stage).await?))
}

/// Builds the branch's current head, read from the repository, as a push would (those who may
/// rebuild on its stage; audited). Production with approvals gets a candidate.
#[utoipa::path(post, path = "/api/v1/environments/{id}/build", tag = "builds", params(("id" = Uuid, Path)),
    responses((status = 202, body = domain::wire::BuildNowOutcome), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn build_now(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(env): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<domain::wire::BuildNowOutcome>), ApiError> {
    let outcome = domain::builds::build_now::build_now(&s.platform, &actor, env).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(domain::wire::BuildNowOutcome { outcome })))
}

/// Accepting a preflight warning or waiving a failure for a project.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PreflightOverride {
    /// `true`: waive (a failure or a warning; platform staff only); `false`: accept a warning (project admins).
    #[serde(default)]
    waive: bool,
    /// Why (required; at most 500 characters). Absent or empty: the override is withdrawn.
    reason: Option<String>,
}

/// Accepts a preflight gate's warning (project admins) or waives its failure (platform staff) for a project,
/// with a reason; without one, withdraws it. Applies from the next build. Audited.
#[utoipa::path(put, path = "/api/v1/projects/{id}/preflight/{gate}", tag = "builds",
    params(("id" = Uuid, Path), ("gate" = String, Path, description = "extensions, object_count, cron_runtime, system_packages, smtp_ports or long_connections")),
    request_body = PreflightOverride,
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn preflight_override(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, gate)): Path<(Uuid, String)>,
    Json(o): Json<PreflightOverride>,
) -> Result<StatusCode, ApiError> {
    let gate = domain::types::Gate::parse(&gate).map_err(domain::error::DomainError::from)?;
    domain::preflight::set_override(&s.platform, &actor, id, gate, o.waive, o.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's custom domains (they route to its production once verified), with what to point their DNS at.
#[utoipa::path(get, path = "/api/v1/projects/{id}/domains", tag = "projects", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<domain::wire::CustomDomainView>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_domains(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<domain::wire::CustomDomainView>>, ApiError> {
    Ok(axum::Json(domains::list(&s.platform, &actor, Owner::Project(id)).await?))
}

/// Adds a custom domain for production (pending until verified); project admins.
#[utoipa::path(post, path = "/api/v1/projects/{id}/domains", tag = "projects", params(("id" = Uuid, Path)),
    request_body = domain::wire::NewCustomDomain,
    responses((status = 201, body = domain::wire::CustomDomainView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn add_domain(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<domain::wire::NewCustomDomain>,
) -> Result<(StatusCode, axum::Json<domain::wire::CustomDomainView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domains::add(&s.platform, &actor, Owner::Project(id), input).await?)))
}

/// Verifies a project's custom domain through public DNS (422 with the reason when it fails).
#[utoipa::path(post, path = "/api/v1/projects/{id}/domains/{domain_id}/verify", tag = "projects",
    params(("id" = Uuid, Path), ("domain_id" = Uuid, Path)),
    responses((status = 200, body = domain::wire::CustomDomainView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn verify_domain(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, domain_id)): Path<(Uuid, Uuid)>,
) -> Result<axum::Json<domain::wire::CustomDomainView>, ApiError> {
    Ok(axum::Json(domains::verify(&s.platform, &actor, Owner::Project(id), domain_id).await?))
}

/// Removes a project's custom domain: it stops routing at once.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/domains/{domain_id}", tag = "projects",
    params(("id" = Uuid, Path), ("domain_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn remove_domain(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, domain_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    domains::remove(&s.platform, &actor, Owner::Project(id), domain_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
