//! A stranger starts an Odoo workspace in the browser: signs up on "Start
//! with Odoo", confirms the address through the link the console mailed,
//! asks for a workspace on its own address, watches it being provisioned,
//! and signs in to Odoo there with the password they chose.

use crate::support::{fill, run, stack, unique, wait_hydrated, wait_path, WAIT};
use fantoccini::Locator;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";
const ODOO_PASSWORD: &str = "my own odoo password";

/// The confirmation link mailed to `to`, read from the console mailbox as its platform owner.
async fn confirmation_link(to: &str) -> Result<String, Box<dyn std::error::Error>> {
    let console = &stack().console;
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let rpc = |endpoint: &str, form: Vec<(&str, String)>| {
        http.post(format!("{console}/rpc/{endpoint}")).header("Origin", console.as_str()).form(&form).send()
    };
    let signed = rpc("auth/sign_in", vec![("email", "owner@e2e.test".into()), ("password", PASSWORD.into())]).await?;
    assert!(signed.status().is_success() || signed.status().is_redirection(), "owner sign-in: {}", signed.status());
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let list: serde_json::Value = rpc("console_mail/list", vec![]).await?.json().await?;
        if let Some(m) = list.as_array().into_iter().flatten().find(|m| m["to"] == to) {
            let id = m["id"].as_str().unwrap_or_default().to_owned();
            let mail: serde_json::Value = rpc("console_mail/get", vec![("id", id)]).await?.json().await?;
            let body = mail["body"].as_str().unwrap_or_default();
            let link =
                body.split_whitespace().find(|w| w.contains("/verify-email?token=")).ok_or("no link in the mail")?;
            return Ok(link.to_owned());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("no confirmation mail to {to}: {list}").into());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_signs_up_confirms_by_mail_creates_a_workspace_and_signs_in_to_odoo() {
    run("start_with_odoo", |c| {
        Box::pin(async move {
            let email = format!("{}@stranger.test", unique("s"));
            c.goto(&format!("{}/start", stack().console)).await?;
            wait_hydrated(c).await?;
            fill(c, "#start-account input[name=email]", &email).await?;
            fill(c, "#start-account input[name=organisation]", &unique("Stranger Co ")).await?;
            fill(c, "#start-account input[name=password]", PASSWORD).await?;
            c.find(Locator::Css("#start-account button[type=submit]")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("check-mail")).await?;

            // The link from the mail, opened in the browser; confirming is a button (a GET changes nothing).
            let link = confirmation_link(&email).await?;
            c.goto(&link).await?;
            wait_hydrated(c).await?;
            c.find(Locator::Id("confirm-email")).await?.click().await?;
            wait_path(c, "/start").await?;
            wait_hydrated(c).await?;

            // The workspace: its address is checked as it is typed.
            let sub = unique("shop");
            c.wait().at_most(WAIT).for_element(Locator::Css("#new-instance input[name=name]")).await?;
            fill(c, "#new-instance input[name=name]", "Stranger Shop").await?;
            fill(c, "#new-instance input[name=subdomain]", "www").await?;
            let hint = c.wait().at_most(WAIT).for_element(Locator::Css("#subdomain-hint .error")).await?.text().await?;
            assert!(hint.contains("reserved"), "{hint}");
            c.find(Locator::Css("#new-instance input[name=subdomain]")).await?.clear().await?;
            fill(c, "#new-instance input[name=subdomain]", &sub).await?;
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::XPath("//p[@id='subdomain-hint'][contains(., 'Available')]"))
                .await?;
            fill(c, "#new-instance input[name=admin_password]", ODOO_PASSWORD).await?;
            fill(c, "#new-instance input[name=country]", "BE").await?;
            c.find(Locator::Id("create-workspace")).await?.click().await?;

            // Its page shows provisioning live, then the address.
            c.wait()
                .at_most(Duration::from_secs(240))
                .for_element(Locator::XPath("//span[@id='instance-state'][.='active']"))
                .await?;
            let url = c.find(Locator::Id("instance-url")).await?.text().await?;
            assert!(url.contains(&format!("{sub}.localhost")), "{url}");

            // Odoo's own login at that address, with the password chosen above.
            c.goto(&format!("{url}/web/login")).await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("form.oe_login_form")).await?;
            fill(c, "input[name=login]", &email).await?;
            fill(c, "input[name=password]", ODOO_PASSWORD).await?;
            c.find(Locator::Css("form.oe_login_form button[type=submit]")).await?.click().await?;
            let user = c.wait().at_most(WAIT).for_element(Locator::Id("user")).await?.text().await?;
            assert_eq!(user, email);
            Ok(())
        })
    })
    .await;
}
