//! Preflight gates: the platform's constraints checked in every build before
//! they hurt in production. The sources are read after checkout
//! ([`scan`]: extensions asked for, system packages installed at run time,
//! long-lived connections); the build's database after install (extensions
//! present, the object count, production's SMTP ports). Each gate passes,
//! warns or fails with a reason; a failure makes the build `ko`, a warning
//! `warn`. Per project, an admin may accept a warning and platform staff may
//! waive a failure, each with a reason, audited. The results are stored on
//! the build (`ops.builds.preflight`) for its page, the grid and the API.

pub mod cron;
pub mod scan;

use crate::access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Capability, Gate, GateResult, Verdict};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Row};
use uuid::Uuid;

/// The platform's limits (platform settings, with these defaults).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Extensions modules may use (default: plpgsql only).
    pub extensions: Vec<String>,
    pub objects_warn: i64,
    pub objects_fail: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { extensions: vec!["plpgsql".into()], objects_warn: 8_000, objects_fail: 10_000 }
    }
}

/// The limits as the platform's settings say now.
pub async fn limits<'e>(exec: impl sqlx::PgExecutor<'e> + Copy) -> DomainResult<Limits> {
    let setting = |key: &'static str| async move {
        sqlx::query_scalar::<_, Option<serde_json::Value>>("SELECT ops.platform_setting($1)")
            .bind(key)
            .fetch_one(exec)
            .await
    };
    let mut l = Limits::default();
    if let Some(serde_json::Value::Array(list)) = setting("preflight_extensions").await? {
        l.extensions = list.iter().filter_map(|v| v.as_str()).map(str::to_owned).collect();
        if !l.extensions.iter().any(|e| e == "plpgsql") {
            l.extensions.push("plpgsql".into());
        }
    }
    if let Some(n) = setting("preflight_objects_warn").await?.and_then(|v| v.as_i64()) {
        l.objects_warn = n;
    }
    if let Some(n) = setting("preflight_objects_fail").await?.and_then(|v| v.as_i64()) {
        l.objects_fail = n;
    }
    Ok(l)
}

/// The object-count gate for a count of relations.
pub fn object_gate(count: i64, limits: &Limits) -> GateResult {
    let figure = format!("{count} relations (tables, sequences, indexes, views)");
    let mut r = if count >= limits.objects_fail {
        GateResult::fail(Gate::ObjectCount, format!("{figure}: the limit is {}", limits.objects_fail))
    } else if count >= limits.objects_warn {
        GateResult::warn(Gate::ObjectCount, format!("{figure}: warned from {}", limits.objects_warn))
    } else {
        GateResult::pass(Gate::ObjectCount, figure)
    };
    r.figure = Some(count);
    r
}

/// The SMTP-port gate: production's relay and Odoo's active outgoing mail servers use 465 or 587.
pub fn smtp_gate(production: bool, relay_port: Option<i32>, servers: &[(String, i32)]) -> GateResult {
    if !production {
        return GateResult::pass(Gate::SmtpPorts, "development and staging send to the mail catcher");
    }
    let ok = |p: i32| p == 465 || p == 587;
    let mut wrong: Vec<String> = Vec::new();
    if let Some(p) = relay_port.filter(|p| !ok(*p)) {
        wrong.push(format!("the project's relay uses port {p}"));
    }
    wrong.extend(
        servers.iter().filter(|(_, p)| !ok(*p)).map(|(n, p)| format!("outgoing mail server {n:?} uses port {p}")),
    );
    if wrong.is_empty() {
        GateResult::pass(Gate::SmtpPorts, "465/587 only")
    } else {
        GateResult::fail(Gate::SmtpPorts, wrong.join("; "))
    }
}

/// The gates read from a build's database, logging in as its own role.
pub async fn database_gates(
    owner: &PgConnectOptions,
    limits: &Limits,
    production: bool,
    relay_port: Option<i32>,
) -> anyhow::Result<Vec<GateResult>> {
    let mut c = sqlx::PgConnection::connect_with(owner).await?;
    let present: Vec<String> =
        sqlx::query_scalar("SELECT extname::text FROM pg_catalog.pg_extension ORDER BY 1").fetch_all(&mut c).await?;
    let foreign: Vec<&String> = present.iter().filter(|e| !limits.extensions.contains(e)).collect();
    let extensions = if foreign.is_empty() {
        GateResult::pass(Gate::Extensions, format!("installed: {}", present.join(", ")))
    } else {
        let names: Vec<&str> = foreign.iter().map(|s| s.as_str()).collect();
        GateResult::fail(Gate::Extensions, format!("the database has {} (not allowed here)", names.join(", ")))
    };
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'S', 'i', 'I', 'v', 'm', 'f')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'",
    )
    .fetch_one(&mut c)
    .await?;
    let servers: Vec<(String, i32)> = if production {
        let exists: bool =
            sqlx::query_scalar("SELECT to_regclass('ir_mail_server') IS NOT NULL").fetch_one(&mut c).await?;
        if exists {
            sqlx::query("SELECT name::text, smtp_port FROM ir_mail_server WHERE active")
                .fetch_all(&mut c)
                .await?
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<Option<i32>, _>(1).unwrap_or(25)))
                .collect()
        } else {
            Vec::new()
        }
    } else {
        Vec::new()
    };
    c.close().await.ok();
    Ok(vec![extensions, object_gate(count, limits), smtp_gate(production, relay_port, &servers)])
}

