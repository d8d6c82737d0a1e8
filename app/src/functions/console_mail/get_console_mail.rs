use crate::error::AppError;
use domain::wire::ConsoleMailView;
use leptos::prelude::*;

/// One console message with its text, marked read; audited.
#[server(prefix = "/rpc", endpoint = "console_mail/get")]
pub async fn get_console_mail(id: uuid::Uuid) -> Result<ConsoleMailView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::mail::console::get(&ssr::platform()?, &actor, id).await?)
}
