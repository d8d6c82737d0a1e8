//! Restores and imports. Asking for a restore queues a build of the target
//! environment, at the commit it serves, whose database phase calls [`load`]
//! instead of copying production: the archive's checksum is verified before
//! anything is touched, the data goes into a new database, and the serving
//! build is only replaced once the new one is healthy. A failed restore
//! therefore leaves the target as it was.
//!
//! An archive is the tenant's and hostile: it is loaded over a login as the
//! new database's own role (never the admin), a plain `dump.sql` through psql
//! in restricted mode (see [`super::restricted`]) so no meta-command in it
//! runs on this host, a custom-format dump through `pg_restore`, which sends
//! only SQL.
//!
//! Production is the dangerous case: project admins only, the project's name
//! typed to confirm, the approval of someone else when the project requires
//! approval for production ([`super::approvals`]), and the build takes a
//! pre-restore backup first.

use super::archive::{self, Format};
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::builds::infra::BuildInfra;
use crate::builds::queue::{self, NewBuild, SYSTEM_USER};
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::{Capability, Stage};
use crate::wire::{BackupView, RestoreQueued};
use anyhow::{bail, Context};
use serde_json::json;
use sqlx::Row;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use uuid::Uuid;

/// Queues the restore of `backup` into `target` (the restoring build); on the
/// production of a project requiring approval, asks for it instead.
pub async fn request(
    p: &Platform,
    actor: &Actor,
    backup: Uuid,
    target: Uuid,
    confirm: Option<&str>,
) -> DomainResult<RestoreQueued> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let b = sqlx::query("SELECT project_id, env_id, state, kind FROM ops.backups WHERE id = $1")
        .bind(backup)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("backup"))?;
    if b.get::<String, _>("state") != "done" {
        return Err(DomainError::Conflict("only a finished backup can be restored".into()));
    }
    let t = sqlx::query(concat!(
        "SELECT e.tenant_id, e.project_id, e.branch, e.stage, p.slug, p.name, p.production_requires_approval, ",
        crate::access::columns!("e.project_id"),
        " FROM ops.environments e JOIN ops.projects p ON p.id = e.project_id
          WHERE e.id = $1 AND e.deleted_at IS NULL"
    ))
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("environment"))?;
    let project: Uuid = t.get("project_id");
    if project != b.get::<Uuid, _>("project_id") {
        return Err(DomainError::Invalid("a backup is restored within its own project".into()));
    }
    let stage: Stage = crate::db::vocabulary(&t, "stage")?;
    // Restoring is the backups tool on production and staging; on development,
    // where every member rebuilds, it is the rebuild tool.
    let tool = if stage == Stage::Development { Capability::Upgrade } else { Capability::Backups };
    crate::access::Access::from_row(&t).require(stage, tool, "restoring a backup")?;
    if stage == Stage::Production {
        if b.get::<Uuid, _>("env_id") != target {
            return Err(DomainError::Invalid("production is restored from its own backups only".into()));
        }
        let (slug, name): (String, String) = (t.get("slug"), t.get("name"));
        let typed = confirm.map(str::trim).unwrap_or_default();
        if typed != slug && typed != name {
            return Err(DomainError::Invalid(format!(
                "type the project's name ({name}) to confirm: production will be replaced by this backup"
            )));
        }
    }
    let (branch, tenant): (String, Uuid) = (t.get("branch"), t.get("tenant_id"));
    if stage == Stage::Production && t.get::<bool, _>("production_requires_approval") {
        let id = super::approvals::ask(&mut tx, actor, tenant, project, target, backup).await?;
        tx.commit().await?;
        return Ok(RestoreQueued { build_id: None, backup_id: backup, approval_request: Some(id) });
    }
    let build = queue_restore(
        &mut tx,
        actor,
        Target { tenant, project, env: target, branch: &branch, stage: stage.as_str() },
        backup,
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: if stage == Stage::Production {
                AuditAction::BackupRestoreProduction
            } else {
                AuditAction::BackupRestore
            },
            target: format!("env:{target}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"backup": backup, "build": build, "stage": stage, "kind": b.get::<String, _>("kind")}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(RestoreQueued { build_id: Some(build), backup_id: backup, approval_request: None })
}

/// The environment a restore goes to.
pub(super) struct Target<'a> {
    pub tenant: Uuid,
    pub project: Uuid,
    pub env: Uuid,
    pub branch: &'a str,
    pub stage: &'a str,
}

