//! Connect (issue 20): opening a build's Odoo signed in as its admin, as
//! Odoo.sh does, instead of on a login page nobody has the password for.
//!
//! The console mints a one-time ticket (a minute, one use, only its hash
//! stored) for a person allowed to: everyone who may connect on development
//! and staging, and on production only those with its tools (the role
//! matrix's `shell`). The browser carries the ticket to the build's own host,
//! where the preview router redeems it, gives the build's admin user a fresh
//! random password (as a passlib hash, in the build's database, over that
//! database's own role), signs in through Odoo's JSON login and hands the
//! browser the session cookie of that host. Those not allowed, or builds
//! without a database, get the login page behind a share link as before.

use crate::access::Access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::{AuditAction, Capability, Stage};
use anyhow::Context;
use sqlx::{Connection, Row};
use uuid::Uuid;

/// Where the router takes a ticket on a preview host.
pub const TICKET_PATH: &str = "/odooops/connect";
/// The query parameter carrying it.
pub const TICKET_PARAM: &str = "odooops_ticket";
/// How long a ticket may wait for its one use.
const TICKET_SECONDS: i64 = 60;
/// How long the preview's own cookie lasts once connected.
pub const PREVIEW_HOURS: i64 = 8;

/// Where the console sends the browser for `build`: a ticket that signs the
/// person in as the build's admin when the role matrix allows, the login page
/// behind a short share link otherwise. Audited either way.
pub async fn open(p: &Platform, actor: &Actor, build: Uuid) -> DomainResult<String> {
    let infra =
        p.builds.as_ref().ok_or_else(|| DomainError::Unavailable("builds are not enabled on this server".into()))?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(concat!(
        "SELECT b.preview_slug, b.live, b.tenant_id, b.project_id, b.stage, b.db_name, ",
        crate::access::columns!("b.project_id"),
        " FROM ops.builds b WHERE b.id = $1"
    ))
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("build"))?;
    let stage: Stage = crate::db::vocabulary(&r, "stage")?;
    let access = Access::from_row(&r);
    access.require(stage, Capability::Connect, "connecting to a build")?;
    let slug: Option<String> = r.get("preview_slug");
    let slug = slug
        .filter(|_| r.get::<bool, _>("live"))
        .ok_or_else(|| DomainError::Conflict("this build has no live preview".into()))?;
    let as_admin = r.get::<Option<String>, _>("db_name").is_some()
        && (stage != Stage::Production || access.allows(stage, Capability::Shell));
    let origin = super::preview::preview_origin(&p.settings.public_url, &slug, &infra.preview_domain);
    let url = if as_admin {
        let ticket = crate::auth::random_token(32);
        sqlx::query(
            "INSERT INTO ops.connect_tickets (ticket_hash, build_id, user_id, expires_at)
             VALUES ($1, $2, ops.current_user_id(), now() + make_interval(secs => $3))",
        )
        .bind(crate::auth::token_hash(&ticket))
        .bind(build)
        .bind(TICKET_SECONDS as f64)
        .execute(&mut *tx)
        .await?;
        format!("{origin}{TICKET_PATH}?{TICKET_PARAM}={ticket}")
    } else {
        let exp = chrono::Utc::now().timestamp() + PREVIEW_HOURS * 3600;
        format!("{origin}/web/login?odooops_token={}", super::preview::sign(&infra.preview_key, &slug, exp))
    };
    audit::record(
        &mut tx,
        actor,
        Event {
            action: AuditAction::BuildConnect,
            target: format!("build:{build}"),
            tenant_id: Some(r.get("tenant_id")),
            project_id: Some(r.get("project_id")),
            summary: serde_json::json!({ "as_admin": as_admin }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(url)
}

/// A redeemed ticket: the build and its database.
#[derive(Debug)]
pub struct Redeemed {
    pub build: Uuid,
    pub database: String,
}

/// Uses `ticket` up on the preview host `slug`: `None` when it is unknown,
/// used, expired, for another build, or its holder left the project.
pub async fn redeem(p: &Platform, slug: &str, ticket: &str) -> anyhow::Result<Option<Redeemed>> {
    let row = sqlx::query("SELECT build_id, db_name FROM ops.redeem_connect_ticket($1, $2)")
        .bind(crate::auth::token_hash(ticket))
        .bind(slug)
        .fetch_optional(p.db.anonymous())
        .await
        .context("redeeming a connect ticket")?;
    Ok(row.map(|r| Redeemed { build: r.get("build_id"), database: r.get("db_name") }))
}

/// Signs in to the Odoo at `target` (host:port) as the admin of `database`
/// and returns the session id Odoo gave. The admin's password becomes a fresh
/// random one nobody sees (stored as Odoo stores passwords); the build's
/// database is reached over its own role, never the server's admin.
pub async fn sign_in_as_admin(
    infra: &super::infra::BuildInfra,
    database: &str,
    target: &str,
) -> anyhow::Result<String> {
    let dbs = infra.db(database);
    let mut c = sqlx::PgConnection::connect_with(&dbs.owner_options(database))
        .await
        .context("connecting to the build's database as its own role")?;
    // Odoo's admin is the user named by `base.user_admin` (its login may have been changed); else the login `admin`.
    let modelled: bool =
        sqlx::query_scalar("SELECT to_regclass('ir_model_data') IS NOT NULL").fetch_one(&mut c).await?;
    let mut login: Option<String> = None;
    if modelled {
        login = sqlx::query_scalar(
            "SELECT u.login FROM res_users u JOIN ir_model_data d ON d.res_id = u.id
              WHERE d.module = 'base' AND d.name = 'user_admin' AND d.model = 'res.users' AND u.active",
        )
        .fetch_optional(&mut c)
        .await?;
    }
    if login.is_none() {
        login = sqlx::query_scalar("SELECT login FROM res_users WHERE login = 'admin' AND active")
            .fetch_optional(&mut c)
            .await?;
    }
    let login = login.context("the build's database has no active admin user")?;
    let password = crate::auth::random_token(24);
    sqlx::query("UPDATE res_users SET password = $1 WHERE login = $2")
        .bind(passlib_pbkdf2_sha512(&password))
        .bind(&login)
        .execute(&mut c)
        .await
        .context("setting the admin's one-time password")?;
    drop(c);
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client")
    });
    let body = serde_json::json!({
        "jsonrpc": "2.0", "method": "call",
        "params": { "db": database, "login": login, "password": password },
    });
    let resp = client
        .post(format!("http://{target}/web/session/authenticate"))
        .json(&body)
        .send()
        .await
        .context("asking the build's Odoo to sign in")?;
    let status = resp.status();
    let session = resp.headers().get_all(reqwest::header::SET_COOKIE).iter().find_map(|v| session_cookie(v.as_bytes()));
    // The container answers: read at most a little of it, and only to tell an error apart.
    let mut text = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.context("reading the sign-in answer")? {
        text.extend_from_slice(&chunk);
        if text.len() > 64 * 1024 {
            break;
        }
    }
    let answer: serde_json::Value = serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null);
    anyhow::ensure!(status.is_success(), "the build's Odoo answered {status} to the sign-in");
    if let Some(err) = answer.get("error") {
        let message = err.pointer("/data/message").or_else(|| err.get("message")).and_then(|m| m.as_str());
        anyhow::bail!("the build's Odoo refused the sign-in: {}", message.unwrap_or("no reason given"));
    }
    session.context("the build's Odoo answered the sign-in without a session")
}

