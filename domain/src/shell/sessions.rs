//! Shell sessions: who may open a shell on which build, for how long, and how
//! it ended. A session is bound to (user, build, container) and lives at most
//! the project's TTL; a web session is attached once with a one-time token,
//! so a closed or expired session can never be resumed. Opening, closing and
//! expiry each write one audit event.

use crate::audit::{self, Event};
use crate::auth::{self, Actor};
use crate::builds::queue::system_actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::{Capability, Stage, UserId};
use crate::wire::{ShellSessionView, ShellTicket, TranscriptEvent};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::time::Duration;
use uuid::Uuid;

/// How the person reaches the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Web,
    Ssh,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Web => "web",
            Via::Ssh => "ssh",
        }
    }
}

/// A session the bridge may run: its bounds and the container to attach to.
#[derive(Debug, Clone)]
pub struct Attached {
    pub id: Uuid,
    pub actor: Actor,
    pub tenant_id: Uuid,
    pub project_id: Uuid,
    pub build_id: Uuid,
    pub container_id: String,
    pub stage: Stage,
    pub preview_slug: String,
    pub expires_at: DateTime<Utc>,
    pub idle_timeout: Duration,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The TTL the project allows was reached.
    Expired,
    /// Nobody typed for the idle timeout.
    Idle,
    /// The person closed the terminal (or the connection dropped).
    Closed,
    /// The shell process ended by itself.
    Exited(Option<i64>),
    /// The console stopped while the session was open.
    Interrupted,
    /// The person lost their access to the project (removed from it).
    Revoked,
    Failed(String),
}

impl CloseReason {
    /// For people: shown in the terminal and stored on the session.
    pub fn message(&self) -> String {
        match self {
            CloseReason::Expired => "expired: the session reached its time limit; open a new shell".into(),
            CloseReason::Idle => "expired: idle for too long; open a new shell".into(),
            CloseReason::Closed => "closed".into(),
            CloseReason::Exited(Some(code)) => format!("the shell exited (code {code})"),
            CloseReason::Exited(None) => "the shell exited".into(),
            CloseReason::Interrupted => "interrupted: the console stopped".into(),
            CloseReason::Revoked => "ended: your access to this project was removed".into(),
            CloseReason::Failed(why) => format!("failed: {why}"),
        }
    }

    fn audit_action(&self) -> AuditAction {
        match self {
            CloseReason::Expired | CloseReason::Idle => AuditAction::ShellExpire,
            _ => AuditAction::ShellClose,
        }
    }
}

/// What the bridge counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub dropped: i64,
}

struct Opened {
    id: Uuid,
    build_number: i64,
    branch: String,
    attached: Attached,
}

/// Opens a session after checking the role matrix: shells on production are
/// for project admins; on staging for admins and testers; on development for all.
async fn open(p: &Platform, actor: &Actor, build: Uuid, via: Via, token_hash: Option<Vec<u8>>) -> DomainResult<Opened> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT b.tenant_id, b.project_id, b.stage, b.branch, b.seq, b.live, b.container_id, b.preview_slug,
                p.shell_ttl_minutes, ",
        crate::access::columns!("b.project_id"),
        " FROM ops.builds b JOIN ops.projects p ON p.id = b.project_id WHERE b.id = $1"
    ))
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    let stage: Stage = crate::db::vocabulary(&r, "stage")?;
    crate::access::Access::from_row(&r).require(stage, Capability::Shell, "opening a shell")?;
    let container: Option<String> = r.get("container_id");
    let (true, Some(container)) = (r.get::<bool, _>("live"), container) else {
        return Err(DomainError::Conflict("this build is not running; open a shell on a live build".into()));
    };
    let ttl = Duration::from_secs(60 * r.get::<i32, _>("shell_ttl_minutes").clamp(15, 30) as u64);
    let idle = p.settings.shell.idle_timeout.min(ttl);
    let id = Uuid::new_v4();
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO ops.shell_sessions (id, tenant_id, project_id, build_id, user_id, user_email, container_id, stage, via,
                                         token_hash, attached_at, expires_at, idle_timeout_secs, ip, user_agent, console_id)
         VALUES ($1, $2, $3, $4, ops.current_user_id(), $5, $6, $7, $8, $9, CASE WHEN $9 IS NULL THEN now() END,
                 now() + make_interval(secs => $10), $11, $12, $13, $14)
         RETURNING expires_at",
    )
    .bind(id)
    .bind(r.get::<Uuid, _>("tenant_id"))
    .bind(r.get::<Uuid, _>("project_id"))
    .bind(build)
    .bind(&actor.email)
    .bind(&container)
    .bind(stage.as_str())
    .bind(via.as_str())
    .bind(&token_hash)
    .bind(ttl.as_secs_f64())
    .bind(idle.as_secs() as i32)
    .bind(&actor.meta.ip)
    .bind(&actor.meta.user_agent)
    .bind(p.console())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ShellOpen,
            target: format!("shell:{id}"),
            tenant_id: Some(r.get("tenant_id")),
            project_id: Some(r.get("project_id")),
            summary: serde_json::json!({"build": build, "stage": stage.as_str(), "via": via.as_str(),
                                        "ttl_minutes": ttl.as_secs() / 60}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Opened {
        id,
        build_number: r.get("seq"),
        branch: r.get("branch"),
        attached: Attached {
            id,
            actor: actor.clone(),
            tenant_id: r.get("tenant_id"),
            project_id: r.get("project_id"),
            build_id: build,
            container_id: container,
            stage,
            preview_slug: r.get::<Option<String>, _>("preview_slug").unwrap_or_default(),
            expires_at,
            idle_timeout: idle,
        },
    })
}

