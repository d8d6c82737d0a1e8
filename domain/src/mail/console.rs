//! The console's own mailbox: where password resets, invitations and alerts go
//! while no SMTP relay is configured. A log travels further than mail
//! (shippers, support staff, backups), so the message itself is kept here, for
//! platform owners alone to read in the console (`/console-mail`), and the log
//! says only that a message is waiting and for whom.
//!
//! Reading a message is audited: a reset link in it opens someone's account.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::builds::queue::SYSTEM_USER;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::mailer::{Mailer, OutgoingMail};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::PlatformRole;
use crate::wire::{ConsoleMailSummary, ConsoleMailView};
use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

/// How many messages the mailbox keeps, and for how long.
pub const KEEP_COUNT: i64 = 1000;
pub const KEEP_DAYS: i32 = 30;

/// The mailer of a console without an SMTP relay.
pub struct ConsoleMailbox {
    db: Db,
}

impl ConsoleMailbox {
    pub fn new(db: Db) -> Self {
        ConsoleMailbox { db }
    }
}

#[async_trait]
impl Mailer for ConsoleMailbox {
    async fn send(&self, mail: OutgoingMail) -> anyhow::Result<()> {
        use anyhow::Context;
        let mut tx = self.db.begin_as(SYSTEM_USER).await.context("opening the console mailbox")?;
        sqlx::query("INSERT INTO ops.console_mail (id, to_addr, subject, body) VALUES ($1, $2, $3, $4)")
            .bind(Uuid::new_v4())
            .bind(&mail.to)
            .bind(&mail.subject)
            .bind(&mail.body)
            .execute(&mut *tx)
            .await
            .context("keeping a console mail")?;
        sqlx::query(
            "DELETE FROM ops.console_mail
              WHERE received_at < now() - make_interval(days => $1)
                 OR id NOT IN (SELECT id FROM ops.console_mail ORDER BY received_at DESC LIMIT $2)",
        )
        .bind(KEEP_DAYS)
        .bind(KEEP_COUNT)
        .execute(&mut *tx)
        .await
        .context("pruning the console mailbox")?;
        tx.commit().await.context("keeping a console mail")?;
        tracing::info!(target: "odooops::mail", to = %mail.to, subject = %mail.subject,
            "no SMTP relay: the message waits in the console mailbox (platform owners: /console-mail)");
        Ok(())
    }
}

fn require_owner(actor: &Actor) -> DomainResult<()> {
    if actor.platform_role == Some(PlatformRole::Owner) {
        Ok(())
    } else {
        Err(DomainError::Denied("only platform owners read the console's own mail".into()))
    }
}

fn summary(r: &sqlx::postgres::PgRow) -> ConsoleMailSummary {
    ConsoleMailSummary {
        id: r.get("id"),
        received_at: r.get("received_at"),
        to: r.get("to_addr"),
        subject: r.get("subject"),
        read: r.get("read"),
    }
}

/// The newest messages first (platform owners).
pub async fn list(p: &Platform, actor: &Actor, limit: i64) -> DomainResult<Vec<ConsoleMailSummary>> {
    require_owner(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT id, received_at, to_addr, subject, read FROM ops.console_mail ORDER BY received_at DESC LIMIT $1",
    )
    .bind(limit.clamp(1, KEEP_COUNT))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(summary).collect())
}

/// One message with its text, marked read; audited (`console_mail.read`).
pub async fn get(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<ConsoleMailView> {
    require_owner(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(
        "UPDATE ops.console_mail SET read = true WHERE id = $1
         RETURNING id, received_at, to_addr, subject, read, body",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("message"))?;
    let view = ConsoleMailView { summary: summary(&row), body: row.get("body") };
    let ev = Event::account(
        AuditAction::ConsoleMailRead,
        format!("console_mail:{id}"),
        serde_json::json!({ "to": view.summary.to, "subject": view.summary.subject }),
    );
    audit::record(&mut tx, actor, ev).await?;
    tx.commit().await?;
    Ok(view)
}
