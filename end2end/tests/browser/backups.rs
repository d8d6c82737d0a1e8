//! Backing production up and restoring it into staging from the Backups tab.

use crate::support::{
    create_standin_project, deliver, git, run, sign_up, standin_repository, unique, wait_count, wait_hydrated, WAIT,
};
use fantoccini::Locator;
use std::time::Duration;

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

            // Restore into staging: nothing chosen at first, pick the target, no danger box, go.
            c.find(Locator::Css("tr.backup-done .restore-open")).await?.click().await?;
            let target = c.wait().at_most(WAIT).for_element(Locator::Id("restore-target")).await?;
            assert_eq!(target.prop("value").await?.unwrap_or_default(), "", "nothing is chosen for the person");
            assert!(!c.find(Locator::Id("restore-submit")).await?.is_enabled().await?, "Restore waits for a choice");
            target.find(Locator::XPath("./option[contains(., '(staging)')]")).await?.click().await?;
            assert!(c.find_all(Locator::Id("restore-confirm")).await?.is_empty(), "staging needs no confirmation");
            c.find(Locator::Id("restore-submit")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("#restore-started a")).await?.click().await?;
            wait_hydrated(c).await?;
            // A client-side navigation: the build page may still be loading its build.
            c.wait().at_most(WAIT).for_element(Locator::Id("log-lines")).await?;
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
