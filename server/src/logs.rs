//! Live build logs over a WebSocket: `GET /api/v1/builds/{id}/events/ws?after=<id>`
//! sends the backlog, then every new batch of events as it is stored.
//!
//! One PostgreSQL listener per server (for build logs, caught mail and
//! monitoring samples together) fans the notifications out to the sockets
//! through broadcast channels; each socket reads its own new rows, so a slow
//! client only delays itself (a lagging receiver just re-reads).

use crate::api::error::ApiError;
use crate::startup::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use domain::auth::Actor;
use domain::platform::Platform;
use tokio::sync::broadcast;
use uuid::Uuid;

/// Fans out the ids a PostgreSQL channel is notified with (build ids with new
/// events on `ops_run_events`, environment ids with new mail on `ops_mail`).
#[derive(Clone)]
pub struct EventHub {
    tx: broadcast::Sender<Uuid>,
}

impl EventHub {
    /// Starts one listener for all of `channels` (one connection, however
    /// many channels), each fanned out to its own hub, in that order;
    /// reconnects if the connection drops.
    pub fn start_all(p: Platform, channels: &'static [&'static str]) -> Vec<EventHub> {
        let senders: Vec<broadcast::Sender<Uuid>> = channels.iter().map(|_| broadcast::channel(1024).0).collect();
        let hubs = senders.iter().map(|tx| EventHub { tx: tx.clone() }).collect();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(p.db.anonymous()).await {
                    Ok(mut l) => {
                        if l.listen_all(channels.iter().copied()).await.is_ok() {
                            while let Ok(n) = l.recv().await {
                                let hub = channels.iter().position(|c| *c == n.channel());
                                if let (Some(i), Ok(id)) = (hub, n.payload().parse()) {
                                    let _ = senders[i].send(id);
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "event hubs cannot listen"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        });
        hubs
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.tx.subscribe()
    }
}

/// The hub of environments with new mail (a type of its own, so handlers can extract either hub).
#[derive(Clone)]
pub struct MailHub(pub EventHub);

/// The hub of environments with a new monitoring sample.
#[derive(Clone)]
pub struct SampleHub(pub EventHub);

#[derive(serde::Deserialize)]
pub struct After {
    after: Option<i64>,
}

pub async fn socket(
    State(s): State<AppState>,
    crate::api::extract::ApiActor(actor): crate::api::extract::ApiActor,
    Path(build): Path<Uuid>,
    Query(q): Query<After>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(e) = crate::middleware::same_origin_websocket(&headers, &s.platform.settings.public_url) {
        return e.into_response();
    }
    // Logs follow the role matrix by stage (production logs are for admins): refused before the upgrade.
    if let Err(e) = domain::builds::queue::authorize_logs(&s.platform, &actor, build).await {
        return ApiError::from(e).into_response();
    }
    let hub = s.hub.clone();
    // The client only pings and closes: small frames are plenty.
    ws.max_message_size(64 << 10)
        .max_frame_size(64 << 10)
        .on_upgrade(move |socket| stream(socket, s.platform, hub, actor, build, q.after.unwrap_or(0)))
}

async fn stream(mut socket: WebSocket, p: Platform, hub: EventHub, actor: Actor, build: Uuid, mut after: i64) {
    let _open = domain::metrics::OpenSocket::open();
    let mut rx = hub.tx.subscribe();
    loop {
        // Send everything after `after`, in pages.
        loop {
            let page = match domain::builds::queue::events(&p, &actor, build, after, 1000).await {
                Ok(page) => page,
                Err(_) => return,
            };
            let Some(last) = page.last().map(|e| e.id) else { break };
            let full = page.len() == 1000;
            let Ok(text) = serde_json::to_string(&page) else { return };
            if socket.send(Message::Text(text.into())).await.is_err() {
                return;
            }
            after = last;
            if !full {
                break;
            }
        }
        // Wait for news of this build, a ping from the client, or a periodic
        // re-check; other builds' news does not re-run the query.
        let recheck = tokio::time::sleep(std::time::Duration::from_secs(15));
        tokio::pin!(recheck);
        loop {
            tokio::select! {
                n = rx.recv() => match n {
                    Ok(id) if id != build => continue,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    _ => break,
                },
                _ = &mut recheck => break,
            }
        }
    }
}
