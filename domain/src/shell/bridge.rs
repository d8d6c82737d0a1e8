//! The bridge between one client (a browser WebSocket or an SSH channel) and
//! one `docker exec` in the build's container. Transports speak to it through
//! two bounded channels, so a slow client only ever slows its own session:
//! while its outbound queue is full, this bridge stops reading the exec's
//! output, and Docker and the kernel's pty buffer push back on the shell.
//! Every wait is an `await` (no polling) and is bounded by the session's TTL.

use super::sessions::{self, Attached, CloseReason, Counters};
use super::transcript::Recorder;
use crate::platform::Platform;
use crate::runtime::ExecSpec;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

/// From the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsg {
    Input(Vec<u8>),
    Resize {
        cols: u16,
        rows: u16,
    },
    /// End of input (`ssh host cmd < file`): the process's stdin closes, its output still flows.
    Eof,
}

/// To the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMsg {
    Output(Vec<u8>),
    /// The session is over; the text says why. Nothing follows.
    Closed {
        reason: String,
        exit_code: Option<i64>,
    },
}

/// What a transport asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// `None` runs the container's login shell; `Some` runs one command (`ssh host cmd`).
    pub command: Option<String>,
    /// Whether to allocate a pseudo-terminal (interactive use).
    pub tty: bool,
    pub cols: u16,
    pub rows: u16,
}

/// The client's side of a bridge; dropping `to_bridge` closes the session.
pub struct ClientEnd {
    pub to_bridge: mpsc::Sender<ClientMsg>,
    pub from_bridge: mpsc::Receiver<ServerMsg>,
}

/// Queue depth per direction: enough to absorb bursts, small enough to push back.
const DEPTH: usize = 64;

/// A bridge running in this console: its session, who, on which project, and the switch that
/// ends it at once when that person loses access to the project.
struct Running {
    session: uuid::Uuid,
    user: uuid::Uuid,
    project: uuid::Uuid,
    stop: tokio::sync::watch::Sender<bool>,
}

static RUNNING: std::sync::Mutex<Vec<Running>> = std::sync::Mutex::new(Vec::new());

/// Ends every open shell of `user` on `project` in this console (a member removed); how many.
pub fn revoke(user: uuid::Uuid, project: uuid::Uuid) -> usize {
    let Ok(running) = RUNNING.lock() else { return 0 };
    let mine: Vec<&Running> = running.iter().filter(|r| r.user == user && r.project == project).collect();
    for r in &mine {
        let _ = r.stop.send(true);
    }
    mine.len()
}

/// Starts the bridge for an attached session and returns the client's end.
pub fn spawn(p: Platform, session: Attached, req: Request) -> ClientEnd {
    let (to_bridge, from_client) = mpsc::channel(DEPTH);
    let (to_client, from_bridge) = mpsc::channel(DEPTH);
    tokio::spawn(run(p, session, req, from_client, to_client));
    ClientEnd { to_bridge, from_bridge }
}

