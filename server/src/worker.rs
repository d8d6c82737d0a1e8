//! The build worker of this server: claims pending builds (up to the
//! concurrency limit), runs their pipelines, and stops them when killed.
//! Woken by `NOTIFY ops_builds` / `ops_build_kill`, with a slow poll as a
//! safety net; the reconciler runs at start and every few minutes.

use domain::builds::infra::BuildInfra;
use domain::builds::{lifecycle, pipeline, queue};
use domain::platform::Platform;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use uuid::Uuid;

type Kills = Arc<Mutex<HashMap<Uuid, watch::Sender<bool>>>>;

/// Starts the worker; it runs until the process ends.
pub fn spawn(p: Platform) -> Option<tokio::task::JoinHandle<()>> {
    let infra = p.builds.clone()?;
    crate::backup_worker::spawn(p.clone(), infra.clone());
    Some(tokio::spawn(async move {
        if let Err(e) = run(p, infra).await {
            tracing::error!(error = %format!("{e:#}"), "build worker stopped");
        }
    }))
}

async fn run(p: Platform, infra: BuildInfra) -> anyhow::Result<()> {
    let (retried, closed) = queue::recover(&p, &infra.worker).await?;
    if retried + closed > 0 {
        tracing::info!(retried, closed, "builds interrupted by the last stop");
    }
    reconcile(&p, &infra).await;
    let mut listener = sqlx::postgres::PgListener::connect_with(p.db.anonymous()).await?;
    listener.listen_all(["ops_builds", "ops_build_kill"]).await?;
    let permits = Arc::new(Semaphore::new(infra.max_concurrent.max(1)));
    let kills: Kills = Arc::default();
    let mut last_reconcile = Instant::now();
    let mut poller: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        while let Ok(permit) = permits.clone().try_acquire_owned() {
            match queue::claim(&p, &infra.worker).await {
                Ok(Some(build)) => {
                    let (tx, rx) = watch::channel(false);
                    kills.lock().expect("kills lock").insert(build.id, tx);
                    let (p, infra, kills) = (p.clone(), infra.clone(), kills.clone());
                    tokio::spawn(async move {
                        tracing::info!(build = %build.id, branch = %build.branch, "build started");
                        let outcome = pipeline::run(&p, &infra, &build, rx).await;
                        if let Err(e) = queue::finish(&p, build.id, outcome.result, outcome.reason.as_deref()).await {
                            tracing::error!(build = %build.id, error = %e, "could not record the build's end");
                        }
                        tracing::info!(build = %build.id, result = outcome.result, "build finished");
                        if let Err(e) = domain::promotions::after_build(&p, build.id).await {
                            tracing::error!(build = %build.id, error = %format!("{e:#}"), "could not move its promotion on");
                        }
                        kills.lock().expect("kills lock").remove(&build.id);
                        drop(permit);
                    });
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a build failed");
                    break;
                }
            }
        }
        signal_kills(&p, &infra, &kills).await;
        if poller.as_ref().is_none_or(|h| h.is_finished()) {
            // Polling runs beside the claim loop: a remote that never answers delays nothing here.
            let p = p.clone();
            poller = Some(tokio::spawn(async move {
                match domain::builds::poll::poll_due(&p).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(queued = n, "polling found new commits"),
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "polling failed"),
                }
            }));
        }
        if last_reconcile.elapsed() > Duration::from_secs(300) {
            reconcile(&p, &infra).await;
            last_reconcile = Instant::now();
        }
        // A finished build frees a permit without a notification: poll briskly while busy.
        let wait = if permits.available_permits() < infra.max_concurrent {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(10)
        };
        match tokio::time::timeout(wait, listener.recv()).await {
            Ok(Ok(n)) if n.payload() == "reconcile" => {
                reconcile(&p, &infra).await;
                last_reconcile = Instant::now();
            }
            Ok(Ok(_)) | Err(_) => {}
            // The server is shutting down: stop, rather than spin on a closed pool.
            Ok(Err(_)) if p.db.anonymous().is_closed() => return Ok(()),
            // The listener lost its connection: wait before trying again.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "build notifications interrupted; retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Builds of this worker whose kill was requested get their signal.
async fn signal_kills(p: &Platform, infra: &BuildInfra, kills: &Kills) {
    let ids: Vec<Uuid> = match p.db.begin_as(queue::SYSTEM_USER).await {
        Ok(mut tx) => {
            let ids = sqlx::query_scalar(
                "SELECT id FROM ops.builds WHERE state = 'running' AND worker = $1 AND kill_requested",
            )
            .bind(&infra.worker)
            .fetch_all(&mut *tx)
            .await
            .unwrap_or_default();
            let _ = tx.commit().await;
            ids
        }
        Err(_) => return,
    };
    let map = kills.lock().expect("kills lock");
    for id in ids {
        if let Some(tx) = map.get(&id) {
            let _ = tx.send(true);
        }
    }
}

async fn reconcile(p: &Platform, infra: &BuildInfra) {
    match lifecycle::reconcile(p, infra).await {
        Ok(r) if r != lifecycle::Reconciled::default() => tracing::info!(?r, "reconciled build resources"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "reconciling build resources failed"),
    }
}
