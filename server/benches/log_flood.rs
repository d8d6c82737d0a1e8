//! A build whose image step prints a flood of lines (`LINES`, default
//! 200,000): how long the console's image phase takes, with every line stored
//! and sent live, against the same `docker build` alone, measured in the same
//! run (the raw floor, its output read and dropped); and how late a printed
//! line reaches the build's log WebSocket. Every 1,000th line is a marker
//! carrying the kernel's uptime when it was printed (`/proc/uptime`, which the
//! container shares with the host, to 10 ms), read again when the marker
//! arrives on the socket. Needs Docker and the stand-in binary.
//!
//! `ROUNDS` (default 3) sets the number of rounds.

mod common;

use common::{git, percentile};
use domain::builds::infra::STANDIN_IMAGE;
use domain::config::Settings;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime").unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

fn dockerfile(lines: usize, round: usize) -> String {
    let blocks = lines / 1000;
    format!(
        "FROM {STANDIN_IMAGE}\nENV ROUND={round}-{}\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"i=0; while [ $i -lt {blocks} ]; do \
         echo MARK $(/bin/busybox cut -d' ' -f1 /proc/uptime); /bin/busybox seq 1 999; i=$((i+1)); done\"]\n",
        uuid::Uuid::new_v4().simple()
    )
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let lines: usize = std::env::var("LINES").ok().and_then(|r| r.parse().ok()).unwrap_or(200_000);
    let bench = common::setup(Settings::for_url("http://127.0.0.1")).await;
    let token = domain::accounts::create_token(
        &bench.p,
        &bench.actor,
        domain::wire::NewToken { name: "bench".into(), expires_in_days: Some(1), scope: None },
    )
    .await
    .unwrap()
    .secret;
    git(&bench.repo, &["checkout", "-q", "-b", "feature/flood"]);
    // The stand-in image, made once before anything is timed.
    bench.push_until_live("feature/warm", 0).await;

    let (mut ratios, mut p99s) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        // Floor: the same Dockerfile built straight through the engine, its output read and dropped.
        let floor_ctx = bench.scratch.join(format!("floor-{round}.tar"));
        {
            let mut tar = tar::Builder::new(Vec::new());
            let text = dockerfile(lines, round);
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, "Dockerfile", text.as_bytes()).unwrap();
            std::fs::write(&floor_ctx, tar.into_inner().unwrap()).unwrap();
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(domain::engine::LINE_SINK_CAPACITY);
        let drain = tokio::spawn(async move {
            let mut n = 0usize;
            while rx.recv().await.is_some() {
                n += 1;
            }
            n
        });
        let tag = format!("odooops-bench-flood:{round}");
        let t = Instant::now();
        bench.engine.build_image(&floor_ctx, &tag, HashMap::new(), None, tx).await.unwrap();
        let floor = t.elapsed();
        let floor_lines = drain.await.unwrap();
        let _ = std::process::Command::new("docker").args(["rmi", "-f", &tag]).output();

        // Ours: the same Dockerfile as the repository's own, pushed.
        std::fs::write(bench.repo.join("Dockerfile"), dockerfile(lines, round)).unwrap();
        git(&bench.repo, &["add", "."]);
        git(&bench.repo, &["commit", "-q", "-m", &format!("flood {round}")]);
        let sha = git(&bench.repo, &["rev-parse", "HEAD"]);
        let body =
            serde_json::to_vec(&serde_json::json!({"ref": "refs/heads/feature/flood", "after": sha, "deleted": false}))
                .unwrap();
        let sig = domain::builds::github::sign(bench.secret.as_bytes(), &body);
        let delivery = format!("flood-{round}");
        domain::builds::webhooks::receive(
            &bench.p,
            bench.project,
            domain::builds::webhooks::Delivery {
                event: "push",
                delivery_id: &delivery,
                signature: Some(&sig),
                body: &body,
            },
        )
        .await
        .unwrap();
        let build = loop {
            let list = domain::builds::grid::page_builds(&bench.p, &bench.actor, bench.project, Default::default())
                .await
                .unwrap();
            if let Some(b) = list.into_iter().find(|b| b.commit_sha == sha) {
                break b.id;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut req = format!("ws://{}/api/v1/builds/{build}/events/ws", bench.addr).into_client_request().unwrap();
        req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        // The console answers only to its public URL's host (the bench's is http://127.0.0.1).
        req.headers_mut().insert("Host", "127.0.0.1".parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("the log socket");
        let (mut late, mut image_ms, mut done) = (Vec::new(), None, false);
        while !done {
            let Some(Ok(msg)) = ws.next().await else { break };
            let now = uptime();
            let Ok(events) = serde_json::from_str::<Vec<serde_json::Value>>(msg.to_text().unwrap_or("[]")) else {
                continue;
            };
            for e in events {
                let message = e["message"].as_str().unwrap_or_default();
                if let Some(at) = message.strip_prefix("MARK ").and_then(|t| t.trim().parse::<f64>().ok()) {
                    late.push(Duration::from_secs_f64((now - at).max(0.0)));
                }
                if e["source"] == "image" && e["meta"]["status"] == "done" {
                    image_ms = e["meta"]["duration_ms"].as_u64();
                }
                done |= e["source"] == "build" && message.starts_with("finished");
            }
            done |= image_ms.is_some() && late.len() >= lines / 1000;
        }
        let image = Duration::from_millis(image_ms.expect("the image phase's duration"));
        let ratio = image.as_secs_f64() / floor.as_secs_f64();
        let (p50, p99) = (percentile(&late, 0.5), percentile(&late, 0.99));
        println!(
            "round {round}: docker build alone {:.2} s ({floor_lines} lines read); console image phase {:.2} s \
             ({ratio:.2}×); printed → log socket p50 {:.0} ms, p99 {:.0} ms ({} markers)",
            floor.as_secs_f64(),
            image.as_secs_f64(),
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0,
            late.len()
        );
        ratios.push(ratio);
        p99s.push(p99);
        // Let the build finish before the next round.
        loop {
            let b = domain::builds::queue::get(&bench.p, &bench.actor, build).await.unwrap();
            if b.live || b.state == domain::types::BuildState::Done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median: image phase {:.2}× docker build alone (budget ≤ 1.5×); printed → socket p99 median {:.0} ms \
         (budget ≤ 250 ms)",
        ratios[ratios.len() / 2],
        percentile(&p99s, 0.5).as_secs_f64() * 1000.0
    );
    bench.tear_down().await;
}
