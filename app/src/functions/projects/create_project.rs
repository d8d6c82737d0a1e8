use crate::error::AppError;
use domain::wire::ProjectSummary;
use leptos::prelude::*;

/// Creates a project in one of the user's tenants.
#[server(prefix = "/rpc", endpoint = "projects/create")]
pub async fn create_project(
    name: String,
    repo_url: String,
    odoo_version: String,
    stage_rules: Option<String>,
    tenant: Option<String>,
    base_image: Option<String>,
    production_requires_approval: Option<String>,
) -> Result<ProjectSummary, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewProject {
        tenant,
        name,
        slug: None,
        repo_url,
        odoo_version,
        stage_rules,
        base_image,
        // A checkbox: ticked by default in the form, absent when unticked.
        production_requires_approval: Some(production_requires_approval.is_some()),
    };
    Ok(domain::projects::create(&ssr::platform()?, &actor, input).await?)
}
