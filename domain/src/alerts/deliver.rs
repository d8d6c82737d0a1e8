//! Sending alert notices: the webhook-delivery job claims what is due and
//! sends each by its channel — a mail through the console's mailer, a JSON
//! body signed with HMAC-SHA256 (the Standard Webhooks headers the tenant
//! webhooks use), or a Slack-compatible `{"text": …}` — through the outbound
//! guard (public `https://` hosts only, no redirects). A failure is retried
//! after 30 s, 2 min, 8 min … until the seventh try. Every outcome is kept on
//! the delivery and audited.

use crate::audit::{self, Event};
use crate::automation::deliver::sign;
use crate::builds::queue::{system_actor, SYSTEM_USER};
use crate::mailer::OutgoingMail;
use crate::platform::Platform;
use crate::types::{webhook_backoff_secs, AuditAction, WEBHOOK_MAX_ATTEMPTS};
use serde_json::{json, Value};
use sqlx::Row;
use uuid::Uuid;

/// What the channel's secret is sealed for.
pub(crate) const SECRET_PURPOSE: &str = "alert-channel-signing-secret";
const BATCH: i64 = 16;

/// Wakes the delivery job now (alert notices ride the webhook-delivery job).
pub(crate) use crate::automation::deliver::wake;

struct Due {
    id: Uuid,
    tenant: Uuid,
    project: Uuid,
    kind: String,
    notice: String,
    payload: Value,
    attempts: i32,
    target: Option<String>,
    sealed: Option<Vec<u8>>,
    project_name: String,
}

/// Sends what is due; answers how many were tried.
#[tracing::instrument(skip_all)]
pub async fn run_due(p: &Platform) -> anyhow::Result<usize> {
    let mut tried = 0;
    for _ in 0..8 {
        let batch = claim(p).await?;
        if batch.is_empty() {
            break;
        }
        tried += batch.len();
        futures_util::future::join_all(batch.into_iter().map(|d| async move {
            let outcome = attempt(p, &d).await;
            if let Err(e) = record(p, &d, outcome).await {
                tracing::warn!(delivery = %d.id, error = %format!("{e:#}"), "could not record an alert delivery");
            }
        }))
        .await;
    }
    Ok(tried)
}

async fn claim(p: &Platform) -> anyhow::Result<Vec<Due>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let rows = sqlx::query(
        "UPDATE ops.alert_deliveries d
            SET state = 'sending', attempts = d.attempts + 1, next_attempt_at = clock_timestamp() + interval '2 minutes'
          WHERE d.id IN (SELECT id FROM ops.alert_deliveries
                          WHERE state IN ('pending', 'sending', 'failed') AND next_attempt_at <= clock_timestamp()
                          ORDER BY next_attempt_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING d.id, d.tenant_id, d.project_id, d.channel_kind, d.notice, d.payload, d.attempts,
                   (SELECT c.target FROM ops.alert_channels c WHERE c.id = d.channel_id) AS target,
                   (SELECT c.secret_sealed FROM ops.alert_channels c WHERE c.id = d.channel_id) AS sealed,
                   (SELECT pr.name FROM ops.projects pr WHERE pr.id = d.project_id) AS project_name",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| Due {
            id: r.get("id"),
            tenant: r.get("tenant_id"),
            project: r.get("project_id"),
            kind: r.get("channel_kind"),
            notice: r.get("notice"),
            payload: r.get("payload"),
            attempts: r.get("attempts"),
            target: r.get("target"),
            sealed: r.get("sealed"),
            project_name: r.get::<Option<String>, _>("project_name").unwrap_or_default(),
        })
        .collect())
}

/// A person's line for a notice.
pub fn headline(project: &str, notice: &str, summary: &str) -> String {
    match notice {
        "fired" => format!("[{project}] ALERT: {summary}"),
        "repeat" => format!("[{project}] STILL FAILING: {summary}"),
        "resolved" => format!("[{project}] RESOLVED: {summary}"),
        _ => format!("[{project}] Test notice from OdooOps: {summary}"),
    }
}

