//! The tenant wizard (issue 15) over REST.
//!
//! A draft is its author's, platform staff only, kept as typed even when a
//! step is wrong, checked with the browser's rules plus the server's (slug
//! taken, unknown plan, modules missing for the series), and forgotten after
//! seven days. The SSO client secret is sealed and never comes back. The SSO
//! Test fetches only from public addresses over verified https and checks the
//! document is the issuer's. Create makes the tenant with its subscription
//! and SSO, then provisions its first instance, whose database gets the
//! provider; its admin signs in with the password given at Create.

use crate::canary::{self, Never};
use crate::helpers::{spawn_app, spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::instances::{ended, odoo_client, serving_build, sign_in, ADMIN_PASSWORD};
use domain::builds::queue::SYSTEM_USER;
use domain::instances::reach::Cidr;
use serde_json::{json, Value};
use sqlx::Connection;
use std::path::Path;

const CLIENT_SECRET: &str = "sso-client-secret-canary-7f3a";

fn identity(slug: &str) -> Value {
    json!({"organisation": "Acme Belgium", "slug": slug, "contact_email": "it@acme.test", "country": "BE",
           "language": "fr_BE", "timezone": "Europe/Brussels", "region": "eu-west", "groups": "retail, pilot"})
}

fn draft_data(slug: &str) -> Value {
    json!({
        "identity": identity(slug),
        "plan": "standard",
        "bundle": {"bundles": [], "modules": ""},
        "infra": {"series": "17.0", "size": "small", "db_strategy": "", "backups": "hourly"},
        "sso": {"kind": "none", "issuer": "", "client_id": "", "scopes": "openid email"},
    })
}

async fn save(api: &Api<'_>, draft: &str, step: &str, data: &Value, secret: Option<&str>) -> (u16, Value) {
    let path = format!("/api/v1/tenant-drafts/{draft}/steps/{step}");
    api.call(reqwest::Method::PUT, &path, Some(json!({"data": data, "sso_secret": secret}))).await
}

fn fields(saved: &Value) -> Vec<String> {
    saved["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_its_authors_kept_as_typed_checked_by_the_server_and_forgotten_after_seven_days() {
    canary::watch(CLIENT_SECRET, Never::LoggedOrSent);
    let app = spawn_app().await;
    let owner = app.signed_up("ann@platform.test", "Platform").await;
    let owner = app.api(&owner.token().await);
    let member_browser = app.signed_up("max@member.test", "Member Org").await;
    let member = app.api(&member_browser.token().await);
    let operator = app.signed_up("otto@platform.test", "").await;
    sqlx::query("UPDATE ops.users SET platform_role = 'platform_operator' WHERE email = 'otto@platform.test'")
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    let operator = app.api(&operator.token().await);

    // Onboarding is for platform staff.
    let (status, body) = member.post("/api/v1/tenant-drafts", json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, draft) = owner.post("/api/v1/tenant-drafts", json!({})).await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(draft["data"]["infra"]["series"], "17.0", "defaults filled in: {draft}");

    // Wrong fields: stored as typed, with errors on their fields.
    let mut data = draft_data("Acme!");
    data["identity"]["contact_email"] = "not-an-address".into();
    let (status, saved) = save(&owner, &id, "identity", &data, None).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(fields(&saved), ["slug", "contact_email"]);
    let (_, again) = owner.get(&format!("/api/v1/tenant-drafts/{id}")).await;
    assert_eq!(again["data"]["identity"]["slug"], "Acme!", "nothing typed is lost");

    // The server's own checks: a slug another tenant holds (even one the caller cannot see), an
    // address an instance could not take, an unknown plan, modules missing for the series.
    let (_, taken) = owner.get("/api/v1/tenant-slugs/member-org").await;
    assert_eq!(taken["available"], false, "{taken}");
    let (_, saved) = save(&owner, &id, "identity", &draft_data("member-org"), None).await;
    assert_eq!(fields(&saved), ["slug"], "{saved}");
    let (_, saved) = save(&owner, &id, "identity", &draft_data("www"), None).await;
    assert_eq!(fields(&saved), ["slug"], "a reserved address: {saved}");
    let (_, saved) = save(&owner, &id, "identity", &draft_data("acme-be"), None).await;
    assert_eq!(fields(&saved), Vec::<String>::new(), "{saved}");
    let mut data = draft_data("acme-be");
    data["plan"] = "platinum".into();
    let (_, saved) = save(&owner, &id, "plan", &data, None).await;
    assert!(saved["errors"][0]["message"].as_str().unwrap().contains("no plan"), "{saved}");
    data["plan"] = "standard".into();
    data["bundle"]["modules"] = "no_such_module".into();
    let (_, saved) = save(&owner, &id, "bundle", &data, None).await;
    assert!(saved["errors"][0]["message"].as_str().unwrap().contains("no_such_module"), "{saved}");
    let (status, body) = save(&owner, &id, "payment", &data, None).await;
    assert_eq!(status, 422, "{body}");

    // The client secret is sealed: never in a response, nor in clear in the database.
    data["bundle"]["modules"] = "".into();
    data["sso"] = json!({"kind": "oidc", "issuer": "https://login.acme.test", "client_id": "odoo", "scopes": "openid"});
    let (_, saved) = save(&owner, &id, "sso", &data, Some(CLIENT_SECRET)).await;
    assert_eq!(saved["draft"]["sso_secret_set"], true, "{saved}");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT sso_secret FROM ops.tenant_drafts WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert!(!stored.windows(CLIENT_SECRET.len()).any(|w| w == CLIENT_SECRET.as_bytes()));
    assert_eq!(app.platform.settings.sealer.open(&stored, "sso_client_secret").unwrap(), CLIENT_SECRET.as_bytes());

    // Another person's draft does not exist for them, staff or not.
    assert_eq!(operator.get(&format!("/api/v1/tenant-drafts/{id}")).await.0, 404);
    assert_eq!(save(&operator, &id, "identity", &data, None).await.0, 404);
    assert_eq!(member.get(&format!("/api/v1/tenant-drafts/{id}")).await.0, 403);
    let (_, theirs) = operator.get("/api/v1/tenant-drafts").await;
    assert_eq!(theirs.as_array().unwrap().len(), 0, "{theirs}");

    // The fleet views go through row-level security: a member sees its own tenant only.
    let (status, fleet) = member_browser.rpc("fleet/tenants", &[]).await;
    assert_eq!(status, 200, "{fleet}");
    let slugs: Vec<&str> = fleet.as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["member-org"]);
    assert_eq!(member_browser.rpc("fleet/subscriptions", &[]).await.1, json!([]));

    // Seven days later it is gone: unreadable at once, deleted by the retention job.
    sqlx::query("UPDATE ops.tenant_drafts SET expires_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(&id)
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(owner.get(&format!("/api/v1/tenant-drafts/{id}")).await.0, 404);
    domain::jobs::queue::retention(&app.platform).await.unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.tenant_drafts").fetch_one(app.platform.db.owner()).await.unwrap();
    assert_eq!(left, 0);
}

/// A certificate authority and a certificate for `names`, made with openssl in `dir`.
pub(crate) fn certificates(dir: &Path, names: &[&str]) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Test IdP CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "idp.key",
        "-out",
        "idp.csr",
        "-subj",
        &format!("/CN={}", names[0]),
    ]);
    let san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
    std::fs::write(dir.join("san.cnf"), format!("subjectAltName={}\n", san.join(","))).unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "idp.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "idp.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    ]);
}

