//! One jobs subsystem for all background work: builds, backups, restore
//! drills, and the periodic tasks (polling, the backup schedule, shell
//! sweeps, the reconciler, retention). Every console process of an
//! installation runs a [`runner::Runner`] over the same `ops.jobs` table, so
//! work queued through one console runs on whichever has room.
//!
//! - Claims use `FOR UPDATE SKIP LOCKED`: two consoles never take the same
//!   job and never wait on each other. `NOTIFY ops_jobs` wakes them.
//! - Each console beats in `ops.consoles`; a console whose beat is older than
//!   the lease is dead, and another console retries its jobs (or closes them
//!   when they had their tries), through the kind's own recovery.
//! - A job is finished in the **same transaction** as its effects: a build is
//!   closed, its promotion advanced and its job marked done at one commit
//!   ([`crate::builds::queue::finish`]), so no crash can strand a promotion.
//! - A periodic task is one row that cycles queued → running → queued: only
//!   one console runs it at a time.

pub mod channels;
pub mod queue;
pub mod recovery;
pub mod runner;

use std::time::Duration;

/// What a job does. The names are stored (`ops.jobs.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Build,
    Backup,
    Drill,
    Poll,
    BackupSchedule,
    ShellSweep,
    Reconcile,
    Retention,
    /// An operation on a tenant instance (its subject).
    InstanceOperation,
    /// Mirrors and reads the module catalog's sources that are due.
    CatalogRefresh,
    /// Sends due webhook deliveries (woken when an event is queued).
    WebhookDelivery,
    /// Stops (and after three overruns in a day disables) serving environments' crons past their limit.
    CronWatch,
    /// Probes every serving environment, reads its counters, writes a sample and evaluates the alert rules.
    Monitor,
    /// Rolls monitoring samples up into 5-minute buckets and prunes what is past its retention.
    MonitorRollup,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Build,
        Kind::Backup,
        Kind::Drill,
        Kind::Poll,
        Kind::BackupSchedule,
        Kind::ShellSweep,
        Kind::Reconcile,
        Kind::Retention,
        Kind::InstanceOperation,
        Kind::CatalogRefresh,
        Kind::WebhookDelivery,
        Kind::CronWatch,
        Kind::Monitor,
        Kind::MonitorRollup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Build => "build",
            Kind::Backup => "backup",
            Kind::Drill => "drill",
            Kind::Poll => "poll",
            Kind::BackupSchedule => "backup_schedule",
            Kind::ShellSweep => "shell_sweep",
            Kind::Reconcile => "reconcile",
            Kind::Retention => "retention",
            Kind::InstanceOperation => "instance_operation",
            Kind::CatalogRefresh => "catalog_refresh",
            Kind::WebhookDelivery => "webhook_delivery",
            Kind::CronWatch => "cron_watch",
            Kind::Monitor => "monitor",
            Kind::MonitorRollup => "monitor_rollup",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How often a periodic task runs; `None` for work on a subject.
    pub fn period(self) -> Option<Duration> {
        match self {
            Kind::Build | Kind::Backup | Kind::Drill | Kind::InstanceOperation => None,
            Kind::Poll => Some(Duration::from_secs(10)),
            Kind::BackupSchedule => Some(Duration::from_secs(30)),
            Kind::ShellSweep => Some(Duration::from_secs(60)),
            Kind::Reconcile => Some(Duration::from_secs(300)),
            Kind::Retention => Some(Duration::from_secs(3600)),
            // Sources are read every six hours or when someone asks (which wakes it).
            Kind::CatalogRefresh => Some(Duration::from_secs(600)),
            // Events wake it; the period catches retries coming due.
            Kind::WebhookDelivery => Some(Duration::from_secs(5)),
            Kind::CronWatch => Some(Duration::from_secs(15)),
            Kind::Monitor => Some(Duration::from_secs(30)),
            Kind::MonitorRollup => Some(Duration::from_secs(300)),
        }
    }

    /// Whether it needs the build infrastructure (a container engine, build databases).
    pub fn needs_builds(self) -> bool {
        !matches!(self, Kind::ShellSweep | Kind::Retention | Kind::WebhookDelivery | Kind::MonitorRollup)
    }
}

/// The wait before try `attempt + 1` of a job whose run failed: 2, 4, 8 … s, at most 5 min.
pub fn backoff(attempt: i32) -> Duration {
    Duration::from_secs(1u64 << attempt.clamp(1, 8) as u32).min(Duration::from_secs(300))
}

/// This process's name as a console: host, process id and a random part
/// (a restarted process with a reused pid is still another console).
pub fn console_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let host = if host.is_empty() { "localhost".to_owned() } else { host };
    let nonce = &uuid::Uuid::new_v4().simple().to_string()[..6];
    format!("{host}-{}-{nonce}", std::process::id())
}

/// Test hooks that make this process die at a named point (debug builds
/// only): `ODOOOPS_FAILPOINTS=build.finished` aborts between closing a
/// promotion's build and advancing the promotion, inside their transaction.
pub fn failpoint(name: &str) {
    if cfg!(debug_assertions)
        && std::env::var("ODOOOPS_FAILPOINTS").is_ok_and(|v| v.split(',').any(|f| f.trim() == name))
    {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_periodic_ones_have_a_period() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(
                k.period().is_none(),
                matches!(k, Kind::Build | Kind::Backup | Kind::Drill | Kind::InstanceOperation)
            );
        }
        assert_eq!(Kind::parse("nope"), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(30), Duration::from_secs(256));
        assert!(backoff(0) >= Duration::from_secs(2));
    }

    #[test]
    fn console_names_differ_per_call() {
        assert_ne!(console_name(), console_name());
    }
}
