use crate::error::AppError;
use domain::wire::MailView;
use leptos::prelude::*;

/// One caught message (marked read).
#[server(prefix = "/rpc", endpoint = "mails/get")]
pub async fn get_mail(env_id: uuid::Uuid, id: uuid::Uuid) -> Result<MailView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::mail::store::get(&ssr::platform()?, &actor, env_id, id).await?)
}
