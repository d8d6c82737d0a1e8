//! Accounts: sign-up, sign-in, sessions, password reset, personal access
//! tokens, and the first platform owner.
//!
//! Every unauthenticated path that costs a password hash or a mail takes a
//! rate-limit slot first (sign-in per email and address, sign-up per address,
//! reset requests per email and address), and the first account needs the
//! setup token of [`crate::auth::setup`].

use crate::audit::{self, Event};
use crate::auth::{self, Actor, RequestMeta};
use crate::error::{DomainError, DomainResult};
use crate::mailer::OutgoingMail;
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::types::{Email, Password, PlatformRole, ProjectName, Slug, UserId};
use crate::wire::{CreatedToken, Me, NewToken, TokenView};
use anyhow::Context;
use chrono::{Duration as ChronoDuration, Utc};
use sqlx::Row;
use std::time::Instant;
use uuid::Uuid;

/// A session cookie's value, held only long enough to set the cookie. Not `Serialize`.
pub struct SessionToken(pub String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

pub struct SignUp<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: &'a str,
    /// The organisation (tenant) to create; defaults to the name.
    pub organisation: &'a str,
    /// The one-time setup token from the console's log; needed by the first account only.
    pub setup_token: Option<&'a str>,
}

/// What the first account is told without the right setup token.
const NEEDS_SETUP_TOKEN: &str = "this installation has no account yet: the first account becomes platform owner and \
     needs the one-time setup token printed in the console's log (or an operator runs `odooops admin create-owner`)";

/// The throttle key of the caller's address.
fn ip_key(meta: &RequestMeta) -> String {
    format!("ip:{}", meta.ip.as_deref().unwrap_or_default())
}

