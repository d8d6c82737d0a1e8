use crate::error::AppError;
use leptos::prelude::*;

/// Whether nobody has an account yet: the sign-up form then asks for the setup token.
#[server(prefix = "/rpc", endpoint = "auth/setup_required")]
pub async fn setup_required() -> Result<bool, AppError> {
    use super::super::ssr;
    Ok(domain::accounts::is_empty_install(&ssr::platform()?).await?)
}
