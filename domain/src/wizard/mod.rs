//! The tenant wizard (Identity → Plan → Bundle → Infra → SSO → Review) keeps
//! its state in a server-side draft, so it is resumable from another browser,
//! deep-linkable and safe across reloads; drafts expire after seven days. Each
//! step is checked here with the same functions the browser runs as you type
//! ([`DraftData::errors`]), plus what only the server knows: the plan exists,
//! the modules' closure holds for the series, the slug is free. Platform
//! owners and operators onboard tenants; a draft is its author's alone
//! (row-level security).

mod create;
pub mod sso;

pub use create::create;

use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{closure, parse_module_list, Closure, DraftData, FieldError, OdooVersion, Slug, WizardStep};
use crate::wire::{DraftView, SsoFound, StepSaved};
use sqlx::Row;
use uuid::Uuid;

/// The purpose SSO client secrets are sealed for.
pub const SSO_SECRET: &str = "sso_client_secret";

const DRAFT_SQL: &str = "SELECT d.id, d.data, d.sso_secret IS NOT NULL AS sso_secret_set, d.sso_found, d.expires_at,
                                d.instance_id, t.slug AS tenant_slug
                           FROM ops.tenant_drafts d LEFT JOIN ops.tenants t ON t.id = d.tenant_id";

fn onboards(actor: &Actor) -> DomainResult<()> {
    if actor.administers_platform() {
        Ok(())
    } else {
        Err(DomainError::Denied("onboarding tenants is for platform owners and operators".into()))
    }
}

fn view(r: &sqlx::postgres::PgRow) -> DomainResult<DraftView> {
    let data: serde_json::Value = r.get("data");
    let found: Option<serde_json::Value> = r.get("sso_found");
    Ok(DraftView {
        id: r.get("id"),
        // A draft from an older console keeps what still parses; the rest starts over.
        data: serde_json::from_value(data).unwrap_or_default(),
        sso_secret_set: r.get("sso_secret_set"),
        sso_found: found.and_then(|f| serde_json::from_value::<SsoFound>(f).ok()),
        expires_at: r.get("expires_at"),
        tenant_slug: r.get("tenant_slug"),
        instance_id: r.get("instance_id"),
    })
}

