//! Custom domains of instances and of projects: a tenant admin (for an
//! instance) or a project admin (for a project's production) adds
//! `erp.example.com`, points its DNS at the instance's own host or
//! production's stable address, and asks the console to verify.
//! The router answers `http://<domain>/.well-known/odooops-domain/<token>`
//! with the token of each pending claim for that name; the console fetches
//! that URL through public DNS ([`reach`](super::reach): public addresses
//! only, no redirects) and, when its own token comes back, the name reaches
//! this platform: the claim is verified, and from then on the router (and,
//! from the next deployment, Traefik's labels) send the name to the instance
//! or to the project's production.
//!
//! A name is verified for one instance at a time across all tenants; the
//! console's own domains are nobody's; a tenant sees and changes only its
//! own claims (row-level security). Every add, verification and removal is
//! audited.

use super::reach::Checks;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, CustomDomain};
use crate::wire::{CustomDomainView, NewCustomDomain};
use sqlx::Row;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// The path under which the router serves a pending claim's token.
pub const CHALLENGE_PREFIX: &str = "/.well-known/odooops-domain/";
/// A claim is checked again at the earliest this long after its last check.
pub const RECHECK_AFTER_SECS: i64 = 10;
/// Custom domains one instance may have.
pub const MAX_PER_INSTANCE: i64 = 20;

/// What the router and the host check need: the names claimed anywhere (so
/// a request for an unknown name costs no query), and how verification
/// reaches the outside.
#[derive(Clone, Default)]
pub struct Domains {
    known: Arc<RwLock<HashSet<String>>>,
    pub checks: Checks,
}

impl Domains {
    pub fn new(checks: Checks) -> Domains {
        Domains { known: Arc::default(), checks }
    }

    /// Whether `host` (no port, lowercase) is claimed by some instance.
    pub fn knows(&self, host: &str) -> bool {
        self.known.read().expect("known domains").contains(host)
    }

    /// Reloads the claimed names (after a change here, and periodically for changes by other consoles).
    pub async fn refresh(&self, p: &Platform) -> anyhow::Result<()> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT * FROM ops.custom_domain_hosts()").fetch_all(p.db.anonymous()).await?;
        *self.known.write().expect("known domains") = names.into_iter().collect();
        Ok(())
    }
}

/// Whose custom domains: a tenant instance's or a project's (its production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Instance(Uuid),
    Project(Uuid),
}

impl Owner {
    fn id(self) -> Uuid {
        match self {
            Owner::Instance(id) | Owner::Project(id) => id,
        }
    }

    fn target(self) -> String {
        match self {
            Owner::Instance(id) => format!("instance:{id}"),
            Owner::Project(id) => format!("project:{id}"),
        }
    }

    fn actions(self) -> [AuditAction; 3] {
        match self {
            Owner::Instance(_) => {
                [AuditAction::InstanceDomainAdd, AuditAction::InstanceDomainVerify, AuditAction::InstanceDomainRemove]
            }
            Owner::Project(_) => {
                [AuditAction::ProjectDomainAdd, AuditAction::ProjectDomainVerify, AuditAction::ProjectDomainRemove]
            }
        }
    }
}

/// Where the router sends a custom domain.
pub struct Route {
    /// The instance's subdomain, once verified.
    pub subdomain: Option<String>,
    /// The stable label of the project's production, once verified.
    pub env_label: Option<String>,
    /// Tokens of the claims waiting for verification.
    pub tokens: Vec<String>,
}

/// The router's lookup for a claimed name.
pub async fn route(p: &Platform, host: &str) -> anyhow::Result<Route> {
    let r = sqlx::query("SELECT * FROM ops.custom_domain_route($1)").bind(host).fetch_one(p.db.anonymous()).await?;
    Ok(Route { subdomain: r.get("subdomain"), env_label: r.get("env_label"), tokens: r.get("tokens") })
}

const VIEW_SQL: &str = "
    SELECT d.id, d.instance_id, d.project_id, d.hostname, d.state, d.token, d.last_error, d.checked_at,
           d.verified_at, d.created_at, i.subdomain,
           (SELECT h.label FROM ops.environments e JOIN ops.env_hosts h ON h.env_id = e.id
             WHERE e.project_id = d.project_id AND e.stage = 'production' AND e.candidate_for IS NULL) AS label
      FROM ops.custom_domains d LEFT JOIN ops.instances i ON i.id = d.instance_id";

fn view(p: &Platform, r: &sqlx::postgres::PgRow) -> CustomDomainView {
    let hostname: String = r.get("hostname");
    let token: String = r.get("token");
    let dns_target = match (r.get::<Option<String>, _>("subdomain"), r.get::<Option<String>, _>("label")) {
        (Some(subdomain), _) => format!("{subdomain}.{}", super::domain_of(p)),
        (None, Some(label)) => {
            format!("{label}.{}", p.builds.as_ref().map(|b| b.preview_domain.as_str()).unwrap_or(""))
        }
        (None, None) => "production's address (it has one once production has been built)".to_owned(),
    };
    CustomDomainView {
        id: r.get("id"),
        instance_id: r.get("instance_id"),
        project_id: r.get("project_id"),
        challenge_url: format!("http://{hostname}{CHALLENGE_PREFIX}{token}"),
        hostname,
        state: r.get("state"),
        token,
        dns_target,
        last_error: r.get("last_error"),
        checked_at: r.get("checked_at"),
        verified_at: r.get("verified_at"),
        created_at: r.get("created_at"),
    }
}

