use crate::error::AppError;
use domain::wire::ShellTicket;
use leptos::prelude::*;

/// Opens a shell session on a live build (role rules apply); the terminal attaches with the ticket.
#[server(prefix = "/rpc", endpoint = "shells/open")]
pub async fn open_shell(build_id: uuid::Uuid) -> Result<ShellTicket, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::shell::sessions::open_web(&ssr::platform()?, &actor, build_id).await?)
}
