//! Tenants (organisations): who sees which projects. Every sign-up gets one;
//! platform owners and operators can create more for others. People join a
//! tenant by accepting an invitation its admins sent to their address.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::{ProjectName, Slug};
use crate::wire::{Invitation, NewTenant, TenantSummary};
use sqlx::Row;
use uuid::Uuid;

/// Tenants the caller belongs to, or all for platform staff (not those
/// that only invited them: see [`invitations`]).
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<TenantSummary>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT t.id, t.slug, t.name, t.created_at, m.role
           FROM ops.tenants t LEFT JOIN ops.tenant_members m ON m.tenant_id = t.id AND m.user_id = $1
          WHERE m.user_id IS NOT NULL OR ops.reads_everything()
          ORDER BY t.name",
    )
    .bind(actor.user_id.0)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(summary).collect())
}

/// A tenant row (`id, slug, name, created_at` and the caller's `role`) as sent on the wire.
pub(crate) fn summary(r: &sqlx::postgres::PgRow) -> TenantSummary {
    TenantSummary {
        id: r.get("id"),
        slug: r.get("slug"),
        name: r.get("name"),
        role: r.get("role"),
        created_at: r.get("created_at"),
    }
}

/// Platform owners and operators create tenants; the creator becomes its admin.
pub async fn create(p: &Platform, actor: &Actor, input: NewTenant) -> DomainResult<TenantSummary> {
    if !actor.administers_platform() {
        return Err(DomainError::Forbidden);
    }
    let name = ProjectName::parse(&input.name)?;
    let slug = match input.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Slug::parse(s)?,
        None => Slug::from_name(name.as_str(), "org"),
    };
    let id = Uuid::new_v4();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let created_at =
        insert(&mut tx, actor, TenantRow { id, slug: slug.as_str(), name: name.as_str(), ..TenantRow::default() })
            .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::TenantCreate,
            target: format!("tenant:{slug}"),
            tenant_id: Some(id),
            project_id: None,
            summary: serde_json::json!({"name": name.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(TenantSummary {
        id,
        slug: slug.to_string(),
        name: name.as_str().to_owned(),
        role: Some("tenant_admin".into()),
        created_at,
    })
}

/// A new tenant's row, as the two ways of making one (the form, the wizard) write it.
#[derive(Default)]
pub(crate) struct TenantRow<'a> {
    pub id: Uuid,
    pub slug: &'a str,
    pub name: &'a str,
    pub contact_email: Option<&'a str>,
    pub country: Option<&'a str>,
    pub language: Option<&'a str>,
    pub timezone: Option<&'a str>,
    pub region: &'a str,
    pub groups: Vec<String>,
}

/// Inserts a tenant and makes its creator its first admin; a taken slug is a clear conflict.
pub(crate) async fn insert(
    tx: &mut crate::db::ScopedTx,
    actor: &Actor,
    t: TenantRow<'_>,
) -> DomainResult<chrono::DateTime<chrono::Utc>> {
    let created_at = sqlx::query_scalar(
        "INSERT INTO ops.tenants (id, slug, name, contact_email, country, language, timezone, region, groups)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING created_at",
    )
    .bind(t.id)
    .bind(t.slug)
    .bind(t.name)
    .bind(t.contact_email)
    .bind(t.country)
    .bind(t.language)
    .bind(t.timezone)
    .bind(t.region)
    .bind(&t.groups)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| match DomainError::from(e) {
        DomainError::Conflict(_) => DomainError::Conflict(format!("a tenant with slug `{}` already exists", t.slug)),
        other => other,
    })?;
    sqlx::query("INSERT INTO ops.tenant_members (tenant_id, user_id, role) VALUES ($1, $2, 'tenant_admin')")
        .bind(t.id)
        .bind(actor.user_id.0)
        .execute(&mut **tx)
        .await?;
    Ok(created_at)
}

/// Invites an email address into a tenant (tenant admins and platform
/// administrators); audited. Rights are checked before anything about the
/// address: a tenant the caller cannot see is `NotFound`, one they only
/// belong to is `Denied`. Then the answer is the same whether or not an
/// account has that address: the invitation waits for whoever signs in with
/// it, and they join only by accepting ([`answer`]).
pub async fn invite(p: &Platform, actor: &Actor, tenant: Uuid, input: crate::wire::NewMember) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let (admin, tenant_name): (bool, String) = sqlx::query_as(
        "SELECT id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin(), name FROM ops.tenants WHERE id = $1",
    )
    .bind(tenant)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("tenant"))?;
    if !admin {
        return Err(DomainError::Denied("inviting people into a tenant is for its admins".into()));
    }
    let email = crate::types::Email::parse(&input.email)?;
    let role = match input.role.trim() {
        r @ ("tenant_admin" | "member") => r.to_owned(),
        other => return Err(DomainError::Invalid(format!("`{other}` is not a tenant role (tenant_admin or member)"))),
    };
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO ops.tenant_invitations (id, tenant_id, email, role, invited_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, email) WHERE answered_at IS NULL
         DO UPDATE SET role = EXCLUDED.role, invited_by = EXCLUDED.invited_by, expires_at = now() + interval '14 days'
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(email.as_str())
    .bind(&role)
    .bind(actor.user_id.0)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::TenantMemberInvite,
            target: format!("invitation:{id}"),
            tenant_id: Some(tenant),
            project_id: None,
            summary: serde_json::json!({"email": email.as_str(), "role": role}),
        },
    )
    .await?;
    tx.commit().await?;
    // The same mail whether or not the address has an account. The invitation
    // stands if mail fails: the invitee also finds it on the Tenants page.
    let url = &p.settings.public_url;
    let mail = crate::mailer::OutgoingMail {
        to: email.as_str().to_owned(),
        subject: format!("You are invited to {tenant_name} on OdooOps"),
        body: format!(
            "{} invited you to join {tenant_name} on OdooOps as {role}.\n\n\
             Accept or decline it on the Tenants page within 14 days:\n{url}/tenants\n\n\
             No account yet? Sign up with this address first:\n{url}/sign-up\n",
            actor.email
        ),
    };
    if let Err(e) = p.mailer.send(mail).await {
        tracing::warn!(invitation = %id, error = %format!("{e:#}"), "the invitation mail was not sent");
    }
    Ok(())
}

