//! The kit's local mode: with no Supabase project linked, the dialog's
//! Database, Schema and Logs tabs work on an environment's own Odoo database
//! and its stored log, so every build gets a database browser and an SQL
//! console.
//!
//! - Reading needs the tools of the build's stage (`Shell` in the role
//!   matrix: what a shell would give, whose `psql` reaches the same data);
//!   platform staff get no more here than in a shell.
//! - Reads log in as the database's read-only role
//!   ([`BuildDatabases::reader_options`]): read-only transactions that are
//!   always rolled back, a 5 s statement timeout. Writes (development and
//!   staging, for those with the tools there; never production, for anyone)
//!   log in as the database's own role, with the same timeout, and commit.
//! - One statement per call (the extended protocol's Parse refuses two, so
//!   no `COMMIT; …` or `SET …; …` rides along), at most 1,000 rows and 5 MiB back.
//! - Every call writes one audit event (mode, status, duration, rows; never the SQL).

use crate::access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::builds::databases::BuildDatabases;
use crate::builds::db_reader::READER_TIMEOUT_MS;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Capability, Stage};
use futures_util::TryStreamExt;
use serde_json::{json, Map, Value};
use sqlx::{Column, ConnectOptions, Connection, Executor, Row, ValueRef};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The most rows a call returns.
pub const ROW_CAP: usize = 1000;
/// The longest SQL text taken.
pub const MAX_SQL: usize = 100_000;

/// A build's database as the caller may use it.
struct Located {
    tenant_id: Uuid,
    project_id: Uuid,
    database: Option<String>,
    /// Whether the caller may read it (the tools of its stage).
    reads: bool,
    production: bool,
}

async fn locate(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<Located> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let a = access::build(&mut tx, build).await?;
    let database: Option<String> =
        sqlx::query_scalar("SELECT db_name FROM ops.builds WHERE id = $1").bind(build).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(Located {
        tenant_id: a.access.tenant_id,
        project_id: a.access.project_id,
        database,
        reads: a.access.allows(a.build_stage, Capability::Shell) && a.access.allows(a.env_stage, Capability::Shell),
        production: a.build_stage == Stage::Production || a.env_stage == Stage::Production,
    })
}

impl Located {
    fn authorize(&self, write: bool) -> DomainResult<&str> {
        if !self.reads {
            return Err(DomainError::Denied(
                "a build's database is for those with the tools of its stage (as its shell is)".into(),
            ));
        }
        if write && self.production {
            return Err(DomainError::Denied(
                "writes to production's database are off for everyone here: change production through a build, \
                 a restore or its shell"
                    .into(),
            ));
        }
        self.database.as_deref().ok_or_else(|| DomainError::Conflict("this build has no database yet".into()))
    }
}

/// Writes the one audit event of a call.
async fn record(
    p: &Platform,
    actor: &Actor,
    build: Uuid,
    found: Option<(Uuid, Uuid)>,
    summary: Value,
) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let event = Event {
        action: AuditAction::KitLocalCall,
        target: format!("build:{build}"),
        tenant_id: found.map(|f| f.0),
        project_id: found.map(|f| f.1),
        summary,
    };
    audit::record(&mut tx, actor, event).await?;
    tx.commit().await?;
    Ok(())
}

fn infra(p: &Platform, database: &str) -> DomainResult<BuildDatabases> {
    let infra = p.builds.as_ref().ok_or(DomainError::Unavailable("builds do not run on this console".into()))?;
    Ok(infra.db(database))
}

/// Runs one SQL statement on a build's database, read-only unless `write`
/// (see the module's documentation). The answer: `{columns, result, truncated}`,
/// every value as PostgreSQL prints it (or null).
#[tracing::instrument(skip(p, actor, sql), fields(user = %actor.user_id.0))]
pub async fn query(p: &Platform, actor: &Actor, build: Uuid, sql: &str, write: bool) -> DomainResult<Value> {
    let started = Instant::now();
    let found = locate(p, actor, build).await;
    let ids = found.as_ref().ok().map(|l| (l.tenant_id, l.project_id));
    let outcome = match found {
        Err(e) => Err(e),
        Ok(l) => match l.authorize(write) {
            Err(e) => Err(e),
            Ok(database) => run(p, database, sql, write).await,
        },
    };
    let status = outcome.as_ref().map_or_else(|e| e.code().http_status(), |_| 200);
    let rows = outcome.as_ref().ok().and_then(|v| v["result"].as_array().map(Vec::len));
    let summary = json!({
        "call": if write { "query.write" } else { "query.read" }, "status": status, "rows": rows,
        "duration_ms": started.elapsed().as_millis() as u64,
    });
    record(p, actor, build, ids, summary).await?;
    outcome
}

/// What a database error says to the person who typed the SQL (it is their
/// database's own message; the console's are logged instead).
fn said(e: sqlx::Error) -> DomainError {
    match e {
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some("57014") => {
                DomainError::Invalid(format!("the statement ran past {} s and was cancelled", READER_TIMEOUT_MS / 1000))
            }
            Some("25006") => {
                DomainError::Invalid(format!("read-only here: {} (turn on writes where you may)", d.message()))
            }
            Some("42P05") | Some("42601") if d.message().contains("multiple commands") => {
                DomainError::Invalid("one statement at a time".into())
            }
            _ => DomainError::Invalid(format!("PostgreSQL: {}", d.message())),
        },
        other => {
            tracing::warn!(error = %other, "a kit query failed");
            DomainError::Unavailable("the database did not answer (see the console's log)".into())
        }
    }
}