/// An https server (Python's, with the certificate above) on loopback, run in
/// `dir`; `handler` is Python that names its request handler `h`. Killed when dropped.
pub(crate) struct HttpsServer {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn https_server(dir: &Path, handler: &str) -> HttpsServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = format!(
        "import http.server, ssl, functools, json, os\n{handler}\n\
         s = http.server.HTTPServer(('127.0.0.1', {port}), h)\n\
         c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain('idp.pem', 'idp.key')\n\
         s.socket = c.wrap_socket(s.socket, server_side=True)\n\
         s.serve_forever()\n"
    );
    let child = std::process::Command::new("python3")
        .args(["-c", &script])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    HttpsServer { child, port }
}

/// An identity provider: `dir`'s files (its discovery document for `issuer`) over https.
fn identity_provider(dir: &Path, issuer: &str) -> HttpsServer {
    let path = issuer.splitn(4, '/').nth(3).unwrap_or_default();
    let well_known = dir.join("www").join(path).join(".well-known");
    std::fs::create_dir_all(&well_known).unwrap();
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth"),
        "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
        "userinfo_endpoint": format!("{issuer}/protocol/openid-connect/userinfo"),
        "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
        "scopes_supported": ["openid", "email", "profile"],
    });
    std::fs::write(well_known.join("openid-configuration"), doc.to_string()).unwrap();
    https_server(dir, "h = functools.partial(http.server.SimpleHTTPRequestHandler, directory='www')")
}

