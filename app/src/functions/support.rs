//! The support center: runbooks and support requests.

use crate::error::AppError;
use domain::wire::{RunbookView, SupportRequestView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "support/runbooks")]
pub async fn list_runbooks() -> Result<Vec<RunbookView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::support::runbooks(&ssr::platform()?, &actor).await?)
}

/// Writes a runbook (platform staff). Audited.
#[server(prefix = "/rpc", endpoint = "support/save_runbook")]
pub async fn save_runbook(title: String, body: String, slug: Option<String>) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::RunbookInput { slug, title, body };
    Ok(domain::support::save_runbook(&ssr::platform()?, &actor, input).await?)
}

#[server(prefix = "/rpc", endpoint = "support/requests")]
pub async fn list_requests() -> Result<Vec<SupportRequestView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::support::requests(&ssr::platform()?, &actor).await?)
}

/// Opens a request for one of the caller's tenants. Audited.
#[server(prefix = "/rpc", endpoint = "support/open")]
pub async fn open_request(tenant: String, subject: String, body: String) -> Result<SupportRequestView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewSupportRequest { tenant, subject, body };
    Ok(domain::support::open(&ssr::platform()?, &actor, input).await?)
}

/// Moves a request to a state, with an answer. Audited.
#[server(prefix = "/rpc", endpoint = "support/answer")]
pub async fn answer_request(
    id: uuid::Uuid,
    state: String,
    answer: Option<String>,
) -> Result<SupportRequestView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::SupportAnswer { state, answer };
    Ok(domain::support::answer(&ssr::platform()?, &actor, id, input).await?)
}
