//! The Supabase kit: a Supabase project linked to a tenant or to one of its
//! projects, with its Management API token sealed here (AES-256-GCM, key
//! outside the database) and opened only by [`proxy`] to make a call. The
//! token is never in a response, a log line, the HTML or the WASM; unlinking
//! deletes it.
//!
//! Who links: a tenant's admins (tenant links), a project's admins (project
//! links), platform staff (both). Who calls through the kit: see [`proxy`].

pub mod local;
pub mod proxy;

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, SupabaseRef};
use crate::wire::{SupabaseLinkInput, SupabaseLinkView};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

/// What a sealed Management API token is sealed for (the AEAD's associated data).
pub(crate) const TOKEN_PURPOSE: &str = "supabase-management-token";

/// Who writes through a link: platform staff, the tenant's admins (tenant
/// links), the project's admins (project links).
pub(crate) const WRITES_SQL: &str = "(ops.is_platform_admin()
    OR (l.project_id IS NULL AND l.tenant_id IN (SELECT ops.my_admin_tenants()))
    OR (l.project_id IS NOT NULL AND l.project_id IN (SELECT ops.my_admin_projects())))";

fn link_sql() -> String {
    format!(
        "SELECT l.id, t.slug AS tenant_slug, l.project_id, p.name AS project_name, l.ref, l.token_sealed IS NOT NULL AS has_token,
                {WRITES_SQL} AS writes, l.linked_at
           FROM ops.supabase_links l JOIN ops.tenants t ON t.id = l.tenant_id
           LEFT JOIN ops.projects p ON p.id = l.project_id"
    )
}

fn view(r: &sqlx::postgres::PgRow) -> SupabaseLinkView {
    SupabaseLinkView {
        id: r.get("id"),
        tenant_slug: r.get("tenant_slug"),
        project_id: r.get("project_id"),
        project_name: r.get("project_name"),
        reference: r.get("ref"),
        has_token: r.get("has_token"),
        writes: r.get("writes"),
        linked_at: r.get("linked_at"),
    }
}

/// The links the caller sees.
pub async fn links(p: &Platform, actor: &Actor) -> DomainResult<Vec<SupabaseLinkView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{} ORDER BY t.slug, p.name NULLS FIRST", link_sql())).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(view).collect())
}

/// A Management API token as given: trimmed, printable, of a sane length.
fn token(t: &str) -> DomainResult<String> {
    let t = t.trim();
    if t.len() < 20 || t.len() > 200 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::Invalid(
            "a Management API token is 20 to 200 printable characters (Supabase: Account → Access tokens)".into(),
        ));
    }
    Ok(t.to_owned())
}

/// Links (or relinks) a Supabase project to a tenant or one of its projects,
/// sealing the token. A new ref without a token drops the old token. Audited.
pub async fn link(p: &Platform, actor: &Actor, input: SupabaseLinkInput) -> DomainResult<SupabaseLinkView> {
    let reference = SupabaseRef::parse(&input.reference)?;
    let sealed = input
        .token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(token)
        .transpose()?
        .map(|t| p.settings.sealer.seal(t.as_bytes(), TOKEN_PURPOSE));
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM ops.tenants WHERE slug = $1")
        .bind(input.tenant.trim())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("tenant"))?;
    if let Some(project) = input.project_id {
        let of_tenant: Option<Uuid> = sqlx::query_scalar("SELECT tenant_id FROM ops.projects WHERE id = $1")
            .bind(project)
            .fetch_optional(&mut *tx)
            .await?;
        if of_tenant != Some(tenant) {
            return Err(DomainError::NotFound("project of that tenant"));
        }
    }
    let id = Uuid::new_v4();
    let written = sqlx::query(
        "INSERT INTO ops.supabase_links (id, tenant_id, project_id, ref, token_sealed, linked_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid)) DO UPDATE
            SET ref = EXCLUDED.ref, linked_by = EXCLUDED.linked_by, linked_at = now(),
                token_sealed = CASE WHEN EXCLUDED.token_sealed IS NOT NULL THEN EXCLUDED.token_sealed
                                    WHEN ops.supabase_links.ref = EXCLUDED.ref THEN ops.supabase_links.token_sealed END",
    )
    .bind(id)
    .bind(tenant)
    .bind(input.project_id)
    .bind(reference.as_str())
    .bind(&sealed)
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await;
    match written {
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
            return Err(DomainError::Denied("its admins and platform staff link a Supabase project".into()))
        }
        other => other?,
    };
    let event = Event {
        action: AuditAction::SupabaseLink,
        target: format!("supabase:{reference}"),
        tenant_id: Some(tenant),
        project_id: input.project_id,
        summary: serde_json::json!({"ref": reference.as_str(), "token": sealed.is_some()}),
    };
    audit::record(&mut tx, actor, event).await?;
    let row = sqlx::query(&format!("{} WHERE l.tenant_id = $1 AND l.project_id IS NOT DISTINCT FROM $2", link_sql()))
        .bind(tenant)
        .bind(input.project_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(view(&row))
}

/// Unlinks: the link and its token are deleted. Audited.
pub async fn unlink(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = one(&mut tx, id).await?;
    if !row.writes {
        return Err(DomainError::Denied("its admins and platform staff unlink a Supabase project".into()));
    }
    let tenant: Uuid = sqlx::query_scalar("DELETE FROM ops.supabase_links WHERE id = $1 RETURNING tenant_id")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let event = Event {
        action: AuditAction::SupabaseUnlink,
        target: format!("supabase:{}", row.reference),
        tenant_id: Some(tenant),
        project_id: row.project_id,
        summary: serde_json::json!({"ref": row.reference}),
    };
    audit::record(&mut tx, actor, event).await?;
    tx.commit().await?;
    Ok(())
}

async fn one(tx: &mut Transaction<'static, Postgres>, id: Uuid) -> DomainResult<SupabaseLinkView> {
    let r = sqlx::query(&format!("{} WHERE l.id = $1", link_sql()))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DomainError::NotFound("Supabase link"))?;
    Ok(view(&r))
}