/// Queues the build that restores `backup` into `target`, at the commit the
/// branch serves, inside the caller's transaction (which audits).
pub(super) async fn queue_restore(
    tx: &mut ScopedTx,
    actor: &Actor,
    target: Target<'_>,
    backup: Uuid,
) -> DomainResult<Uuid> {
    let last =
        sqlx::query("SELECT commit_sha FROM ops.builds WHERE env_id = $1 ORDER BY created_at DESC, seq DESC LIMIT 1")
            .bind(target.env)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| {
                DomainError::Conflict("this branch has never been built: push it once, then restore".into())
            })?;
    let sha: String = last.get("commit_sha");
    let build = queue::enqueue(
        tx,
        NewBuild {
            tenant_id: target.tenant,
            project_id: target.project,
            env_id: target.env,
            branch: target.branch,
            stage: target.stage,
            commit_sha: &sha,
            subject: &format!("restore of backup {}", &backup.to_string()[..8]),
            author: &actor.email,
            source: crate::builds::pipeline::plan::Source::Restore { backup },
        },
    )
    .await?;
    Ok(build)
}

/// An import the caller may make, checked from the request's path before any
/// byte of the upload is read. It holds one of the tenant's upload slots
/// until the upload is stored or abandoned.
#[derive(Debug)]
pub struct ImportTicket {
    target: Uuid,
    _slot: super::uploads::UploadSlot,
}

/// Whether the caller may import into `target`: the environment is visible
/// (`NotFound` otherwise), not production, and their role may restore its
/// stage (`upgrade`: staging for admins and testers, development for every
/// member); then takes an upload slot of the tenant (`Busy` when all are taken).
pub async fn authorize_import(p: &Platform, actor: &Actor, target: Uuid) -> DomainResult<ImportTicket> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let e = import_target(&mut tx, target).await?;
    tx.commit().await?;
    let infra = p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are not configured".into()))?;
    let slot = infra.backups.uploads.try_take(e.access.tenant_id).ok_or_else(|| {
        DomainError::Busy(format!(
            "your organisation already has {} imports uploading; try again when one has finished",
            super::uploads::PER_TENANT
        ))
    })?;
    Ok(ImportTicket { target, _slot: slot })
}

async fn import_target(tx: &mut ScopedTx, target: Uuid) -> DomainResult<crate::access::EnvAccess> {
    let e = crate::access::environment(tx, target).await?;
    if e.stage == Stage::Production {
        return Err(DomainError::Denied(
            "imports go to staging or development; promote from there to reach production".into(),
        ));
    }
    e.access.require(e.stage, Capability::Upgrade, "importing a backup")?;
    Ok(e)
}

