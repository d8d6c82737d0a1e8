//! Reading monitoring back for people: an environment's charts over a range
//! (raw points for an hour or a day, 5-minute roll-ups beyond), its uptime
//! over 24 hours, 7 and 30 days, its health changes and its slowest
//! statements; and the fleet's overview for the dashboard. Row-level
//! security decides what a person sees: their projects' environments, and
//! the role matrix's *Monitor* right on the environment's stage.

use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::wire::{EnvMonitor, FleetHealth, Point, SeriesView, SlowQuery, UptimeChange};
use sqlx::Row;
use uuid::Uuid;

/// A chart's range: its length and the width of one point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Hour,
    Day,
    Week,
    Month,
}

impl Range {
    pub fn parse(s: &str) -> Option<Range> {
        match s {
            "1h" => Some(Range::Hour),
            "24h" | "" => Some(Range::Day),
            "7d" => Some(Range::Week),
            "30d" => Some(Range::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    /// (range, point width) in seconds.
    fn seconds(self) -> (i64, i64) {
        match self {
            Range::Hour => (3600, 30),
            Range::Day => (86_400, 300),
            Range::Week => (7 * 86_400, 1800),
            Range::Month => (30 * 86_400, 7200),
        }
    }
}

/// The series of a chart as SQL over raw samples (`s`) or roll-ups (`r`).
const RAW_SERIES: &str = "
    SELECT extract(epoch FROM date_bin(make_interval(secs => $3), at, TIMESTAMPTZ '2000-01-01'))::int8 AS t,
           avg(latency_ms)::float8 AS latency_ms, sum(requests)::float8 AS requests, avg(cpu_pct)::float8 AS cpu_pct,
           max(mem_bytes)::float8 AS mem_bytes, max(db_bytes)::float8 AS db_bytes, max(p95_ms)::float8 AS p95_ms,
           sum(req_5xx)::float8 AS errors, (100.0 * count(*) FILTER (WHERE up) / count(*))::float8 AS up_pct,
           max(filestore_bytes)::float8 AS filestore_bytes
      FROM ops.env_samples WHERE env_id = $1 AND at >= now() - make_interval(secs => $2)
     GROUP BY 1 ORDER BY 1";
const ROLLUP_SERIES: &str = "
    SELECT extract(epoch FROM date_bin(make_interval(secs => $3), bucket, TIMESTAMPTZ '2000-01-01'))::int8 AS t,
           avg(latency_ms)::float8 AS latency_ms, sum(requests)::float8 AS requests, avg(cpu_pct)::float8 AS cpu_pct,
           max(mem_bytes)::float8 AS mem_bytes, max(db_bytes)::float8 AS db_bytes, max(p95_ms)::float8 AS p95_ms,
           sum(req_5xx)::float8 AS errors, (100.0 * sum(up_samples) / greatest(sum(samples), 1))::float8 AS up_pct,
           max(filestore_bytes)::float8 AS filestore_bytes
      FROM ops.env_rollups WHERE env_id = $1 AND bucket >= now() - make_interval(secs => $2)
     GROUP BY 1 ORDER BY 1";

/// Uptime % over the last `secs`: raw samples for the last 48 hours, roll-ups before.
const UPTIME: &str = "
    SELECT CASE WHEN sum(n) > 0 THEN (100.0 * sum(up) / sum(n))::float8 END FROM (
        SELECT count(*) FILTER (WHERE up) AS up, count(*) AS n FROM ops.env_samples
         WHERE env_id = $1 AND at >= now() - make_interval(secs => $2)
        UNION ALL
        SELECT sum(up_samples), sum(samples) FROM ops.env_rollups
         WHERE env_id = $1 AND bucket >= now() - make_interval(secs => $2)
           AND bucket + interval '5 minutes' <= coalesce((SELECT min(at) FROM ops.env_samples WHERE env_id = $1), now())) x";

const METRICS: [(&str, &str, &str); 9] = [
    ("up_pct", "Uptime", "%"),
    ("latency_ms", "Response time (probe)", "ms"),
    ("p95_ms", "Response time p95 (requests)", "ms"),
    ("requests", "Requests", "req"),
    ("errors", "Server errors (5xx)", "req"),
    ("cpu_pct", "CPU", "%"),
    ("mem_bytes", "Memory", "bytes"),
    ("db_bytes", "Database size", "bytes"),
    ("filestore_bytes", "Filestore size", "bytes"),
];

/// An environment's monitoring over `range` (its project's members).
pub async fn env_monitor(p: &Platform, actor: &Actor, env: Uuid, range: &str) -> DomainResult<EnvMonitor> {
    let range = Range::parse(range).ok_or_else(|| DomainError::Invalid("range is 1h, 24h, 7d or 30d".into()))?;
    let (secs, width) = range.seconds();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    // Unknown when invisible (404); visible but not the caller's stage to monitor, refused (403).
    let access = crate::access::environment(&mut tx, env).await?;
    access.access.require(access.stage, crate::types::Capability::Monitor, "monitoring this environment")?;
    let e = sqlx::query(
        "SELECT e.id, e.project_id, e.branch, e.stage, p.name, p.slug, t.slug AS tenant_slug, h.label,
                eh.up, eh.since, eh.detail,
                (SELECT b.db_name FROM ops.builds b WHERE b.env_id = e.id AND b.live
                  ORDER BY b.created_at DESC, b.seq DESC LIMIT 1) AS db_name
           FROM ops.environments e JOIN ops.projects p ON p.id = e.project_id JOIN ops.tenants t ON t.id = e.tenant_id
           LEFT JOIN ops.env_hosts h ON h.env_id = e.id LEFT JOIN ops.env_health eh ON eh.env_id = e.id
          WHERE e.id = $1 AND e.deleted_at IS NULL",
    )
    .bind(env)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    let sql = if matches!(range, Range::Hour | Range::Day) { RAW_SERIES } else { ROLLUP_SERIES };
    let rows = sqlx::query(sql).bind(env).bind(secs as f64).bind(width as f64).fetch_all(&mut *tx).await?;
    let series = METRICS
        .iter()
        .map(|(metric, title, unit)| SeriesView {
            metric: (*metric).into(),
            title: (*title).into(),
            unit: (*unit).into(),
            points: rows
                .iter()
                .filter_map(|r| r.get::<Option<f64>, _>(*metric).map(|v| Point { t: r.get("t"), v }))
                .collect(),
        })
        .collect();
    let mut uptime = [None; 3];
    for (i, s) in [86_400f64, 7.0 * 86_400.0, 30.0 * 86_400.0].into_iter().enumerate() {
        uptime[i] = sqlx::query_scalar::<_, Option<f64>>(UPTIME).bind(env).bind(s).fetch_one(&mut *tx).await?;
    }
    let changes =
        sqlx::query("SELECT at, up, detail FROM ops.uptime_changes WHERE env_id = $1 ORDER BY at DESC LIMIT 20")
            .bind(env)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| UptimeChange { at: r.get("at"), up: r.get("up"), detail: r.get("detail") })
            .collect();
    tx.commit().await?;
    let db_name: Option<String> = e.get("db_name");
    let (slow_queries, slow_queries_note) = match (p.builds.as_ref(), db_name) {
        (Some(infra), Some(db)) => match infra.db(&db).slow_queries(&db, 10).await {
            Ok(rows) => (
                rows.into_iter()
                    .map(|(query, calls, mean_ms, total_ms)| SlowQuery { query, calls, mean_ms, total_ms })
                    .collect(),
                None,
            ),
            Err(why) => (Vec::new(), Some(why)),
        },
        _ => (Vec::new(), Some("no build serves this environment".to_owned())),
    };
    Ok(EnvMonitor {
        env_id: env,
        project_id: e.get("project_id"),
        project_name: e.get("name"),
        tenant_slug: e.get("tenant_slug"),
        project_slug: e.get("slug"),
        branch: e.get("branch"),
        stage: crate::db::vocabulary(&e, "stage")?,
        address: e.get::<Option<String>, _>("label").and_then(|l| crate::addresses::url(p, &l)),
        range: range.as_str().into(),
        up: e.get("up"),
        since: e.get("since"),
        last_detail: e.get("detail"),
        uptime_24h: uptime[0],
        uptime_7d: uptime[1],
        uptime_30d: uptime[2],
        series,
        changes,
        slow_queries,
        slow_queries_note,
    })
}

/// Every serving environment the caller can see, with its health and a
/// sparkline of the last hour (the dashboard's fleet overview).
pub async fn fleet(p: &Platform, actor: &Actor) -> DomainResult<Vec<FleetHealth>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT h.env_id, p.name, e.branch, e.stage, h.up, h.since,
                (SELECT (100.0 * count(*) FILTER (WHERE s.up) / count(*))::float8 FROM ops.env_samples s
                  WHERE s.env_id = h.env_id AND s.at >= now() - interval '24 hours') AS uptime_24h,
                l.latency_ms::float8 AS latency_ms, l.cpu_pct::float8 AS cpu_pct, l.mem_bytes,
                ARRAY(SELECT extract(epoch FROM s.at)::int8 FROM ops.env_samples s
                       WHERE s.env_id = h.env_id AND s.at >= now() - interval '1 hour' ORDER BY s.at) AS ts,
                ARRAY(SELECT coalesce(s.latency_ms, 0)::float8 FROM ops.env_samples s
                       WHERE s.env_id = h.env_id AND s.at >= now() - interval '1 hour' ORDER BY s.at) AS vs
           FROM ops.env_health h
           JOIN ops.environments e ON e.id = h.env_id AND e.deleted_at IS NULL
           JOIN ops.projects p ON p.id = e.project_id
           LEFT JOIN LATERAL (SELECT latency_ms, cpu_pct, mem_bytes FROM ops.env_samples s
                               WHERE s.env_id = h.env_id ORDER BY s.at DESC LIMIT 1) l ON true
          WHERE EXISTS (SELECT 1 FROM ops.builds b WHERE b.env_id = h.env_id AND b.live)
            AND (ops.reads_everything() OR ops.may(e.project_id, e.stage, 'monitor'))
          ORDER BY h.up, CASE e.stage WHEN 'production' THEN 0 WHEN 'staging' THEN 1 ELSE 2 END, p.name, e.branch
          LIMIT 200",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            let ts: Vec<i64> = r.get("ts");
            let vs: Vec<f64> = r.get("vs");
            Ok(FleetHealth {
                env_id: r.get("env_id"),
                project_name: r.get("name"),
                branch: r.get("branch"),
                stage: crate::db::vocabulary(r, "stage")?,
                up: r.get("up"),
                since: r.get("since"),
                uptime_24h: r.get("uptime_24h"),
                latency_ms: r.get("latency_ms"),
                cpu_pct: r.get("cpu_pct"),
                mem_bytes: r.get("mem_bytes"),
                latency_points: ts.into_iter().zip(vs).map(|(t, v)| Point { t, v }).collect(),
            })
        })
        .collect()
}
