//! Spawns the real router on port 0 with a fresh database, and talks to it
//! the way a browser (cookies, Origin, form posts to server functions) or an
//! automation client (bearer token, JSON) does.

use domain::config::Settings;
use domain::db::Db;
use domain::mailer::MemoryMailer;
use domain::platform::Platform;
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use server::application::{Application, Parts};
use std::sync::Arc;

/// Every account's password; a canary that no log line or response may carry.
pub const PASSWORD: &str = "correct horse battery canary-pw-3f9c";

pub struct TestApp {
    pub addr: String,
    pub mailer: Arc<MemoryMailer>,
    pub platform: Platform,
    pub db_options: sqlx::postgres::PgConnectOptions,
    /// `host:port` of the mail catcher (apps with builds).
    pub smtp_addr: Option<String>,
    /// The one-time token the first account needs, as the console logs it at start.
    pub setup_token: Option<String>,
}

pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

/// No builds; the console's own mail goes to its mailbox, as without an SMTP
/// relay (`app.mailer` then stays empty).
pub async fn spawn_app_with_console_mailbox() -> TestApp {
    TestApp::builder().console_mailbox().spawn().await
}

/// No builds, with settings adjusted by the test (public URL, limits, trusted proxies, …).
pub async fn spawn_app_and(adjust: impl FnOnce(&mut Settings) + 'static) -> TestApp {
    TestApp::builder().settings(adjust).spawn().await
}

/// Builds and the worker, with settings adjusted by the test (short shell timeouts, …).
pub async fn spawn_app_with_builds_and(adjust: impl FnOnce(&mut Settings) + 'static) -> TestApp {
    TestApp::builder().builds().settings(adjust).spawn().await
}

/// The app with a real build runner: Docker, the stand-in image, build
/// databases in the test cluster, and the worker.
pub async fn spawn_app_with_builds() -> TestApp {
    TestApp::builder().builds().spawn().await
}

/// Builds configured, but no worker: the test drives the queue itself.
pub async fn spawn_app_with_builds_no_worker() -> TestApp {
    TestApp::builder().builds().without_worker().spawn().await
}

/// Previews routed on `*.localhost` (the preview router and its host rules),
/// without Docker: no build ever runs, so no preview is live.
pub async fn spawn_app_with_previews() -> TestApp {
    TestApp::builder().previews().without_worker().spawn().await
}

#[derive(PartialEq)]
enum Mode {
    /// No builds, no previews.
    Console,
    /// Build infrastructure without a container engine.
    Previews,
    /// Docker, build databases, the mail catcher.
    Builds,
}

/// What a test app is made of, over [`server::application::Application::build`]:
/// the console alone by default, with a worker and the test mailer.
pub struct TestAppBuilder {
    mode: Mode,
    worker: bool,
    console_mailbox: bool,
    adjust: Box<dyn FnOnce(&mut Settings)>,
    /// The runtime builds run on (default: [`runtime_backend`]).
    backend: Option<domain::runtime::Backend>,
    /// The registry swarm images go through.
    registry: Option<String>,
}

impl TestAppBuilder {
    /// Docker, the stand-in image, build databases in the test cluster, the mail catcher.
    pub fn builds(mut self) -> Self {
        self.mode = Mode::Builds;
        self
    }

    /// The preview router and its host rules, without Docker.
    pub fn previews(mut self) -> Self {
        self.mode = Mode::Previews;
        self
    }

    /// No worker: the test drives the queue itself.
    pub fn without_worker(mut self) -> Self {
        self.worker = false;
        self
    }

