//! The audit trail: one append-only, hash-chained row per privileged action.
//!
//! Rows are written inside the transaction of the change they describe, so an
//! action and its audit event commit or roll back together. The chain itself
//! (hash of content + previous hash) is computed by a database trigger, and
//! [`verify`] recomputes it to find the first edited or deleted row.

use crate::auth::Actor;
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::wire::AuditEventView;
use sqlx::Row;
use uuid::Uuid;

/// What an audit event is about.
pub struct Event {
    pub action: AuditAction,
    pub target: String,
    pub tenant_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub summary: serde_json::Value,
}

impl Event {
    /// An event about the caller's own account (no tenant or project).
    pub fn account(action: AuditAction, target: String, summary: serde_json::Value) -> Self {
        Event { action, target, tenant_id: None, project_id: None, summary }
    }
}

pub async fn record(tx: &mut ScopedTx, actor: &Actor, ev: Event) -> DomainResult<()> {
    sqlx::query(
        "INSERT INTO ops.audit_events (actor_id, actor_email, tenant_id, project_id, action, target, summary, ip, user_agent, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.user_id.0)
    .bind(&actor.email)
    .bind(ev.tenant_id)
    .bind(ev.project_id)
    .bind(ev.action.as_str())
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
    search(p, actor, &crate::wire::AuditFilter { limit: Some(limit), ..Default::default() }).await
}

/// The events the caller may read that match `f`, newest first (at most 10,000).
pub async fn search(p: &Platform, actor: &Actor, f: &crate::wire::AuditFilter) -> DomainResult<Vec<AuditEventView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let actor_like =
        f.actor.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| format!("%{}%", like_escape(s)));
    let action_like =
        f.action.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| format!("{}%", like_escape(s)));
    let rows = sqlx::query(
        "SELECT id, at, actor_email, action, target, tenant_id, project_id, summary, ip
           FROM ops.audit_events
          WHERE ($2::text IS NULL OR coalesce(actor_email, 'system') ILIKE $2)
            AND ($3::text IS NULL OR action LIKE $3)
            AND ($4::uuid IS NULL OR project_id = $4)
            AND ($5::timestamptz IS NULL OR at >= $5)
            AND ($6::timestamptz IS NULL OR at < $6)
            AND ($7::uuid IS NULL OR tenant_id = $7)
          ORDER BY id DESC LIMIT $1",
    )
    .bind(f.limit.unwrap_or(200).clamp(1, 10_000))
    .bind(actor_like)
    .bind(action_like)
    .bind(f.project)
    .bind(f.since)
    .bind(f.until)
    .bind(f.tenant)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|r| {
            let action = AuditAction::parse(r.get::<&str, _>("action"))
                .map_err(|e| anyhow::anyhow!("a stored audit action does not parse: {e}"))?;
            Ok(AuditEventView {
                id: r.get("id"),
                at: r.get("at"),
                actor_email: r.get("actor_email"),
                action,
                target: r.get("target"),
                tenant_id: r.get("tenant_id"),
                project_id: r.get("project_id"),
                summary: r.get("summary"),
                ip: r.get("ip"),
            })
        })
        .collect()
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The events as CSV (RFC 4180), header first.
pub fn to_csv(events: &[AuditEventView]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut out = String::from("id,at,actor,action,target,tenant_id,project_id,ip,summary\r\n");
    for e in events {
        let row = [
            e.id.to_string(),
            e.at.to_rfc3339(),
            e.actor_email.clone().unwrap_or_else(|| "system".into()),
            e.action.as_str().to_owned(),
            e.target.clone(),
            e.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            e.project_id.map(|t| t.to_string()).unwrap_or_default(),
            e.ip.clone().unwrap_or_default(),
            e.summary.to_string(),
        ];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// [`verify`] for people who may read the whole trail (platform owners, operators, auditors).
pub async fn verify_for(p: &Platform, actor: &Actor) -> DomainResult<crate::wire::AuditVerification> {
    if !actor.platform_role.is_some_and(|r| {
        matches!(
            r,
            crate::types::PlatformRole::Owner
                | crate::types::PlatformRole::Operator
                | crate::types::PlatformRole::Auditor
        )
    }) {
        return Err(DomainError::Denied(
            "verifying the whole audit trail is for platform owners, operators and auditors".into(),
        ));
    }
    Ok(match verify(p.db.owner()).await? {
        ChainReport::Intact { events } => {
            crate::wire::AuditVerification { intact: true, events, broken_at: None, reason: None }
        }
        ChainReport::BrokenAt { id, reason } => {
            crate::wire::AuditVerification { intact: false, events: 0, broken_at: Some(id), reason: Some(reason) }
        }
    })
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
