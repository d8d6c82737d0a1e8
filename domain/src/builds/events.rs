//! Build events (`ops.run_events`): phase boundaries and log lines. Lines
//! arrive in bursts (image builds, Odoo installs), so a writer task batches
//! them into one INSERT per burst and NOTIFYs `ops_run_events` for live tails.
//! What a build prints waits while the writer is [`MAX_QUEUED`] lines behind:
//! the backlog (and so a line's delay before it shows live) stays bounded, and
//! so does memory, however fast a container prints.
//!
//! What a build prints is the tenant's: a line is cut at [`MAX_LINE_BYTES`]
//! and a build's log at [`MAX_BUILD_LOG_BYTES`], each cut marked in the log,
//! so neither memory nor the database grows with what a container prints.

use super::queue::SYSTEM_USER;
use crate::platform::Platform;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

/// Longest line kept; the rest of it is dropped and the cut marked.
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// Most log a build keeps; later lines are counted, not stored.
pub const MAX_BUILD_LOG_BYTES: u64 = 32 << 20;
/// Lines waiting for the writer before printed output has to wait.
pub const MAX_QUEUED: usize = 4000;
/// Most lines in one INSERT.
const BATCH: usize = 2000;

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
    /// Bytes of log accepted so far, and lines dropped past the cap.
    bytes: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
    /// Events sent and not yet written, and a wake-up each time a batch is.
    queued: Arc<AtomicUsize>,
    drained: Arc<Notify>,
}

/// Whole lines out of a stream that arrives in arbitrary pieces (Docker's
/// build output and container logs are framed per write, not per line): a
/// line split across pieces, or a character split across pieces, comes out
/// whole. A container printing without newlines gets what is there passed on
/// at [`MAX_LINE_BYTES`], never an ever-growing buffer.
#[derive(Debug, Default)]
pub struct LineJoiner {
    partial: Vec<u8>,
}

impl LineJoiner {
    /// Adds a piece; calls `emit` with each line it completes (without its line ending).
    pub fn push(&mut self, piece: &[u8], mut emit: impl FnMut(String)) {
        let mut rest = piece;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..pos]);
            rest = &rest[pos + 1..];
            let line = std::mem::take(&mut self.partial);
            emit(cap_line(String::from_utf8_lossy(&line).trim_end_matches('\r').to_owned()));
        }
        self.partial.extend_from_slice(rest);
        if self.partial.len() > MAX_LINE_BYTES {
            let line = std::mem::take(&mut self.partial);
            emit(cap_line(String::from_utf8_lossy(&line).into_owned()));
        }
    }

    /// What is left when the stream ends (a last line without its newline).
    pub fn finish(self, mut emit: impl FnMut(String)) {
        if !self.partial.is_empty() {
            emit(cap_line(String::from_utf8_lossy(&self.partial).trim_end_matches('\r').to_owned()));
        }
    }
}

/// `line` cut to [`MAX_LINE_BYTES`] on a character boundary, the cut marked.
pub fn cap_line(mut line: String) -> String {
    if line.len() <= MAX_LINE_BYTES {
        return line;
    }
    let total = line.len();
    let mut cut = MAX_LINE_BYTES;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    line.truncate(cut);
    line.push_str(&format!(" … [line cut: {} more bytes]", total - cut));
    line
}

