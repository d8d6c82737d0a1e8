//! The upgrade advisor, self-hosted: a **preview** runs production on a
//! target series before anyone upgrades it. It is a build (trigger
//! `upgrade_preview`) in the production branch's upgrade environment
//! (`<branch>~upgrade`, staging, so a neutralized copy of production): the
//! target series' image, the project's branch for that series, `-u all` and
//! the tests. Around the migration the pipeline measures the copy (installed
//! modules and versions, database size, rows of key tables) and records the
//! duration; when the build ends, the log's errors, warnings and failed tests
//! join the report, which is kept per project with its risk and downloads as
//! JSON or a standalone HTML file. The preview's Odoo keeps serving the
//! upgraded copy, so people can click through it.
//!
//! The migration runs the tenant's code on a copy, logged in as the copy's
//! own role, like any staging build: nothing here touches production.

use crate::access::{self, Access};
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::builds::queue::{self, NewBuild, SYSTEM_USER};
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, BranchName, Capability, ModuleRow, Risk, RowCount, Stage, UpgradeReport};
use crate::wire::PreviewView;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Row};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Tables whose rows are counted before and after (those that exist).
const KEY_TABLES: &[&str] = &[
    "res_partner",
    "res_users",
    "res_company",
    "product_template",
    "sale_order",
    "account_move",
    "stock_move",
    "mail_message",
    "ir_attachment",
];

/// The upgrade environment's name: `~` keeps pushes out of it.
fn upgrade_branch(production: &str) -> String {
    format!("{production}~upgrade")
}

