//! "Download dump" on a development or staging build (issue 20), as Odoo.sh
//! offers: the build's database as a `pg_dump` custom-format file, to load
//! into a developer's own PostgreSQL. Dumped over the database's own role
//! (never the server's admin), into a scratch file removed once sent.
//! Production is downloaded as a backup (its own rights and checksums).
//! Allowed to those with the build's tools (the role matrix's `shell`), and
//! audited: a dump carries the branch's data.

use crate::access::Access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::backups::store::LocalCopy;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Capability, Stage};
use anyhow::Context;
use sqlx::Row;
use uuid::Uuid;

/// The dump of build `build`'s database and the name to save it under.
pub async fn dump(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<(LocalCopy, String)> {
    let infra =
        p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are not enabled on this server".into()))?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT b.stage, b.db_name, b.seq, b.branch, b.tenant_id, b.project_id, b.state, p.slug AS project_slug, ",
        crate::access::columns!("b.project_id"),
        " FROM ops.builds b JOIN ops.projects p ON p.id = b.project_id WHERE b.id = $1"
    ))
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    let stage: Stage = crate::db::vocabulary(&r, "stage")?;
    Access::from_row(&r).require(stage, Capability::Shell, "downloading a build's database")?;
    if stage == Stage::Production {
        return Err(DomainError::Conflict("production's database is downloaded as a backup (its Backups tab)".into()));
    }
    let db: Option<String> = r.get("db_name");
    let db = db.ok_or_else(|| DomainError::Conflict("this build has no database".into()))?;
    if r.get::<String, _>("state") != "done" {
        return Err(DomainError::Conflict("the build is still running: download its dump once it has finished".into()));
    }
    let dbs = infra.db(&db);
    let exists = dbs.list_all().await?.contains(&db);
    if !exists {
        return Err(DomainError::Conflict("this build's database is gone (the build was cleaned up)".into()));
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BuildDump,
            target: format!("build:{build}"),
            tenant_id: Some(r.get("tenant_id")),
            project_id: Some(r.get("project_id")),
            summary: serde_json::json!({"database": db}),
        },
    )
    .await?;
    tx.commit().await?;
    std::fs::create_dir_all(&infra.backups.scratch).context("the scratch directory")?;
    let out = infra.backups.scratch.join(format!("dump-{}.dump", Uuid::new_v4().simple()));
    let copy = LocalCopy::temporary(out.clone());
    let bin = crate::db::embedded::find_bin_dir()?;
    let done = tokio::process::Command::new(bin.join("pg_dump"))
        .args(["--format=custom", "--no-owner", "--no-acl", "--file"])
        .arg(&out)
        .envs(dbs.owner_env(&db))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .context("running pg_dump")?;
    if !done.status.success() {
        return Err(anyhow::anyhow!("pg_dump of {db} failed: {}", String::from_utf8_lossy(&done.stderr).trim()).into());
    }
    let branch: String = r.get("branch");
    let name = format!(
        "{}_{}_b{}.dump",
        r.get::<String, _>("project_slug"),
        branch.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-"),
        r.get::<i64, _>("seq")
    );
    Ok((copy, name))
}
