use crate::error::AppError;
use leptos::prelude::*;

/// The `ssh …` command that opens a shell on a live build, when the gateway runs.
#[server(prefix = "/rpc", endpoint = "shells/ssh_command")]
pub async fn ssh_command(build_id: uuid::Uuid) -> Result<Option<String>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let p = ssr::platform()?;
    let build = domain::builds::queue::get(&p, &actor, build_id).await?;
    Ok(build.slug.filter(|_| build.live).and_then(|slug| p.settings.shell.ssh_command(&slug)))
}
