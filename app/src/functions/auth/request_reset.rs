use crate::error::AppError;
use leptos::prelude::*;

/// Mails a reset link if the account exists; answers the same either way.
#[server(prefix = "/rpc", endpoint = "auth/request_reset")]
pub async fn request_reset(email: String) -> Result<(), AppError> {
    use super::super::ssr;
    let meta = ssr::request_auth().await?.meta;
    domain::accounts::request_password_reset(&ssr::platform()?, &email, &meta).await?;
    Ok(())
}
