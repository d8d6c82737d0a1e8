//! The platform team's fleet views, read through row-level security (staff
//! and auditors see every tenant, a tenant's people their own): the tenants
//! with their status, plan, region, groups and instances; the timeline of
//! instance operations; the subscriptions of the billing boundary.

use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::wire::{FleetOperation, FleetTenant, SubscriptionView, TenantDetail, TenantMember};
use sqlx::Row;

/// Every tenant the caller sees, with what the tenants list filters on.
pub async fn tenants(p: &Platform, actor: &Actor) -> DomainResult<Vec<FleetTenant>> {
    tenant_rows(p, actor, None).await
}

/// The tenants the caller sees, or the one with `slug`.
async fn tenant_rows(p: &Platform, actor: &Actor, slug: Option<&str>) -> DomainResult<Vec<FleetTenant>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT t.id, t.slug, t.name, t.status, t.region, t.groups, t.contact_email, t.created_at,
                s.plan, s.status AS subscription,
                (SELECT count(*) FROM ops.instances i WHERE i.tenant_id = t.id AND i.state <> 'decommissioned') AS instances,
                (SELECT count(*) FROM ops.instances i WHERE i.tenant_id = t.id AND i.state = 'active') AS active
           FROM ops.tenants t
           LEFT JOIN ops.subscriptions s ON s.tenant_id = t.id AND s.status <> 'cancelled'
          WHERE ($1::text IS NULL OR t.slug = $1)
          ORDER BY t.name",
    )
    .bind(slug)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| FleetTenant {
            id: r.get("id"),
            slug: r.get("slug"),
            name: r.get("name"),
            status: r.get("status"),
            region: r.get("region"),
            groups: r.get("groups"),
            contact_email: r.get("contact_email"),
            plan: r.get("plan"),
            subscription: r.get("subscription"),
            instances: r.get("instances"),
            active_instances: r.get("active"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// Instance operations, newest first (`limit` at most 100).
pub async fn operations(p: &Platform, actor: &Actor, limit: i64, offset: i64) -> DomainResult<Vec<FleetOperation>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT o.id, o.instance_id, i.subdomain, t.slug AS tenant_slug, o.kind, o.state, o.error, o.build_id,
                o.created_at, o.finished_at
           FROM ops.instance_operations o
           JOIN ops.instances i ON i.id = o.instance_id JOIN ops.tenants t ON t.id = o.tenant_id
          ORDER BY o.created_at DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit.clamp(1, 100))
    .bind(offset.max(0))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| FleetOperation {
            id: r.get("id"),
            instance_id: r.get("instance_id"),
            instance: r.get("subdomain"),
            tenant_slug: r.get("tenant_slug"),
            kind: r.get("kind"),
            state: r.get("state"),
            error: r.get("error"),
            build_id: r.get("build_id"),
            created_at: r.get("created_at"),
            finished_at: r.get("finished_at"),
        })
        .collect())
}

