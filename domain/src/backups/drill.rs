//! Restore drills: a backup nobody has restored is a hope, not a backup. On
//! the project's `drill_cron` (monthly by default) the latest production
//! backup is restored into a scratch database and checked: the archive's
//! checksum, `manifest.json`, the checksums of `dump.sql` and the filestore
//! against OdooOps' manifest, and every table's row count against the counts
//! taken while the backup was written. The result is recorded; a failure is
//! audited and mailed to the project's admins.

use super::archive;
use crate::audit::{self, Event};
use crate::builds::infra::BuildInfra;
use crate::builds::queue::{system_actor, SYSTEM_USER};
use crate::jobs::recovery::{self, Dead};
use crate::jobs::{self, Kind};
use crate::mailer::OutgoingMail;
use crate::platform::Platform;
use crate::types::AuditAction;
use anyhow::Context;
use serde_json::{json, Value};
use sqlx::{Connection, Row};
use uuid::Uuid;

/// Takes the oldest pending drill, if any, for the console `worker`.
pub async fn claim(p: &Platform, worker: &str) -> anyhow::Result<Option<Uuid>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    loop {
        let Some(job) = jobs::queue::claim(&mut tx, worker, &[Kind::Drill], i64::MAX).await? else {
            tx.commit().await?;
            return Ok(None);
        };
        let id: Option<Uuid> = sqlx::query_scalar(
            "UPDATE ops.backup_drills SET state = 'running', worker = $2 WHERE id = $1 AND state = 'pending' RETURNING id",
        )
        .bind(job.subject)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        match id {
            Some(id) => {
                tx.commit().await?;
                return Ok(Some(id));
            }
            None => jobs::queue::done(&mut tx, job.id).await?,
        }
    }
}

/// Queues a drill now (the CLI and tests; the scheduler queues the monthly ones).
pub async fn enqueue(p: &Platform, project: Uuid) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        "INSERT INTO ops.backup_drills (id, tenant_id, project_id) SELECT $1, tenant_id, id FROM ops.projects WHERE id = $2",
    )
    .bind(id)
    .bind(project)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Drills left running by the console `worker`, which is gone, are failed.
pub async fn recover(p: &Platform, worker: &str) -> anyhow::Result<u64> {
    Ok(recovery::recover(p, Dead::Worker(worker), &[Kind::Drill]).await?.closed)
}

/// Recovery of an interrupted drill: failed (the next one is due next month, or by hand).
pub(crate) async fn close_interrupted(tx: &mut crate::db::ScopedTx, drill: Uuid) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE ops.backup_drills SET state = 'failed', finished_at = now(), error = 'the server stopped during this drill'
          WHERE id = $1 AND state = 'running'",
    )
    .bind(drill)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Runs a claimed drill and records its result. Returns whether it passed.
