//! The transcript of a shell session: everything typed and printed, in
//! order, with timestamps, in `ops.exec_events`. A writer task batches rows
//! (a busy `top` prints many small chunks); the per-session limit is applied
//! here, and what does not fit is counted and noted, never silently dropped.

use crate::platform::Platform;
use crate::types::UserId;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use uuid::Uuid;

struct Rec {
    direction: &'static str,
    data: Vec<u8>,
    at: DateTime<Utc>,
}

/// Appends to one session's transcript.
pub struct Recorder {
    tx: mpsc::Sender<Rec>,
    task: tokio::task::JoinHandle<()>,
    limit: u64,
    stored: u64,
    dropped: u64,
}

/// Rows merged into one insert, at most.
const BATCH: usize = 512;

impl Recorder {
    pub fn start(p: &Platform, user: UserId, session: Uuid, limit: u64) -> Recorder {
        // Bounded: when the database falls behind, the session slows down instead of memory growing.
        let (tx, rx) = mpsc::channel(1024);
        let task = tokio::spawn(write(p.clone(), user, session, rx));
        Recorder { tx, task, limit, stored: 0, dropped: 0 }
    }

    /// Records typed (`in`) or printed (`out`) bytes, up to the limit.
    pub async fn record(&mut self, direction: &'static str, data: &[u8]) {
        let room = self.limit.saturating_sub(self.stored) as usize;
        let kept = &data[..data.len().min(room)];
        if !kept.is_empty() {
            self.stored += kept.len() as u64;
            self.send(direction, kept.to_vec()).await;
        }
        if kept.len() < data.len() {
            if self.dropped == 0 {
                let note =
                    format!("transcript limit of {} bytes reached: later bytes are counted, not stored", self.limit);
                self.send("note", note.into_bytes()).await;
            }
            self.dropped += (data.len() - kept.len()) as u64;
        }
    }

    /// A resize (`COLSxROWS`) or a note. Counted against the limit like
    /// everything else (a client can send resizes as fast as keys); past it,
    /// counted and not stored.
    pub async fn event(&mut self, direction: &'static str, text: String) {
        let size = text.len() as u64;
        if self.stored + size > self.limit {
            self.dropped += size;
            return;
        }
        self.stored += size;
        self.send(direction, text.into_bytes()).await;
    }

    async fn send(&mut self, direction: &'static str, data: Vec<u8>) {
        let _ = self.tx.send(Rec { direction, data, at: Utc::now() }).await;
    }

    /// Writes what is pending; the number of bytes that were not stored.
    pub async fn finish(mut self, closing_note: String) -> u64 {
        if self.dropped > 0 {
            let note = format!("{} bytes were not stored (over the transcript limit)", self.dropped);
            self.send("note", note.into_bytes()).await;
        }
        self.send("note", closing_note.into_bytes()).await;
        drop(self.tx);
        let _ = self.task.await;
        self.dropped
    }
}

async fn write(p: Platform, user: UserId, session: Uuid, mut rx: mpsc::Receiver<Rec>) {
    let mut batch: Vec<Rec> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        // Gather what arrives within a moment, merging runs of the same direction.
        let until = tokio::time::Instant::now() + std::time::Duration::from_millis(40);
        while batch.len() < BATCH {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(r)) => match batch.last_mut() {
                    Some(last) if last.direction == r.direction && r.direction != "resize" && r.direction != "note" => {
                        last.data.extend_from_slice(&r.data)
                    }
                    _ => batch.push(r),
                },
                Ok(None) | Err(_) => break,
            }
        }
        if let Err(e) = insert(&p, user, session, &batch).await {
            tracing::warn!(error = %e, %session, "transcript rows were not stored");
        }
        batch.clear();
    }
}

async fn insert(p: &Platform, user: UserId, session: Uuid, batch: &[Rec]) -> anyhow::Result<()> {
    let directions: Vec<&str> = batch.iter().map(|r| r.direction).collect();
    let data: Vec<&[u8]> = batch.iter().map(|r| r.data.as_slice()).collect();
    let at: Vec<DateTime<Utc>> = batch.iter().map(|r| r.at).collect();
    let mut tx = p.db.begin_as(user).await?;
    sqlx::query(
        "INSERT INTO ops.exec_events (session_id, direction, data, at)
         SELECT $1, d, b, t FROM unnest($2::text[], $3::bytea[], $4::timestamptz[]) WITH ORDINALITY AS x(d, b, t, n) ORDER BY n",
    )
    .bind(session)
    .bind(&directions)
    .bind(&data)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