async fn test_sso(api: &Api<'_>, draft: &str) -> (u16, Value) {
    api.post(&format!("/api/v1/tenant-drafts/{draft}/sso-test"), json!({})).await
}

async fn walk(api: &Api<'_>, slug: &str, sso: Value) -> (String, Value) {
    let (status, draft) = api.post("/api/v1/tenant-drafts", json!({})).await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    let mut data = draft_data(slug);
    data["sso"] = sso;
    for step in ["identity", "plan", "bundle", "infra"] {
        let (status, saved) = save(api, &id, step, &data, None).await;
        assert_eq!((status, fields(&saved)), (200, vec![]), "{step}: {saved}");
    }
    let (_, saved) = save(api, &id, "sso", &data, Some(CLIENT_SECRET)).await;
    assert_eq!(fields(&saved), Vec::<String>::new(), "{saved}");
    (id, data)
}

async fn admin_api<'a>(app: &'a TestApp) -> Api<'a> {
    let b = app.signed_up("ann@platform.test", "Platform").await;
    app.api(&b.token().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_makes_a_tenant_with_sso_and_an_instance_and_its_sso_test_cannot_be_turned_inward() {
    canary::watch(CLIENT_SECRET, Never::LoggedOrSent);
    canary::watch(ADMIN_PASSWORD, Never::LoggedOrSent);
    let app = spawn_app_with_builds().await;
    let owner = admin_api(&app).await;
    let infra = app.platform.builds.as_ref().unwrap();
    let checks = &infra.custom_domains.checks;
    let dir = std::env::temp_dir().join(format!("odooops-idp-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir, &["login.acme.test"]);
    let issuer = "https://login.acme.test/realms/acme";
    let idp = identity_provider(&dir, issuer);
    let sso = |issuer: &str| json!({"kind": "oidc", "issuer": issuer, "client_id": "odoo", "scopes": "openid email"});

    // The Test refuses what is inside before connecting: link-local (metadata), private, loopback.
    checks.pin("meta.evil.test", ([169, 254, 169, 254], 443).into());
    checks.pin("intranet.evil.test", ([10, 0, 0, 7], 443).into());
    checks.pin("login.acme.test", ([127, 0, 0, 1], idp.port).into());
    let (draft, _) = walk(&owner, "evilco", sso("https://meta.evil.test")).await;
    let (status, body) = test_sso(&owner, &draft).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("link-local"), "{body}");
    let (private, _) = walk(&owner, "evilco2", sso("https://intranet.evil.test")).await;
    let (status, body) = test_sso(&owner, &private).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("private network"), "{body}");
    let (draft2, _) = walk(&owner, "evilco3", sso(issuer)).await;
    let (status, body) = test_sso(&owner, &draft2).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("loopback"), "{body}");
    // An address the operator allows, with a certificate nobody trusts: refused.
    checks.allow(Cidr::parse("127.0.0.1/32").unwrap());
    let (status, body) = test_sso(&owner, &draft2).await;
    assert_eq!(status, 422, "{body}");
    // Trusted (the operator's ODOOOPS_TRUST_CA), but the name is not the certificate's: refused.
    checks.trust_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap();
    checks.pin("impostor.acme.test", ([127, 0, 0, 1], idp.port).into());
    let (impostor, _) = walk(&owner, "impostor", sso("https://impostor.acme.test/realms/acme")).await;
    let (status, body) = test_sso(&owner, &impostor).await;
    assert_eq!(status, 422, "{body}");
    // A genuine issuer whose document sends Odoo's server inward (its keys on the metadata service): refused.
    let evil = "https://login.acme.test/realms/evil";
    let dir_evil = dir.join("www/realms/evil/.well-known");
    std::fs::create_dir_all(&dir_evil).unwrap();
    let doc = json!({"issuer": evil, "authorization_endpoint": format!("{evil}/auth"), "token_endpoint": format!("{evil}/token"),
                     "jwks_uri": "https://meta.evil.test/latest/meta-data/"});
    std::fs::write(dir_evil.join("openid-configuration"), doc.to_string()).unwrap();
    let (inward, _) = walk(&owner, "inward", sso(evil)).await;
    let (status, body) = test_sso(&owner, &inward).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("link-local"), "{body}");
    // Create needs a passing Test.
    let (status, body) =
        owner.post(&format!("/api/v1/tenant-drafts/{draft2}/create"), json!({"admin_password": ADMIN_PASSWORD})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("test the SSO issuer"), "{body}");

    // The real issuer: found, shown, kept.
    let (status, found) = test_sso(&owner, &draft2).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["token_endpoint"], format!("{issuer}/protocol/openid-connect/token"));
    let (_, d) = owner.get(&format!("/api/v1/tenant-drafts/{draft2}")).await;
    assert_eq!(d["sso_found"]["issuer"], issuer, "{d}");

    // Create: the tenant (subscription, SSO with the sealed secret), then its instance.
    let (status, instance) =
        owner.post(&format!("/api/v1/tenant-drafts/{draft2}/create"), json!({"admin_password": ADMIN_PASSWORD})).await;
    assert_eq!(status, 201, "{instance}");
    let id = instance["id"].as_str().unwrap().to_owned();
    assert_eq!((instance["subdomain"].as_str(), instance["plan"].as_str()), (Some("evilco3"), Some("standard")));
    assert!(instance["modules"].as_array().unwrap().iter().any(|m| m == "auth_oauth"), "{instance}");
    // Create again answers the same instance (a retried click makes nothing twice).
    let (status, again) =
        owner.post(&format!("/api/v1/tenant-drafts/{draft2}/create"), json!({"admin_password": ADMIN_PASSWORD})).await;
    assert_eq!((status, again["id"].as_str()), (201, Some(id.as_str())), "{again}");
    let (_, ops) = owner.get(&format!("/api/v1/instances/{id}/operations")).await;
    let op = ended(&owner, &id, ops[0]["id"].as_str().unwrap()).await;
    assert_eq!(op["state"], "done", "{op}");

    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    let (status, plan, provider, country, groups): (String, String, String, String, Vec<String>) = sqlx::query_as(
        "SELECT s.status, s.plan, s.provider, t.country, t.groups FROM ops.tenants t
           JOIN ops.subscriptions s ON s.tenant_id = t.id WHERE t.slug = 'evilco3'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!((status.as_str(), plan.as_str(), provider.as_str()), ("active", "standard", "manual"));
    assert_eq!((country.as_str(), groups), ("BE", vec!["retail".to_owned(), "pilot".to_owned()]));
    let cron: String = sqlx::query_scalar(
        "SELECT p.backup_cron FROM ops.projects p JOIN ops.instances i ON i.project_id = p.id WHERE i.id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(cron, "0 * * * *", "hourly backups, as chosen");
    let events: Vec<Value> = sqlx::query_scalar(
        "SELECT summary FROM ops.audit_events WHERE action = 'tenant.create' AND target = 'tenant:evilco3'",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(events.len(), 1, "one audit event for the tenant");
    assert_eq!(events[0]["sso"], issuer);

    // The instance's database has the provider, pointing at the discovered endpoints.
    let (db,): (String,) = serving_build(&app, &id, "b.db_name").await;
    let mut c = sqlx::PgConnection::connect_with(&infra.db(&db).owner_options(&db)).await.unwrap();
    let (auth, enabled): (String, bool) =
        sqlx::query_as("SELECT auth_endpoint, enabled FROM auth_oauth_provider WHERE name = 'OdooOps SSO'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!((auth, enabled), (format!("{issuer}/protocol/openid-connect/auth"), true));
    c.close().await.unwrap();

    // The tenant's admin signs in to its Odoo with the password given at Create.
    let (odoo, base) = odoo_client(&app, "evilco3.localhost");
    assert_eq!(sign_in(&odoo, &base, "it@acme.test", ADMIN_PASSWORD).await.status(), 303);

    // The recommendations console: a healthy instance has no finding; one near its storage quota has one.
    assert_eq!(owner.get("/api/v1/fleet/findings").await.1, json!([]));
    sqlx::query("UPDATE ops.instances SET storage_used_bytes = 9000::bigint * 1024 * 1024 WHERE id = $1::uuid")
        .bind(&id)
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    let (_, found) = owner.get("/api/v1/fleet/findings").await;
    assert_eq!(
        (found[0]["rule"].as_str(), found[0]["instance"].as_str()),
        (Some("near_quota"), Some("evilco3")),
        "{found}"
    );
    let (_, page) = owner.get("/api/v1/fleet/tenants/evilco3").await;
    assert_eq!(page["instances"][0]["id"], id.as_str(), "{page}");
    assert_eq!(page["sso_issuer"], issuer);

    drop(idp);
    let _ = std::fs::remove_dir_all(&dir);
    tear_down_builds(&app).await;
}