pub async fn run(p: &Platform, infra: &BuildInfra, drill: Uuid) -> anyhow::Result<bool> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let row = sqlx::query(
        "SELECT d.project_id, d.tenant_id, p.slug,
                (SELECT b.id FROM ops.backups b JOIN ops.environments e ON e.id = b.env_id
                  WHERE b.project_id = d.project_id AND e.stage = 'production' AND b.state = 'done' AND b.format = 'zip'
                  ORDER BY b.created_at DESC LIMIT 1) AS backup
           FROM ops.backup_drills d JOIN ops.projects p ON p.id = d.project_id WHERE d.id = $1",
    )
    .bind(drill)
    .fetch_one(&mut *tx)
    .await?;
    let backup: Option<Uuid> = row.get("backup");
    sqlx::query("UPDATE ops.backup_drills SET backup_id = $2 WHERE id = $1")
        .bind(drill)
        .bind(backup)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let (project, tenant, slug): (Uuid, Uuid, String) = (row.get("project_id"), row.get("tenant_id"), row.get("slug"));
    let result = match backup {
        None => Err(anyhow::anyhow!("production has no finished backup to restore")),
        Some(b) => check(p, infra, drill, b).await,
    };
    let (passed, report, error) = match result {
        Ok((passed, report)) => {
            let error = (!passed).then(|| "some checks failed: see the report".to_owned());
            (passed, report, error)
        }
        Err(e) => (false, json!({"checks": []}), Some(format!("{e:#}"))),
    };
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.backup_drills SET state = $2, report = $3, error = $4, finished_at = now() WHERE id = $1")
        .bind(drill)
        .bind(if passed { "passed" } else { "failed" })
        .bind(&report)
        .bind(&error)
        .execute(&mut *tx)
        .await?;
    jobs::queue::done_for(&mut tx, Kind::Drill, drill).await?;
    if passed {
        sqlx::query("UPDATE ops.backups SET verified_at = now() WHERE id = $1").bind(backup).execute(&mut *tx).await?;
    } else {
        audit::record(
            &mut tx,
            &system_actor(),
            Event {
                action: AuditAction::BackupDrillFailed,
                target: format!("drill:{drill}"),
                tenant_id: Some(tenant),
                project_id: Some(project),
                summary: json!({"backup": backup, "error": error}),
            },
        )
        .await?;
    }
    let admins: Vec<String> =
        if passed { Vec::new() } else { crate::projects::admin_emails(&mut tx, project).await.unwrap_or_default() };
    tx.commit().await?;
    if !passed {
        tracing::error!(project = %slug, drill = %drill, error = ?error, "restore drill failed");
        for to in admins {
            let mail = OutgoingMail {
                to,
                subject: format!("[OdooOps] {slug}: the restore drill of production's backup failed"),
                body: format!(
                    "The scheduled restore drill of {slug} failed: {}.\nOpen the project's Backups tab for the report.\n",
                    error.clone().unwrap_or_default()
                ),
            };
            if let Err(e) = p.mailer.send(mail).await {
                tracing::warn!(error = %format!("{e:#}"), "could not send the drill alert");
            }
        }
    }
    Ok(passed)
}

/// Restores `backup` into a scratch database and compares it with its manifest.
async fn check(p: &Platform, infra: &BuildInfra, drill: Uuid, backup: Uuid) -> anyhow::Result<(bool, Value)> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let manifest: Value =
        sqlx::query_scalar("SELECT manifest FROM ops.backups WHERE id = $1").bind(backup).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    let scratch = format!("od_{}_{}", infra.installation, &drill.simple().to_string()[..12]);
    let files = infra.backups.scratch.join(format!("drill-{}", drill.simple()));
    infra.databases.provision(&scratch, None).await?;
    let mut checks: Vec<Value> = vec![json!({"check": "archive sha256", "ok": true})];
    let outcome: anyhow::Result<()> = async {
        let loaded = super::restore::load(p, infra, backup, &scratch, &files, &|_| {}).await?;
        let parts = &manifest["parts"];
        let dump_ok = loaded.dump_sha256.as_deref() == parts["dump.sql"]["sha256"].as_str();
        checks.push(json!({"check": "dump.sql sha256", "ok": dump_ok}));
        let tree_ok = loaded.filestore_sha256.as_deref() == parts["filestore"]["sha256"].as_str();
        checks.push(json!({"check": "filestore sha256", "ok": tree_ok, "files": loaded.filestore_files}));
        let manifest_ok = loaded.odoo_manifest.as_ref().is_some_and(|m| m["odoo_dump"] == "1");
        checks.push(json!({"check": "manifest.json", "ok": manifest_ok}));
        let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(&scratch)).await?;
        if let Some(counts) = manifest["row_counts"].as_object() {
            for (table, expected) in counts {
                if !archive::plain_table_name(table) {
                    continue;
                }
                let actual: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                    .fetch_one(&mut c)
                    .await
                    .with_context(|| format!("counting {table}"))?;
                let ok = expected.as_i64() == Some(actual);
                checks.push(
                    json!({"check": format!("rows of {table}"), "ok": ok, "expected": expected, "actual": actual}),
                );
            }
        }
        c.close().await.ok();
        Ok(())
    }
    .await;
    let _ = infra.databases.drop(&scratch, &scratch).await;
    let _ = std::fs::remove_dir_all(&files);
    outcome?;
    let passed = checks.iter().all(|c| c["ok"] == true);
    Ok((passed, json!({"backup": backup, "checks": checks})))
}
