//! WebSocket passthrough for previews and instances: Odoo's `/websocket`
//! (its bus: chat, notifications, live updates) upgrades through the
//! console's router to the serving container. The request goes upstream as
//! it came (with `X-Forwarded-Host`/`-Proto`); on `101` the two connections
//! are joined byte for byte. Access was decided before: this runs only for
//! a host the router already let through. A joined connection ends after
//! [`IDLE`] without a byte either way (Odoo's bus client reconnects), one
//! target holds at most [`PER_TARGET`] at once and the console [`TOTAL`], so
//! no workspace, nor all of them together, can pin the console's sockets.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Longest a joined connection stays open with no byte either way.
pub const IDLE: Duration = Duration::from_secs(600);
/// Joined connections one target (`ip:port`) may hold at once.
pub const PER_TARGET: usize = 256;
/// Joined connections this console holds at once, all targets together.
pub const TOTAL: usize = 4096;

/// Open joined connections per target.
static OPEN: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

/// One joined connection of a target, counted while it lives.
struct Slot(String);

impl Slot {
    fn take(target: &str) -> Option<Slot> {
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let map = open.get_or_insert_with(HashMap::new);
        if map.values().sum::<usize>() >= TOTAL {
            return None;
        }
        let n = map.entry(target.to_owned()).or_insert(0);
        if *n >= PER_TARGET {
            return None;
        }
        *n += 1;
        Some(Slot(target.to_owned()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(map) = open.as_mut() {
            if let Some(n) = map.get_mut(&self.0) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&self.0);
                }
            }
        }
    }
}

/// Copies both ways until either side closes or nothing moves for `idle`.
async fn join<A, B>(a: A, b: B, idle: Duration)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut ar, mut aw) = tokio::io::split(a);
    let (mut br, mut bw) = tokio::io::split(b);
    let (mut x, mut y) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        let moved = tokio::time::timeout(idle, async {
            tokio::select! {
                r = ar.read(&mut x) => match r {
                    Ok(n) if n > 0 => bw.write_all(&x[..n]).await.is_ok(),
                    _ => false,
                },
                r = br.read(&mut y) => match r {
                    Ok(n) if n > 0 => aw.write_all(&y[..n]).await.is_ok(),
                    _ => false,
                },
            }
        })
        .await;
        if moved != Ok(true) {
            break;
        }
    }
    let _ = aw.shutdown().await;
    let _ = bw.shutdown().await;
}

/// Longest response head accepted from upstream.
const MAX_HEAD: usize = 16 * 1024;
/// Longest wait for upstream to accept the connection and answer the handshake.
const HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(15);
/// The only upstream headers a `101` carries back (the tenant's container
/// chooses none of the framing or connection headers the client sees).
const HANDSHAKE_HEADERS: &[&str] =
    &["upgrade", "connection", "sec-websocket-accept", "sec-websocket-protocol", "sec-websocket-extensions"];

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
    let Some(slot) = Slot::take(target) else {
        tracing::warn!(%target, "too many open websockets for one workspace");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many open connections to this workspace; try again later")
            .into_response();
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let Ok(Ok(mut upstream)) = tokio::time::timeout(HANDSHAKE, tokio::net::TcpStream::connect(target)).await else {
        return bad_gateway("connect", target);
    };
    let _ = upstream.set_nodelay(true);
    if upstream.write_all(&head(&req, target, https)).await.is_err() {
        return bad_gateway("write", target);
    }
    // The response head, and whatever came right after it.
    let mut buf = Vec::with_capacity(1024);
    let deadline = tokio::time::Instant::now() + HANDSHAKE;
    let end = loop {
        let mut chunk = [0u8; 2048];
        match tokio::time::timeout_at(deadline, upstream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return bad_gateway("closed before answering", target),
            Err(_) => return bad_gateway("no answer in time", target),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
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
    if status != StatusCode::SWITCHING_PROTOCOLS {
        // Refused upstream: a fixed answer, never the container's own framing.
        return bad_gateway("refused the upgrade", target);
    }
    let mut builder = Response::builder().status(status);
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            if HANDSHAKE_HEADERS.contains(&name.trim().to_ascii_lowercase().as_str()) {
                builder = builder.header(name.trim(), value.trim());
            }
        }
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
                join(client, upstream, IDLE).await;
                drop(slot);
            }
            Err(e) => tracing::warn!(%target, error = %e, "the client's side of a websocket never upgraded"),
        }
    });
    builder.body(Body::empty()).unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_joined_connection_carries_bytes_both_ways_and_ends_when_idle() {
        let (mut client, near) = tokio::io::duplex(1024);
        let (far, mut server) = tokio::io::duplex(1024);
        let joined = tokio::spawn(join(near, far, Duration::from_millis(200)));
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.write_all(b"pong").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
        // Nothing moves: the join ends and both sides see the end.
        joined.await.unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    }

    #[test]
    fn one_target_holds_a_bounded_number_of_connections() {
        let target = "10.255.0.1:8069";
        let slots: Vec<Slot> = (0..PER_TARGET).map(|_| Slot::take(target).expect("under the cap")).collect();
        assert!(Slot::take(target).is_none(), "the cap holds");
        assert!(Slot::take("10.255.0.2:8069").is_some(), "another target is not affected");
        drop(slots);
        assert!(Slot::take(target).is_some(), "released slots are free again");
    }
}
