//! The preview router: requests for `<slug>.<preview domain>` go to that
//! build's Odoo container, and `<subdomain>.<instances domain>` (or a
//! verified custom domain) to the build serving that tenant instance
//! (public: Odoo asks for its own login; its bus to Odoo's bus port when it
//! runs workers). Public development previews (when the project
//! allows it) open to anyone; others need a share link, whose token becomes a
//! cookie on the preview's own host. A build that is not serving answers a
//! clear page, never a bare 502. Stable addresses (`<project>.<domain>`,
//! `<branch>-<project>.<domain>`, a project's custom domains) follow their
//! environment's newest live build, public or behind a share link the same way.

use crate::startup::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use domain::builds::{connect, preview};
use sqlx::Row;

const COOKIE: &str = "odooops_preview";

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>{title} · OdooOps preview</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:560px;margin:12vh auto;color:#1f2328}}h1{{color:#714b67}}</style></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>"
    );
    (status, Html(html)).into_response()
}

/// A `Host` header's name: lowercase, without its port.
fn bare_host(header: &str) -> String {
    let host = header.to_ascii_lowercase();
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h.to_owned(),
        _ => host,
    }
}

/// Whether `host` (a `Host` header) is a custom domain some instance claimed.
pub fn custom_domain(state: &AppState, host: &str) -> bool {
    state.platform.builds.as_ref().is_some_and(|b| b.custom_domains.knows(&bare_host(host)))
}

/// A custom domain: its verification token while a claim waits, then its instance.
async fn custom(state: &AppState, req: Request, host: &str) -> Response {
    use domain::instances::domains;
    let route = match domains::route(&state.platform, host).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "custom domain lookup failed");
            return page(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", "Try again in a moment.");
        }
    };
    if let Some(token) = req.uri().path().strip_prefix(domains::CHALLENGE_PREFIX) {
        return if route.tokens.iter().any(|t| t == token) {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], token.to_owned()).into_response()
        } else {
            (StatusCode::NOT_FOUND, "no such claim").into_response()
        };
    }
    if let Some(label) = route.env_label {
        return match domain::addresses::target(&state.platform, &label).await {
            Ok(Some(t)) => stable(state, req, &label, t).await,
            Ok(None) => page(StatusCode::NOT_FOUND, "Not serving", "This domain's project has no production yet."),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "stable address lookup failed");
                page(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", "Try again in a moment.")
            }
        };
    }
    match route.subdomain {
        Some(subdomain) => instance(state, req, &subdomain).await,
        None => page(
            StatusCode::NOT_FOUND,
            "Domain not verified yet",
            "This domain is waiting for verification in OdooOps; it opens once its owner has verified it.",
        ),
    }
}

pub async fn route(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(infra) = state.platform.builds.as_ref() else { return next.run(req).await };
    let host = bare_host(req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default());
    let host = host.as_str();
    if infra.custom_domains.knows(host) {
        return custom(&state, req, host).await;
    }
    // A stable address: a label under the preview domain that is not a preview's.
    let stable_label = host
        .strip_suffix(&format!(".{}", infra.preview_domain))
        .filter(|l| !preview::is_slug(l) && !l.is_empty() && !l.contains('.'));
    if let Some(label) = stable_label {
        match domain::addresses::target(&state.platform, label).await {
            Ok(Some(t)) => {
                let label = label.to_owned();
                return stable(&state, req, &label, t).await;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "stable address lookup failed");
                return page(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", "Try again in a moment.");
            }
        }
    }
    let instance_label = host.strip_suffix(&format!(".{}", infra.instances_domain));
    if let Some(label) = instance_label.filter(|l| !preview::is_slug(l) && !l.is_empty() && !l.contains('.')) {
        let label = label.to_owned();
        return instance(&state, req, &label).await;
    }
    if instance_label.is_some() && infra.instances_domain != infra.preview_domain {
        // A preview-shaped (or dotted) name under the instances' own domain is nobody's.
        return page(StatusCode::NOT_FOUND, "No such workspace", "No Odoo workspace has this address.");
    }
    let Some(slug) = host.strip_suffix(&format!(".{}", infra.preview_domain)) else { return next.run(req).await };
    if !preview::is_slug(slug) {
        return page(StatusCode::NOT_FOUND, "No such preview", "This address is not a preview of any build.");
    }
    let slug = slug.to_owned();
    let row = match sqlx::query("SELECT * FROM ops.preview_target($1)")
        .bind(&slug)
        .fetch_optional(state.platform.db.anonymous())
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "preview lookup failed");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Preview unavailable",
                "OdooOps could not look this preview up. Try again in a moment.",
            );
        }
    };
    let Some(row) = row else {
        return page(
            StatusCode::NOT_FOUND,
            "No such preview",
            "No build has this address. It may have been cleaned up.",
        );
    };
    if req.uri().path() == connect::TICKET_PATH {
        let target: Option<String> = row.get("target");
        let query = req.uri().query().unwrap_or_default().to_owned();
        return connect_here(&state, &query, &slug, target.filter(|_| row.get::<bool, _>("live"))).await;
    }
    let public = row.get::<bool, _>("public") && row.get::<String, _>("stage") == "development";
    if let Some(refused) = gate(&req, &infra.preview_key, &slug, public) {
        return refused;
    }
    let live: bool = row.get("live");
    let target: Option<String> = row.get("target");
    let Some(target) = target.filter(|_| live) else {
        let state: String = row.get("state");
        let result: Option<String> = row.get("result");
        let what = match (state.as_str(), result.as_deref()) {
            ("pending", _) => "is waiting to be built".to_owned(),
            ("running", _) => "is being built right now; reload in a moment".to_owned(),
            (_, Some("ko")) => "failed; its logs in OdooOps say why".to_owned(),
            (_, Some("killed")) => "was killed".to_owned(),
            _ => "is no longer running (a newer build replaced it, or it was stopped)".to_owned(),
        };
        return page(StatusCode::SERVICE_UNAVAILABLE, "Build not serving", &format!("This build {what}."));
    };
    forward(&state, req, &target).await
}

