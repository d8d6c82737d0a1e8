//! Tenants (organisations): who sees which projects. Every sign-up gets one;
//! platform owners and operators can create more for others.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{ProjectName, Slug};
use crate::wire::{NewTenant, TenantSummary};
use sqlx::Row;
use uuid::Uuid;

/// Tenants the caller can see: their own, or all for platform staff.
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<TenantSummary>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT t.id, t.slug, t.name, t.created_at, m.role
           FROM ops.tenants t LEFT JOIN ops.tenant_members m ON m.tenant_id = t.id AND m.user_id = $1
          ORDER BY t.name",
    )
    .bind(actor.user_id.0)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(summary).collect())
}

/// A tenant row (`id, slug, name, created_at` and the caller's `role`) as sent on the wire.
pub(crate) fn summary(r: &sqlx::postgres::PgRow) -> TenantSummary {
    TenantSummary {
        id: r.get("id"),
        slug: r.get("slug"),
        name: r.get("name"),
        role: r.get("role"),
        created_at: r.get("created_at"),
    }
}

/// Platform owners and operators create tenants; the creator becomes its admin.
pub async fn create(p: &Platform, actor: &Actor, input: NewTenant) -> DomainResult<TenantSummary> {
    if !actor.administers_platform() {
        return Err(DomainError::Forbidden);
    }
    let name = ProjectName::parse(&input.name)?;
    let slug = match input.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Slug::parse(s)?,
        None => Slug::from_name(name.as_str(), "org"),
    };
    let id = Uuid::new_v4();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query("INSERT INTO ops.tenants (id, slug, name) VALUES ($1, $2, $3) RETURNING created_at")
        .bind(id)
        .bind(slug.as_str())
        .bind(name.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match DomainError::from(e) {
            DomainError::Conflict(_) => DomainError::Conflict(format!("a tenant with slug `{slug}` already exists")),
            other => other,
        })?;
    sqlx::query("INSERT INTO ops.tenant_members (tenant_id, user_id, role) VALUES ($1, $2, 'tenant_admin')")
        .bind(id)
        .bind(actor.user_id.0)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: "tenant.create",
            target: format!("tenant:{slug}"),
            tenant_id: Some(id),
            project_id: None,
            summary: serde_json::json!({"name": name.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(TenantSummary {
        id,
        slug: slug.to_string(),
        name: name.as_str().to_owned(),
        role: Some("tenant_admin".into()),
        created_at: row.get("created_at"),
    })
}

/// Adds an existing account, named by its exact email, to a tenant (tenant
/// admins and platform administrators; the tenant's policy decides); audited.
pub async fn add_member(p: &Platform, actor: &Actor, tenant: Uuid, input: crate::wire::NewMember) -> DomainResult<()> {
    let email = crate::types::Email::parse(&input.email)?;
    let role = match input.role.trim() {
        r @ ("tenant_admin" | "member") => r.to_owned(),
        other => return Err(DomainError::Invalid(format!("`{other}` is not a tenant role (tenant_admin or member)"))),
    };
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let user: Option<Uuid> =
        sqlx::query_scalar("SELECT ops.user_id_by_email($1)").bind(email.as_str()).fetch_one(&mut *tx).await?;
    let user = user.ok_or_else(|| DomainError::Invalid(format!("no account with the email {email}")))?;
    let done = sqlx::query(
        "INSERT INTO ops.tenant_members (tenant_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role",
    )
    .bind(tenant)
    .bind(user)
    .bind(&role)
    .execute(&mut *tx)
    .await;
    done?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: "tenant.member_set",
            target: format!("user:{user}"),
            tenant_id: Some(tenant),
            project_id: None,
            summary: serde_json::json!({"email": email.as_str(), "role": role}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
