//! Platform settings that change at run time, without a restart: whether
//! anyone may sign up (overriding `ODOOOPS_SIGNUP_OPEN`), how many
//! instances a tenant may keep, and the preflight gates' limits (the
//! PostgreSQL extensions allowed, the object-count thresholds). Owners change them, audited; staff and
//! auditors read them. Sign-up and instance creation read them through a
//! narrow database function, before anyone is known.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, PlatformRole};
use crate::wire::{PlatformSettingsInput, PlatformSettingsView};

/// Instances a tenant may keep unless an owner says otherwise.
pub const DEFAULT_INSTANCES_PER_TENANT: i64 = 10;

/// A setting, through the narrow function: on the caller's transaction when it
/// has one (never a second connection while holding one), else on the
/// application pool (sign-up, before anyone is known).
async fn raw<'e>(exec: impl sqlx::PgExecutor<'e>, key: &str) -> DomainResult<Option<serde_json::Value>> {
    Ok(sqlx::query_scalar("SELECT ops.platform_setting($1)").bind(key).fetch_one(exec).await?)
}

/// Whether sign-up is open now.
pub async fn signup_open(p: &Platform) -> DomainResult<bool> {
    Ok(raw(p.db.anonymous(), "signup_open").await?.and_then(|v| v.as_bool()).unwrap_or(p.settings.signup_open))
}

/// How many instances a tenant may keep now.
pub async fn instances_per_tenant<'e>(exec: impl sqlx::PgExecutor<'e>) -> DomainResult<i64> {
    Ok(raw(exec, "instances_per_tenant").await?.and_then(|v| v.as_i64()).unwrap_or(DEFAULT_INSTANCES_PER_TENANT))
}

pub async fn get(p: &Platform, actor: &Actor) -> DomainResult<PlatformSettingsView> {
    if !actor.platform_role.is_some_and(|r| r.administers_platform() || r == PlatformRole::Auditor) {
        return Err(DomainError::Denied("platform settings are for platform staff and auditors".into()));
    }
    let limits = crate::preflight::limits(p.db.anonymous()).await?;
    Ok(PlatformSettingsView {
        signup_open: signup_open(p).await?,
        signup_open_flag: p.settings.signup_open,
        instances_per_tenant: instances_per_tenant(p.db.anonymous()).await?,
        preflight_extensions: limits.extensions,
        preflight_objects_warn: limits.objects_warn,
        preflight_objects_fail: limits.objects_fail,
    })
}

/// Changes the settings given (owners only); one audit event with what changed.
pub async fn set(p: &Platform, actor: &Actor, input: PlatformSettingsInput) -> DomainResult<PlatformSettingsView> {
    if actor.platform_role != Some(PlatformRole::Owner) {
        return Err(DomainError::Denied("only platform owners change platform settings".into()));
    }
    if input.instances_per_tenant.is_some_and(|n| !(1..=1000).contains(&n)) {
        return Err(DomainError::Invalid("instances per tenant: 1 to 1,000".into()));
    }
    if let Some(list) = &input.preflight_extensions {
        let name = |e: &String| {
            !e.is_empty()
                && e.len() <= 63
                && e.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        if list.len() > 50 || !list.iter().all(name) {
            return Err(DomainError::Invalid(
                "extensions: at most 50 names of lower-case letters, digits, _ and - (e.g. pg_trgm, unaccent)".into(),
            ));
        }
    }
    let current = crate::preflight::limits(p.db.anonymous()).await?;
    let warn = input.preflight_objects_warn.unwrap_or(current.objects_warn);
    let fail = input.preflight_objects_fail.unwrap_or(current.objects_fail);
    if !(100..=1_000_000).contains(&warn) || !(100..=1_000_000).contains(&fail) || warn > fail {
        return Err(DomainError::Invalid(
            "object thresholds: 100 to 1,000,000 relations, the warning at most the failure".into(),
        ));
    }
    let mut changes = serde_json::Map::new();
    if let Some(v) = input.signup_open {
        changes.insert("signup_open".into(), v.into());
    }
    if let Some(v) = input.instances_per_tenant {
        changes.insert("instances_per_tenant".into(), v.into());
    }
    if let Some(mut v) = input.preflight_extensions {
        v.sort();
        v.dedup();
        changes.insert("preflight_extensions".into(), v.into());
    }
    if let Some(v) = input.preflight_objects_warn {
        changes.insert("preflight_objects_warn".into(), v.into());
    }
    if let Some(v) = input.preflight_objects_fail {
        changes.insert("preflight_objects_fail".into(), v.into());
    }
    if changes.is_empty() {
        return Err(DomainError::Invalid("nothing to change".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    for (key, value) in &changes {
        sqlx::query(
            "INSERT INTO ops.platform_settings (key, value, updated_by) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()",
        )
        .bind(key)
        .bind(value)
        .bind(actor.user_id.0)
        .execute(&mut *tx)
        .await?;
    }
    let event = Event {
        action: AuditAction::PlatformSettings,
        target: "platform:settings".into(),
        tenant_id: None,
        project_id: None,
        summary: serde_json::Value::Object(changes),
    };
    audit::record(&mut tx, actor, event).await?;
    tx.commit().await?;
    get(p, actor).await
}
