//! Runtime logs: what the serving Odoo of an environment printed, across
//! its builds (each line stored as it came, parsed into level and logger),
//! newest first, filtered by level, logger, text and time; followed live by
//! asking for what came after the last line; exported as CSV; and forgotten
//! after the project's retention (14 days unless set). Reading them follows
//! the role matrix's *Logs* right on the environment's stage.

use crate::auth::Actor;
use crate::builds::queue::SYSTEM_USER;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::Capability;
use crate::wire::{RuntimeLogLine, RuntimeLogQuery};
use sqlx::Row;
use uuid::Uuid;

/// Lines one read returns at most.
pub const MAX_LINES: i64 = 2000;

/// Levels at or above `min` (`debug` < `info` < `warning` < `error`).
fn levels_from(min: &str) -> DomainResult<Vec<&'static str>> {
    const ALL: [&str; 4] = ["debug", "info", "warning", "error"];
    match ALL.iter().position(|l| *l == min) {
        Some(i) => Ok(ALL[i..].to_vec()),
        None if min.is_empty() => Ok(ALL.to_vec()),
        None => Err(DomainError::Invalid("level is debug, info, warning or error".into())),
    }
}

/// `%text%` for ILIKE, with the caller's wildcards taken literally.
fn like(s: &str) -> String {
    format!("%{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The environment's runtime lines matching `q`: newest first, or, with
/// `after`, those that came after that line, oldest first (a live tail).
pub async fn query(p: &Platform, actor: &Actor, env: Uuid, q: &RuntimeLogQuery) -> DomainResult<Vec<RuntimeLogLine>> {
    let levels = levels_from(q.level.as_deref().unwrap_or_default())?;
    if q.logger.as_deref().is_some_and(|l| l.len() > 200) || q.text.as_deref().is_some_and(|t| t.len() > 500) {
        return Err(DomainError::Invalid("filters are at most 200 (logger) and 500 (text) characters".into()));
    }
    let limit = q.limit.unwrap_or(500).clamp(1, MAX_LINES);
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let e = crate::access::environment(&mut tx, env).await?;
    e.access.require(e.stage, Capability::Logs, "reading this environment's logs")?;
    let tail = q.after.is_some();
    let rows = sqlx::query(&format!(
        "SELECT r.id, r.build_id, b.seq, r.created_at, r.level, r.meta->>'logger' AS logger, r.message
           FROM ops.run_events r LEFT JOIN ops.builds b ON b.id = r.build_id
          WHERE r.env_id = $1 AND r.source = 'odoo' AND r.level = ANY($2)
            AND ($3::text IS NULL OR r.meta->>'logger' ILIKE $3)
            AND ($4::text IS NULL OR r.message ILIKE $4)
            AND ($5::timestamptz IS NULL OR r.created_at >= $5)
            AND ($6::timestamptz IS NULL OR r.created_at < $6)
            AND r.id > coalesce($7, 0)
          ORDER BY r.id {} LIMIT $8",
        if tail { "ASC" } else { "DESC" }
    ))
    .bind(env)
    .bind(&levels)
    .bind(q.logger.as_deref().filter(|l| !l.is_empty()).map(like))
    .bind(q.text.as_deref().filter(|t| !t.is_empty()).map(like))
    .bind(q.since)
    .bind(q.until)
    .bind(q.after)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| RuntimeLogLine {
            id: r.get("id"),
            build_id: r.get("build_id"),
            build_number: r.get("seq"),
            at: r.get("created_at"),
            level: r.get("level"),
            logger: r.get("logger"),
            message: r.get("message"),
        })
        .collect())
}

/// The lines as CSV (oldest first), for a spreadsheet or a ticket.
pub fn csv(lines: &[RuntimeLogLine]) -> String {
    let field = |s: &str| {
        // A leading =, +, - or @ would be a formula to a spreadsheet: quoted and prefixed.
        let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
        format!("\"{}\"", s.replace('"', "\"\""))
    };
    let mut out = String::from("at,build,level,logger,message\n");
    for l in lines.iter().rev() {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            l.at.to_rfc3339(),
            l.build_number.map(|n| n.to_string()).unwrap_or_default(),
            l.level,
            field(l.logger.as_deref().unwrap_or_default()),
            field(&l.message)
        ));
    }
    out
}

/// Forgets runtime lines past their project's retention (the retention job).
pub async fn forget_old(p: &Platform) -> anyhow::Result<u64> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let n = sqlx::query(
        "DELETE FROM ops.run_events r USING ops.projects pr, ops.environments e
          WHERE r.source = 'odoo' AND e.id = r.env_id AND pr.id = e.project_id
            AND r.created_at < now() - make_interval(days => pr.log_retention_days)",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_filter_upwards_and_csv_defuses_formulas() {
        assert_eq!(levels_from("warning").unwrap(), vec!["warning", "error"]);
        assert_eq!(levels_from("").unwrap().len(), 4);
        assert!(levels_from("loud").is_err());
        assert_eq!(like("50%_off"), "%50\\%\\_off%");
        let line = RuntimeLogLine {
            id: 1,
            build_id: None,
            build_number: Some(7),
            at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            level: "error".into(),
            logger: Some("odoo.http".into()),
            message: "=HYPERLINK(\"http://evil\") \"quoted\"".into(),
        };
        let out = csv(&[line]);
        assert!(out.contains("\"'=HYPERLINK(\"\"http://evil\"\") \"\"quoted\"\"\""), "{out}");
        assert!(
            out.starts_with("at,build,level,logger,message\n1970-01-01T00:00:00+00:00,7,error,\"odoo.http\""),
            "{out}"
        );
    }
}
