//! An instance's operations: the list with its live log, asking for one (the
//! state machine decides what is allowed from where, a key makes a retried
//! request answer the same operation), and queueing it with its audit event.
//! `mod.rs` keeps instances themselves; this file keeps what happens to them.

use super::*;

const OPERATION_SQL: &str = "
    SELECT o.id, o.instance_id, o.kind, o.state, o.build_id, o.backup_id, o.error, u.email AS requested_by,
           o.created_at, o.started_at, o.finished_at, o.target_strategy, o.log, o.downtime_ms, o.bundle_id,
           coalesce(o.added_modules, '{}') AS added_modules
      FROM ops.instance_operations o LEFT JOIN ops.users u ON u.id = o.requested_by";

pub(super) fn operation_view(r: &sqlx::postgres::PgRow) -> DomainResult<InstanceOperationView> {
    Ok(InstanceOperationView {
        id: r.get("id"),
        instance_id: r.get("instance_id"),
        kind: vocabulary(r, "kind")?,
        state: vocabulary(r, "state")?,
        build_id: r.get("build_id"),
        backup_id: r.get("backup_id"),
        error: r.get("error"),
        requested_by: r.get("requested_by"),
        created_at: r.get("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        target_strategy: crate::db::vocabulary_opt(r, "target_strategy")?,
        log: r.get("log"),
        downtime_ms: r.get("downtime_ms"),
        bundle_id: r.get("bundle_id"),
        added_modules: r.get("added_modules"),
    })
}

/// Not found unless the caller sees the instance (row-level security decides).
pub(crate) async fn visible(tx: &mut ScopedTx, instance: Uuid) -> DomainResult<()> {
    let seen: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ops.instances WHERE id = $1)")
        .bind(instance)
        .fetch_one(&mut **tx)
        .await?;
    if seen {
        Ok(())
    } else {
        Err(DomainError::NotFound("instance"))
    }
}

/// An instance's operations, newest first.
pub async fn operations(p: &Platform, actor: &Actor, instance: Uuid) -> DomainResult<Vec<InstanceOperationView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    visible(&mut tx, instance).await?;
    let rows = sqlx::query(&format!("{OPERATION_SQL} WHERE o.instance_id = $1 ORDER BY o.created_at DESC LIMIT 200"))
        .bind(instance)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.iter().map(operation_view).collect()
}

