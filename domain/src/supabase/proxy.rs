//! `/api/supabase-proxy/{*path}`: the kit's one way to the Management API.
//! Where Supabase's Platform Kit forwards any path after a placeholder
//! permission check, this one:
//!
//! 1. lets through only the allow-listed method + path templates
//!    ([`crate::types::KIT_CALLS`]); anything else is 404 and never sent;
//! 2. finds the `{ref}` among the links the caller sees (row-level security
//!    decides) — none is 403 — and asks writing calls for a writer (project or
//!    tenant admin, platform staff) — else 403;
//! 3. opens the token, forwards with it, waits at most 20 s and reads at most
//!    5 MiB; a 429 passes through with its `Retry-After`; a refused token is a
//!    clear 502 (not a 401 the browser would take for its own session);
//! 4. strips secret values (names and SHA-256 digests only);
//! 5. writes one audit event per request: method, path template, ref, status,
//!    duration — never a body or a token.

use super::{TOKEN_PURPOSE, WRITES_SQL};
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{kit_call, AuditAction, KitAccess, KitCall, SupabaseRef};
use sha2::Digest;
use sqlx::Row;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The most an answer may weigh.
pub const MAX_ANSWER: usize = 5 * 1024 * 1024;
/// The most a request body may weigh.
pub const MAX_REQUEST: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(20);

/// A call as the browser sent it.
pub struct KitRequest {
    pub method: String,
    /// The path after `/api/supabase-proxy`, e.g. `/v1/projects/<ref>/health`.
    pub path: String,
    /// The query string's pairs.
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What goes back to the browser.
#[derive(Debug)]
pub struct KitResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(TIMEOUT)
            .build()
            .expect("an HTTP client")
    })
}

/// Authorises, forwards and audits one kit call (see the module's documentation).
#[tracing::instrument(skip_all, fields(method = %req.method))]
pub async fn call(p: &Platform, actor: &Actor, req: KitRequest) -> DomainResult<KitResponse> {
    let started = Instant::now();
    let matched = kit_call(&req.method, &req.path);
    let outcome = match &matched {
        None => Err(DomainError::NotFound("kit call (not on the allow-list)")),
        Some((c, r)) => forward(p, actor, c, r, &req).await,
    };
    let status = match &outcome {
        Ok(r) => r.status,
        Err(e) => e.code().http_status(),
    };
    let (template, reference) =
        matched.as_ref().map_or(("(not allowed)", None), |(c, r)| (c.template, Some(r.as_str())));
    let mut tx = p.db.begin_as(actor.user_id).await?;
    // Whose link the call went through (of those the caller sees), so the tenant's and project's trails show it.
    let owner: Option<(Uuid, Option<Uuid>)> = match reference {
        Some(r) => {
            sqlx::query_as(
                "SELECT tenant_id, project_id FROM ops.supabase_links WHERE ref = $1 ORDER BY project_id NULLS LAST LIMIT 1",
            )
            .bind(r)
            .fetch_optional(&mut *tx)
            .await?
        }
        None => None,
    };
    let event = Event {
        action: AuditAction::SupabaseCall,
        target: format!("supabase:{}", reference.unwrap_or("-")),
        tenant_id: owner.map(|o| o.0),
        project_id: owner.and_then(|o| o.1),
        summary: serde_json::json!({
            "method": req.method.to_ascii_uppercase(), "template": template, "ref": reference,
            "status": status, "duration_ms": started.elapsed().as_millis() as u64,
        }),
    };
    audit::record(&mut tx, actor, event).await?;
    tx.commit().await?;
    outcome
}

/// The token of the link to `reference` the caller may use for `access`.
async fn token_for(p: &Platform, actor: &Actor, reference: &SupabaseRef, access: KitAccess) -> DomainResult<String> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!(
        "SELECT l.id, l.token_sealed, {WRITES_SQL} AS writes FROM ops.supabase_links l WHERE l.ref = $1
          ORDER BY writes DESC"
    ))
    .bind(reference.as_str())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(best) = rows.first() else {
        return Err(DomainError::Denied("that Supabase project is not linked to anything of yours".into()));
    };
    if access == KitAccess::Write && !best.get::<bool, _>("writes") {
        return Err(DomainError::Denied("writing through the kit is for project and tenant admins".into()));
    }
    let sealed: Option<Vec<u8>> = rows.iter().find_map(|r| r.get::<Option<Vec<u8>>, _>("token_sealed"));
    let sealed = sealed.ok_or_else(|| {
        DomainError::Conflict("the link has no Management API token yet: an admin adds one where it was linked".into())
    })?;
    let id: Uuid = best.get("id");
    let plain = p.settings.sealer.open(&sealed, TOKEN_PURPOSE).map_err(|e| {
        tracing::warn!(link = %id, error = %format!("{e:#}"), "a Management API token does not open");
        DomainError::Unavailable("the link's token cannot be opened by this console (see its log)".into())
    })?;
    String::from_utf8(plain).map_err(|_| DomainError::Unavailable("the link's token is damaged; link again".into()))
}