/// Lets a request through to `name` (a preview slug or a stable label) when
/// the address is public or a share link's token for that name came with it
/// (as `odooops_token`, which becomes a cookie of this host, or as that
/// cookie); otherwise the page saying why not.
fn gate(req: &Request, key: &[u8], name: &str, public: bool) -> Option<Response> {
    let now = chrono::Utc::now().timestamp();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let token_param = query.split('&').find_map(|kv| kv.strip_prefix("odooops_token=")).map(str::to_owned);
    if let Some(token) = token_param {
        if !preview::verify(key, name, &token, now) {
            return Some(page(
                StatusCode::FORBIDDEN,
                "Link expired",
                "This share link is invalid or has expired. Ask for a new one in OdooOps.",
            ));
        }
        // Keep the token as a cookie of this host and drop it from the URL.
        let location = preview::location_without_token(req.uri().path(), &query);
        let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax")) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
        return Some(resp);
    }
    let cookie_ok = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix(&format!("{COOKIE}=")))
        .any(|t| preview::verify(key, name, t, now));
    (!public && !cookie_ok).then(|| {
        page(
            StatusCode::UNAUTHORIZED,
            "Private address",
            "Open this address from OdooOps (Connect) or with a share link.",
        )
    })
}

/// A Connect ticket on its build's own host: used up, the build's Odoo signed
/// in as its admin, and the browser sent on with that session and this
/// preview's cookie. A used, expired or foreign ticket opens nothing.
async fn connect_here(state: &AppState, query: &str, slug: &str, target: Option<String>) -> Response {
    let Some(infra) = state.platform.builds.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    let ticket = query.split('&').find_map(|kv| kv.strip_prefix(&format!("{}=", connect::TICKET_PARAM)));
    let expired = || {
        page(
            StatusCode::FORBIDDEN,
            "Link used or expired",
            "This Connect link was already used or has expired. Connect again from OdooOps.",
        )
    };
    let Some(ticket) = ticket else { return expired() };
    let redeemed = match connect::redeem(&state.platform, slug, ticket).await {
        Ok(Some(r)) => r,
        Ok(None) => return expired(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "connect ticket lookup failed");
            return page(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", "Try again in a moment.");
        }
    };
    let Some(target) = target else {
        return page(StatusCode::SERVICE_UNAVAILABLE, "Build not serving", "This build stopped serving meanwhile.");
    };
    let secure = if https(state) { "; Secure" } else { "" };
    let exp = chrono::Utc::now().timestamp() + connect::PREVIEW_HOURS * 3600;
    let preview_cookie =
        format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}", preview::sign(&infra.preview_key, slug, exp));
    let mut resp = match connect::sign_in_as_admin(infra, &redeemed.database, &target).await {
        Ok(session) => {
            let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/web")]).into_response();
            if let Ok(v) =
                HeaderValue::from_str(&format!("session_id={session}; Path=/; HttpOnly; SameSite=Lax{secure}"))
            {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            tracing::warn!(build = %redeemed.build, error = %format!("{e:#}"), "connect: signing in as admin failed");
            page(
                StatusCode::BAD_GATEWAY,
                "Could not sign you in",
                "The build's Odoo did not accept the admin sign-in; its <a href=\"/web/login\">login page</a> is open to you.",
            )
        }
    };
    if let Ok(v) = HeaderValue::from_str(&preview_cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A stable address (`<project>.<domain>`, `<branch>-<project>.<domain>`,
/// or a project's verified custom domain): the environment's newest live build.
async fn stable(state: &AppState, req: Request, label: &str, t: domain::addresses::Target) -> Response {
    let Some(infra) = state.platform.builds.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    if let Some(refused) = gate(&req, &infra.preview_key, label, t.public) {
        return refused;
    }
    let target = match (t.bus_target, t.target) {
        (Some(bus), Some(_)) if req.uri().path() == "/websocket" => Some(bus),
        (_, target) => target,
    };
    match target {
        Some(target) => forward(state, req, &target).await,
        None => {
            let what = if t.stage == "production" { "Production" } else { "This branch" };
            let mut resp = page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not serving right now",
                &format!(
                    "{what} has no healthy build serving at the moment; it opens as soon as one passes its checks."
                ),
            );
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            resp
        }
    }
}

/// Whether the console (and so every preview and instance host) is reached over HTTPS.
fn https(state: &AppState) -> bool {
    state.platform.settings.is_https()
}

/// A tenant instance's host: its serving build, or a page saying why not
/// (503 with `Retry-After` while it is being set up, changed or paused).
async fn instance(state: &AppState, req: Request, subdomain: &str) -> Response {
    let row = match sqlx::query("SELECT * FROM ops.instance_target($1)")
        .bind(subdomain)
        .fetch_optional(state.platform.db.anonymous())
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "instance lookup failed");
            return page(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", "Try again in a moment.");
        }
    };
    let Some(row) = row else {
        return page(StatusCode::NOT_FOUND, "No such workspace", "No Odoo workspace has this address.");
    };
    let (st, target): (String, Option<String>) = (row.get("state"), row.get("target"));
    // With workers, Odoo's bus answers on its own port (8072): `/websocket` goes there.
    let bus: Option<String> = row.get("bus_target");
    let target = match bus {
        Some(bus) if req.uri().path() == "/websocket" => Some(bus),
        _ => target,
    };
    match (st.as_str(), target) {
        ("active" | "error", Some(target)) => forward(state, req, &target).await,
        (st, _) => {
            let (title, text) = match st {
                "draft" | "provisioning" => {
                    ("Being set up", "This Odoo workspace is being set up; it opens in a minute or two.")
                }
                "paused" => ("Paused", "This Odoo workspace is paused by its owner."),
                "decommissioning" | "decommissioned" => ("Closed", "This Odoo workspace has been closed."),
                _ => ("Under maintenance", "This Odoo workspace is under maintenance; try again in a moment."),
            };
            let mut resp = page(StatusCode::SERVICE_UNAVAILABLE, title, text);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            resp
        }
    }
}

