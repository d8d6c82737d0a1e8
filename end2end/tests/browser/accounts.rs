//! Signing in and up, creating a project, and tenants not seeing each other's projects.

use crate::support::{fill, run, sign_up, stack, unique, wait_hydrated, wait_path, WAIT};
use fantoccini::Locator;

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
            c.wait().at_most(WAIT).for_element(Locator::Css("#no-projects")).await?;
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
            c.wait().at_most(WAIT).for_element(Locator::Css("#no-projects")).await?;
            let body = c.find(Locator::Css("body")).await?.text().await?;
            assert!(!body.contains(&project), "another tenant's project is invisible");
            Ok(())
        })
    })
    .await;
}
