//! Sign-up, sign-in, sign-out, sessions, CSRF, password reset, throttling.

use crate::helpers::{spawn_app, PASSWORD};

#[tokio::test]
async fn first_account_becomes_platform_owner_and_the_second_does_not() {
    let app = spawn_app().await;
    let first = app.signed_up("owner@acme.test", "Acme").await;
    let (_, me) = first.rpc("auth/me", &[]).await;
    assert_eq!(me["platform_role"], "platform_owner");
    assert_eq!(me["tenants"][0]["slug"], "acme");
    assert_eq!(me["tenants"][0]["role"], "tenant_admin");
    let second = app.signed_up("dev@other.test", "Acme").await;
    let (_, me) = second.rpc("auth/me", &[]).await;
    assert!(me["platform_role"].is_null());
    assert_ne!(me["tenants"][0]["slug"], "acme", "a clashing organisation name gets its own slug");
}

#[tokio::test]
async fn session_cookie_is_httponly_and_sign_out_ends_it() {
    let app = spawn_app().await;
    let b = app.browser();
    let r = b
        .http
        .post(format!("{}/rpc/auth/sign_up", app.addr))
        .header("Origin", &app.addr)
        .form(&app.sign_up_form("ann@acme.test", "Acme"))
        .send()
        .await
        .unwrap();
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(b.rpc("auth/me", &[]).await.1["email"], "ann@acme.test");
    let (status, _) = b.rpc("auth/sign_out", &[]).await;
    assert_eq!(status, 200);
    assert!(b.rpc("auth/me", &[]).await.1.is_null(), "signed out");
    // The old cookie value no longer works either.
    let token = cookie.split(';').next().unwrap().to_owned();
    let r = reqwest::Client::new()
        .post(format!("{}/rpc/auth/me", app.addr))
        .header("Origin", &app.addr)
        .header("Cookie", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "null");
}

#[tokio::test]
async fn sign_in_checks_the_password_and_then_throttles() {
    let app = spawn_app().await;
    app.signed_up("ann@acme.test", "Acme").await;
    let b = app.browser();
    let (status, body) = b.rpc("auth/sign_in", &[("email", "ann@acme.test"), ("password", "not the password")]).await;
    assert_ne!(status, 200);
    assert_eq!(body["code"], "invalid");
    assert_eq!(body["message"], "wrong email or password");
    let (status, _) = b.rpc("auth/sign_in", &[("email", "ANN@acme.test"), ("password", PASSWORD)]).await;
    assert_eq!(status, 200);
    for _ in 0..5 {
        b.rpc("auth/sign_in", &[("email", "ann@acme.test"), ("password", "wrong wrong wrong")]).await;
    }
    let (_, body) = b.rpc("auth/sign_in", &[("email", "ann@acme.test"), ("password", PASSWORD)]).await;
    assert_eq!(body["code"], "throttled", "{body}");
}

#[tokio::test]
async fn bad_sign_up_input_gets_a_clear_error_and_stores_nothing() {
    let app = spawn_app().await;
    let b = app.browser();
    let (_, body) = b
        .rpc(
            "auth/sign_up",
            &[("email", "not-an-email"), ("password", PASSWORD), ("display_name", ""), ("organisation", "")],
        )
        .await;
    assert_eq!(body["code"], "invalid");
    assert!(body["message"].as_str().unwrap().starts_with("email:"), "{body}");
    let (_, body) = b
        .rpc(
            "auth/sign_up",
            &[("email", "a@b.test"), ("password", "short"), ("display_name", ""), ("organisation", "")],
        )
        .await;
    assert!(body["message"].as_str().unwrap().contains("at least 10"), "{body}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.users WHERE email <> 'system@odooops.invalid'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(users, 0);
    app.signed_up("a@b.test", "B").await;
    let (_, body) = b
        .rpc(
            "auth/sign_up",
            &[("email", "A@B.test"), ("password", PASSWORD), ("display_name", ""), ("organisation", "")],
        )
        .await;
    assert_eq!(body["code"], "conflict", "{body}");
}

#[tokio::test]
async fn cross_site_and_originless_posts_are_refused() {
    let app = spawn_app().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let r = b
        .http
        .post(format!("{}/rpc/projects/create", app.addr))
        .header("Origin", "https://evil.example")
        .form(&[("name", "X"), ("repo_url", "/srv/x"), ("odoo_version", "17.0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = b
        .http
        .post(format!("{}/rpc/projects/create", app.addr))
        .form(&[("name", "X"), ("repo_url", "/srv/x"), ("odoo_version", "17.0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(b.rpc("projects/list", &[]).await.1.as_array().unwrap().is_empty(), "nothing was created");
}

#[tokio::test]
async fn anonymous_pages_redirect_to_sign_in() {
    let app = spawn_app().await;
    let b = app.browser();
    let r = b.get("/projects").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/sign-in?next=/projects");
    let r = b.get("/sign-in").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<form") && html.contains("name=\"password\""), "the sign-in form is server-rendered");
    let (_, body) = b.rpc("projects/list", &[]).await;
    assert_eq!(body["code"], "unauthenticated");
}

#[tokio::test]
async fn password_reset_through_the_console() {
    let app = spawn_app().await;
    app.signed_up("ann@acme.test", "Acme").await;
    let b = app.browser();
    let (status, _) = b.rpc("auth/request_reset", &[("email", "ann@acme.test")]).await;
    assert_eq!(status, 200);
    let mail = app.mailer.sent().pop().expect("reset mail");
    assert!(mail.body.contains(&format!("{}/reset-password/confirm?token=", app.addr)));
    let token = mail.body.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    crate::canary::watch(&token, crate::canary::Never::Logged);
    let (status, _) = b.rpc("auth/reset_password", &[("token", &token), ("password", "a whole new password")]).await;
    assert_eq!(status, 200);
    let (status, _) = b.rpc("auth/sign_in", &[("email", "ann@acme.test"), ("password", "a whole new password")]).await;
    assert_eq!(status, 200);
}
