//! Group commit for caught mail. SMTP sessions parse their message and hand it
//! to one writer, which stores whatever is waiting in one transaction (one
//! multi-row INSERT and one notification per environment), then answers each
//! session, whose 250 follows. One sender's message is a batch of one; many
//! senders share a commit and its round trips (one statement per batch instead
//! of four round trips per message). The catcher's pace did not move with it
//! (#21's bench: about a third of plain INSERTs either way): what a sender
//! waits for lies elsewhere, see the note.
//!
//! A batch the database refuses is stored again one message at a time, so a
//! message it cannot take fails alone (its sender gets a 451 and retries) and
//! nothing else is lost.

use super::parse::{self, Parsed};
use super::store::{schedule_retention, Login};
use crate::builds::queue::SYSTEM_USER;
use crate::jobs::channels::Channel;
use crate::platform::Platform;
use anyhow::Context;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Messages a batch holds at most (20 parameters each: well under PostgreSQL's 65,535).
const BATCH: usize = 64;

struct Pending {
    id: Uuid,
    login: Login,
    envelope_from: String,
    to: Vec<String>,
    raw: Vec<u8>,
    parsed: Parsed,
    stored: oneshot::Sender<Result<(), String>>,
}

/// The catcher's writer; cloned into every SMTP session.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Pending>,
}

impl Writer {
    pub fn start(p: Platform) -> Writer {
        let (tx, mut rx) = mpsc::channel::<Pending>(BATCH * 4);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                if let Err(e) = store(&p, &batch).await {
                    tracing::warn!(error = %format!("{e:#}"), messages = batch.len(), "storing caught mail as a batch failed; one at a time");
                    for m in batch.drain(..) {
                        let result = store(&p, std::slice::from_ref(&m)).await.map_err(|e| format!("{e:#}"));
                        finish(&p, m, result);
                    }
                    continue;
                }
                for m in batch.drain(..) {
                    finish(&p, m, Ok(()));
                }
            }
        });
        Writer { tx }
    }

    /// Stores a caught message byte-exact, then tells viewers; its id once committed.
    pub async fn catch(&self, l: &Login, envelope_from: &str, to: &[String], raw: Vec<u8>) -> anyhow::Result<Uuid> {
        // Parsing happens here, in the sender's session, beside the others.
        let parsed = parse::parse(&raw);
        let id = Uuid::new_v4();
        let (stored, wait) = oneshot::channel();
        let m = Pending {
            id,
            login: l.clone(),
            envelope_from: envelope_from.to_owned(),
            to: to.to_vec(),
            raw,
            parsed,
            stored,
        };
        self.tx.send(m).await.map_err(|_| anyhow::anyhow!("the mail writer has stopped"))?;
        match wait.await {
            Ok(Ok(())) => Ok(id),
            Ok(Err(e)) => Err(anyhow::anyhow!(e)),
            Err(_) => Err(anyhow::anyhow!("the mail writer has stopped")),
        }
    }
}

fn finish(p: &Platform, m: Pending, result: Result<(), String>) {
    if result.is_ok() {
        schedule_retention(p, &m.login);
    }
    let _ = m.stored.send(result);
}

/// One transaction of one statement: every message of the batch, and one
/// notification per environment (sent at commit).
async fn store(p: &Platform, batch: &[Pending]) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "WITH caught AS (INSERT INTO ops.mailbox_messages (id, tenant_id, project_id, env_id, envelope_from, envelope_to, raw, size,
             subject, from_header, to_header, cc_header, date_header, message_id, has_attachments, text_body, html_body,
             headers, attachments, parse_error) ",
    );
    let mut rows = Vec::with_capacity(batch.len());
    for m in batch {
        rows.push((m, serde_json::to_value(&m.parsed.headers)?, serde_json::to_value(&m.parsed.attachments)?));
    }
    q.push_values(rows, |mut b, (m, headers, attachments)| {
        let parsed = &m.parsed;
        b.push_bind(m.id)
            .push_bind(m.login.tenant_id)
            .push_bind(m.login.project_id)
            .push_bind(m.login.env_id)
            .push_bind(m.envelope_from.as_str())
            .push_bind(m.to.as_slice())
            .push_bind(m.raw.as_slice())
            .push_bind(m.raw.len() as i32)
            .push_bind(parsed.subject.as_deref())
            .push_bind(parsed.from.as_deref())
            .push_bind(parsed.to.as_deref())
            .push_bind(parsed.cc.as_deref())
            .push_bind(parsed.date)
            .push_bind(parsed.message_id.as_deref())
            .push_bind(!parsed.attachments.is_empty())
            .push_bind(parsed.text.as_deref())
            .push_bind(parsed.html.as_deref())
            .push_bind(headers)
            .push_bind(attachments)
            .push_bind(parsed.error.as_deref());
    });
    q.push(" RETURNING env_id) SELECT pg_notify(");
    q.push_bind(Channel::Mail.as_str());
    q.push(", env_id::text) FROM (SELECT DISTINCT env_id FROM caught) e");
    q.build().execute(&mut *tx).await.context("storing caught mail")?;
    tx.commit().await?;
    Ok(())
}
