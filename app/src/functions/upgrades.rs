//! The upgrade advisor: a project's previews, starting one, and asking to
//! upgrade production with one.

use crate::error::AppError;
use domain::wire::{PreviewStarted, PreviewView};
use leptos::prelude::*;

/// A project's upgrade previews, newest first.
#[server(prefix = "/rpc", endpoint = "upgrades/previews")]
pub async fn list_previews(project_id: uuid::Uuid) -> Result<Vec<PreviewView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::upgrades::list(&ssr::platform()?, &actor, project_id).await?)
}

/// Previews production on a target series (project admins). Audited.
#[server(prefix = "/rpc", endpoint = "upgrades/preview")]
pub async fn start_preview(
    project_id: uuid::Uuid,
    target_series: String,
    branch: Option<String>,
) -> Result<PreviewStarted, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let (id, build_id) =
        domain::upgrades::preview(&ssr::platform()?, &actor, project_id, &target_series, branch.as_deref()).await?;
    Ok(PreviewStarted { id, build_id })
}

/// Asks to upgrade production with a finished, unblocked preview (project admins); someone else approves. Audited.
#[server(prefix = "/rpc", endpoint = "upgrades/request")]
pub async fn request_upgrade(preview_id: uuid::Uuid) -> Result<uuid::Uuid, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::upgrades::request_upgrade(&ssr::platform()?, &actor, preview_id).await?)
}
