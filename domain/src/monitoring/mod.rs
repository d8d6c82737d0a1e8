//! Monitoring: what an environment does once its build passed its health
//! check. A periodic job ([`pass`]) probes every serving environment and
//! tenant instance (`/web/health`, with its latency), reads its container's
//! counters from the runtime (CPU %, memory against its limit, network and
//! block I/O), its database's size, and the router's traffic to it since the
//! last pass; writes all of it as one batch ([`store`]); keeps each
//! environment's health and its changes; then evaluates the alert rules
//! ([`crate::alerts`]). A second job rolls raw points up and prunes them.
//!
//! The probe and the counters are read by the console, never by the tenant's
//! code: a container cannot make the console follow a path or reach another
//! address than its own build's.

pub mod logs;
pub mod store;
pub mod traffic;
pub mod view;

use crate::builds::infra::BuildInfra;
use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use crate::runtime::Counters;
use futures_util::StreamExt;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
pub use store::Sample;
pub use traffic::Traffic;
use uuid::Uuid;

/// Longest a probe waits for `/web/health`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Environments probed at once.
const CONCURRENCY: usize = 16;

/// A serving environment: its newest live build.
#[derive(Debug, Clone)]
pub struct Serving {
    pub env_id: Uuid,
    pub project_id: Uuid,
    pub build_id: Uuid,
    pub target: String,
    pub container: Option<String>,
    pub db_name: Option<String>,
}

/// Every environment with a live build, each with its newest.
pub async fn serving(p: &Platform) -> anyhow::Result<Vec<Serving>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let rows = sqlx::query(
        "SELECT DISTINCT ON (b.env_id) b.env_id, b.project_id, b.id, b.preview_target, b.container_id, b.db_name
           FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id AND e.deleted_at IS NULL
          WHERE b.live AND b.preview_target IS NOT NULL
          ORDER BY b.env_id, b.created_at DESC, b.seq DESC",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| Serving {
            env_id: r.get("env_id"),
            project_id: r.get("project_id"),
            build_id: r.get("id"),
            target: r.get("preview_target"),
            container: r.get("container_id"),
            db_name: r.get("db_name"),
        })
        .collect())
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub environments: usize,
    pub down: usize,
    pub changes: usize,
    pub alerts: crate::alerts::Evaluated,
}

/// The previous reading of each workload's counters (CPU % is a difference).
fn previous() -> &'static Mutex<HashMap<String, Counters>> {
    static PREVIOUS: OnceLock<Mutex<HashMap<String, Counters>>> = OnceLock::new();
    PREVIOUS.get_or_init(Default::default)
}

/// Filestores are walked at most this often (a walk costs a syscall per file).
const FILESTORE_EVERY: Duration = Duration::from_secs(300);
/// Entries of a filestore walked at most.
const FILESTORE_ENTRIES: usize = 2_000_000;

/// The size of a database's filestore, walked again when the last walk is
/// older than [`FILESTORE_EVERY`]; never through a link (the container
/// writes there: the host follows no path it made).
async fn filestore_bytes(infra: &BuildInfra, db: Option<&str>) -> Option<i64> {
    static WALKED: OnceLock<Mutex<HashMap<String, (Instant, i64)>>> = OnceLock::new();
    let db = db?;
    let walked = WALKED.get_or_init(Default::default);
    if let Some((at, bytes)) = walked.lock().expect("filestores").get(db).copied() {
        if at.elapsed() < FILESTORE_EVERY {
            return Some(bytes);
        }
    }
    let dir = infra.filestore_dir.join(db);
    let bytes = tokio::task::spawn_blocking(move || crate::builds::filestore::tree_bytes(&dir, FILESTORE_ENTRIES))
        .await
        .ok()?
        .ok()
        .and_then(|b| i64::try_from(b).ok())?;
    walked.lock().expect("filestores").insert(db.to_owned(), (Instant::now(), bytes));
    Some(bytes)
}

/// `GET http://<target>/web/health`: up (200) or why not, and how long it took.
async fn probe(target: &str) -> (bool, f32, Option<String>) {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(PROBE_TIMEOUT)
            .build()
            .expect("probe client")
    });
    let started = Instant::now();
    let outcome = client.get(format!("http://{target}/web/health")).send().await;
    let ms = started.elapsed().as_secs_f32() * 1000.0;
    match outcome {
        Ok(r) if r.status().is_success() => (true, ms, None),
        Ok(r) => (false, ms, Some(format!("/web/health answered {}", r.status().as_u16()))),
        Err(e) if e.is_timeout() => {
            (false, ms, Some(format!("/web/health did not answer within {} s", PROBE_TIMEOUT.as_secs())))
        }
        Err(_) => (false, ms, Some("/web/health refused the connection or the container is gone".to_owned())),
    }
}