pub async fn sign_up(p: &Platform, form: SignUp<'_>, meta: RequestMeta) -> DomainResult<(Actor, SessionToken)> {
    let email = Email::parse(form.email)?;
    let password = Password::parse(form.password)?;
    let name = match form.display_name.trim() {
        "" => email.local_part().to_owned(),
        n => ProjectName::parse(n)
            .map_err(|e| DomainError::Invalid(e.to_string().replace("name", "display name")))?
            .as_str()
            .to_owned(),
    };
    let org = match form.organisation.trim() {
        "" => format!("{name}'s organisation"),
        o => ProjectName::parse(o)?.as_str().to_owned(),
    };
    let first = user_count(p).await? == 0;
    if !first && !crate::platform_settings::signup_open(p).await? {
        return Err(DomainError::Forbidden);
    }
    let setup_token = form.setup_token.map(str::trim).filter(|t| !t.is_empty());
    if first && setup_token.is_none() {
        return Err(DomainError::Denied(NEEDS_SETUP_TOKEN.into()));
    }
    p.signups.reserve(&[ip_key(&meta).as_str()], Instant::now()).map_err(DomainError::Throttled)?;
    let setup_hash = setup_token.map(auth::token_hash);
    let hash = auth::hash_password(&password).await?;
    let user_id = Uuid::new_v4();
    let tenant_id = Uuid::new_v4();
    let base = Slug::from_name(&org, "org");
    let mut attempt = 0;
    loop {
        let slug = if attempt == 0 {
            base.clone()
        } else {
            base.with_suffix(&auth::random_token(3).to_lowercase().replace(['-', '_'], "x"))
        };
        let res = sqlx::query("SELECT ops.auth_sign_up($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(user_id)
            .bind(email.as_str())
            .bind(&name)
            .bind(hash.as_str())
            .bind(tenant_id)
            .bind(slug.as_str())
            .bind(&org)
            .bind(setup_hash.as_deref())
            .execute(p.db.anonymous())
            .await;
        match res {
            Ok(_) => break,
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some(auth::setup::SQLSTATE_NEEDS_SETUP_TOKEN) => {
                return Err(DomainError::Denied(format!("{NEEDS_SETUP_TOKEN}; this token is wrong or was used")));
            }
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23505") => {
                if db.constraint() == Some("users_email_key") {
                    return Err(DomainError::Conflict("an account with this email already exists".into()));
                }
                attempt += 1;
                if attempt > 5 {
                    return Err(DomainError::Conflict("could not find a free organisation name".into()));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let actor = load_actor(p, UserId(user_id), meta).await?.ok_or_else(|| anyhow::anyhow!("new user not visible"))?;
    let token = create_session(p, &actor).await?;
    Ok((actor, token))
}

async fn user_count(p: &Platform) -> DomainResult<i64> {
    // Counting needs no user context: the owner pool answers a single number.
    Ok(sqlx::query_scalar("SELECT count(*) FROM ops.users WHERE id <> $1")
        .bind(crate::builds::queue::SYSTEM_USER.0)
        .fetch_one(p.db.owner())
        .await?)
}

/// Whether nobody has signed up yet (the UI then says the first account becomes owner).
pub async fn is_empty_install(p: &Platform) -> DomainResult<bool> {
    Ok(user_count(p).await? == 0)
}

pub async fn sign_in(
    p: &Platform,
    email: &str,
    password: &str,
    meta: RequestMeta,
) -> DomainResult<(Actor, SessionToken)> {
    let email_key = email.trim().to_lowercase();
    let ip_key = ip_key(&meta);
    let keys = [email_key.as_str(), ip_key.as_str()];
    // The slot is taken before hashing: concurrent guesses cannot all pass.
    let attempt = Instant::now();
    p.throttle.reserve(&keys, attempt).map_err(DomainError::Throttled)?;
    let row = sqlx::query("SELECT user_id, password_hash FROM ops.auth_password_hash($1)")
        .bind(&email_key)
        .fetch_optional(p.db.anonymous())
        .await?;
    let (user_id, stored): (Option<Uuid>, Option<String>) = match row {
        Some(r) => (Some(r.get("user_id")), Some(r.get("password_hash"))),
        None => (None, None),
    };
    if !auth::verify_password(password, stored).await? {
        return Err(DomainError::Invalid("wrong email or password".into()));
    }
    p.throttle.release(&[ip_key.as_str()], attempt);
    p.throttle.record_success(&[email_key.as_str()]);
    let user_id = UserId(user_id.expect("verified implies known"));
    let actor = load_actor(p, user_id, meta).await?.ok_or(DomainError::Unauthenticated)?;
    let token = create_session(p, &actor).await?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    audit::record(
        &mut tx,
        &actor,
        Event::account(AuditAction::AccountSignIn, format!("user:{user_id}"), serde_json::json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok((actor, token))
}

async fn create_session(p: &Platform, actor: &Actor) -> DomainResult<SessionToken> {
    let token = auth::random_token(32);
    let expires = Utc::now() + ChronoDuration::from_std(p.settings.session_ttl).context("session ttl")?;
    let mut tx = p.db.begin_as(actor.user_id).await?;
    sqlx::query(
        "INSERT INTO ops.sessions (token_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(auth::token_hash(&token))
    .bind(actor.user_id.0)
    .bind(expires)
    .bind(&actor.meta.ip)
    .bind(&actor.meta.user_agent)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(SessionToken(token))
}

pub async fn sign_out(p: &Platform, actor: &Actor, session_token: &str) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    sqlx::query("DELETE FROM ops.sessions WHERE token_hash = $1")
        .bind(auth::token_hash(session_token))
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        Event::account(AuditAction::AccountSignOut, format!("user:{}", actor.user_id), serde_json::json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user behind a session cookie, if the session is live.
pub async fn actor_from_session(p: &Platform, token: &str, meta: RequestMeta) -> DomainResult<Option<Actor>> {
    let uid: Option<Uuid> = sqlx::query_scalar("SELECT ops.auth_session_user($1)")
        .bind(auth::token_hash(token))
        .fetch_one(p.db.anonymous())
        .await?;
    match uid {
        Some(uid) => load_actor(p, UserId(uid), meta).await,
        None => Ok(None),
    }
}

/// The user behind a personal access token, if it is live.
pub async fn actor_from_token(p: &Platform, token: &str, meta: RequestMeta) -> DomainResult<Option<Actor>> {
    if !token.starts_with(auth::TOKEN_PREFIX) {
        return Ok(None);
    }
    let used: Option<(Uuid, String)> = sqlx::query_as("SELECT user_id, scope FROM ops.auth_token_use($1)")
        .bind(auth::token_hash(token))
        .fetch_optional(p.db.anonymous())
        .await?;
    match used {
        Some((uid, scope)) => {
            load_actor(p, UserId(uid), RequestMeta { metrics_only: scope == "metrics", ..meta }).await
        }
        None => Ok(None),
    }
}

pub(crate) async fn load_actor(p: &Platform, user_id: UserId, meta: RequestMeta) -> DomainResult<Option<Actor>> {
    let mut tx = p.db.begin_as(user_id).await?;
    let row = sqlx::query("SELECT email, display_name, platform_role FROM ops.users WHERE id = $1")
        .bind(user_id.0)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row.map(|r| Actor {
        user_id,
        email: r.get("email"),
        display_name: r.get("display_name"),
        platform_role: r.get::<Option<String>, _>("platform_role").and_then(|s| PlatformRole::parse(&s).ok()),
        meta,
    }))
}

pub async fn me(p: &Platform, actor: &Actor) -> DomainResult<Me> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let tenants = sqlx::query(
        "SELECT t.id, t.slug, t.name, t.created_at, m.role
           FROM ops.tenants t LEFT JOIN ops.tenant_members m ON m.tenant_id = t.id AND m.user_id = $1
          WHERE m.user_id IS NOT NULL ORDER BY t.name",
    )
    .bind(actor.user_id.0)
    .fetch_all(&mut *tx)
    .await?;
    let verified = verified_in(&mut tx).await?;
    tx.commit().await?;
    Ok(Me {
        id: actor.user_id.0,
        email: actor.email.clone(),
        display_name: actor.display_name.clone(),
        platform_role: actor.platform_role.map(|r| r.as_str().to_owned()),
        tenants: tenants.iter().map(crate::tenants::summary).collect(),
        email_verified: verified,
    })
}

/// Always succeeds (so it does not reveal which emails have accounts); the
/// mail goes out only for a known account. Limited per email and per address
/// (the answer then says so, for known and unknown emails alike).
pub async fn request_password_reset(p: &Platform, email: &str, meta: &RequestMeta) -> DomainResult<()> {
    let Ok(email) = Email::parse(email) else { return Ok(()) };
    let keys = [format!("reset:{}", email.as_str()), ip_key(meta)];
    p.resets.reserve(&[keys[0].as_str(), keys[1].as_str()], Instant::now()).map_err(DomainError::Throttled)?;
    let token = auth::random_token(32);
    let expires = Utc::now() + ChronoDuration::from_std(p.settings.reset_ttl).context("reset ttl")?;
    let uid: Option<Uuid> = sqlx::query_scalar("SELECT ops.auth_request_reset($1, $2, $3)")
        .bind(email.as_str())
        .bind(auth::token_hash(&token))
        .bind(expires)
        .fetch_one(p.db.anonymous())
        .await?;
    if uid.is_some() {
        let link = format!("{}/reset-password/confirm?token={token}", p.settings.public_url);
        p.mailer
            .send(OutgoingMail {
                to: email.as_str().to_owned(),
                subject: "Reset your OdooOps password".into(),
                body: format!("Someone asked to reset the password of this OdooOps account.\n\nOpen this link within an hour to choose a new one:\n{link}\n\nIf it was not you, ignore this mail."),
            })
            .await
            .map_err(DomainError::Internal)?;
    }
    Ok(())
}

pub async fn reset_password(p: &Platform, token: &str, new_password: &str) -> DomainResult<()> {
    let password = Password::parse(new_password)?;
    let hash = auth::hash_password(&password).await?;
    let uid: Option<Uuid> = sqlx::query_scalar("SELECT ops.auth_consume_reset($1, $2)")
        .bind(auth::token_hash(token.trim()))
        .bind(hash.as_str())
        .fetch_one(p.db.anonymous())
        .await?;
    uid.map(|_| ())
        .ok_or_else(|| DomainError::Invalid("this reset link is invalid, used or expired; ask for a new one".into()))
}

// E-mail verification ---------------------------------------------------------

/// Sends the signed-in user a link that proves they read their address (a
/// day to use it). Nothing happens for an address already verified. Limited
/// per address, so nobody's inbox is flooded; accounts themselves are
/// limited per client address at sign-up, so one client cannot multiply them.
pub async fn request_verification(p: &Platform, actor: &Actor) -> DomainResult<()> {
    let key = format!("verify:{}", actor.email);
    p.resets.reserve(&[key.as_str()], Instant::now()).map_err(DomainError::Throttled)?;
    let token = auth::random_token(32);
    let expires = Utc::now() + ChronoDuration::hours(24);
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let to: Option<String> = sqlx::query_scalar("SELECT ops.auth_request_verification($1, $2)")
        .bind(auth::token_hash(&token))
        .bind(expires)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    if let Some(to) = to {
        let link = format!("{}/verify-email?token={token}", p.settings.public_url);
        p.mailer
            .send(OutgoingMail {
                to,
                subject: "Confirm your e-mail address for OdooOps".into(),
                body: format!("Open this link within a day to confirm this address and start your Odoo workspace:\n{link}\n\nIf you did not sign up, ignore this mail."),
            })
            .await
            .map_err(DomainError::Internal)?;
    }
    Ok(())
}

/// Consumes a verification link (once; it expires after a day).
pub async fn verify_email(p: &Platform, token: &str) -> DomainResult<()> {
    let uid: Option<Uuid> = sqlx::query_scalar("SELECT ops.auth_verify_email($1)")
        .bind(auth::token_hash(token.trim()))
        .fetch_one(p.db.anonymous())
        .await?;
    uid.map(|_| ()).ok_or_else(|| {
        DomainError::Invalid("this confirmation link is invalid, used or expired; ask for a new one".into())
    })
}

/// Whether the caller's address is verified.
pub async fn email_verified(p: &Platform, actor: &Actor) -> DomainResult<bool> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let verified = verified_in(&mut tx).await?;
    tx.commit().await?;
    Ok(verified)
}

async fn verified_in(tx: &mut crate::db::ScopedTx) -> DomainResult<bool> {
    Ok(sqlx::query_scalar("SELECT email_verified_at IS NOT NULL FROM ops.users WHERE id = ops.current_user_id()")
        .fetch_optional(&mut **tx)
        .await?
        .unwrap_or(false))
}

// Personal access tokens ---------------------------------------------------------

pub async fn list_tokens(p: &Platform, actor: &Actor) -> DomainResult<Vec<TokenView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT id, name, prefix, created_at, expires_at, last_used_at, revoked_at IS NOT NULL AS revoked
           FROM ops.api_tokens ORDER BY created_at DESC",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(token_view).collect())
}

fn token_view(r: sqlx::postgres::PgRow) -> TokenView {
    TokenView {
        id: r.get("id"),
        name: r.get("name"),
        prefix: r.get("prefix"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        last_used_at: r.get("last_used_at"),
        revoked: r.get("revoked"),
    }
}

/// Days a personal access token lives when the request does not say.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;

/// Creates a personal access token. Only a signed-in person may: a token
/// cannot mint tokens, so a leaked one cannot outlive its own expiry or
/// revocation. Every token expires (default [`DEFAULT_TOKEN_DAYS`], at most a year).
pub async fn create_token(p: &Platform, actor: &Actor, input: NewToken) -> DomainResult<CreatedToken> {
    if actor.meta.via_token {
        return Err(DomainError::Denied(
            "an access token cannot create access tokens; create it in the console's settings".into(),
        ));
    }
    let name =
        ProjectName::parse(&input.name).map_err(|_| DomainError::Invalid("token name: 1 to 80 characters".into()))?;
    let days = match input.expires_in_days {
        Some(0) | None => DEFAULT_TOKEN_DAYS,
        Some(d) if d > 365 => return Err(DomainError::Invalid("expiry: at most 365 days".into())),
        Some(d) => d,
    };
    let expires_at = Some(Utc::now() + ChronoDuration::days(days.into()));
    let scope = match input.scope.as_deref().map(str::trim).unwrap_or("api") {
        "" | "api" => "api",
        // A scraper's credential reads the whole installation's figures: platform staff only.
        "metrics"
            if actor
                .platform_role
                .is_some_and(|r| matches!(r, PlatformRole::Owner | PlatformRole::Operator | PlatformRole::Auditor)) =>
        {
            "metrics"
        }
        "metrics" => return Err(DomainError::Denied("metrics tokens are for platform staff".into())),
        other => return Err(DomainError::Invalid(format!("scope: `api` or `metrics`, not `{other}`"))),
    };
    let secret = format!("{}{}", auth::TOKEN_PREFIX, auth::random_token(32));
    let prefix: String = secret.chars().take(10).collect();
    let id = Uuid::new_v4();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let row = sqlx::query(
        "INSERT INTO ops.api_tokens (id, user_id, name, prefix, token_hash, expires_at, scope)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, name, prefix, created_at, expires_at, last_used_at, false AS revoked",
    )
    .bind(id)
    .bind(actor.user_id.0)
    .bind(name.as_str())
    .bind(&prefix)
    .bind(auth::token_hash(&secret))
    .bind(expires_at)
    .bind(scope)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event::account(
            AuditAction::TokenCreate,
            format!("token:{id}"),
            serde_json::json!({"name": name.as_str(), "expires_at": expires_at, "scope": scope}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { token: token_view(row), secret })
}

pub async fn revoke_token(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let n = sqlx::query("UPDATE ops.api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound("token"));
    }
    audit::record(
        &mut tx,
        actor,
        Event::account(AuditAction::TokenRevoke, format!("token:{id}"), serde_json::json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// Administration (owner connection, command line) ------------------------------------

/// `odooops admin create-owner`: creates a platform owner, or promotes an existing account.
pub async fn create_owner(
    owner: &sqlx::PgPool,
    email: &str,
    password: &str,
    display_name: &str,
) -> DomainResult<&'static str> {
    let email = Email::parse(email)?;
    let password = Password::parse(password)?;
    let hash = auth::hash_password(&password).await?;
    let name =
        if display_name.trim().is_empty() { email.local_part().to_owned() } else { display_name.trim().to_owned() };
    let mut tx = owner.begin().await?;
    let existing: Option<Uuid> = sqlx::query_scalar("SELECT id FROM ops.users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let (id, outcome) = match existing {
        Some(id) => {
            sqlx::query("UPDATE ops.users SET platform_role = 'platform_owner', password_hash = $2 WHERE id = $1")
                .bind(id)
                .bind(hash.as_str())
                .execute(&mut *tx)
                .await?;
            (id, "promoted")
        }
        None => {
            let id = Uuid::new_v4();
            sqlx::query("INSERT INTO ops.users (id, email, display_name, password_hash, platform_role) VALUES ($1, $2, $3, $4, 'platform_owner')")
                .bind(id).bind(email.as_str()).bind(&name).bind(hash.as_str()).execute(&mut *tx).await?;
            (id, "created")
        }
    };
    // An owner exists now: the first-account setup token has no use left.
    sqlx::query("DELETE FROM ops_private.settings WHERE key = $1").bind(auth::setup::SETTING).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO ops.audit_events (actor_id, actor_email, action, target, summary) VALUES ($1, $2, 'account.create_owner', $3, $4)")
        .bind(id).bind(email.as_str()).bind(format!("user:{id}")).bind(serde_json::json!({"via": "cli", "outcome": outcome}))
        .execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(outcome)
}
