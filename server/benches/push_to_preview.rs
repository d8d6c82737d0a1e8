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
use domain::engine::RunSpec;
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
    let Bench { repo, scratch, infra, engine, .. } = &bench;
    let databases = infra.databases.clone();
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
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let context = std::env::temp_dir().join(format!("odooops-bench-{round}.tar"));
        std::fs::write(&context, ctx.into_inner().unwrap()).unwrap();
        engine.build_image(&context, &tag, HashMap::new(), None, tx).await.unwrap();
        let _ = std::fs::remove_file(&context);
        let name = format!("ob_{}_floor{round}", infra.installation);
        let grant = databases.provision(&name, None).await.unwrap();
        let env = vec![
            format!("HOST={}", databases.host_for_containers),
            format!("PORT={}", databases.port_for_containers),
            format!("USER={}", grant.role),
            format!("PASSWORD={}", grant.password),
        ];
        let install = RunSpec {
            name: format!("odooops-bench-install-{}", uuid::Uuid::new_v4().simple()),
            image: tag.clone(),
            cmd: vec![
                "-d".into(),
                name.clone(),
                "-i".into(),
                "acme_sale".into(),
                "--stop-after-init".into(),
                "--test-enable".into(),
            ],
            env: env.clone(),
            ..Default::default()
        };
        let id = engine.start(&install).await.unwrap();
        assert_eq!(engine.wait(&id).await.unwrap(), 0);
        engine.remove_container(&id).await.unwrap();
        let server = RunSpec {
            name: format!("odooops-bench-server-{}", uuid::Uuid::new_v4().simple()),
            image: tag.clone(),
            cmd: vec!["-d".into(), name.clone()],
            env,
            network: Some("bridge".into()),
            ..Default::default()
        };
        let id = engine.start(&server).await.unwrap();
        let ip = engine.ip_address(&id, "bridge").await.unwrap().expect("ip");
        let client = reqwest::Client::new();
        while !client
            .get(format!("http://{ip}:8069/web/health"))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        floor.push(t.elapsed());
        engine.remove_container(&id).await.unwrap();
        databases.drop(&name, &name).await.unwrap();
        let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    }

    // Leave nothing behind.
    bench.tear_down().await;

    let (o, f) = (median(ours), median(floor));
    println!("push→preview (OdooOps): median {:.2} s over {rounds} rounds", o.as_secs_f64());
    println!("raw floor (docker build + createdb + install + start + health): median {:.2} s", f.as_secs_f64());
    println!("ratio: {:.2}x (target ≤ 1.3x)", o.as_secs_f64() / f.as_secs_f64());
}
