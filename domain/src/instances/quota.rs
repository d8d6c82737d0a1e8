//! Plans and what an instance uses of its plan. CPU and memory are limits
//! the runtime enforces on the instance's containers (set from the plan when
//! the instance is made); storage — the database's size plus the
//! filestore's — is measured after every operation and build of the
//! instance and whenever someone looks, and compared with the plan: from
//! 80 % the tenant's admins are mailed a warning, from 100 % they are mailed
//! again and what would add data (a restore) is refused with the reason.
//! Each crossing is mailed once.

use crate::auth::Actor;
use crate::builds::infra::BuildInfra;
use crate::builds::queue::SYSTEM_USER;
use crate::error::{DomainError, DomainResult};
use crate::mailer::OutgoingMail;
use crate::platform::Platform;
use crate::types::{quota_level, QuotaLevel};
use crate::wire::{InstanceUsage, PlanView};
use anyhow::Context;
use sqlx::{ConnectOptions, Connection, Row};
use uuid::Uuid;

const PLAN_SQL: &str =
    "SELECT slug, name, cpu_limit::float8 AS cpu_limit, memory_limit_mb, workers, storage_mb, max_users,
                               backup_retention_days, support_level, monthly_price_cents FROM ops.plans";

fn plan_view(r: &sqlx::postgres::PgRow) -> PlanView {
    PlanView {
        slug: r.get("slug"),
        name: r.get("name"),
        cpu_limit: r.get("cpu_limit"),
        memory_limit_mb: r.get("memory_limit_mb"),
        workers: r.get("workers"),
        storage_mb: r.get("storage_mb"),
        max_users: r.get("max_users"),
        backup_retention_days: r.get("backup_retention_days"),
        support_level: r.get("support_level"),
        monthly_price_cents: r.get("monthly_price_cents"),
    }
}

/// The plan catalog, in its order.
pub async fn plans(p: &Platform, actor: &Actor) -> DomainResult<Vec<PlanView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{PLAN_SQL} ORDER BY sort, slug")).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(plan_view).collect())
}

/// One plan, or a clear refusal naming the ones there are.
pub(crate) async fn plan(tx: &mut crate::db::ScopedTx, slug: &str) -> DomainResult<PlanView> {
    let row = sqlx::query(&format!("{PLAN_SQL} WHERE slug = $1")).bind(slug).fetch_optional(&mut **tx).await?;
    match row {
        Some(r) => Ok(plan_view(&r)),
        None => {
            let names: Vec<String> =
                sqlx::query_scalar("SELECT slug FROM ops.plans ORDER BY sort, slug").fetch_all(&mut **tx).await?;
            Err(DomainError::Invalid(format!("`{slug}` is not a plan (there are: {})", names.join(", "))))
        }
    }
}

