//! The runner every console starts: it beats, recovers the jobs of dead
//! consoles, and claims work into three queues, each with its own limit —
//! builds (the build concurrency, shared fairly between tenants), backups and
//! drills (one at a time: they are I/O bound and share the machine with
//! builds), and the periodic tasks. Woken by `NOTIFY ops_jobs`, with a slow
//! poll as a safety net.

use super::channels::Channel;
use super::queue::{self, Job};
use super::recovery::{self, Dead};
use super::Kind;
use crate::builds::infra::BuildInfra;
use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;
use uuid::Uuid;

type Kills = Arc<Mutex<HashMap<Uuid, watch::Sender<bool>>>>;

/// A console's job runner.
#[derive(Clone)]
pub struct Runner {
    p: Platform,
    builds: Arc<Semaphore>,
    backups: Arc<Semaphore>,
    periodic: Arc<Semaphore>,
    kills: Kills,
}

impl Runner {
    pub fn new(p: Platform) -> Runner {
        let builds = p.builds.as_ref().map_or(0, |b| b.max_concurrent.max(1));
        let backups = usize::from(p.builds.is_some());
        Runner {
            p,
            builds: Arc::new(Semaphore::new(builds)),
            backups: Arc::new(Semaphore::new(backups)),
            periodic: Arc::new(Semaphore::new(4)),
            kills: Arc::default(),
        }
    }

