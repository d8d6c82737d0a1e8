//! Applying a bundle to a running instance: the bundle must be one the
//! caller sees (the platform's or the instance's tenant's), of the
//! instance's series, and installable there; what it adds (its modules and
//! their catalog dependencies the instance lacks) rides on the operation,
//! whose production build backs the database up first and installs them
//! (see the pipeline's bundle phase). The instance's module list grows only
//! when that build succeeds.

use crate::db::ScopedTx;
use crate::error::{DomainError, DomainResult};
use sqlx::Row;
use uuid::Uuid;

/// The modules `bundle` adds to `instance`, checked.
pub(super) async fn added_modules(
    tx: &mut ScopedTx,
    instance: Uuid,
    bundle: Option<Uuid>,
) -> DomainResult<(Uuid, Vec<String>)> {
    let bundle = bundle.ok_or_else(|| DomainError::Invalid("applying a bundle names its bundle_id".into()))?;
    let b = sqlx::query(
        "SELECT b.series, b.modules, b.name, (b.tenant_id IS NULL OR b.tenant_id = i.tenant_id) AS fits,
                i.odoo_version, i.modules AS has
           FROM ops.bundles b, ops.instances i WHERE b.id = $1 AND i.id = $2",
    )
    .bind(bundle)
    .bind(instance)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(DomainError::NotFound("bundle"))?;
    if !b.get::<bool, _>("fits") {
        return Err(DomainError::NotFound("bundle"));
    }
    let (series, version): (String, String) = (b.get("series"), b.get("odoo_version"));
    if series != version {
        return Err(DomainError::Invalid(format!(
            "the bundle {} is for Odoo {series}; this instance runs {version}",
            b.get::<String, _>("name")
        )));
    }
    let modules: Vec<String> = b.get("modules");
    let has: Vec<String> = b.get("has");
    let catalog = crate::catalog::facts(tx, &series).await?;
    let wanted: Vec<String> = has.iter().chain(&modules).cloned().collect();
    let closure = crate::types::closure(&catalog, &wanted);
    if let Some(why) = crate::catalog::bundles::refusal(&closure) {
        return Err(DomainError::Invalid(format!("the bundle cannot be installed here: {why}")));
    }
    let added: Vec<String> = modules.iter().cloned().chain(closure.to_install()).filter(|m| !has.contains(m)).fold(
        Vec::new(),
        |mut v, m| {
            if !v.contains(&m) {
                v.push(m);
            }
            v
        },
    );
    if added.is_empty() {
        return Err(DomainError::Conflict("the instance already has every module of this bundle".into()));
    }
    Ok((bundle, added))
}

/// After the operation's build succeeded: the instance's modules include what it added.
pub(super) async fn record(tx: &mut ScopedTx, operation: Uuid) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE ops.instances i
            SET modules = i.modules || ARRAY(SELECT m FROM unnest(o.added_modules) m WHERE NOT m = ANY (i.modules)),
                updated_at = now()
           FROM ops.instance_operations o
          WHERE o.id = $1 AND o.instance_id = i.id AND o.kind = 'apply_bundle' AND o.added_modules IS NOT NULL",
    )
    .bind(operation)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
