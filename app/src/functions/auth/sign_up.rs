use crate::error::AppError;
use leptos::prelude::*;

/// Creates an account and its organisation, signs in, goes to the projects page.
/// The first account of an installation needs the setup token from the console's log.
#[server(prefix = "/rpc", endpoint = "auth/sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    display_name: String,
    organisation: String,
    setup_token: Option<String>,
) -> Result<(), AppError> {
    use super::super::ssr;
    let p = ssr::platform()?;
    let meta = ssr::request_auth().await?.meta;
    let form = domain::accounts::SignUp {
        email: &email,
        password: &password,
        display_name: &display_name,
        organisation: &organisation,
        setup_token: setup_token.as_deref(),
    };
    let (_, token) = domain::accounts::sign_up(&p, form, meta).await?;
    ssr::set_session_cookie(&p, &token.0);
    leptos_axum::redirect("/projects");
    Ok(())
}
