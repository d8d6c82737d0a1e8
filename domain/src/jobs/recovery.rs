//! Jobs whose console died: any live console takes them over. A job with
//! tries left is queued again (the kind resets its row: a build goes back to
//! `pending`); one without is closed through its kind (a build becomes `ko`
//! and its promotion moves on), in the same transaction as the job.

use super::queue::dead;
use super::Kind;
use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use sqlx::Row;
use std::time::Duration;
use uuid::Uuid;

/// Whose jobs to recover.
#[derive(Debug, Clone, Copy)]
pub enum Dead<'a> {
    /// A console known to be gone (a restart under the same name, a test).
    Worker(&'a str),
    /// Every console whose heartbeat is older than the lease.
    Stale(Duration),
}

/// What a recovery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Queued again (periodic tasks included).
    pub retried: u64,
    /// Closed: they had had their tries.
    pub closed: u64,
}

/// Recovers the running jobs of `kinds` that belong to dead consoles.
pub async fn recover(p: &Platform, whose: Dead<'_>, kinds: &[Kind]) -> anyhow::Result<Recovered> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let (filter, lease) = match whose {
        Dead::Worker(_) => ("j.worker = $2".to_owned(), 0.0),
        Dead::Stale(lease) => (format!("(j.worker IS NULL OR {})", dead("j.worker", "$3")), lease.as_secs_f64()),
    };
    let worker = match whose {
        Dead::Worker(w) => w,
        Dead::Stale(_) => "",
    };
    // SKIP LOCKED: two consoles recovering at once split the work.
    let rows = sqlx::query(&format!(
        "SELECT j.id, j.kind, j.subject, j.attempts, j.max_attempts FROM ops.jobs j
          WHERE j.state = 'running' AND j.kind = ANY($1) AND {filter}
          FOR UPDATE SKIP LOCKED"
    ))
    .bind(&names)
    .bind(worker)
    .bind(lease)
    .fetch_all(&mut *tx)
    .await?;
    let mut done = Recovered::default();
    let mut removed_backups = Vec::new();
    for r in rows {
        let (id, kind, subject): (Uuid, Kind, Option<Uuid>) =
            (r.get("id"), Kind::parse(r.get("kind")).expect("a known kind"), r.get("subject"));
        let tries_left = r.get::<i32, _>("attempts") < r.get::<i32, _>("max_attempts");
        let Some(subject) = subject else {
            // A periodic task: simply due again.
            sqlx::query("UPDATE ops.jobs SET state = 'queued', worker = NULL, run_after = now() WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            done.retried += 1;
            continue;
        };
        let retry = match kind {
            Kind::Build if tries_left => crate::builds::queue::retry_interrupted(&mut tx, subject).await?,
            Kind::Build => {
                crate::builds::queue::close_interrupted(&mut tx, subject).await?;
                false
            }
            Kind::Backup => {
                crate::backups::jobs::close_interrupted(&mut tx, subject).await?;
                removed_backups.push(subject);
                false
            }
            Kind::Drill => {
                crate::backups::drill::close_interrupted(&mut tx, subject).await?;
                false
            }
            // Every step of an operation checks what exists: run it again.
            Kind::InstanceOperation if tries_left => true,
            Kind::InstanceOperation => {
                crate::instances::run::close_interrupted(&mut tx, subject).await?;
                false
            }
            _ => false,
        };
        if retry {
            sqlx::query(
                "UPDATE ops.jobs SET state = 'queued', worker = NULL, run_after = now(),
                        last_error = 'its console stopped while it ran' WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            done.retried += 1;
        } else {
            sqlx::query(
                "UPDATE ops.jobs SET state = 'failed', finished_at = now(),
                        last_error = 'its console stopped while it ran' WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            done.closed += 1;
        }
    }
    if done.retried > 0 {
        super::channels::notify(&mut tx, super::channels::Channel::Jobs, "recovered").await?;
    }
    tx.commit().await?;
    if let Some(infra) = &p.builds {
        for id in removed_backups {
            crate::backups::jobs::remove_partial(&infra.backups, id);
        }
    }
    Ok(done)
}
