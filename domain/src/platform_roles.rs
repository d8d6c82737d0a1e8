//! Platform roles: who runs the installation. Owners do everything and grant
//! roles; operators everything but deleting tenants and platform settings;
//! auditors read everything; finance owners read billing (tenants, plans,
//! subscriptions) and nothing below it. Roles are granted by owners only,
//! through a database function the application role needs (it cannot write
//! the column itself), and the last owner stays.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Email, PlatformRole};
use crate::wire::PlatformMember;
use sqlx::Row;

/// The people with a platform role (owners, operators and auditors see them).
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<PlatformMember>> {
    if !actor.platform_role.is_some_and(|r| r.administers_platform() || r == PlatformRole::Auditor) {
        return Err(DomainError::Denied("the platform's roles are for platform staff and auditors".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT email, display_name, platform_role FROM ops.users
          WHERE platform_role IS NOT NULL AND id <> '00000000-0000-0000-0000-000000000001'
          ORDER BY platform_role, email",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| PlatformMember {
            email: r.get("email"),
            display_name: r.get("display_name"),
            role: r.get("platform_role"),
        })
        .collect())
}

/// Grants `role` to the account with `email`, or withdraws its role (`None`). Owners only; audited.
pub async fn set(p: &Platform, actor: &Actor, email: &str, role: Option<&str>) -> DomainResult<()> {
    if actor.platform_role != Some(PlatformRole::Owner) {
        return Err(DomainError::Denied("only platform owners grant platform roles".into()));
    }
    let email = Email::parse(email)?;
    let role = role.map(str::trim).filter(|r| !r.is_empty()).map(PlatformRole::parse).transpose()?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('ops.platform_roles'))").execute(&mut *tx).await?;
    let (owners, was, verified): (i64, Option<String>, Option<bool>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM ops.users WHERE platform_role = 'platform_owner'),
                (SELECT platform_role FROM ops.users WHERE email = $1),
                (SELECT email_verified_at IS NOT NULL FROM ops.users WHERE email = $1)",
    )
    .bind(email.as_str())
    .fetch_one(&mut *tx)
    .await?;
    if verified.is_none() {
        return Err(DomainError::NotFound("account with that email"));
    }
    if role.is_some() && verified == Some(false) {
        return Err(DomainError::Invalid(
            "that account has not confirmed its email address yet: a role goes only to a proven address".into(),
        ));
    }
    if was.as_deref() == Some("platform_owner") && role != Some(PlatformRole::Owner) && owners <= 1 {
        return Err(DomainError::Conflict("the installation keeps at least one platform owner".into()));
    }
    let target: Option<uuid::Uuid> = sqlx::query_scalar("SELECT ops.set_platform_role($1, $2)")
        .bind(email.as_str())
        .bind(role.map(|r| r.as_str()))
        .fetch_one(&mut *tx)
        .await?;
    if target.is_none() {
        return Err(DomainError::NotFound("account with that email"));
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::PlatformRoleSet,
            target: format!("user:{}", email.as_str()),
            tenant_id: None,
            project_id: None,
            summary: serde_json::json!({"role": role.map(|r| r.as_str()), "was": was}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
