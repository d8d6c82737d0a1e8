//! A tenant's single sign-on through OpenID Connect. **Test** fetches the
//! issuer's discovery document (`/.well-known/openid-configuration`) the way
//! custom domains are verified — a public address only, checked once and
//! connected to directly, no redirects, a size cap — over https with the
//! certificate verified, and keeps what it announced. The issuer is a URL a
//! tenant chose: it is hostile until proven otherwise.
//!
//! A provisioned instance of a tenant with SSO gets Odoo's `auth_oauth` and
//! a provider row pointing at the discovered endpoints (written straight into
//! its database after install, as the admin account is). The client secret is
//! kept sealed; it is opened only to be written where a module that uses the
//! authorization-code flow (OCA's `auth_oidc`) reads it.

use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{oidc_issuer, WizardStep};
use crate::wire::SsoFound;
use anyhow::Context;
use sqlx::Row;
use uuid::Uuid;

/// The most a discovery document may weigh.
const MAX_DOCUMENT: usize = 64 * 1024;

/// Reads a discovery document for `issuer`; errors are sentences for the person testing.
pub fn parse_discovery(issuer: &str, body: &[u8]) -> Result<SsoFound, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "the discovery document is not JSON".to_owned())?;
    let text = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let announced = text("issuer").ok_or("the discovery document names no issuer")?;
    // OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the one asked.
    if announced.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!("the document is for the issuer {announced}, not {issuer}"));
    }
    let endpoint = |k: &str| -> Result<String, String> {
        let v = text(k).ok_or(format!("the discovery document has no {k}"))?;
        if !v.starts_with("https://") {
            return Err(format!("its {k} is not an https:// URL"));
        }
        Ok(v)
    };
    let scopes = doc
        .get("scopes_supported")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).take(50).collect())
        .unwrap_or_default();
    Ok(SsoFound {
        issuer: announced,
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?,
        userinfo_endpoint: endpoint("userinfo_endpoint").ok(),
        jwks_uri: endpoint("jwks_uri")?,
        scopes_supported: scopes,
        tested_at: chrono::Utc::now(),
    })
}

/// Fetches the draft's issuer's discovery document and keeps what it found.
/// A failed test is an `Invalid` error with the reason, and forgets the last result.
pub async fn test(p: &Platform, actor: &Actor, draft: Uuid) -> DomainResult<SsoFound> {
    super::onboards(actor)?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let d = super::load(&mut tx, draft).await?;
    tx.commit().await?;
    if d.data.sso.kind != "oidc" {
        return Err(DomainError::Invalid("choose OpenID Connect first".into()));
    }
    if let Some(e) = d.data.errors(WizardStep::Sso).into_iter().find(|e| e.field == "issuer") {
        return Err(DomainError::Invalid(e.message));
    }
    let issuer = oidc_issuer(&d.data.sso.issuer).map_err(DomainError::Invalid)?;
    let url = format!("{issuer}/.well-known/openid-configuration");
    let checks = p.outbound_checks();
    let found = match checks.fetch_https(&url, MAX_DOCUMENT).await {
        Ok(body) => parse_discovery(&issuer, &body),
        Err(e) => Err(e),
    };
    // Odoo's server will call these endpoints at every sign-in: each must be on a public address too.
    let found = match found {
        Ok(f) => endpoints_public(&checks, &f).await.map(|()| f),
        Err(e) => Err(e),
    };
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let stored = found.as_ref().ok().map(serde_json::to_value).transpose().map_err(anyhow::Error::from)?;
    // Only for the issuer tested: a save meanwhile (another tab) that changed it keeps no result.
    sqlx::query("UPDATE ops.tenant_drafts SET sso_found = $2 WHERE id = $1 AND data->'sso'->>'issuer' = $3")
        .bind(draft)
        .bind(stored)
        .bind(&d.data.sso.issuer)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    found.map_err(DomainError::Invalid)
}

/// Every endpoint a discovery document names resolves to public addresses only.
async fn endpoints_public(checks: &crate::instances::reach::Checks, f: &SsoFound) -> Result<(), String> {
    let urls =
        [Some(&f.authorization_endpoint), Some(&f.token_endpoint), f.userinfo_endpoint.as_ref(), Some(&f.jwks_uri)];
    for url in urls.into_iter().flatten() {
        let parsed = reqwest::Url::parse(url).map_err(|_| format!("{url} is not a URL"))?;
        let host = parsed.host_str().ok_or(format!("{url} names no host"))?;
        checks
            .resolve_port(host, parsed.port_or_known_default().unwrap_or(443))
            .await
            .map_err(|e| format!("{url}: {e}"))?;
    }
    Ok(())
}

