//! Request middleware: who is calling, and whether a browser request really
//! comes from the console's own pages (its configured public origin, never
//! whatever `Host` the request names: see `edge` for DNS rebinding).

use crate::startup::AppState;
use app::functions::ssr::RequestAuth;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::auth::RequestMeta;
use std::net::SocketAddr;

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/favicon.ico"
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Resolves the caller from a bearer token or the session cookie, and
/// redirects anonymous page requests to sign-in.
/// Every other request runs in a `request` span carrying its id (the one in
/// `x-request-id` and the audit trail), method, path and, once known, the user.
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_static(req.uri().path()) {
        return next.run(req).await;
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %req.method(),
        path = %req.uri().path(),
        user = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let resp = tracing::Instrument::instrument(authenticated(state, req, next, request_id), span).await;
    domain::metrics::count_request(resp.status().as_u16(), started.elapsed());
    resp
}

async fn authenticated(state: AppState, mut req: Request, next: Next, request_id: String) -> Response {
    let path = req.uri().path().to_owned();
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| domain::web_edge::client_ip(c.0.ip(), forwarded, &state.platform.settings.trusted_proxies));
    let meta = RequestMeta {
        ip: ip.map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
        request_id: Some(request_id.clone()),
        via_token: bearer(req.headers()).is_some(),
        metrics_only: false,
    };
    let p = &state.platform;
    let cookie_name = domain::web_edge::session_cookie_name(p.settings.secure_cookies());
    let session = cookie(req.headers(), cookie_name).map(str::to_owned);
    let mut stale_cookie = false;
    let actor = if let Some(token) = bearer(req.headers()) {
        match domain::accounts::actor_from_token(p, token, meta.clone()).await {
            // A scraper's token reads /metrics and nothing else.
            Ok(Some(a)) if a.meta.metrics_only && !(req.method() == Method::GET && path == "/metrics") => {
                return crate::api::error::ApiError::from(domain::error::DomainError::Denied(
                    "this token only reads /metrics".into(),
                ))
                .into_response()
            }
            Ok(Some(a)) => Some(a),
            Ok(None) => {
                return crate::api::error::ApiError::unauthenticated("the access token is invalid, revoked or expired")
                    .into_response()
            }
            Err(e) => return crate::api::error::ApiError::from(e).into_response(),
        }
    } else if let Some(token) = &session {
        match domain::accounts::actor_from_session(p, token, meta.clone()).await {
            Ok(a) => {
                stale_cookie = a.is_none();
                a
            }
            Err(e) if path == "/api/health" => {
                tracing::warn!(error = %e, "session lookup failed");
                None
            }
            Err(e) => return crate::api::error::ApiError::from(e).into_response(),
        }
    } else {
        None
    };
    if let Some(a) = &actor {
        tracing::Span::current().record("user", tracing::field::display(a.user_id));
    }
    if req.method() == Method::GET {
        if actor.is_none() && app::is_protected_path(&path) {
            let next_param = if path == "/" { String::new() } else { format!("?next={path}") };
            return Redirect::to(&format!("/sign-in{next_param}")).into_response();
        }
        if actor.is_some() && (path == "/sign-in" || path == "/sign-up") {
            return Redirect::to("/projects").into_response();
        }
    }
    req.extensions_mut().insert(RequestAuth { actor, session_token: session, meta });
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    if stale_cookie {
        let secure = if p.settings.secure_cookies() { "; Secure" } else { "" };
        let clear = format!("{cookie_name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}");
        if let Ok(v) = HeaderValue::from_str(&clear) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Refuses state-changing requests that carry ambient credentials (cookies)
/// from another origin than the configured public one. Bearer-token requests
/// carry no ambient credential and webhooks are signed, so both pass.
pub async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method();
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || bearer(req.headers()).is_some()
        || req.uri().path().starts_with("/api/webhooks/")
    {
        return next.run(req).await;
    }
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned).or_else(|| {
        headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(domain::web_edge::public_origin)
    });
    let public = domain::web_edge::public_origin(&state.platform.settings.public_url);
    let ok = origin.as_deref().is_some_and(|o| public.is_some() && Some(o.to_ascii_lowercase()) == public);
    if ok {
        next.run(req).await
    } else {
        let msg = match origin {
            Some(o) => format!("cross-site request refused: origin {o} is not this console"),
            None => "request refused: state-changing requests from a browser must carry an Origin header".to_owned(),
        };
        (StatusCode::FORBIDDEN, axum::Json(domain::wire::ApiErrorBody { code: "forbidden".into(), message: msg }))
            .into_response()
    }
}

/// WebSocket handshakes are not subject to CORS and carry cookies: a browser
/// handshake must come from the console's public origin. Clients that send no
/// Origin (scripts with a bearer token) are not browsers and pass.
pub fn same_origin_websocket(headers: &HeaderMap, public_url: &str) -> Result<(), crate::api::error::ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) else {
        return Ok(());
    };
    if domain::web_edge::public_origin(public_url).is_some_and(|p| p == origin.to_ascii_lowercase()) {
        Ok(())
    } else {
        Err(crate::api::error::ApiError {
            code: domain::ErrorCode::Forbidden,
            message: format!("cross-site WebSocket refused: origin {origin} is not this console"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_origins() {
        let mut h = HeaderMap::new();
        assert!(same_origin_websocket(&h, "http://ops.example.com").is_ok(), "no Origin: not a browser");
        h.insert(header::HOST, HeaderValue::from_static("rebind.attacker.test:3000"));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://rebind.attacker.test:3000"));
        assert!(same_origin_websocket(&h, "http://ops.example.com").is_err(), "Host does not vouch for Origin");
        h.insert(header::ORIGIN, HeaderValue::from_static("http://ops.example.com"));
        assert!(same_origin_websocket(&h, "http://ops.example.com/").is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(same_origin_websocket(&h, "http://ops.example.com").is_err());
    }

    #[test]
    fn cookies_and_bearer() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; odooops_session=xyz; b=2"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer odo_abc"));
        assert_eq!(cookie(&h, "odooops_session"), Some("xyz"));
        assert_eq!(cookie(&h, "__Host-odooops_session"), None, "under https only the prefixed cookie counts");
        assert_eq!(cookie(&h, "missing"), None);
        assert_eq!(bearer(&h), Some("odo_abc"));
    }
}
