use crate::error::AppError;
use leptos::prelude::*;

/// Sets a new password with a reset token; every session of the account ends.
#[server(prefix = "/rpc", endpoint = "auth/reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use super::super::ssr;
    domain::accounts::reset_password(&ssr::platform()?, &token, &password).await?;
    leptos_axum::redirect("/sign-in?reset=1");
    Ok(())
}
