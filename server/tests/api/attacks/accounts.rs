//! Attacks on accounts: taking a fresh installation's platform owner
//! (SEC-07, SEC-22), guessing passwords in parallel and flooding the password
//! hasher (SEC-11), and living on after a password reset (SEC-12).

use crate::helpers::{spawn_app, spawn_app_and, PASSWORD};
use serde_json::json;

async fn users(app: &crate::helpers::TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ops.users WHERE email <> 'system@odooops.invalid'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap()
}

/// The first visitor of a fresh installation no longer becomes its owner:
/// the first account needs the one-time token from the console's log.
#[tokio::test]
async fn the_first_owner_needs_the_one_time_setup_token() {
    let app = spawn_app().await;
    let token = app.setup_token.clone().expect("an empty installation has a setup token");
    let stored: String = sqlx::query_scalar("SELECT value FROM ops_private.settings WHERE key = 'setup_token_sha256'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let hash: String = domain::auth::token_hash(&token).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(stored, hash, "only a hash is stored");

    let b = app.browser();
    let page = b.get("/sign-up?setup_token=abc123").await.text().await.unwrap();
    assert!(page.contains("name=\"setup_token\""), "the form asks for it on an empty installation");
    assert!(page.contains("value=\"abc123\""), "prefilled from the log's link");

    let form = |t: Option<&'static str>| {
        let mut f =
            vec![("email", "drive-by@evil.test"), ("password", PASSWORD), ("display_name", ""), ("organisation", "")];
        f.extend(t.map(|t| ("setup_token", t)));
        f
    };
    for attempt in [form(None), form(Some("")), form(Some("guessed-token"))] {
        let (status, body) = b.rpc("auth/sign_up", &attempt).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "forbidden");
        assert!(body["message"].as_str().unwrap().contains("setup token"), "{body}");
    }
    assert_eq!(users(&app).await, 0);

    let owner = app.signed_up("owner@acme.test", "Acme").await;
    assert_eq!(owner.rpc("auth/me", &[]).await.1["platform_role"], "platform_owner");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM ops_private.settings WHERE key = 'setup_token_sha256'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(left, 0, "single use");
    assert!(domain::auth::setup::issue(&app.platform.db).await.unwrap().is_none(), "no new token once an owner exists");
    let page = app.browser().get("/sign-up").await.text().await.unwrap();
    assert!(!page.contains("name=\"setup_token\""), "later sign-ups do not see the field");
    let (status, me) = {
        let later = app.browser();
        let r = later
            .rpc(
                "auth/sign_up",
                &[("email", "dev@acme.test"), ("password", PASSWORD), ("display_name", ""), ("organisation", "")],
            )
            .await;
        assert_eq!(r.0, 200, "{}", r.1);
        later.rpc("auth/me", &[]).await
    };
    assert_eq!(status, 200);
    assert!(me["platform_role"].is_null(), "the token made the owner, the rest are ordinary accounts");
}

/// The review's repro: many wrong sign-ins at once. The slot is reserved
/// before the hash, so no more than the limit are even checked.
#[tokio::test]
async fn concurrent_wrong_sign_ins_get_at_most_five_guesses() {
    let app = spawn_app().await;
    app.signed_up("victim@acme.test", "Acme").await;
    let guesses = (0..20).map(|i| {
        let b = app.browser();
        async move {
            let password = format!("guess number {i}");
            b.rpc("auth/sign_in", &[("email", "victim@acme.test"), ("password", &password)]).await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|(_, b)| b["message"] == "wrong email or password").count();
    let throttled = answers.iter().filter(|(_, b)| b["code"] == "throttled").count();
    assert!(checked <= 5, "{checked} guesses were checked: {answers:?}");
    assert_eq!(checked + throttled, 20, "{answers:?}");
    let (_, body) = app.browser().rpc("auth/sign_in", &[("email", "victim@acme.test"), ("password", PASSWORD)]).await;
    assert_eq!(body["code"], "throttled", "even the right password waits for the window");
}

/// Sign-ups and reset requests cost a hash or a mail: both are limited per address.
#[tokio::test]
async fn sign_up_and_reset_floods_are_throttled() {
    let app = spawn_app_and(|s| {
        s.limits.sign_ups = 2;
        s.limits.reset_requests = 2;
    })
    .await;
    app.signed_up("a@acme.test", "A").await;
    app.signed_up("b@acme.test", "B").await;
    let (status, body) = app.browser().rpc("auth/sign_up", &app.sign_up_form("c@acme.test", "C")).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("throttled")), "{body}");
    assert_eq!(users(&app).await, 2);

    let b = app.browser();
    for email in ["a@acme.test", "b@acme.test"] {
        assert_eq!(b.rpc("auth/request_reset", &[("email", email)]).await.0, 200);
    }
    let (status, body) = b.rpc("auth/request_reset", &[("email", "nobody@acme.test")]).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("throttled")), "{body}");
    assert_eq!(app.mailer.sent().len(), 2);
}

