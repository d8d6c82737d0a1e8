use crate::error::AppError;
use domain::wire::ConsoleMailSummary;
use leptos::prelude::*;

/// The console's own messages, newest first (platform owners).
#[server(prefix = "/rpc", endpoint = "console_mail/list")]
pub async fn list_console_mail() -> Result<Vec<ConsoleMailSummary>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::mail::console::list(&ssr::platform()?, &actor, 200).await?)
}