/// Opens a web shell; the terminal attaches with the returned one-time token.
pub async fn open_web(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<ShellTicket> {
    let token = auth::random_token(32);
    let o = open(p, actor, build, Via::Web, Some(auth::token_hash(&token))).await?;
    Ok(ShellTicket {
        session_id: o.id,
        ws_path: format!("/api/v1/shells/{}/ws", o.id),
        token,
        build_id: build,
        build_number: o.build_number,
        branch: o.branch,
        stage: o.attached.stage,
        expires_at: o.attached.expires_at,
        idle_timeout_secs: o.attached.idle_timeout.as_secs() as i32,
    })
}

/// Attaches a terminal to a web session, once: the token is consumed, and a
/// closed or expired session is refused.
pub async fn attach_web(p: &Platform, actor: &Actor, session: Uuid, token: &str) -> DomainResult<Attached> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(
        "UPDATE ops.shell_sessions SET token_hash = NULL, attached_at = now(), console_id = $3
          WHERE id = $1 AND user_id = ops.current_user_id() AND token_hash = $2 AND closed_at IS NULL AND expires_at > now()
          RETURNING tenant_id, project_id, build_id, container_id, stage, expires_at, idle_timeout_secs,
                    (SELECT preview_slug FROM ops.builds b WHERE b.id = build_id) AS preview_slug",
    )
    .bind(session)
    .bind(auth::token_hash(token))
    .bind(p.console())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(r) = row else {
        let state = sqlx::query("SELECT closed_at IS NOT NULL OR expires_at <= now() AS over FROM ops.shell_sessions WHERE id = $1 AND user_id = ops.current_user_id()")
            .bind(session)
            .fetch_optional(&mut *tx)
            .await?;
        return Err(match state {
            Some(s) if s.get::<bool, _>("over") => {
                DomainError::Conflict("this shell session has ended and cannot be resumed; open a new shell".into())
            }
            Some(_) => {
                DomainError::Conflict("this shell session is already attached elsewhere or the token is wrong".into())
            }
            None => DomainError::NotFound("shell session"),
        });
    };
    tx.commit().await?;
    Ok(Attached {
        id: session,
        actor: actor.clone(),
        tenant_id: r.get("tenant_id"),
        project_id: r.get("project_id"),
        build_id: r.get("build_id"),
        container_id: r.get("container_id"),
        stage: Stage::parse(r.get::<String, _>("stage").as_str())?,
        preview_slug: r.get::<Option<String>, _>("preview_slug").unwrap_or_default(),
        expires_at: r.get("expires_at"),
        idle_timeout: Duration::from_secs(r.get::<i32, _>("idle_timeout_secs") as u64),
    })
}

/// Opens and attaches an SSH session on the build whose preview slug is the SSH user name.
pub async fn open_ssh(p: &Platform, actor: &Actor, build_slug: &str) -> DomainResult<Attached> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let build: Option<Uuid> =
        sqlx::query_scalar("SELECT ops.build_by_slug($1)").bind(build_slug).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    let build = build.ok_or(DomainError::NotFound("build"))?;
    Ok(open(p, actor, build, Via::Ssh, None).await?.attached)
}