/// Stores an uploaded archive (checked first) as an `import` backup of the
/// ticket's staging or development environment and queues its restore there,
/// in one transaction with one audit event. The caller's rights are checked
/// again: an upload can take long enough for them to change.
pub async fn import(
    p: &Platform,
    actor: &Actor,
    ticket: ImportTicket,
    upload: &Path,
) -> DomainResult<(BackupView, Uuid)> {
    let infra = p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are not configured".into()))?;
    let target = ticket.target;
    let limits = infra.backups.limits;
    let path = upload.to_path_buf();
    let inspected = tokio::task::spawn_blocking(move || archive::inspect(&path, &limits))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map_err(DomainError::Invalid)?;
    let up = upload.to_path_buf();
    let sha =
        tokio::task::spawn_blocking(move || archive::sha256_file(&up)).await.map_err(|e| anyhow::anyhow!("{e}"))??;
    let size = std::fs::metadata(upload).context("reading the upload's size")?.len();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let e = import_target(&mut tx, target).await?;
    let (tenant, project) = (e.access.tenant_id, e.access.project_id);
    let branch: String = sqlx::query_scalar("SELECT branch FROM ops.environments WHERE id = $1")
        .bind(target)
        .fetch_one(&mut *tx)
        .await?;
    let id = Uuid::new_v4();
    let key = format!("{project}/{target}/{id}.{}", inspected.format.as_str());
    infra.backups.store.put(&key, upload).await?;
    let manifest = json!({
        "imported": true,
        "odoo_manifest": inspected.odoo_manifest,
        "parts": {"filestore": {"files": inspected.filestore_files}},
    });
    let stored: DomainResult<Uuid> = async {
        sqlx::query(
            "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, state, format, storage_key, size_bytes,
                                      sha256, manifest, requested_by, started_at, finished_at)
             VALUES ($1, $2, $3, $4, 'import', 'done', $5, $6, $7, $8, $9, $10, now(), now())",
        )
        .bind(id)
        .bind(tenant)
        .bind(project)
        .bind(target)
        .bind(inspected.format.as_str())
        .bind(&key)
        .bind(size as i64)
        .bind(&sha)
        .bind(&manifest)
        .bind(actor.user_id.0)
        .execute(&mut *tx)
        .await?;
        let stage = e.stage.as_str();
        let build =
            queue_restore(&mut tx, actor, Target { tenant, project, env: target, branch: &branch, stage }, id).await?;
        audit::record(
            &mut tx,
            actor,
            Event {
                action: AuditAction::BackupImport,
                target: format!("backup:{id}"),
                tenant_id: Some(tenant),
                project_id: Some(project),
                summary: json!({"env": target, "stage": stage, "format": inspected.format.as_str(), "bytes": size,
                                "build": build}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(build)
    }
    .await;
    let build = match stored {
        Ok(build) => build,
        Err(e) => {
            // Nothing refers to the archive: do not leave it in the store.
            let _ = infra.backups.store.delete(&key).await;
            return Err(e);
        }
    };
    drop(ticket);
    // Imports count against the environment's retention like any other backup.
    if let Err(e) = super::jobs::prune(p, &infra.backups, target).await {
        tracing::warn!(error = %e, env = %target, "pruning after an import");
    }
    Ok((super::jobs::get(p, actor, id).await?, build))
}

/// What [`load`] restored.
#[derive(Debug, Default)]
pub struct Loaded {
    pub format: &'static str,
    pub filestore_files: u64,
    /// Of what was loaded, for the drill to compare with the manifest.
    pub dump_sha256: Option<String>,
    pub filestore_sha256: Option<String>,
    pub odoo_manifest: Option<serde_json::Value>,
}

/// Verifies a backup and loads it into the existing empty `database`, and its
/// filestore into `filestore` (replaced). Nothing is touched before the
/// archive's checksum matches and it has passed [`archive::inspect`].
pub async fn load(
    p: &Platform,
    infra: &BuildInfra,
    backup: Uuid,
    database: &str,
    filestore: &Path,
    log: &(dyn Fn(&str) + Send + Sync),
) -> anyhow::Result<Loaded> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let row = sqlx::query("SELECT state, storage_key, sha256, format, created_at FROM ops.backups WHERE id = $1")
        .bind(backup)
        .fetch_optional(&mut *tx)
        .await?
        .context("the backup to restore is gone")?;
    tx.commit().await?;
    if row.get::<String, _>("state") != "done" {
        bail!("the backup to restore is not a finished backup");
    }
    let key: String = row.get::<Option<String>, _>("storage_key").context("the backup has no archive")?;
    let expected: String = row.get::<Option<String>, _>("sha256").context("the backup has no checksum")?;
    let copy = infra.backups.store.fetch(&key, &infra.backups.scratch).await?;
    let path = copy.path.clone();
    let actual = tokio::task::spawn_blocking(move || archive::sha256_file(&path)).await??;
    if actual != expected {
        bail!("checksum mismatch: the archive is {actual}, the backup was {expected}; nothing was restored");
    }
    log(&format!("checksum verified (sha256 {})", &expected[..16]));
    let (path, limits) = (copy.path.clone(), infra.backups.limits);
    let inspected = tokio::task::spawn_blocking(move || archive::inspect(&path, &limits))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bin = crate::db::embedded::find_bin_dir()?;
    let env = infra.db(database).owner_env(database);
    let mut loaded =
        Loaded { format: inspected.format.as_str(), odoo_manifest: inspected.odoo_manifest, ..Loaded::default() };
    match inspected.format {
        Format::Dump => {
            let out = tokio::process::Command::new(bin.join("pg_restore"))
                .args(["--no-owner", "--no-acl", "--exit-on-error", "--dbname", database])
                .arg(&copy.path)
                .envs(env)
                .output()
                .await
                .context("running pg_restore")?;
            if !out.status.success() {
                bail!("pg_restore failed: {}", String::from_utf8_lossy(&out.stderr).trim());
            }
        }
        Format::Zip => {
            let archive_path = copy.path.clone();
            let psql = bin.join("psql");
            let db = database.to_owned();
            let sha = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
                use std::process::Stdio;
                let mut child = std::process::Command::new(psql)
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-o", "/dev/null", "-d", &db])
                    .envs(env)
                    .stdin(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .context("running psql")?;
                // psql in restricted mode: no backslash command in the dump can run.
                // Buffered: the filter writes a line at a time, the pipe wants large writes.
                let stdin = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().context("psql input")?);
                let mut guarded = super::restricted::Restricted::new(stdin, &super::restricted::random_key())?;
                let copied = archive::copy_dump_sql(&archive_path, &mut guarded, &AtomicU64::new(0));
                drop(guarded.finish());
                let out = child.wait_with_output()?;
                if !out.status.success() {
                    bail!("loading dump.sql failed: {}", String::from_utf8_lossy(&out.stderr).trim());
                }
                copied
            })
            .await??;
            loaded.dump_sha256 = Some(sha);
            let (archive_path, dest) = (copy.path.clone(), filestore.to_path_buf());
            let tmp = dest.with_extension("restoring");
            let _ = std::fs::remove_dir_all(&tmp);
            let tmp2 = tmp.clone();
            let extracted =
                tokio::task::spawn_blocking(move || archive::extract_filestore(&archive_path, &tmp2)).await??;
            let _ = std::fs::remove_dir_all(&dest);
            std::fs::rename(&tmp, &dest).context("putting the filestore in place")?;
            crate::builds::infra::open_filestore(&dest, true);
            log(&format!("filestore: {} file(s), {} bytes", extracted.files, extracted.bytes));
            loaded.filestore_files = extracted.files;
            loaded.filestore_sha256 = Some(extracted.tree_sha256);
        }
    }
    Ok(loaded)
}
