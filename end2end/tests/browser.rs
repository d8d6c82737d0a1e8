//! The release console driven through headless Chromium over WebDriver.
//!
//! Needs `cargo leptos build --release` first (`scripts/test` does it): the
//! tests start `target/release/odooops` with its own embedded PostgreSQL in a
//! scratch directory, and `chromedriver`. A failing test leaves a screenshot
//! under `target/e2e-screenshots/`.

use fantoccini::{Client, ClientBuilder, Locator};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn workspace() -> PathBuf {
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

extern "C" fn stop_children() {
    let pids = CHILDREN.lock().map(|p| p.clone()).unwrap_or_default();
    for pid in &pids {
        // SAFETY: kill(2) on a pid this process started; no memory is touched.
        unsafe { libc::kill(*pid as i32, libc::SIGTERM) };
    }
    if !pids.is_empty() {
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Stack {
    console: String,
    driver: String,
    _guards: Vec<Guard>,
}

/// One console and one chromedriver for the whole test binary.
fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let bin = workspace().join("target/release/odooops");
        let site = workspace().join("target/site");
        assert!(
            bin.exists() && site.join("pkg").exists(),
            "build the release site first: cargo leptos build --release (scripts/test does)"
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

async fn browser() -> Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900"]
        }
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

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs a browser test; on failure keeps a screenshot and the page source.
async fn run<F>(name: &str, test: F)
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
        let _ = c.clone().close().await;
        panic!("{name} failed: {e} (screenshot in target/e2e-screenshots/{name}.png)");
    }
    let _ = c.close().await;
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

async fn wait_hydrated(c: &Client) -> TestResult {
    c.wait().at_most(WAIT).for_element(Locator::Css("body[data-hydrated='true']")).await?;
    Ok(())
}

async fn wait_path(c: &Client, path: &str) -> TestResult {
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

async fn fill(c: &Client, css: &str, value: &str) -> TestResult {
    c.find(Locator::Css(css)).await?.send_keys(value).await?;
    Ok(())
}

async fn sign_up(c: &Client, email: &str, org: &str) -> TestResult {
    c.goto(&format!("{}/sign-up", stack().console)).await?;
    wait_hydrated(c).await?;
    fill(c, "input[name=email]", email).await?;
    fill(c, "input[name=display_name]", "Browser User").await?;
    fill(c, "input[name=organisation]", org).await?;
    fill(c, "input[name=password]", "correct horse battery").await?;
    c.find(Locator::Css("button[type=submit].primary")).await?.click().await?;
    wait_path(c, "/projects").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_build_hydrates() {
    run("release_build_hydrates", |c| {
        Box::pin(async move {
            c.goto(&format!("{}/sign-in", stack().console)).await?;
            wait_hydrated(c).await?;
            let input = c.find(Locator::Id("password")).await?;
            assert_eq!(input.attr("type").await?.as_deref(), Some("password"));
            // Only the hydrated page has the click handler that reveals the password.
            c.find(Locator::Id("toggle-password")).await?.click().await?;
            let revealed = c.find(Locator::Id("password")).await?.attr("type").await?;
            assert_eq!(revealed.as_deref(), Some("text"));
            Ok(())
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_create_a_project_and_another_tenant_does_not_see_it() {
    run("sign_up_create_project", |c| {
        Box::pin(async move {
            let project = unique("Browser ERP ");
            sign_up(c, &format!("{}@alpha.test", unique("ann")), &unique("Alpha ")).await?;
            c.find(Locator::Css("#no-projects")).await?;
            fill(c, "#create-project input[name=name]", &project).await?;
            fill(c, "#create-project input[name=repo_url]", "https://github.com/acme/addons.git").await?;
            c.find(Locator::Css("#create-project button[type=submit]")).await?.click().await?;
            let table = c.wait().at_most(WAIT).for_element(Locator::Css("#projects")).await?;
            let text = table.text().await?;
            assert!(text.contains(&project), "the new project is listed: {text}");

            // Its page lists the production branch.
            c.find(Locator::LinkText(&project)).await?.click().await?;
            let envs = c.wait().at_most(WAIT).for_element(Locator::Css("#environments")).await?;
            assert!(envs.text().await?.contains("production"));

            c.find(Locator::Css("header form button[type=submit]")).await?.click().await?;
            wait_path(c, "/sign-in").await?;

            // Someone from another organisation signs up in the same browser.
            sign_up(c, &format!("{}@beta.test", unique("bob")), &unique("Beta ")).await?;
            c.find(Locator::Css("#no-projects")).await?;
            let body = c.find(Locator::Css("body")).await?.text().await?;
            assert!(!body.contains(&project), "another tenant's project is invisible");
            Ok(())
        })
    })
    .await;
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
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
fn standin_repository(branch: &str, standin: &str) -> Result<(PathBuf, String), Box<dyn std::error::Error>> {
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
async fn create_standin_project(
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

async fn deliver(url: &str, secret: &str, body: serde_json::Value) -> TestResult {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_becomes_a_live_preview_watched_in_the_grid_and_the_log_tail() {
    run("push_to_preview", |c| {
        Box::pin(async move {
            // A repository with one addon; the stand-in starts slowly so the grid can be seen running.
            let (repo, sha) = standin_repository("feature/browser", "slow-start 4\n")?;
            sign_up(c, &format!("{}@builds.test", unique("dev")), &unique("Builders ")).await?;
            let (hook_url, secret) = create_standin_project(c, &repo).await?;

            deliver(
                &hook_url,
                &secret,
                serde_json::json!({"ref": "refs/heads/feature/browser", "after": sha, "deleted": false,
            "head_commit": {"id": sha, "message": "Say hello", "author": {"name": "Ann"}}}),
            )
            .await?;

            // The grid refreshes by itself: it shows the build in progress, then green.
            let mut seen_in_progress = false;
            let deadline = std::time::Instant::now() + Duration::from_secs(240);
            loop {
                if !c.find_all(Locator::Css(".tile-running, .tile-pending")).await?.is_empty() {
                    seen_in_progress = true;
                }
                if !c.find_all(Locator::Css(".tile-ok")).await?.is_empty() {
                    break;
                }
                if !c.find_all(Locator::Css(".tile-ko")).await?.is_empty() {
                    return Err("the build failed".into());
                }
                if std::time::Instant::now() > deadline {
                    return Err("the build never finished".into());
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            assert!(seen_in_progress, "the grid showed the build while it ran");

            // The build page's log tail streams the lines over the WebSocket.
            c.find(Locator::Css(".tile-ok a[href^='/builds/']")).await?.click().await?;
            wait_hydrated(c).await?;
            let deadline = std::time::Instant::now() + WAIT;
            loop {
                let text = c.find(Locator::Id("log-lines")).await?.text().await?;
                if text.contains("Loading module acme_sale") && text.contains("route: done") {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    return Err(format!("the log tail never showed the install: {text}").into());
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let build_path = c.current_url().await?.path().to_owned();
            let digest = c.find(Locator::Id("image-digest")).await?.text().await?;
            assert!(digest.starts_with("sha256:"), "the build page shows the image digest: {digest}");

            // A shell in the build: type, run a full-screen program, resize, close the tab.
            use_the_shell(c, &build_path).await?;

            // Connect (a form POST into a new tab) opens the preview: the stand-in's Odoo login page on <slug>.localhost.
            c.goto(&format!("{}{build_path}", stack().console)).await?;
            wait_hydrated(c).await?;
            let console_tab = c.window().await?;
            c.find(Locator::Id("connect")).await?.click().await?;
            let deadline = std::time::Instant::now() + WAIT;
            let preview_tab = loop {
                if let Some(w) = c.windows().await?.into_iter().find(|w| *w != console_tab) {
                    break w;
                }
                if std::time::Instant::now() > deadline {
                    return Err("Connect did not open a tab".into());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            c.switch_to_window(preview_tab).await?;
            let deadline = std::time::Instant::now() + WAIT;
            while c.title().await? != "Login | Odoo" {
                if std::time::Instant::now() > deadline {
                    return Err(format!("the preview did not open: at {}", c.current_url().await?).into());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let host = c.current_url().await?.host_str().unwrap_or_default().to_owned();
            assert!(host.ends_with(".localhost") && host.starts_with('b'), "preview host {host}");

            // Deleting the branch leaves nothing behind.
            deliver(
                &hook_url,
                &secret,
                serde_json::json!({"ref": "refs/heads/feature/browser", "after": "0".repeat(40), "deleted": true}),
            )
            .await?;
            let build_id = build_path.trim_start_matches("/builds/").to_owned();
            let deadline = std::time::Instant::now() + WAIT;
            loop {
                let out = Command::new("docker")
                    .args(["ps", "-aq", "--filter", &format!("label=odooops.build={build_id}")])
                    .output()?;
                if out.stdout.is_empty() {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    return Err("the deleted branch's containers are still there".into());
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(())
        })
    })
    .await;
}

/// Waits until the terminal's rendered text satisfies `ok`.
async fn terminal_shows(
    c: &Client,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<String, Box<dyn std::error::Error>> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = c.find(Locator::Id("terminal")).await?.text().await?;
        if ok(&text) {
            return Ok(text);
        }
        if std::time::Instant::now() > deadline {
            let status = c.find(Locator::Id("term-status")).await?.text().await.unwrap_or_default();
            return Err(format!("the terminal never showed {what} ({status}):\n{text}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_keys(c: &Client, keys: &str) -> TestResult {
    c.find(Locator::Id("terminal")).await?.send_keys(keys).await?;
    Ok(())
}

/// The web shell from the browser: `echo hello` renders `hello`, `top` renders
/// its screen, a window resize reaches the pty, and leaving the page closes the
/// session, whose transcript is then listed on the build page.
async fn use_the_shell(c: &Client, build_path: &str) -> TestResult {
    let enter = char::from(fantoccini::key::Key::Enter);
    // Shell opens a new tab, as on the grid.
    c.goto(&format!("{}{build_path}", stack().console)).await?;
    wait_hydrated(c).await?;
    let console_tab = c.window().await?;
    c.find(Locator::Id("open-shell")).await?.click().await?;
    let deadline = std::time::Instant::now() + WAIT;
    let shell_tab = loop {
        if let Some(w) = c.windows().await?.into_iter().find(|w| *w != console_tab) {
            break w;
        }
        if std::time::Instant::now() > deadline {
            return Err("Shell did not open a tab".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    c.switch_to_window(shell_tab).await?;
    wait_hydrated(c).await?;
    let frame = c.wait().at_most(WAIT).for_element(Locator::Id("terminal-frame")).await?;
    assert_eq!(frame.attr("data-stage").await?.as_deref(), Some("development"));
    let deadline = std::time::Instant::now() + WAIT;
    while c.find(Locator::Id("term-status")).await?.text().await? != "connected" {
        if std::time::Instant::now() > deadline {
            return Err("the terminal never connected".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.find(Locator::Id("terminal")).await?.click().await?;
    type_keys(c, &format!("echo hel\"\"lo{enter}")).await?;
    terminal_shows(c, "hello", |t| t.lines().any(|l| l.trim() == "hello")).await?;

    type_keys(c, &format!("top{enter}")).await?;
    terminal_shows(c, "top's screen", |t| t.contains("PID") && t.contains("Mem:")).await?;
    type_keys(c, "q").await?;

    type_keys(c, &format!("clear; stty size{enter}")).await?;
    let before = terminal_shows(c, "the size", |t| t.lines().any(|l| is_size(l.trim()))).await?;
    c.set_window_size(900, 600).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    type_keys(c, &format!("clear; stty size{enter}")).await?;
    let size = |t: &str| t.lines().map(str::trim).find(|l| is_size(l)).map(str::to_owned);
    let first = size(&before);
    terminal_shows(c, "a new size after the resize", |t| size(t).is_some() && size(t) != first).await?;
    c.set_window_size(1280, 900).await?;

    // Closing the tab closes the socket, and with it the session.
    c.close_window().await?;
    c.switch_to_window(console_tab).await?;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        c.refresh().await?;
        wait_hydrated(c).await?;
        if let Ok(table) = c.find(Locator::Id("shell-sessions")).await {
            if table.text().await?.contains("closed") {
                return Ok(());
            }
        }
        if std::time::Instant::now() > deadline {
            return Err("the closed session never appeared on the build page".into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `stty size` prints `<rows> <cols>`.
fn is_size(line: &str) -> bool {
    let parts: Vec<&str> = line.split(' ').collect();
    parts.len() == 2 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// A development build's mail shows up in its Mails tab while the viewer is
/// open (no reload), and opens in the sandboxed HTML view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_development_build_s_mail_arrives_live_in_the_viewer() {
    run("mail_viewer", |c| {
        Box::pin(async move {
            let (repo, sha) = standin_repository("feature/mail", "slow-start 6\nsend-mail 1\n")?;
            sign_up(c, &format!("{}@mail.test", unique("dev")), &unique("Mailers ")).await?;
            let (hook_url, secret) = create_standin_project(c, &repo).await?;
            deliver(
                &hook_url,
                &secret,
                serde_json::json!({"ref": "refs/heads/feature/mail", "after": sha, "deleted": false}),
            )
            .await?;
            c.refresh().await?;
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("a.mails-link")).await?.click().await?;
            wait_hydrated(c).await?;
            let list = c.wait().at_most(WAIT).for_element(Locator::Id("mail-list")).await?.text().await?;
            assert!(list.contains("No mail yet"), "the viewer opened before the build sent mail: {list}");
            let item = c
                .wait()
                .at_most(Duration::from_secs(240))
                .for_element(Locator::XPath("//li[contains(@class,'mail-item')][contains(., 'Stand-in mail 1')]"))
                .await?;
            item.click().await?;
            let subject = c.wait().at_most(WAIT).for_element(Locator::Id("mail-subject")).await?.text().await?;
            assert_eq!(subject, "Stand-in mail 1");
            let frame = c.wait().at_most(WAIT).for_element(Locator::Id("mail-html")).await?;
            let doc = frame.attr("srcdoc").await?.unwrap_or_default();
            assert!(doc.contains("<p>Sent by the OdooOps stand-in.</p>"), "{doc}");
            assert!(doc.contains("default-src 'none'"), "the HTML view loads nothing remote: {doc}");
            assert_eq!(frame.attr("sandbox").await?.as_deref(), Some(""), "no scripts in the HTML view");
            c.find(Locator::Id("tab-text")).await?.click().await?;
            let text = c.wait().at_most(WAIT).for_element(Locator::Id("mail-text")).await?.text().await?;
            assert!(text.contains("Sent by the OdooOps stand-in."), "{text}");
            let eml = c.find(Locator::Id("download-eml")).await?.attr("href").await?.unwrap_or_default();
            assert!(eml.ends_with("/raw"), "{eml}");
            Ok(())
        })
    })
    .await;
}

/// Waits until `css` matches at least `n` elements, failing early on `fail`.
async fn wait_count(c: &Client, css: &str, n: usize, fail: &str, within: Duration) -> TestResult {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sysadmin_backs_up_production_and_restores_it_into_staging_in_a_few_clicks() {
    run("backup_restore", |c| {
        Box::pin(async move {
            let (repo, staging_sha) = standin_repository("release/1.0", "")?;
            let main_sha = git(&repo, &["rev-parse", "main"]);
            sign_up(c, &format!("{}@backups.test", unique("ops")), &unique("Keepers ")).await?;
            let (hook_url, secret) = create_standin_project(c, &repo).await?;
            for (branch, sha) in [("main", &main_sha), ("release/1.0", &staging_sha)] {
                deliver(
                    &hook_url,
                    &secret,
                    serde_json::json!({"ref": format!("refs/heads/{branch}"), "after": sha, "deleted": false}),
                )
                .await?;
            }
            c.refresh().await?;
            wait_hydrated(c).await?;
            wait_count(c, ".tile-ok", 2, ".tile-ko", Duration::from_secs(240)).await?;

            // Production's Backups tab: back up now, watch it finish.
            c.find(Locator::XPath("//tr[.//span[contains(., 'production')]]//a[contains(@class,'backups-link')]"))
                .await?
                .click()
                .await?;
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("backup-now")).await?.click().await?;
            wait_count(c, "tr.backup-done", 1, "tr.backup-failed", Duration::from_secs(180)).await?;
            let row = c.find(Locator::Css("tr.backup-done")).await?.text().await?;
            assert!(row.contains("manual"), "{row}");
            let download = c.find(Locator::Css("tr.backup-done a[href$='/download']")).await?;
            assert!(download.attr("href").await?.unwrap_or_default().starts_with("/api/v1/backups/"));

            // Restore into staging: pick the target, no danger box, go.
            c.find(Locator::Css("tr.backup-done .restore-open")).await?.click().await?;
            let target = c.wait().at_most(WAIT).for_element(Locator::Id("restore-target")).await?;
            target.find(Locator::XPath("./option[contains(., '(staging)')]")).await?.click().await?;
            assert!(c.find_all(Locator::Id("restore-confirm")).await?.is_empty(), "staging needs no confirmation");
            c.find(Locator::Id("restore-submit")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("#restore-started a")).await?.click().await?;
            wait_hydrated(c).await?;
            let deadline = std::time::Instant::now() + Duration::from_secs(240);
            loop {
                let text = c.find(Locator::Id("log-lines")).await?.text().await?;
                if text.contains("finished: ok") {
                    assert!(text.contains("checksum verified"), "{text}");
                    assert!(text.contains("neutralize"), "{text}");
                    break;
                }
                if text.contains("finished: ko") || std::time::Instant::now() > deadline {
                    return Err(format!("the restore did not finish ok: {text}").into());
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Ok(())
        })
    })
    .await;
}

/// The session cookie of a signed-in browser, for REST calls on its behalf.
async fn session_cookie(c: &Client) -> Result<String, Box<dyn std::error::Error>> {
    let cookie = c.get_named_cookie("odooops_session").await?;
    Ok(format!("odooops_session={}", cookie.value()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tester_requests_a_promotion_and_an_admin_approves_it_in_another_session() {
    run("promotion", |admin| {
        Box::pin(async move {
            let (repo, staging_sha) = standin_repository("release/2.0", "")?;
            let main_sha = git(&repo, &["rev-parse", "main"]);
            let tester_email = format!("{}@release.test", unique("tess"));
            sign_up(admin, &format!("{}@release.test", unique("ann")), &unique("Releasers ")).await?;
            let (hook_url, secret) = create_standin_project(admin, &repo).await?;
            let project_path = admin.current_url().await?.path().to_owned();
            for (branch, sha) in [("main", &main_sha), ("release/2.0", &staging_sha)] {
                deliver(&hook_url, &secret, serde_json::json!({"ref": format!("refs/heads/{branch}"), "after": sha, "deleted": false}))
                    .await?;
            }

            // The tester, in a second browser: signed up, then made a member of the project by the admin.
            let tester = browser().await;
            let outcome: TestResult = async {
                sign_up(&tester, &tester_email, &unique("Own ")).await?;
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
                // Invited into the tenant, the tester accepts; then the admin gives them the project role.
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
                let invite = serde_json::json!({"email": tester_email, "role": "member"});
                post(format!("tenants/{tenant}/members"), cookie.clone(), invite).await?;
                let tester_cookie = session_cookie(&tester).await?;
                let pending: serde_json::Value = http
                    .get(format!("{}/api/v1/me/invitations", stack().console))
                    .header("Cookie", &tester_cookie)
                    .send()
                    .await?
                    .json()
                    .await?;
                let invitation = pending[0]["id"].as_str().unwrap_or_default().to_owned();
                post(format!("invitations/{invitation}/accept"), tester_cookie, serde_json::json!({})).await?;
                let role = serde_json::json!({"email": tester_email, "role": "tester"});
                post(format!("projects/{project_id}/members"), cookie.clone(), role).await?;
                admin.refresh().await?;
                wait_hydrated(admin).await?;
                wait_count(admin, ".tile-ok", 2, ".tile-ko", Duration::from_secs(240)).await?;

                // The tester asks for the staging build's promotion.
                tester.goto(&format!("{}{project_path}", stack().console)).await?;
                wait_hydrated(&tester).await?;
                tester
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::XPath("//tr[.//code[text()='release/2.0']]//div[contains(@class,'tile-ok')]//a[starts-with(@href,'/builds/')]"))
                    .await?
                    .click()
                    .await?;
                wait_hydrated(&tester).await?;
                let staging_digest = tester.wait().at_most(WAIT).for_element(Locator::Id("image-digest")).await?.text().await?;
                tester.find(Locator::Id("request-promotion")).await?.click().await?;
                tester.wait().at_most(WAIT).for_element(Locator::Id("promotion-requested")).await?;
                tester.goto(&format!("{}{project_path}", stack().console)).await?;
                wait_hydrated(&tester).await?;
                tester.wait().at_most(WAIT).for_element(Locator::Css("tr.promotion-requested")).await?;
                assert!(
                    tester.find_all(Locator::Css(".approve-promotion")).await?.is_empty(),
                    "the requester is not offered Approve"
                );

                // The admin approves in their own session; the promotion deploys the same image.
                admin.refresh().await?;
                wait_hydrated(admin).await?;
                admin.wait().at_most(WAIT).for_element(Locator::Css(".approve-promotion")).await?.click().await?;
                wait_count(admin, "tr.promotion-deployed", 1, "tr.promotion-rolled_back, tr.promotion-failed", Duration::from_secs(240)).await?;
                admin.find(Locator::Css("tr.promotion-deployed a[href^='/builds/']:not([href$='/'])")).await?;
                let deployment = admin
                    .find(Locator::XPath("//tr[contains(@class,'promotion-deployed')]//a[text()='deployment']"))
                    .await?;
                deployment.click().await?;
                wait_hydrated(admin).await?;
                let digest = admin.wait().at_most(WAIT).for_element(Locator::Id("image-digest")).await?.text().await?;
                assert_eq!(digest, staging_digest, "production runs the image staging tested");
                let status = admin.find(Locator::Id("build-status")).await?.text().await?;
                assert!(status.contains("ok") || status.to_lowercase().contains("success"), "deployment status: {status}");
                Ok(())
            }
            .await;
            let _ = tester.close().await;
            outcome
        })
    })
    .await;
}
