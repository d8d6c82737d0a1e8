//! The monitoring store's intake: samples/s written the way the monitor
//! writes them (one batched statement per pass, as the system, under
//! row-level security, with each environment's live-chart notification),
//! beside the floor measured in the same run (the same statement as the
//! table's owner into a plain copy of the table: no policies, no foreign
//! keys, no notifications).
//!
//! `ENVIRONMENTS` per pass (default 100) and `PASSES` (default 300).

use domain::accounts::{self, SignUp};
use domain::auth::RequestMeta;
use domain::config::Settings;
use domain::db::Db;
use domain::mailer::LogMailer;
use domain::monitoring::Sample;
use domain::runtime::Unavailable;
use server::application::{Application, Parts};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pass(envs: &[(uuid::Uuid, uuid::Uuid)], n: usize) -> Vec<Sample> {
    let at = chrono::DateTime::from_timestamp(1_800_000_000 + n as i64 * 30, 0).unwrap();
    envs.iter()
        .enumerate()
        .map(|(i, &(env_id, project_id))| Sample {
            env_id,
            project_id,
            build_id: Some(uuid::Uuid::new_v4()),
            at,
            up: i % 50 != 0,
            latency_ms: Some(12.5),
            cpu_pct: Some(3.0),
            mem_bytes: Some(300 << 20),
            mem_limit_bytes: Some(2 << 30),
            net_rx_bytes: Some(1 << 20),
            net_tx_bytes: Some(2 << 20),
            blk_read_bytes: Some(4 << 20),
            blk_write_bytes: Some(8 << 20),
            db_bytes: Some(40 << 20),
            filestore_bytes: Some(90 << 20),
            requests: 120,
            req_by_class: [100, 10, 8, 2],
            p50_ms: Some(20.0),
            p95_ms: Some(80.0),
            p99_ms: Some(150.0),
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("ENVIRONMENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let passes: usize = std::env::var("PASSES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let options = domain::testing::fresh_database().await;
    let db = Db::prepare(options, 5).await.expect("database");
    let app = Application::build(Parts {
        db,
        runtime: Arc::new(Unavailable("not used".into())),
        mailer: Arc::new(LogMailer),
        settings: Settings::for_url("http://127.0.0.1"),
        builds: None,
        leptos: leptos::prelude::LeptosOptions::builder().output_name("odooops").build(),
        http: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        worker: false,
        mail_catcher: vec![],
        ssh: None,
    })
    .await
    .expect("building the application");
    let (p, setup) = (app.platform.clone(), app.setup_token.clone());
    let (actor, _) = accounts::sign_up(
        &p,
        SignUp {
            email: "bench@ops.test",
            password: "bench password 1",
            display_name: "",
            organisation: "Bench",
            setup_token: setup.as_deref(),
        },
        RequestMeta::default(),
    )
    .await
    .unwrap();
    let project = domain::projects::create(
        &p,
        &actor,
        domain::wire::NewProject {
            tenant: None,
            name: "Monitoring bench".into(),
            slug: None,
            repo_url: "https://github.com/acme/addons.git".into(),
            odoo_version: "17.0".into(),
            stage_rules: None,
            production_requires_approval: Some(false),
            base_image: None,
        },
    )
    .await
    .unwrap();
    let owner = p.db.owner();
    let envs: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage)
         SELECT gen_random_uuid(), p.tenant_id, p.id, 'bench-' || g, 'development'
           FROM ops.projects p, generate_series(1, $2) g WHERE p.id = $1
         RETURNING id, project_id",
    )
    .bind(project.id)
    .bind(count as i32)
    .fetch_all(owner)
    .await
    .unwrap();
    sqlx::query("CREATE TABLE public.samples_floor (LIKE ops.env_samples INCLUDING INDEXES)")
        .execute(owner)
        .await
        .unwrap();

    // Warm both paths once.
    domain::monitoring::store::write(&p, &pass(&envs, 0)).await.unwrap();
    let mut store = Duration::ZERO;
    let mut floor = Duration::ZERO;
    for n in 1..=passes {
        let batch = pass(&envs, n);
        let t = Instant::now();
        domain::monitoring::store::write(&p, &batch).await.unwrap();
        store += t.elapsed();
        let t = Instant::now();
        sqlx::query(
            "INSERT INTO public.samples_floor (env_id, project_id, build_id, at, up, latency_ms, cpu_pct, mem_bytes,
                    mem_limit_bytes, net_rx_bytes, net_tx_bytes, blk_read_bytes, blk_write_bytes, db_bytes, requests,
                    req_2xx, req_3xx, req_4xx, req_5xx, p50_ms, p95_ms, p99_ms, filestore_bytes)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::bool[], $6::real[],
                    $7::real[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[],
                    $15::int4[], $16::int4[], $17::int4[], $18::int4[], $19::int4[], $20::real[], $21::real[], $22::real[],
                    $23::int8[])",
        )
        .bind(batch.iter().map(|s| s.env_id).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.project_id).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.build_id).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.at).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.up).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.latency_ms).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.cpu_pct).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.mem_bytes).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.mem_limit_bytes).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.net_rx_bytes).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.net_tx_bytes).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.blk_read_bytes).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.blk_write_bytes).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.db_bytes).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.requests).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.req_by_class[0]).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.req_by_class[1]).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.req_by_class[2]).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.req_by_class[3]).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.p50_ms).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.p95_ms).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.p99_ms).collect::<Vec<_>>())
        .bind(batch.iter().map(|s| s.filestore_bytes).collect::<Vec<_>>())
        .execute(owner)
        .await
        .unwrap();
        floor += t.elapsed();
    }
    let total = (count * passes) as f64;
    let (store_rate, floor_rate) = (total / store.as_secs_f64(), total / floor.as_secs_f64());
    println!("monitoring store: {count} environments × {passes} passes");
    println!(
        "  store (batched, as the system, RLS + notify): {store_rate:>10.0} samples/s ({:.2} ms a pass)",
        store.as_secs_f64() * 1000.0 / passes as f64
    );
    println!(
        "  floor (same statement as owner, plain table):  {floor_rate:>10.0} samples/s ({:.2} ms a pass)",
        floor.as_secs_f64() * 1000.0 / passes as f64
    );
    println!("  ratio store/floor throughput: {:.2}×", store_rate / floor_rate);
    println!(
        "  a pass of 100 environments every 30 s uses {:.3} % of one connection",
        store.as_secs_f64() / passes as f64 * (100.0 / count as f64) / 30.0 * 100.0
    );
}