/// A new draft with the defaults filled in.
pub async fn start(p: &Platform, actor: &Actor) -> DomainResult<DraftView> {
    onboards(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO ops.tenant_drafts (id, created_by, data) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(actor.user_id.0)
        .bind(serde_json::to_value(DraftData::default()).map_err(anyhow::Error::from)?)
        .execute(&mut *tx)
        .await?;
    let r = sqlx::query(&format!("{DRAFT_SQL} WHERE d.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    view(&r)
}

pub(crate) async fn load(tx: &mut crate::db::ScopedTx, id: Uuid) -> DomainResult<DraftView> {
    let r = sqlx::query(&format!("{DRAFT_SQL} WHERE d.id = $1 AND d.expires_at > now()"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(DomainError::NotFound("draft (drafts last 7 days)"))?;
    view(&r)
}

/// The caller's draft (another person's is not found).
pub async fn get(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<DraftView> {
    onboards(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let d = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(d)
}

/// The caller's drafts still open (not yet created), newest first.
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<DraftView>> {
    onboards(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!(
        "{DRAFT_SQL} WHERE d.expires_at > now() AND d.instance_id IS NULL ORDER BY d.updated_at DESC LIMIT 20"
    ))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter().map(view).collect()
}

/// Stores what was typed on `step` (always: nothing typed is lost) and answers
/// what is still wrong with it. A non-empty `sso_secret` is sealed and replaces
/// the stored one; changing the issuer forgets the last Test. A draft whose
/// tenant exists keeps its Identity and Plan (they are the tenant's now).
pub async fn save(
    p: &Platform,
    actor: &Actor,
    id: Uuid,
    step: WizardStep,
    data: DraftData,
    sso_secret: Option<String>,
) -> DomainResult<StepSaved> {
    onboards(actor)?;
    let secret = sso_secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if secret.is_some_and(|s| s.len() > 500) {
        return Err(DomainError::Invalid("the client secret is at most 500 characters".into()));
    }
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let before = load(&mut tx, id).await?;
    let mut data = data;
    data.sso.kind = data.sso.kind.trim().to_owned();
    if before.tenant_slug.is_some() {
        data.identity = before.data.identity.clone();
        data.plan = before.data.plan.clone();
    }
    let mut errors = data.errors(step);
    errors.extend(server_checks(&mut tx, &data, step, before.tenant_slug.is_some()).await?);
    if step == WizardStep::Review {
        errors.extend(all_server_checks(&mut tx, &data, before.tenant_slug.is_some()).await?);
    }
    let issuer_changed = data.sso.issuer.trim() != before.data.sso.issuer.trim() || data.sso.kind != "oidc";
    let sealed = secret.map(|s| p.settings.sealer.seal(s.as_bytes(), SSO_SECRET));
    sqlx::query(
        "UPDATE ops.tenant_drafts SET data = $2, sso_secret = coalesce($3, sso_secret),
                sso_found = CASE WHEN $4 THEN NULL ELSE sso_found END, updated_at = now(),
                expires_at = now() + interval '7 days'
          WHERE id = $1",
    )
    .bind(id)
    .bind(serde_json::to_value(&data).map_err(anyhow::Error::from)?)
    .bind(sealed)
    .bind(issuer_changed)
    .execute(&mut *tx)
    .await?;
    let draft = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(StepSaved { draft, step, errors })
}

/// Forgets a draft (the caller's own).
pub async fn discard(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    onboards(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let n =
        sqlx::query("DELETE FROM ops.tenant_drafts WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    if n == 0 {
        return Err(DomainError::NotFound("draft"));
    }
    Ok(())
}

/// What only the server can check about one step.
async fn server_checks(
    tx: &mut crate::db::ScopedTx,
    data: &DraftData,
    step: WizardStep,
    tenant_made: bool,
) -> DomainResult<Vec<FieldError>> {
    let mut e = Vec::new();
    match step {
        WizardStep::Identity if !tenant_made => {
            if let Ok(slug) = Slug::parse(data.identity.slug.trim()) {
                // The first instance answers at `<slug>.<instances domain>`: the name must suit it too.
                if let Err(why) = crate::types::Subdomain::parse(slug.as_str()) {
                    e.push(FieldError { field: "slug".into(), message: why.reason });
                } else if !slug_free(tx, slug.as_str()).await? {
                    e.push(FieldError { field: "slug".into(), message: format!("`{slug}` is taken") });
                }
            }
        }
        WizardStep::Plan => {
            let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ops.plans WHERE slug = $1)")
                .bind(data.plan.trim())
                .fetch_one(&mut **tx)
                .await?;
            if !known && !data.plan.trim().is_empty() {
                e.push(FieldError {
                    field: "plan".into(),
                    message: format!("there is no plan `{}`", data.plan.trim()),
                });
            }
        }
        WizardStep::Bundle if data.bundle.errors().is_empty() => {
            let c = bundle_closure(tx, &data.infra.series, &data.bundle.bundles, &data.bundle.modules).await?;
            if let Some(why) = crate::catalog::bundles::refusal(&c) {
                e.push(FieldError { field: "modules".into(), message: why });
            }
        }
        _ => {}
    }
    Ok(e)
}

/// Review: every step's server checks, the first failing step's only.
async fn all_server_checks(
    tx: &mut crate::db::ScopedTx,
    data: &DraftData,
    tenant_made: bool,
) -> DomainResult<Vec<FieldError>> {
    for step in [WizardStep::Identity, WizardStep::Plan, WizardStep::Bundle] {
        let e = server_checks(tx, data, step, tenant_made).await?;
        if !e.is_empty() {
            return Ok(e);
        }
    }
    Ok(Vec::new())
}

async fn slug_free(tx: &mut crate::db::ScopedTx, slug: &str) -> DomainResult<bool> {
    // Tenants the caller cannot see still hold their slug: ask past row-level security.
    Ok(sqlx::query_scalar(
        "SELECT NOT ops.tenant_slug_taken($1) AND NOT EXISTS (SELECT 1 FROM ops.instances WHERE subdomain = $1)
                AND NOT ops.env_host_taken($1)",
    )
    .bind(slug)
    .fetch_one(&mut **tx)
    .await?)
}

/// Whether a tenant slug is free (the Identity step asks as you type).
pub async fn slug_available(p: &Platform, actor: &Actor, slug: &str) -> DomainResult<bool> {
    onboards(actor)?;
    let slug = Slug::parse(slug.trim())?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let free = slug_free(&mut tx, slug.as_str()).await?;
    tx.commit().await?;
    Ok(free)
}

/// The closure of some bundles (their modules) and single modules over the catalog of `series`.
pub(crate) async fn bundle_closure(
    tx: &mut crate::db::ScopedTx,
    series: &str,
    bundles: &[Uuid],
    modules: &str,
) -> DomainResult<Closure> {
    let series = OdooVersion::parse(series)?;
    let mut chosen: Vec<String> = parse_module_list(modules)?.into_iter().map(|m| m.as_str().to_owned()).collect();
    let mut bundles = bundles.to_vec();
    bundles.sort();
    bundles.dedup();
    let rows = sqlx::query("SELECT name, series, modules FROM ops.bundles WHERE id = ANY($1)")
        .bind(&bundles)
        .fetch_all(&mut **tx)
        .await?;
    if rows.len() != bundles.len() {
        return Err(DomainError::NotFound("bundle"));
    }
    for r in &rows {
        let (name, bundle_series): (String, String) = (r.get("name"), r.get("series"));
        if bundle_series != series.as_str() {
            return Err(DomainError::Invalid(format!(
                "the bundle `{name}` is for Odoo {bundle_series}, not {series}",
                series = series.as_str()
            )));
        }
        chosen.extend(r.get::<Vec<String>, _>("modules"));
    }
    chosen.sort();
    chosen.dedup();
    let catalog = crate::catalog::facts(tx, series.as_str()).await?;
    Ok(closure(&catalog, &chosen))
}

/// The closure the Bundle step shows as you pick.
pub async fn preview_closure(
    p: &Platform,
    actor: &Actor,
    series: &str,
    bundles: &[Uuid],
    modules: &str,
) -> DomainResult<Closure> {
    onboards(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let c = bundle_closure(&mut tx, series, bundles, modules).await?;
    tx.commit().await?;
    Ok(c)
}

/// Expired drafts are deleted (the retention job calls this).
pub async fn forget_expired(tx: &mut crate::db::ScopedTx) -> DomainResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT ops.forget_expired_drafts()").fetch_one(&mut **tx).await?;
    Ok(n.try_into().unwrap_or(0))
}
