//! `odooops shell <build>`: a shell session in the build's container over
//! the console's terminal WebSocket. On a terminal it is a real one: raw
//! mode (restored however the session ends), keystrokes as typed, the
//! window's size sent at start and on every resize. `-c "cmd"` runs one
//! command without a terminal, prints its output and exits with its status,
//! with standard input passed on when it is not a terminal.

use super::commands::Call;
use super::{Api, ClientError};
use clap::{Arg, ArgMatches, Command};
use futures_util::{SinkExt, StreamExt};
use std::io::{IsTerminal, Read, Write};
use tokio_tungstenite::tungstenite::Message;

pub fn extend(c: Command, cmd: &str) -> Command {
    match cmd {
        "shell" => c.arg(
            Arg::new("command")
                .short('c')
                .long("command")
                .value_name("CMD")
                .help("Run this one command (no terminal); exit with its status"),
        ),
        _ => c,
    }
}

pub fn example(cmd: &str) -> Option<&'static str> {
    match cmd {
        "shell" => Some(
            "  odooops shell <build>\n  odooops shell <build> -c 'odoo-bin shell -d \"$PGDATABASE\" < fix.py' < fix.py",
        ),
        _ => None,
    }
}

pub async fn run(api: &Api, op: &super::ops::Op, call: &Call, m: &ArgMatches) -> Option<Result<(), ClientError>> {
    (op.cmd == "shell").then_some(())?;
    Some(shell(api, call, m.get_one::<String>("command").cloned()).await)
}

/// The terminal's size (columns, rows), if standard output is one.
fn window_size() -> Option<(u16, u16)> {
    // SAFETY: `winsize` is plain integers, for which all zeroes is a valid value.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the struct we pass and nothing else.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some((ws.ws_col, ws.ws_row))
}

/// Raw mode on standard input for as long as it lives.
struct RawMode(libc::termios);

impl RawMode {
    fn enter() -> Option<RawMode> {
        // SAFETY: tcgetattr/tcsetattr on our own stdin, with a termios we own.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut t) != 0 {
                return None;
            }
            let saved = t;
            libc::cfmakeraw(&mut t);
            (libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) == 0).then_some(RawMode(saved))
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the attributes read in `enter`.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.0);
        }
    }
}

async fn shell(api: &Api, call: &Call, command: Option<String>) -> Result<(), ClientError> {
    let ticket = api.send(call.request(api)).await?.json()?;
    let interactive = command.is_none();
    if interactive && !std::io::stdin().is_terminal() {
        return Err(ClientError::Usage("an interactive shell needs a terminal: use -c \"command\"".into()));
    }
    let (cols, rows) = window_size().unwrap_or((80, 24));
    let mut query: Vec<(&str, String)> = vec![
        ("token", ticket["token"].as_str().unwrap_or_default().to_owned()),
        ("cols", cols.to_string()),
        ("rows", rows.to_string()),
    ];
    if let Some(c) = &command {
        query.push(("command", c.clone()));
    }
    let qs = serde_urlencoded_pairs(&query);
    let ws_path = ticket["ws_path"].as_str().unwrap_or_default();
    let ws = api.socket(&format!("{ws_path}?{qs}")).await?;
    if interactive {
        eprintln!(
            "{} shell on build #{} ({}); exit to leave\r",
            ticket["stage"].as_str().unwrap_or(""),
            ticket["build_number"],
            ticket["branch"].as_str().unwrap_or("")
        );
    }
    let (mut sink, mut stream) = ws.split();
    // Standard input, read on a thread of its own (blocking reads), to the socket.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Option<Vec<u8>>>(16);
    let forward_input = interactive || !std::io::stdin().is_terminal();
    if forward_input {
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 4096];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.blocking_send(None);
                        return;
                    }
                    Ok(n) => {
                        if tx.blocking_send(Some(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    } else {
        // Nothing to read: the command's input ends at once.
        let _ = tx.send(None).await;
    }
    let raw = if interactive { RawMode::enter() } else { None };
    let mut resized = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
        .map_err(|e| ClientError::Failed(format!("watching the window's size: {e}")))?;
    let mut input_open = true;
    let mut exit_code: Option<i64> = None;
    let mut reason = String::new();
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&b).and_then(|()| out.flush());
                }
                Some(Ok(Message::Text(t))) => {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                    if v["type"] == "closed" {
                        exit_code = v["exit_code"].as_i64();
                        reason = v["reason"].as_str().unwrap_or_default().to_owned();
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            input = rx.recv(), if input_open => match input {
                Some(Some(bytes)) => {
                    if sink.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Some(None) | None => {
                    input_open = false;
                    if !interactive {
                        let _ = sink.send(Message::Text(r#"{"type":"eof"}"#.into())).await;
                    }
                }
            },
            _ = resized.recv() => {
                if let Some((cols, rows)) = window_size() {
                    let msg = serde_json::json!({"type": "resize", "cols": cols, "rows": rows}).to_string();
                    let _ = sink.send(Message::Text(msg.into())).await;
                }
            }
        }
    }
    drop(raw);
    if interactive {
        eprintln!("\r\nshell closed{}", if reason.is_empty() { String::new() } else { format!(": {reason}") });
    }
    match exit_code {
        Some(0) => Ok(()),
        Some(code) => Err(ClientError::Exited(u8::try_from(code).unwrap_or(1).max(1))),
        None if interactive => Ok(()),
        None => Err(ClientError::Failed(format!(
            "the command did not finish{}",
            if reason.is_empty() { String::new() } else { format!(": {reason}") }
        ))),
    }
}

/// `a=1&b=x%20y`.
fn serde_urlencoded_pairs(pairs: &[(&str, String)]) -> String {
    let mut u = reqwest::Url::parse("http://x/").expect("a URL");
    u.query_pairs_mut().extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    u.query().unwrap_or_default().to_owned()
}
