//! The SSH gateway: `ssh <build-slug>@<host> -p <port>` opens a shell in that
//! build's container, as the web terminal does (same role rules, TTL,
//! transcript and audit), for people whose public key is on their profile.
//!
//! The user name is the build's preview slug (`b12-shop`); the key says who
//! is connecting. The host key is generated once (ed25519) and kept in the
//! control-plane database, so the gateway's identity survives restarts and
//! rebuilds, a common complaint about Odoo.sh.

use anyhow::Context;
use domain::auth::{Actor, RequestMeta};
use domain::platform::Platform;
use domain::shell::bridge::{self, ClientMsg, Request, ServerMsg};
use russh::keys::{HashAlg, PrivateKey, PublicKey};
use russh::server::{Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Channels (shells) one SSH connection may have open at once.
const MAX_CHANNELS: usize = 4;
/// SSH connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 256;

/// Starts the gateway; the address it listens on (useful with port 0).
pub async fn start(p: Platform, listen: SocketAddr) -> anyhow::Result<SocketAddr> {
    let key = host_key(&p).await?;
    let config = Arc::new(russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-OdooOps".into()),
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        keys: vec![key],
        auth_rejection_time: std::time::Duration::from_millis(300),
        auth_rejection_time_initial: Some(std::time::Duration::ZERO),
        // Sessions end by their own TTL and idle limit; a connection silent for
        // longer than that (one that never authenticates, too) is cut.
        inactivity_timeout: Some(p.settings.shell.idle_timeout + std::time::Duration::from_secs(60)),
        keepalive_interval: Some(std::time::Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("SSH gateway: listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "SSH gateway: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = connections.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "SSH gateway: too many connections; closing this one");
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = Connection { p: p.clone(), peer, actor: None, slug: String::new(), channels: HashMap::new() };
            let config = config.clone();
            tokio::spawn(async move {
                match russh::server::run_stream(config, stream, handler).await {
                    Ok(session) => {
                        if let Err(e) = session.await {
                            tracing::debug!(error = %e, %peer, "SSH connection ended");
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, %peer, "SSH handshake failed"),
                }
                drop(permit);
            });
        }
    });
    Ok(addr)
}

/// The host key: generated on first start, then always the same one.
async fn host_key(p: &Platform) -> anyhow::Result<PrivateKey> {
    const KEY: &str = "ssh_host_key_ed25519";
    let pem = match p.db.private_value(KEY).await? {
        Some(pem) => pem,
        None => {
            let fresh = domain::projects::generate_ed25519("odooops-gateway")
                .await
                .map_err(|e| anyhow::anyhow!("generating the SSH host key: {e}"))?;
            p.db.private_value_once(KEY, fresh.private_openssh()).await?
        }
    };
    PrivateKey::from_openssh(pem.as_bytes()).context("the stored SSH host key does not parse")
}

/// One channel's state: its terminal size, and the bridge once a shell runs.
#[derive(Default)]
struct ChannelState {
    tty: Option<(u16, u16)>,
    to_bridge: Option<mpsc::Sender<ClientMsg>>,
}

struct Connection {
    p: Platform,
    peer: SocketAddr,
    actor: Option<Actor>,
    /// The SSH user name: which build.
    slug: String,
    channels: HashMap<ChannelId, ChannelState>,
}

/// A terminal dimension from the client; 0 (unknown) becomes `default`.
fn dim(v: u32, default: u16) -> u16 {
    if v == 0 {
        default
    } else {
        v.min(1000) as u16
    }
}

impl Connection {
    /// Opens the session and wires the bridge to the channel.
    async fn begin(
        &mut self,
        channel: ChannelId,
        command: Option<String>,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        let tty = self.channels.entry(channel).or_default().tty;
        let handle = session.handle();
        let Some(actor) = self.actor.clone() else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let attached = match domain::shell::sessions::open_ssh(&self.p, &actor, &self.slug).await {
            Ok(a) => a,
            Err(e) => {
                // Say why on stderr, then end the channel with a failure status.
                session.channel_success(channel)?;
                tokio::spawn(async move {
                    let _ = handle.extended_data(channel, 1, format!("odooops: {e}\r\n").into_bytes()).await;
                    let _ = handle.exit_status_request(channel, 1).await;
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                });
                return Ok(());
            }
        };
        let (cols, rows) = tty.unwrap_or((80, 24));
        let req = Request { command, tty: tty.is_some(), cols, rows };
        let bridge::ClientEnd { to_bridge, mut from_bridge } = bridge::spawn(self.p.clone(), attached, req);
        self.channels.entry(channel).or_default().to_bridge = Some(to_bridge);
        session.channel_success(channel)?;
        let interactive = tty.is_some();
        tokio::spawn(async move {
            while let Some(msg) = from_bridge.recv().await {
                match msg {
                    ServerMsg::Output(bytes) => {
                        if handle.data(channel, bytes).await.is_err() {
                            break;
                        }
                    }
                    ServerMsg::Closed { reason, exit_code } => {
                        if interactive || exit_code.is_none() {
                            let note = format!("\r\n[odooops] {reason}\r\n");
                            let _ = handle.extended_data(channel, 1, note.into_bytes()).await;
                        }
                        let status = exit_code.map(|c| c.clamp(0, 255) as u32).unwrap_or(255);
                        let _ = handle.exit_status_request(channel, status).await;
                        let _ = handle.eof(channel).await;
                        let _ = handle.close(channel).await;
                        break;
                    }
                }
            }
        });
        Ok(())
    }
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_publickey_offered(&mut self, _user: &str, _key: &PublicKey) -> Result<Auth, Self::Error> {
        // Whether a key is known is not revealed before the client proves it holds it.
        Ok(Auth::Accept)
    }

    async fn auth_publickey(&mut self, user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let owner = domain::shell::keys::owner(&self.p, &fingerprint).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let meta = RequestMeta {
            ip: Some(self.peer.ip().to_string()),
            user_agent: Some("ssh".into()),
            request_id: Some(uuid::Uuid::new_v4().to_string()),
            via_token: false,
            metrics_only: false,
        };
        let actor = match owner {
            Some(uid) => {
                domain::shell::sessions::actor_for(&self.p, uid, meta).await.map_err(|e| anyhow::anyhow!("{e}"))?
            }
            None => None,
        };
        match actor {
            Some(a) => {
                tracing::info!(user = %a.email, build = user, peer = %self.peer, "SSH login");
                self.actor = Some(a);
                self.slug = user.to_owned();
                Ok(Auth::Accept)
            }
            None => Ok(Auth::reject()),
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Each channel can become a shell session and a `docker exec`: a connection gets a few.
        if self.channels.len() >= MAX_CHANNELS {
            reply.reject(russh::ChannelOpenFailure::ResourceShortage).await;
            return Ok(());
        }
        self.channels.insert(channel.id(), ChannelState::default());
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.entry(channel).or_default().tty = Some((dim(cols, 80), dim(rows, 24)));
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        self.begin(channel, None, session).await
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).into_owned();
        self.begin(channel, Some(command), session).await
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The container's environment is the build's; clients' variables are not passed on.
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.to_bridge.clone()) {
            let _ = tx.send(ClientMsg::Resize { cols: dim(cols, 80), rows: dim(rows, 24) }).await;
        }
        Ok(())
    }

    async fn data(&mut self, channel: ChannelId, data: &[u8], _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.to_bridge.clone()) {
            let _ = tx.send(ClientMsg::Input(data.to_vec())).await;
        }
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.to_bridge.clone()) {
            let _ = tx.send(ClientMsg::Eof).await;
        }
        Ok(())
    }

    async fn channel_close(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        // Dropping the sender ends the bridge, which closes the session.
        self.channels.remove(&channel);
        Ok(())
    }
}
