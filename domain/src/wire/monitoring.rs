//! Monitoring and alerts on the wire: an environment's health and charts,
//! the fleet's overview, alert rules, channels, alerts and their deliveries.

use super::*;

wire! {
    /// A point of a series: unix seconds and the value.
    pub struct Point {
        pub t: i64,
        pub v: f64,
    }

    /// One series of a chart, oldest point first.
    pub struct SeriesView {
        /// `latency_ms`, `requests`, `cpu_pct`, `mem_bytes`, `db_bytes`, `up_pct`, `p95_ms`, `errors`.
        pub metric: String,
        pub title: String,
        /// `ms`, `req`, `%`, `bytes`.
        pub unit: String,
        pub points: Vec<Point>,
    }

    /// An environment's monitoring over a range.
    pub struct EnvMonitor {
        pub env_id: Uuid,
        pub project_id: Uuid,
        pub project_name: String,
        pub tenant_slug: String,
        pub project_slug: String,
        pub branch: String,
        pub stage: Stage,
        pub address: Option<String>,
        /// `1h`, `24h`, `7d` or `30d`.
        pub range: String,
        /// Whether the last probe answered, and since when it has been so.
        pub up: Option<bool>,
        pub since: Option<DateTime<Utc>>,
        pub last_detail: Option<String>,
        /// Uptime % over 24 hours, 7 days and 30 days (`None` without probes).
        pub uptime_24h: Option<f64>,
        pub uptime_7d: Option<f64>,
        pub uptime_30d: Option<f64>,
        pub series: Vec<SeriesView>,
        /// Recent changes of health, newest first.
        pub changes: Vec<UptimeChange>,
        /// The slowest statements of the environment's database, or why there are none.
        pub slow_queries: Vec<SlowQuery>,
        pub slow_queries_note: Option<String>,
    }

    pub struct UptimeChange {
        pub at: DateTime<Utc>,
        pub up: bool,
        pub detail: Option<String>,
    }

    pub struct SlowQuery {
        pub query: String,
        pub calls: i64,
        pub mean_ms: f64,
        pub total_ms: f64,
    }

    /// One serving environment on the dashboard's fleet overview.
    pub struct FleetHealth {
        pub env_id: Uuid,
        pub project_name: String,
        pub branch: String,
        pub stage: Stage,
        pub up: bool,
        pub since: DateTime<Utc>,
        pub uptime_24h: Option<f64>,
        pub latency_ms: Option<f64>,
        pub cpu_pct: Option<f64>,
        pub mem_bytes: Option<i64>,
        /// Response time over the last hour (for a sparkline).
        pub latency_points: Vec<Point>,
    }

    /// An alert rule of a project.
    pub struct AlertRuleView {
        pub id: Uuid,
        /// `env_down`, `build_failed`, `backup_failed`, `db_size`, `cron_disabled`, `domain_failing`.
        pub kind: String,
        pub enabled: bool,
        /// `env_down`: minutes down before it fires; `db_size`: megabytes.
        pub threshold: i64,
        pub repeat_minutes: i32,
    }

    /// A change to a rule: every field optional.
    pub struct AlertRuleChange {
        #[serde(default)]
        pub enabled: Option<bool>,
        #[serde(default)]
        pub threshold: Option<i64>,
        #[serde(default)]
        pub repeat_minutes: Option<i32>,
    }

    /// Where a project's alerts go.
    pub struct AlertChannelView {
        pub id: Uuid,
        /// `email`, `webhook` or `slack`.
        pub kind: String,
        pub name: String,
        /// The addresses, or the URL.
        pub target: String,
        pub created_at: DateTime<Utc>,
    }

    pub struct NewAlertChannel {
        pub kind: String,
        pub name: String,
        pub target: String,
    }

    /// A channel just made: a webhook's signing secret shows this once.
    pub struct AlertChannelCreated {
        pub channel: AlertChannelView,
        pub signing_secret: Option<String>,
    }

    /// An alert: what fired, since when, and whether it recovered.
    pub struct AlertView {
        pub id: Uuid,
        pub kind: String,
        pub subject: String,
        pub env_id: Option<Uuid>,
        /// `firing` or `resolved`.
        pub state: String,
        pub summary: String,
        pub started_at: DateTime<Utc>,
        pub last_notified_at: DateTime<Utc>,
        pub resolved_at: Option<DateTime<Utc>>,
    }

    /// One notice to one channel, with its tries.
    pub struct AlertDeliveryView {
        pub id: Uuid,
        pub alert_id: Option<Uuid>,
        pub channel_id: Option<Uuid>,
        pub channel_kind: String,
        /// `fired`, `repeat`, `resolved` or `test`.
        pub notice: String,
        /// `pending`, `sending`, `failed`, `delivered` or `gave_up`.
        pub state: String,
        pub attempts: i32,
        pub last_status: Option<i32>,
        pub last_error: Option<String>,
        pub next_attempt_at: DateTime<Utc>,
        pub delivered_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
    }

    /// A project's alerting: its rules, channels, recent alerts and deliveries.
    pub struct AlertsPage {
        pub rules: Vec<AlertRuleView>,
        pub channels: Vec<AlertChannelView>,
        pub alerts: Vec<AlertView>,
        pub deliveries: Vec<AlertDeliveryView>,
        /// Whether the caller may change rules and channels.
        pub may_manage: bool,
    }
}

wire! {
    /// A line the serving Odoo printed.
    pub struct RuntimeLogLine {
        pub id: i64,
        pub build_id: Option<Uuid>,
        pub build_number: Option<i64>,
        pub at: DateTime<Utc>,
        /// debug, info, warning or error.
        pub level: String,
        /// Odoo's logger (`odoo.http`, `odoo.addons.sale…`).
        pub logger: Option<String>,
        pub message: String,
    }

    /// Which runtime lines to read; every field narrows.
    #[derive(Default)]
    pub struct RuntimeLogQuery {
        /// The lowest level shown: debug, info, warning or error.
        #[serde(default)]
        pub level: Option<String>,
        /// Part of the logger's name.
        #[serde(default)]
        pub logger: Option<String>,
        /// Part of the message.
        #[serde(default)]
        pub text: Option<String>,
        #[serde(default)]
        pub since: Option<DateTime<Utc>>,
        #[serde(default)]
        pub until: Option<DateTime<Utc>>,
        /// Only lines after this one, oldest first (a live tail).
        #[serde(default)]
        pub after: Option<i64>,
        /// At most this many (default 500, at most 2000).
        #[serde(default)]
        pub limit: Option<i64>,
    }
}
