//! Caught mail: the credentials that identify an environment, retention
//! (stored by [`super::writer`]: raw bytes first, then what parsing found), and the
//! reads and deletes the viewer and the API need. Reads follow the role
//! matrix through row-level security.

use super::parse;
use super::search::Query;
use crate::auth::{self, Actor};
use crate::builds::queue::SYSTEM_USER;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::Capability;
use crate::wire::{MailSummary, MailView};
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

/// Who is sending: the environment the credentials belong to.
#[derive(Debug, Clone)]
pub struct Login {
    pub env_id: Uuid,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
}

/// A new SMTP password: never starting with `-`, which command-line mail
/// tools (swaks, sendmail wrappers) would read as an option.
fn password() -> String {
    loop {
        let p = auth::random_token(24);
        if !p.starts_with('-') {
            return p;
        }
    }
}

/// The SMTP credentials of an environment, created on first use (system).
pub async fn credentials(p: &Platform, env: Uuid) -> DomainResult<(String, String)> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query(
        "INSERT INTO ops.mail_credentials (env_id, tenant_id, project_id, username, password)
         SELECT e.id, e.tenant_id, e.project_id, 'env-' || replace(e.id::text, '-', ''), $2
           FROM ops.environments e WHERE e.id = $1
         ON CONFLICT (env_id) DO NOTHING",
    )
    .bind(env)
    .bind(password())
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query("SELECT username, password FROM ops.mail_credentials WHERE env_id = $1")
        .bind(env)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("environment"))?;
    tx.commit().await?;
    Ok((row.get("username"), row.get("password")))
}

/// The live development or staging environment these credentials open, if any.
pub async fn login(p: &Platform, username: &str, password: &str) -> anyhow::Result<Option<Login>> {
    let row = sqlx::query("SELECT env_id, tenant_id, project_id FROM ops.mail_login($1, $2)")
        .bind(username)
        .bind(password)
        .fetch_optional(p.db.anonymous())
        .await?;
    Ok(row.map(|r| Login { env_id: r.get("env_id"), tenant_id: r.get("tenant_id"), project_id: r.get("project_id") }))
}

/// Environments whose retention pass is due: one pass per environment at a
/// time, shortly after a catch, so a burst of mail costs one pass, not one per
/// message, and the sender's 250 never waits for it.
static RETENTION_DUE: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<Uuid>>> =
    std::sync::LazyLock::new(Default::default);

/// How long a burst has to arrive before its retention pass.
const RETENTION_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

pub(super) fn schedule_retention(p: &Platform, l: &Login) {
    let newly_due = RETENTION_DUE.lock().map(|mut due| due.insert(l.env_id)).unwrap_or(true);
    if !newly_due {
        return;
    }
    let (p, l) = (p.clone(), l.clone());
    tokio::spawn(async move {
        tokio::time::sleep(RETENTION_DELAY).await;
        // Taken off first: a message caught during this pass schedules the next one.
        if let Ok(mut due) = RETENTION_DUE.lock() {
            due.remove(&l.env_id);
        }
        if let Err(e) = retention(&p, &l).await {
            tracing::warn!(error = %e, env = %l.env_id, "mail retention failed");
        }
    });
}

