//! The console's HTTP edge: which `Host` may reach it, and the security
//! headers of its responses. The rules live in `domain::web_edge`; this
//! module applies them to requests.
//!
//! Why: the Origin check alone trusts a browser's `Host`, and DNS rebinding
//! lets any web page speak to a console on loopback under a name of its own
//! (security review SEC-07). And console pages must not be framed, sniffed or
//! run injected inline scripts (SEC-20). Previews are Odoo's own pages: they
//! pass the Host check on the preview domain and get none of these headers.

use crate::startup::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Refuses any `Host` that is not the public URL's (or a preview's, or a
/// custom domain some instance claimed) with 421
/// Misdirected Request. `GET /api/health` stays open to local probes, which
/// often use the listen address: it changes nothing and says nothing secret.
/// Page loads under another loopback name of a loopback console are sent to
/// the public URL, where the Origin check and cookies expect them.
pub async fn allow_hosts(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use domain::web_edge::HostKind;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let probe = req.method() == Method::GET && req.uri().path() == "/api/health";
    match state.hosts.classify(host) {
        _ if probe => next.run(req).await,
        HostKind::Public | HostKind::Preview => next.run(req).await,
        HostKind::LoopbackAlias if req.method() == Method::GET || req.method() == Method::HEAD => {
            let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let public = domain::web_edge::public_origin(&state.platform.settings.public_url).unwrap_or_default();
            Redirect::temporary(&format!("{public}{path}")).into_response()
        }
        HostKind::LoopbackAlias => next.run(req).await,
        // A tenant's custom domain: the preview router answers it (and only it).
        HostKind::Refused if crate::preview::custom_domain(&state, host) => next.run(req).await,
        HostKind::Refused => {
            tracing::debug!(host, "request for a host this console does not serve");
            crate::api::error::ApiError {
                code: domain::ErrorCode::Misdirected,
                message: "this console does not answer to that host name; use its public URL".into(),
            }
            .into_response()
        }
    }
}

/// Adds the security headers to every console response. Pages set their own
/// Content-Security-Policy with the nonce of their inline scripts (see
/// `app::shell`); everything else gets the same policy without a nonce.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = state.platform.settings.secure_cookies();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in domain::web_edge::console_headers(https) {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = domain::web_edge::content_security_policy(None, &state.platform.settings.public_url);
        if let Ok(v) = HeaderValue::from_str(&policy) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}
