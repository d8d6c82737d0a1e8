//! Sending queued deliveries: a periodic job (woken when an event is
//! queued) claims what is due, signs each body the Standard Webhooks way and
//! POSTs it through the outbound guard ([`crate::instances::reach::Checks`]).
//! A 2xx answer delivers; anything else is retried after 30 s, 2 min, 8 min …
//! until the seventh try, then the delivery is given up (people may retry it).
//!
//! One subscription's deliveries of a batch go one after the other, in the
//! order the events happened; subscriptions are served side by side. A retry
//! may arrive after later events: `timestamp` in the body says when each happened.
//!
//! A claim is a two-minute lease (`sending`): a console that dies mid-send
//! leaves the delivery due again, so a receiver may see an event twice and
//! should deduplicate on `webhook-id`, as the standard says.

use super::SECRET_PURPOSE;
use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use crate::types::{webhook_backoff_secs, WEBHOOK_MAX_ATTEMPTS};
use anyhow::Context;
use base64::Engine;
use hmac::{Hmac, Mac};
use sqlx::Row;
use std::time::Instant;
use uuid::Uuid;

/// Deliveries sent at once by one console.
const BATCH: i64 = 16;

/// A fresh signing key, base64 (the part after `whsec_`).
pub(crate) fn new_key() -> String {
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// The `webhook-signature` of `body` sent as message `id` at `timestamp`
/// (Unix seconds), under secret `whsec_<base64 key>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> anyhow::Result<String> {
    let key = secret.strip_prefix("whsec_").context("a signing secret starts with whsec_")?;
    let key = base64::engine::general_purpose::STANDARD.decode(key).context("a signing secret is base64")?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// Wakes the delivery job now (after queuing outside a trigger).
pub(crate) async fn wake(p: &Platform) {
    if let Err(e) = crate::jobs::queue::wake(p, crate::jobs::Kind::WebhookDelivery).await {
        tracing::warn!(error = %format!("{e:#}"), "could not wake webhook delivery");
    }
}

struct Due {
    id: Uuid,
    subscription: Uuid,
    created_at: chrono::DateTime<chrono::Utc>,
    event: String,
    payload: serde_json::Value,
    attempts: i32,
    url: String,
    sealed: Vec<u8>,
}

/// Sends what is due, batch after batch; answers how many were tried.
#[tracing::instrument(skip_all)]
pub async fn run_due(p: &Platform) -> anyhow::Result<usize> {
    let mut tried = 0;
    for _ in 0..16 {
        let batch = claim(p).await.context("claiming due deliveries")?;
        if batch.is_empty() {
            break;
        }
        tried += batch.len();
        futures_util::future::join_all(in_order_per_subscription(batch).into_iter().map(|queue| async move {
            for d in queue {
                send(p, d).await;
            }
        }))
        .await;
    }
    Ok(tried)
}

/// The batch as one queue per subscription, each in the order its events happened.
fn in_order_per_subscription(mut batch: Vec<Due>) -> Vec<Vec<Due>> {
    batch.sort_by_key(|d| (d.subscription, d.created_at));
    let mut queues: Vec<Vec<Due>> = Vec::new();
    for d in batch {
        match queues.last_mut() {
            Some(q) if q[0].subscription == d.subscription => q.push(d),
            _ => queues.push(vec![d]),
        }
    }
    queues
}

async fn claim(p: &Platform) -> anyhow::Result<Vec<Due>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let rows = sqlx::query(
        "UPDATE ops.event_deliveries d
            SET state = 'sending', attempts = d.attempts + 1, next_attempt_at = clock_timestamp() + interval '2 minutes'
           FROM ops.event_subscriptions s
          WHERE s.id = d.subscription_id
            AND d.id IN (SELECT d2.id FROM ops.event_deliveries d2
                           JOIN ops.event_subscriptions s2 ON s2.id = d2.subscription_id
                          WHERE d2.state IN ('pending', 'sending', 'failed') AND d2.next_attempt_at <= clock_timestamp()
                            AND (s2.active OR d2.event = 'ping')
                          ORDER BY d2.next_attempt_at, d2.created_at LIMIT $1 FOR UPDATE OF d2 SKIP LOCKED)
         RETURNING d.id, d.subscription_id, d.created_at, d.event, d.payload, d.attempts, s.url, s.secret_sealed",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| Due {
            id: r.get("id"),
            subscription: r.get("subscription_id"),
            created_at: r.get("created_at"),
            event: r.get("event"),
            payload: r.get("payload"),
            attempts: r.get("attempts"),
            url: r.get("url"),
            sealed: r.get("secret_sealed"),
        })
        .collect())
}

