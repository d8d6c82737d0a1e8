//! The audit trail: one append-only, hash-chained row per privileged action.
//!
//! Rows are written inside the transaction of the change they describe, so an
//! action and its audit event commit or roll back together. The chain itself
//! (hash of content + previous hash) is computed by a database trigger, and
//! [`verify`] recomputes it to find the first edited or deleted row.

use crate::auth::Actor;
use crate::db::ScopedTx;
use crate::error::DomainResult;
use crate::platform::Platform;
use crate::wire::AuditEventView;
use sqlx::Row;
use uuid::Uuid;

/// What an audit event is about.
pub struct Event<'a> {
    pub action: &'a str,
    pub target: String,
    pub tenant_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub summary: serde_json::Value,
}

impl<'a> Event<'a> {
    /// An event about the caller's own account (no tenant or project).
    pub fn account(action: &'a str, target: String, summary: serde_json::Value) -> Self {
        Event { action, target, tenant_id: None, project_id: None, summary }
    }
}

pub async fn record(tx: &mut ScopedTx, actor: &Actor, ev: Event<'_>) -> DomainResult<()> {
    sqlx::query(
        "INSERT INTO ops.audit_events (actor_id, actor_email, tenant_id, project_id, action, target, summary, ip, user_agent, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.user_id.0)
    .bind(&actor.email)
    .bind(ev.tenant_id)
    .bind(ev.project_id)
    .bind(ev.action)
    .bind(&ev.target)
    .bind(&ev.summary)
    .bind(&actor.meta.ip)
    .bind(&actor.meta.user_agent)
    .bind(&actor.meta.request_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Newest first; what the caller may read (RLS decides).
pub async fn list(p: &Platform, actor: &Actor, limit: i64) -> DomainResult<Vec<AuditEventView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT id, at, actor_email, action, target, tenant_id, project_id, summary, ip
           FROM ops.audit_events ORDER BY id DESC LIMIT $1",
    )
    .bind(limit.clamp(1, 1000))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEventView {
            id: r.get("id"),
            at: r.get("at"),
            actor_email: r.get("actor_email"),
            action: r.get("action"),
            target: r.get("target"),
            tenant_id: r.get("tenant_id"),
            project_id: r.get("project_id"),
            summary: r.get("summary"),
            ip: r.get("ip"),
        })
        .collect())
}

/// The result of recomputing the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact {
        events: i64,
    },
    /// The first row whose stored hash or link does not match.
    BrokenAt {
        id: i64,
        reason: String,
    },
}

/// Recomputes every hash in id order. Needs the owner pool (reads all rows).
pub async fn verify(owner: &sqlx::PgPool) -> anyhow::Result<ChainReport> {
    let rows = sqlx::query(
        "SELECT id, prev_hash, hash,
                sha256(convert_to(concat_ws('|',
                    id::text, (extract(epoch FROM at) * 1000000)::bigint::text, coalesce(actor_id::text, ''),
                    coalesce(actor_email, ''), coalesce(tenant_id::text, ''), coalesce(project_id::text, ''),
                    action, target, summary::text, coalesce(ip, ''), coalesce(user_agent, ''),
                    coalesce(request_id, ''), coalesce(encode(prev_hash, 'hex'), '')), 'UTF8')) AS recomputed
           FROM ops.audit_events ORDER BY id",
    )
    .fetch_all(owner)
    .await?;
    let mut previous: Option<Vec<u8>> = None;
    let count = rows.len() as i64;
    for r in rows {
        let id: i64 = r.get("id");
        let prev: Option<Vec<u8>> = r.get("prev_hash");
        let hash: Option<Vec<u8>> = r.get("hash");
        let recomputed: Vec<u8> = r.get("recomputed");
        if prev != previous {
            return Ok(ChainReport::BrokenAt {
                id,
                reason: "link to the previous event does not match (a row was deleted or reordered)".into(),
            });
        }
        if hash.as_deref() != Some(recomputed.as_slice()) {
            return Ok(ChainReport::BrokenAt {
                id,
                reason: "content does not match its hash (the row was edited)".into(),
            });
        }
        previous = hash;
    }
    Ok(ChainReport::Intact { events: count })
}