/// Records how a session ended; audited as `shell.expire` or `shell.close`.
pub async fn close(p: &Platform, s: &Attached, reason: &CloseReason, c: Counters) -> DomainResult<()> {
    let mut tx = p.db.begin_as(s.actor.user_id).await?;
    let done = sqlx::query(
        "UPDATE ops.shell_sessions SET closed_at = now(), close_reason = $2, bytes_in = $3, bytes_out = $4, dropped_bytes = $5
          WHERE id = $1 AND closed_at IS NULL",
    )
    .bind(s.id)
    .bind(reason.message())
    .bind(c.bytes_in)
    .bind(c.bytes_out)
    .bind(c.dropped)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 1 {
        audit::record(
            &mut tx,
            &s.actor,
            Event {
                action: reason.audit_action(),
                target: format!("shell:{}", s.id),
                tenant_id: Some(s.tenant_id),
                project_id: Some(s.project_id),
                summary: serde_json::json!({"build": s.build_id, "reason": reason.message(),
                                            "bytes_in": c.bytes_in, "bytes_out": c.bytes_out}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Closes sessions no bridge is serving: those attached through a console
/// that is gone (`interrupted`), and those whose TTL passed before a
/// terminal attached (`expired`).
pub async fn sweep(p: &Platform) -> DomainResult<u64> {
    let system = system_actor();
    let mut tx = p.db.begin_as(system.user_id).await?;
    let rows = sqlx::query(&format!(
        "UPDATE ops.shell_sessions SET closed_at = now(),
                close_reason = CASE WHEN attached_at IS NULL THEN 'expired: no terminal attached in time'
                                    ELSE 'interrupted: the console stopped' END
          WHERE closed_at IS NULL
            AND ((attached_at IS NULL AND expires_at <= now()) OR (attached_at IS NOT NULL AND {}))
          RETURNING id, tenant_id, project_id, build_id, close_reason, attached_at IS NULL AS expired",
        crate::jobs::queue::dead("console_id", "$1")
    ))
    .bind(p.settings.jobs.lease.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        audit::record(
            &mut tx,
            &system,
            Event {
                action: if r.get("expired") { AuditAction::ShellExpire } else { AuditAction::ShellClose },
                target: format!("shell:{}", r.get::<Uuid, _>("id")),
                tenant_id: Some(r.get("tenant_id")),
                project_id: Some(r.get("project_id")),
                summary: serde_json::json!({"build": r.get::<Uuid, _>("build_id"), "reason": r.get::<String, _>("close_reason")}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

const SESSION_SQL: &str = "SELECT id, build_id, project_id, user_email, via, stage, opened_at, attached_at, expires_at,
        closed_at, close_reason, bytes_in, bytes_out, dropped_bytes FROM ops.shell_sessions";

fn view(r: &sqlx::postgres::PgRow) -> DomainResult<ShellSessionView> {
    Ok(ShellSessionView {
        id: r.get("id"),
        build_id: r.get("build_id"),
        project_id: r.get("project_id"),
        user_email: r.get("user_email"),
        via: r.get("via"),
        stage: crate::db::vocabulary(r, "stage")?,
        opened_at: r.get("opened_at"),
        attached_at: r.get("attached_at"),
        expires_at: r.get("expires_at"),
        closed_at: r.get("closed_at"),
        close_reason: r.get("close_reason"),
        bytes_in: r.get("bytes_in"),
        bytes_out: r.get("bytes_out"),
        dropped_bytes: r.get("dropped_bytes"),
    })
}

/// Sessions on a build the caller may read (their own; all for project admins), newest first.
pub async fn list_for_build(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<Vec<ShellSessionView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{SESSION_SQL} WHERE build_id = $1 ORDER BY opened_at DESC LIMIT 100"))
        .bind(build)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.iter().map(view).collect()
}

pub async fn get(p: &Platform, actor: &Actor, session: Uuid) -> DomainResult<ShellSessionView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(&format!("{SESSION_SQL} WHERE id = $1"))
        .bind(session)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("shell session"))?;
    tx.commit().await?;
    view(&row)
}

/// The whole transcript of a session, in order.
pub async fn transcript(p: &Platform, actor: &Actor, session: Uuid) -> DomainResult<Vec<TranscriptEvent>> {
    let opened = get(p, actor, session).await?.opened_at;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query("SELECT direction, data, at FROM ops.exec_events WHERE session_id = $1 ORDER BY id")
        .bind(session)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| TranscriptEvent {
            at_ms: (r.get::<DateTime<Utc>, _>("at") - opened).num_milliseconds().max(0),
            direction: r.get("direction"),
            data_b64: base64::engine::general_purpose::STANDARD.encode(r.get::<Vec<u8>, _>("data")),
        })
        .collect())
}

/// The actor a gateway session runs as: the key's owner.
pub async fn actor_for(p: &Platform, user: Uuid, meta: auth::RequestMeta) -> DomainResult<Option<Actor>> {
    crate::accounts::load_actor(p, UserId(user), meta).await
}
