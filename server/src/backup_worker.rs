//! The backup worker of this server: takes the scheduled production backups
//! and drills when they are due, then runs queued backups and drills one at
//! a time (they are I/O bound, and builds share the machine). Woken by
//! `NOTIFY ops_backups`; the schedule is checked every half minute.

use domain::backups::{drill, jobs, schedule};
use domain::builds::infra::BuildInfra;
use domain::platform::Platform;
use std::time::Duration;

pub fn spawn(p: Platform, infra: BuildInfra) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = run(p, infra).await {
            tracing::error!(error = %format!("{e:#}"), "backup worker stopped");
        }
    })
}

async fn run(p: Platform, infra: BuildInfra) -> anyhow::Result<()> {
    let failed = jobs::recover(&p, &infra.backups, &infra.worker).await?;
    let drills = drill::recover(&p, &infra.worker).await?;
    if failed + drills > 0 {
        tracing::warn!(backups = failed, drills, "backups interrupted by the last stop were marked failed");
    }
    let mut listener = sqlx::postgres::PgListener::connect_with(p.db.anonymous()).await?;
    listener.listen("ops_backups").await?;
    loop {
        match schedule::enqueue_due(&p, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(queued = n, "scheduled backups and drills are due"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "checking the backup schedule failed"),
        }
        loop {
            match jobs::claim(&p, &infra.worker).await {
                Ok(Some(b)) => {
                    tracing::info!(backup = %b.id, env = %b.env_id, "backup started");
                    match jobs::run(&p, &infra, b.id).await {
                        Ok(()) => tracing::info!(backup = %b.id, "backup done"),
                        Err(e) => tracing::warn!(backup = %b.id, error = %format!("{e:#}"), "backup failed"),
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "claiming a backup failed"),
            }
            match drill::claim(&p, &infra.worker).await {
                Ok(Some(id)) => {
                    match drill::run(&p, &infra, id).await {
                        Ok(passed) => tracing::info!(drill = %id, passed, "restore drill finished"),
                        Err(e) => tracing::warn!(drill = %id, error = %format!("{e:#}"), "restore drill broke"),
                    }
                    continue;
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "claiming a drill failed");
                    break;
                }
            }
        }
        match tokio::time::timeout(Duration::from_secs(30), listener.recv()).await {
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(_)) if p.db.anonymous().is_closed() => return Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "backup notifications interrupted; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}
