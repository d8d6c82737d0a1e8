use crate::error::AppError;
use domain::wire::{ShellSessionView, TranscriptEvent};
use leptos::prelude::*;

/// A shell session and its whole transcript.
#[server(prefix = "/rpc", endpoint = "shells/transcript")]
pub async fn shell_transcript(session_id: uuid::Uuid) -> Result<(ShellSessionView, Vec<TranscriptEvent>), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let p = ssr::platform()?;
    let session = domain::shell::sessions::get(&p, &actor, session_id).await?;
    Ok((session, domain::shell::sessions::transcript(&p, &actor, session_id).await?))
}