async fn send(p: &Platform, d: Due) {
    let started = Instant::now();
    let outcome = attempt(p, &d).await;
    let took = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    if let Err(e) = record(p, &d, outcome, took).await {
        tracing::warn!(delivery = %d.id, error = %format!("{e:#}"), "could not record a webhook delivery");
    }
}

/// One try: the receiver's status, or why nothing was sent or heard.
async fn attempt(p: &Platform, d: &Due) -> Result<u16, String> {
    let secret = p.settings.sealer.open(&d.sealed, SECRET_PURPOSE).map_err(|e| {
        tracing::warn!(delivery = %d.id, error = %format!("{e:#}"), "a webhook secret does not open");
        "the subscription's signing secret cannot be opened by this console (see its log)".to_owned()
    })?;
    let secret = String::from_utf8(secret).map_err(|_| "the signing secret is damaged".to_owned())?;
    let body = serde_json::to_vec(&d.payload).expect("JSON values serialise");
    let id = d.id.to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(&secret, &id, timestamp, &body).map_err(|e| format!("signing: {e}"))?;
    let headers = [
        ("webhook-id", id),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
        ("odooops-event", d.event.clone()),
        ("user-agent", concat!("OdooOps-Webhooks/", env!("CARGO_PKG_VERSION")).to_owned()),
    ];
    p.outbound_checks().post_https(&d.url, &headers, body).await
}

async fn record(p: &Platform, d: &Due, outcome: Result<u16, String>, took: i32) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let (status, error) = match outcome {
        Ok(s) if (200..300).contains(&s) => (Some(i32::from(s)), None),
        Ok(s) if (300..400).contains(&s) => {
            (Some(i32::from(s)), Some(format!("answered {s} (redirects are not followed)")))
        }
        Ok(s) => (Some(i32::from(s)), Some(format!("answered {s}"))),
        Err(why) => (None, Some(why)),
    };
    match &error {
        None => {
            sqlx::query(
                "UPDATE ops.event_deliveries SET state = 'delivered', delivered_at = clock_timestamp(),
                        last_status = $2, last_error = NULL, duration_ms = $3
                  WHERE id = $1 AND state = 'sending'",
            )
            .bind(d.id)
            .bind(status)
            .bind(took)
            .execute(&mut *tx)
            .await?;
        }
        Some(why) => {
            let gave_up = d.attempts >= WEBHOOK_MAX_ATTEMPTS;
            tracing::info!(delivery = %d.id, attempts = d.attempts, gave_up, error = %why, "webhook delivery failed");
            sqlx::query(
                "UPDATE ops.event_deliveries SET state = $2, last_status = $3, last_error = $4, duration_ms = $5,
                        next_attempt_at = clock_timestamp() + make_interval(secs => $6)
                  WHERE id = $1 AND state = 'sending'",
            )
            .bind(d.id)
            .bind(if gave_up { "gave_up" } else { "failed" })
            .bind(status)
            .bind(why.chars().take(500).collect::<String>())
            .bind(took)
            .bind(webhook_backoff_secs(d.attempts) as f64)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's own example.
    #[test]
    fn signatures_match_the_standards_example() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(sign("nope", "x", 1, b"").is_err());
        assert!(new_key().len() >= 43);
    }
}