    /// The periodic tasks this console can run (without build infrastructure: only housekeeping).
    fn periodic_kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| k.period().is_some() && (self.p.builds.is_some() || !k.needs_builds()))
            .collect()
    }

    /// Starts the runner; it runs until the process ends (or its database closes).
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let span = tracing::info_span!("runner", console = %self.p.console());
        tokio::spawn(
            async move {
                if let Err(e) = self.run().await {
                    tracing::error!(error = %format!("{e:#}"), "job runner stopped");
                }
            }
            .instrument(span),
        )
    }

    async fn run(self) -> anyhow::Result<()> {
        let p = self.p.clone();
        queue::register(&p, p.console()).await?;
        queue::seed_periodic(&p, &self.periodic_kinds()).await?;
        tokio::spawn(heartbeat(p.clone()).in_current_span());
        let mut listener = sqlx::postgres::PgListener::connect_with(p.db.anonymous()).await?;
        listener.listen_all([Channel::Jobs.as_str(), Channel::BuildKill.as_str()]).await?;
        loop {
            self.claim_all().await;
            self.signal_kills().await;
            let busy = self.builds.available_permits() < p.builds.as_ref().map_or(0, |b| b.max_concurrent.max(1));
            let wait = self.until_next_due(busy).await;
            match tokio::time::timeout(wait, listener.recv()).await {
                Ok(Ok(n)) if n.channel() == Channel::Jobs.as_str() && n.payload() == "reconcile" => {
                    if let Err(e) = queue::wake(&p, Kind::Reconcile).await {
                        tracing::warn!(error = %e, "could not bring the reconciler forward");
                    }
                }
                Ok(Ok(_)) | Err(_) => {}
                // The server is shutting down: stop, rather than spin on a closed pool.
                Ok(Err(_)) if p.db.anonymous().is_closed() => return Ok(()),
                // The listener lost its connection: wait before trying again.
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "job notifications interrupted; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// How long to sleep: until the next periodic task is due, briskly while
    /// builds run (a finished one frees a slot without a notification), at most 10 s.
    async fn until_next_due(&self, busy: bool) -> Duration {
        let cap = if busy { Duration::from_secs(1) } else { Duration::from_secs(10) };
        match queue::next_due(&self.p, &Kind::ALL).await {
            Ok(Some(at)) => {
                (at - chrono::Utc::now()).to_std().unwrap_or_default().clamp(Duration::from_millis(50), cap)
            }
            _ => cap,
        }
    }

    async fn claim_all(&self) {
        let Some(infra) = self.p.builds.clone() else {
            self.claim_periodic().await;
            return;
        };
        while let Ok(permit) = self.builds.clone().try_acquire_owned() {
            match crate::builds::queue::claim(&self.p, self.p.console()).await {
                Ok(Some(build)) => self.start_build(&infra, build, permit),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a build failed");
                    break;
                }
            }
        }
        while let Ok(permit) = self.backups.clone().try_acquire_owned() {
            match self.claim_backup_or_drill().await {
                Ok(Some(work)) => {
                    let (p, infra) = (self.p.clone(), infra.clone());
                    tokio::spawn(async move {
                        work.run(&p, &infra).await;
                        drop(permit);
                    });
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "claiming a backup or drill failed");
                    break;
                }
            }
        }
        self.claim_periodic().await;
    }

    fn start_build(&self, infra: &BuildInfra, build: crate::builds::queue::Claimed, permit: OwnedSemaphorePermit) {
        let (tx, rx) = watch::channel(false);
        self.kills.lock().expect("kills lock").insert(build.id, tx);
        let (p, infra, kills) = (self.p.clone(), infra.clone(), self.kills.clone());
        let span = tracing::info_span!("job", kind = "build", build = %build.id, branch = %build.branch);
        tokio::spawn(
            async move {
                tracing::info!(attempt = build.attempts, "build started");
                let outcome = crate::builds::pipeline::run(&p, &infra, &build, rx).await;
                match crate::builds::queue::finish(&p, build.id, outcome.result, outcome.reason.as_deref()).await {
                    Ok(_) => {
                        tracing::info!(result = outcome.result, "build finished");
                        // An instance's build: what it uses of its plan now.
                        crate::instances::quota::after_build(&p, &infra, build.id).await;
                    }
                    // Its job stays running: when this console is gone, another closes it.
                    Err(e) => tracing::error!(error = %e, "could not record the build's end"),
                }
                kills.lock().expect("kills lock").remove(&build.id);
                drop(permit);
            }
            .instrument(span),
        );
    }

    async fn claim_backup_or_drill(&self) -> anyhow::Result<Option<Queued>> {
        if let Some(op) = crate::instances::run::claim(&self.p, self.p.console()).await? {
            return Ok(Some(Queued::Instance(op)));
        }
        if let Some(b) = crate::backups::jobs::claim(&self.p, self.p.console()).await? {
            return Ok(Some(Queued::Backup(b.id)));
        }
        Ok(crate::backups::drill::claim(&self.p, self.p.console()).await?.map(Queued::Drill))
    }

    async fn claim_periodic(&self) {
        let kinds = self.periodic_kinds();
        while let Ok(permit) = self.periodic.clone().try_acquire_owned() {
            let claimed = async {
                let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
                let job = queue::claim(&mut tx, self.p.console(), &kinds, i64::MAX).await?;
                tx.commit().await?;
                anyhow::Ok(job)
            }
            .await;
            match claimed {
                Ok(Some(job)) => {
                    let p = self.p.clone();
                    let span = tracing::info_span!("job", kind = job.kind.as_str(), job = %job.id);
                    tokio::spawn(
                        async move {
                            periodic(&p, &job).await;
                            drop(permit);
                        }
                        .instrument(span),
                    );
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "claiming a periodic task failed");
                    break;
                }
            }
        }
    }

    /// Builds of this console whose kill was requested get their signal.
    async fn signal_kills(&self) {
        if self.kills.lock().expect("kills lock").is_empty() {
            return;
        }
        let ids: Vec<Uuid> = match self.p.db.begin_as(SYSTEM_USER).await {
            Ok(mut tx) => {
                let ids = sqlx::query_scalar(
                    "SELECT id FROM ops.builds WHERE state = 'running' AND worker = $1 AND kill_requested",
                )
                .bind(self.p.console())
                .fetch_all(&mut *tx)
                .await
                .unwrap_or_default();
                let _ = tx.commit().await;
                ids
            }
            Err(_) => return,
        };
        let map = self.kills.lock().expect("kills lock");
        for id in ids {
            if let Some(tx) = map.get(&id) {
                let _ = tx.send(true);
            }
        }
    }
}

/// A claimed backup or drill.
enum Queued {
    Backup(Uuid),
    Drill(Uuid),
    Instance(crate::instances::run::Claimed),
}

impl Queued {
    async fn run(self, p: &Platform, infra: &BuildInfra) {
        match self {
            Queued::Backup(id) => {
                let span = tracing::info_span!("job", kind = "backup", backup = %id);
                async {
                    tracing::info!("backup started");
                    match crate::backups::jobs::run(p, infra, id).await {
                        Ok(()) => tracing::info!("backup done"),
                        Err(e) => tracing::warn!(error = %format!("{e:#}"), "backup failed"),
                    }
                }
                .instrument(span)
                .await
            }
            Queued::Instance(op) => {
                let span = tracing::info_span!("job", kind = "instance_operation", operation = %op.operation);
                crate::instances::run::run(p, infra, &op).instrument(span).await
            }
            Queued::Drill(id) => {
                let span = tracing::info_span!("job", kind = "drill", drill = %id);
                async {
                    match crate::backups::drill::run(p, infra, id).await {
                        Ok(passed) => tracing::info!(passed, "restore drill finished"),
                        Err(e) => tracing::warn!(error = %format!("{e:#}"), "restore drill broke"),
                    }
                }
                .instrument(span)
                .await
            }
        }
    }
}

