use crate::error::AppError;
use leptos::prelude::*;

/// Ends this session and clears the cookie.
#[server(prefix = "/rpc", endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::super::ssr;
    let auth = ssr::request_auth().await?;
    if let (Some(actor), Some(token)) = (auth.actor, auth.session_token) {
        domain::accounts::sign_out(&ssr::platform()?, &actor, &token).await?;
    }
    ssr::clear_session_cookie();
    leptos_axum::redirect("/sign-in");
    Ok(())
}
