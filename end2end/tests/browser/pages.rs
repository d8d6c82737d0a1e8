//! Every page of the console, at a desktop and a phone width: each renders
//! (a heading, no error), nothing overflows the phone's width, and each is
//! screenshotted under `target/e2e-screenshots/pages/` for review. Pages with
//! lists show their table or their empty state.

use crate::catalog::sign_in_as_owner;
use crate::support::{run, stack, wait_hydrated, WAIT};
use fantoccini::{Client, Locator};

/// Pages anyone may open, signed in or not.
const PUBLIC: &[(&str, &str)] =
    &[("sign-in", "/sign-in"), ("sign-up", "/sign-up"), ("reset-password", "/reset-password")];

/// Pages behind sign-in, and what shows their content (a table, an empty state, a form).
const SIGNED_IN: &[(&str, &str, &str)] = &[
    ("dashboard", "/", "h1"),
    ("projects", "/projects", "h1"),
    ("tenants", "/tenants", "#tenants, #tenants-empty"),
    ("tenant-wizard", "/tenants/new", "#wizard-begin"),
    ("tenant", "/tenants/platform", "#tenant-overview"),
    ("tenant-logs", "/tenants/platform?tab=logs", "#tenant-logs, #logs-empty"),
    ("tenant-modules", "/tenants/platform?tab=modules", "#tenant-modules, #modules-empty"),
    ("tenant-infra", "/tenants/platform?tab=infra", "#tenant-infra, #infra-empty"),
    ("tenant-backups", "/tenants/platform?tab=backups", "#tenant-backups, #backups-empty"),
    ("instances", "/instances", "h1"),
    ("catalog", "/catalog", "h1"),
    ("bundles", "/bundles", "#bundles, #bundles-empty"),
    ("operations", "/operations", "#operations-timeline, #operations-empty"),
    ("integrations-sso", "/integrations/sso", "#sso-configs, #sso-empty"),
    ("integrations-automation", "/integrations/automation", "#webhooks, #webhooks-empty"),
    ("integrations-analytics", "/integrations/analytics", "#analytics, #analytics-empty"),
    ("recommendations", "/ai-console", "#findings, #findings-empty"),
    ("support", "/support", "#runbooks, #runbooks-empty"),
    ("portal", "/portal", ".portal-tenant, #portal-empty"),
    ("billing", "/billing", "#subscriptions, #billing-empty"),
    ("plans", "/plans", "#plans-table, #plans-empty"),
    ("size-profiles", "/size-profiles", "#size-profiles"),
    ("audit", "/audit", "h1"),
    ("console-mail", "/console-mail", "h1"),
    ("settings", "/settings", "h1"),
    ("platform-settings", "/settings/platform", "#platform-roles"),
];

const WIDTHS: &[(&str, u32, u32)] = &[("desktop", 1280, 900), ("phone", 390, 844)];

async fn shoot(c: &Client, name: &str, path: &str, content: &str) -> Result<(), Box<dyn std::error::Error>> {
    let dir = crate::support::workspace().join("target/e2e-screenshots/pages");
    std::fs::create_dir_all(&dir)?;
    for (label, w, h) in WIDTHS {
        c.set_window_size(*w, *h).await?;
        c.goto(&format!("{}{path}", stack().console)).await?;
        wait_hydrated(c).await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("h1"))
            .await
            .map_err(|e| format!("{name} ({label}) has no heading: {e}"))?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(content))
            .await
            .map_err(|e| format!("{name} ({label}) shows none of {content}: {e}"))?;
        // Loading states are over once the content shows; then nothing may overflow sideways.
        let overflow = c
            .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![])
            .await?
            .as_i64()
            .unwrap_or(0);
        std::fs::write(dir.join(format!("{name}-{label}.png")), c.screenshot().await?)?;
        // A view that leaked its own source (a `>` the template macro took for a tag's end).
        let text = c.execute("return document.body.innerText", vec![]).await?;
        if let Some(leak) =
            ["move |", "on:click", "=>"].iter().find(|s| text.as_str().unwrap_or_default().contains(**s))
        {
            return Err(format!("{name} ({label}) shows template source `{leak}`").into());
        }
        if overflow > 1 {
            return Err(format!("{name} overflows the {label} width by {overflow}px").into());
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_at_desktop_and_phone_widths() {
    run("every_page", |c| {
        Box::pin(async move {
            for (name, path) in PUBLIC {
                shoot(c, name, path, "form").await?;
            }
            c.set_window_size(1280, 900).await?;
            sign_in_as_owner(c).await?;
            for (name, path, content) in SIGNED_IN {
                shoot(c, name, path, content).await?;
            }
            Ok(())
        })
    })
    .await;
}
