//! Self-service provisioning: from the request for an instance to a working
//! Odoo login page at its subdomain (through the console's router), against
//! the raw floor measured in the same run on the same image: create the
//! database, install the same modules, start, poll `/web/health`. Prints both
//! medians, their ratio, and the worst of ours against the budget
//! (under 2 minutes). Needs Docker and the stand-in binary.
//!
//! `ROUNDS` (default 3) sets the number of rounds.

mod common;

use common::{percentile, Bench};
use domain::builds::infra::STANDIN_IMAGE;
use domain::config::Settings;
use domain::types::InstanceState;
use std::time::{Duration, Instant};

const MODULES: &[&str] = &["sale", "crm"];

async fn until_login_page(addr: std::net::SocketAddr, subdomain: &str) {
    let host = format!("{subdomain}.localhost");
    let client = reqwest::Client::builder().resolve(&host, addr).build().unwrap();
    let url = format!("http://{host}:{}/web/login", addr.port());
    loop {
        if let Ok(r) = client.get(&url).send().await {
            if r.status() == 200 && r.text().await.unwrap_or_default().contains("Login | Odoo") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Requests an instance and waits for its login page; the time it took.
async fn provision(bench: &Bench, subdomain: &str) -> Duration {
    let t = Instant::now();
    let input = domain::wire::NewInstance {
        tenant: None,
        name: subdomain.into(),
        subdomain: subdomain.into(),
        odoo_version: None,
        modules: MODULES.iter().map(|m| m.to_string()).collect(),
        plan: None,
        db_strategy: None,
        dedicated_required: false,
        expected_size_gb: None,
        expected_users: None,
        admin_login: "bench@ops.test".into(),
        admin_password: "a bench password".into(),
        draft: false,
        lang: None,
        country: None,
        timezone: None,
    };
    let created = domain::instances::create(&bench.p, &bench.actor, input).await.expect("create");
    loop {
        let i = domain::instances::get(&bench.p, &bench.actor, created.id).await.unwrap();
        match i.state {
            InstanceState::Active => break,
            InstanceState::Error => panic!("provisioning failed: {:?}", i.reason),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    until_login_page(bench.addr, subdomain).await;
    t.elapsed()
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let bench = common::setup(Settings::for_url("http://127.0.0.1")).await;
    // The image exists on a server that has provisioned before: one round not counted makes it.
    provision(&bench, "warmup").await;

    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        ours.push(provision(&bench, &format!("bench{round}")).await);

        let modules = MODULES.join(",");
        floor.push(bench.floor_serve(STANDIN_IMAGE, round, &["-i", &modules, "--stop-after-init"]).await);
    }
    bench.tear_down().await;

    let worst = ours.iter().max().copied().unwrap_or_default();
    let (o, f) = (percentile(&ours, 0.5), percentile(&floor, 0.5));
    println!(
        "request → Odoo login page (OdooOps): median {:.2} s, worst {:.2} s over {rounds} rounds",
        o.as_secs_f64(),
        worst.as_secs_f64()
    );
    println!("raw floor (createdb + install + start + health, image present): median {:.2} s", f.as_secs_f64());
    println!(
        "ratio: {:.2}x; budget: under 120 s ({})",
        o.as_secs_f64() / f.as_secs_f64(),
        if worst < Duration::from_secs(120) { "met" } else { "NOT met" }
    );
}
