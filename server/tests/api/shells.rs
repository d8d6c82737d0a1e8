//! Shells for real: a stand-in build with busybox inside, typed into through
//! the WebSocket (cookie + one-time token + Origin) and through OpenSSH's
//! `ssh` with a generated key; the role matrix, idle and TTL expiry, the
//! transcript and its limit, and the audit events.

use crate::helpers::{spawn_app_with_builds_and, Api, TestApp, PASSWORD};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Signs in like a browser; the session cookie (`odooops_session=…`).
async fn session_cookie(app: &TestApp, email: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http
        .post(format!("{}/rpc/auth/sign_in", app.addr))
        .header("Origin", &app.addr)
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("odooops_session="))
        .and_then(|v| v.split(';').next())
        .expect("signing in sets the session cookie")
        .to_owned()
}

/// Calls a server function with a session cookie.
async fn rpc(app: &TestApp, cookie: &str, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/rpc/{endpoint}", app.addr))
        .header("Origin", &app.addr)
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn attach(app: &TestApp, cookie: &str, ticket: &Value, origin: &str) -> Result<Socket, u16> {
    let url = format!(
        "{}{}?token={}&cols=80&rows=24",
        app.addr.replace("http://", "ws://"),
        ticket["ws_path"].as_str().unwrap(),
        ticket["token"].as_str().unwrap()
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("Cookie", cookie.parse().unwrap());
    req.headers_mut().insert("Origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("WebSocket: {e}"),
    }
}

/// Reads terminal output until `needle` shows up (or a generous deadline passes; not a timing assertion).
async fn read_until(ws: &mut Socket, seen: &mut String, needle: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !seen.contains(needle) {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => seen.push_str(&String::from_utf8_lossy(&b)),
            Ok(Some(Ok(Message::Text(t)))) => panic!("the session closed while waiting for {needle:?}: {t}\n{seen}"),
            Ok(Some(Ok(_))) => {}
            other => panic!("no {needle:?} in the terminal ({other:?}):\n{seen}"),
        }
    }
}

/// The closing message of a session.
async fn closing(ws: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(60), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).unwrap(),
            Ok(Some(Ok(_))) => {}
            other => panic!("the session did not close with a reason: {other:?}"),
        }
    }
}

async fn type_line(ws: &mut Socket, line: &str) {
    ws.send(Message::Binary(format!("{line}\r").into_bytes().into())).await.unwrap();
}

