//! Plan changes: finance owners (and platform owners) propose moving a
//! tenant's subscription to another plan; a platform owner approves — the
//! subscription and the tenant's instances move to the plan — or rejects it.
//! One open proposal per tenant; every step audited.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, PlatformRole};
use crate::wire::{NewPlanChange, PlanChangeDecision, PlanChangeView};
use sqlx::Row;
use uuid::Uuid;

const VIEW_SQL: &str = "SELECT c.id, t.slug AS tenant_slug, c.from_plan, c.to_plan, c.reason, c.state,
                               pu.email AS proposed_by, du.email AS decided_by, c.created_at, c.decided_at
                          FROM ops.plan_changes c JOIN ops.tenants t ON t.id = c.tenant_id
                          LEFT JOIN ops.users pu ON pu.id = c.proposed_by LEFT JOIN ops.users du ON du.id = c.decided_by";

fn view(r: &sqlx::postgres::PgRow) -> PlanChangeView {
    PlanChangeView {
        id: r.get("id"),
        tenant_slug: r.get("tenant_slug"),
        from_plan: r.get("from_plan"),
        to_plan: r.get("to_plan"),
        reason: r.get("reason"),
        state: r.get("state"),
        proposed_by: r.get("proposed_by"),
        decided_by: r.get("decided_by"),
        created_at: r.get("created_at"),
        decided_at: r.get("decided_at"),
    }
}

/// The plan changes the caller sees, newest first.
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<PlanChangeView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{VIEW_SQL} ORDER BY c.created_at DESC LIMIT 200")).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(view).collect())
}

/// Proposes a plan for a tenant (finance and platform owners). Audited.
pub async fn propose(p: &Platform, actor: &Actor, input: NewPlanChange) -> DomainResult<PlanChangeView> {
    if !matches!(actor.platform_role, Some(PlatformRole::Owner | PlatformRole::Finance)) {
        return Err(DomainError::Denied("plan changes are proposed by finance and platform owners".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let (tenant, from): (Uuid, Option<String>) = sqlx::query_as(
        "SELECT t.id, s.plan FROM ops.tenants t
           LEFT JOIN ops.subscriptions s ON s.tenant_id = t.id AND s.status <> 'cancelled' WHERE t.slug = $1",
    )
    .bind(input.tenant.trim())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("tenant"))?;
    crate::instances::quota::plan(&mut tx, input.to_plan.trim()).await?;
    if from.as_deref() == Some(input.to_plan.trim()) {
        return Err(DomainError::Invalid("the tenant is on that plan already".into()));
    }
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.plan_changes (id, tenant_id, from_plan, to_plan, reason, proposed_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tenant)
    .bind(&from)
    .bind(input.to_plan.trim())
    .bind(input.reason.trim())
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await
    .map_err(|e| match DomainError::from(e) {
        DomainError::Conflict(_) => DomainError::Conflict("this tenant already has a plan change waiting".into()),
        other => other,
    })?;
    let event = Event {
        action: AuditAction::PlanChangePropose,
        target: format!("plan_change:{id}"),
        tenant_id: Some(tenant),
        project_id: None,
        summary: serde_json::json!({"from": from, "to": input.to_plan.trim()}),
    };
    audit::record(&mut tx, actor, event).await?;
    let r = sqlx::query(&format!("{VIEW_SQL} WHERE c.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(view(&r))
}

/// The tenant's instances take the plan: its storage quota at once, its CPU
/// and memory limits from their next deployment. Instances are written by the
/// system only (row-level security), so this runs as the system, after the
/// decision is recorded; a failure here leaves the decision and is logged.
async fn follow_plan(p: &Platform, tenant: Uuid, to: &str) -> DomainResult<()> {
    let mut tx = p.db.begin_as(crate::builds::queue::SYSTEM_USER).await?;
    let terms = crate::instances::quota::plan(&mut tx, to).await?;
    sqlx::query("UPDATE ops.instances SET plan = $2 WHERE tenant_id = $1 AND state <> 'decommissioned'")
        .bind(tenant)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE ops.projects SET cpu_limit = $2, memory_limit_mb = $3
          WHERE id IN (SELECT project_id FROM ops.instances WHERE tenant_id = $1)",
    )
    .bind(tenant)
    .bind(terms.cpu_limit)
    .bind(terms.memory_limit_mb)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Approves (the subscription and the tenant's instances move to the plan) or rejects a proposal (owners). Audited.
pub async fn decide(p: &Platform, actor: &Actor, id: Uuid, d: PlanChangeDecision) -> DomainResult<PlanChangeView> {
    if actor.platform_role != Some(PlatformRole::Owner) {
        return Err(DomainError::Denied("platform owners approve plan changes".into()));
    }
    let state = if d.approve { "approved" } else { "rejected" };
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(
        "UPDATE ops.plan_changes SET state = $2, decided_by = $3, decided_at = now()
          WHERE id = $1 AND state = 'proposed' AND proposed_by IS DISTINCT FROM $3 RETURNING tenant_id, to_plan",
    )
    .bind(id)
    .bind(state)
    .bind(actor.user_id.0)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("plan change waiting for another person's decision"))?;
    let (tenant, to): (Uuid, String) = (row.get("tenant_id"), row.get("to_plan"));
    if d.approve {
        let moved = sqlx::query(
            "UPDATE ops.subscriptions SET plan = $2, updated_at = now() WHERE tenant_id = $1 AND status <> 'cancelled'",
        )
        .bind(tenant)
        .bind(&to)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            sqlx::query(
                "INSERT INTO ops.subscriptions (id, tenant_id, plan, provider, status, started_at)
                 VALUES ($1, $2, $3, 'manual', 'active', now())",
            )
            .bind(Uuid::new_v4())
            .bind(tenant)
            .bind(&to)
            .execute(&mut *tx)
            .await?;
        }
    }
    let event = Event {
        action: AuditAction::PlanChangeDecide,
        target: format!("plan_change:{id}"),
        tenant_id: Some(tenant),
        project_id: None,
        summary: serde_json::json!({"state": state, "to": to}),
    };
    audit::record(&mut tx, actor, event).await?;
    let r = sqlx::query(&format!("{VIEW_SQL} WHERE c.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    if d.approve {
        // The decision stands either way; a failed follow-up is logged for the operator.
        if let Err(e) = follow_plan(p, tenant, &to).await {
            tracing::error!(error = %e, %tenant, plan = %to, "the tenant's instances did not follow the approved plan");
        }
    }
    Ok(view(&r))
}