/// Asks for an operation (tenant admins and platform staff). The same
/// idempotency key answers the same operation; an operation the state does
/// not allow, or a second one while one is open, is a conflict. Audited.
pub async fn request(
    p: &Platform,
    actor: &Actor,
    instance: Uuid,
    input: OperationRequest,
) -> DomainResult<InstanceOperationView> {
    let kind = OperationKind::parse(input.kind.trim())?;
    let key = input.idempotency_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    if key.is_some_and(|k| k.len() > 200) {
        return Err(DomainError::Invalid("an idempotency key has at most 200 characters".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let i = sqlx::query(
        "SELECT tenant_id, project_id, state, admin_login, db_strategy,
                (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin()) AS may_operate
           FROM ops.instances WHERE id = $1",
    )
    .bind(instance)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("instance"))?;
    if !i.get::<bool, _>("may_operate") {
        return Err(DomainError::Denied("operations on an instance are for its tenant's admins".into()));
    }
    if let Some(k) = key {
        let same = sqlx::query(&format!("{OPERATION_SQL} WHERE o.instance_id = $1 AND o.idempotency_key = $2"))
            .bind(instance)
            .bind(k)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = same {
            let op = operation_view(&r)?;
            if op.kind != kind {
                return Err(DomainError::Conflict(format!(
                    "that idempotency key was used for a {} operation",
                    op.kind
                )));
            }
            return Ok(op);
        }
    }
    let state: InstanceState = vocabulary(&i, "state")?;
    if !kind.allowed_from(state) {
        return Err(DomainError::Conflict(format!("an instance that is {state} cannot {kind}")));
    }
    let target = match kind {
        OperationKind::MigrateDatabase => {
            if !actor.administers_platform() {
                return Err(DomainError::Denied(
                    "moving an instance's database between servers is for platform staff".into(),
                ));
            }
            let now: DbStrategy = vocabulary(&i, "db_strategy")?;
            let to = match input.db_strategy.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => DbStrategy::parse(s)?,
                None => now.other(),
            };
            if to == now {
                return Err(DomainError::Conflict(format!("the database is already on the {now} server")));
            }
            dedicated_available(p)?;
            Some(to)
        }
        _ => None,
    };
    let backup = match (kind, input.backup_id) {
        (OperationKind::Restore, None) => return Err(DomainError::Invalid("a restore names its backup_id".into())),
        (OperationKind::Restore, Some(b)) => {
            let ok: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM ops.backups b JOIN ops.instances i ON i.env_id = b.env_id
                                 WHERE b.id = $1 AND i.id = $2 AND b.state = 'done')",
            )
            .bind(b)
            .bind(instance)
            .fetch_one(&mut *tx)
            .await?;
            if !ok {
                return Err(DomainError::Invalid("that is not a finished backup of this instance".into()));
            }
            quota::refuse_restore(&mut tx, instance, b).await?;
            Some(b)
        }
        _ => None,
    };
    let hash = match (kind, input.admin_password.as_deref()) {
        (OperationKind::Provision, Some(pw)) => {
            credentials::check_password(&i.get::<String, _>("admin_login"), pw)?;
            // Hashed without holding a connection; the state is read again after.
            tx.commit().await?;
            let hash = credentials::odoo_hash_async(pw.to_owned()).await?;
            tx = p.db.begin_as(actor.user_id).await?;
            let now: Option<String> = sqlx::query_scalar("SELECT state FROM ops.instances WHERE id = $1")
                .bind(instance)
                .fetch_optional(&mut *tx)
                .await?;
            if now.as_deref() != Some(state.as_str()) {
                return Err(DomainError::Conflict("the instance changed meanwhile; try again".into()));
            }
            Some(hash)
        }
        // OdooOps kept no password: provisioning (again) is always told it.
        (OperationKind::Provision, None) => {
            return Err(DomainError::Invalid(
                "provisioning needs the admin password (OdooOps does not keep it)".into(),
            ));
        }
        _ => None,
    };
    let bundle = match kind {
        OperationKind::ApplyBundle => Some(apply::added_modules(&mut tx, instance, input.bundle_id).await?),
        _ => None,
    };
    let tenant: Uuid = i.get("tenant_id");
    let d = Details { key, backup, hash: hash.as_deref(), target, bundle };
    let id = queue(&mut tx, actor, instance, tenant, kind, state, d).await?;
    let row = sqlx::query(&format!("{OPERATION_SQL} WHERE o.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    operation_view(&row)
}

/// What an operation carries besides its kind.
#[derive(Default)]
pub(super) struct Details<'a> {
    pub(super) key: Option<&'a str>,
    pub(super) backup: Option<Uuid>,
    pub(super) hash: Option<&'a str>,
    /// `migrate_database`: where the database goes.
    pub(super) target: Option<DbStrategy>,
    /// `apply_bundle`: the bundle, and the modules it adds.
    pub(super) bundle: Option<(Uuid, Vec<String>)>,
}

/// Inserts an operation (its job is queued by the database in the same statement) and audits it.
pub(super) async fn queue(
    tx: &mut ScopedTx,
    actor: &Actor,
    instance: Uuid,
    tenant: Uuid,
    kind: OperationKind,
    from: InstanceState,
    d: Details<'_>,
) -> DomainResult<Uuid> {
    let Details { key, backup, hash, target, bundle } = d;
    let (bundle, added) = bundle.map_or((None, None), |(b, a)| (Some(b), Some(a)));
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ops.instance_operations (id, instance_id, tenant_id, kind, from_state, idempotency_key,
                                              requested_by, backup_id, admin_password_hash, target_strategy,
                                              bundle_id, added_modules)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(instance)
    .bind(tenant)
    .bind(kind.as_str())
    .bind(from.as_str())
    .bind(key)
    .bind(actor.user_id.0)
    .bind(backup)
    .bind(hash)
    .bind(target.map(|t| t.as_str()))
    .bind(bundle)
    .bind(&added)
    .execute(&mut **tx)
    .await
    .map_err(|e| match DomainError::from(e) {
        DomainError::Conflict(_) => {
            DomainError::Conflict("another operation on this instance is under way; try when it has finished".into())
        }
        other => other,
    })?;
    audit::record(
        tx,
        actor,
        Event {
            action: AuditAction::InstanceOperation,
            target: format!("instance:{instance}"),
            tenant_id: Some(tenant),
            project_id: None,
            summary: serde_json::json!({"operation": id, "kind": kind, "from": from, "backup": backup, "to": target,
                                        "bundle": bundle, "adds": added}),
        },
    )
    .await?;
    Ok(id)
}
