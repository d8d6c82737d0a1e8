//! The environment page with its charts (issue 18): production of a real
//! stand-in, sampled by the console's monitor, drawn as SVG and redrawn live;
//! the page is kept as a screenshot (`target/e2e-screenshots/environment-monitoring.png`).

use crate::support::{
    create_standin_project, deliver, run, sign_up, stack, standin_repository, unique, wait_hydrated, workspace,
};
use fantoccini::Locator;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_page_draws_its_charts_from_the_monitors_samples() {
    run("environment_monitoring", |c| {
        Box::pin(async move {
            let (repo, _) = standin_repository("feature/unused", "")?;
            let main = crate::support::git(&repo, &["rev-parse", "main"]);
            sign_up(c, &format!("{}@monitor.test", unique("ops")), &unique("Watchers ")).await?;
            let (hook_url, secret) = create_standin_project(c, &repo).await?;
            deliver(
                &hook_url,
                &secret,
                serde_json::json!({"ref": "refs/heads/main", "after": main, "deleted": false,
                    "head_commit": {"id": main, "message": "First release", "author": {"name": "Ann"}}}),
            )
            .await?;
            let deadline = Instant::now() + Duration::from_secs(240);
            while c.find_all(Locator::Css(".tile-ok")).await?.is_empty() {
                if !c.find_all(Locator::Css(".tile-ko")).await?.is_empty() {
                    return Err("the production build failed".into());
                }
                if Instant::now() > deadline {
                    return Err("the production build never finished".into());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            // The stable address is in the grid, and "Monitor" opens the environment's page.
            c.goto(c.current_url().await?.as_ref()).await?;
            wait_hydrated(c).await?;
            let address = c.find(Locator::Css(".address-link")).await?.text().await?;
            assert!(address.contains(".localhost"), "production's stable address: {address}");
            let href = c.find(Locator::Css(".monitor-link")).await?.attr("href").await?.ok_or("no monitor link")?;
            c.goto(&format!("{}{href}?range=1h", stack().console)).await?;
            wait_hydrated(c).await?;
            // The monitor samples every 30 s; the page redraws at each pass over its WebSocket.
            let deadline = Instant::now() + Duration::from_secs(150);
            loop {
                let lines = c.find_all(Locator::Css("#charts svg[data-metric='latency_ms'] path.chart-line")).await?;
                let state = c.find(Locator::Id("health-state")).await?.text().await?;
                if !lines.is_empty() && state == "Up" {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!("no chart line after the monitor's passes (state: {state})").into());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let live = c.find(Locator::Id("live-status")).await?.text().await?;
            assert_eq!(live, "live", "the charts follow the monitor over a WebSocket");
            let charts = c.find_all(Locator::Css("#charts figure svg")).await?.len();
            assert!(charts >= 6, "uptime, response time, requests, errors, CPU, memory, database: {charts}");
            let uptime = c.find(Locator::Id("uptime-24h")).await?.text().await?;
            assert!(uptime.ends_with('%'), "uptime over 24 h: {uptime}");
            let dir = workspace().join("target/e2e-screenshots");
            std::fs::create_dir_all(&dir)?;
            let png = c.screenshot().await?;
            assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
            std::fs::write(dir.join("environment-monitoring.png"), png)?;
            Ok(())
        })
    })
    .await;
}