/// Starts a preview of production on `target` (project admins); (preview, build).
pub async fn preview(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    target: &str,
    branch: Option<&str>,
) -> DomainResult<(Uuid, Uuid)> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT pr.id AS project_id, pr.tenant_id, pr.odoo_version, e.id AS env, e.branch, ",
        access::columns!("pr.id"),
        " FROM ops.projects pr JOIN ops.environments e ON e.project_id = pr.id AND e.stage = 'production'
                                                     AND e.deleted_at IS NULL
          WHERE pr.id = $1"
    ))
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("project"))?;
    Access::from_row(&r).require(Stage::Production, Capability::Upgrade, "previewing an upgrade")?;
    let source: String = r.get("odoo_version");
    let target = crate::types::parse_target(&source, target)?;
    let (tenant, prod_env, prod_branch): (Uuid, Uuid, String) = (r.get("tenant_id"), r.get("env"), r.get("branch"));
    if crate::backups::jobs::current_database(&mut tx, prod_env).await?.is_none() {
        return Err(DomainError::Conflict("production has never been built: there is nothing to upgrade yet".into()));
    }
    let branch = match branch.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => BranchName::parse(b)?.as_str().to_owned(),
        None => prod_branch.clone(),
    };
    // The branch's newest built commit: the code the target series runs.
    let commit: Option<(String, String)> = sqlx::query_as(
        "SELECT b.commit_sha, b.subject FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id
          WHERE e.project_id = $1 AND e.branch = $2 ORDER BY b.created_at DESC LIMIT 1",
    )
    .bind(project)
    .bind(&branch)
    .fetch_optional(&mut *tx)
    .await?;
    let (sha, _) = commit.ok_or_else(|| {
        DomainError::Invalid(format!("the branch {branch} has never been pushed here: push it, then preview"))
    })?;
    // The environment is the system's to create (a project admin could too, but it is not theirs to name).
    let mut sys = p.db.begin_as(SYSTEM_USER).await?;
    let env: Uuid = sqlx::query_scalar(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage) VALUES ($1, $2, $3, $4, 'staging')
         ON CONFLICT (project_id, branch) DO UPDATE SET deleted_at = NULL, last_activity = now() RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(project)
    .bind(upgrade_branch(&prod_branch))
    .fetch_one(&mut *sys)
    .await?;
    sys.commit().await?;
    let build = queue::enqueue(
        &mut tx,
        NewBuild {
            tenant_id: tenant,
            project_id: project,
            env_id: env,
            branch: &branch,
            stage: "staging",
            commit_sha: &sha,
            subject: &format!("upgrade preview: {source} → {}", target.as_str()),
            author: &actor.email,
            source: crate::builds::pipeline::plan::Source::UpgradePreview,
        },
    )
    .await?;
    let id = Uuid::new_v4();
    let report = UpgradeReport {
        source_series: source.clone(),
        target_series: target.as_str().to_owned(),
        target_branch: branch.clone(),
        ..Default::default()
    };
    sqlx::query(
        "INSERT INTO ops.upgrade_previews (id, tenant_id, project_id, build_id, source_series, target_series,
                                           target_branch, report, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(tenant)
    .bind(project)
    .bind(build)
    .bind(&source)
    .bind(target.as_str())
    .bind(&branch)
    .bind(serde_json::to_value(&report).map_err(anyhow::Error::from)?)
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::UpgradePreview,
            target: format!("project:{project}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"preview": id, "build": build, "from": source, "to": target.as_str(), "branch": branch}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, build))
}

/// Asks to upgrade production with a finished preview that was not blocked
/// (project admins): a promotion of the preview's build, which someone else
/// with release rights approves; it backs production up, runs `-u all` on
/// the target series and rolls back to the backup on failure. Audited.
pub async fn request_upgrade(p: &Platform, actor: &Actor, preview: Uuid) -> DomainResult<Uuid> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let v = sqlx::query(concat!(
        "SELECT v.tenant_id, v.project_id, v.state, v.target_series, v.build_id, b.image_digest, b.commit_sha,
                pr.required_approvals, pr.odoo_version, v.source_series, ",
        access::columns!("v.project_id"),
        " FROM ops.upgrade_previews v JOIN ops.projects pr ON pr.id = v.project_id
          LEFT JOIN ops.builds b ON b.id = v.build_id WHERE v.id = $1"
    ))
    .bind(preview)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("upgrade preview"))?;
    Access::from_row(&v).require(Stage::Production, Capability::Upgrade, "upgrading production")?;
    match v.get::<String, _>("state").as_str() {
        "passed" | "warned" => {}
        "running" => return Err(DomainError::Conflict("the preview has not finished".into())),
        _ => {
            return Err(DomainError::Invalid(
                "a blocked preview cannot be deployed: fix what it found, preview again".into(),
            ))
        }
    }
    if v.get::<String, _>("odoo_version") != v.get::<String, _>("source_series") {
        return Err(DomainError::Conflict("production changed series since this preview: preview again".into()));
    }
    let (Some(build), Some(digest)) =
        (v.get::<Option<Uuid>, _>("build_id"), v.get::<Option<String>, _>("image_digest"))
    else {
        return Err(DomainError::Conflict("the preview's build is gone: preview again".into()));
    };
    if !p.runtime.image_exists(&digest).await.unwrap_or(false) {
        return Err(DomainError::Conflict(format!("the preview's image {digest} is no longer on this host")));
    }
    let (tenant, project): (Uuid, Uuid) = (v.get("tenant_id"), v.get("project_id"));
    let id = Uuid::new_v4();
    let commit: String = v.get("commit_sha");
    let row = crate::promotions::NewPromotion {
        id,
        tenant,
        project,
        source_build: build,
        image_digest: &digest,
        commit_sha: &commit,
        requested_by: actor.user_id.0,
        required: v.get("required_approvals"),
        pushed_by: None,
        upgrade_preview: Some(preview),
    };
    if !crate::promotions::insert(&mut tx, &row).await? {
        return Err(crate::promotions::in_flight());
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::UpgradeRequest,
            target: format!("promotion:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"preview": preview, "build": build, "to": v.get::<String, _>("target_series")}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// After an upgrade's deployment succeeded (in its closing transaction): the
/// project is on the target series now (its official image follows). The
/// target series, for the promotion's event; none for other promotions.
pub(crate) async fn after_deployed(tx: &mut ScopedTx, promotion: Uuid) -> anyhow::Result<Option<String>> {
    let target: Option<String> = sqlx::query_scalar(
        "UPDATE ops.projects pr
            SET odoo_version = v.target_series,
                base_image = CASE WHEN pr.base_image LIKE 'odooops/odoo-standin%' THEN pr.base_image
                                  ELSE 'odoo:' || v.target_series END
           FROM ops.promotions p JOIN ops.upgrade_previews v ON v.id = p.upgrade_preview
          WHERE p.id = $1 AND pr.id = p.project_id
      RETURNING v.target_series",
    )
    .bind(promotion)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(target)
}

const VIEW_SQL: &str = "SELECT v.id, v.project_id, v.build_id, v.source_series, v.target_series, v.target_branch,
        v.state, v.report, u.email AS requested_by, v.created_at, v.finished_at
   FROM ops.upgrade_previews v LEFT JOIN ops.users u ON u.id = v.requested_by";

fn view(r: &sqlx::postgres::PgRow) -> PreviewView {
    let report: UpgradeReport = serde_json::from_value(r.get("report")).unwrap_or_default();
    let state: String = r.get("state");
    let done = state != "running";
    PreviewView {
        id: r.get("id"),
        project_id: r.get("project_id"),
        build_id: r.get("build_id"),
        source_series: r.get("source_series"),
        target_series: r.get("target_series"),
        target_branch: r.get("target_branch"),
        risk: done.then(|| report.risk()),
        blockers: if done { report.blockers() } else { Vec::new() },
        concerns: if done { report.concerns() } else { Vec::new() },
        state,
        report,
        requested_by: r.get("requested_by"),
        created_at: r.get("created_at"),
        finished_at: r.get("finished_at"),
    }
}

/// A project's previews, newest first (its members).
pub async fn list(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<Vec<PreviewView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{VIEW_SQL} WHERE v.project_id = $1 ORDER BY v.created_at DESC LIMIT 20"))
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(view).collect())
}

/// One preview (its project's members).
pub async fn get(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<PreviewView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE v.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("upgrade preview"))?;
    tx.commit().await?;
    Ok(view(&row))
}