/// What the fleet reserves and stores against the runtime's capacity
/// (platform staff and auditors).
pub async fn capacity(p: &Platform, actor: &Actor) -> DomainResult<crate::wire::FleetCapacity> {
    if !actor.platform_role.is_some_and(|r| r.administers_platform() || r == crate::types::PlatformRole::Auditor) {
        return Err(DomainError::Denied("the fleet's capacity is for platform staff".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(
        "SELECT count(*) FILTER (WHERE i.state IN ('provisioning', 'active')) AS running,
                coalesce(sum(pl.cpu_limit) FILTER (WHERE i.state IN ('provisioning', 'active')), 0)::float8 AS cpu,
                coalesce(sum(pl.memory_limit_mb) FILTER (WHERE i.state IN ('provisioning', 'active')), 0)::int8 AS mem,
                coalesce(sum(pl.storage_mb), 0)::int8 AS storage, coalesce(sum(i.storage_used_bytes), 0)::int8 AS used
           FROM ops.instances i JOIN ops.plans pl ON pl.slug = i.plan
          WHERE i.state <> 'decommissioned'",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let (ping, capacity) = tokio::join!(p.runtime.ping(), p.runtime.capacity());
    let runtime = ping.map_or_else(|why| why, |i| i.describe());
    let capacity = capacity.unwrap_or_else(|e| {
        tracing::warn!(error = %format!("{e:#}"), "the runtime's capacity is unknown");
        crate::runtime::Capacity::default()
    });
    let (cpu_total, memory_total_mb) = (capacity.cpus, capacity.memory_bytes / (1 << 20));
    Ok(crate::wire::FleetCapacity {
        running: r.get("running"),
        cpu_reserved: r.get("cpu"),
        memory_reserved_mb: r.get("mem"),
        cpu_total,
        memory_total_mb,
        storage_allotted_mb: r.get("storage"),
        storage_used_bytes: r.get("used"),
        runtime,
    })
}

/// The subscriptions the caller sees, with their plan's price.
pub async fn subscriptions(p: &Platform, actor: &Actor) -> DomainResult<Vec<SubscriptionView>> {
    subscription_rows(p, actor, None).await
}

/// The subscriptions the caller sees, or those of the tenant with `slug`, newest first within a tenant.
async fn subscription_rows(p: &Platform, actor: &Actor, slug: Option<&str>) -> DomainResult<Vec<SubscriptionView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT s.id, t.slug AS tenant_slug, t.name AS tenant_name, s.plan, pl.name AS plan_name,
                pl.monthly_price_cents, s.provider, s.status, s.started_at
           FROM ops.subscriptions s JOIN ops.tenants t ON t.id = s.tenant_id JOIN ops.plans pl ON pl.slug = s.plan
          WHERE ($1::text IS NULL OR t.slug = $1)
          ORDER BY t.name, s.created_at DESC",
    )
    .bind(slug)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| SubscriptionView {
            id: r.get("id"),
            tenant_slug: r.get("tenant_slug"),
            tenant_name: r.get("tenant_name"),
            plan: r.get("plan"),
            plan_name: r.get("plan_name"),
            monthly_price_cents: r.get("monthly_price_cents"),
            provider: r.get("provider"),
            status: r.get("status"),
            started_at: r.get("started_at"),
        })
        .collect())
}