async fn forward(
    p: &Platform,
    actor: &Actor,
    call: &KitCall,
    reference: &SupabaseRef,
    req: &KitRequest,
) -> DomainResult<KitResponse> {
    let token = token_for(p, actor, reference, call.access).await?;
    if req.body.len() > MAX_REQUEST {
        return Err(DomainError::Invalid(format!("a kit request is at most {} KiB", MAX_REQUEST / 1024)));
    }
    let query: Vec<&(String, String)> = req.query.iter().filter(|(k, _)| call.query.contains(&k.as_str())).collect();
    // The template with the checked ref, not the path as received: what was matched is what is sent.
    let url = format!("{}{}", p.settings.supabase_api, call.template.replace("{ref}", reference.as_str()));
    let method = reqwest::Method::from_bytes(call.method.as_bytes()).expect("allow-listed methods are valid");
    let mut out = client().request(method, &url).query(&query).bearer_auth(&token).header("accept", "application/json");
    if !req.body.is_empty() {
        out = out.header("content-type", "application/json").body(req.body.clone());
    }
    let mut resp = out.send().await.map_err(|e| {
        if e.is_timeout() {
            DomainError::Unavailable(format!("Supabase did not answer within {} s", TIMEOUT.as_secs()))
        } else {
            tracing::warn!(error = %e.without_url(), "the Management API is unreachable");
            DomainError::Unavailable("the Supabase Management API is unreachable from the console".into())
        }
    })?;
    let status = resp.status().as_u16();
    if status == 401 || status == 403 {
        return Err(DomainError::Unavailable(
            "Supabase refused the link's token (expired or revoked?): an admin links it again with a valid token"
                .into(),
        ));
    }
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (content_type, retry_after) = (header("content-type"), header("retry-after"));
    let mut body = Vec::new();
    while let Some(chunk) =
        resp.chunk().await.map_err(|_| DomainError::Unavailable("Supabase's answer broke off".into()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER {
            return Err(DomainError::Unavailable(format!(
                "Supabase's answer is larger than {} MiB: narrow the query (LIMIT, fewer columns)",
                MAX_ANSWER >> 20
            )));
        }
    }
    if call.name == "secrets.list" && (200..300).contains(&status) {
        body = without_secret_values(&body);
    }
    if call.name == "auth.config" && (200..300).contains(&status) {
        body = auth_config_masked(&body);
    }
    Ok(KitResponse { status, content_type, retry_after, body })
}

/// `[{name, value}, …]` as `[{name, digest}, …]`: a value never reaches a browser.
fn without_secret_values(body: &[u8]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = serde_json::from_slice(body).unwrap_or_default();
    let safe: Vec<serde_json::Value> = list
        .iter()
        .map(|s| {
            let value = s.get("value").and_then(|v| v.as_str()).unwrap_or_default();
            serde_json::json!({
                "name": s.get("name").cloned().unwrap_or_default(),
                "digest": hex::encode(sha2::Sha256::digest(value.as_bytes())),
                "updated_at": s.get("updated_at").cloned().unwrap_or_default(),
            })
        })
        .collect();
    serde_json::to_vec(&safe).expect("JSON values serialise")
}

/// The auth settings with every secret-looking value (SMTP password,
/// providers' client secrets, hook secrets, keys, tokens) replaced by whether it is set.
fn auth_config_masked(body: &[u8]) -> Vec<u8> {
    let Ok(serde_json::Value::Object(mut config)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return b"{}".to_vec();
    };
    for (k, v) in config.iter_mut() {
        let k = k.to_ascii_lowercase();
        if ["secret", "pass", "key", "token"].iter().any(|s| k.contains(s)) && !v.is_null() && !v.is_boolean() {
            *v = serde_json::Value::String(if v.as_str() == Some("") { String::new() } else { "(set)".into() });
        }
    }
    serde_json::to_vec(&config).expect("JSON values serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_secrets_are_masked() {
        let body = br#"{"site_url":"https://acme.example","smtp_pass":"hunter2","external_google_secret":"g-secret","hook_custom_access_token_secrets":"v1,x","mailer_autoconfirm":true,"jwt_exp":3600}"#;
        let out = String::from_utf8(auth_config_masked(body)).unwrap();
        assert!(!out.contains("hunter2") && !out.contains("g-secret") && !out.contains("v1,x"), "{out}");
        assert!(
            out.contains("https://acme.example") && out.contains("3600") && out.contains("\"mailer_autoconfirm\":true"),
            "{out}"
        );
    }

    #[test]
    fn secret_values_never_pass() {
        let body = br#"[{"name":"STRIPE_KEY","value":"sk_live_123","updated_at":"2026-01-01"}]"#;
        let out = String::from_utf8(without_secret_values(body)).unwrap();
        assert!(!out.contains("sk_live_123") && out.contains("STRIPE_KEY") && out.contains("digest"), "{out}");
        assert_eq!(without_secret_values(b"not json"), b"[]");
    }
}
