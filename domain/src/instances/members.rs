//! Who belongs to an instance's tenant, as its page lists them (managing
//! people is the tenant's page; see issue 20).

use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use sqlx::Row;
use uuid::Uuid;

/// The members of the instance's tenant (who can sign in to the console for it), admins first.
pub async fn members(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<Vec<crate::wire::InstanceMember>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenant: Uuid = sqlx::query_scalar("SELECT tenant_id FROM ops.instances WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("instance"))?;
    let rows = sqlx::query(
        "SELECT u.email, u.display_name, m.role FROM ops.tenant_members m JOIN ops.users u ON u.id = m.user_id
          WHERE m.tenant_id = $1 ORDER BY m.role <> 'tenant_admin', u.email",
    )
    .bind(tenant)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| crate::wire::InstanceMember {
            email: r.get("email"),
            display_name: r.get("display_name"),
            role: r.get("role"),
        })
        .collect())
}