/// The caller's pending invitations, newest first.
pub async fn invitations(p: &Platform, actor: &Actor) -> DomainResult<Vec<Invitation>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT i.id, i.tenant_id, t.name AS tenant_name, i.role, i.created_at, i.expires_at, i.project_name, i.project_role
           FROM ops.tenant_invitations i JOIN ops.tenants t ON t.id = i.tenant_id
          WHERE i.email = ops.my_email() AND i.answered_at IS NULL AND i.expires_at > now()
          ORDER BY i.created_at DESC",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| Invitation {
            id: r.get("id"),
            tenant_id: r.get("tenant_id"),
            tenant_name: r.get("tenant_name"),
            role: r.get("role"),
            created_at: r.get("created_at"),
            expires_at: r.get("expires_at"),
            project_name: r.get("project_name"),
            project_role: r.get("project_role"),
        })
        .collect())
}

/// Accepts (joins the tenant) or declines one of the caller's pending
/// invitations; audited. Someone else's invitation is `NotFound`.
pub async fn answer(p: &Platform, actor: &Actor, invitation: Uuid, accept: bool) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant: Option<Uuid> = if accept {
        sqlx::query_scalar("SELECT ops.accept_invitation($1)").bind(invitation).fetch_one(&mut *tx).await?
    } else {
        sqlx::query_scalar(
            "UPDATE ops.tenant_invitations SET answered_at = now(), answer = 'declined'
              WHERE id = $1 AND email = ops.my_email() AND answered_at IS NULL RETURNING tenant_id",
        )
        .bind(invitation)
        .fetch_optional(&mut *tx)
        .await?
    };
    let tenant = tenant.ok_or(DomainError::NotFound("invitation"))?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: if accept { AuditAction::TenantInvitationAccept } else { AuditAction::TenantInvitationDecline },
            target: format!("invitation:{invitation}"),
            tenant_id: Some(tenant),
            project_id: None,
            summary: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes tenant `slug` and everything it holds (platform owners only;
/// operators run everything else). Refused while it still runs something or
/// keeps something a deletion would lose: instances not decommissioned,
/// repository projects, backups not yet pruned. Audited.
pub async fn delete(p: &Platform, actor: &Actor, slug: &str) -> DomainResult<()> {
    if actor.platform_role != Some(crate::types::PlatformRole::Owner) {
        return Err(DomainError::Denied("only platform owners delete tenants".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(
        "SELECT t.id, t.name,
                (SELECT count(*) FROM ops.instances i WHERE i.tenant_id = t.id AND i.state <> 'decommissioned') AS running,
                (SELECT count(*) FROM ops.projects p WHERE p.tenant_id = t.id AND p.kind = 'repository') AS projects,
                (SELECT count(*) FROM ops.backups b WHERE b.tenant_id = t.id AND b.state IN ('pending', 'running', 'done'))
                    AS backups
           FROM ops.tenants t WHERE t.slug = $1 FOR UPDATE OF t",
    )
    .bind(slug.trim())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("tenant"))?;
    let id: Uuid = row.get("id");
    let name: String = row.get("name");
    let (running, projects, backups): (i64, i64, i64) = (row.get("running"), row.get("projects"), row.get("backups"));
    let mut blockers = Vec::new();
    if running > 0 {
        blockers.push(format!("{running} instance(s) not decommissioned"));
    }
    if projects > 0 {
        blockers.push(format!("{projects} project(s)"));
    }
    if backups > 0 {
        blockers.push(format!("{backups} backup(s) still kept (retention prunes them)"));
    }
    if !blockers.is_empty() {
        return Err(DomainError::Conflict(format!("{name} still has {}", blockers.join(", "))));
    }
    let deleted =
        sqlx::query("DELETE FROM ops.tenants WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
    if deleted == 0 {
        return Err(DomainError::Denied("only platform owners delete tenants".into()));
    }
    let event = Event {
        action: AuditAction::TenantDelete,
        target: format!("tenant:{}", slug.trim()),
        tenant_id: Some(id),
        project_id: None,
        summary: serde_json::json!({"name": name}),
    };
    audit::record(&mut tx, actor, event).await?;
    tx.commit().await?;
    Ok(())
}