/// The preview's report as a standalone HTML file, and the file's name.
pub async fn html(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<(String, String)> {
    let v = get(p, actor, id).await?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let project: String = sqlx::query_scalar("SELECT name FROM ops.projects WHERE id = $1")
        .bind(v.project_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    let name = format!("upgrade-{}-{}-to-{}.html", &v.id.simple().to_string()[..8], v.source_series, v.target_series);
    Ok((v.report.to_html(&project), name))
}

/// What the pipeline measures on the copy, before and after the migration.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    pub size: i64,
    pub modules: BTreeMap<String, Option<String>>,
    pub rows: BTreeMap<String, i64>,
}

/// Measures a database, logged in as its own role.
pub async fn measure(owner: &PgConnectOptions) -> anyhow::Result<Measure> {
    let mut c = sqlx::PgConnection::connect_with(owner).await?;
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut c).await?;
    let mut m = Measure { size, ..Default::default() };
    let has = |t: &'static str| format!("SELECT to_regclass('public.{t}') IS NOT NULL");
    if sqlx::query_scalar::<_, bool>(&has("ir_module_module")).fetch_one(&mut c).await? {
        let rows = sqlx::query(
            "SELECT name::text, latest_version::text FROM ir_module_module WHERE state = 'installed' ORDER BY name",
        )
        .fetch_all(&mut c)
        .await?;
        m.modules = rows.iter().map(|r| (r.get::<String, _>(0), r.get::<Option<String>, _>(1))).collect();
    }
    for t in KEY_TABLES {
        if sqlx::query_scalar::<_, bool>(&has(t)).fetch_one(&mut c).await? {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM public.{t}")).fetch_one(&mut c).await?;
            m.rows.insert((*t).to_owned(), n);
        }
    }
    c.close().await.ok();
    Ok(m)
}