    /// Builds on `backend` whatever `ODOOOPS_RUNTIME` says.
    pub fn runtime(mut self, backend: domain::runtime::Backend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Swarm images pushed to, and pulled from, the registry at `addr`.
    pub fn registry(mut self, addr: &str) -> Self {
        self.registry = Some(addr.to_owned());
        self
    }

    /// The console mailbox as the mailer, as without an SMTP relay.
    pub fn console_mailbox(mut self) -> Self {
        self.console_mailbox = true;
        self
    }

    /// Settings adjusted by the test.
    pub fn settings(mut self, adjust: impl FnOnce(&mut Settings) + 'static) -> Self {
        self.adjust = Box::new(adjust);
        self
    }

    pub async fn spawn(self) -> TestApp {
        spawn(self).await
    }
}

/// The runtime the build tests run on: `ODOOOPS_RUNTIME` (docker unless set),
/// as `odooops serve` reads it. scripts/test runs the pipeline suite on both.
pub fn runtime_backend() -> domain::runtime::Backend {
    std::env::var("ODOOOPS_RUNTIME").ok().map(|r| r.parse().expect("ODOOOPS_RUNTIME")).unwrap_or_default()
}

/// The Docker engine itself, for tests that look under the runtime.
pub fn docker() -> domain::engine::DockerEngine {
    domain::engine::DockerEngine::from_env()
}

/// The stand-in binary the build tests need (scripts/test builds it).
pub fn standin_binary() -> std::path::PathBuf {
    let path = std::env::var_os("ODOOOPS_STANDIN_BIN").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/x86_64-unknown-linux-musl/release/odoo")
    });
    assert!(
        path.is_file(),
        "build the stand-in first: cargo build -p odoo-standin --release --target x86_64-unknown-linux-musl"
    );
    path
}

