//! Production restores on a project that requires approval for production:
//! the admin who asks (the project's name typed) does not restore; someone
//! else with release rights (an admin or a release manager) approves, and
//! only then the platform queues the restoring build, as for promotions. The requester may withdraw, an admin reject.
//! The database refuses a requester deciding their own request, whatever
//! the code above does.

use crate::access::{self, Access};
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::builds::queue::SYSTEM_USER;
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Capability, Stage};
use crate::wire::RestoreApprovalView;
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// Records a production restore waiting for approval (in the request's transaction); audited.
pub(super) async fn ask(
    tx: &mut ScopedTx,
    actor: &Actor,
    tenant: Uuid,
    project: Uuid,
    env: Uuid,
    backup: Uuid,
) -> DomainResult<Uuid> {
    let id = Uuid::new_v4();
    let inserted = sqlx::query(
        "INSERT INTO ops.restore_requests (id, tenant_id, project_id, env_id, backup_id, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tenant)
    .bind(project)
    .bind(env)
    .bind(backup)
    .bind(actor.user_id.0)
    .execute(&mut **tx)
    .await;
    if let Err(sqlx::Error::Database(d)) = &inserted {
        if d.code().as_deref() == Some("23505") {
            return Err(DomainError::Conflict("another restore of production is waiting for approval".into()));
        }
    }
    inserted?;
    audit::record(
        tx,
        actor,
        Event {
            action: AuditAction::BackupRestoreRequest,
            target: format!("env:{env}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"backup": backup, "request": id}),
        },
    )
    .await?;
    Ok(id)
}

const VIEW_SQL: &str = "SELECT r.id, r.project_id, r.backup_id, bk.created_at AS backup_created_at, r.state,
        ru.email AS requested_by, r.requested_by AS requester_id, du.email AS decided_by, r.build_id, r.reason,
        r.created_at, (ops.is_platform_admin() OR ops.my_project_role(r.project_id) IN ('admin', 'release_manager')) AS release_rights
   FROM ops.restore_requests r LEFT JOIN ops.backups bk ON bk.id = r.backup_id JOIN ops.users ru ON ru.id = r.requested_by
   LEFT JOIN ops.users du ON du.id = r.decided_by";

fn view(r: &sqlx::postgres::PgRow, me: Uuid) -> RestoreApprovalView {
    let state: String = r.get("state");
    let mine = r.get::<Uuid, _>("requester_id") == me;
    let rights = r.get::<bool, _>("release_rights");
    RestoreApprovalView {
        id: r.get("id"),
        project_id: r.get("project_id"),
        backup_id: r.get("backup_id"),
        backup_created_at: r.get("backup_created_at"),
        may_approve: state == "requested" && rights && !mine,
        may_reject: state == "requested" && (rights || mine),
        state,
        requested_by: r.get("requested_by"),
        decided_by: r.get("decided_by"),
        build_id: r.get("build_id"),
        reason: r.get("reason"),
        created_at: r.get("created_at"),
    }
}

/// A project's production restore requests, newest first (its members).
pub async fn list(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<Vec<RestoreApprovalView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{VIEW_SQL} WHERE r.project_id = $1 ORDER BY r.created_at DESC LIMIT 20"))
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| view(r, actor.user_id.0)).collect())
}

/// Approves a production restore (release rights, never the requester): queues the restoring build.
pub async fn approve(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<RestoreApprovalView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT r.tenant_id, r.project_id, r.env_id, r.backup_id, r.state, r.requested_by, e.branch, u.email, ",
        access::columns!("r.project_id"),
        " FROM ops.restore_requests r JOIN ops.environments e ON e.id = r.env_id JOIN ops.users u ON u.id = r.requested_by
          WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("restore request"))?;
    if r.get::<Uuid, _>("requested_by") == actor.user_id.0 {
        return Err(DomainError::Denied("you asked for this restore: someone else must approve it".into()));
    }
    Access::from_row(&r).require_project(Capability::Promote, "approving a production restore")?;
    if r.get::<String, _>("state") != "requested" {
        return Err(DomainError::Conflict("this restore is no longer waiting for approval".into()));
    }
    let (tenant, project, env, backup): (Uuid, Uuid, Uuid, Uuid) =
        (r.get("tenant_id"), r.get("project_id"), r.get("env_id"), r.get("backup_id"));
    let branch: String = r.get("branch");
    // Two approvals at once restore once: whoever moves the state first.
    let moved = sqlx::query(
        "UPDATE ops.restore_requests SET state = 'approved', decided_by = $2, decided_at = now()
          WHERE id = $1 AND state = 'requested'",
    )
    .bind(id)
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(DomainError::Conflict("this restore is no longer waiting for approval".into()));
    }
    // The approval is the privileged act: one event, naming both people, with the state it moves.
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BackupRestoreProduction,
            target: format!("env:{env}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"backup": backup, "stage": "production", "request": id,
                            "requested_by": r.get::<String, _>("email")}),
        },
    )
    .await?;
    tx.commit().await?;
    // The restoring build is the platform's to queue (a release manager has no backup tool on production).
    let mut sys = p.db.begin_as(SYSTEM_USER).await?;
    let build = super::restore::queue_restore(
        &mut sys,
        actor,
        super::restore::Target { tenant, project, env, branch: &branch, stage: Stage::Production.as_str() },
        backup,
    )
    .await?;
    sqlx::query("UPDATE ops.restore_requests SET build_id = $2 WHERE id = $1")
        .bind(id)
        .bind(build)
        .execute(&mut *sys)
        .await?;
    sys.commit().await?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE r.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(view(&row, actor.user_id.0))
}

/// Rejects a production restore (release rights) or withdraws it (its requester); audited.
pub async fn reject(p: &Platform, actor: &Actor, id: Uuid, reason: Option<&str>) -> DomainResult<RestoreApprovalView> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(DomainError::Invalid("the reason is at most 500 characters".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT r.tenant_id, r.project_id, r.env_id, r.state, r.requested_by, ",
        access::columns!("r.project_id"),
        " FROM ops.restore_requests r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("restore request"))?;
    if r.get::<Uuid, _>("requested_by") != actor.user_id.0 {
        Access::from_row(&r).require_project(Capability::Promote, "rejecting a production restore")?;
    }
    if r.get::<String, _>("state") != "requested" {
        return Err(DomainError::Conflict("this restore is no longer waiting for approval".into()));
    }
    let moved = sqlx::query(
        "UPDATE ops.restore_requests SET state = 'rejected', decided_by = $2, decided_at = now(), reason = $3
          WHERE id = $1 AND state = 'requested'",
    )
    .bind(id)
    .bind(actor.user_id.0)
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(DomainError::Conflict("this restore is no longer waiting for approval".into()));
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BackupRestoreReject,
            target: format!("env:{}", r.get::<Uuid, _>("env_id")),
            tenant_id: Some(r.get("tenant_id")),
            project_id: Some(r.get("project_id")),
            summary: json!({"request": id, "reason": reason}),
        },
    )
    .await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE r.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(view(&row, actor.user_id.0))
}