/// Polls a session until it is closed.
async fn closed_session(api: &Api<'_>, id: &str) -> Value {
    for _ in 0..200 {
        let (_, s) = api.get(&format!("/api/v1/shells/{id}")).await;
        if !s["closed_at"].is_null() {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("session {id} never closed");
}

fn decoded(events: &Value, direction: &str) -> String {
    use base64::Engine as _;
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["direction"] == direction)
        .map(|e| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(e["data_b64"].as_str().unwrap()).unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect()
}

/// A fresh ed25519 key pair from OpenSSH; the private key's path.
fn ssh_key(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../target/test-keys/{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join(name);
    let out = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"]).arg(&key).output();
    assert!(out.unwrap().status.success());
    key
}

/// Runs OpenSSH's client against the gateway; (exit code, stdout, stderr).
async fn ssh(port: u16, user: &str, key: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.args(["-p", &port.to_string(), "-i"])
        .arg(key)
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
        ])
        .args(args)
        .arg(format!("{user}@127.0.0.1"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("the OpenSSH client (apt-get install openssh-client)");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        use tokio::io::AsyncWriteExt;
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output()).await.unwrap().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A project on the stand-in image with a live build of `branch`; (project, build, slug).
async fn live_build(app: &TestApp, api: &Api<'_>, name: &str, branch: &str) -> (String, Value) {
    let repo = repository();
    let project = standin_project(api, name, &repo).await;
    let sha = commit_file(&repo, branch, "README.md", "shells\n", "a change");
    push(app, api, &project, branch, &sha).await;
    let build = finished(api, &project, &sha).await;
    assert_eq!(build["result"], "ok", "{build}");
    (project, build)
}

async fn member(app: &TestApp, api: &Api<'_>, project: &str, email: &str, role: &str) -> String {
    drop(crate::helpers::add_project_member(app, api, project, email, role).await);
    session_cookie(app, email).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developer_types_into_a_development_build_from_the_browser_and_over_ssh() {
    let app = spawn_app_with_builds_and(|_| {}).await;
    let owner = app.signed_up("owner@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let (project, build) = live_build(&app, &api, "Shells", "feature-x").await;
    let build_id = build["id"].as_str().unwrap();
    let dev = member(&app, &api, &project, "dev@acme.test", "developer").await;

    // Open, then attach once, from the console's origin only.
    let (status, ticket) = rpc(&app, &dev, "shells/open", &[("build_id", build_id)]).await;
    assert_eq!(status, 200, "{ticket}");
    assert_eq!(ticket["stage"], "development");
    assert_eq!(attach(&app, &dev, &ticket, "https://evil.example").await.err(), Some(403));
    let mut ws = attach(&app, &dev, &ticket, &app.addr).await.expect("attaching");
    assert_eq!(attach(&app, &dev, &ticket, &app.addr).await.err(), Some(409), "the token is single-use");

    let mut seen = String::new();
    type_line(&mut ws, "echo hel''lo").await;
    read_until(&mut ws, &mut seen, "hello\r\n").await;
    // Resizing reaches the pty.
    ws.send(Message::Text(json!({"type": "resize", "cols": 100, "rows": 30}).to_string().into())).await.unwrap();
    type_line(&mut ws, "stty size").await;
    read_until(&mut ws, &mut seen, "30 100").await;
    // A full-screen program renders (alternate screen, cursor addressing) and quits.
    type_line(&mut ws, "top").await;
    read_until(&mut ws, &mut seen, "PID").await;
    ws.send(Message::Binary(b"q".to_vec().into())).await.unwrap();
    type_line(&mut ws, "echo after-top").await;
    read_until(&mut ws, &mut seen, "after-top\r\n").await;
    // Closing the tab closes the session; it cannot be resumed.
    ws.close(None).await.unwrap();
    let session_id = ticket["session_id"].as_str().unwrap();
    let session = closed_session(&api, session_id).await;
    assert_eq!(session["close_reason"], "closed", "{session}");
    assert!(session["bytes_in"].as_i64().unwrap() > 10 && session["bytes_out"].as_i64().unwrap() > 100);
    assert_eq!(attach(&app, &dev, &ticket, &app.addr).await.err(), Some(409));

    // The transcript holds what was typed and printed, in order.
    let (status, transcript) = api.get(&format!("/api/v1/shells/{session_id}/transcript")).await;
    assert_eq!(status, 200);
    let typed = decoded(&transcript, "in");
    assert!(typed.contains("echo hel''lo\r") && typed.contains("stty size\r") && typed.contains('q'), "{typed}");
    let printed = decoded(&transcript, "out");
    assert!(printed.contains("hello\r\n") && printed.contains("30 100") && printed.contains("PID"), "{printed}");
    assert!(decoded(&transcript, "resize").contains("100x30"));
    let page = reqwest::Client::new()
        .get(format!("{}/shells/{session_id}", app.addr))
        .header("Cookie", &dev)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"replay-screen\"") && page.contains("after-top"), "the replay renders the final screen");

    // Over SSH with a registered key: a command, then an interactive session with a pty.
    let key = ssh_key("dev");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let (status, added) = rpc(&app, &dev, "ssh_keys/add", &[("name", ""), ("public_key", &public)]).await;
    assert_eq!(status, 200, "{added}");
    assert!(added["fingerprint"].as_str().unwrap().starts_with("SHA256:"));
    let (_, dup) =
        rpc(&app, &owner_cookie(&app).await, "ssh_keys/add", &[("name", "x"), ("public_key", &public)]).await;
    assert_eq!(dup["code"], "conflict", "a key belongs to one account: {dup}");
    let (_, garbage) = rpc(&app, &dev, "ssh_keys/add", &[("name", "x"), ("public_key", "ssh-rsa AAAAB3Nza")]).await;
    assert_eq!(garbage["code"], "invalid", "{garbage}");

    let port = server::ssh::start(app.platform.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap().port();
    let slug = build["slug"].as_str().unwrap();
    let (code, out, err) = ssh(port, slug, &key, &[], Some("echo via-$((40+2))\nexit 3\n")).await;
    assert_eq!(code, 3, "the remote shell's exit status comes back: {out} {err}");
    assert!(out.contains("via-42"), "{out} / {err}");
    let (code, out, err) = ssh(port, slug, &key, &["-tt"], Some("stty size; exit\n")).await;
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("24 80"), "a client without a terminal size gets 80x24: {out}");
    let (code, _, _) = ssh(port, slug, &ssh_key("stranger"), &[], Some("true\n")).await;
    assert_eq!(code, 255, "an unknown key is refused");

    let (_, sessions) = api.get(&format!("/api/v1/builds/{build_id}/shells")).await;
    let vias: Vec<&str> = sessions.as_array().unwrap().iter().map(|s| s["via"].as_str().unwrap()).collect();
    assert_eq!(vias.iter().filter(|v| **v == "ssh").count(), 2, "{sessions}");
    let (_, audit) = api.get("/api/v1/audit?limit=200").await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "shell.open").count(), 3, "{actions:?}");
    assert!(actions.contains(&"shell.close") && actions.contains(&"ssh_key.add"), "{actions:?}");
}

/// The gateway's host key, as `ssh-keyscan` reports it.
fn host_key(port: u16) -> String {
    let out =
        Command::new("ssh-keyscan").args(["-t", "ed25519", "-p", &port.to_string(), "127.0.0.1"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| l.split_once(' ').map(|(_, key)| key.to_owned())).unwrap_or_default()
}

async fn owner_cookie(app: &TestApp) -> String {
    session_cookie(app, "owner@acme.test").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_shells_are_for_admins_and_sessions_die_idle_at_their_ttl_with_a_bounded_transcript() {
    let app = spawn_app_with_builds_and(|s| {
        s.shell.idle_timeout = Duration::from_secs(3);
        s.shell.transcript_limit = 256;
    })
    .await;
    let owner = app.signed_up("owner@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let (project, build) = live_build(&app, &api, "Prod", "main").await;
    assert_eq!(build["stage"], "production");
    let build_id = build["id"].as_str().unwrap();

    // A tester is refused, in the browser and over SSH, with the rule that says why.
    let tester = member(&app, &api, &project, "qa@acme.test", "tester").await;
    let (status, refused) = rpc(&app, &tester, "shells/open", &[("build_id", build_id)]).await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("on production is for the project's admins"));
    let key = ssh_key("qa");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    assert_eq!(rpc(&app, &tester, "ssh_keys/add", &[("name", "qa"), ("public_key", &public)]).await.0, 200);
    let port = server::ssh::start(app.platform.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap().port();
    let (code, _, err) = ssh(port, build["slug"].as_str().unwrap(), &key, &[], Some("id\n")).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("on production is for the project's admins"), "{err}");
    // The host key is generated once and kept: a restarted gateway shows the same one.
    let again = server::ssh::start(app.platform.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap().port();
    let (first, second) = (host_key(port), host_key(again));
    assert!(first.starts_with("ssh-ed25519 "), "{first}");
    assert_eq!(first, second);

    // The admin's production shell: idle for the idle timeout, it is closed and says so.
    let admin = owner_cookie(&app).await;
    let (status, ticket) = rpc(&app, &admin, "shells/open", &[("build_id", build_id)]).await;
    assert_eq!(status, 200, "{ticket}");
    assert_eq!(ticket["stage"], "production");
    let mut ws = attach(&app, &admin, &ticket, &app.addr).await.unwrap();
    let mut seen = String::new();
    type_line(&mut ws, "seq 1 300").await;
    read_until(&mut ws, &mut seen, "300\r\n").await;
    let closed = closing(&mut ws).await;
    assert!(closed["reason"].as_str().unwrap().contains("idle"), "{closed}");
    let session = closed_session(&api, ticket["session_id"].as_str().unwrap()).await;
    assert!(session["dropped_bytes"].as_i64().unwrap() > 0, "over the limit is counted: {session}");
    let (_, transcript) =
        api.get(&format!("/api/v1/shells/{}/transcript", ticket["session_id"].as_str().unwrap())).await;
    assert!(decoded(&transcript, "out").len() <= 256);
    assert!(decoded(&transcript, "note").contains("transcript limit"), "the overflow is recorded");

    // At its TTL a session is closed server-side, and cannot be resumed.
    let (_, ticket) = rpc(&app, &admin, "shells/open", &[("build_id", build_id)]).await;
    let owner_pool = sqlx::PgPool::connect_with(app.db_options.clone()).await.unwrap();
    sqlx::query("UPDATE ops.shell_sessions SET expires_at = now() + interval '1 second' WHERE id = $1::uuid")
        .bind(ticket["session_id"].as_str().unwrap())
        .execute(&owner_pool)
        .await
        .unwrap();
    let mut ws = attach(&app, &admin, &ticket, &app.addr).await.unwrap();
    let closed = closing(&mut ws).await;
    assert!(closed["reason"].as_str().unwrap().contains("time limit"), "{closed}");
    assert_eq!(attach(&app, &admin, &ticket, &app.addr).await.err(), Some(409));
    let (_, audit) = api.get("/api/v1/audit?limit=200").await;
    let expiries = audit.as_array().unwrap().iter().filter(|e| e["action"] == "shell.expire").count();
    assert_eq!(expiries, 2, "idle and TTL expiry are audited");
}