/// Writes the tenant's SSO into a freshly installed instance database, when
/// the tenant has one and the database has Odoo's `auth_oauth` tables.
/// Idempotent (a provider row named `OdooOps SSO` is replaced).
pub(crate) async fn configure_instance(
    p: &Platform,
    project: Uuid,
    conn: &mut sqlx::PgConnection,
) -> anyhow::Result<Option<String>> {
    let mut tx = p.db.begin_as(crate::builds::queue::SYSTEM_USER).await?;
    let row = sqlx::query(
        "SELECT s.issuer, s.client_id, s.client_secret, s.scopes, s.authorization_endpoint, s.userinfo_endpoint
           FROM ops.tenant_sso s JOIN ops.instances i ON i.tenant_id = s.tenant_id
          WHERE i.project_id = $1 AND s.authorization_endpoint IS NOT NULL",
    )
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(r) = row else { return Ok(None) };
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('auth_oauth_provider') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .context("looking for auth_oauth's tables")?;
    if !has_table {
        return Ok(Some("the instance has no auth_oauth module: single sign-on is not configured".into()));
    }
    let issuer: String = r.get("issuer");
    sqlx::query("DELETE FROM auth_oauth_provider WHERE name = 'OdooOps SSO'").execute(&mut *conn).await?;
    // From Odoo 16 the button's label is translatable: a jsonb of language → text.
    let translated: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                         WHERE table_name = 'auth_oauth_provider' AND column_name = 'body' AND data_type = 'jsonb')",
    )
    .fetch_one(&mut *conn)
    .await?;
    let label = format!("Sign in with {}", issuer.trim_start_matches("https://"));
    let body = if translated { serde_json::json!({ "en_US": label }).to_string() } else { label };
    sqlx::query(&format!(
        "INSERT INTO auth_oauth_provider (name, client_id, enabled, body, auth_endpoint, scope, validation_endpoint,
                                          css_class, sequence)
         VALUES ('OdooOps SSO', $1, true, $2{cast}, $3, $4, $5, 'fa fa-fw fa-sign-in text-primary', 1)",
        cast = if translated { "::jsonb" } else { "" }
    ))
    .bind(r.get::<String, _>("client_id"))
    .bind(body)
    .bind(r.get::<String, _>("authorization_endpoint"))
    .bind(r.get::<String, _>("scopes"))
    // Odoo requires a validation endpoint; an issuer without userinfo leaves it empty.
    .bind(r.get::<Option<String>, _>("userinfo_endpoint").unwrap_or_default())
    .execute(&mut *conn)
    .await
    .context("writing the SSO provider")?;
    // OCA's auth_oidc adds the authorization-code flow and reads the secret from here.
    let has_secret: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                         WHERE table_name = 'auth_oauth_provider' AND column_name = 'client_secret')",
    )
    .fetch_one(&mut *conn)
    .await?;
    if let (true, Some(sealed)) = (has_secret, r.get::<Option<Vec<u8>>, _>("client_secret")) {
        let secret = p.settings.sealer.open(&sealed, super::SSO_SECRET).context("opening the SSO client secret")?;
        sqlx::query("UPDATE auth_oauth_provider SET client_secret = $1 WHERE name = 'OdooOps SSO'")
            .bind(String::from_utf8_lossy(&secret).into_owned())
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(format!("single sign-on through {issuer} is configured")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discovery_document_must_be_the_issuers_and_on_https() {
        let issuer = "https://login.example.com/realms/acme";
        let good = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://login.example.com/realms/acme/auth",
            "token_endpoint": "https://login.example.com/realms/acme/token",
            "jwks_uri": "https://login.example.com/realms/acme/certs",
            "scopes_supported": ["openid", "email"],
        });
        let f = parse_discovery(issuer, good.to_string().as_bytes()).unwrap();
        assert_eq!(f.scopes_supported, ["openid", "email"]);
        assert_eq!(f.userinfo_endpoint, None);
        let mut other = good.clone();
        other["issuer"] = "https://evil.example.net".into();
        assert!(parse_discovery(issuer, other.to_string().as_bytes()).unwrap_err().contains("evil.example.net"));
        let mut plain = good.clone();
        plain["token_endpoint"] = "http://login.example.com/token".into();
        assert!(parse_discovery(issuer, plain.to_string().as_bytes()).unwrap_err().contains("token_endpoint"));
        assert!(parse_discovery(issuer, b"<html>").unwrap_err().contains("JSON"));
    }
}
