use crate::error::AppError;
use leptos::prelude::*;

/// Signs in with email and password, sets the session cookie, goes to `next` (default `/projects`).
#[server(prefix = "/rpc", endpoint = "auth/sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use super::super::ssr;
    let p = ssr::platform()?;
    let meta = ssr::request_auth().await?.meta;
    let (_, token) = domain::accounts::sign_in(&p, &email, &password, meta).await?;
    ssr::set_session_cookie(&p, &token.0);
    leptos_axum::redirect(&crate::models::safe_next(next.as_deref()));
    Ok(())
}