fn deadline_of(s: &Attached) -> Instant {
    let left = (s.expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
    Instant::now() + left
}

/// The shell command: bash when the image has it, else sh.
fn shell_cmd(req: &Request) -> Vec<String> {
    let script = match &req.command {
        Some(c) => c.clone(),
        None => "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi".into(),
    };
    vec!["/bin/sh".into(), "-c".into(), script]
}

async fn run(
    p: Platform,
    s: Attached,
    req: Request,
    mut from_client: mpsc::Receiver<ClientMsg>,
    to_client: mpsc::Sender<ServerMsg>,
) {
    let deadline = deadline_of(&s);
    let (stop, mut revoked) = tokio::sync::watch::channel(false);
    if let Ok(mut running) = RUNNING.lock() {
        running.push(Running { session: s.id, user: s.actor.user_id.0, project: s.project_id, stop });
    }
    let mut transcript = Recorder::start(&p, s.actor.user_id, s.id, p.settings.shell.transcript_limit);
    let mut counters = Counters::default();
    let spec = ExecSpec {
        cmd: shell_cmd(&req),
        env: vec![
            "TERM=xterm-256color".into(),
            format!("PS1=[{}] \\w \\$ ", if s.preview_slug.is_empty() { "odooops" } else { &s.preview_slug }),
            format!("ODOOOPS_SHELL_SESSION={}", s.id),
        ],
        tty: req.tty,
        cols: req.cols.max(1),
        rows: req.rows.max(1),
    };
    transcript.event("resize", format!("{}x{}", spec.cols, spec.rows)).await;
    if let Some(c) = &req.command {
        transcript.event("note", format!("command: {c}")).await;
    }
    let (reason, exit_code) = match p.runtime.exec(&s.container_id, &spec).await {
        Err(e) => (CloseReason::Failed(format!("{e:#}")), None),
        Ok(mut io) => {
            let mut last_input = Instant::now();
            let reason = loop {
                // Commands without a terminal run to their end (bounded by the TTL); idle applies to typing.
                let idle_at = if req.tty { last_input + s.idle_timeout } else { deadline };
                tokio::select! {
                    Ok(()) = revoked.changed() => break CloseReason::Revoked,
                    _ = tokio::time::sleep_until(deadline.min(idle_at)) => {
                        break if Instant::now() >= deadline { CloseReason::Expired } else { CloseReason::Idle };
                    }
                    msg = from_client.recv() => match msg {
                        None => break CloseReason::Closed,
                        Some(ClientMsg::Input(bytes)) => {
                            last_input = Instant::now();
                            counters.bytes_in += bytes.len() as i64;
                            transcript.record("in", &bytes).await;
                            match timeout_at(deadline, io.input.write_all(&bytes)).await {
                                Err(_) => break CloseReason::Expired,
                                Ok(Err(_)) => break CloseReason::Exited(None),
                                Ok(Ok(())) => { let _ = io.input.flush().await; }
                            }
                        }
                        // With a terminal, end of input is the user's business (`exit`, Ctrl-D):
                        // hanging up at once would drop what is still in the pty's buffer.
                        Some(ClientMsg::Eof) if req.tty => {}
                        Some(ClientMsg::Eof) => {
                            let _ = io.input.shutdown().await;
                        }
                        Some(ClientMsg::Resize { cols, rows }) => {
                            transcript.event("resize", format!("{cols}x{rows}")).await;
                            if let Err(e) = p.runtime.resize_exec(&io.id, cols.max(1), rows.max(1)).await {
                                tracing::debug!(error = %e, "resize refused");
                            }
                        }
                    },
                    out = io.output.next() => match out {
                        None => break CloseReason::Exited(None),
                        Some(Err(e)) => break CloseReason::Failed(format!("{e:#}")),
                        Some(Ok(bytes)) => {
                            counters.bytes_out += bytes.len() as i64;
                            transcript.record("out", &bytes).await;
                            match timeout_at(deadline, to_client.send(ServerMsg::Output(bytes))).await {
                                Err(_) => break CloseReason::Expired,
                                Ok(Err(_)) => break CloseReason::Closed,
                                Ok(Ok(())) => {}
                            }
                        }
                    },
                }
            };
            // Hang up: closing stdin ends the shell (with a TTY the terminal hangs up).
            let _ = io.input.shutdown().await;
            drop(io.input);
            let code = match reason {
                CloseReason::Exited(_) => exit_code(&p, &io.id).await,
                _ => None,
            };
            match reason {
                CloseReason::Exited(_) => (CloseReason::Exited(code), code),
                r => (r, None),
            }
        }
    };
    if let Ok(mut running) = RUNNING.lock() {
        running.retain(|r| r.session != s.id);
    }
    tracing::info!(session = %s.id, user = %s.actor.email, reason = %reason.message(), "shell session ended");
    counters.dropped = transcript.finish(reason.message()).await as i64;
    if let Err(e) = sessions::close(&p, &s, &reason, counters).await {
        tracing::warn!(error = %e, session = %s.id, "closing a shell session");
    }
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        to_client.send(ServerMsg::Closed { reason: reason.message(), exit_code }),
    )
    .await;
}

/// The exit code, once Docker has noticed the process ended.
async fn exit_code(p: &Platform, exec: &str) -> Option<i64> {
    for _ in 0..20 {
        match p.runtime.exec_exit_code(exec).await {
            Ok(Some(code)) => return Some(code),
            Ok(None) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(_) => return None,
        }
    }
    None
}
