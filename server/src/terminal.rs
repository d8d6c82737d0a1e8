//! The terminal's WebSocket: `GET /api/v1/shells/{id}/ws?token=…&cols=…&rows=…`
//! for the browser and `odooops shell`; with `&command=…` it runs that one
//! command without a terminal instead of a login shell (`odooops shell -c`,
//! like `ssh host cmd`).
//!
//! The caller must be the session's owner (cookie or bearer), present the
//! session's one-time token, and come from the console's own origin. Frames:
//! binary both ways carry terminal bytes; text frames carry control as JSON:
//! `{"type":"resize","cols":…,"rows":…}` and `{"type":"eof"}` (the command's
//! input ends) from the client, and `{"type":"closed","reason":…,"exit_code":…}`
//! from the server, last.

use crate::api::error::ApiError;
use crate::api::extract::ApiActor;
use crate::startup::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use domain::shell::bridge::{self, ClientMsg, Request, ServerMsg};
use futures_util::{SinkExt, StreamExt};
use uuid::Uuid;

#[derive(serde::Deserialize)]
pub struct Attach {
    token: String,
    cols: Option<u16>,
    rows: Option<u16>,
    /// One command to run instead of the login shell, without a terminal.
    command: Option<String>,
}

/// The longest command `&command=` takes.
const MAX_COMMAND: usize = 16 << 10;

/// Control messages from the browser.
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Control {
    Resize { cols: u16, rows: u16 },
    Eof,
}

pub async fn socket(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(session): Path<Uuid>,
    Query(q): Query<Attach>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(e) = crate::middleware::same_origin_websocket(&headers, &s.platform.settings.public_url) {
        return e.into_response();
    }
    if let Some(c) = &q.command {
        if c.trim().is_empty() || c.len() > MAX_COMMAND || c.contains('\0') {
            return ApiError {
                code: domain::ErrorCode::Invalid,
                message: format!("command: give one command of at most {MAX_COMMAND} bytes"),
            }
            .into_response();
        }
    }
    let attached = match domain::shell::sessions::attach_web(&s.platform, &actor, session, &q.token).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let tty = q.command.is_none();
    let req = Request { command: q.command, tty, cols: q.cols.unwrap_or(80), rows: q.rows.unwrap_or(24) };
    let client = bridge::spawn(s.platform.clone(), attached, req);
    ws.max_message_size(1 << 20).on_upgrade(move |socket| pump(socket, client))
}

async fn pump(socket: WebSocket, client: bridge::ClientEnd) {
    let (mut sink, mut stream) = socket.split();
    let bridge::ClientEnd { to_bridge, mut from_bridge } = client;
    // Browser → bridge. Ends when the browser goes away; dropping `to_bridge` closes the session.
    let inbound = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let m = match msg {
                Message::Binary(b) => ClientMsg::Input(b.to_vec()),
                Message::Text(t) => match serde_json::from_str::<Control>(&t) {
                    Ok(Control::Resize { cols, rows }) => ClientMsg::Resize { cols, rows },
                    Ok(Control::Eof) => ClientMsg::Eof,
                    // Plain text typed by a client that does not send binary frames.
                    Err(_) => ClientMsg::Input(t.as_bytes().to_vec()),
                },
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if to_bridge.send(m).await.is_err() {
                break;
            }
        }
    });
    // Bridge → browser.
    while let Some(msg) = from_bridge.recv().await {
        match msg {
            ServerMsg::Output(bytes) => {
                if sink.send(Message::Binary(bytes.into())).await.is_err() {
                    break;
                }
            }
            ServerMsg::Closed { reason, exit_code } => {
                let text = serde_json::json!({"type": "closed", "reason": reason, "exit_code": exit_code}).to_string();
                let _ = sink.send(Message::Text(text.into())).await;
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
        }
    }
    inbound.abort();
}
