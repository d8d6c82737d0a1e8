//! A team's first week (issue 20): a build page that turns green by itself, a
//! kill that asks first, a colleague invited, joining and removed, caught mail
//! in a legacy Japanese charset, and the everyday pages at a phone's width.

use crate::support::{
    browser, create_standin_project, deliver, git, run, sign_up, stack, standin_repository, unique, wait_hydrated,
    workspace, TestResult, WAIT,
};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// Waits until `f` holds, polling (no fixed sleeps stand for an outcome).
pub(crate) async fn until<F, Fut>(what: &str, within: Duration, mut f: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, Box<dyn std::error::Error>>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        if f().await? {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("never: {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The text of the element `css` finds, or "" when there is none or it went stale between finding
/// and reading (lists re-render on their refresh): callers poll with [`until`].
pub(crate) async fn text_of(c: &Client, css: &str) -> Result<String, Box<dyn std::error::Error>> {
    Ok(match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    })
}

/// An attribute of the element `loc` finds, found afresh on each try: the grid re-renders every few
/// seconds, so an element found a moment ago may be gone.
async fn attr_of(c: &Client, loc: Locator<'_>, attr: &str) -> Result<String, Box<dyn std::error::Error>> {
    for _ in 0..40 {
        if let Ok(e) = c.find(loc).await {
            if let Ok(v) = e.attr(attr).await {
                return Ok(v.unwrap_or_default());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!("never found {loc:?}").into())
}

/// Clicks the element `loc` finds, found afresh on each try (see [`attr_of`]).
pub(crate) async fn click_fresh(c: &Client, loc: Locator<'_>, within: Duration) -> TestResult {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Ok(e) = c.find(loc).await {
            if e.click().await.is_ok() {
                return Ok(());
            }
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("could not click {loc:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Pushes `branch` of `repo` (adding it when new) and announces it.
async fn push(repo: &std::path::Path, branch: &str, standin: &str, hook: &str, secret: &str) -> TestResult {
    git(repo, &["checkout", "-q", "-B", branch, "main"]);
    std::fs::write(repo.join(".standin"), standin)?;
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", &format!("Work on {branch}")]);
    let sha = git(repo, &["rev-parse", "HEAD"]);
    deliver(hook, secret, serde_json::json!({"ref": format!("refs/heads/{branch}"), "after": sha, "deleted": false}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_build_page_turns_green_by_itself_and_a_kill_asks_first() {
    run("build_page_live", |c| {
        Box::pin(async move {
            let (repo, _) = standin_repository("feature/live", "slow-start 8\n")?;
            sign_up(c, &format!("{}@live.test", unique("dev")), &unique("Live ")).await?;
            let (hook, secret) = create_standin_project(c, &repo).await?;
            let project_page = c.current_url().await?;
            push(&repo, "feature/live", "slow-start 8\n", &hook, &secret).await?;
            push(&repo, "feature/slow", "slow-start 300\n", &hook, &secret).await?;

            // The grid has its sections, and the live build's tile says what triggered it.
            c.wait().at_most(WAIT).for_element(Locator::Id("section-development")).await?;

            // A kill asks first and says what will happen; Cancel leaves the build alone.
            let slow_kill = "//tr[.//code[text()='feature/slow']]//button[contains(@class,'kill')]";
            click_fresh(c, Locator::XPath(slow_kill), Duration::from_secs(120)).await?;
            let dialog = c.wait().at_most(WAIT).for_element(Locator::Id("confirm-dialog")).await?;
            let said = dialog.text().await?;
            assert!(
                said.contains("Kill build #") && said.contains("feature/slow") && said.contains("killed"),
                "{said}"
            );
            c.find(Locator::Id("confirm-cancel")).await?.click().await?;
            until("the dialog closes", WAIT, || async {
                Ok(c.find_all(Locator::Id("confirm-dialog")).await?.is_empty())
            })
            .await?;
            let slow_tile = "//tr[.//code[text()='feature/slow']]//div[contains(@class,'tile-')]";
            let class = attr_of(c, Locator::XPath(slow_tile), "class").await?;
            assert!(class.contains("tile-running") || class.contains("tile-pending"), "cancelled, yet: {class}");

            // The live build's page, opened while it runs, turns green without a reload.
            let live_logs = "//tr[.//code[text()='feature/live']]//a[starts-with(@href,'/builds/')]";
            click_fresh(c, Locator::XPath(live_logs), WAIT).await?;
            wait_hydrated(c).await?;
            let status = c.wait().at_most(WAIT).for_element(Locator::Id("build-status")).await?.text().await?;
            assert!(status == "running" || status == "pending", "opened too late to see it run: {status}");
            let crumbs = text_of(c, "#crumbs").await?;
            assert!(crumbs.contains("feature/live"), "the page names its branch: {crumbs}");
            c.execute("window.__not_reloaded = true;", vec![]).await?;
            until("the header says ok", Duration::from_secs(240), || async {
                Ok(text_of(c, "#build-status").await? == "ok")
            })
            .await?;
            let kept = c.execute("return window.__not_reloaded === true;", vec![]).await?;
            assert_eq!(kept, serde_json::json!(true), "the page was reloaded");
            c.wait().at_most(WAIT).for_element(Locator::Id("connect")).await?;
            until("the log says finished", WAIT, || async { Ok(text_of(c, "#log-status").await? == "finished") })
                .await?;
            assert!(c.find_all(Locator::Id("kill-build")).await?.is_empty(), "a finished build offers Kill");
            assert!(c.find_all(Locator::Css(".phase-failed")).await?.is_empty(), "a green build with a red phase");

            // Back in the grid, the kill confirmed ends the slow build.
            c.goto(project_page.as_str()).await?;
            wait_hydrated(c).await?;
            click_fresh(c, Locator::XPath(slow_kill), WAIT).await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("confirm-ok")).await?.click().await?;
            until("the slow build is killed", Duration::from_secs(120), || async {
                let class = attr_of(c, Locator::XPath(slow_tile), "class").await.unwrap_or_default();
                Ok(class.contains("tile-killed"))
            })
            .await?;

            // At a phone's width the same pages fit, and every link of the navigation is on screen.
            let build = attr_of(c, Locator::XPath(live_logs), "href").await?;
            let mails_link = "//tr[.//code[text()='feature/live']]//a[contains(@class,'mails-link')]";
            let mails = attr_of(c, Locator::XPath(mails_link), "href").await?;
            let cookie = c.get_named_cookie("odooops_session").await?;
            phone_pages(
                cookie,
                &[
                    ("grid", project_page.path()),
                    ("build", &build),
                    ("mails", &mails),
                    ("audit", "/audit"),
                    ("settings", "/settings"),
                ],
            )
            .await
        })
    })
    .await;
}

/// Opens each page in a phone-sized browser (390 × 844, as an iPhone): nothing wider than the
/// screen, the whole navigation reachable; a screenshot of each under `target/e2e-screenshots/`.
async fn phone_pages(cookie: fantoccini::cookies::Cookie<'static>, pages: &[(&str, &str)]) -> TestResult {
    let phone = crate::support::phone_browser().await;
    let result = async {
        phone.goto(&stack().console).await?;
        phone.add_cookie(cookie).await?;
        let dir = workspace().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir)?;
        for (name, path) in pages {
            phone.goto(&format!("{}{path}", stack().console)).await?;
            wait_hydrated(&phone).await?;
            tokio::time::sleep(Duration::from_millis(500)).await; // fonts and late resources settle for the picture
            std::fs::write(dir.join(format!("phone-{name}.png")), phone.screenshot().await?)?;
            let width = phone.execute("return document.documentElement.scrollWidth;", vec![]).await?;
            assert!(width.as_f64().unwrap_or(9999.0) <= 391.0, "{name} ({path}) is {width} px wide on a 390 px phone");
            let off = phone
                .execute(
                    "return [...document.querySelectorAll('.topbar nav a')].filter(a => { const r = a.getBoundingClientRect(); \
                     return r.width === 0 || r.left < 0 || r.right > window.innerWidth; }).map(a => a.textContent);",
                    vec![],
                )
                .await?;
            assert_eq!(off, serde_json::json!([]), "navigation links off screen on {name}");
        }
        TestResult::Ok(())
    }
    .await;
    let _ = phone.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colleague_is_invited_joins_the_project_and_is_removed() {
    run("invite_colleague", |c| {
        Box::pin(async move {
            let (repo, _) = standin_repository("feature/x", "")?;
            sign_up(c, &format!("{}@team.test", unique("owner")), &unique("Team ")).await?;
            create_standin_project(c, &repo).await?;
            let project_url = c.current_url().await?;
            let project_name = c.find(Locator::Css(".page-head h1")).await?.text().await?;

            // No webhook yet: "Build now" builds production's head from the repository.
            click_fresh(c, Locator::Css("button.build-now[aria-label='Build main now']"), WAIT).await?;
            let said = c.wait().at_most(WAIT).for_element(Locator::Id("build-now-result")).await?.text().await?;
            assert!(said.contains("queued"), "{said}");
            until("production has a build", Duration::from_secs(120), || async {
                Ok(!c
                    .find_all(Locator::XPath("//tr[.//code[text()='main']]//div[starts-with(@id,'tile-')]"))
                    .await?
                    .is_empty())
            })
            .await?;
            let bob_email = format!("{}@team.test", unique("bob"));

            // Invite by email with a role: a confirmation, the form emptied, the invitation listed.
            c.wait().at_most(WAIT).for_element(Locator::Id("invite-email")).await?.send_keys(&bob_email).await?;
            c.find(Locator::Css("#invite-role option[value=tester]")).await?.click().await?;
            c.find(Locator::Id("invite-send")).await?.click().await?;
            let said = c.wait().at_most(WAIT).for_element(Locator::Id("invite-result")).await?.text().await?;
            assert!(said.contains(&format!("Invitation sent to {bob_email}")), "{said}");
            let typed = c.find(Locator::Id("invite-email")).await?.prop("value").await?.unwrap_or_default();
            assert_eq!(typed, "", "the form keeps the address after sending");
            until("the invitation is listed", WAIT, || async {
                Ok(text_of(c, "#invitations").await?.contains(&bob_email))
            })
            .await?;

            // Bob signs up with that address and accepts on the Tenants page; the project opens for him.
            let bob = browser().await;
            let joined = async {
                sign_up(&bob, &bob_email, "").await?;
                bob.goto(&format!("{}/tenants", stack().console)).await?;
                wait_hydrated(&bob).await?;
                let invitation = bob
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::XPath(&format!(
                        "//li[contains(@class,'invitation')][contains(., '{project_name}')]"
                    )))
                    .await?;
                assert!(invitation.text().await?.contains("Tester"), "{}", invitation.text().await?);
                invitation.find(Locator::Css("button.primary")).await?.click().await?;
                until("the invitation is answered", WAIT, || async {
                    Ok(bob.find_all(Locator::Css("li.invitation")).await?.is_empty())
                })
                .await?;
                bob.goto(project_url.as_str()).await?;
                wait_hydrated(&bob).await?;
                let h1 = bob.wait().at_most(WAIT).for_element(Locator::Css(".page-head h1")).await?.text().await?;
                assert_eq!(h1, project_name);
                TestResult::Ok(())
            }
            .await;
            if let Err(e) = joined {
                let _ = bob.close().await;
                return Err(e);
            }

            // The owner sees Bob as a tester and removes him after a confirmation that says what it does.
            c.refresh().await?;
            wait_hydrated(c).await?;
            let row = format!("//table[@id='members']//tr[@data-email='{bob_email}']");
            c.wait().at_most(WAIT).for_element(Locator::XPath(&row)).await?;
            c.find(Locator::XPath(&format!("{row}//button[contains(@class,'remove-member')]"))).await?.click().await?;
            let said = c.wait().at_most(WAIT).for_element(Locator::Id("confirm-text")).await?.text().await?;
            assert!(said.contains("loses access") && said.contains(&bob_email), "{said}");
            c.find(Locator::Id("confirm-ok")).await?.click().await?;
            until("Bob's row is gone", WAIT, || async { Ok(c.find_all(Locator::XPath(&row)).await?.is_empty()) })
                .await?;

            // For Bob the project is gone at once.
            bob.refresh().await?;
            let gone = bob.wait().at_most(WAIT).for_element(Locator::Css("h1")).await?.text().await?;
            let _ = bob.close().await;
            assert_eq!(gone, "Page not found");
            Ok(())
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caught_mail_in_iso_2022_jp_reads_as_japanese_and_the_viewer_searches_and_deletes() {
    run("mail_japanese", |c| {
        Box::pin(async move {
            // テスト, encoded in ISO-2022-JP as a Japanese mail client writes it.
            let standin = "send-mail 2\nmail-subject =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\n";
            let (repo, sha) = standin_repository("feature/jp", standin)?;
            sign_up(c, &format!("{}@jp.test", unique("dev")), &unique("Tokyo ")).await?;
            let (hook, secret) = create_standin_project(c, &repo).await?;
            deliver(
                &hook,
                &secret,
                serde_json::json!({"ref": "refs/heads/feature/jp", "after": sha, "deleted": false}),
            )
            .await?;
            click_fresh(c, Locator::Css("a.mails-link"), Duration::from_secs(120)).await?;
            wait_hydrated(c).await?;
            until("two mails arrived", Duration::from_secs(240), || async {
                Ok(c.find_all(Locator::Css("li.mail-item")).await?.len() == 2)
            })
            .await?;
            let title = c.title().await?;
            assert!(title.contains("feature/jp"), "the tab names the branch: {title}");

            // Opened from the keyboard: the subject reads as Japanese. (The list re-reads itself every
            // few seconds, so each step finds its element afresh.)
            until("the list shows the subject in Japanese", WAIT, || async {
                Ok(text_of(c, "li.mail-item .mail-subject").await? == "テスト")
            })
            .await?;
            until("Enter opens the message", WAIT, || async {
                if let Ok(item) = c.find(Locator::Css("li.mail-item")).await {
                    let _ = item.send_keys("\u{e007}").await; // Enter; a stale item is tried again
                }
                Ok(!c.find_all(Locator::Id("mail-subject")).await?.is_empty())
            })
            .await?;
            until("the open message's subject reads テスト", WAIT, || async {
                Ok(text_of(c, "#mail-subject").await? == "テスト")
            })
            .await?;

            // Search as you type; no match is not an empty inbox.
            let search = c.find(Locator::Id("mail-search")).await?;
            search.send_keys("zzz-nothing").await?;
            until("no match", WAIT, || async { Ok(text_of(c, "#mail-list").await?.starts_with("No mail matches")) })
                .await?;
            search.clear().await?;
            search.send_keys("テスト").await?;
            until("both match", WAIT, || async { Ok(c.find_all(Locator::Css("li.mail-item")).await?.len() == 2) })
                .await?;

            // One message deleted on its own, then all of them after a confirmation.
            until("a message is open", WAIT, || async {
                if let Ok(item) = c.find(Locator::Css("li.mail-item")).await {
                    let _ = item.click().await;
                }
                Ok(!c.find_all(Locator::Id("delete-mail")).await?.is_empty())
            })
            .await?;
            until("Delete is clicked", WAIT, || async {
                Ok(match c.find(Locator::Id("delete-mail")).await {
                    Ok(b) => b.click().await.is_ok(),
                    Err(_) => false,
                })
            })
            .await?;
            until("one mail left", WAIT, || async { Ok(c.find_all(Locator::Css("li.mail-item")).await?.len() == 1) })
                .await?;
            c.find(Locator::Id("delete-all-mails")).await?.click().await?;
            let said = c.wait().at_most(WAIT).for_element(Locator::Id("confirm-text")).await?.text().await?;
            assert!(said.contains("deleted for good"), "{said}");
            c.find(Locator::Id("confirm-ok")).await?.click().await?;
            search.clear().await?;
            search.send_keys(" ").await?;
            until("the inbox is empty", WAIT, || async { Ok(text_of(c, "#mail-list").await? == "No mail yet.") })
                .await?;
            Ok(())
        })
    })
    .await;
}
