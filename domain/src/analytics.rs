//! A tenant's analytics links: the Supabase project it keeps side data in
//! (the tenant's Supabase link; the kit adds the Management API token) and the
//! dashboards its people look at. The console shows them; it never fetches
//! a dashboard URL, so only the scheme is checked (no `javascript:`).

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{dashboard_url, AuditAction, SupabaseRef};
use crate::wire::{AnalyticsInput, AnalyticsView, DashboardLink};
use sqlx::Row;
use uuid::Uuid;

/// Dashboards per tenant.
pub const MAX_DASHBOARDS: usize = 12;

const SQL: &str = "
    SELECT t.id, t.slug, t.name, l.ref AS supabase_ref, coalesce(a.dashboards, '[]') AS dashboards,
           (t.id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin()) AS editable
      FROM ops.tenants t LEFT JOIN ops.tenant_analytics a ON a.tenant_id = t.id
      LEFT JOIN ops.supabase_links l ON l.tenant_id = t.id AND l.project_id IS NULL
     WHERE (t.id IN (SELECT ops.my_tenants()) OR ops.reads_everything())";

fn view(r: &sqlx::postgres::PgRow) -> AnalyticsView {
    let dashboards: serde_json::Value = r.get("dashboards");
    AnalyticsView {
        tenant_slug: r.get("slug"),
        tenant_name: r.get("name"),
        supabase_ref: r.get("supabase_ref"),
        dashboards: serde_json::from_value(dashboards).unwrap_or_default(),
        editable: r.get("editable"),
    }
}

/// Every tenant the caller sees, with its links.
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<AnalyticsView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{SQL} ORDER BY t.name")).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(view).collect())
}

/// The links as given, parsed: a ref or none, at most twelve named web URLs.
pub fn parse(input: &AnalyticsInput) -> DomainResult<(Option<SupabaseRef>, Vec<DashboardLink>)> {
    let reference = match input.supabase_ref.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(SupabaseRef::parse(r)?),
        None => None,
    };
    if input.dashboards.len() > MAX_DASHBOARDS {
        return Err(DomainError::Invalid(format!("at most {MAX_DASHBOARDS} dashboards")));
    }
    let mut dashboards = Vec::new();
    for d in &input.dashboards {
        let name = d.name.trim();
        if name.is_empty() && d.url.trim().is_empty() {
            continue;
        }
        if name.is_empty() || name.chars().count() > 60 {
            return Err(DomainError::Invalid("a dashboard's name has 1 to 60 characters".into()));
        }
        let url = dashboard_url(&d.url).map_err(|e| DomainError::Invalid(format!("{name}: {e}")))?;
        dashboards.push(DashboardLink { name: name.to_owned(), url });
    }
    Ok((reference, dashboards))
}

/// Sets tenant `slug`'s links (its admins and platform staff). Audited.
pub async fn save(p: &Platform, actor: &Actor, slug: &str, input: AnalyticsInput) -> DomainResult<AnalyticsView> {
    let (reference, dashboards) = parse(&input)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(&format!("{SQL} AND t.slug = $1"))
        .bind(slug.trim())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("tenant"))?;
    if !row.get::<bool, _>("editable") {
        return Err(DomainError::Denied("a tenant's admins and platform staff set its analytics links".into()));
    }
    let tenant: Uuid = row.get("id");
    sqlx::query(
        "INSERT INTO ops.tenant_analytics (tenant_id, dashboards, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET dashboards = EXCLUDED.dashboards,
                                               updated_by = EXCLUDED.updated_by, updated_at = now()",
    )
    .bind(tenant)
    .bind(serde_json::to_value(&dashboards).expect("links serialise"))
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await?;
    // The tenant's Supabase link: kept (with its token) for the same ref, replaced
    // without a token for another, deleted (token and all) when cleared.
    match &reference {
        Some(r) => {
            sqlx::query(
                "INSERT INTO ops.supabase_links (id, tenant_id, ref, linked_by) VALUES (gen_random_uuid(), $1, $2, $3)
                 ON CONFLICT (tenant_id, coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid)) DO UPDATE
                    SET token_sealed = CASE WHEN ops.supabase_links.ref = EXCLUDED.ref THEN ops.supabase_links.token_sealed END,
                        linked_by = CASE WHEN ops.supabase_links.ref = EXCLUDED.ref THEN ops.supabase_links.linked_by
                                         ELSE EXCLUDED.linked_by END,
                        ref = EXCLUDED.ref",
            )
            .bind(tenant)
            .bind(r.as_str())
            .bind(actor.user_id.0)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM ops.supabase_links WHERE tenant_id = $1 AND project_id IS NULL")
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
        }
    }
    let event = Event {
        action: AuditAction::TenantAnalytics,
        target: format!("tenant:{}", slug.trim()),
        tenant_id: Some(tenant),
        project_id: None,
        summary: serde_json::json!({"supabase_ref": reference.as_ref().map(SupabaseRef::as_str),
                                    "dashboards": dashboards.len()}),
    };
    audit::record(&mut tx, actor, event).await?;
    let row = sqlx::query(&format!("{SQL} AND t.slug = $1")).bind(slug.trim()).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(view(&row))
}
