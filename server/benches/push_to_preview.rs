//! Push → live preview, against the raw floor measured in the same run on the
//! same inputs: `docker build` of the same context, create the database, run
//! the same install, start the container, poll `/web/health`. Prints both
//! medians and their ratio (target ≤ 1.3×). Needs Docker and the stand-in
//! binary (`cargo build -p odoo-standin --release --target x86_64-unknown-linux-musl`).
//!
//! `ROUNDS` (default 3) sets the number of rounds.

mod common;

use common::{git, percentile, Bench};
use domain::builds::infra::STANDIN_IMAGE;
use domain::config::Settings;
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

fn median(v: Vec<Duration>) -> Duration {
    percentile(&v, 0.5)
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let bench = common::setup(Settings::for_url("http://127.0.0.1")).await;
    let Bench { repo, scratch, engine, .. } = &bench;
    git(repo, &["checkout", "-q", "-b", "feature/bench"]);

    let mut ours = Vec::new();
    let mut floor = Vec::new();
    for round in 0..rounds {
        let (sha, took) = bench.push_until_live("feature/bench", round).await;
        ours.push(took);

        // The raw floor on the same inputs.
        let src = scratch.join(format!("floor-{round}"));
        std::fs::create_dir_all(&src).unwrap();
        let archive =
            Command::new("git").args(["archive", "--format=tar", &sha]).current_dir(repo).output().unwrap().stdout;
        let t = Instant::now();
        tar::Archive::new(archive.as_slice()).unpack(&src).unwrap();
        let mut ctx = tar::Builder::new(Vec::new());
        ctx.append_dir_all(".", &src).unwrap();
        let dockerfile = format!("FROM {STANDIN_IMAGE}\nCOPY . /mnt/extra-addons\n");
        let mut h = tar::Header::new_gnu();
        h.set_size(dockerfile.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        ctx.append_data(&mut h, "Dockerfile", dockerfile.as_bytes()).unwrap();
        let tag = format!("odooops-bench-floor:{round}");
        let (tx, mut rx) = tokio::sync::mpsc::channel(domain::engine::LINE_SINK_CAPACITY);
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let context = std::env::temp_dir().join(format!("odooops-bench-{round}.tar"));
        std::fs::write(&context, ctx.into_inner().unwrap()).unwrap();
        engine.build_image(&context, &tag, HashMap::new(), None, tx).await.unwrap();
        let _ = std::fs::remove_file(&context);
        let built = t.elapsed();
        floor.push(
            built + bench.floor_serve(&tag, round, &["-i", "acme_sale", "--stop-after-init", "--test-enable"]).await,
        );
        let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    }

    // Leave nothing behind.
    bench.tear_down().await;

    let (o, f) = (median(ours), median(floor));
    println!("push→preview (OdooOps): median {:.2} s over {rounds} rounds", o.as_secs_f64());
    println!("raw floor (docker build + createdb + install + start + health): median {:.2} s", f.as_secs_f64());
    println!("ratio: {:.2}x (target ≤ 1.3x)", o.as_secs_f64() / f.as_secs_f64());
}
