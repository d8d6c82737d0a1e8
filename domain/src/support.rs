//! The support center: runbooks (pages platform staff write for everyone to
//! read) and support requests (a tenant's people open them, staff answer and
//! move them through open → in progress → answered → closed; a tenant's admins
//! may close their own). Row-level security decides who sees what.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Slug};
use crate::wire::{NewSupportRequest, RunbookInput, RunbookView, SupportAnswer, SupportRequestView};
use sqlx::Row;
use uuid::Uuid;

use crate::wire::SUPPORT_STATES as STATES;

pub async fn runbooks(p: &Platform, actor: &Actor) -> DomainResult<Vec<RunbookView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT r.slug, r.title, r.body, r.updated_at, u.email AS updated_by
           FROM ops.runbooks r LEFT JOIN ops.users u ON u.id = r.updated_by ORDER BY r.title",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| RunbookView {
            slug: r.get("slug"),
            title: r.get("title"),
            body_html: crate::markdown::to_html(r.get("body")),
            body: r.get("body"),
            updated_by: r.get("updated_by"),
            updated_at: r.get("updated_at"),
        })
        .collect())
}

/// Writes a runbook (platform staff); audited.
pub async fn save_runbook(p: &Platform, actor: &Actor, input: RunbookInput) -> DomainResult<()> {
    if !actor.administers_platform() {
        return Err(DomainError::Denied("runbooks are written by platform staff".into()));
    }
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 120 {
        return Err(DomainError::Invalid("a title of 1 to 120 characters".into()));
    }
    if input.body.len() > 100_000 {
        return Err(DomainError::Invalid("a runbook is at most 100,000 characters".into()));
    }
    let slug = match input.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Slug::parse(s)?,
        None => Slug::from_name(title, "runbook"),
    };
    let mut tx = p.db.begin_as(actor.user_id).await?;
    sqlx::query(
        "INSERT INTO ops.runbooks (slug, title, body, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body,
                                          updated_by = EXCLUDED.updated_by, updated_at = now()",
    )
    .bind(slug.as_str())
    .bind(title)
    .bind(&input.body)
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await?;
    let event = Event {
        action: AuditAction::RunbookSave,
        target: format!("runbook:{slug}"),
        tenant_id: None,
        project_id: None,
        summary: serde_json::json!({"title": title, "bytes": input.body.len()}),
    };
    audit::record(&mut tx, actor, event).await?;
    tx.commit().await?;
    Ok(())
}

const REQUEST_SQL: &str = "SELECT s.id, t.slug AS tenant_slug, u.email AS opened_by, s.subject, s.body, s.state,
                                  s.answer, s.created_at, s.updated_at
                             FROM ops.support_requests s JOIN ops.tenants t ON t.id = s.tenant_id
                             LEFT JOIN ops.users u ON u.id = s.opened_by";

fn request(r: &sqlx::postgres::PgRow) -> SupportRequestView {
    SupportRequestView {
        id: r.get("id"),
        tenant_slug: r.get("tenant_slug"),
        opened_by: r.get("opened_by"),
        subject: r.get("subject"),
        body: r.get("body"),
        state: r.get("state"),
        answer: r.get("answer"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

/// The requests the caller sees, newest first (at most 200).
pub async fn requests(p: &Platform, actor: &Actor) -> DomainResult<Vec<SupportRequestView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{REQUEST_SQL} ORDER BY s.created_at DESC LIMIT 200")).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(request).collect())
}

/// Opens a request for one of the caller's tenants; audited.
pub async fn open(p: &Platform, actor: &Actor, input: NewSupportRequest) -> DomainResult<SupportRequestView> {
    let subject = input.subject.trim();
    if subject.is_empty() || subject.chars().count() > 200 {
        return Err(DomainError::Invalid("a subject of 1 to 200 characters".into()));
    }
    if input.body.len() > 20_000 {
        return Err(DomainError::Invalid("a request is at most 20,000 characters".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant: Uuid =
        sqlx::query_scalar("SELECT id FROM ops.tenants WHERE slug = $1 AND id IN (SELECT ops.my_tenants())")
            .bind(input.tenant.trim())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DomainError::NotFound("tenant of yours"))?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.support_requests (id, tenant_id, opened_by, subject, body) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(tenant)
    .bind(actor.user_id.0)
    .bind(subject)
    .bind(input.body.trim())
    .execute(&mut *tx)
    .await?;
    let event = Event {
        action: AuditAction::SupportRequestOpen,
        target: format!("support:{id}"),
        tenant_id: Some(tenant),
        project_id: None,
        summary: serde_json::json!({"subject": subject}),
    };
    audit::record(&mut tx, actor, event).await?;
    let r = sqlx::query(&format!("{REQUEST_SQL} WHERE s.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(request(&r))
}

/// Moves a request to `state`, with an answer (platform staff; a tenant's admins may only close theirs). Audited.
pub async fn answer(p: &Platform, actor: &Actor, id: Uuid, input: SupportAnswer) -> DomainResult<SupportRequestView> {
    let state = input.state.trim();
    if !STATES.contains(&state) {
        return Err(DomainError::Invalid(format!("`{state}` is not a state ({})", STATES.join(", "))));
    }
    if !actor.administers_platform() && state != "closed" {
        return Err(DomainError::Denied("platform staff answer requests; you may close yours".into()));
    }
    // Only staff answer: a tenant's admin closing a request does not rewrite support's answer.
    let answer = input.answer.as_deref().map(str::trim).filter(|a| !a.is_empty() && actor.administers_platform());
    if answer.is_some_and(|a| a.len() > 20_000) {
        return Err(DomainError::Invalid("an answer is at most 20,000 characters".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant: Option<Uuid> = sqlx::query_scalar(
        "UPDATE ops.support_requests SET state = $2, answer = coalesce($3, answer), updated_at = now()
          WHERE id = $1 RETURNING tenant_id",
    )
    .bind(id)
    .bind(state)
    .bind(answer)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(tenant) = tenant else {
        // Not visible, or visible but not theirs to change: the same answer as for a stranger's.
        return Err(DomainError::NotFound("support request"));
    };
    let event = Event {
        action: AuditAction::SupportRequestState,
        target: format!("support:{id}"),
        tenant_id: Some(tenant),
        project_id: None,
        summary: serde_json::json!({"state": state, "answered": answer.is_some()}),
    };
    audit::record(&mut tx, actor, event).await?;
    let r = sqlx::query(&format!("{REQUEST_SQL} WHERE s.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(request(&r))
}
