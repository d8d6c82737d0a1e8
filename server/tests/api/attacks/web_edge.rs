//! Attacks on the console's HTTP edge: DNS rebinding (SEC-07), framing,
//! sniffing and injected scripts (SEC-20), open redirects (SEC-15) and
//! state-changing GETs (SEC-22).

use crate::helpers::{spawn_app, spawn_app_and, spawn_app_with_previews, TestApp, PASSWORD};
use serde_json::json;
use std::net::SocketAddr;

fn port(app: &TestApp) -> u16 {
    app.addr.rsplit(':').next().unwrap().parse().unwrap()
}

async fn users(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ops.users WHERE email <> 'system@odooops.invalid'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap()
}

/// The review's repro: the attacker's name resolves to the console's loopback
/// address, so the browser sends `Host` and `Origin` of the attacker's site.
#[tokio::test]
async fn a_rebound_host_name_is_misdirected_and_creates_no_account() {
    let app = spawn_app().await;
    let port = port(&app);
    let evil = format!("http://rebind.attacker.test:{port}");
    let http = reqwest::Client::builder()
        .resolve("rebind.attacker.test", SocketAddr::from(([127, 0, 0, 1], port)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Even with the setup token (a page could not know it), the Host alone is refused.
    let r = http
        .post(format!("{evil}/rpc/auth/sign_up"))
        .header("Origin", &evil)
        .form(&app.sign_up_form("a@b.test", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(users(&app).await, 0, "no account was created");
    for path in ["/sign-in", "/api/v1/me", "/api/v1/openapi.json", "/pkg/odooops.js"] {
        assert_eq!(http.get(format!("{evil}{path}")).send().await.unwrap().status(), 421, "{path}");
    }
    assert_eq!(http.get(format!("{evil}/api/health")).send().await.unwrap().status(), 200, "local probes still work");

    // Under its public URL the console works, and the first account is its owner.
    let b = app.signed_up("owner@acme.test", "Acme").await;
    assert_eq!(b.rpc("auth/me", &[]).await.1["platform_role"], "platform_owner");
}

/// `localhost` reaches a console whose public URL is on loopback, but the
/// Origin check compares with the public origin, never with the Host.
#[tokio::test]
async fn the_origin_must_be_the_public_origin_whatever_the_host_says() {
    let app = spawn_app().await;
    let port = port(&app);
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let alias = format!("http://localhost:{port}");
    let local = reqwest::Client::builder()
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = local.get(format!("{alias}/sign-in?next=/tenants")).send().await.unwrap();
    assert_eq!(page.status(), 307, "pages under a loopback alias go to the public URL");
    assert_eq!(page.headers()["location"], format!("{}/sign-in?next=/tenants", app.addr));
    let r = local
        .post(format!("{alias}/rpc/projects/create"))
        .header("Origin", &alias)
        .form(&[("name", "X"), ("repo_url", "https://github.com/acme/x.git"), ("odoo_version", "17.0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "Origin == Host is not enough");
    let r = b
        .http
        .post(format!("{}/rpc/projects/create", app.addr))
        .header("Origin", "http://rebind.attacker.test")
        .header("Host", "rebind.attacker.test")
        .form(&[("name", "X"), ("repo_url", "https://github.com/acme/x.git"), ("odoo_version", "17.0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    assert!(b.rpc("projects/list", &[]).await.1.as_array().unwrap().is_empty(), "nothing was created");
}

/// Pages carry a CSP whose nonce is on every inline script (Leptos'
/// hydration bootstrap and serialised resources), and cannot be framed.
#[tokio::test]
async fn console_pages_carry_security_headers_and_only_nonced_scripts() {
    let app = spawn_app().await;
    let b = app.browser();
    let r = b.get("/sign-in").await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{csp}");
    let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap().to_owned();
    assert!(!scripts.contains("unsafe-inline") && !scripts.contains("'unsafe-eval'"), "{scripts}");
    let nonce = scripts.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).expect("a nonce").to_owned();
    assert!(nonce.len() >= 16, "{nonce}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.get("strict-transport-security").is_none(), "no HSTS on plain http");
    let html = r.text().await.unwrap();
    let tags: Vec<&str> = html.split("<script").skip(1).map(|t| t.split('>').next().unwrap()).collect();
    assert!(!tags.is_empty(), "the page hydrates through inline scripts");
    for tag in &tags {
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "an inline script without the nonce: <script{tag}>");
    }
    let again = b.get("/sign-in").await.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(!again.contains(&nonce), "a nonce per response");
    assert!(csp.contains(&format!("connect-src 'self' {};", app.addr.replace("http://", "ws://"))), "{csp}");

    // Unknown pages are rendered by the same shell: their scripts carry their nonce too.
    let missing = b.get("/no-such-page").await;
    let csp = missing.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let nonce = csp.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).expect("a nonce").to_owned();
    let html = missing.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");

    // Other responses (JSON, server functions, redirects) get the policy without any nonce.
    for r in [b.get("/api/health").await, b.get("/projects").await] {
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(!csp.contains("nonce") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
}

/// Under https: HSTS, and a `__Host-` session cookie that a same-site preview
/// cannot set or shadow; the unprefixed name is not read.
#[tokio::test]
async fn an_https_console_sends_hsts_and_a_host_prefixed_cookie() {
    let app = spawn_app_and(|s| s.public_url = "https://ops.test".into()).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post = |path: &str| {
        http.post(format!("{}{path}", app.addr)).header("Host", "ops.test").header("Origin", "https://ops.test")
    };
    let r = post("/rpc/auth/sign_up").form(&app.sign_up_form("ann@acme.test", "Acme")).send().await.unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    assert!(r.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-odooops_session="), "{cookie}");
    assert!(cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let me = post("/rpc/auth/me").header("Cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(me.contains("ann@acme.test"), "{me}");
    let tossed = pair.replacen("__Host-", "", 1);
    let me = post("/rpc/auth/me").header("Cookie", &tossed).send().await.unwrap().text().await.unwrap();
    assert_eq!(me, "null", "a cookie without the prefix (settable by a sibling domain) is not a session");
    let plain = http
        .post(format!("{}/rpc/auth/me", app.addr))
        .header("Host", "ops.test")
        .header("Origin", "http://ops.test")
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 403, "the http origin is another origin");
}

/// Previews serve Odoo's own pages: their names pass the Host check, and they
/// get none of the console's headers (Odoo frames itself, runs inline scripts).
/// Names deeper under the preview domain are neither previews nor the console.
#[tokio::test]
async fn previews_pass_the_host_check_and_carry_no_console_headers() {
    let app = spawn_app_with_previews().await;
    let port = port(&app);
    let at = SocketAddr::from(([127, 0, 0, 1], port));
    let http = reqwest::Client::builder()
        .resolve("b1-shop.localhost", at)
        .resolve("x.b1-shop.localhost", at)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(format!("http://b1-shop.localhost:{port}/web/login")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    for name in ["content-security-policy", "x-frame-options", "referrer-policy", "x-content-type-options"] {
        assert!(r.headers().get(name).is_none(), "{name} on a preview");
    }
    assert!(r.text().await.unwrap().contains("No such preview"), "the preview router answered");
    let r = http.get(format!("http://x.b1-shop.localhost:{port}/")).send().await.unwrap();
    assert_eq!(r.status(), 421);
    let console = app.browser().get("/sign-in").await;
    assert!(console.headers()["content-security-policy"].to_str().unwrap().contains("'nonce-"));
}

/// `next=` after sign-in goes to a path of this site, whatever the browser
/// would make of tabs, backslashes and encoded slashes.
#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let app = spawn_app().await;
    app.signed_up("ann@acme.test", "Acme").await;
    for next in ["/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil.example", "/%2F/evil.example"] {
        let b = app.browser();
        let r = b
            .http
            .post(format!("{}/rpc/auth/sign_in", app.addr))
            .header("Origin", &app.addr)
            .form(&[("email", "ann@acme.test"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/projects", "next={next:?}");
    }
    let b = app.browser();
    let r = b
        .http
        .post(format!("{}/rpc/auth/sign_in", app.addr))
        .header("Origin", &app.addr)
        .form(&[("email", "ann@acme.test"), ("password", PASSWORD), ("next", "/tenants")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/tenants", "a plain path is kept");
}

/// Connect mints a preview link and audits it: a cross-site GET (a link, an
/// image) must not, so it is a POST under the Origin check.
#[tokio::test]
async fn connect_does_not_answer_a_get() {
    let app = spawn_app().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let id = uuid::Uuid::new_v4();
    assert_eq!(b.get(&format!("/builds/{id}/connect")).await.status(), 405);
    let cross_site = b
        .http
        .post(format!("{}/builds/{id}/connect", app.addr))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let own = b.http.post(format!("{}/builds/{id}/connect", app.addr)).header("Origin", &app.addr).send().await;
    let body: serde_json::Value = own.unwrap().json().await.unwrap();
    assert_eq!(
        body["code"], "unavailable",
        "from the console's own page it reaches the handler (no builds here): {body}"
    );
}

/// A share link moves its token into a cookie and redirects to the same
/// path: a path like `//evil.example` must not turn that redirect into one
/// to another site (the review's repro, with a real build and a valid token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_link_redirects_only_within_its_preview() {
    use crate::pipeline::{commit_file, finished, push, repository, standin_project};
    let app = crate::helpers::spawn_app_with_builds().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let project = standin_project(&api, "Acme ERP", &repo).await;
    let sha = commit_file(&repo, "feature/x", "README.md", "hello\n", "Readme");
    push(&app, &api, &project, "feature/x", &sha).await;
    let build = finished(&api, &project, &sha).await;
    assert_eq!(build["result"], "ok", "{build}");
    let (status, share) = api.post(&format!("/api/v1/builds/{}/share", build["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 200, "{share}");
    let url = share["url"].as_str().unwrap().to_owned();
    let host = url.split("://").nth(1).unwrap().split(['/', ':']).next().unwrap().to_owned();
    let token = url.split("odooops_token=").nth(1).unwrap().to_owned();
    let port = port(&app);
    let http = reqwest::Client::builder()
        .resolve(&host, SocketAddr::from(([127, 0, 0, 1], port)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, stays) in
        [("//evil.example/x", "/evil.example/x"), ("///evil.example", "/evil.example"), ("/web", "/web")]
    {
        let r = http.get(format!("http://{host}:{port}{path}?a=1&odooops_token={token}")).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], format!("{stays}?a=1"), "{path}");
        assert!(r.headers().get("content-security-policy").is_none(), "previews get no console headers");
    }
    crate::helpers::tear_down_builds(&app).await;
}
