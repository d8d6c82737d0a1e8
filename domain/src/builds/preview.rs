//! Preview links: every live build answers at `http://<slug>.<preview domain>`.
//! Private previews need a signed, expiring token (a share link); the token
//! names the preview it opens, so it cannot open another one.

use crate::types::AuditAction;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `<expiry unix seconds>.<hex HMAC-SHA256(key, slug|expiry)>`.
pub fn sign(key: &[u8], slug: &str, expires_unix: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(format!("{slug}|{expires_unix}").as_bytes());
    format!("{expires_unix}.{}", hex::encode(mac.finalize().into_bytes()))
}

pub fn verify(key: &[u8], slug: &str, token: &str, now_unix: i64) -> bool {
    let Some((exp, sig)) = token.split_once('.') else { return false };
    let Ok(exp) = exp.parse::<i64>() else { return false };
    let Ok(sig) = hex::decode(sig) else { return false };
    if exp < now_unix {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(format!("{slug}|{exp}").as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// A preview slug as it appears in a host name: `b<number>-<project slug>`.
pub fn is_slug(s: &str) -> bool {
    let numbered = s
        .strip_prefix('b')
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    s.len() <= 63 && numbered && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Where a share link goes once its token became a cookie: the same path on
/// the preview, with the other query parameters. The path gets exactly one
/// leading `/` (slashes and backslashes collapsed), so `//evil.example` or
/// `/\\evil.example` stays on the preview instead of naming another host.
pub fn location_without_token(path: &str, query: &str) -> String {
    let path = format!("/{}", path.trim_start_matches(['/', '\\']));
    let rest: Vec<&str> = query.split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("odooops_token=")).collect();
    if rest.is_empty() {
        path
    } else {
        format!("{path}?{}", rest.join("&"))
    }
}

/// A share link to a live build, valid for `hours` (1 to 168). Anyone who can
/// see the build may share it; the link opens that preview only.
pub async fn share_link(
    p: &crate::platform::Platform,
    actor: &crate::auth::Actor,
    build: uuid::Uuid,
    hours: u32,
) -> crate::error::DomainResult<String> {
    use crate::error::DomainError;
    let infra =
        p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are not enabled on this server".into()))?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row: Option<(Option<String>, bool, uuid::Uuid, uuid::Uuid)> =
        sqlx::query_as("SELECT preview_slug, live, tenant_id, project_id FROM ops.builds WHERE id = $1")
            .bind(build)
            .fetch_optional(&mut *tx)
            .await?;
    let (slug, live, tenant, project) = row.ok_or(DomainError::NotFound("build"))?;
    let slug = slug.filter(|_| live).ok_or_else(|| DomainError::Conflict("this build has no live preview".into()))?;
    let hours = hours.clamp(1, 168);
    // A share link opens a private preview to anyone holding it: who made one is on record.
    crate::audit::record(
        &mut tx,
        actor,
        crate::audit::Event {
            action: AuditAction::BuildShare,
            target: format!("build:{build}"),
            tenant_id: Some(tenant),
            project_id: Some(project),
            summary: serde_json::json!({"hours": hours}),
        },
    )
    .await?;
    tx.commit().await?;
    let exp = chrono::Utc::now().timestamp() + i64::from(hours) * 3600;
    let token = sign(&infra.preview_key, &slug, exp);
    Ok(format!(
        "{}/web/login?odooops_token={token}",
        preview_origin(&p.settings.public_url, &slug, &infra.preview_domain)
    ))
}

/// `scheme://<slug>.<domain>[:port]`, with the console's scheme and port.
pub fn preview_origin(public_url: &str, slug: &str, domain: &str) -> String {
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
    let authority = rest.split('/').next().unwrap_or_default();
    let port = authority.rsplit_once(':').map(|(_, p)| p).filter(|p| p.chars().all(|c| c.is_ascii_digit()));
    match port {
        Some(port) => format!("{scheme}://{slug}.{domain}:{port}"),
        None => format!("{scheme}://{slug}.{domain}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_redirect_after_a_share_link_stays_on_the_preview() {
        use super::location_without_token as loc;
        assert_eq!(loc("/web/login", "odooops_token=1.ab"), "/web/login");
        assert_eq!(loc("/web", "a=1&odooops_token=1.ab&b=2"), "/web?a=1&b=2");
        assert_eq!(loc("//evil.example", "odooops_token=x"), "/evil.example");
        assert_eq!(loc("/\\evil.example/x", "odooops_token=x"), "/evil.example/x");
        assert_eq!(loc("", ""), "/");
    }

    use super::*;

    #[test]
    fn tokens_open_one_preview_until_they_expire() {
        let t = sign(b"k", "b1-acme", 1000);
        assert!(verify(b"k", "b1-acme", &t, 999));
        assert!(!verify(b"k", "b1-acme", &t, 1001), "expired");
        assert!(!verify(b"k", "b2-acme", &t, 999), "another preview");
        assert!(!verify(b"other", "b1-acme", &t, 999), "another key");
        assert!(!verify(b"k", "b1-acme", "garbage", 0));
        assert!(!verify(b"k", "b1-acme", "2000.zz", 0));
        let forged = format!("9999{}", &t[4..]);
        assert!(!verify(b"k", "b1-acme", &forged, 999), "expiry is signed");
    }

    #[test]
    fn origins_follow_the_console() {
        assert_eq!(preview_origin("http://127.0.0.1:3000", "b1-x", "localhost"), "http://b1-x.localhost:3000");
        assert_eq!(
            preview_origin("https://ops.example.com", "b1-x", "preview.example.com"),
            "https://b1-x.preview.example.com"
        );
    }

    #[test]
    fn slugs() {
        assert!(is_slug("b12-acme-erp"));
        assert!(!is_slug("acme"));
        assert!(!is_slug("b1_x"));
        assert!(!is_slug("bobco"), "an instance's name, not a preview");
        assert!(!is_slug("b-x") && !is_slug("bx-1"));
    }
}
