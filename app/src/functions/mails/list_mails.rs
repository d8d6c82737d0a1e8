use crate::error::AppError;
use domain::wire::MailSummary;
use leptos::prelude::*;

/// An environment's caught mail, newest first, filtered by a search.
#[server(prefix = "/rpc", endpoint = "mails/list")]
pub async fn list_mails(env_id: uuid::Uuid, query: String) -> Result<Vec<MailSummary>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::mail::store::list(&ssr::platform()?, &actor, env_id, &query, 200).await?)
}