/// `X-Forwarded-For` is the client's address only from a trusted proxy;
/// otherwise a guesser could pick a fresh throttle key per request.
#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let app = spawn_app().await;
    app.signed_up("ann@acme.test", "Acme").await;
    let guess = |i: u8| {
        let b = app.browser();
        async move {
            let r = b
                .http
                .post(format!("{}/rpc/auth/sign_in", b.app.addr))
                .header("Origin", &b.app.addr)
                .header("X-Forwarded-For", format!("198.51.100.{i}"))
                .form(&[("email", format!("nobody{i}@acme.test")), ("password", "wrong wrong wrong".into())])
                .send()
                .await
                .unwrap();
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    for i in 0..5 {
        assert_eq!(guess(i).await["message"], "wrong email or password");
    }
    assert_eq!(guess(9).await["code"], "throttled", "spoofed addresses share the peer's key");

    let proxied = spawn_app_and(|s| s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    proxied.signed_up("ann@acme.test", "Acme").await;
    let b = proxied.browser();
    for i in 0..7u8 {
        let r = b
            .http
            .post(format!("{}/rpc/auth/sign_in", proxied.addr))
            .header("Origin", &proxied.addr)
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .form(&[("email", format!("nobody{i}@acme.test")), ("password", "wrong wrong wrong".into())])
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["message"], "wrong email or password", "each client has its own key: {body}");
    }
    let r = b
        .http
        .post(format!("{}/rpc/auth/sign_in", proxied.addr))
        .header("Origin", &proxied.addr)
        .header("X-Forwarded-For", "203.0.113.77, 127.0.0.1")
        .form(&[("email", "ann@acme.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    let ip: String = sqlx::query_scalar("SELECT ip FROM ops.sessions ORDER BY created_at DESC LIMIT 1")
        .fetch_one(proxied.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(ip, "203.0.113.77", "the session records the client, not the proxy");
}

/// An attacker who had the account keeps nothing after the owner resets the
/// password: sessions, access tokens and SSH keys all end.
#[tokio::test]
async fn a_password_reset_revokes_sessions_tokens_and_ssh_keys() {
    let app = spawn_app().await;
    let attacker = app.signed_up("ann@acme.test", "Acme").await;
    let pat = attacker.token().await;
    let api = app.api(&pat);
    let key = domain::projects::generate_ed25519("attacker@laptop").await.unwrap().public;
    let (status, body) = api.post("/api/v1/me/ssh-keys", json!({"public_key": key})).await;
    assert!((200..300).contains(&status), "{body}");

    let owner = app.browser();
    assert_eq!(owner.rpc("auth/request_reset", &[("email", "ann@acme.test")]).await.0, 200);
    let mail = app.mailer.sent().pop().expect("reset mail");
    let token = mail.body.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(!domain::mailer::log_text(&mail).contains(&token), "the log mailer never writes the link's secret");
    let (status, _) =
        owner.rpc("auth/reset_password", &[("token", &token), ("password", "a whole new password")]).await;
    assert_eq!(status, 200);

    assert_eq!(api.get("/api/v1/me").await.0, 401, "the access token is revoked");
    assert!(attacker.rpc("auth/me", &[]).await.1.is_null(), "the session ended");
    let keys: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.ssh_keys").fetch_one(app.platform.db.owner()).await.unwrap();
    assert_eq!(keys, 0, "SSH keys are removed");
}

/// Tokens expire by default, and a (leaked) token cannot mint new ones.
#[tokio::test]
async fn tokens_expire_by_default_and_cannot_mint_tokens() {
    let app = spawn_app().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    for days in [None, Some("0")] {
        let mut form = vec![("name", "ci")];
        form.extend(days.map(|d| ("expires_in_days", d)));
        let (status, created) = b.rpc("tokens/create", &form).await;
        assert_eq!(status, 200, "{created}");
        let expires: chrono::DateTime<chrono::Utc> = created["token"]["expires_at"].as_str().unwrap().parse().unwrap();
        let days = (expires - chrono::Utc::now()).num_days();
        assert!((89..=90).contains(&days), "{days}");
    }
    let api = app.api(&b.token().await);
    let (status, body) = api.post("/api/v1/tokens", json!({"name": "persistence"})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "forbidden");
    let (_, listed) = api.get("/api/v1/tokens").await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "nothing was minted");
}
