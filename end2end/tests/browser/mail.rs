//! A development build's mail arriving live in the console's mail viewer.

use crate::support::{create_standin_project, deliver, run, sign_up, standin_repository, unique, wait_hydrated, WAIT};
use fantoccini::Locator;
use std::time::Duration;

/// A development build's mail shows up in its Mails tab while the viewer is
/// open (no reload), and opens in the sandboxed HTML view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_development_build_s_mail_arrives_live_in_the_viewer() {
    run("mail_viewer", |c| {
        Box::pin(async move {
            let (repo, sha) = standin_repository("feature/mail", "slow-start 6\nsend-mail 1\n")?;
            sign_up(c, &format!("{}@mail.test", unique("dev")), &unique("Mailers ")).await?;
            let (hook_url, secret) = create_standin_project(c, &repo).await?;
            deliver(
                &hook_url,
                &secret,
                serde_json::json!({"ref": "refs/heads/feature/mail", "after": sha, "deleted": false}),
            )
            .await?;
            c.refresh().await?;
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("a.mails-link")).await?.click().await?;
            wait_hydrated(c).await?;
            let list = c.wait().at_most(WAIT).for_element(Locator::Id("mail-list")).await?.text().await?;
            assert!(list.contains("No mail yet"), "the viewer opened before the build sent mail: {list}");
            let item = c
                .wait()
                .at_most(Duration::from_secs(240))
                .for_element(Locator::XPath("//li[contains(@class,'mail-item')][contains(., 'Stand-in mail 1')]"))
                .await?;
            item.click().await?;
            let subject = c.wait().at_most(WAIT).for_element(Locator::Id("mail-subject")).await?.text().await?;
            assert_eq!(subject, "Stand-in mail 1");
            let frame = c.wait().at_most(WAIT).for_element(Locator::Id("mail-html")).await?;
            let doc = frame.attr("srcdoc").await?.unwrap_or_default();
            assert!(doc.contains("<p>Sent by the OdooOps stand-in.</p>"), "{doc}");
            assert!(doc.contains("default-src 'none'"), "the HTML view loads nothing remote: {doc}");
            assert_eq!(frame.attr("sandbox").await?.as_deref(), Some(""), "no scripts in the HTML view");
            c.find(Locator::Id("tab-text")).await?.click().await?;
            let text = c.wait().at_most(WAIT).for_element(Locator::Id("mail-text")).await?.text().await?;
            assert!(text.contains("Sent by the OdooOps stand-in."), "{text}");
            let eml = c.find(Locator::Id("download-eml")).await?.attr("href").await?.unwrap_or_default();
            assert!(eml.ends_with("/raw"), "{eml}");
            Ok(())
        })
    })
    .await;
}
