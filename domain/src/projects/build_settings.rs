//! A project's build settings: polling, fork builds, public previews, how
//! long development builds live, the shell TTL, production's SMTP relay and
//! the longest run a scheduled action may take.
//! Members read them; project admins change them (audited).

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use sqlx::Row;
use uuid::Uuid;

/// Reads a project's build settings (members).
pub async fn build_settings(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<crate::wire::BuildSettings> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(
        "SELECT poll_minutes, allow_fork_builds, public_previews, keep_dev_builds, dev_idle_hours, shell_ttl_minutes,
                smtp_relay_host || ':' || smtp_relay_port AS smtp_relay, cron_limit_seconds,
                production_requires_approval, private_production, log_retention_days
           FROM ops.projects WHERE id = $1",
    )
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("project"))?;
    tx.commit().await?;
    Ok(crate::wire::BuildSettings {
        poll_minutes: Some(r.get("poll_minutes")),
        allow_fork_builds: Some(r.get("allow_fork_builds")),
        public_previews: Some(r.get("public_previews")),
        keep_dev_builds: Some(r.get("keep_dev_builds")),
        dev_idle_hours: Some(r.get("dev_idle_hours")),
        shell_ttl_minutes: Some(r.get("shell_ttl_minutes")),
        smtp_relay: Some(r.get::<Option<String>, _>("smtp_relay").unwrap_or_default()),
        cron_limit_seconds: Some(r.get("cron_limit_seconds")),
        production_requires_approval: Some(r.get("production_requires_approval")),
        private_production: Some(r.get("private_production")),
        log_retention_days: Some(r.get("log_retention_days")),
    })
}

/// Changes a project's build settings (project admins); audited.
pub async fn update_build_settings(
    p: &Platform,
    actor: &Actor,
    project: Uuid,
    s: crate::wire::BuildSettings,
) -> DomainResult<crate::wire::BuildSettings> {
    let range = |v: Option<i32>, lo: i32, hi: i32, what: &str| match v {
        Some(n) if n < lo || n > hi => Err(DomainError::Invalid(format!("{what} must be between {lo} and {hi}"))),
        _ => Ok(()),
    };
    range(s.poll_minutes, 0, 1440, "poll_minutes")?;
    range(s.keep_dev_builds, 1, 50, "keep_dev_builds")?;
    range(s.dev_idle_hours, 1, 720, "dev_idle_hours")?;
    range(s.shell_ttl_minutes, 15, 30, "shell_ttl_minutes")?;
    range(s.cron_limit_seconds, 5, 86_400, "cron_limit_seconds")?;
    range(s.log_retention_days, 1, 365, "log_retention_days")?;
    let relay = s.smtp_relay.as_deref().map(parse_relay).transpose()?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    // Production mail goes out on 465 or 587 (the preflight gate says so too), unless platform staff waived it.
    if let Some(Some((_, port))) = &relay {
        if *port != 465 && *port != 587 {
            let waived: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM ops.preflight_overrides
                                 WHERE project_id = $1 AND gate = 'smtp_ports' AND kind = 'waive')",
            )
            .bind(project)
            .fetch_one(&mut *tx)
            .await?;
            if !waived {
                return Err(DomainError::Invalid(format!(
                    "the relay's port must be 465 (TLS) or 587 (STARTTLS), not {port}: port 25 is closed to production"
                )));
            }
        }
    }
    let tenant: Option<Uuid> = sqlx::query_scalar(
        "UPDATE ops.projects SET poll_minutes = coalesce($2, poll_minutes), allow_fork_builds = coalesce($3, allow_fork_builds),
                public_previews = coalesce($4, public_previews), keep_dev_builds = coalesce($5, keep_dev_builds),
                dev_idle_hours = coalesce($6, dev_idle_hours), shell_ttl_minutes = coalesce($7, shell_ttl_minutes),
                smtp_relay_host = CASE WHEN $8 THEN $9 ELSE smtp_relay_host END,
                smtp_relay_port = CASE WHEN $8 THEN $10 ELSE smtp_relay_port END,
                cron_limit_seconds = coalesce($11, cron_limit_seconds),
                production_requires_approval = coalesce($12, production_requires_approval),
                private_production = coalesce($13, private_production),
                log_retention_days = coalesce($14, log_retention_days)
          WHERE id = $1 RETURNING tenant_id",
    )
    .bind(project)
    .bind(s.poll_minutes)
    .bind(s.allow_fork_builds)
    .bind(s.public_previews)
    .bind(s.keep_dev_builds)
    .bind(s.dev_idle_hours)
    .bind(s.shell_ttl_minutes)
    .bind(relay.is_some())
    .bind(relay.clone().flatten().map(|(h, _)| h))
    .bind(relay.flatten().map(|(_, p)| p))
    .bind(s.cron_limit_seconds)
    .bind(s.production_requires_approval)
    .bind(s.private_production)
    .bind(s.log_retention_days)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(tenant) = tenant else {
        // Visible but not updatable means not an admin; invisible means not found.
        let visible: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ops.projects WHERE id = $1)")
            .bind(project)
            .fetch_one(&mut *tx)
            .await?;
        return Err(if visible { DomainError::Forbidden } else { DomainError::NotFound("project") });
    };
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ProjectBuildSettings,
            target: format!("project:{project}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: serde_json::to_value(&s).unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await?;
    build_settings(p, actor, project).await
}

/// `host:port` of an SMTP relay; empty removes it.
fn parse_relay(s: &str) -> DomainResult<Option<(String, i32)>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || DomainError::Invalid(format!("`{s}` is not host:port (e.g. smtp.example.com:587)"));
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let port: i32 = port.parse().ok().filter(|p| (1..=65535).contains(p)).ok_or_else(bad)?;
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
        return Err(bad());
    }
    Ok(Some((host.to_owned(), port)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn relays_are_host_and_port() {
        assert_eq!(super::parse_relay(" smtp.acme.test:587 ").unwrap(), Some(("smtp.acme.test".into(), 587)));
        assert_eq!(super::parse_relay("").unwrap(), None);
        for bad in ["smtp.acme.test", ":25", "h:0", "h:99999", "a b:25", "user@h:25"] {
            assert!(super::parse_relay(bad).is_err(), "{bad}");
        }
    }
}