/// The value of a `session_id` cookie in a `Set-Cookie` header, when it looks
/// like one (a container chooses it: nothing else is carried to the browser).
fn session_cookie(header: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(header).ok()?;
    let value = text.split(';').next()?.trim().strip_prefix("session_id=")?;
    let fine = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    fine.then(|| value.to_owned())
}

/// `password` as passlib's `pbkdf2_sha512` stores it, which Odoo verifies:
/// `$pbkdf2-sha512$<rounds>$<salt>$<checksum>` in passlib's base64 (`.` for `+`, no padding).
fn passlib_pbkdf2_sha512(password: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use rand::RngCore;
    const ROUNDS: u32 = 25_000;
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    // PBKDF2 with one 64-byte block (SHA-512's size) is all passlib's checksum holds.
    let prf = || Hmac::<sha2::Sha512>::new_from_slice(password.as_bytes()).expect("HMAC takes any key length");
    let mut mac = prf();
    mac.update(&salt);
    mac.update(&1u32.to_be_bytes());
    let mut u = mac.finalize().into_bytes();
    let mut sum = u;
    for _ in 1..ROUNDS {
        let mut mac = prf();
        mac.update(&u);
        u = mac.finalize().into_bytes();
        sum.iter_mut().zip(u.iter()).for_each(|(s, x)| *s ^= x);
    }
    let ab64 = |b: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(b).replace('+', ".");
    format!("$pbkdf2-sha512${ROUNDS}${}${}", ab64(&salt), ab64(&sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_session_id_is_carried_over() {
        assert_eq!(session_cookie(b"session_id=ab12_-Z; HttpOnly; Path=/").as_deref(), Some("ab12_-Z"));
        assert_eq!(session_cookie(b"session_id=a\"b; Path=/"), None);
        assert_eq!(session_cookie(b"session_id=; Path=/"), None);
        assert_eq!(session_cookie(b"other=1; session_id=x"), None);
        assert_eq!(session_cookie("session_id=".to_owned().as_bytes()), None);
        assert_eq!(session_cookie(format!("session_id={}", "a".repeat(129)).as_bytes()), None);
    }

    #[test]
    fn the_hash_is_passlibs_pbkdf2_sha512() {
        let h = passlib_pbkdf2_sha512("secret");
        let parts: Vec<&str> = h.split('$').collect();
        assert_eq!(parts[..3], ["", "pbkdf2-sha512", "25000"]);
        assert_eq!(parts[3].len(), 22, "16 bytes of salt");
        assert_eq!(parts[4].len(), 86, "64 bytes of checksum");
        assert!(!h.contains('+') && !h.contains('='));
        assert_ne!(h, passlib_pbkdf2_sha512("secret"), "a fresh salt each time");
    }
}
