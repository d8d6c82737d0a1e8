//! A tester's promotion request approved by an admin in another session.

use crate::support::{
    add_member, browser, create_standin_project, deliver, git, run, sign_up, stack, standin_repository, unique,
    wait_count, wait_hydrated, TestResult, WAIT,
};
use fantoccini::Locator;
use std::time::Duration;

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
                add_member(admin, &tester, &tester_email, &hook_url, "tester").await?;
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
                let from = admin.find(Locator::Id("promoted-from")).await?.text().await?;
                assert!(from.starts_with("staging build #"), "production names the staging build it runs: {from}");

                // Rolling back with a restore of production's data asks for the branch's name first (issue 20).
                admin.goto(&format!("{}{project_path}", stack().console)).await?;
                wait_hydrated(admin).await?;
                let tiles = "//tr[.//code[text()='main']]//div[starts-with(@id,'tile-')]//a[starts-with(@href,'/builds/')]";
                let mut first = String::new();
                for _ in 0..40 {
                    if let Some(last) = admin.find_all(Locator::XPath(tiles)).await?.last() {
                        if let Ok(Some(href)) = last.attr("href").await {
                            first = href;
                            break;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                admin.goto(&format!("{}{first}", stack().console)).await?;
                wait_hydrated(admin).await?;
                let restore = admin
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::Css("#rollback-database option:nth-child(2)"))
                    .await?;
                restore.click().await?;
                admin.find(Locator::Id("roll-back")).await?.click().await?;
                let said = admin.wait().at_most(WAIT).for_element(Locator::Id("confirm-text")).await?.text().await?;
                assert!(said.contains("lost"), "{said}");
                let ok = admin.find(Locator::Id("confirm-ok")).await?;
                assert!(ok.attr("disabled").await?.is_some(), "enabled before the name is typed");
                admin.find(Locator::Id("confirm-typed")).await?.send_keys("main").await?;
                ok.click().await?;
                admin.wait().at_most(WAIT).for_element(Locator::XPath("//p[contains(., 'Rollback queued')]")).await?;
                Ok(())
            }
            .await;
            let _ = tester.close().await;
            outcome
        })
    })
    .await;
}
