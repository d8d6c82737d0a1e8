//! Alerts: rules per project (made with sensible defaults for every
//! project: an environment down for two minutes, a failed production build,
//! a failed backup or restore drill, a database over 10 GB, a scheduled
//! action disabled by its runtime limit, a custom domain failing its check),
//! the channels notices go to (email, a signed webhook, a Slack-compatible
//! incoming webhook; a project without channels mails its admins), and the
//! alerts and deliveries for people to read.
//!
//! The project's members read all of it; its admins change rules and
//! channels and send a test notice. A channel's URL is hostile input: it is
//! `https://` on a host name, and every delivery goes through the outbound
//! guard ([`deliver`]). Every change is audited.

pub mod deliver;
mod evaluate;

pub use evaluate::{evaluate, Evaluated};

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{webhook_url, AuditAction, Email};
use crate::wire::{
    AlertChannelCreated, AlertChannelView, AlertDeliveryView, AlertRuleChange, AlertRuleView, AlertView, AlertsPage,
    NewAlertChannel,
};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// Channels one project may have.
pub const MAX_CHANNELS: i64 = 20;
/// Alerts and deliveries a page shows.
const RECENT: i64 = 50;

fn rule(r: &sqlx::postgres::PgRow) -> AlertRuleView {
    AlertRuleView {
        id: r.get("id"),
        kind: r.get("kind"),
        enabled: r.get("enabled"),
        threshold: r.get("threshold"),
        repeat_minutes: r.get("repeat_minutes"),
    }
}

fn channel(r: &sqlx::postgres::PgRow) -> AlertChannelView {
    AlertChannelView {
        id: r.get("id"),
        kind: r.get("kind"),
        name: r.get("name"),
        target: r.get("target"),
        created_at: r.get("created_at"),
    }
}

fn delivery(r: &sqlx::postgres::PgRow) -> AlertDeliveryView {
    AlertDeliveryView {
        id: r.get("id"),
        alert_id: r.get("alert_id"),
        channel_id: r.get("channel_id"),
        channel_kind: r.get("channel_kind"),
        notice: r.get("notice"),
        state: r.get("state"),
        attempts: r.get("attempts"),
        last_status: r.get("last_status"),
        last_error: r.get("last_error"),
        next_attempt_at: r.get("next_attempt_at"),
        delivered_at: r.get("delivered_at"),
        created_at: r.get("created_at"),
    }
}

const DELIVERY_SQL: &str = "SELECT id, alert_id, channel_id, channel_kind, notice, state, attempts, last_status, \
                            last_error, next_attempt_at, delivered_at, created_at FROM ops.alert_deliveries";

/// The project's tenant and whether the caller administers it; `NotFound` when it cannot see it.
async fn project_access(tx: &mut crate::db::ScopedTx, project: Uuid) -> DomainResult<(Uuid, bool)> {
    let r = sqlx::query(
        "SELECT tenant_id, (id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin()) AS may
           FROM ops.projects WHERE id = $1",
    )
    .bind(project)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(DomainError::NotFound("project"))?;
    Ok((r.get("tenant_id"), r.get("may")))
}

async fn administered(tx: &mut crate::db::ScopedTx, project: Uuid) -> DomainResult<Uuid> {
    match project_access(tx, project).await? {
        (tenant, true) => Ok(tenant),
        _ => Err(DomainError::Denied("alert rules and channels are for the project's admins".into())),
    }
}

/// A project's rules, channels, recent alerts and deliveries (its members).
pub async fn page(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<AlertsPage> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let (_, may_manage) = project_access(&mut tx, project).await?;
    let rules = sqlx::query("SELECT * FROM ops.alert_rules WHERE project_id = $1 ORDER BY kind")
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    let channels = sqlx::query("SELECT * FROM ops.alert_channels WHERE project_id = $1 ORDER BY created_at")
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    let alerts = sqlx::query(
        "SELECT * FROM ops.alerts WHERE project_id = $1 ORDER BY (state = 'firing') DESC, started_at DESC LIMIT $2",
    )
    .bind(project)
    .bind(RECENT)
    .fetch_all(&mut *tx)
    .await?;
    let deliveries = sqlx::query(&format!("{DELIVERY_SQL} WHERE project_id = $1 ORDER BY created_at DESC LIMIT $2"))
        .bind(project)
        .bind(RECENT)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(AlertsPage {
        rules: rules.iter().map(rule).collect(),
        channels: channels.iter().map(channel).collect(),
        alerts: alerts
            .iter()
            .map(|r| AlertView {
                id: r.get("id"),
                kind: r.get("kind"),
                subject: r.get("subject"),
                env_id: r.get("env_id"),
                state: r.get("state"),
                summary: r.get("summary"),
                started_at: r.get("started_at"),
                last_notified_at: r.get("last_notified_at"),
                resolved_at: r.get("resolved_at"),
            })
            .collect(),
        deliveries: deliveries.iter().map(delivery).collect(),
        may_manage,
    })
}

