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
        Stack {
            console: console_url,
            driver: format!("http://127.0.0.1:{driver_port}"),
            _guards: vec![Guard(console), Guard(driver)],
        }
    })
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