/// One pass over every serving environment (the `monitor` job).
#[tracing::instrument(skip_all)]
pub async fn pass(p: &Platform, infra: &BuildInfra) -> anyhow::Result<Pass> {
    let envs = serving(p).await?;
    let traffic = infra.traffic.take();
    let at = chrono::Utc::now();
    // Database sizes, per server (an instance's own, or the shared one).
    let mut by_server: HashMap<String, (crate::builds::databases::BuildDatabases, Vec<String>)> = HashMap::new();
    for db in envs.iter().filter_map(|e| e.db_name.clone()) {
        let server = infra.db(&db);
        let key = format!("{:?}:{}", server.admin.get_host(), server.admin.get_port());
        by_server.entry(key).or_insert_with(|| (server, Vec::new())).1.push(db);
    }
    let mut sizes = HashMap::new();
    for (_, (server, names)) in by_server {
        match server.sizes(&names).await {
            Ok(s) => sizes.extend(s),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not read database sizes"),
        }
    }
    let readings: Vec<(Sample, Option<String>)> = futures_util::stream::iter(envs.iter().cloned())
        .map(|e| {
            let window = traffic.get(&e.target).cloned().unwrap_or_default();
            let db_bytes = e.db_name.as_ref().and_then(|d| sizes.get(d).copied());
            async move {
                let (up, latency, detail) = probe(&e.target).await;
                let counters = match &e.container {
                    Some(c) => p.runtime.stats(c).await.unwrap_or_else(|err| {
                        tracing::debug!(error = %format!("{err:#}"), "no container statistics");
                        None
                    }),
                    None => None,
                };
                let cpu_pct = counters.and_then(|now| {
                    let key = e.container.clone().unwrap_or_default();
                    let before = previous().lock().expect("counters").insert(key, now);
                    before.and_then(|b| now.cpu_pct_since(&b))
                });
                let class = |i: usize| i32::try_from(window.by_class[i]).unwrap_or(i32::MAX);
                let sample = Sample {
                    env_id: e.env_id,
                    project_id: e.project_id,
                    build_id: Some(e.build_id),
                    at,
                    up,
                    latency_ms: Some(latency),
                    cpu_pct: cpu_pct.map(|c| c as f32),
                    mem_bytes: counters.and_then(|c| c.mem_bytes).and_then(|b| i64::try_from(b).ok()),
                    mem_limit_bytes: counters.and_then(|c| c.mem_limit_bytes).and_then(|b| i64::try_from(b).ok()),
                    net_rx_bytes: counters.and_then(|c| i64::try_from(c.net_rx_bytes).ok()),
                    net_tx_bytes: counters.and_then(|c| i64::try_from(c.net_tx_bytes).ok()),
                    blk_read_bytes: counters.and_then(|c| i64::try_from(c.blk_read_bytes).ok()),
                    blk_write_bytes: counters.and_then(|c| i64::try_from(c.blk_write_bytes).ok()),
                    db_bytes,
                    filestore_bytes: filestore_bytes(infra, e.db_name.as_deref()).await,
                    requests: i32::try_from(window.requests).unwrap_or(i32::MAX),
                    req_by_class: [class(0), class(1), class(2), class(3)],
                    p50_ms: window.percentile(0.5).map(|v| v as f32),
                    p95_ms: window.percentile(0.95).map(|v| v as f32),
                    p99_ms: window.percentile(0.99).map(|v| v as f32),
                };
                (sample, detail)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    // Workloads that no longer serve leave no reading behind.
    {
        let live: std::collections::HashSet<&str> = envs.iter().filter_map(|e| e.container.as_deref()).collect();
        previous().lock().expect("counters").retain(|k, _| live.contains(k.as_str()));
    }
    let (samples, details): (Vec<Sample>, Vec<Option<String>>) = readings.into_iter().unzip();
    store::write(p, &samples).await?;
    let changes = store::health(p, &samples, &details).await?;
    for c in &changes {
        tracing::info!(env = %c.env_id, up = c.up, "an environment's health changed");
    }
    let alerts = crate::alerts::evaluate(p).await?;
    Ok(Pass {
        environments: samples.len(),
        down: samples.iter().filter(|s| !s.up).count(),
        changes: changes.len(),
        alerts,
    })
}
