//! Automation: a tenant's outbound event subscriptions. Instance and
//! operation events (queued by triggers in the same transaction as the change,
//! so none is lost or invented) are delivered as signed webhooks by the
//! [`deliver`] job, with retries and a history people can read and retry from.
//!
//! A subscription's URL is hostile input: it must be `https://` on a host name
//! ([`crate::types::webhook_url`]), and every delivery resolves it again and
//! sends only to a public address (the operator may allow networks), follows
//! no redirect and waits at most ten seconds. The signing secret is made here,
//! shown once, and kept sealed.

pub mod deliver;

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{webhook_events, webhook_url, AuditAction};
use crate::wire::{DeliveryPage, DeliveryView, NewWebhook, WebhookChange, WebhookCreated, WebhookView};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

/// What a sealed signing secret is sealed for (the AEAD's associated data).
pub(crate) const SECRET_PURPOSE: &str = "webhook-signing-secret";

use crate::wire::DELIVERY_PAGE as PAGE;

const WEBHOOK_SQL: &str = "
    SELECT s.id, t.slug AS tenant_slug, t.name AS tenant_name, s.url, s.description, s.events, s.active,
           s.created_at,
           (SELECT count(*) FROM ops.event_deliveries d
             WHERE d.subscription_id = s.id AND d.state IN ('pending', 'sending', 'failed')) AS waiting,
           (SELECT count(*) FROM ops.event_deliveries d
             WHERE d.subscription_id = s.id AND d.state = 'gave_up') AS gave_up,
           l.state AS last_state, l.created_at AS last_at
      FROM ops.event_subscriptions s JOIN ops.tenants t ON t.id = s.tenant_id
      LEFT JOIN LATERAL (SELECT d.state, d.created_at FROM ops.event_deliveries d
                          WHERE d.subscription_id = s.id ORDER BY d.created_at DESC LIMIT 1) l ON true";

fn webhook(r: &sqlx::postgres::PgRow) -> WebhookView {
    WebhookView {
        id: r.get("id"),
        tenant_slug: r.get("tenant_slug"),
        tenant_name: r.get("tenant_name"),
        url: r.get("url"),
        description: r.get("description"),
        events: r.get("events"),
        active: r.get("active"),
        created_at: r.get("created_at"),
        waiting: r.get("waiting"),
        gave_up: r.get("gave_up"),
        last_state: r.get("last_state"),
        last_at: r.get("last_at"),
    }
}

/// The subscriptions the caller sees (their tenants' as admin; all for staff and auditors).
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<WebhookView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{WEBHOOK_SQL} ORDER BY t.slug, s.created_at")).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(webhook).collect())
}