async fn run(p: &Platform, database: &str, sql: &str, write: bool) -> DomainResult<Value> {
    let sql = sql.trim().trim_end_matches(';').trim();
    if sql.is_empty() || sql.len() > MAX_SQL {
        return Err(DomainError::Invalid(format!("SQL of 1 to {} KiB, please", MAX_SQL / 1024)));
    }
    let dbs = infra(p, database)?;
    let opts = if write {
        dbs.owner_options(database).options([
            ("statement_timeout", READER_TIMEOUT_MS.to_string()),
            ("application_name", "odooops-kit".to_owned()),
        ])
    } else {
        dbs.reader_options(database).await.map_err(|e| {
            tracing::warn!(database, error = %format!("{e:#}"), "the read-only role is not ready");
            DomainError::Unavailable("the database cannot be opened read-only (see the console's log)".into())
        })?
    }
    .log_statements(tracing::log::LevelFilter::Off);
    let mut c = sqlx::PgConnection::connect_with(&opts).await.map_err(|e| match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000") => {
            DomainError::Conflict("this build's database is gone (the build was cleaned up)".into())
        }
        _ => said(e),
    })?;
    let limit = Duration::from_millis(READER_TIMEOUT_MS) + Duration::from_secs(5);
    let answer = tokio::time::timeout(limit, statement(&mut c, sql, write)).await.unwrap_or_else(|_| {
        Err(DomainError::Invalid(format!("the statement ran past {} s and was cancelled", READER_TIMEOUT_MS / 1000)))
    });
    // Reads are never committed; an unfinished answer is abandoned with the connection.
    drop(c);
    answer
}

async fn statement(c: &mut sqlx::PgConnection, sql: &str, write: bool) -> DomainResult<Value> {
    // Parse (extended protocol) takes exactly one statement: the same text then runs as a simple query,
    // whose answer comes as text whatever the column types.
    let described = c.describe(sql).await.map_err(said)?;
    let columns: Vec<String> = described.columns().iter().map(|col| col.name().to_owned()).collect();
    c.execute(if write { "BEGIN" } else { "BEGIN READ ONLY" }).await.map_err(said)?;
    let mut rows: Vec<Value> = Vec::new();
    let (mut truncated, mut weight, mut affected) = (false, 0usize, 0u64);
    {
        let mut stream = sqlx::raw_sql(sql).fetch_many(&mut *c);
        while let Some(item) = stream.try_next().await.map_err(said)? {
            match item {
                sqlx::Either::Left(done) => affected += done.rows_affected(),
                sqlx::Either::Right(row) if !truncated => {
                    let mut obj = Map::new();
                    for (i, col) in row.columns().iter().enumerate() {
                        let raw = row.try_get_raw(i).map_err(said)?;
                        let v = if raw.is_null() {
                            Value::Null
                        } else {
                            Value::String(raw.as_str().map(str::to_owned).unwrap_or_else(|_| "(binary)".into()))
                        };
                        weight += col.name().len() + v.as_str().map_or(4, str::len);
                        obj.insert(col.name().to_owned(), v);
                    }
                    rows.push(Value::Object(obj));
                    truncated = rows.len() >= ROW_CAP || weight > super::proxy::MAX_ANSWER;
                    if truncated && !write {
                        break;
                    }
                }
                sqlx::Either::Right(_) => {}
            }
        }
    }
    if write {
        c.execute("COMMIT").await.map_err(said)?;
    }
    Ok(json!({ "columns": columns, "result": rows, "truncated": truncated, "rows_affected": affected }))
}

/// The last lines (at most 100, newest first) of a build's stored log within
/// `hours`, of `level` when given, containing `search` (case-insensitive).
#[tracing::instrument(skip(p, actor, search), fields(user = %actor.user_id.0))]
pub async fn logs(
    p: &Platform,
    actor: &Actor,
    build: Uuid,
    level: Option<&str>,
    search: &str,
    hours: u32,
) -> DomainResult<Value> {
    let started = Instant::now();
    let outcome = read_logs(p, actor, build, level, search, hours).await;
    let ids = outcome.as_ref().ok().map(|(ids, _)| *ids);
    let status = outcome.as_ref().map_or_else(|e| e.code().http_status(), |_| 200);
    let summary = json!({"call": "logs", "status": status, "duration_ms": started.elapsed().as_millis() as u64});
    record(p, actor, build, ids, summary).await?;
    outcome.map(|(_, v)| v)
}

async fn read_logs(
    p: &Platform,
    actor: &Actor,
    build: Uuid,
    level: Option<&str>,
    search: &str,
    hours: u32,
) -> DomainResult<((Uuid, Uuid), Value)> {
    let level = level.map(str::trim).filter(|l| !l.is_empty());
    if let Some(l) = level {
        if !["debug", "info", "warning", "error"].contains(&l) {
            return Err(DomainError::Invalid("a level is debug, info, warning or error".into()));
        }
    }
    let pattern = format!("%{}%", search.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let a = access::build(&mut tx, build).await?;
    a.access.require(a.build_stage, Capability::Logs, "reading build logs")?;
    let rows = sqlx::query(
        "SELECT created_at, level, source, message FROM ops.run_events
          WHERE build_id = $1 AND created_at >= now() - make_interval(hours => $2)
            AND ($3::text IS NULL OR level = $3) AND message ILIKE $4
          ORDER BY id DESC LIMIT 100",
    )
    .bind(build)
    .bind(hours.clamp(1, 24 * 30) as i32)
    .bind(level)
    .bind(&pattern)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let result: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "timestamp": r.get::<chrono::DateTime<chrono::Utc>, _>("created_at").to_rfc3339(),
                "level": r.get::<String, _>("level"),
                "source": r.get::<String, _>("source"),
                "message": r.get::<String, _>("message"),
            })
        })
        .collect();
    let columns = ["timestamp", "level", "source", "message"];
    Ok(((a.access.tenant_id, a.access.project_id), json!({"columns": columns, "result": result})))
}
