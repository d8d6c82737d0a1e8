//! Build events (`ops.run_events`): phase boundaries and log lines. Lines
//! arrive in bursts (image builds, Odoo installs), so a writer task batches
//! them into one INSERT per burst and NOTIFYs `ops_run_events` for live tails.

use super::queue::SYSTEM_USER;
use crate::platform::Platform;
use tokio::sync::mpsc;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Event {
    pub level: &'static str,
    pub source: String,
    pub message: String,
    pub meta: serde_json::Value,
}

/// A handle to log events of one build.
#[derive(Clone)]
pub struct BuildLog {
    tx: mpsc::UnboundedSender<Event>,
}

impl BuildLog {
    /// Starts the writer task; it ends when every handle is dropped and the queue is flushed.
    pub fn start(p: Platform, tenant: Uuid, build: Uuid, env: Uuid) -> (BuildLog, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
        let task = tokio::spawn(async move {
            let mut batch = Vec::new();
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < 500 {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                if let Err(e) = write(&p, tenant, build, env, &batch).await {
                    tracing::warn!(error = %e, %build, "could not store build events");
                }
                batch.clear();
            }
        });
        (BuildLog { tx }, task)
    }

    pub fn emit(&self, level: &'static str, source: &str, message: impl Into<String>, meta: serde_json::Value) {
        let _ = self.tx.send(Event { level, source: source.to_owned(), message: message.into(), meta });
    }

    pub fn info(&self, source: &str, message: impl Into<String>) {
        self.emit("info", source, message, serde_json::json!({}));
    }

    pub fn warn(&self, source: &str, message: impl Into<String>) {
        self.emit("warning", source, message, serde_json::json!({}));
    }

    pub fn error(&self, source: &str, message: impl Into<String>) {
        self.emit("error", source, message, serde_json::json!({}));
    }

    /// A forwarding channel for raw lines (image build output, container logs).
    pub fn lines(
        &self,
        source: &'static str,
        parse_odoo: bool,
    ) -> (mpsc::UnboundedSender<String>, tokio::task::JoinHandle<LineStats>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let log = self.clone();
        let task = tokio::spawn(async move {
            let mut stats = LineStats::default();
            while let Some(line) = rx.recv().await {
                let (level, meta) = match parse_odoo.then(|| super::odoo_log::parse_line(&line)).flatten() {
                    Some(l) => {
                        let level = super::odoo_log::normalized_level(l.level);
                        (level, serde_json::json!({"logger": l.logger, "db": l.database, "odoo_level": l.level}))
                    }
                    None => ("info", serde_json::json!({})),
                };
                match level {
                    "error" => stats.errors += 1,
                    "warning" => stats.warnings += 1,
                    _ => {}
                }
                if stats.first_error.is_none() && level == "error" {
                    stats.first_error = Some(line.chars().take(300).collect());
                }
                log.emit(level, source, line, meta);
            }
            stats
        });
        (tx, task)
    }
}

/// What a stream of Odoo log lines contained.
#[derive(Debug, Default, Clone)]
pub struct LineStats {
    pub errors: usize,
    pub warnings: usize,
    pub first_error: Option<String>,
}

async fn write(p: &Platform, tenant: Uuid, build: Uuid, env: Uuid, batch: &[Event]) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let levels: Vec<&str> = batch.iter().map(|e| e.level).collect();
    let sources: Vec<&str> = batch.iter().map(|e| e.source.as_str()).collect();
    // PostgreSQL text cannot hold NUL bytes.
    let messages: Vec<String> = batch.iter().map(|e| e.message.replace('\0', "")).collect();
    let metas: Vec<serde_json::Value> = batch.iter().map(|e| e.meta.clone()).collect();
    sqlx::query(
        "INSERT INTO ops.run_events (tenant_id, build_id, env_id, level, source, message, meta)
         SELECT $1, $2, $3, l, s, m, x FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) AS t(l, s, m, x)",
    )
    .bind(tenant)
    .bind(build)
    .bind(env)
    .bind(&levels)
    .bind(&sources)
    .bind(&messages)
    .bind(&metas)
    .execute(&mut *tx)
    .await?;
    sqlx::query("SELECT pg_notify('ops_run_events', $1)").bind(build.to_string()).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
