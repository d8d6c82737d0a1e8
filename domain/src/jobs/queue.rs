//! The statements over `ops.jobs` and `ops.consoles`: claiming, finishing,
//! rescheduling, and the consoles' heartbeats. Jobs are queued by triggers
//! when their build, backup or drill row is inserted (see the jobs
//! migration), so queuing work is one INSERT of the domain row.

use super::channels::{self, Channel};
use super::Kind;
use crate::builds::queue::SYSTEM_USER;
use crate::db::ScopedTx;
use crate::error::DomainResult;
use crate::platform::Platform;
use sqlx::Row;
use std::time::Duration;
use uuid::Uuid;

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    pub kind: Kind,
    /// The build, backup or drill it drives; `None` for a periodic task.
    pub subject: Option<Uuid>,
    pub tenant_id: Option<Uuid>,
    /// Tries so far, this one included.
    pub attempts: i32,
}

/// The SQL condition "the console named by `{col}` is not alive" (its beat older than `$lease` seconds).
pub(crate) fn dead(col: &str, lease_param: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM ops.consoles c WHERE c.id = {col} AND c.stopped_at IS NULL
                       AND c.heartbeat_at > now() - make_interval(secs => {lease_param}))"
    )
}

/// Claims, for `worker`, the next due job of one of `kinds`, in `tx`: the
/// kind's claim hook runs in the same transaction. With subjects of a tenant,
/// one below `tenant_cap` running jobs of the kind is served, the one running
/// fewest first, so one tenant never takes every slot.
pub async fn claim(tx: &mut ScopedTx, worker: &str, kinds: &[Kind], tenant_cap: i64) -> sqlx::Result<Option<Job>> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    // SKIP LOCKED: a row another console is claiming right now is skipped, not waited for.
    let row = sqlx::query(
        "UPDATE ops.jobs SET state = 'running', attempts = attempts + 1, worker = $1, started_at = now()
          WHERE id = (SELECT j.id FROM ops.jobs j
                       CROSS JOIN LATERAL (SELECT count(*) AS n FROM ops.jobs r
                                            WHERE r.state = 'running' AND r.kind = j.kind
                                              AND r.tenant_id = j.tenant_id) running
                       WHERE j.state = 'queued' AND j.run_after <= now() AND j.kind = ANY($2) AND running.n < $3
                       ORDER BY running.n, j.created_at
                       FOR UPDATE OF j SKIP LOCKED LIMIT 1)
      RETURNING id, kind, subject, tenant_id, attempts",
    )
    .bind(worker)
    .bind(&names)
    .bind(tenant_cap)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| Job {
        id: r.get("id"),
        kind: Kind::parse(r.get("kind")).expect("a kind the migration allows"),
        subject: r.get("subject"),
        tenant_id: r.get("tenant_id"),
        attempts: r.get("attempts"),
    }))
}

/// Marks a job done, in the transaction that records its effects.
pub async fn done(tx: &mut ScopedTx, job: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE ops.jobs SET state = 'done', finished_at = now() WHERE id = $1 AND state = 'running'")
        .bind(job)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks the open job driving `subject` done, in the transaction that closes the subject.
pub async fn done_for(tx: &mut ScopedTx, kind: Kind, subject: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE ops.jobs SET state = 'done', finished_at = now()
          WHERE kind = $1 AND subject = $2 AND state IN ('queued', 'running')",
    )
    .bind(kind.as_str())
    .bind(subject)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A run that failed: tried again after a backoff while tries remain, else
/// failed. A periodic task always comes round again. Returns whether it will be retried.
pub async fn failed(p: &Platform, job: &Job, error: &str) -> anyhow::Result<bool> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let error: String = error.chars().take(500).collect();
    let wait = match job.kind.period() {
        Some(period) => super::backoff(job.attempts).min(period),
        None => super::backoff(job.attempts),
    };
    let retried: Option<bool> = sqlx::query_scalar(
        "UPDATE ops.jobs SET last_error = $2, worker = NULL,
                state = CASE WHEN subject IS NULL OR attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                run_after = now() + make_interval(secs => $3),
                finished_at = CASE WHEN subject IS NULL OR attempts < max_attempts THEN NULL ELSE now() END
          WHERE id = $1 AND state = 'running' RETURNING state = 'queued'",
    )
    .bind(job.id)
    .bind(&error)
    .bind(wait.as_secs_f64())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(retried.unwrap_or(false))
}

