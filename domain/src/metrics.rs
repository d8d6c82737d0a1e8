//! `GET /metrics`: the console's own figures in Prometheus' text format, for
//! platform staff and their scrapers (tokens scoped to `metrics`): jobs by
//! kind and state, the queue's depth, builds waiting and running, finished
//! builds and their durations by result, live previews, consoles alive and
//! the database pool. Aggregates only: no tenant's name or data.

use crate::auth::Actor;
use crate::builds::queue::SYSTEM_USER;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::PlatformRole;
use std::fmt::Write;

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
    Ok(text)
}

/// A label value as the exposition format allows (the values here are the platform's own words anyway).
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