/// Changes a rule (project admins); audited.
pub async fn change_rule(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    id: Uuid,
    change: AlertRuleChange,
) -> DomainResult<AlertRuleView> {
    if change.threshold.is_some_and(|t| !(0..=10_000_000).contains(&t)) {
        return Err(DomainError::Invalid("threshold must be between 0 and 10000000".into()));
    }
    if change.repeat_minutes.is_some_and(|m| !(5..=10_080).contains(&m)) {
        return Err(DomainError::Invalid("repeat_minutes must be between 5 and 10080 (a week)".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = administered(&mut tx, project).await?;
    let r = sqlx::query(
        "UPDATE ops.alert_rules SET enabled = coalesce($3, enabled), threshold = coalesce($4, threshold),
                repeat_minutes = coalesce($5, repeat_minutes)
          WHERE id = $1 AND project_id = $2 RETURNING *",
    )
    .bind(id)
    .bind(project)
    .bind(change.enabled)
    .bind(change.threshold)
    .bind(change.repeat_minutes)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("alert rule"))?;
    let view = rule(&r);
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::AlertRuleChange,
            target: format!("alert_rule:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"kind": view.kind, "change": change}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// The channel's target in its canonical form, or why it is refused.
fn parse_target(kind: &str, target: &str) -> DomainResult<String> {
    match kind {
        "email" => {
            let addresses = target
                .split([',', ';', ' ', '\n'])
                .filter(|a| !a.trim().is_empty())
                .map(|a| Email::parse(a).map(|e| e.as_str().to_owned()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DomainError::Invalid(e.to_string()))?;
            if addresses.is_empty() || addresses.len() > 20 {
                return Err(DomainError::Invalid("one to twenty addresses, separated by commas".into()));
            }
            Ok(addresses.join(", "))
        }
        "webhook" | "slack" => webhook_url(target).map_err(DomainError::Invalid),
        _ => Err(DomainError::Invalid("a channel is `email`, `webhook` or `slack`".into())),
    }
}

/// Adds a channel (project admins); a webhook's signing secret is shown this once. Audited.
pub async fn add_channel(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    input: NewAlertChannel,
) -> DomainResult<AlertChannelCreated> {
    let kind = input.kind.trim().to_ascii_lowercase();
    let target = parse_target(&kind, &input.target)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(DomainError::Invalid("a channel's name is 1 to 80 characters".into()));
    }
    let secret = (kind == "webhook").then(|| format!("whsec_{}", crate::automation::deliver::new_key()));
    let sealed = secret.as_ref().map(|s| p.settings.sealer.seal(s.as_bytes(), deliver::SECRET_PURPOSE));
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = administered(&mut tx, project).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.alert_channels WHERE project_id = $1")
        .bind(project)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_CHANNELS {
        return Err(DomainError::Conflict(format!("a project has at most {MAX_CHANNELS} alert channels")));
    }
    let r = sqlx::query(
        "INSERT INTO ops.alert_channels (tenant_id, project_id, kind, name, target, secret_sealed, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(tenant)
    .bind(project)
    .bind(&kind)
    .bind(name)
    .bind(&target)
    .bind(&sealed)
    .bind(actor.user_id.0)
    .fetch_one(&mut *tx)
    .await?;
    let view = channel(&r);
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::AlertChannelAdd,
            target: format!("alert_channel:{}", view.id),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"kind": kind, "name": name, "target": target}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(AlertChannelCreated { channel: view, signing_secret: secret })
}

/// Removes a channel (project admins). Audited.
pub async fn remove_channel(p: &Platform, actor: &Actor, project: Uuid, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = administered(&mut tx, project).await?;
    let name: String =
        sqlx::query_scalar("DELETE FROM ops.alert_channels WHERE id = $1 AND project_id = $2 RETURNING name")
            .bind(id)
            .bind(project)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DomainError::NotFound("alert channel"))?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::AlertChannelRemove,
            target: format!("alert_channel:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"name": name}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues a test notice to a channel (project admins); it is sent within
/// seconds and its outcome shows with the deliveries. Audited.
pub async fn test_channel(p: &Platform, actor: &Actor, project: Uuid, id: Uuid) -> DomainResult<AlertDeliveryView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant = administered(&mut tx, project).await?;
    let kind: String = sqlx::query_scalar("SELECT kind FROM ops.alert_channels WHERE id = $1 AND project_id = $2")
        .bind(id)
        .bind(project)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("alert channel"))?;
    let payload = json!({"type": "alert.test", "alert": {"kind": "test",
                         "summary": format!("a test notice sent by {}", actor.email)},
                         "project_id": project, "at": chrono::Utc::now()});
    let r = sqlx::query(&format!(
        "WITH q AS (INSERT INTO ops.alert_deliveries (tenant_id, project_id, channel_id, channel_kind, notice, payload)
                    VALUES ($1, $2, $3, $4, 'test', $5) RETURNING *)
         {} ",
        DELIVERY_SQL.replace("FROM ops.alert_deliveries", "FROM q")
    ))
    .bind(tenant)
    .bind(project)
    .bind(id)
    .bind(&kind)
    .bind(&payload)
    .fetch_one(&mut *tx)
    .await?;
    let view = delivery(&r);
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::AlertChannelTest,
            target: format!("alert_channel:{id}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: json!({"delivery": view.id}),
        },
    )
    .await?;
    tx.commit().await?;
    deliver::wake(p).await;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::parse_target;

    #[test]
    fn channel_targets_are_parsed_and_hostile_ones_refused() {
        assert_eq!(parse_target("email", "Ann@Acme.test; bob@acme.test").unwrap(), "ann@acme.test, bob@acme.test");
        assert!(parse_target("email", "not an address").is_err());
        assert!(parse_target("email", "").is_err());
        assert!(parse_target("webhook", "https://hooks.acme.test/in").is_ok());
        for bad in [
            "http://hooks.acme.test/in",
            "https://127.0.0.1/in",
            "https://user:pw@hooks.acme.test/",
            "file:///etc/passwd",
        ] {
            assert!(parse_target("webhook", bad).is_err(), "{bad}");
            assert!(parse_target("slack", bad).is_err(), "{bad}");
        }
        assert!(parse_target("pager", "x").is_err());
    }
}