/// One try: `Ok` when delivered, or why not.
async fn attempt(p: &Platform, d: &Due) -> Result<Option<u16>, String> {
    let summary = d.payload["alert"]["summary"].as_str().unwrap_or_default().to_owned();
    let line = headline(&d.project_name, &d.notice, &summary);
    match d.kind.as_str() {
        "email" => {
            let to: Vec<String> = match &d.target {
                Some(list) => list.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect(),
                None => d.payload["to"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
            };
            if to.is_empty() {
                return Err("nobody to mail: the project has no admin with an address".into());
            }
            let body = format!(
                "{line}\n\n{}\n\nWhen: {}\nOpen OdooOps: {}/alerts/{}\n",
                summary,
                d.payload["at"].as_str().unwrap_or_default(),
                p.settings.public_url.trim_end_matches('/'),
                d.project
            );
            for address in to {
                p.mailer
                    .send(OutgoingMail { to: address.clone(), subject: line.clone(), body: body.clone() })
                    .await
                    .map_err(|e| format!("the mailer refused {address}: {e}"))?;
            }
            Ok(None)
        }
        "webhook" => {
            let url = d.target.as_deref().ok_or("the channel was removed")?;
            let secret = d
                .sealed
                .as_deref()
                .and_then(|s| p.settings.sealer.open(s, SECRET_PURPOSE).ok())
                .and_then(|s| String::from_utf8(s).ok())
                .ok_or("the channel's signing secret cannot be opened by this console")?;
            let body = serde_json::to_vec(&d.payload).expect("JSON values serialise");
            let id = d.id.to_string();
            let timestamp = chrono::Utc::now().timestamp();
            let signature = sign(&secret, &id, timestamp, &body).map_err(|e| format!("signing: {e}"))?;
            let headers = [
                ("webhook-id", id),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature),
                ("odooops-event", format!("alert.{}", d.notice)),
                ("user-agent", concat!("OdooOps-Alerts/", env!("CARGO_PKG_VERSION")).to_owned()),
            ];
            expect_2xx(p.outbound_checks().post_https(url, &headers, body).await)
        }
        "slack" => {
            let url = d.target.as_deref().ok_or("the channel was removed")?;
            let body = serde_json::to_vec(&json!({"text": line})).expect("JSON values serialise");
            let headers = [("user-agent", concat!("OdooOps-Alerts/", env!("CARGO_PKG_VERSION")).to_owned())];
            expect_2xx(p.outbound_checks().post_https(url, &headers, body).await)
        }
        other => Err(format!("unknown channel kind {other}")),
    }
}

fn expect_2xx(outcome: Result<u16, String>) -> Result<Option<u16>, String> {
    match outcome {
        Ok(s) if (200..300).contains(&s) => Ok(Some(s)),
        Ok(s) if (300..400).contains(&s) => Err(format!("answered {s} (redirects are not followed)")),
        Ok(s) => Err(format!("answered {s}")),
        Err(why) => Err(why),
    }
}

async fn record(p: &Platform, d: &Due, outcome: Result<Option<u16>, String>) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let state = match &outcome {
        Ok(_) => "delivered",
        Err(_) if d.attempts >= WEBHOOK_MAX_ATTEMPTS => "gave_up",
        Err(_) => "failed",
    };
    let status = match &outcome {
        Ok(s) => s.map(i32::from),
        Err(_) => None,
    };
    let error = outcome.as_ref().err().map(|e| e.chars().take(500).collect::<String>());
    sqlx::query(
        "UPDATE ops.alert_deliveries SET state = $2, last_status = $3, last_error = $4,
                delivered_at = CASE WHEN $2 = 'delivered' THEN clock_timestamp() END,
                next_attempt_at = clock_timestamp() + make_interval(secs => $5)
          WHERE id = $1 AND state = 'sending'",
    )
    .bind(d.id)
    .bind(state)
    .bind(status)
    .bind(&error)
    .bind(webhook_backoff_secs(d.attempts) as f64)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &system_actor(),
        Event {
            action: AuditAction::AlertDelivery,
            target: format!("alert_delivery:{}", d.id),
            tenant_id: Some(d.tenant),
            project_id: Some(d.project),
            summary: json!({"channel": d.kind, "notice": d.notice, "attempt": d.attempts, "state": state,
                            "status": status, "error": error}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