/// Records what the migration did on the preview of `build`: modules, custom
/// modules with no target version, duration, sizes and rows.
pub async fn record_run(
    p: &Platform,
    build: Uuid,
    before: &Measure,
    after: Option<&Measure>,
    duration_ms: i64,
    target_addons: &[String],
) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let Some(r) = sqlx::query("SELECT id, project_id, report FROM ops.upgrade_previews WHERE build_id = $1")
        .bind(build)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(());
    };
    // Production's own modules: the addons its serving build found in the repository.
    let custom: BTreeSet<String> = sqlx::query_scalar::<_, Vec<String>>(
        "SELECT b.addons FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id
          WHERE e.project_id = $1 AND e.stage = 'production' AND b.live ORDER BY b.created_at DESC LIMIT 1",
    )
    .bind(r.get::<Uuid, _>("project_id"))
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_default()
    .into_iter()
    .collect();
    let target: BTreeSet<&String> = target_addons.iter().collect();
    let mut report: UpgradeReport = serde_json::from_value(r.get("report")).unwrap_or_default();
    report.modules = before
        .modules
        .iter()
        .map(|(name, v)| ModuleRow {
            name: name.clone(),
            before: v.clone(),
            after: after.and_then(|a| a.modules.get(name).cloned().flatten()),
            custom: custom.contains(name) || target.contains(name),
        })
        .collect();
    report.missing = before.modules.keys().filter(|m| custom.contains(*m) && !target.contains(m)).cloned().collect();
    report.duration_ms = Some(duration_ms);
    report.size_before = Some(before.size);
    report.size_after = after.map(|a| a.size);
    report.rows = before
        .rows
        .iter()
        .map(|(t, n)| RowCount { table: t.clone(), before: *n, after: after.and_then(|a| a.rows.get(t).copied()) })
        .collect();
    sqlx::query("UPDATE ops.upgrade_previews SET report = $2 WHERE id = $1")
        .bind(r.get::<Uuid, _>("id"))
        .bind(serde_json::to_value(&report)?)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// After a build closed (in its closing transaction): a preview's log and outcome join its report.
pub(crate) async fn after_build(tx: &mut ScopedTx, build: Uuid) -> anyhow::Result<()> {
    let Some(r) = sqlx::query(
        "SELECT v.id, v.report, b.result, b.reason FROM ops.upgrade_previews v JOIN ops.builds b ON b.id = v.build_id
          WHERE v.build_id = $1",
    )
    .bind(build)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(());
    };
    let mut report: UpgradeReport = serde_json::from_value(r.get("report")).unwrap_or_default();
    let lines = |level: &'static str| {
        sqlx::query_scalar::<_, String>(
            "SELECT message FROM ops.run_events WHERE build_id = $1 AND level = $2 AND source = 'install'
              ORDER BY id LIMIT 100",
        )
        .bind(build)
        .bind(level)
    };
    report.errors = lines("error").fetch_all(&mut **tx).await?;
    report.warnings = lines("warning").fetch_all(&mut **tx).await?;
    report.failed_tests =
        report.errors.iter().filter(|e| e.contains("FAIL:") || e.contains("ERROR:")).cloned().collect();
    let result: Option<String> = r.get("result");
    if result.as_deref() != Some("ok") && result.as_deref() != Some("warn") {
        report.failure =
            Some(r.get::<Option<String>, _>("reason").unwrap_or_else(|| "the preview did not finish".into()));
    }
    let state = match report.risk() {
        Risk::Blocked => "failed",
        Risk::Medium => "warned",
        Risk::Low => "passed",
    };
    sqlx::query("UPDATE ops.upgrade_previews SET report = $2, state = $3, finished_at = now() WHERE id = $1")
        .bind(r.get::<Uuid, _>("id"))
        .bind(serde_json::to_value(&report)?)
        .bind(state)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
