//! Time series in PostgreSQL: one row per environment per pass, written as
//! one multi-row statement (`UNNEST` of column arrays) however many
//! environments there are; 5-minute roll-ups made from them; raw rows kept
//! 48 hours and roll-ups 90 days.

use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Raw samples are kept this long.
pub const RAW_HOURS: i64 = 48;
/// Roll-ups are kept this long.
pub const ROLLUP_DAYS: i64 = 90;

/// One environment at one pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub env_id: Uuid,
    pub project_id: Uuid,
    pub build_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub up: bool,
    pub latency_ms: Option<f32>,
    pub cpu_pct: Option<f32>,
    pub mem_bytes: Option<i64>,
    pub mem_limit_bytes: Option<i64>,
    pub net_rx_bytes: Option<i64>,
    pub net_tx_bytes: Option<i64>,
    pub blk_read_bytes: Option<i64>,
    pub blk_write_bytes: Option<i64>,
    pub db_bytes: Option<i64>,
    pub filestore_bytes: Option<i64>,
    pub requests: i32,
    pub req_by_class: [i32; 4],
    pub p50_ms: Option<f32>,
    pub p95_ms: Option<f32>,
    pub p99_ms: Option<f32>,
}

/// Writes a pass's samples in one statement (a sample already stored for the
/// same environment and instant is left as it is).
pub async fn write(p: &Platform, samples: &[Sample]) -> anyhow::Result<u64> {
    if samples.is_empty() {
        return Ok(0);
    }
    macro_rules! col {
        ($f:ident) => {
            samples.iter().map(|s| s.$f).collect::<Vec<_>>()
        };
    }
    let class = |i: usize| samples.iter().map(|s| s.req_by_class[i]).collect::<Vec<i32>>();
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let n = sqlx::query(
        "INSERT INTO ops.env_samples (env_id, project_id, build_id, at, up, latency_ms, cpu_pct, mem_bytes,
                mem_limit_bytes, net_rx_bytes, net_tx_bytes, blk_read_bytes, blk_write_bytes, db_bytes, requests,
                req_2xx, req_3xx, req_4xx, req_5xx, p50_ms, p95_ms, p99_ms, filestore_bytes)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::bool[], $6::real[],
                $7::real[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[],
                $15::int4[], $16::int4[], $17::int4[], $18::int4[], $19::int4[], $20::real[], $21::real[], $22::real[],
                $23::int8[])
         ON CONFLICT DO NOTHING",
    )
    .bind(col!(env_id))
    .bind(col!(project_id))
    .bind(col!(build_id))
    .bind(col!(at))
    .bind(col!(up))
    .bind(col!(latency_ms))
    .bind(col!(cpu_pct))
    .bind(col!(mem_bytes))
    .bind(col!(mem_limit_bytes))
    .bind(col!(net_rx_bytes))
    .bind(col!(net_tx_bytes))
    .bind(col!(blk_read_bytes))
    .bind(col!(blk_write_bytes))
    .bind(col!(db_bytes))
    .bind(col!(requests))
    .bind(class(0))
    .bind(class(1))
    .bind(class(2))
    .bind(class(3))
    .bind(col!(p50_ms))
    .bind(col!(p95_ms))
    .bind(col!(p99_ms))
    .bind(col!(filestore_bytes))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Live charts redraw: one notification per environment, at commit.
    sqlx::query("SELECT pg_notify($1, e::text) FROM UNNEST($2::uuid[]) AS e")
        .bind(crate::jobs::channels::Channel::Samples.as_str())
        .bind(col!(env_id))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// A change of an environment's health.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub env_id: Uuid,
    pub up: bool,
}