impl BuildLog {
    /// Starts the writer task; it ends when every handle is dropped and the queue is flushed.
    pub fn start(p: Platform, tenant: Uuid, build: Uuid, env: Uuid) -> (BuildLog, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
        let (queued, drained) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let (left, woken) = (queued.clone(), drained.clone());
        let task = tokio::spawn(async move {
            let mut batch = Vec::new();
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                if let Err(e) = write(&p, tenant, build, env, &batch).await {
                    tracing::warn!(error = %e, %build, "could not store build events");
                }
                left.fetch_sub(batch.len(), Ordering::Relaxed);
                woken.notify_waiters();
                batch.clear();
            }
        });
        (BuildLog { tx, bytes: Arc::default(), dropped: Arc::default(), queued, drained }, task)
    }

    fn send(&self, e: Event) {
        // Counted before it is sent: the writer never takes off more than was added.
        self.queued.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(e).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Waits while the writer is [`MAX_QUEUED`] lines or more behind.
    async fn wait_for_writer(&self) {
        loop {
            // Registered before the check: a batch written in between still wakes it.
            let written = self.drained.notified();
            if self.queued.load(Ordering::Relaxed) < MAX_QUEUED || self.tx.is_closed() {
                return;
            }
            written.await;
        }
    }

    /// The pipeline's own lines: always kept (they are few and short).
    pub fn emit(&self, level: &'static str, source: &str, message: impl Into<String>, meta: serde_json::Value) {
        let message = cap_line(message.into());
        self.send(Event { level, source: source.to_owned(), message, meta });
    }

    /// A line the build's code printed: cut to [`MAX_LINE_BYTES`], dropped past
    /// [`MAX_BUILD_LOG_BYTES`] (the first drop is marked in the log).
    fn emit_printed(&self, level: &'static str, source: &str, message: String, meta: serde_json::Value) {
        let message = cap_line(message);
        let size = message.len() as u64 + 64;
        let before = self.bytes.fetch_add(size, Ordering::Relaxed);
        if before + size > MAX_BUILD_LOG_BYTES {
            if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                let note = format!(
                    "log limit reached ({} MiB): further lines of this build are not stored",
                    MAX_BUILD_LOG_BYTES >> 20
                );
                self.send(Event {
                    level: "warning",
                    source: source.to_owned(),
                    message: note,
                    meta: serde_json::json!({"truncated": true}),
                });
            }
            return;
        }
        self.send(Event { level, source: source.to_owned(), message, meta });
    }

    /// An info line made of the tenant's text (addon names, …): capped like printed output.
    pub fn printed(&self, source: &str, message: impl Into<String>) {
        self.emit_printed("info", source, message.into(), serde_json::json!({}));
    }

    /// Lines not stored because the build's log was full.
    pub fn dropped_lines(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn for_test() -> (BuildLog, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            BuildLog {
                tx,
                bytes: Arc::default(),
                dropped: Arc::default(),
                queued: Arc::default(),
                drained: Arc::default(),
            },
            rx,
        )
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
    ) -> (crate::engine::LineSink, tokio::task::JoinHandle<LineStats>) {
        let (tx, mut rx) = mpsc::channel::<String>(crate::engine::LINE_SINK_CAPACITY);
        let log = self.clone();
        let task = tokio::spawn(async move {
            let mut stats = LineStats::default();
            while let Some(line) = rx.recv().await {
                log.wait_for_writer().await;
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
                log.emit_printed(level, source, line, meta);
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
    // A log batch need not wait for its flush to disk: a crash loses at most
    // the last moments of a build's log, and the build itself is retried or
    // failed by its own (durable) state. Everything else stays synchronous.
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    let levels: Vec<&str> = batch.iter().map(|e| e.level).collect();
    let sources: Vec<&str> = batch.iter().map(|e| e.source.as_str()).collect();
    // PostgreSQL text cannot hold NUL bytes.
    let cleaned: Vec<Option<String>> =
        batch.iter().map(|e| e.message.contains('\0').then(|| e.message.replace('\0', ""))).collect();
    let messages: Vec<&str> = batch.iter().zip(&cleaned).map(|(e, c)| c.as_deref().unwrap_or(&e.message)).collect();
    // Most lines carry no metadata: sent as NULL, stored as the column's `{}`.
    let metas: Vec<Option<&serde_json::Value>> =
        batch.iter().map(|e| (!e.meta.as_object().is_some_and(|m| m.is_empty())).then_some(&e.meta)).collect();
    sqlx::query(
        "INSERT INTO ops.run_events (tenant_id, build_id, env_id, level, source, message, meta)
         SELECT $1, $2, $3, l, s, m, coalesce(x, '{}')
           FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) AS t(l, s, m, x)",
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
    crate::jobs::channels::notify(&mut tx, crate::jobs::channels::Channel::RunEvents, &build.to_string()).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod caps {
    use super::*;

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let line = "é".repeat(MAX_LINE_BYTES);
        let cut = cap_line(line.clone());
        assert!(cut.len() < MAX_LINE_BYTES + 64);
        assert!(cut.ends_with("more bytes]"), "{}", &cut[cut.len() - 40..]);
        assert_eq!(cap_line("short".into()), "short");
    }

    #[test]
    fn a_builds_printed_log_stops_at_the_cap_and_says_so_once() {
        let (log, mut rx) = BuildLog::for_test();
        let line = "x".repeat(MAX_LINE_BYTES);
        let n = (MAX_BUILD_LOG_BYTES as usize / MAX_LINE_BYTES) + 100;
        for _ in 0..n {
            log.emit_printed("info", "install", line.clone(), serde_json::json!({}));
        }
        log.info("build", "finished: ok");
        let mut stored = 0u64;
        let mut notes = 0;
        let mut last = String::new();
        while let Ok(e) = rx.try_recv() {
            stored += e.message.len() as u64;
            notes += usize::from(e.message.starts_with("log limit reached"));
            last = e.message;
        }
        assert!(stored <= MAX_BUILD_LOG_BYTES + 1024, "{stored}");
        assert_eq!(notes, 1);
        assert_eq!(last, "finished: ok", "the pipeline's own lines are kept");
        assert!(log.dropped_lines() >= 100);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_split_across_pieces_come_out_whole() {
        let mut j = super::LineJoiner::default();
        let mut got = Vec::new();
        // "Step 1/2\n", "héllo\r\n" and a last line, cut mid-line and mid-character.
        let text = "Step 1/2\nhéllo\r\nlast".as_bytes();
        for piece in [&text[..3], &text[3..11], &text[11..]] {
            j.push(piece, |l| got.push(l));
        }
        j.finish(|l| got.push(l));
        assert_eq!(got, ["Step 1/2", "héllo", "last"]);
        let mut j = super::LineJoiner::default();
        let mut n = 0;
        j.push(&vec![b'x'; super::MAX_LINE_BYTES * 3], |_| n += 1);
        assert_eq!(n, 1, "no newline: passed on capped, not kept");
    }
}
