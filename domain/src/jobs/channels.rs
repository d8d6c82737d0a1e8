//! The NOTIFY channels consoles talk over, named once. Every console
//! LISTENs, so what one console writes is live on the others: queued work,
//! kill requests, build-log lines and caught mail.

use crate::db::ScopedTx;

/// A PostgreSQL NOTIFY channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Work was queued (payload: the job kind).
    Jobs,
    /// A running build was asked to stop (payload: the build id).
    BuildKill,
    /// New build-log lines (payload: the build id).
    RunEvents,
    /// New caught mail (payload: the environment id).
    Mail,
    /// A new monitoring sample (payload: the environment id).
    Samples,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Jobs => "ops_jobs",
            Channel::BuildKill => "ops_build_kill",
            Channel::RunEvents => "ops_run_events",
            Channel::Mail => "ops_mail",
            Channel::Samples => "ops_samples",
        }
    }
}

/// Notifies `channel` when `tx` commits.
pub async fn notify(tx: &mut ScopedTx, channel: Channel, payload: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(channel.as_str()).bind(payload).execute(&mut **tx).await?;
    Ok(())
}
