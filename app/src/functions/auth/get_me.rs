use crate::error::AppError;
use domain::wire::Me;
use leptos::prelude::*;

/// The signed-in user, or `None`.
#[server(prefix = "/rpc", endpoint = "auth/me")]
pub async fn get_me() -> Result<Option<Me>, AppError> {
    use super::super::ssr;
    let auth = ssr::request_auth().await?;
    match auth.actor {
        Some(actor) => Ok(Some(domain::accounts::me(&ssr::platform()?, &actor).await?)),
        None => Ok(None),
    }
}