/// The custom domains of an instance (its tenant's members and platform
/// staff) or of a project (its members).
pub async fn list(p: &Platform, actor: &Actor, owner: Owner) -> DomainResult<Vec<CustomDomainView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    match owner {
        Owner::Instance(instance) => super::visible(&mut tx, instance).await?,
        Owner::Project(project) => {
            let seen: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ops.projects WHERE id = $1)")
                .bind(project)
                .fetch_one(&mut *tx)
                .await?;
            if !seen {
                return Err(DomainError::NotFound("project"));
            }
        }
    }
    let rows =
        sqlx::query(&format!("{VIEW_SQL} WHERE $1 IN (d.instance_id, d.project_id) ORDER BY d.created_at, d.hostname"))
            .bind(owner.id())
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| view(p, r)).collect())
}

/// The owner's tenant and state, when the caller may change its domains (an
/// instance's tenant admins; a project's admins; platform staff).
async fn administered(tx: &mut crate::db::ScopedTx, owner: Owner) -> DomainResult<(Uuid, String)> {
    let (sql, what, who) = match owner {
        Owner::Instance(_) => (
            "SELECT tenant_id, state, (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin()) AS may
               FROM ops.instances WHERE id = $1",
            "instance",
            "the tenant's admins",
        ),
        Owner::Project(_) => (
            "SELECT tenant_id, 'active' AS state,
                    (id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin()) AS may
               FROM ops.projects WHERE id = $1",
            "project",
            "the project's admins",
        ),
    };
    let r = sqlx::query(sql).bind(owner.id()).fetch_optional(&mut **tx).await?.ok_or(DomainError::NotFound(what))?;
    if !r.get::<bool, _>("may") {
        return Err(DomainError::Denied(format!("custom domains are for {who}")));
    }
    Ok((r.get("tenant_id"), r.get("state")))
}

/// Parses a requested name and refuses the console's own domains.
fn claimable(p: &Platform, hostname: &str) -> DomainResult<CustomDomain> {
    let d = CustomDomain::parse(&hostname.trim().to_ascii_lowercase())?;
    let mut own = vec![p.settings.public_host()];
    if let Some(b) = p.builds.as_ref() {
        own.push(b.instances_domain.clone());
        own.push(b.preview_domain.clone());
    }
    if let Some(mine) = own.iter().find(|o| d.is_within(o)) {
        return Err(DomainError::Invalid(format!(
            "{} is under {mine}, the platform's own domain: add a domain of your organisation",
            d.as_str()
        )));
    }
    Ok(d)
}

/// Adds a pending custom domain to an instance or a project. Audited.
pub async fn add(p: &Platform, actor: &Actor, owner: Owner, input: NewCustomDomain) -> DomainResult<CustomDomainView> {
    let d = claimable(p, &input.hostname)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let (tenant, state) = administered(&mut tx, owner).await?;
    if matches!(state.as_str(), "decommissioning" | "decommissioned") {
        return Err(DomainError::Conflict("this workspace is closed".into()));
    }
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.custom_domains WHERE $1 IN (instance_id, project_id)")
            .bind(owner.id())
            .fetch_one(&mut *tx)
            .await?;
    if count >= MAX_PER_INSTANCE {
        return Err(DomainError::Conflict(format!("a workspace has at most {MAX_PER_INSTANCE} custom domains")));
    }
    let taken: bool =
        sqlx::query_scalar("SELECT ops.custom_domain_taken($1)").bind(d.as_str()).fetch_one(&mut *tx).await?;
    if taken {
        return Err(DomainError::Conflict(format!("{} is already in use by a workspace", d.as_str())));
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO ops.custom_domains (tenant_id, instance_id, project_id, hostname, token, created_by)
         VALUES ($1, $2, $6, $3, $4, $5) RETURNING id",
    )
    .bind(tenant)
    .bind(match owner {
        Owner::Instance(id) => Some(id),
        Owner::Project(_) => None,
    })
    .bind(d.as_str())
    .bind(crate::auth::random_token(24))
    .bind(actor.user_id.0)
    .bind(match owner {
        Owner::Project(id) => Some(id),
        Owner::Instance(_) => None,
    })
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match DomainError::from(e) {
        DomainError::Conflict(_) => DomainError::Conflict(format!("{} is already added here", d.as_str())),
        other => other,
    })?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: owner.actions()[0],
            target: owner.target(),
            tenant_id: Some(tenant),
            project_id: project_of(owner),
            summary: serde_json::json!({"domain": d.as_str(), "id": id}),
        },
    )
    .await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE d.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    learn(p).await;
    Ok(view(p, &row))
}

