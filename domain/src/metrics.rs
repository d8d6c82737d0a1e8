//! `GET /metrics`: the console's own figures in Prometheus' text format, for
//! platform staff and their scrapers (tokens scoped to `metrics`): jobs by
//! kind and state, the queue's depth, builds waiting and running, finished
//! builds and their durations by result, live previews, consoles alive, the
//! database pool, this console's requests (by status class, with their time)
//! and open WebSockets, and every serving environment's latest monitoring
//! sample (labelled by its id and stage: no tenant's name or data).

use crate::auth::Actor;
use crate::builds::queue::SYSTEM_USER;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::PlatformRole;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// This console's requests by status class (1xx–5xx) and their total time.
static REQUESTS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
static REQUEST_MICROS: AtomicU64 = AtomicU64::new(0);
static SOCKETS: AtomicI64 = AtomicI64::new(0);

/// Counts one answered request (the console's middleware calls it).
pub fn count_request(status: u16, took: std::time::Duration) {
    let class = usize::from(status.clamp(100, 599) / 100 - 1);
    REQUESTS[class].fetch_add(1, Ordering::Relaxed);
    REQUEST_MICROS.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// An open WebSocket, counted while it lives.
pub struct OpenSocket(());

impl OpenSocket {
    pub fn open() -> OpenSocket {
        SOCKETS.fetch_add(1, Ordering::Relaxed);
        OpenSocket(())
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        SOCKETS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Renders the exposition (platform staff only).
pub async fn render(p: &Platform, actor: &Actor) -> DomainResult<String> {
    let staff = actor
        .platform_role
        .is_some_and(|r| matches!(r, PlatformRole::Owner | PlatformRole::Operator | PlatformRole::Auditor));
    if !staff {
        return Err(DomainError::Denied("metrics are for platform staff".into()));
    }
    // Aggregates of the system's own tables, read as the system once the caller is known to be staff.
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let jobs: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT kind, state, count(*) FROM ops.jobs GROUP BY 1, 2 ORDER BY 1, 2")
            .fetch_all(&mut *tx)
            .await?;
    let due: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.jobs WHERE state = 'queued' AND run_after <= now()")
        .fetch_one(&mut *tx)
        .await?;
    let builds: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, count(*) FROM ops.builds WHERE state IN ('pending', 'running') GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await?;
    let finished: Vec<(String, i64, f64)> = sqlx::query_as(
        "SELECT result, count(*), coalesce(sum(extract(epoch FROM finished_at - started_at)), 0)::float8
           FROM ops.builds WHERE state = 'done' AND result IS NOT NULL AND started_at IS NOT NULL
          GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await?;
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.builds WHERE live").fetch_one(&mut *tx).await?;
    let consoles: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.consoles WHERE heartbeat_at > now() - interval '2 minutes'")
            .fetch_one(&mut *tx)
            .await?;
    let samples: Vec<EnvSample> = sqlx::query_as(
        "SELECT DISTINCT ON (s.env_id) s.env_id, e.stage, s.up, s.latency_ms::float8 AS latency_ms,
                s.cpu_pct::float8 AS cpu_pct, s.mem_bytes::float8 AS mem_bytes,
                s.mem_limit_bytes::float8 AS mem_limit_bytes, s.db_bytes::float8 AS db_bytes,
                s.requests::float8 AS requests
           FROM ops.env_samples s JOIN ops.environments e ON e.id = s.env_id AND e.deleted_at IS NULL
          WHERE s.at > now() - interval '5 minutes'
          ORDER BY s.env_id, s.at DESC",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let pool = p.db.anonymous();
    let metric = |text: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    let mut text = String::new();
    metric(&mut text, "odooops_jobs", "gauge", "Jobs by kind and state.");
    for (kind, state, n) in &jobs {
        let _ = writeln!(text, "odooops_jobs{{kind=\"{}\",state=\"{}\"}} {n}", label(kind), label(state));
    }
    metric(&mut text, "odooops_queue_due", "gauge", "Queued jobs whose time has come.");
    let _ = writeln!(text, "odooops_queue_due {due}");
    metric(&mut text, "odooops_builds", "gauge", "Builds waiting or running.");
    for (state, n) in &builds {
        let _ = writeln!(text, "odooops_builds{{state=\"{}\"}} {n}", label(state));
    }
    metric(&mut text, "odooops_build_duration_seconds", "summary", "Finished builds' durations by result.");
    for (result, n, secs) in &finished {
        let r = label(result);
        let _ = writeln!(text, "odooops_build_duration_seconds_sum{{result=\"{r}\"}} {secs}");
        let _ = writeln!(text, "odooops_build_duration_seconds_count{{result=\"{r}\"}} {n}");
    }
    metric(&mut text, "odooops_live_builds", "gauge", "Builds serving a preview or an environment.");
    let _ = writeln!(text, "odooops_live_builds {live}");
    metric(&mut text, "odooops_consoles", "gauge", "Consoles of this installation that beat in the last two minutes.");
    let _ = writeln!(text, "odooops_consoles {consoles}");
    metric(&mut text, "odooops_db_pool_connections", "gauge", "The application pool's connections.");
    let _ = writeln!(text, "odooops_db_pool_connections{{state=\"idle\"}} {}", pool.num_idle());
    let _ =
        writeln!(text, "odooops_db_pool_connections{{state=\"in_use\"}} {}", pool.size() as usize - pool.num_idle());
    metric(&mut text, "odooops_http_requests_total", "counter", "Requests this console answered, by status class.");
    for (i, n) in REQUESTS.iter().enumerate() {
        let _ = writeln!(text, "odooops_http_requests_total{{class=\"{}xx\"}} {}", i + 1, n.load(Ordering::Relaxed));
    }
    metric(&mut text, "odooops_http_request_seconds_total", "counter", "Time this console spent answering requests.");
    let _ =
        writeln!(text, "odooops_http_request_seconds_total {}", REQUEST_MICROS.load(Ordering::Relaxed) as f64 / 1e6);
    metric(
        &mut text,
        "odooops_websocket_clients",
        "gauge",
        "WebSockets open on this console (logs, mail, shells, charts).",
    );
    let _ = writeln!(text, "odooops_websocket_clients {}", SOCKETS.load(Ordering::Relaxed).max(0));
    let families: [(&str, &str, Read); 7] = [
        ("odooops_environment_up", "Whether the environment's last probe answered (1) or not (0).", |s| {
            Some(if s.up { 1.0 } else { 0.0 })
        }),
        ("odooops_environment_probe_milliseconds", "The last probe's response time.", |s| s.latency_ms),
        ("odooops_environment_cpu_percent", "CPU of the serving container (100: one CPU).", |s| s.cpu_pct),
        ("odooops_environment_memory_bytes", "Memory of the serving container.", |s| s.mem_bytes),
        ("odooops_environment_memory_limit_bytes", "The serving container's memory limit.", |s| s.mem_limit_bytes),
        ("odooops_environment_database_bytes", "The environment's database size.", |s| s.db_bytes),
        ("odooops_environment_requests", "Requests the router sent it during the last pass.", |s| s.requests),
    ];
    for (name, help, value) in families {
        metric(&mut text, name, "gauge", help);
        for s in &samples {
            if let Some(v) = value(s) {
                let _ = writeln!(text, "{name}{{env=\"{}\",stage=\"{}\"}} {v}", s.env_id, label(&s.stage));
            }
        }
    }
    Ok(text)
}

/// One figure of an environment's sample.
type Read = fn(&EnvSample) -> Option<f64>;

/// A serving environment's latest sample, as `/metrics` shows it.
#[derive(sqlx::FromRow)]
struct EnvSample {
    env_id: uuid::Uuid,
    stage: String,
    up: bool,
    latency_ms: Option<f64>,
    cpu_pct: Option<f64>,
    mem_bytes: Option<f64>,
    mem_limit_bytes: Option<f64>,
    db_bytes: Option<f64>,
    requests: Option<f64>,
}

/// A label value as the exposition format allows (the values here are the platform's own words anyway).
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
