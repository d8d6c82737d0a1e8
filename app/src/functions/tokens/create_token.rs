use crate::error::AppError;
use domain::wire::CreatedToken;
use leptos::prelude::*;

/// Creates a token; its secret is in the answer once and never again.
#[server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(name: String, expires_in_days: Option<u32>) -> Result<CreatedToken, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::accounts::create_token(&ssr::platform()?, &actor, domain::wire::NewToken { name, expires_in_days })
        .await?)
}
