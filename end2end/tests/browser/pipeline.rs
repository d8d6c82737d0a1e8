//! A push to a live preview: the build grid, the log tail, the web shell, Connect, and branch deletion.

use crate::support::{
    create_standin_project, deliver, run, sign_up, stack, standin_repository, unique, wait_hydrated, TestResult, WAIT,
};
use fantoccini::{Client, Locator};
use std::process::Command;
use std::time::Duration;

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
            // A client-side navigation: the build page may still be loading its build.
            c.wait().at_most(WAIT).for_element(Locator::Id("log-lines")).await?;
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

            // Connect (a form POST into a new tab) opens the preview on <slug>.localhost, signed in as its admin.
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
            while c.find_all(Locator::Css("#user")).await?.is_empty() {
                if std::time::Instant::now() > deadline {
                    return Err(format!("the preview did not open: at {}", c.current_url().await?).into());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let host = c.current_url().await?.host_str().unwrap_or_default().to_owned();
            assert!(host.ends_with(".localhost") && host.starts_with('b'), "preview host {host}");
            assert_eq!(c.find(Locator::Css("#user")).await?.text().await?, "admin", "signed in as the build's admin");

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
