//! A branch's page (issue 20), as an Odoo.sh user expects it: its tabs,
//! Connect signing in to the build's Odoo as its admin, Build now, Fork pushing a new
//! branch that builds, and Delete asking for the branch's name before the
//! branch leaves the repository and the grid.

use crate::first_week::{click_fresh, text_of, until};
use crate::support::{
    create_standin_project, deliver, git, run, sign_up, standin_repository, unique, wait_hydrated, TestResult, WAIT,
};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// Clicks `loc`, which opens a new tab, and switches to it; the console's tab.
async fn into_new_tab(
    c: &Client,
    loc: Locator<'_>,
) -> Result<fantoccini::wd::WindowHandle, Box<dyn std::error::Error>> {
    let console_tab = c.window().await?;
    click_fresh(c, loc, WAIT).await?;
    let deadline = std::time::Instant::now() + WAIT;
    let tab = loop {
        if let Some(w) = c.windows().await?.into_iter().find(|w| *w != console_tab) {
            break w;
        }
        if std::time::Instant::now() > deadline {
            return Err("no tab opened".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    c.switch_to_window(tab).await?;
    Ok(console_tab)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_branch_page_connects_as_admin_forks_and_deletes_with_its_name_typed() {
    run("branch_page", |c| {
        Box::pin(async move {
            let (repo, sha) = standin_repository("feature/a", "")?;
            sign_up(c, &format!("{}@branch.test", unique("dev")), &unique("Branchy ")).await?;
            let (hook, secret) = create_standin_project(c, &repo).await?;
            let project_url = c.current_url().await?;
            deliver(&hook, &secret, serde_json::json!({"ref": "refs/heads/feature/a", "after": sha, "deleted": false}))
                .await?;

            // The branch's name in the grid opens its page: named, with its tabs.
            let link = "//tr[.//code[text()='feature/a']]//a[contains(@class,'branch-link')]";
            click_fresh(c, Locator::XPath(link), Duration::from_secs(120)).await?;
            wait_hydrated(c).await?;
            let h1 = c.wait().at_most(WAIT).for_element(Locator::Id("branch-name")).await?.text().await?;
            assert_eq!(h1, "feature/a");
            assert!(c.title().await?.contains("feature/a"));
            for tab in ["history", "logs", "mails", "monitoring", "settings"] {
                c.find(Locator::Id(&format!("tab-{tab}"))).await.map_err(|_| format!("no {tab} tab"))?;
            }
            until("the build is live in the history", Duration::from_secs(240), || async {
                Ok(!c.find_all(Locator::Css("#branch-builds button.connect")).await?.is_empty())
            })
            .await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("tab-shell")).await?;

            // Connect: the build's Odoo, signed in as its admin, in a new tab.
            let console_tab = into_new_tab(c, Locator::Css("#branch-builds button.connect")).await?;
            until("signed in to the build's Odoo", WAIT, || async { Ok(text_of(c, "#user").await? == "admin") })
                .await?;
            let host = c.current_url().await?.host_str().unwrap_or_default().to_owned();
            assert!(host.ends_with(".localhost"), "on the preview's own host: {host}");
            c.close_window().await?;
            c.switch_to_window(console_tab).await?;

            // Times read in the viewer's own zone, with how long ago.
            until("times say how long ago", WAIT, || async {
                let t = text_of(c, "#branch-builds time.when").await?;
                Ok(t.contains("ago") || t.contains("just now"))
            })
            .await?;

            // The build's page offers its database as a dump (a development build).
            click_fresh(c, Locator::Css("#branch-builds a[href^='/builds/']"), WAIT).await?;
            wait_hydrated(c).await?;
            let dump = c.wait().at_most(WAIT).for_element(Locator::Id("download-dump")).await?;
            let href = dump.attr("href").await?.unwrap_or_default();
            assert!(href.starts_with("/api/v1/builds/") && href.ends_with("/dump"), "{href}");
            c.back().await?;
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("build-now")).await?;

            // Build now: the branch's head built again, said on the page and in the history.
            c.find(Locator::Id("build-now")).await?.click().await?;
            let said = c.wait().at_most(WAIT).for_element(Locator::Id("build-now-said")).await?.text().await?;
            assert!(said.contains("queued build"), "{said}");
            until("the history names the build asked for", WAIT, || async {
                Ok(text_of(c, "#branch-events").await?.contains("asked for a build of its head"))
            })
            .await?;

            // Fork: a new branch in the repository, built like a push; the history says so.
            c.find(Locator::Id("fork-name")).await?.send_keys("feature/b").await?;
            c.find(Locator::Id("fork-submit")).await?.click().await?;
            let said = c.wait().at_most(WAIT).for_element(Locator::Id("fork-said")).await?.text().await?;
            assert!(said.contains("queued build"), "{said}");
            assert_eq!(git(&repo, &["rev-parse", "feature/b"]), sha);
            until("the history names the fork", WAIT, || async {
                Ok(text_of(c, "#branch-events").await?.contains("forked it into feature/b"))
            })
            .await?;

            // Delete the fork: the dialog wants its name; then the grid no longer lists it, without a reload.
            c.goto(project_url.as_str()).await?;
            wait_hydrated(c).await?;
            let fork_link = "//tr[.//code[text()='feature/b']]//a[contains(@class,'branch-link')]";
            click_fresh(c, Locator::XPath(fork_link), Duration::from_secs(120)).await?;
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("delete-branch")).await?.click().await?;
            let said = c.wait().at_most(WAIT).for_element(Locator::Id("confirm-text")).await?.text().await?;
            assert!(said.contains("deleted from the repository"), "{said}");
            let ok = c.find(Locator::Id("confirm-ok")).await?;
            assert!(!ok.is_enabled().await?, "Delete runs only once the name is typed");
            c.find(Locator::Id("confirm-typed")).await?.send_keys("feature/b").await?;
            until("Delete enables", WAIT, || async {
                Ok(c.find(Locator::Id("confirm-ok")).await?.is_enabled().await?)
            })
            .await?;
            c.execute("window.__not_reloaded = true;", vec![]).await?;
            c.find(Locator::Id("confirm-ok")).await?.click().await?;
            until("back on the project, without the fork", WAIT, || async {
                Ok(c.current_url().await?.path() == project_url.path()
                    && c.find_all(Locator::XPath("//tr[.//code[text()='feature/a']]")).await?.len() == 1
                    && c.find_all(Locator::XPath("//tr[.//code[text()='feature/b']]")).await?.is_empty())
            })
            .await?;
            let kept = c.execute("return window.__not_reloaded === true;", vec![]).await?;
            assert_eq!(kept, serde_json::json!(true), "the page was reloaded");
            assert!(git(&repo, &["branch", "--list", "feature/b"]).is_empty(), "gone from the repository");
            TestResult::Ok(())
        })
    })
    .await;
}
