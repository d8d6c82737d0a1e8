//! Server-only helpers for server functions: the platform handle, the
//! authenticated user that the server's middleware resolved, and cookies.

use crate::error::AppError;
use domain::auth::Actor;
use domain::platform::Platform;
use domain::DomainError;
use leptos::prelude::*;

/// What the server's auth middleware found on the request; an axum extension.
#[derive(Clone, Default)]
pub struct RequestAuth {
    pub actor: Option<Actor>,
    /// The raw session cookie (to end that session on sign-out). Never serialised.
    pub session_token: Option<String>,
    pub meta: domain::auth::RequestMeta,
}

pub fn platform() -> Result<Platform, AppError> {
    use_context::<Platform>().ok_or_else(|| AppError::from(DomainError::Unavailable("platform not in context".into())))
}

pub async fn request_auth() -> Result<RequestAuth, AppError> {
    let axum::Extension(auth) = leptos_axum::extract::<axum::Extension<RequestAuth>>()
        .await
        .map_err(|_| AppError::from(DomainError::Unavailable("authentication layer missing".into())))?;
    Ok(auth)
}

/// The signed-in user, or `Unauthenticated`.
pub async fn actor() -> Result<Actor, AppError> {
    request_auth().await?.actor.ok_or_else(|| DomainError::Unauthenticated.into())
}

/// The HttpOnly session cookie; `__Host-` prefixed and `Secure` under https
/// (`domain::web_edge::session_cookie_name`).
pub fn set_session_cookie(p: &Platform, token: &str) {
    let https = p.settings.secure_cookies();
    let name = domain::web_edge::session_cookie_name(https);
    let secure = if https { "; Secure" } else { "" };
    let max_age = p.settings.session_ttl.as_secs();
    set_cookie(&format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"));
}

pub fn clear_session_cookie() {
    let https = platform().is_ok_and(|p| p.settings.secure_cookies());
    let name = domain::web_edge::session_cookie_name(https);
    let secure = if https { "; Secure" } else { "" };
    set_cookie(&format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"));
}

fn set_cookie(value: &str) {
    if let (Some(resp), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(value)) {
        resp.append_header(http::header::SET_COOKIE, v);
    }
}