/// A periodic task ran: it comes round again after its period.
pub async fn reschedule(p: &Platform, job: &Job) -> DomainResult<()> {
    let period = job.kind.period().unwrap_or(Duration::from_secs(60));
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        "UPDATE ops.jobs SET state = 'queued', worker = NULL, attempts = 0, last_error = NULL, finished_at = now(),
                -- Woken while it ran (see `wake`): due again at once, for what the wake was about.
                run_after = CASE WHEN run_after > started_at THEN now() ELSE now() + make_interval(secs => $2) END
          WHERE id = $1 AND state = 'running'",
    )
    .bind(job.id)
    .bind(period.as_secs_f64())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes sure each periodic task in `kinds` has its row (due now when new).
pub async fn seed_periodic(p: &Platform, kinds: &[Kind]) -> DomainResult<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    for k in kinds.iter().filter(|k| k.period().is_some()) {
        sqlx::query("INSERT INTO ops.jobs (kind) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(k.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Brings a waiting periodic task forward to now (the reconciler after a branch is deleted).
/// A run already under way may have missed what the wake is about: it runs again as soon as it ends.
pub async fn wake(p: &Platform, kind: Kind) -> DomainResult<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        // The clock, not the transaction's start: a run claimed while this waited for its row started earlier.
        "UPDATE ops.jobs SET run_after = clock_timestamp()
          WHERE kind = $1 AND subject IS NULL AND state IN ('queued', 'running')",
    )
    .bind(kind.as_str())
    .execute(&mut *tx)
    .await?;
    channels::notify(&mut tx, Channel::Jobs, kind.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

/// When the next queued job of `kinds` is due (for the runner's sleep).
pub async fn next_due(p: &Platform, kinds: &[Kind]) -> DomainResult<Option<chrono::DateTime<chrono::Utc>>> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let at = sqlx::query_scalar("SELECT min(run_after) FROM ops.jobs WHERE state = 'queued' AND kind = ANY($1)")
        .bind(&names)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(at)
}

/// Registers this process as a live console.
pub async fn register(p: &Platform, name: &str) -> DomainResult<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        "INSERT INTO ops.consoles (id, host, pid, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL",
    )
    .bind(name)
    .bind(name.rsplitn(3, '-').nth(2).unwrap_or(name))
    .bind(std::process::id() as i32)
    .bind(env!("CARGO_PKG_VERSION"))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The console's heartbeat: it is alive for one more lease.
pub async fn beat(p: &Platform, name: &str) -> DomainResult<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.consoles SET heartbeat_at = now() WHERE id = $1 AND stopped_at IS NULL")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A console that stops cleanly says so: its remaining jobs are recovered at once.
pub async fn stopped(p: &Platform, name: &str) -> DomainResult<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.consoles SET stopped_at = now() WHERE id = $1").bind(name).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Finished jobs older than a week, consoles gone for a day and tenant
/// wizard drafts past their seven days are forgotten.
pub async fn retention(p: &Platform) -> DomainResult<u64> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let jobs = sqlx::query(
        "DELETE FROM ops.jobs WHERE state IN ('done', 'failed') AND subject IS NOT NULL
            AND finished_at < now() - interval '7 days'",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "DELETE FROM ops.consoles c WHERE coalesce(c.stopped_at, c.heartbeat_at) < now() - interval '1 day'
            AND NOT EXISTS (SELECT 1 FROM ops.jobs j WHERE j.worker = c.id AND j.state = 'running')",
    )
    .execute(&mut *tx)
    .await?;
    crate::wizard::forget_expired(&mut tx).await?;
    crate::automation::forget_old(&mut tx).await?;
    tx.commit().await?;
    let lines = crate::monitoring::logs::forget_old(p).await?;
    if lines > 0 {
        tracing::info!(lines, "runtime log lines past their retention forgotten");
    }
    Ok(jobs)
}
