//! Shared machinery for the browser tests: one console and chromedriver per
//! test binary, the browser session runner, and helpers several feature files use.

use fantoccini::{Client, ClientBuilder, Locator};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub(crate) const WAIT: Duration = Duration::from_secs(60);

pub(crate) fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Kills a child process when the test process drops it.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // SIGTERM lets odooops stop its PostgreSQL cleanly.
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
    }
}

/// The console and chromedriver live in a static that is never dropped, so
/// they are stopped when the test process exits (SIGTERM: the console stops
/// its PostgreSQL cleanly).
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// OdooOps-managed containers and networks that existed before this test
/// binary's console started: the rest are its own, removed at exit (a
/// stopped console keeps its builds serving, as it should in production).
static BEFORE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn managed() -> Vec<String> {
    let list = |args: &[&str]| -> Vec<String> {
        Command::new("docker")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let mut all = list(&["ps", "-aq", "--no-trunc", "--filter", "label=odooops.managed=true"]);
    all.extend(list(&["network", "ls", "-q", "--no-trunc", "--filter", "label=odooops.managed=true"]));
    all.extend(build_images());
    all
}

/// The tags of build images (`odooops-build/<installation>-<project>:b<n>`), as `image:<tag>`:
/// removed by tag, never by id (identical builds share an id).
fn build_images() -> Vec<String> {
    Command::new("docker")
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=odooops-build/*"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(|id| format!("image:{id}")).collect())
        .unwrap_or_default()
}

extern "C" fn stop_children() {
    let pids = CHILDREN.lock().map(|p| p.clone()).unwrap_or_default();
    for pid in &pids {
        // SAFETY: kill(2) on a pid this process started; no memory is touched.
        unsafe { libc::kill(*pid as i32, libc::SIGTERM) };
    }
    if !pids.is_empty() {
        std::thread::sleep(Duration::from_secs(2));
        // What the console started is gone with it (containers, networks, its builds' images), so
        // repeated runs exhaust neither Docker's address pools nor the disk.
        let before = BEFORE.lock().map(|b| b.clone()).unwrap_or_default();
        let ours: Vec<String> = managed().into_iter().filter(|id| !before.contains(id)).collect();
        let (images, others): (Vec<&String>, Vec<&String>) = ours.iter().partition(|id| id.starts_with("image:"));
        for id in &others {
            let _ = Command::new("docker").args(["rm", "-f", id]).output();
        }
        for id in &others {
            let _ = Command::new("docker").args(["network", "rm", id]).output();
        }
        for id in images {
            let _ = Command::new("docker").args(["rmi", id.trim_start_matches("image:")]).output();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) struct Stack {
    pub(crate) console: String,
    driver: String,
    _guards: Vec<Guard>,
}

/// One console and one chromedriver for the whole test binary.
pub(crate) fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        if let Ok(mut b) = BEFORE.lock() {
            *b = managed();
        }
        let bin = workspace().join("target/release/odooops");
        let site = workspace().join("target/site");
        assert!(
            bin.exists() && site.join("pkg").exists(),
            "build the release site first: scripts/build-site (scripts/test does)"
        );
        let data = workspace().join(format!("target/e2e-data/{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        let port = free_port();
        let log = std::fs::File::create(data.join("odooops.log")).unwrap();
        let console = Command::new(&bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("ODOOOPS_DATA_DIR", &data)
            .env("LEPTOS_SITE_ROOT", &site)
            .env("ODOOOPS_LEPTOS_TOML", workspace().join("Leptos.toml"))
            .env("ODOOOPS_STANDIN_BIN", workspace().join("target/x86_64-unknown-linux-musl/release/odoo"))
            .env("ODOOOPS_SSH_LISTEN", format!("127.0.0.1:{}", free_port()))
            .env("ODOOOPS_SMTP_PORT", free_port().to_string())
            // The tests' repositories are local bare repositories: the operator allows them.
            .env("ODOOOPS_ALLOW_LOCAL_REPOS", "true")
            // Every test signs its people up from 127.0.0.1.
            .env("ODOOOPS_SIGNUP_LIMIT", "100")
            // Supabase's Management API is out of reach: its stand-in answers in its place.
            .env("ODOOOPS_SUPABASE_API", crate::supabase::management_api())
            .env_remove("DATABASE_URL")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting odooops");
        let driver_port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver (apt-get install chromium-driver)");
        let console_url = format!("http://127.0.0.1:{port}");
        wait_http(&format!("{console_url}/api/health"), &data.join("odooops.log"));
        wait_http(&format!("http://127.0.0.1:{driver_port}/status"), &data.join("odooops.log"));
        create_first_owner(&console_url, &data.join("odooops.log"));
        if let Ok(mut pids) = CHILDREN.lock() {
            pids.extend([console.id(), driver.id()]);
        }
        // SAFETY: registers a plain `extern "C"` function once, at first use of the stack.
        unsafe { libc::atexit(stop_children) };
        Stack {
            console: console_url,
            driver: format!("http://127.0.0.1:{driver_port}"),
            _guards: vec![Guard(console), Guard(driver)],
        }
    })
}

/// A fresh console needs its one-time setup token for the first account (the
/// platform owner). Reads it from the console's log, as an operator would, and
/// signs the owner up, so every test's sign-up is an ordinary one.
fn create_first_owner(console: &str, log: &std::path::Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let token: String = text
        .split("setup_token=")
        .nth(1)
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
        .unwrap_or_default();
    assert!(!token.is_empty(), "the console's log has no setup token:\n{text}");
    let out = Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "-X", "POST", &format!("{console}/rpc/auth/sign_up")])
        .args(["-H", &format!("Origin: {console}")])
        .args(["--data-urlencode", "email=owner@e2e.test", "--data-urlencode", "password=correct horse battery"])
        .args(["--data-urlencode", "display_name=Owner", "--data-urlencode", "organisation=Platform"])
        .args(["--data-urlencode", &format!("setup_token={token}")])
        .status()
        .expect("running curl");
    assert!(out.success(), "signing the first owner up failed; console log:\n{text}");
}

fn wait_http(url: &str, log: &std::path::Path) {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        let ok = std::process::Command::new("curl")
            .args(["-sf", "-o", "/dev/null", url])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{url} did not answer; console log:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

pub(crate) async fn browser() -> Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900"]
        },
        // Console messages, uncaught errors and WASM panics, kept for a failing test.
        "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"}
    });
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&stack().driver)
        .await
        .expect("connecting to chromedriver")
}

/// A browser emulating a phone: 390 × 844 CSS pixels at twice the density, touch, a phone's user agent.
pub(crate) async fn phone_browser() -> Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": true}}
        }
    });
    let serde_json::Value::Object(caps) = caps else { unreachable!() };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&stack().driver)
        .await
        .expect("connecting to chromedriver")
}

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs a browser test; on failure keeps a screenshot and the page source.
pub(crate) async fn run<F>(name: &str, test: F)
where
    F: for<'a> FnOnce(&'a Client) -> Pin<Box<dyn Future<Output = TestResult> + 'a>>,
{
    let c = browser().await;
    let result = test(&c).await;
    if let Err(e) = &result {
        let dir = workspace().join("target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
        if let Ok(src) = c.source().await {
            let _ = std::fs::write(dir.join(format!("{name}.html")), src);
        }
        if let Ok(log) = c.issue_cmd(BrowserLog("browser")).await {
            let _ = std::fs::write(dir.join(format!("{name}.console.json")), log.to_string());
        }
        if let Ok(log) = c.issue_cmd(BrowserLog("performance")).await {
            let _ = std::fs::write(dir.join(format!("{name}.network.json")), log.to_string());
        }
        let _ = c.clone().close().await;
        panic!("{name} failed: {e} (screenshot, page and browser console in target/e2e-screenshots/{name}.*)");
    }
    let _ = c.close().await;
}

/// Chromedriver's browser log (what the page wrote to its console, its
/// uncaught errors, a WASM panic): why a page did not hydrate, say.
#[derive(Debug)]
struct BrowserLog(&'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(serde_json::json!({ "type": self.0 }).to_string()))
    }
}

pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

pub(crate) async fn wait_hydrated(c: &Client) -> TestResult {
    c.wait().at_most(WAIT).for_element(Locator::Css("body[data-hydrated='true']")).await?;
    Ok(())
}

pub(crate) async fn wait_path(c: &Client, path: &str) -> TestResult {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if c.current_url().await?.path() == path {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("never reached {path}; at {}", c.current_url().await?).into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn fill(c: &Client, css: &str, value: &str) -> TestResult {
    c.find(Locator::Css(css)).await?.send_keys(value).await?;
    Ok(())
}

pub(crate) async fn sign_up(c: &Client, email: &str, org: &str) -> TestResult {
    c.goto(&format!("{}/sign-up", stack().console)).await?;
    wait_hydrated(c).await?;
    fill(c, "input[name=email]", email).await?;
    fill(c, "input[name=display_name]", "Browser User").await?;
    fill(c, "input[name=organisation]", org).await?;
    fill(c, "input[name=password]", "correct horse battery").await?;
    c.find(Locator::Css("button[type=submit].primary")).await?.click().await?;
    wait_path(c, "/projects").await?;
    // The projects page may be a fresh load: forms work only once it is hydrated.
    wait_hydrated(c).await
}

pub(crate) fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ann")
        .env("GIT_AUTHOR_EMAIL", "ann@acme.test")
        .env("GIT_COMMITTER_NAME", "Ann")
        .env("GIT_COMMITTER_EMAIL", "ann@acme.test")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository with one addon on `main`, and `branch` adding a `.standin` file; (path, branch head).
pub(crate) fn standin_repository(branch: &str, standin: &str) -> Result<(PathBuf, String), Box<dyn std::error::Error>> {
    let repo = workspace().join(format!("target/e2e-repos/{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(repo.join("acme_sale"))?;
    std::fs::write(
        repo.join("acme_sale/__manifest__.py"),
        "{'name': 'Acme Sale', 'version': '1.0', 'depends': ['sale']}",
    )?;
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "Acme sale addon"]);
    git(&repo, &["checkout", "-q", "-b", branch]);
    std::fs::write(repo.join(".standin"), standin)?;
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "Say hello"]);
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    Ok((repo, sha))
}

/// Creates a stand-in project on `repo` from the projects page and opens it; its webhook URL and secret.
pub(crate) async fn create_standin_project(
    c: &Client,
    repo: &std::path::Path,
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let project = unique("Preview ERP ");
    fill(c, "#create-project input[name=name]", &project).await?;
    fill(c, "#create-project input[name=repo_url]", repo.to_str().unwrap()).await?;
    c.find(Locator::Css("#create-project select[name=base_image] option:nth-child(2)")).await?.click().await?;
    c.find(Locator::Css("#create-project button[type=submit]")).await?.click().await?;
    c.wait().at_most(WAIT).for_element(Locator::LinkText(&project)).await?.click().await?;
    let hook_url = c.wait().at_most(WAIT).for_element(Locator::Id("webhook-url")).await?.text().await?;
    let secret = c.find(Locator::Id("webhook-secret")).await?.text().await?;
    Ok((hook_url, secret))
}

pub(crate) async fn deliver(url: &str, secret: &str, body: serde_json::Value) -> TestResult {
    use hmac::Mac;
    let raw = serde_json::to_vec(&body)?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())?;
    mac.update(&raw);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let r = reqwest::Client::new()
        .post(url)
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", uuid::Uuid::new_v4().to_string())
        .header("X-Hub-Signature-256", signature)
        .body(raw)
        .send()
        .await?;
    if r.status().as_u16() != 202 {
        return Err(format!("webhook answered {}", r.status()).into());
    }
    Ok(())
}

/// Waits until `css` matches at least `n` elements, failing early on `fail`.
pub(crate) async fn wait_count(c: &Client, css: &str, n: usize, fail: &str, within: Duration) -> TestResult {
    let deadline = std::time::Instant::now() + within;
    loop {
        if c.find_all(Locator::Css(css)).await?.len() >= n {
            return Ok(());
        }
        if !fail.is_empty() && !c.find_all(Locator::Css(fail)).await?.is_empty() {
            return Err(format!("{fail} appeared while waiting for {css}").into());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("never saw {n} × {css}").into());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The session cookie of a signed-in browser, for REST calls on its behalf.
pub(crate) async fn session_cookie(c: &Client) -> Result<String, Box<dyn std::error::Error>> {
    let cookie = c.get_named_cookie("odooops_session").await?;
    Ok(format!("odooops_session={}", cookie.value()))
}

/// Makes the person signed in to `member` a member of the project behind
/// `hook_url` with `role`: the admin (signed in to `admin`) invites them into
/// the tenant, they accept, the admin gives them the project role.
pub(crate) async fn add_member(admin: &Client, member: &Client, email: &str, hook_url: &str, role: &str) -> TestResult {
    let cookie = session_cookie(admin).await?;
    let http = reqwest::Client::new();
    let project_id = hook_url.rsplit('/').next().unwrap_or_default().to_owned();
    let detail: serde_json::Value = http
        .get(format!("{}/api/v1/projects/{project_id}", stack().console))
        .header("Cookie", &cookie)
        .send()
        .await?
        .json()
        .await?;
    let tenant = detail["project"]["tenant_id"].as_str().unwrap_or_default().to_owned();
    let post = |path: String, cookie: String, body: serde_json::Value| {
        let http = http.clone();
        async move {
            let r = http
                .post(format!("{}/api/v1/{path}", stack().console))
                .header("Cookie", cookie)
                .header("Origin", &stack().console)
                .json(&body)
                .send()
                .await?;
            if !r.status().is_success() {
                return Err(format!("{path} answered {}", r.status()).into());
            }
            TestResult::Ok(())
        }
    };
    post(format!("tenants/{tenant}/members"), cookie.clone(), serde_json::json!({"email": email, "role": "member"}))
        .await?;
    let member_cookie = session_cookie(member).await?;
    let pending: serde_json::Value = http
        .get(format!("{}/api/v1/me/invitations", stack().console))
        .header("Cookie", &member_cookie)
        .send()
        .await?
        .json()
        .await?;
    let invitation = pending[0]["id"].as_str().unwrap_or_default().to_owned();
    post(format!("invitations/{invitation}/accept"), member_cookie, serde_json::json!({})).await?;
    post(format!("projects/{project_id}/members"), cookie, serde_json::json!({"email": email, "role": role})).await
}
