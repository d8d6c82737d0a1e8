//! Create, the wizard's last click: the tenant (with its contact, locale,
//! labels, subscription and SSO) in one audited transaction, then its first
//! instance through the same path every instance takes, with the draft's
//! bundle, series, size, database strategy and backup schedule. Each part is
//! recorded on the draft as it is made, so a Create that failed halfway (the
//! instance's subdomain taken meanwhile, builds unavailable) is retried from
//! where it stopped, and nothing typed is lost.

use super::{all_server_checks, bundle_closure, load, onboards};
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{size_needs, AuditAction, DraftData, WizardStep};
use crate::wire::{DraftView, InstanceView, NewInstance};
use sqlx::Row;
use uuid::Uuid;

/// Makes the tenant and its first instance from a complete draft; the admin
/// password of the instance is given here, once, and never stored in clear.
pub async fn create(p: &Platform, actor: &Actor, draft: Uuid, admin_password: String) -> DomainResult<InstanceView> {
    onboards(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let d = load(&mut tx, draft).await?;
    if let Some(id) = d.instance_id {
        tx.commit().await?;
        return crate::instances::get(p, actor, id).await;
    }
    let data = d.data.clone();
    if let Some(step) = data.first_invalid() {
        return Err(DomainError::Invalid(format!("the {} step is not complete", step.title())));
    }
    if let Some(e) = all_server_checks(&mut tx, &data, d.tenant_slug.is_some()).await?.first() {
        return Err(DomainError::Invalid(format!("{}: {}", e.field, e.message)));
    }
    let closure = bundle_closure(&mut tx, &data.infra.series, &data.bundle.bundles, &data.bundle.modules).await?;
    let oidc = data.sso.kind == "oidc";
    let found = match (&d.sso_found, oidc) {
        (Some(f), true) => Some(f.clone()),
        (None, true) => {
            return Err(DomainError::Invalid(format!(
                "test the SSO issuer first (the {} step)",
                WizardStep::Sso.title()
            )))
        }
        _ => None,
    };
    // Cheap checks of the instance before anything is made.
    crate::types::Subdomain::parse(data.identity.slug.trim())?;
    crate::instances::credentials::check_password(data.identity.contact_email.trim(), &admin_password)?;
    let slug = match d.tenant_slug.clone() {
        Some(s) => s,
        None => make_tenant(actor, &mut tx, &d, found.as_ref()).await?,
    };
    tx.commit().await?;

    let mut modules = closure.to_install();
    if oidc {
        modules.push("auth_oauth".into());
    }
    let (expected_size_gb, expected_users) = size_needs(&data.infra.size);
    let instance = crate::instances::create(
        p,
        actor,
        NewInstance {
            tenant: Some(slug.clone()),
            name: data.identity.organisation.trim().to_owned(),
            subdomain: slug,
            odoo_version: Some(data.infra.series.trim().to_owned()),
            modules,
            plan: Some(data.plan.trim().to_owned()),
            db_strategy: Some(data.infra.strategy(data.plan.trim()).as_str().to_owned()),
            dedicated_required: false,
            expected_size_gb: Some(expected_size_gb),
            expected_users: Some(expected_users),
            admin_login: data.identity.contact_email.trim().to_owned(),
            admin_password,
            draft: false,
            lang: Some(data.identity.language.clone()),
            country: Some(data.identity.country.clone()),
            timezone: Some(data.identity.timezone.clone()),
        },
    )
    .await?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    sqlx::query("UPDATE ops.projects SET backup_cron = $2 WHERE id = $1")
        .bind(instance.project_id)
        .bind(data.infra.backup_cron())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE ops.tenant_drafts SET instance_id = $2, updated_at = now() WHERE id = $1")
        .bind(draft)
        .bind(instance.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(instance)
}

fn labels(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The tenant, its first admin (the creator), its subscription and its SSO: one audit event.
async fn make_tenant(
    actor: &Actor,
    tx: &mut crate::db::ScopedTx,
    d: &DraftView,
    found: Option<&crate::wire::SsoFound>,
) -> DomainResult<String> {
    let DraftData { identity, plan, sso, .. } = &d.data;
    let slug = crate::types::Slug::parse(identity.slug.trim())?;
    let id = Uuid::new_v4();
    let (email, country) =
        (crate::types::Email::parse(&identity.contact_email)?, crate::types::Country::parse(&identity.country)?);
    let (language, timezone) =
        (crate::types::Language::parse(&identity.language)?, crate::types::TimeZone::parse(&identity.timezone)?);
    let row = crate::tenants::TenantRow {
        id,
        slug: slug.as_str(),
        name: identity.organisation.trim(),
        contact_email: Some(email.as_str()),
        country: Some(country.as_str()),
        language: Some(language.as_str()),
        timezone: Some(timezone.as_str()),
        region: identity.region.trim(),
        groups: labels(&identity.groups),
    };
    crate::tenants::insert(tx, actor, row).await?;
    // The billing boundary: the manual provider's subscription is active at once (invoiced by hand).
    sqlx::query(
        "INSERT INTO ops.subscriptions (id, tenant_id, plan, provider, status, started_at)
         VALUES ($1, $2, $3, 'manual', 'active', now())",
    )
    .bind(Uuid::new_v4())
    .bind(id)
    .bind(plan.trim())
    .execute(&mut **tx)
    .await?;
    if let Some(f) = found {
        let secret: Option<Vec<u8>> = sqlx::query("SELECT sso_secret FROM ops.tenant_drafts WHERE id = $1")
            .bind(d.id)
            .fetch_one(&mut **tx)
            .await?
            .get(0);
        sqlx::query(
            "INSERT INTO ops.tenant_sso (tenant_id, issuer, client_id, client_secret, scopes, authorization_endpoint,
                                         token_endpoint, userinfo_endpoint, jwks_uri, tested_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(&f.issuer)
        .bind(sso.client_id.trim())
        .bind(secret)
        .bind(sso.scopes.split_whitespace().collect::<Vec<_>>().join(" "))
        .bind(&f.authorization_endpoint)
        .bind(&f.token_endpoint)
        .bind(&f.userinfo_endpoint)
        .bind(&f.jwks_uri)
        .bind(f.tested_at)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("UPDATE ops.tenant_drafts SET tenant_id = $2, updated_at = now() WHERE id = $1")
        .bind(d.id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        actor,
        Event {
            action: AuditAction::TenantCreate,
            target: format!("tenant:{slug}"),
            tenant_id: Some(id),
            project_id: None,
            summary: serde_json::json!({
                "name": identity.organisation.trim(), "plan": plan.trim(), "region": identity.region.trim(),
                "groups": labels(&identity.groups), "sso": found.map(|f| f.issuer.clone()),
                "subscription": "manual", "wizard": d.id,
            }),
        },
    )
    .await?;
    Ok(slug.to_string())
}