/// Updates every probed environment's current health in one statement and
/// records the changes (a first probe is a change only when it is down).
pub async fn health(p: &Platform, samples: &[Sample], details: &[Option<String>]) -> anyhow::Result<Vec<Change>> {
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let rows: Vec<(Uuid, bool)> = sqlx::query_as(
        "WITH probed AS (
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bool[], $4::timestamptz[], $5::text[])
                        AS t(env_id, project_id, up, at, detail)),
         before AS (SELECT h.env_id, h.up FROM ops.env_health h JOIN probed USING (env_id)),
         upserted AS (
             INSERT INTO ops.env_health AS h (env_id, project_id, up, since, last_probe_at, detail)
             SELECT env_id, project_id, up, at, at, detail FROM probed
             ON CONFLICT (env_id) DO UPDATE
                SET since = CASE WHEN h.up = EXCLUDED.up THEN h.since ELSE EXCLUDED.since END,
                    up = EXCLUDED.up, last_probe_at = EXCLUDED.last_probe_at, detail = EXCLUDED.detail
             RETURNING h.env_id, h.up),
         changed AS (
             SELECT u.env_id, u.up, pr.project_id, pr.detail FROM upserted u JOIN probed pr USING (env_id)
               LEFT JOIN before b USING (env_id)
              WHERE (b.env_id IS NULL AND NOT u.up) OR (b.env_id IS NOT NULL AND b.up <> u.up)),
         logged AS (INSERT INTO ops.uptime_changes (env_id, project_id, up, detail)
                    SELECT env_id, project_id, up, detail FROM changed RETURNING 1)
         SELECT env_id, up FROM changed",
    )
    .bind(samples.iter().map(|s| s.env_id).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.project_id).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.up).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.at).collect::<Vec<_>>())
    .bind(details)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(|(env_id, up)| Change { env_id, up }).collect())
}

/// Rolls the raw samples of the last hours up into 5-minute buckets (again:
/// a bucket still filling is rewritten), then forgets what is past its
/// retention. Answers the buckets written and the rows removed.
pub async fn rollup_and_prune(p: &Platform) -> anyhow::Result<(u64, u64)> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let buckets = sqlx::query(
        "INSERT INTO ops.env_rollups AS r (env_id, bucket, project_id, samples, up_samples, latency_ms, cpu_pct,
                mem_bytes, mem_limit_bytes, db_bytes, requests, req_5xx, p95_ms, filestore_bytes)
         SELECT env_id, date_bin('5 minutes', at, TIMESTAMPTZ '2000-01-01'), min(project_id::text)::uuid,
                count(*), count(*) FILTER (WHERE up), avg(latency_ms), avg(cpu_pct), max(mem_bytes),
                max(mem_limit_bytes), max(db_bytes), sum(requests), sum(req_5xx), max(p95_ms), max(filestore_bytes)
           FROM ops.env_samples WHERE at >= now() - interval '3 hours'
          GROUP BY 1, 2
         ON CONFLICT (env_id, bucket) DO UPDATE
            SET samples = EXCLUDED.samples, up_samples = EXCLUDED.up_samples, latency_ms = EXCLUDED.latency_ms,
                cpu_pct = EXCLUDED.cpu_pct, mem_bytes = EXCLUDED.mem_bytes, mem_limit_bytes = EXCLUDED.mem_limit_bytes,
                db_bytes = EXCLUDED.db_bytes, requests = EXCLUDED.requests, req_5xx = EXCLUDED.req_5xx,
                p95_ms = EXCLUDED.p95_ms, filestore_bytes = EXCLUDED.filestore_bytes",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let raw = sqlx::query("DELETE FROM ops.env_samples WHERE at < now() - make_interval(hours => $1)")
        .bind(RAW_HOURS as i32)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let old = sqlx::query("DELETE FROM ops.env_rollups WHERE bucket < now() - make_interval(days => $1)")
        .bind(ROLLUP_DAYS as i32)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let changes = sqlx::query("DELETE FROM ops.uptime_changes WHERE at < now() - make_interval(days => $1)")
        .bind(ROLLUP_DAYS as i32)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok((buckets, raw + old + changes))
}