/// One tenant with everything its page's tabs show: its instances, members,
/// subscription, SSO and the last 7 days of its audit trail (at most 500
/// events). Each part is what row-level security lets the caller read.
pub async fn tenant(p: &Platform, actor: &Actor, slug: &str) -> DomainResult<TenantDetail> {
    let summary = tenant_rows(p, actor, Some(slug.trim()))
        .await?
        .into_iter()
        .next()
        .ok_or(crate::error::DomainError::NotFound("tenant"))?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(
        "SELECT t.country, t.language, t.timezone, s.issuer, s.tested_at
           FROM ops.tenants t LEFT JOIN ops.tenant_sso s ON s.tenant_id = t.id WHERE t.id = $1",
    )
    .bind(summary.id)
    .fetch_one(&mut *tx)
    .await?;
    let members = sqlx::query(
        "SELECT u.email, u.display_name, m.role FROM ops.tenant_members m JOIN ops.users u ON u.id = m.user_id
          WHERE m.tenant_id = $1 ORDER BY m.role, u.email",
    )
    .bind(summary.id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|m| TenantMember { email: m.get("email"), display_name: m.get("display_name"), role: m.get("role") })
    .collect();
    let backups = sqlx::query(
        "SELECT b.id, i.subdomain, b.kind, b.state, b.size_bytes, b.verified_at, b.created_at
           FROM ops.backups b JOIN ops.instances i ON i.env_id = b.env_id
          WHERE b.tenant_id = $1 AND b.state <> 'pruned' ORDER BY b.created_at DESC LIMIT 50",
    )
    .bind(summary.id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|b| crate::wire::TenantBackup {
        id: b.get("id"),
        instance: b.get("subdomain"),
        kind: b.get("kind"),
        state: b.get("state"),
        size_bytes: b.get("size_bytes"),
        verified_at: b.get("verified_at"),
        created_at: b.get("created_at"),
    })
    .collect();
    let bundles = sqlx::query_scalar(
        "SELECT name || ' (' || series || ')' FROM ops.bundles WHERE tenant_id = $1 ORDER BY name, series",
    )
    .bind(summary.id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let subscription = subscription_rows(p, actor, Some(&summary.slug)).await?.into_iter().next();
    let instances = crate::instances::list(p, actor, Some(&summary.slug), None, 100, 0).await?;
    let filter = crate::wire::AuditFilter {
        tenant: Some(summary.id),
        since: Some(chrono::Utc::now() - chrono::Duration::days(7)),
        limit: Some(500),
        ..Default::default()
    };
    let events = crate::audit::search(p, actor, &filter).await?;
    Ok(TenantDetail {
        country: r.get("country"),
        language: r.get("language"),
        timezone: r.get("timezone"),
        sso_issuer: r.get("issuer"),
        sso_tested_at: r.get("tested_at"),
        summary,
        subscription,
        members,
        instances,
        events,
        backups,
        bundles,
    })
}

/// The recommendations console's findings over the instances the caller sees
/// (the rules are `types::findings`; this gathers their facts).
pub async fn findings(p: &Platform, actor: &Actor) -> DomainResult<Vec<crate::types::Finding>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT i.id, i.subdomain, t.slug AS tenant_slug, i.state, i.odoo_version, pl.storage_mb, i.storage_used_bytes,
                (SELECT b.state FROM ops.backups b WHERE b.env_id = i.env_id AND b.state <> 'pruned'
                  ORDER BY b.created_at DESC LIMIT 1) AS last_backup,
                greatest(i.created_at, (SELECT max(o.finished_at) FROM ops.instance_operations o
                                         WHERE o.instance_id = i.id)) AS last_activity,
                ARRAY(SELECT m FROM unnest(i.modules) m
                       WHERE EXISTS (SELECT 1 FROM ops.catalog_modules c WHERE c.name = m AND c.series = i.odoo_version)
                         AND NOT EXISTS (SELECT 1 FROM ops.catalog_modules c WHERE c.name = m
                                            AND c.series = (split_part(i.odoo_version, '.', 1)::int + 1)::text || '.0')
                       ORDER BY m) AS stuck
           FROM ops.instances i JOIN ops.tenants t ON t.id = i.tenant_id JOIN ops.plans pl ON pl.slug = i.plan
          WHERE i.state <> 'decommissioned'",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let facts: Vec<crate::types::InstanceFacts> = rows
        .iter()
        .map(|r| crate::types::InstanceFacts {
            id: r.get("id"),
            subdomain: r.get("subdomain"),
            tenant_slug: r.get("tenant_slug"),
            state: r.get("state"),
            odoo_version: r.get("odoo_version"),
            storage_limit_mb: i64::from(r.get::<i32, _>("storage_mb")),
            storage_used_bytes: r.get("storage_used_bytes"),
            last_backup: r.get("last_backup"),
            last_activity: r.get("last_activity"),
            stuck_modules: r.get("stuck"),
        })
        .collect();
    Ok(crate::types::findings(&facts, chrono::Utc::now()))
}

/// The tenants' OpenID Connect configurations the caller sees (never the client secret).
pub async fn sso_configs(p: &Platform, actor: &Actor) -> DomainResult<Vec<crate::wire::SsoConfigView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT t.slug, t.name, s.issuer, s.client_id, s.scopes, s.client_secret IS NOT NULL AS has_secret, s.tested_at
           FROM ops.tenant_sso s JOIN ops.tenants t ON t.id = s.tenant_id ORDER BY t.name",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| crate::wire::SsoConfigView {
            tenant_slug: r.get("slug"),
            tenant_name: r.get("name"),
            issuer: r.get("issuer"),
            client_id: r.get("client_id"),
            scopes: r.get("scopes"),
            has_secret: r.get("has_secret"),
            tested_at: r.get("tested_at"),
        })
        .collect())
}