async fn one(tx: &mut Transaction<'static, Postgres>, id: Uuid) -> DomainResult<WebhookView> {
    let r = sqlx::query(&format!("{WEBHOOK_SQL} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DomainError::NotFound("event subscription"))?;
    Ok(webhook(&r))
}

/// The tenant of `row` if the caller manages its automation: not found when
/// they cannot see it, denied when they see it without administering it.
fn managed(row: Option<sqlx::postgres::PgRow>, what: &'static str) -> DomainResult<Uuid> {
    let row = row.ok_or(DomainError::NotFound(what))?;
    if !row.get::<bool, _>("manages") {
        return Err(DomainError::Denied("a tenant's admins and platform staff manage its automation".into()));
    }
    Ok(row.get("tenant_id"))
}

const MANAGES: &str = "(tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin()) AS manages";

/// Tenant `slug`, if the caller manages its subscriptions (see [`managed`]).
async fn managed_tenant(tx: &mut Transaction<'static, Postgres>, slug: &str) -> DomainResult<Uuid> {
    let sql = format!("SELECT tenant_id, {MANAGES} FROM (SELECT id AS tenant_id FROM ops.tenants WHERE slug = $1) t");
    managed(sqlx::query(&sql).bind(slug.trim()).fetch_optional(&mut **tx).await?, "tenant")
}

/// The tenant of subscription `id`, if the caller manages it (see [`managed`]).
async fn managed_subscription(tx: &mut Transaction<'static, Postgres>, id: Uuid) -> DomainResult<Uuid> {
    let sql = format!("SELECT tenant_id, {MANAGES} FROM ops.event_subscriptions WHERE id = $1");
    managed(sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?, "event subscription")
}

fn event(action: AuditAction, id: Uuid, tenant: Uuid, summary: serde_json::Value) -> Event {
    Event { action, target: format!("webhook:{id}"), tenant_id: Some(tenant), project_id: None, summary }
}

fn description(s: &str) -> DomainResult<String> {
    let s = s.trim();
    if s.chars().count() > 200 {
        return Err(DomainError::Invalid("a description of at most 200 characters".into()));
    }
    Ok(s.to_owned())
}

/// A new subscription, with its signing secret (shown this once). Audited.
pub async fn create(p: &Platform, actor: &Actor, input: NewWebhook) -> DomainResult<WebhookCreated> {
    let url = webhook_url(&input.url).map_err(DomainError::Invalid)?;
    let events = webhook_events(&input.events).map_err(DomainError::Invalid)?;
    let description = description(&input.description)?;
    let secret = format!("whsec_{}", deliver::new_key());
    let sealed = p.settings.sealer.seal(secret.as_bytes(), SECRET_PURPOSE);
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = managed_tenant(&mut tx, &input.tenant).await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.event_subscriptions (id, tenant_id, url, description, events, secret_sealed, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(tenant)
    .bind(&url)
    .bind(&description)
    .bind(&events)
    .bind(&sealed)
    .bind(actor.user_id.0)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        event(AuditAction::WebhookCreate, id, tenant, serde_json::json!({"url": url, "events": events})),
    )
    .await?;
    let webhook = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(WebhookCreated { webhook, secret })
}

/// Changes a subscription's URL, description, events or whether it is active. Audited.
pub async fn change(p: &Platform, actor: &Actor, id: Uuid, input: WebhookChange) -> DomainResult<WebhookView> {
    let url = input.url.as_deref().map(webhook_url).transpose().map_err(DomainError::Invalid)?;
    let events = input.events.as_deref().map(webhook_events).transpose().map_err(DomainError::Invalid)?;
    let description = input.description.as_deref().map(description).transpose()?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = managed_subscription(&mut tx, id).await?;
    sqlx::query(
        "UPDATE ops.event_subscriptions
            SET url = coalesce($2, url), description = coalesce($3, description), events = coalesce($4, events),
                active = coalesce($5, active), updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(&url)
    .bind(&description)
    .bind(&events)
    .bind(input.active)
    .execute(&mut *tx)
    .await?;
    let summary = serde_json::json!({"url": url, "events": events, "active": input.active});
    audit::record(&mut tx, actor, event(AuditAction::WebhookUpdate, id, tenant, summary)).await?;
    let webhook = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(webhook)
}

/// Deletes a subscription and its delivery history. Audited.
pub async fn delete(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = managed_subscription(&mut tx, id).await?;
    let url: String = sqlx::query_scalar("DELETE FROM ops.event_subscriptions WHERE id = $1 RETURNING url")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    audit::record(&mut tx, actor, event(AuditAction::WebhookDelete, id, tenant, serde_json::json!({"url": url})))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues a `ping` to the subscription (active or not), sent by the next delivery run. Audited.
pub async fn test(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<DeliveryView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = managed_subscription(&mut tx, id).await?;
    let delivery: Option<Uuid> =
        sqlx::query_scalar("SELECT ops.webhook_ping($1, $2)").bind(id).bind(&actor.email).fetch_one(&mut *tx).await?;
    let delivery = delivery.ok_or(DomainError::NotFound("event subscription"))?;
    let summary = serde_json::json!({"delivery": delivery});
    audit::record(&mut tx, actor, event(AuditAction::WebhookTest, id, tenant, summary)).await?;
    let view = delivery_by_id(&mut tx, delivery).await?;
    tx.commit().await?;
    deliver::wake(p).await;
    Ok(view)
}

const DELIVERY_SQL: &str = "
    SELECT d.id, d.subscription_id, t.slug AS tenant_slug, s.url, d.event, d.state, d.attempts, d.last_status,
           d.last_error, d.duration_ms, d.created_at, d.delivered_at, d.payload,
           CASE WHEN d.state IN ('pending', 'sending', 'failed') THEN d.next_attempt_at END AS next_attempt_at
      FROM ops.event_deliveries d JOIN ops.event_subscriptions s ON s.id = d.subscription_id
      JOIN ops.tenants t ON t.id = d.tenant_id";

fn delivery(r: &sqlx::postgres::PgRow) -> DeliveryView {
    DeliveryView {
        id: r.get("id"),
        webhook_id: r.get("subscription_id"),
        tenant_slug: r.get("tenant_slug"),
        url: r.get("url"),
        event: r.get("event"),
        state: r.get("state"),
        attempts: r.get("attempts"),
        last_status: r.get("last_status"),
        last_error: r.get("last_error"),
        duration_ms: r.get("duration_ms"),
        created_at: r.get("created_at"),
        next_attempt_at: r.get("next_attempt_at"),
        delivered_at: r.get("delivered_at"),
        payload: r.get("payload"),
    }
}

async fn delivery_by_id(tx: &mut Transaction<'static, Postgres>, id: Uuid) -> DomainResult<DeliveryView> {
    let r = sqlx::query(&format!("{DELIVERY_SQL} WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DomainError::NotFound("delivery"))?;
    Ok(delivery(&r))
}

/// A page of the deliveries the caller sees, newest first; of one
/// subscription and in one state when asked.
pub async fn deliveries(
    p: &Platform,
    actor: &Actor,
    webhook: Option<Uuid>,
    state: Option<String>,
    page: i64,
) -> DomainResult<DeliveryPage> {
    const STATES: [&str; 5] = ["pending", "sending", "failed", "delivered", "gave_up"];
    let state = state.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if let Some(s) = state.as_deref().filter(|s| !STATES.contains(s)) {
        return Err(DomainError::Invalid(format!("`{s}` is not a delivery state ({})", STATES.join(", "))));
    }
    let page = page.max(1);
    let filter = "($1::uuid IS NULL OR d.subscription_id = $1) AND ($2::text IS NULL OR d.state = $2)";
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ops.event_deliveries d WHERE {filter}"))
        .bind(webhook)
        .bind(&state)
        .fetch_one(&mut *tx)
        .await?;
    let rows = sqlx::query(&format!("{DELIVERY_SQL} WHERE {filter} ORDER BY d.created_at DESC LIMIT $3 OFFSET $4"))
        .bind(webhook)
        .bind(&state)
        .bind(PAGE)
        .bind((page - 1) * PAGE)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(DeliveryPage { deliveries: rows.iter().map(delivery).collect(), total, page })
}

/// Sends a failed (or given-up) delivery again now, with a fresh set of tries. Audited.
pub async fn retry(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<DeliveryView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query("SELECT subscription_id, state FROM ops.event_deliveries WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("delivery"))?;
    let subscription: Uuid = row.get("subscription_id");
    let tenant = managed_subscription(&mut tx, subscription).await?;
    let state: String = row.get("state");
    if !matches!(state.as_str(), "failed" | "gave_up") {
        return Err(DomainError::Conflict(format!("the delivery is {state}: only failed ones are retried")));
    }
    let retried: bool = sqlx::query_scalar("SELECT ops.webhook_retry($1)").bind(id).fetch_one(&mut *tx).await?;
    if !retried {
        return Err(DomainError::Conflict("the delivery changed meanwhile; reload".into()));
    }
    let summary = serde_json::json!({"delivery": id, "was": state});
    audit::record(&mut tx, actor, event(AuditAction::WebhookRetry, subscription, tenant, summary)).await?;
    let view = delivery_by_id(&mut tx, id).await?;
    tx.commit().await?;
    deliver::wake(p).await;
    Ok(view)
}

/// Forgets deliveries older than 30 days (the retention job).
pub async fn forget_old(tx: &mut Transaction<'static, Postgres>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM ops.event_deliveries WHERE created_at < now() - interval '30 days'
            AND state IN ('delivered', 'gave_up')",
    )
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
