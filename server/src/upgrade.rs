//! WebSocket passthrough for previews and instances: Odoo's `/websocket`
//! (its bus: chat, notifications, live updates) upgrades through the
//! console's router to the serving container. The request goes upstream as
//! it came (with `X-Forwarded-Host`/`-Proto`); on `101` the two connections
//! are joined byte for byte. Access was decided before: this runs only for
//! a host the router already let through.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longest response head accepted from upstream.
const MAX_HEAD: usize = 16 * 1024;

/// Whether `req` asks to become a WebSocket.
pub fn is_websocket(req: &Request) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    req.method() == axum::http::Method::GET && has(header::UPGRADE, "websocket") && has(header::CONNECTION, "upgrade")
}

/// The request as it goes upstream: its own headers, `Host` the target's,
/// the original host and scheme forwarded.
fn head(req: &Request, target: &str, https: bool) -> Vec<u8> {
    let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut out = format!("GET {path} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    for (name, value) in req.headers() {
        if name == header::HOST || name.as_str().starts_with("x-forwarded-") {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(host) = req.headers().get(header::HOST) {
        out.extend_from_slice(b"X-Forwarded-Host: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("X-Forwarded-Proto: {}\r\n\r\n", if https { "https" } else { "http" }).as_bytes());
    out
}

fn bad_gateway(why: &str, target: &str) -> Response {
    tracing::warn!(%target, why, "websocket upstream failed");
    (StatusCode::BAD_GATEWAY, "the Odoo behind this address did not accept the WebSocket").into_response()
}

/// Proxies a WebSocket upgrade to `target` (`ip:port`).
pub async fn proxy(mut req: Request, target: &str, https: bool) -> Response {
    let on_upgrade = hyper::upgrade::on(&mut req);
    let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
        return bad_gateway("connect", target);
    };
    let _ = upstream.set_nodelay(true);
    if upstream.write_all(&head(&req, target, https)).await.is_err() {
        return bad_gateway("write", target);
    }
    // The response head, and whatever came right after it.
    let mut buf = Vec::with_capacity(1024);
    let end = loop {
        let mut chunk = [0u8; 2048];
        match upstream.read(&mut chunk).await {
            Ok(0) | Err(_) => return bad_gateway("closed before answering", target),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return bad_gateway("head too long", target);
        }
    };
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse::<u16>().ok());
    let Some(status) = status.and_then(|s| StatusCode::from_u16(s).ok()) else {
        return bad_gateway("no status", target);
    };
    let mut builder = Response::builder().status(status);
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            builder = builder.header(name.trim(), value.trim());
        }
    }
    if status != StatusCode::SWITCHING_PROTOCOLS {
        // Refused upstream: its answer as it is (the head, and what of the body came with it).
        return builder.body(Body::from(buf[end..].to_vec())).unwrap_or_else(|_| bad_gateway("answer", target));
    }
    let early = buf[end..].to_vec();
    let target = target.to_owned();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let mut client = TokioIo::new(upgraded);
                if !early.is_empty() && client.write_all(&early).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
            Err(e) => tracing::warn!(%target, error = %e, "the client's side of a websocket never upgraded"),
        }
    });
    builder.body(Body::empty()).unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