/// Runs one periodic task, then puts it back for its next turn.
async fn periodic(p: &Platform, job: &Job) {
    let ran: anyhow::Result<()> = async {
        match job.kind {
            Kind::Poll => match crate::builds::poll::poll_due(p).await? {
                0 => {}
                n => tracing::info!(queued = n, "polling found new commits"),
            },
            Kind::BackupSchedule => match crate::backups::schedule::enqueue_due(p, chrono::Utc::now()).await? {
                0 => {}
                n => tracing::info!(queued = n, "scheduled backups and drills are due"),
            },
            Kind::ShellSweep => match crate::shell::sessions::sweep(p).await? {
                0 => {}
                n => tracing::info!(closed = n, "shell sessions swept"),
            },
            Kind::Reconcile => {
                if let Some(infra) = &p.builds {
                    let r = crate::builds::lifecycle::reconcile(p, infra).await?;
                    if r != crate::builds::lifecycle::Reconciled::default() {
                        tracing::info!(?r, "reconciled build resources");
                    }
                }
            }
            Kind::Retention => {
                queue::retention(p).await?;
            }
            Kind::CatalogRefresh => {
                if let Some(infra) = &p.builds {
                    match crate::catalog::refresh::run_due(p, infra).await? {
                        0 => {}
                        n => tracing::info!(sources = n, "catalog sources refreshed"),
                    }
                }
            }
            Kind::CronWatch => {
                if let Some(infra) = &p.builds {
                    let w = crate::preflight::cron::watch(p, infra).await?;
                    if w.stopped > 0 {
                        tracing::info!(stopped = w.stopped, disabled = w.disabled, "crons past their limit stopped");
                    }
                }
            }
            Kind::WebhookDelivery => {
                match crate::automation::deliver::run_due(p).await? {
                    0 => {}
                    n => tracing::debug!(tried = n, "webhook deliveries sent"),
                }
                // Alert notices ride the same job: both are outbound deliveries with retries.
                match crate::alerts::deliver::run_due(p).await? {
                    0 => {}
                    n => tracing::debug!(tried = n, "alert notices sent"),
                }
            }
            Kind::Monitor => {
                if let Some(infra) = &p.builds {
                    let pass = crate::monitoring::pass(p, infra).await?;
                    if pass.changes > 0 || pass.alerts != crate::alerts::Evaluated::default() {
                        tracing::info!(?pass, "monitoring pass");
                    }
                }
            }
            Kind::MonitorRollup => {
                let (buckets, pruned) = crate::monitoring::store::rollup_and_prune(p).await?;
                tracing::debug!(buckets, pruned, "monitoring rolled up");
            }
            Kind::Build | Kind::Backup | Kind::Drill | Kind::InstanceOperation => {}
        }
        Ok(())
    }
    .await;
    let put_back = match ran {
        Ok(()) => queue::reschedule(p, job).await.map_err(anyhow::Error::from),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "periodic task failed; retried after a backoff");
            queue::failed(p, job, &format!("{e:#}")).await.map(|_| ())
        }
    };
    if let Err(e) = put_back {
        tracing::warn!(error = %format!("{e:#}"), "could not put a periodic task back");
    }
}

/// Beats for this console, and takes over the jobs of consoles that stopped beating.
async fn heartbeat(p: Platform) {
    let lease = p.settings.jobs.lease;
    loop {
        if p.db.anonymous().is_closed() {
            return;
        }
        if let Err(e) = queue::beat(&p, p.console()).await {
            tracing::warn!(error = %e, "console heartbeat failed");
        }
        match recovery::recover(&p, Dead::Stale(lease), &Kind::ALL).await {
            Ok(r) if r != recovery::Recovered::default() => {
                tracing::warn!(retried = r.retried, closed = r.closed, "took over the jobs of a stopped console")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "recovering jobs failed"),
        }
        tokio::time::sleep(p.settings.jobs.beat()).await;
    }
}