async fn spawn(with: TestAppBuilder) -> TestApp {
    let mode = with.mode;
    crate::canary::init();
    let db_options = domain::testing::fresh_database().await;
    let db = Db::prepare(db_options.clone(), 5).await.expect("preparing the database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let mailer = Arc::new(MemoryMailer::default());
    let mut catcher = None;
    let (runtime, infra): (Arc<dyn domain::runtime::Runtime>, _) = if mode == Mode::Builds {
        let mut databases = domain::testing::build_databases()
            .expect("the build tests need Docker (DOCKER_HOST or /var/run/docker.sock)");
        // As `odooops serve` derives it: every console of this installation agrees on the build roles' passwords.
        databases.role_key = db.private_secret("build_role_key").await.unwrap().into_bytes();
        // The mail catcher where containers reach this host.
        let smtp = tokio::net::TcpListener::bind(format!("{}:0", databases.host_for_containers)).await.unwrap();
        let smtp_port = smtp.local_addr().unwrap().port();
        catcher = Some(smtp);
        let container_host = databases.host_for_containers.clone();
        let scratch = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../target/test-builds/{}", uuid::Uuid::new_v4().simple()));
        let infra = domain::builds::infra::BuildInfra {
            databases,
            repos_dir: scratch.join("repos"),
            work_dir: scratch.join("work"),
            standin_binary: Some(standin_binary()),
            max_concurrent: 2,
            max_per_tenant: 2,
            phase_timeout: std::time::Duration::from_secs(1800),
            health_timeout: std::time::Duration::from_secs(120),
            worker: format!("test-{}", uuid::Uuid::new_v4().simple()),
            preview_domain: "localhost".into(),
            instances_domain: "localhost".into(),
            preview_key: db.private_secret("preview_signing_key").await.unwrap().into_bytes(),
            installation: domain::builds::infra::installation_id(&db.private_secret("installation").await.unwrap()),
            mail_catcher: Some((container_host, smtp_port)),
            filestore_dir: scratch.join("filestore"),
            dedicated: domain::instances::dedicated::Servers::new(scratch.join("dedicated")),
            backups: domain::backups::BackupInfra::local(&scratch.join("backups")).unwrap(),
            git_timeout: std::time::Duration::from_secs(120),
            // The tests' repositories are local bare repositories (an operator's setting).
            allow_local_repos: true,
            custom_domains: Default::default(),
            traffic: Default::default(),
        };
        // As the console does at start: build networks reach no link-local address.
        let backend = with.backend.unwrap_or_else(runtime_backend);
        if let Err(why) = domain::builds::egress::guard(backend) {
            eprintln!("egress rules not installed: {why}");
        }
        let registry = with.registry.clone().or_else(|| std::env::var("ODOOOPS_REGISTRY").ok());
        (domain::runtime::from_env(backend, registry, Vec::new()), Some(infra))
    } else if mode == Mode::Previews {
        let scratch = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../target/test-builds/{}", uuid::Uuid::new_v4().simple()));
        let infra = domain::builds::infra::BuildInfra {
            databases: domain::builds::infra::BuildDatabases {
                admin: db_options.clone(),
                host_for_containers: "127.0.0.1".into(),
                port_for_containers: db_options.get_port(),
                socket_dir: None,
                role_key: b"previews only".to_vec(),
            },
            repos_dir: scratch.join("repos"),
            work_dir: scratch.join("work"),
            standin_binary: None,
            max_concurrent: 1,
            max_per_tenant: 1,
            phase_timeout: std::time::Duration::from_secs(60),
            health_timeout: std::time::Duration::from_secs(5),
            worker: format!("test-{}", uuid::Uuid::new_v4().simple()),
            preview_domain: "localhost".into(),
            instances_domain: "localhost".into(),
            preview_key: db.private_secret("preview_signing_key").await.unwrap().into_bytes(),
            installation: domain::builds::infra::installation_id(&db.private_secret("installation").await.unwrap()),
            mail_catcher: None,
            filestore_dir: scratch.join("filestore"),
            dedicated: domain::instances::dedicated::Servers::new(scratch.join("dedicated")),
            backups: domain::backups::BackupInfra::local(&scratch.join("backups")).unwrap(),
            git_timeout: std::time::Duration::from_secs(5),
            allow_local_repos: false,
            custom_domains: Default::default(),
            traffic: Default::default(),
        };
        (Arc::new(domain::runtime::Unavailable("Docker is not used by this test".into())), Some(infra))
    } else {
        (Arc::new(domain::runtime::Unavailable("Docker is not used by this test".into())), None)
    };
    let mut settings = Settings::for_url(&addr);
    (with.adjust)(&mut settings);
    let outgoing: Arc<dyn domain::mailer::Mailer> = if with.console_mailbox {
        Arc::new(domain::mail::console::ConsoleMailbox::new(db.clone()))
    } else {
        mailer.clone()
    };
    let app = Application::build(Parts {
        db,
        runtime,
        mailer: outgoing,
        settings,
        builds: infra,
        leptos: LeptosOptions::builder().output_name("odooops").site_root("target/site").build(),
        http: listener,
        worker: with.worker,
        mail_catcher: catcher.into_iter().collect(),
        ssh: None,
    })
    .await
    .expect("building the application")
    .map_router(|r| r.layer(axum::middleware::from_fn(crate::canary::responses)));
    let platform = app.platform.clone();
    let smtp_addr = app.smtp.first().map(|a| a.to_string());
    let setup_token = app.setup_token.clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp { addr, mailer, platform, db_options, smtp_addr, setup_token }
}

/// A test app's builds do not outlive it: its containers and networks (found
/// by its installation label) are removed when the test ends, so runs do not
/// exhaust Docker's network address pools.
impl Drop for TestApp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            crate::canary::watch_stored(&self.db_options);
            crate::canary::assert_clean();
        }
        let Some(infra) = &self.platform.builds else { return };
        let label = format!("label=odooops.installation={}", infra.installation);
        let list = |args: &[&str]| -> Vec<String> {
            std::process::Command::new("docker")
                .args(args)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let services = list(&["service", "ls", "-q", "--filter", &label]);
        if !services.is_empty() {
            let _ = std::process::Command::new("docker").args(["service", "rm"]).args(&services).output();
        }
        let containers = list(&["ps", "-aq", "--filter", &label]);
        if !containers.is_empty() {
            let _ = std::process::Command::new("docker").args(["rm", "-f"]).args(&containers).output();
        }
        let networks = list(&["network", "ls", "-q", "--filter", &label]);
        if !networks.is_empty() {
            let _ = std::process::Command::new("docker").args(["network", "rm"]).args(&networks).output();
        }
        // Its builds' images too, by tag: repeated runs would fill the disk (issue 20). Never by id:
        // identical stand-in builds of other tests share an image id, and `rmi -f <id>` would
        // untag theirs mid-build.
        let reference = format!("reference=odooops-build/{}-*", infra.installation);
        let images = list(&["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", &reference]);
        if !images.is_empty() {
            let _ = std::process::Command::new("docker").arg("rmi").args(&images).output();
        }
    }
}

/// A browser: keeps cookies, sends Origin like Chromium does.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub http: reqwest::Client,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            mode: Mode::Console,
            worker: true,
            console_mailbox: false,
            adjust: Box::new(|_| {}),
            backend: None,
            registry: None,
        }
    }

    pub fn browser(&self) -> Browser<'_> {
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { app: self, http }
    }

    /// A browser that signed up. The first sign-up of an app becomes platform
    /// owner: it presents the setup token, as a person who read the log would
    /// (later sign-ups send it too; it no longer matters then).
    pub async fn signed_up(&self, email: &str, org: &str) -> Browser<'_> {
        let b = self.browser();
        let r = b.rpc("auth/sign_up", &self.sign_up_form(email, org)).await;
        assert_eq!(r.0, 200, "sign-up failed: {}", r.1);
        b
    }

    /// The sign-up form's fields, with the setup token.
    pub fn sign_up_form<'a>(&'a self, email: &'a str, org: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![("email", email), ("password", PASSWORD), ("display_name", ""), ("organisation", org)];
        if let Some(t) = &self.setup_token {
            form.push(("setup_token", t.as_str()));
        }
        form
    }

    /// A REST client with a bearer token.
    pub fn api(&self, token: &str) -> Api<'_> {
        Api { app: self, token: token.to_owned(), http: reqwest::Client::new() }
    }
}

