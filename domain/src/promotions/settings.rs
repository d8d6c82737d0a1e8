//! A project's release settings: how many approvals a promotion needs, the
//! statements neutralising a copy of production, and the secret patterns
//! scrubbed from it. Apart from the promotion flow itself, which only reads them.

use crate::access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Capability};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// The project's release settings (its members).
pub async fn release_settings(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
) -> DomainResult<crate::wire::ReleaseSettings> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query("SELECT required_approvals, neutralize_sql, secret_patterns FROM ops.projects WHERE id = $1")
        .bind(project)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("project"))?;
    tx.commit().await?;
    Ok(crate::wire::ReleaseSettings {
        required_approvals: Some(r.get("required_approvals")),
        neutralize_sql: Some(r.get("neutralize_sql")),
        secret_patterns: Some(r.get("secret_patterns")),
    })
}

/// Changes approvals and scrubbing (project admins); audited. Patterns must be
/// valid PostgreSQL regular expressions.
pub async fn save_release_settings(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    s: crate::wire::ReleaseSettings,
) -> DomainResult<crate::wire::ReleaseSettings> {
    if let Some(n) = s.required_approvals {
        if !(1..=5).contains(&n) {
            return Err(DomainError::Invalid("required approvals must be between 1 and 5".into()));
        }
    }
    if s.neutralize_sql.as_ref().is_some_and(|q| q.len() > 20_000) {
        return Err(DomainError::Invalid("the neutralize statements are limited to 20,000 characters".into()));
    }
    let patterns: Option<Vec<String>> =
        s.secret_patterns.as_ref().map(|v| v.iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect());
    let mut tx = p.db.begin_as(actor.user_id).await?;
    for pattern in patterns.iter().flatten() {
        let valid = sqlx::query("SELECT '' ~ $1").bind(pattern).execute(&mut *tx).await;
        if valid.is_err() {
            return Err(DomainError::Invalid(format!("`{pattern}` is not a valid regular expression")));
        }
    }
    let access = access::project(&mut tx, project).await?;
    access.require_project(Capability::ProjectSettings, "changing release settings")?;
    sqlx::query(
        "UPDATE ops.projects SET required_approvals = coalesce($2, required_approvals),
                neutralize_sql = coalesce($3, neutralize_sql), secret_patterns = coalesce($4, secret_patterns)
          WHERE id = $1",
    )
    .bind(project)
    .bind(s.required_approvals)
    .bind(s.neutralize_sql.as_deref())
    .bind(&patterns)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ProjectReleaseSettings,
            target: format!("project:{project}"),
            tenant_id: Some(access.tenant_id),
            project_id: Some(project),
            summary: json!({"required_approvals": s.required_approvals, "neutralize_sql": s.neutralize_sql, "secret_patterns": patterns}),
        },
    )
    .await?;
    tx.commit().await?;
    release_settings(p, actor, project).await
}
