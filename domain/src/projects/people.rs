//! Bringing a colleague into a project by email (issue 20). Someone already in
//! the project's tenant joins at once with the role; anyone else gets an
//! invitation by mail — a tenant invitation that also names the project and the
//! role, which the project's own admins send, see and revoke — and joins both
//! the tenant (as a member) and the project when they accept it. The answer is
//! the same whether or not the address has an account.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Capability, Email, ProjectRole};
use crate::wire::{InviteOutcome, NewMember, ProjectInvitation};
use sqlx::Row;
use uuid::Uuid;

/// Adds `input.email` to the project with `input.role`, or invites them (project admins); audited.
pub async fn invite(p: &Platform, actor: &Actor, project: Uuid, input: NewMember) -> DomainResult<InviteOutcome> {
    let email = Email::parse(&input.email)?;
    let role = ProjectRole::parse(input.role.trim())?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let access = crate::access::project(&mut tx, project).await?;
    access.require_project(Capability::ManageMembers, "inviting people into a project")?;
    let in_tenant: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM ops.users u JOIN ops.tenant_members m ON m.user_id = u.id AND m.tenant_id = $2
                         WHERE u.email = $1)",
    )
    .bind(email.as_str())
    .bind(access.tenant_id)
    .fetch_one(&mut *tx)
    .await?;
    if in_tenant {
        tx.commit().await?;
        let member = super::add_member(p, actor, project, input).await?;
        return Ok(InviteOutcome { outcome: "added".into(), member: Some(member), invitation: None });
    }
    let project_name: String =
        sqlx::query_scalar("SELECT name FROM ops.projects WHERE id = $1").bind(project).fetch_one(&mut *tx).await?;
    // Inviting again refreshes this project's own pending invitation.
    let refreshed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE ops.tenant_invitations SET project_role = $3, invited_by = $4, expires_at = now() + interval '14 days'
          WHERE tenant_id = $1 AND email = $2 AND project_id = $5 AND answered_at IS NULL RETURNING id",
    )
    .bind(access.tenant_id)
    .bind(email.as_str())
    .bind(role.as_str())
    .bind(actor.user_id.0)
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?;
    let id = match refreshed {
        Some(id) => id,
        None => sqlx::query_scalar(
            "INSERT INTO ops.tenant_invitations (id, tenant_id, email, role, invited_by, project_id, project_role, project_name)
             VALUES ($1, $2, $3, 'member', $4, $5, $6, $7)
             ON CONFLICT (tenant_id, email) WHERE answered_at IS NULL DO NOTHING RETURNING id",
        )
        .bind(Uuid::new_v4())
        .bind(access.tenant_id)
        .bind(email.as_str())
        .bind(actor.user_id.0)
        .bind(project)
        .bind(role.as_str())
        .bind(&project_name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            DomainError::Conflict(format!(
                "{email} already has an invitation into this tenant waiting for an answer; add them here once they accept it"
            ))
        })?,
    };
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ProjectMemberInvite,
            target: format!("invitation:{id}"),
            tenant_id: Some(access.tenant_id),
            project_id: Some(project),
            summary: serde_json::json!({"email": email.as_str(), "role": role.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    // The invitation stands if mail fails: the invitee also finds it on the Tenants page.
    let url = &p.settings.public_url;
    let mail = crate::mailer::OutgoingMail {
        to: email.as_str().to_owned(),
        subject: format!("You are invited to {project_name} on OdooOps"),
        body: format!(
            "{} invited you to the project {project_name} on OdooOps as {}.\n\n\
             Accept or decline it within 14 days, signed in with this address:\n{url}/tenants#invitation-{id}\n\n\
             No account yet? Sign up with this address first:\n{url}/sign-up\n",
            actor.email,
            role.as_str().replace('_', " "),
        ),
    };
    if let Err(e) = p.mailer.send(mail).await {
        tracing::warn!(invitation = %id, error = %format!("{e:#}"), "the invitation mail was not sent");
    }
    Ok(InviteOutcome { outcome: "invited".into(), member: None, invitation: Some(id) })
}

/// The project's invitations waiting for an answer (project admins).
pub async fn invitations(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<Vec<ProjectInvitation>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let access = crate::access::project(&mut tx, project).await?;
    access.require_project(Capability::ManageMembers, "seeing a project's invitations")?;
    let rows = sqlx::query(
        "SELECT i.id, i.email, i.project_role, u.email AS invited_by, i.created_at, i.expires_at
           FROM ops.tenant_invitations i LEFT JOIN ops.users u ON u.id = i.invited_by
          WHERE i.project_id = $1 AND i.answered_at IS NULL AND i.expires_at > now()
          ORDER BY i.created_at DESC",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| ProjectInvitation {
            id: r.get("id"),
            email: r.get("email"),
            role: r.get("project_role"),
            invited_by: r.get("invited_by"),
            created_at: r.get("created_at"),
            expires_at: r.get("expires_at"),
        })
        .collect())
}

/// Withdraws a pending invitation into the project (project admins); audited. The link in the
/// mail then leads nowhere.
pub async fn revoke_invitation(p: &Platform, actor: &Actor, project: Uuid, invitation: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let access = crate::access::project(&mut tx, project).await?;
    access.require_project(Capability::ManageMembers, "revoking invitations")?;
    let email: String = sqlx::query_scalar(
        "UPDATE ops.tenant_invitations SET answered_at = now(), answer = 'revoked'
          WHERE id = $1 AND project_id = $2 AND answered_at IS NULL RETURNING email",
    )
    .bind(invitation)
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("invitation"))?;
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::ProjectInvitationRevoke,
            target: format!("invitation:{invitation}"),
            tenant_id: Some(access.tenant_id),
            project_id: Some(project),
            summary: serde_json::json!({"email": email}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