/// Keeps an environment's newest N messages, none older than the project's
/// limit. Housekeeping by the system: it runs as the owner, so row-level
/// security is not evaluated for every message. Both deletes follow the
/// `(env_id, received_at)` index: what is read is the environment's kept
/// messages and what goes, never the whole table.
async fn retention(p: &Platform, l: &Login) -> anyhow::Result<()> {
    let (keep_days, keep_count): (i32, i32) =
        sqlx::query_as("SELECT mail_keep_days, mail_keep_count FROM ops.projects WHERE id = $1")
            .bind(l.project_id)
            .fetch_one(p.db.owner())
            .await?;
    sqlx::query(
        "DELETE FROM ops.mailbox_messages
          WHERE id IN (SELECT id FROM ops.mailbox_messages WHERE env_id = $1
                        ORDER BY received_at DESC OFFSET $2)",
    )
    .bind(l.env_id)
    .bind(i64::from(keep_count))
    .execute(p.db.owner())
    .await?;
    sqlx::query(
        "DELETE FROM ops.mailbox_messages WHERE env_id = $1 AND received_at < now() - make_interval(days => $2)",
    )
    .bind(l.env_id)
    .bind(keep_days)
    .execute(p.db.owner())
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, env_id, received_at, envelope_from, envelope_to, subject, from_header, to_header,
       size, has_attachments, read, parse_error IS NOT NULL AS malformed";

fn summary(r: &sqlx::postgres::PgRow) -> MailSummary {
    MailSummary {
        id: r.get("id"),
        env_id: r.get("env_id"),
        received_at: r.get("received_at"),
        envelope_from: r.get("envelope_from"),
        envelope_to: r.get("envelope_to"),
        subject: r.get("subject"),
        from: r.get("from_header"),
        to: r.get("to_header"),
        size: r.get("size"),
        has_attachments: r.get("has_attachments"),
        read: r.get("read"),
        malformed: r.get("malformed"),
    }
}

/// Whether the caller may follow an environment's new mail: it must be
/// visible to them (`NotFound` otherwise) and their role must allow `mails` on
/// its stage now (new mail is caught at the current stage).
pub async fn authorize_viewer(p: &Platform, actor: &Actor, env: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let e = crate::access::environment(&mut tx, env).await?;
    tx.commit().await?;
    e.access.require(e.stage, Capability::Mails, "reading caught mail")
}

/// An environment's messages, newest first, filtered by a search.
pub async fn list(p: &Platform, actor: &Actor, env: Uuid, query: &str, limit: i64) -> DomainResult<Vec<MailSummary>> {
    let q = Query::parse(query);
    let mut sql = format!("SELECT {COLUMNS} FROM ops.mailbox_messages WHERE env_id = $1");
    let mut binds: Vec<String> = Vec::new();
    let mut like = |column_sql: &str, value: &str, sql: &mut String| {
        binds.push(format!("%{}%", value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        sql.push_str(&format!(" AND ({column_sql}) ILIKE ${}", binds.len() + 1));
    };
    for v in &q.from {
        like("coalesce(from_header, '') || ' ' || envelope_from", v, &mut sql);
    }
    for v in &q.to {
        like(
            "coalesce(to_header, '') || ' ' || coalesce(cc_header, '') || ' ' || array_to_string(envelope_to, ' ')",
            v,
            &mut sql,
        );
    }
    for v in &q.subject {
        like("coalesce(subject, '')", v, &mut sql);
    }
    for v in &q.text {
        like(
            "coalesce(subject, '') || ' ' || coalesce(from_header, '') || ' ' || coalesce(to_header, '') || ' ' || coalesce(text_body, '') || ' ' || coalesce(html_body, '')",
            v,
            &mut sql,
        );
    }
    if q.has_attachment {
        sql.push_str(" AND has_attachments");
    }
    if q.unread {
        sql.push_str(" AND NOT read");
    }
    sql.push_str(&format!(" ORDER BY received_at DESC, id LIMIT {}", limit.clamp(1, 1000)));
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let mut query = sqlx::query(&sql).bind(env);
    for b in &binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.iter().map(summary).collect())
}

/// One message, marked read.
pub async fn get(p: &Platform, actor: &Actor, env: Uuid, id: Uuid) -> DomainResult<MailView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    sqlx::query("UPDATE ops.mailbox_messages SET read = true WHERE id = $1 AND env_id = $2 AND NOT read")
        .bind(id)
        .bind(env)
        .execute(&mut *tx)
        .await?;
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS}, cc_header, date_header, message_id, text_body, html_body, headers, attachments, parse_error
           FROM ops.mailbox_messages WHERE id = $1 AND env_id = $2"
    ))
    .bind(id)
    .bind(env)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("message"))?;
    tx.commit().await?;
    let headers: Vec<(String, String)> = serde_json::from_value(r.get("headers")).unwrap_or_default();
    Ok(MailView {
        summary: summary(&r),
        cc: r.get("cc_header"),
        date: r.get::<Option<DateTime<Utc>>, _>("date_header"),
        message_id: r.get("message_id"),
        text: r.get("text_body"),
        html: r.get("html_body"),
        headers,
        attachments: serde_json::from_value(r.get("attachments")).unwrap_or_default(),
        parse_error: r.get("parse_error"),
    })
}

/// The message exactly as received.
pub async fn raw(p: &Platform, actor: &Actor, env: Uuid, id: Uuid) -> DomainResult<Vec<u8>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let raw: Option<Vec<u8>> = sqlx::query_scalar("SELECT raw FROM ops.mailbox_messages WHERE id = $1 AND env_id = $2")
        .bind(id)
        .bind(env)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    raw.ok_or(DomainError::NotFound("message"))
}

/// One attachment: its name, type and decoded bytes.
pub async fn attachment(
    p: &Platform,
    actor: &Actor,
    env: Uuid,
    id: Uuid,
    index: u32,
) -> DomainResult<(String, String, Vec<u8>)> {
    let raw = raw(p, actor, env, id).await?;
    let (meta, bytes) = parse::attachment(&raw, index).ok_or(DomainError::NotFound("attachment"))?;
    Ok((meta.name, meta.content_type, bytes))
}

/// Deletes one message (`Some`) or all of an environment's (`None`); the number deleted.
pub async fn delete(p: &Platform, actor: &Actor, env: Uuid, id: Option<Uuid>) -> DomainResult<u64> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let scope = sqlx::query("SELECT tenant_id, project_id FROM ops.environments WHERE id = $1")
        .bind(env)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("environment"))?;
    let n = sqlx::query("DELETE FROM ops.mailbox_messages WHERE env_id = $1 AND ($2::uuid IS NULL OR id = $2)")
        .bind(env)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if id.is_some() && n == 0 {
        return Err(DomainError::NotFound("message"));
    }
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::Event {
            action: AuditAction::MailDelete,
            target: format!("environment:{env}"),
            tenant_id: Some(scope.get("tenant_id")),
            project_id: Some(scope.get("project_id")),
            summary: serde_json::json!({"message": id, "deleted": n}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}
