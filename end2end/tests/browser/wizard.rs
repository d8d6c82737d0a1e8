//! The tenant wizard in the browser: a platform owner onboards an
//! organisation in six steps and reaches its live instance. On the way: Next
//! stays disabled until a step is valid, a slug the server finds taken moves
//! focus to the slug, back and forward and a reload keep the draft, and
//! Create asks for confirmation in a modal.

use crate::catalog::sign_in_as_owner;
use crate::support::{fill, run, stack, unique, wait_hydrated, WAIT};
use fantoccini::{Client, Locator};
use std::time::Duration;

async fn at_step(c: &Client, step: &str) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let url = c.current_url().await?;
        if url.path() == "/tenants/new" && url.query().is_some_and(|q| q.contains(&format!("step={step}"))) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("never reached the {step} step; at {url}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn next(c: &Client) -> Result<(), Box<dyn std::error::Error>> {
    c.wait().at_most(WAIT).for_element(Locator::Css("#wizard-next:not([disabled])")).await?.click().await?;
    Ok(())
}

async fn active_id(c: &Client) -> Result<String, Box<dyn std::error::Error>> {
    Ok(c.execute("return document.activeElement && document.activeElement.id", vec![])
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_onboards_a_tenant_through_the_wizard_to_a_live_instance() {
    run("tenant_wizard", |c| {
        Box::pin(async move {
            sign_in_as_owner(c).await?;
            c.goto(&format!("{}/tenants", stack().console)).await?;
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("new-tenant")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("wizard-begin")).await?.click().await?;
            at_step(c, "identity").await?;

            // Identity: Next waits for valid fields; the slug follows the name.
            c.wait().at_most(WAIT).for_element(Locator::Id("f-organisation")).await?;
            assert!(c.find(Locator::Css("#wizard-next[disabled]")).await.is_ok(), "Next is disabled on an empty step");
            fill(c, "#f-organisation", "Platform").await?;
            fill(c, "#f-contact_email", "it@wizard.test").await?;
            fill(c, "#f-country", "BE").await?;
            // `platform` is the owner's own tenant: the live check says so, and the server refuses it,
            // moving focus to the slug.
            c.wait().at_most(WAIT).for_element(Locator::Id("slug-taken")).await?;
            next(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("#f-slug[aria-invalid='true']")).await?;
            let deadline = std::time::Instant::now() + WAIT;
            while active_id(c).await? != "f-slug" {
                assert!(std::time::Instant::now() < deadline, "focus moves to the first error");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let suffix = unique("-");
            let end = char::from(fantoccini::key::Key::End);
            fill(c, "#f-slug", &format!("{end}{suffix}")).await?;
            let slug = format!("platform{suffix}");
            c.wait().at_most(WAIT).for_element(Locator::Id("slug-free")).await?;
            next(c).await?;
            at_step(c, "plan").await?;

            // Back and forward, and a reload, keep the draft.
            c.back().await?;
            at_step(c, "identity").await?;
            let kept = c.wait().at_most(WAIT).for_element(Locator::Id("f-slug")).await?.prop("value").await?;
            assert_eq!(kept.as_deref(), Some(slug.as_str()));
            c.forward().await?;
            at_step(c, "plan").await?;
            c.refresh().await?;
            wait_hydrated(c).await?;

            // Plan, Bundle (none), Infra (the recommendation and its reason), SSO (none).
            c.wait().at_most(WAIT).for_element(Locator::Css("#plans input[value=standard]")).await?.click().await?;
            next(c).await?;
            at_step(c, "bundle").await?;
            next(c).await?;
            at_step(c, "infra").await?;
            let reason = c.wait().at_most(WAIT).for_element(Locator::Id("strategy-reason")).await?.text().await?;
            assert!(reason.contains("shared"), "{reason}");
            next(c).await?;
            at_step(c, "sso").await?;
            next(c).await?;
            at_step(c, "review").await?;

            // Review, then Create in a modal that takes focus, and that Esc and Cancel close.
            c.wait().at_most(WAIT).for_element(Locator::XPath(&format!("//dd[.='{slug}']"))).await?;
            c.find(Locator::Id("wizard-create")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("confirm-create")).await?;
            let deadline = std::time::Instant::now() + WAIT;
            while active_id(c).await? != "admin-password" {
                assert!(std::time::Instant::now() < deadline, "the modal takes focus");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let escape = char::from(fantoccini::key::Key::Escape);
            c.find(Locator::Id("admin-password")).await?.send_keys(&escape.to_string()).await?;
            let deadline = std::time::Instant::now() + WAIT;
            while c.find(Locator::Id("confirm-create")).await.is_ok() {
                assert!(std::time::Instant::now() < deadline, "Esc closes the modal");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            c.find(Locator::Id("wizard-create")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("confirm-create-no")).await?.click().await?;
            c.find(Locator::Id("wizard-create")).await?.click().await?;
            fill(c, "#admin-password", "a long odoo password").await?;
            c.find(Locator::Id("confirm-create-yes")).await?.click().await?;

            // The instance's page, its provisioning live, until it serves.
            c.wait()
                .at_most(Duration::from_secs(240))
                .for_element(Locator::XPath("//span[@id='instance-state'][.='active']"))
                .await?;
            assert!(c.current_url().await?.path().starts_with("/instances/"));
            Ok(())
        })
    })
    .await;
}
