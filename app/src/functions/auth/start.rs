//! Self-service: an account made from the "Start with Odoo" page, the link
//! that proves its owner reads the address, and asking for that link again.

use crate::error::AppError;
use leptos::prelude::*;

/// Creates an account and its organisation, signs in, and mails the link
/// that confirms the address; back to `/start`.
#[server(prefix = "/rpc", endpoint = "start/sign_up")]
pub async fn start_sign_up(email: String, password: String, organisation: String) -> Result<(), AppError> {
    use super::super::ssr;
    let p = ssr::platform()?;
    let meta = ssr::request_auth().await?.meta;
    let form = domain::accounts::SignUp {
        email: &email,
        password: &password,
        display_name: "",
        organisation: &organisation,
        setup_token: None,
    };
    let (actor, token) = domain::accounts::sign_up(&p, form, meta).await?;
    ssr::set_session_cookie(&p, &token.0);
    domain::accounts::request_verification(&p, &actor).await?;
    leptos_axum::redirect("/start");
    Ok(())
}

/// Mails the address-confirmation link again.
#[server(prefix = "/rpc", endpoint = "auth/request_verification")]
pub async fn request_verification() -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::accounts::request_verification(&ssr::platform()?, &actor).await?)
}

/// Confirms the address with the link's token; on to `/start`.
#[server(prefix = "/rpc", endpoint = "auth/verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use super::super::ssr;
    domain::accounts::verify_email(&ssr::platform()?, &token).await?;
    leptos_axum::redirect("/start");
    Ok(())
}