/// What the instance uses of its plan, measured now (its tenant's members, platform staff).
pub async fn usage(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<InstanceUsage> {
    super::get(p, actor, id).await?;
    let infra = p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are not configured".into()))?;
    measured(p, infra, id, true).await.map_err(|e| {
        tracing::warn!(instance = %id, error = %format!("{e:#}"), "measuring an instance's usage failed");
        DomainError::Unavailable("its usage cannot be measured right now; try again".into())
    })
}

/// How long a filestore's measured size answers page loads before it is walked again.
const FRESH_SECS: i32 = 60;

/// The usage view of measured sizes against a plan.
fn figures(plan: PlanView, database_bytes: i64, filestore_bytes: i64) -> InstanceUsage {
    let used = database_bytes.saturating_add(filestore_bytes);
    let limit = i64::from(plan.storage_mb) * 1024 * 1024;
    let level = quota_level(used.max(0) as u64, limit.max(0) as u64);
    let percent = if limit > 0 { used.saturating_mul(100) / limit } else { 100 };
    InstanceUsage {
        plan,
        database_bytes,
        filestore_bytes,
        storage_used_bytes: used,
        storage_limit_bytes: limit,
        storage_percent: percent,
        level,
    }
}

/// Measures the instance's storage, keeps the figure, and mails its
/// tenant's admins when it crossed into warning or exceeded.
pub async fn check(p: &Platform, infra: &BuildInfra, instance: Uuid) -> anyhow::Result<InstanceUsage> {
    measured(p, infra, instance, false).await
}

/// [`check`]; with `reuse_files`, a filestore walked in the last [`FRESH_SECS`]
/// is not walked again (page loads), while the database is always measured.
async fn measured(
    p: &Platform,
    infra: &BuildInfra,
    instance: Uuid,
    reuse_files: bool,
) -> anyhow::Result<InstanceUsage> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let i = sqlx::query(
        "SELECT i.env_id, i.plan, i.name, i.subdomain, i.tenant_id, i.quota_notice,
                CASE WHEN i.storage_checked_at > now() - make_interval(secs => $2::int) THEN i.storage_files_bytes END
                    AS recent_files
           FROM ops.instances i WHERE i.id = $1",
    )
    .bind(instance)
    .bind(FRESH_SECS)
    .fetch_one(&mut *tx)
    .await?;
    let plan = plan(&mut tx, i.get("plan")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let current = crate::backups::jobs::current_database(&mut tx, i.get("env_id")).await?.map(|(db, _)| db);
    tx.commit().await?;
    let (database_bytes, filestore_bytes) = match &current {
        Some(db) => {
            let files = if reuse_files { i.get::<Option<i64>, _>("recent_files") } else { None };
            measure(infra, db, i64::from(plan.storage_mb) * 1024 * 1024, files).await?
        }
        None => (0, 0),
    };
    let usage = figures(plan, database_bytes, filestore_bytes);
    let (used, level, percent) = (usage.storage_used_bytes, usage.level, usage.storage_percent);
    let notice: Option<QuotaLevel> = crate::db::vocabulary_opt(&i, "quota_notice")?;
    let rank = |l: Option<QuotaLevel>| match l {
        None | Some(QuotaLevel::Ok) => 0,
        Some(QuotaLevel::Warning) => 1,
        Some(QuotaLevel::Exceeded) => 2,
    };
    let mail = rank(Some(level)) > rank(notice);
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let admins: Vec<String> = sqlx::query_scalar(
        "UPDATE ops.instances SET storage_used_bytes = $2, storage_checked_at = now(), quota_notice = $3,
                storage_database_bytes = $5, storage_files_bytes = $6
          WHERE id = $1
         RETURNING (SELECT coalesce(array_agg(u.email ORDER BY u.email), '{}') FROM ops.tenant_members m
                      JOIN ops.users u ON u.id = m.user_id WHERE m.tenant_id = $4 AND m.role = 'tenant_admin')",
    )
    .bind(instance)
    .bind(used)
    .bind((level != QuotaLevel::Ok).then(|| level.as_str()))
    .bind(i.get::<Uuid, _>("tenant_id"))
    .bind(database_bytes)
    .bind(filestore_bytes)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let plan = &usage.plan;
    if mail {
        let (name, sub): (String, String) = (i.get("name"), i.get("subdomain"));
        let mb = |b: i64| b / (1024 * 1024);
        let (subject, what) = match level {
            QuotaLevel::Exceeded => (
                format!("[OdooOps] {name} is over its storage quota"),
                "Restores are refused until it is back under its plan: delete attachments or data, or move to a larger plan.",
            ),
            _ => (
                format!("[OdooOps] {name} has used {percent} % of its storage"),
                "At 100 % restores are refused: delete attachments or data, or move to a larger plan.",
            ),
        };
        for to in admins {
            let body = format!(
                "Your Odoo workspace {name} ({sub}) uses {} MB of the {} MB its {} plan includes ({percent} %): \
                 database {} MB, files {} MB.\n{what}\n",
                mb(used),
                plan.storage_mb,
                plan.name,
                mb(database_bytes),
                mb(filestore_bytes),
            );
            if let Err(e) = p.mailer.send(OutgoingMail { to, subject: subject.clone(), body }).await {
                tracing::warn!(error = %format!("{e:#}"), "could not send a quota notice");
            }
        }
    }
    Ok(usage)
}

/// After a build of an instance ended: its storage again.
pub async fn after_build(p: &Platform, infra: &BuildInfra, build: Uuid) {
    after(p, infra, "SELECT i.id FROM ops.instances i JOIN ops.builds b ON b.env_id = i.env_id WHERE b.id = $1", build)
        .await
}

/// After an operation that ran without a build (pause, backup, a migration): its storage again.
pub async fn after_operation(p: &Platform, infra: &BuildInfra, operation: Uuid) {
    let sql = "SELECT o.instance_id FROM ops.instance_operations o WHERE o.id = $1";
    after(p, infra, sql, operation).await
}

/// Measures the instance `sql` finds for `id` (none once decommissioned); failures are logged.
async fn after(p: &Platform, infra: &BuildInfra, sql: &str, id: Uuid) {
    let found: anyhow::Result<Option<Uuid>> = async {
        let mut tx = p.db.begin_as(SYSTEM_USER).await?;
        let instance: Option<Uuid> = sqlx::query_scalar(sql).bind(id).fetch_optional(&mut *tx).await?;
        let live = match instance {
            Some(i) => sqlx::query_scalar(
                "SELECT id FROM ops.instances WHERE id = $1 AND state NOT IN ('draft', 'decommissioning', 'decommissioned')",
            )
            .bind(i)
            .fetch_optional(&mut *tx)
            .await?,
            None => None,
        };
        tx.commit().await?;
        Ok(live)
    }
    .await;
    if let Ok(Some(instance)) = found {
        if let Err(e) = check(p, infra, instance).await {
            tracing::warn!(%instance, error = %format!("{e:#}"), "measuring an instance's storage failed");
        }
    }
}

/// A restore adds data: refused when the instance is over its plan, or when
/// the backup alone is larger than the plan's storage.
pub(crate) async fn refuse_restore(tx: &mut crate::db::ScopedTx, instance: Uuid, backup: Uuid) -> DomainResult<()> {
    let r = sqlx::query(
        "SELECT i.quota_notice, p.storage_mb, p.name, (SELECT size_bytes FROM ops.backups WHERE id = $2) AS size
           FROM ops.instances i JOIN ops.plans p ON p.slug = i.plan WHERE i.id = $1",
    )
    .bind(instance)
    .bind(backup)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else { return Ok(()) };
    let (plan, storage_mb): (String, i32) = (r.get("name"), r.get("storage_mb"));
    if r.get::<Option<&str>, _>("quota_notice") == Some("exceeded") {
        return Err(DomainError::Conflict(format!(
            "this workspace is over its {plan} plan's {storage_mb} MB of storage: restores are refused until it is \
             back under it (delete data, or move to a larger plan)"
        )));
    }
    if r.get::<Option<i64>, _>("size").is_some_and(|s| s > i64::from(storage_mb) * 1024 * 1024) {
        return Err(DomainError::Conflict(format!(
            "this backup is larger than the {storage_mb} MB of storage the {plan} plan includes"
        )));
    }
    Ok(())
}

/// The database's size (read as its own role) and the filestore's, walked
/// without following links. A filestore with more entries than any plan
/// could hold counts as `limit` (over its plan) rather than being walked.
async fn measure(infra: &BuildInfra, db: &str, limit: i64, files: Option<i64>) -> anyhow::Result<(i64, i64)> {
    let opts = infra.db(db).owner_options(db).log_statements(tracing::log::LevelFilter::Off);
    let mut c = sqlx::PgConnection::connect_with(&opts).await.context("connecting to the instance's database")?;
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut c).await?;
    c.close().await.ok();
    if let Some(files) = files {
        return Ok((size, files));
    }
    let dir = infra.filestore_dir.join(db);
    let walked = tokio::task::spawn_blocking(move || crate::builds::filestore::tree_bytes(&dir, MAX_ENTRIES)).await?;
    let files = match walked {
        Ok(bytes) => i64::try_from(bytes).unwrap_or(i64::MAX),
        Err(e) => {
            tracing::warn!(database = db, error = %e, "a filestore too large to walk counts as full");
            limit
        }
    };
    Ok((size, files))
}

/// Entries of a filestore walked at most (Odoo keeps one file per attachment).
const MAX_ENTRIES: usize = 2_000_000;