impl Browser<'_> {
    /// Posts a form to a server function; returns status and JSON body.
    pub async fn rpc(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/rpc/{endpoint}", self.app.addr))
            .header("Origin", &self.app.addr)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.app.addr)).send().await.unwrap()
    }

    pub async fn create_project(&self, name: &str) -> Value {
        let (status, body) = self
            .rpc(
                "projects/create",
                &[("name", name), ("repo_url", "https://github.com/acme/addons.git"), ("odoo_version", "17.0")],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        crate::canary::watch_stored(&self.app.db_options);
        body
    }

    pub async fn token(&self) -> String {
        let (status, body) = self.rpc("tokens/create", &[("name", "tests"), ("expires_in_days", "30")]).await;
        assert_eq!(status, 200, "{body}");
        let secret = body["secret"].as_str().unwrap().to_owned();
        crate::canary::watch(&secret, crate::canary::Never::LoggedOrSent);
        secret
    }
}

pub struct Api<'a> {
    pub app: &'a TestApp,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api<'_> {
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.app.addr)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

/// Signs `email` up, invites them into the project's tenant (as `api`, a
/// project admin), has them accept, and gives them `role` on the project;
/// their browser.
pub async fn add_project_member<'a>(
    app: &'a TestApp,
    api: &Api<'_>,
    project: &str,
    email: &str,
    role: &str,
) -> Browser<'a> {
    let b = app.signed_up(email, "").await;
    let (_, detail) = api.get(&format!("/api/v1/projects/{project}")).await;
    let tenant = detail["project"]["tenant_id"].as_str().unwrap().to_owned();
    join_tenant(api, &b, &tenant, "member").await;
    let (status, body) = api
        .post(&format!("/api/v1/projects/{project}/members"), serde_json::json!({"email": email, "role": role}))
        .await;
    assert_eq!(status, 200, "{body}");
    b
}

/// `api` (a tenant admin) invites the account of `browser` into `tenant` as
/// `role`, and they accept through the server functions the UI uses.
pub async fn join_tenant(api: &Api<'_>, browser: &Browser<'_>, tenant: &str, role: &str) {
    let (_, me) = browser.rpc("auth/me", &[]).await;
    let email = me["email"].as_str().expect("signed in").to_owned();
    let (status, body) =
        api.post(&format!("/api/v1/tenants/{tenant}/members"), serde_json::json!({"email": email, "role": role})).await;
    assert_eq!(status, 202, "{body}");
    let (status, pending) = browser.rpc("tenants/invitations", &[]).await;
    assert_eq!(status, 200, "{pending}");
    let invitation = pending
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tenant_id"] == tenant)
        .unwrap_or_else(|| panic!("no invitation into {tenant}: {pending}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = browser.rpc("tenants/answer_invitation", &[("id", &invitation), ("accept", "true")]).await;
    assert_eq!(status, 200, "{body}");
}

/// Tears down every build of the app, drops production databases (kept by
/// design) and removes the build images, so a test leaves nothing behind.
pub async fn tear_down_builds(app: &TestApp) {
    let infra = app.platform.builds.as_ref().unwrap();
    let mut tx = app.platform.db.begin_as(domain::builds::queue::SYSTEM_USER).await.unwrap();
    let rows: Vec<(uuid::Uuid, Option<String>)> =
        sqlx::query_as("SELECT id, db_name FROM ops.builds").fetch_all(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    for (id, db) in rows {
        domain::builds::lifecycle::teardown(&app.platform, infra, id).await.unwrap();
        if let Some(db) = db.filter(|d| d.starts_with("op_")) {
            infra.databases.drop(&db, &db).await.unwrap();
        }
    }
    for image in app.platform.runtime.images_matching(&format!("odooops-build/{}-*", infra.installation)).await.unwrap()
    {
        app.platform.runtime.remove_image(&image).await.unwrap();
    }
}
