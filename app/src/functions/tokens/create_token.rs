use crate::error::AppError;
use domain::wire::CreatedToken;
use leptos::prelude::*;

/// Creates a token; its secret is in the answer once and never again.
#[server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(
    name: String,
    expires_in_days: Option<u32>,
    scope: Option<String>,
) -> Result<CreatedToken, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewToken { name, expires_in_days, scope };
    Ok(domain::accounts::create_token(&ssr::platform()?, &actor, input).await?)
}
