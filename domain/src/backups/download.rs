//! Downloads of backups: the stored Odoo zip as it is, a copy without the
//! filestore, or a neutralized copy for use outside production (restored into
//! a scratch database, scrubbed with the project's own rules, verified and
//! zipped again). Every download is audited.

use super::archive::{self, WriteSpec};
use super::store::LocalCopy;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use uuid::Uuid;

/// A stored archive for download: the whole zip, or a copy without the filestore. Audited.
pub async fn archive(p: &Platform, actor: &Actor, id: Uuid, with_filestore: bool) -> DomainResult<(LocalCopy, String)> {
    let d = authorize_download(p, actor, id, json!({"filestore": with_filestore})).await?;
    let infra = p.builds.as_ref().ok_or_else(not_configured)?;
    let (key, format, stem) = (d.key, d.format, d.stem);
    let copy = infra.backups.store.fetch(&key, &infra.backups.scratch).await?;
    if with_filestore || format != "zip" {
        let ext = if format == "zip" { "zip" } else { "dump" };
        return Ok((copy, format!("{stem}.{ext}")));
    }
    let out = infra.backups.scratch.join(format!("download-{}.zip", Uuid::new_v4().simple()));
    let (src, dest) = (copy.path.clone(), out.clone());
    tokio::task::spawn_blocking(move || archive::without_filestore(&src, &dest))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))??;
    Ok((LocalCopy::temporary(out), format!("{stem}_no-filestore.zip")))
}

/// A backup as a neutralized Odoo zip, for use outside production: restored
/// into a scratch database, neutralized with the project's own statements and
/// secret patterns (verified), and dumped again. Audited like any download.
pub async fn neutralized(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<(LocalCopy, String)> {
    let d = authorize_download(p, actor, id, json!({"neutralized": true})).await?;
    let infra = p.builds.as_ref().ok_or_else(not_configured)?;
    let scratch = format!("od_{}_n{}", infra.installation, &Uuid::new_v4().simple().to_string()[..12]);
    let files = infra.backups.scratch.join(&scratch);
    let out = infra.backups.scratch.join(format!("download-{}.zip", Uuid::new_v4().simple()));
    let made: anyhow::Result<()> = async {
        infra.databases.provision(&scratch, None).await?;
        super::restore::load(p, infra, id, &scratch, &files, &|_| {}).await?;
        let extra = crate::builds::neutralize::Extra {
            sql: d.neutralize_sql.clone(),
            secret_patterns: d.secret_patterns.clone(),
        };
        crate::builds::neutralize::neutralize(infra.databases.owner_options(&scratch), None, &extra).await?;
        let odoo_manifest = super::jobs::odoo_manifest(infra, &scratch).await?;
        let bin = crate::db::embedded::find_bin_dir()?;
        let mut pg_dump = std::process::Command::new(bin.join("pg_dump"));
        pg_dump.args(["--no-owner", "--no-acl", "--format=plain"]).envs(infra.databases.owner_env(&scratch));
        let spec = WriteSpec {
            out: out.clone(),
            pg_dump,
            filestore: Some(files.clone()),
            odoo_manifest,
            extras: Vec::new(),
            about: json!({"neutralized": true, "from_backup": id}),
            progress: Arc::new(AtomicU64::new(0)),
        };
        tokio::task::spawn_blocking(move || archive::write(spec)).await??;
        Ok(())
    }
    .await;
    let _ = infra.databases.drop(&scratch, &scratch).await;
    let _ = std::fs::remove_dir_all(&files);
    if let Err(e) = made {
        let _ = std::fs::remove_file(&out);
        return Err(e.context("neutralizing the backup").into());
    }
    Ok((LocalCopy::temporary(out), format!("{}_neutralized.zip", d.stem)))
}

fn not_configured() -> DomainError {
    DomainError::Unavailable("backups are not configured".into())
}

/// What a permitted download needs: where the archive is, its format, a file
/// name stem, and the project's scrubbing.
struct Download {
    key: String,
    format: String,
    stem: String,
    neutralize_sql: String,
    secret_patterns: Vec<String>,
}

/// Checks the caller may read the backup (row-level security, on the stage
/// the backup was taken at) and that it has an archive, and audits the
/// download with `summary`. Nothing about the installation is told to someone
/// who may not see the backup.
async fn authorize_download(
    p: &Platform,
    actor: &Actor,
    id: Uuid,
    summary: serde_json::Value,
) -> DomainResult<Download> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(
        "SELECT b.tenant_id, b.project_id, b.state, b.storage_key, b.format, b.created_at, p.slug, e.branch,
                p.neutralize_sql, p.secret_patterns
           FROM ops.backups b JOIN ops.projects p ON p.id = b.project_id JOIN ops.environments e ON e.id = b.env_id
          WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("backup"))?;
    let Some(key) = row.get::<Option<String>, _>("storage_key").filter(|_| row.get::<String, _>("state") == "done")
    else {
        return Err(DomainError::Conflict("this backup has no archive to download".into()));
    };
    if p.builds.is_none() {
        return Err(not_configured());
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BackupDownload,
            target: format!("backup:{id}"),
            tenant_id: Some(row.get("tenant_id")),
            project_id: Some(row.get("project_id")),
            summary,
        },
    )
    .await?;
    tx.commit().await?;
    let created: DateTime<Utc> = row.get("created_at");
    Ok(Download {
        key,
        format: row.get("format"),
        stem: format!(
            "{}_{}_{}",
            row.get::<String, _>("slug"),
            row.get::<String, _>("branch").replace('/', "-"),
            created.format("%Y-%m-%d_%H-%M-%S")
        ),
        neutralize_sql: row.get("neutralize_sql"),
        secret_patterns: row.get("secret_patterns"),
    })
}