/// Sends the request to a build's Odoo and counts it (with its latency to the
/// response's head) in the monitor's traffic for that build.
async fn forward(state: &AppState, req: Request, target: &str) -> Response {
    let started = std::time::Instant::now();
    let resp = forward_to(req, target, https(state), &state.platform.settings.trusted_proxies).await;
    if let Some(infra) = state.platform.builds.as_ref() {
        infra.traffic.record(target, resp.status().as_u16(), started.elapsed());
    }
    resp
}

async fn forward_to(req: Request, target: &str, https: bool, trusted: &[std::net::IpAddr]) -> Response {
    if domain::web_edge::is_database_manager(req.uri().path()) {
        return page(
            StatusCode::FORBIDDEN,
            "Not available",
            "Odoo's database manager is closed here: OdooOps backs up, restores and copies databases itself.",
        );
    }
    if crate::upgrade::is_websocket(&req) {
        return crate::upgrade::proxy(req, target, https).await;
    }
    // Odoo's proxy mode believes these: the client's own are dropped, ours say who called, how and for which name.
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let client_ip = peer.map(|peer| {
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        domain::web_edge::client_ip(peer, forwarded, trusted)
    });
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
    });
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut out = client.request(parts.method.clone(), format!("http://{target}{path}"));
    for (name, value) in parts.headers.iter() {
        let claimed = name.as_str().starts_with("x-forwarded-") || name.as_str() == "forwarded" || name == "x-real-ip";
        if !is_hop_by_hop(name.as_str()) && name != header::HOST && !claimed {
            out = out.header(name, value);
        }
    }
    if let Some(ip) = client_ip {
        out = out.header("x-forwarded-for", ip.to_string()).header("x-real-ip", ip.to_string());
    }
    if let Some(host) = parts.headers.get(header::HOST) {
        out = out.header("x-forwarded-host", host);
    }
    // Odoo's proxy mode builds its URLs from these.
    out = out.header("x-forwarded-proto", if https { "https" } else { "http" });
    out = out.body(reqwest::Body::wrap_stream(body.into_data_stream()));
    match out.send().await {
        Ok(resp) => {
            let mut builder = Response::builder().status(resp.status().as_u16());
            for (name, value) in resp.headers().iter() {
                if name == header::SET_COOKIE {
                    builder = builder.header(name.as_str(), domain::web_edge::host_only_cookie(value.as_bytes()));
                } else if !is_hop_by_hop(name.as_str()) {
                    builder = builder.header(name.as_str(), value.as_bytes());
                }
            }
            builder
                .body(Body::from_stream(resp.bytes_stream()))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(e) => {
            tracing::warn!(error = %e, %target, "preview upstream failed");
            page(
                StatusCode::BAD_GATEWAY,
                "Preview not answering",
                "The build's Odoo did not answer. It may be restarting; reload in a moment.",
            )
        }
    }
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}
