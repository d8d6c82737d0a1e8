//! Keystroke round trip: a key sent on the web shell's WebSocket → the
//! container's pty echoes it → the frame arrives and is rendered (vt100 +
//! HTML, as the browser does). Beside it, the same round trip through plain
//! `docker exec -it` (under `script`, which provides the terminal), in the
//! same run and the same container. Prints p50/p99 of each and their ratio.
//!
//! `KEYSTROKES` (default 1000) sets the number of keys per path.

mod common;

use common::{git, percentile};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Keys alternate between a letter and Backspace, so the line never grows.
fn key(i: usize) -> (u8, Option<u8>) {
    if i.is_multiple_of(2) {
        let c = b'a' + (i / 2 % 26) as u8;
        (c, Some(c))
    } else {
        (0x7f, None)
    }
}

fn report(name: &str, samples: &[Duration]) -> (Duration, Duration) {
    let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
    println!("{name:>22}: p50 {:>7.3} ms  p99 {:>7.3} ms  ({} keys)", ms(p50), ms(p99), samples.len());
    (p50, p99)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let keys: usize = std::env::var("KEYSTROKES").ok().and_then(|r| r.parse().ok()).unwrap_or(1000);
    let mut settings = domain::config::Settings::for_url("http://127.0.0.1");
    settings.shell.idle_timeout = Duration::from_secs(600);
    let b = common::setup(settings).await;
    git(&b.repo, &["checkout", "-q", "-b", "feature/keys"]);
    let sha = git(&b.repo, &["rev-parse", "HEAD"]);
    let body = serde_json::to_vec(&serde_json::json!({"ref": "refs/heads/feature/keys", "after": sha})).unwrap();
    let sig = domain::builds::github::sign(b.secret.as_bytes(), &body);
    domain::builds::webhooks::receive(
        &b.p,
        b.project,
        domain::builds::webhooks::Delivery { event: "push", delivery_id: "keys", signature: Some(&sig), body: &body },
    )
    .await
    .expect("webhook");
    let build = loop {
        let list = domain::builds::grid::page_builds(&b.p, &b.actor, b.project, Default::default()).await.unwrap();
        if let Some(x) = list.into_iter().find(|x| x.live || x.state == domain::types::BuildState::Done) {
            assert!(x.live, "the build failed: {:?}", x.reason);
            break x;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The console (on port 0), a bearer token, a session, and its WebSocket.
    let addr = b.addr;
    let token = domain::accounts::create_token(
        &b.p,
        &b.actor,
        domain::wire::NewToken { name: "bench".into(), expires_in_days: Some(1), scope: None },
    )
    .await
    .unwrap()
    .secret;
    let ticket = domain::shell::sessions::open_web(&b.p, &b.actor, build.id).await.unwrap();
    let mut req =
        format!("ws://{addr}{}?token={}&cols=80&rows=24", ticket.ws_path, ticket.token).into_client_request().unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("attaching");
    let mut screen = app::models::terminal::new_parser(24, 80, 0);
    // Let the prompt arrive.
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), ws.next()).await {}

    let mut ours = Vec::with_capacity(keys);
    for i in 0..keys {
        let (send, expect) = key(i);
        let t = Instant::now();
        ws.send(Message::Binary(vec![send].into())).await.unwrap();
        loop {
            let Some(Ok(Message::Binary(bytes))) = ws.next().await else { panic!("the session ended") };
            screen.process(&bytes);
            let _frame = app::models::terminal::screen_html(screen.screen(), true);
            if expect.is_none_or(|c| bytes.contains(&c)) {
                break;
            }
        }
        ours.push(t.elapsed());
    }
    let _ = ws.close(None).await;

    // The floor: `docker exec -it` in the same container, a pty provided by `script`.
    let container = b
        .engine
        .containers_with_label(&format!("odooops.build={}", build.id))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.labels.contains_key("odooops.stage"))
        .expect("the build's container")
        .id;
    let mut child = tokio::process::Command::new("script")
        .args(["-qfc", &format!("docker exec -it {container} /bin/sh"), "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script (bsdutils) and the docker CLI");
    let mut input = child.stdin.take().unwrap();
    let mut output = child.stdout.take().unwrap();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), output.read(&mut buf)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(100), output.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
    let mut floor = Vec::with_capacity(keys);
    for i in 0..keys {
        let (send, expect) = key(i);
        let t = Instant::now();
        input.write_all(&[send]).await.unwrap();
        input.flush().await.unwrap();
        loop {
            let n = output.read(&mut buf).await.unwrap();
            assert!(n > 0, "docker exec ended");
            if expect.is_none_or(|c| buf[..n].contains(&c)) {
                break;
            }
        }
        floor.push(t.elapsed());
    }
    let _ = input.write_all(b"exit\r").await;
    let _ = child.kill().await;

    println!("keystroke round trip on loopback, same container, same run:");
    let (o50, o99) = report("web shell (WebSocket)", &ours);
    let (f50, f99) = report("docker exec -it", &floor);
    println!("ratio: p50 {:.2}x, p99 {:.2}x", ms(o50) / ms(f50).max(1e-6), ms(o99) / ms(f99).max(1e-6));
    domain::builds::lifecycle::teardown(&b.p, &b.infra, build.id).await.ok();
    let _ = std::fs::remove_dir_all(&b.scratch);
}