/// Fetches the domain's challenge through public DNS and marks it verified
/// when its token comes back; otherwise keeps why not and refuses (422).
/// Audited either way.
pub async fn verify(p: &Platform, actor: &Actor, owner: Owner, id: Uuid) -> DomainResult<CustomDomainView> {
    let infra = p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are off on this console".into()))?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    administered(&mut tx, owner).await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE d.id = $1 AND $2 IN (d.instance_id, d.project_id)"))
        .bind(id)
        .bind(owner.id())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("custom domain"))?;
    tx.commit().await?;
    let claim = view(p, &row);
    if claim.state == "verified" {
        return Ok(claim);
    }
    // Each check makes the console fetch from the outside: one per claim every few seconds.
    if let Some(at) = claim.checked_at {
        let since = (chrono::Utc::now() - at).num_seconds();
        if since < RECHECK_AFTER_SECS {
            return Err(DomainError::Throttled((RECHECK_AFTER_SECS - since).max(1) as u64));
        }
    }
    // No transaction is held while the outside answers.
    let path = format!("{CHALLENGE_PREFIX}{}", claim.token);
    let outcome = match infra.custom_domains.checks.fetch(&claim.hostname, &path).await {
        Ok(body) if body == claim.token => Ok(()),
        Ok(_) => Err(format!(
            "{} answered, but not with this claim's token: point its DNS at {} (a CNAME), then verify again",
            claim.challenge_url, claim.dns_target
        )),
        Err(why) => Err(why),
    };
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let (tenant, _) = administered(&mut tx, owner).await?;
    let taken = outcome.is_ok()
        && sqlx::query_scalar::<_, bool>("SELECT ops.custom_domain_taken($1)")
            .bind(&claim.hostname)
            .fetch_one(&mut *tx)
            .await?;
    let outcome = match outcome {
        Ok(()) if taken => Err(format!("{} is verified for another workspace", claim.hostname)),
        other => other,
    };
    let updated = match &outcome {
        Ok(()) => sqlx::query(
            "UPDATE ops.custom_domains SET state = 'verified', verified_at = now(), checked_at = now(), last_error = NULL
              WHERE id = $1 AND $2 IN (instance_id, project_id)",
        ),
        Err(_) => sqlx::query(
            "UPDATE ops.custom_domains SET checked_at = now(), last_error = $3
              WHERE id = $1 AND $2 IN (instance_id, project_id)",
        ),
    }
    .bind(id)
    .bind(owner.id())
    .bind(outcome.as_ref().err())
    .execute(&mut *tx)
    .await
    .map_err(|e| match DomainError::from(e) {
        DomainError::Conflict(_) => {
            DomainError::Conflict(format!("{} was verified for another workspace meanwhile", claim.hostname))
        }
        other => other,
    })?;
    if updated.rows_affected() == 0 {
        return Err(DomainError::NotFound("custom domain"));
    }
    audit::record(
        &mut tx,
        actor,
        Event {
            action: owner.actions()[1],
            target: owner.target(),
            tenant_id: Some(tenant),
            project_id: project_of(owner),
            summary: serde_json::json!({"domain": claim.hostname, "id": id, "verified": outcome.is_ok(),
                                        "error": outcome.as_ref().err()}),
        },
    )
    .await?;
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE d.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    learn(p).await;
    match outcome {
        Ok(()) => Ok(view(p, &row)),
        Err(why) if taken => Err(DomainError::Conflict(why)),
        Err(why) => Err(DomainError::Invalid(format!("{} is not verified: {why}", claim.hostname))),
    }
}

/// Removes a custom domain: the router stops answering for it at once. Audited.
pub async fn remove(p: &Platform, actor: &Actor, owner: Owner, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let (tenant, _) = administered(&mut tx, owner).await?;
    let hostname: String = sqlx::query_scalar(
        "DELETE FROM ops.custom_domains WHERE id = $1 AND $2 IN (instance_id, project_id) RETURNING hostname",
    )
    .bind(id)
    .bind(owner.id())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("custom domain"))?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: owner.actions()[2],
            target: owner.target(),
            tenant_id: Some(tenant),
            project_id: project_of(owner),
            summary: serde_json::json!({"domain": hostname, "id": id}),
        },
    )
    .await?;
    tx.commit().await?;
    learn(p).await;
    Ok(())
}

fn project_of(owner: Owner) -> Option<Uuid> {
    match owner {
        Owner::Project(id) => Some(id),
        Owner::Instance(_) => None,
    }
}

/// Refreshes this console's known names after a change (other consoles catch up within their refresh period).
async fn learn(p: &Platform) {
    if let Some(infra) = p.builds.as_ref() {
        if let Err(e) = infra.custom_domains.refresh(p).await {
            tracing::warn!(error = %format!("{e:#}"), "could not reload the custom domains");
        }
    }
}
