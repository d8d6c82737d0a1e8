use crate::error::AppError;
use domain::wire::TokenView;
use leptos::prelude::*;

/// The user's tokens (never their secrets).
#[server(prefix = "/rpc", endpoint = "tokens/list")]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::accounts::list_tokens(&ssr::platform()?, &actor).await?)
}