/// Merges a later result of a gate into an earlier one (the static and the
/// database checks of extensions): the worse verdict wins, reasons join.
pub fn merge(into: &mut Vec<GateResult>, more: Vec<GateResult>) {
    for r in more {
        match into.iter_mut().find(|e| e.gate == r.gate) {
            None => into.push(r),
            Some(e) if r.verdict == Verdict::Pass => {
                if e.verdict == Verdict::Pass {
                    e.reason = format!("{}; {}", e.reason, r.reason);
                }
            }
            Some(e) => {
                if e.verdict == Verdict::Pass {
                    *e = r;
                } else {
                    e.reason = format!("{}; {}", e.reason, r.reason);
                    if r.verdict == Verdict::Fail {
                        e.verdict = Verdict::Fail;
                    }
                }
            }
        }
    }
}

/// The project's overrides applied: an accepted warning and a waived failure
/// name who and why (and then count as passes).
pub async fn apply_overrides(tx: &mut ScopedTx, project: Uuid, results: &mut [GateResult]) -> DomainResult<()> {
    let rows = sqlx::query(
        "SELECT o.gate, o.kind, o.reason, u.email FROM ops.preflight_overrides o
           LEFT JOIN ops.users u ON u.id = o.decided_by WHERE o.project_id = $1",
    )
    .bind(project)
    .fetch_all(&mut **tx)
    .await?;
    for r in results.iter_mut() {
        let Some(o) = rows.iter().find(|o| o.get::<String, _>("gate") == r.gate.as_str()) else { continue };
        let kind: String = o.get("kind");
        let applies =
            matches!((kind.as_str(), r.verdict), ("accept", Verdict::Warn) | ("waive", Verdict::Warn | Verdict::Fail));
        if applies {
            let who: Option<String> = o.get("email");
            r.overridden = Some(format!(
                "{} by {}: {}",
                if kind == "accept" { "accepted" } else { "waived" },
                who.unwrap_or_else(|| "someone since removed".into()),
                o.get::<String, _>("reason")
            ));
        }
    }
    Ok(())
}

/// Accepts a warning (project admins) or waives a failure (platform staff
/// only) of `gate` for a project, with a reason; `None` as reason withdraws it. Audited.
pub async fn set_override(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    gate: Gate,
    waive: bool,
    reason: Option<&str>,
) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let a = access::project(&mut tx, project).await?;
    if waive {
        if !actor.platform_role.is_some_and(|r| r.administers_platform()) {
            return Err(DomainError::Denied("only platform staff waive a failing preflight gate".into()));
        }
    } else {
        a.require_project(Capability::ProjectSettings, "accepting a preflight warning")?;
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.len() > 500) {
        return Err(DomainError::Invalid("a reason of at most 500 characters".into()));
    }
    let kind = if waive { "waive" } else { "accept" };
    match reason {
        Some(reason) => {
            sqlx::query(
                "INSERT INTO ops.preflight_overrides (project_id, gate, kind, reason, decided_by) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (project_id, gate) DO UPDATE
                    SET kind = EXCLUDED.kind, reason = EXCLUDED.reason, decided_by = EXCLUDED.decided_by, decided_at = now()",
            )
            .bind(project)
            .bind(gate.as_str())
            .bind(kind)
            .bind(reason)
            .bind(actor.user_id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.code().as_deref() == Some("42501") => {
                    DomainError::Denied("platform staff waived this gate for the project: only they change it".into())
                }
                _ => DomainError::from(e),
            })?;
        }
        None => {
            sqlx::query("DELETE FROM ops.preflight_overrides WHERE project_id = $1 AND gate = $2 AND kind = $3")
                .bind(project)
                .bind(gate.as_str())
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
    }
    let event = Event {
        action: AuditAction::PreflightOverride,
        target: format!("project:{project}"),
        tenant_id: Some(a.tenant_id),
        project_id: Some(project),
        summary: serde_json::json!({"gate": gate.as_str(), "kind": kind, "reason": reason, "withdrawn": reason.is_none()}),
    };
    audit::record(&mut tx, actor, event).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_smtp_ports_are_judged() {
        let l = Limits::default();
        assert_eq!(object_gate(120, &l).verdict, Verdict::Pass);
        assert_eq!(object_gate(8_000, &l).verdict, Verdict::Warn);
        let fail = object_gate(10_500, &l);
        assert_eq!((fail.verdict, fail.figure), (Verdict::Fail, Some(10_500)));
        assert_eq!(smtp_gate(false, Some(25), &[]).verdict, Verdict::Pass, "the catcher");
        assert_eq!(smtp_gate(true, Some(587), &[("Relay".into(), 465)]).verdict, Verdict::Pass);
        let bad = smtp_gate(true, Some(25), &[("Old".into(), 2525)]);
        assert_eq!(bad.verdict, Verdict::Fail);
        assert!(bad.reason.contains("port 25") && bad.reason.contains("\"Old\" uses port 2525"), "{}", bad.reason);
    }

    #[test]
    fn a_later_check_of_a_gate_merges_into_the_first() {
        let mut r = vec![GateResult::pass(Gate::Extensions, "nothing found in the sources")];
        merge(&mut r, vec![GateResult::fail(Gate::Extensions, "the database has vector")]);
        assert_eq!(r[0].verdict, Verdict::Fail);
        merge(&mut r, vec![GateResult::pass(Gate::ObjectCount, "12 relations")]);
        assert_eq!(r.len(), 2);
    }
}
