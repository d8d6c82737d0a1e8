//! The module catalog in the browser: a platform owner adds an OCA-layout
//! repository (real OCA manifests from the fixtures), finds a module in the
//! catalog, writes a bundle whose closure appears as they type (a dependency
//! added and marked), saves it, and applies it to a running instance, whose
//! operation backs up and installs the modules.

use crate::support::{fill, git, run, stack, unique, wait_hydrated, workspace, WAIT};
use fantoccini::{Client, Locator};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// A repository with a `17.0` branch holding a few real OCA modules of partner-contact.
fn oca_repository() -> std::path::PathBuf {
    let fixtures = workspace().join("domain/tests/fixtures/oca/partner-contact/17.0");
    let repo = workspace().join(format!("target/e2e-repos/oca-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&repo).unwrap();
    for module in ["partner_contact_birthdate", "partner_contact_personal_information_page", "partner_firstname"] {
        std::fs::create_dir_all(repo.join(module)).unwrap();
        for file in ["__manifest__.py", "__init__.py"] {
            std::fs::copy(fixtures.join(module).join(file), repo.join(module).join(file)).unwrap();
        }
    }
    git(&repo, &["init", "-q", "-b", "17.0"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "partner-contact 17.0"]);
    repo
}

pub(crate) async fn sign_in_as_owner(c: &Client) -> Result<(), Box<dyn std::error::Error>> {
    c.goto(&format!("{}/sign-in", stack().console)).await?;
    wait_hydrated(c).await?;
    fill(c, "input[name=email]", "owner@e2e.test").await?;
    fill(c, "input[name=password]", PASSWORD).await?;
    c.find(Locator::Css("button[type=submit].primary")).await?.click().await?;
    c.wait().at_most(WAIT).for_element(Locator::Css("header.topbar")).await?;
    Ok(())
}

/// Reloads `path` until `xpath` matches (the catalog is read in the background).
async fn reload_until(c: &Client, path: &str, xpath: &str) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        c.goto(&format!("{}{path}", stack().console)).await?;
        wait_hydrated(c).await?;
        if c.wait().at_most(Duration::from_secs(3)).for_element(Locator::XPath(xpath)).await.is_ok() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{path} never showed {xpath}").into());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_adds_a_source_writes_a_bundle_and_applies_it_to_a_running_instance() {
    run("catalog_and_bundles", |c| {
        Box::pin(async move {
            sign_in_as_owner(c).await?;

            // A source, read in the background.
            let repo = oca_repository();
            c.goto(&format!("{}/catalog", stack().console)).await?;
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("add-source")).await?;
            let source = unique("partner-contact-").to_lowercase();
            fill(c, "#add-source input[name=name]", &source).await?;
            fill(c, "#add-source input[name=repo_url]", repo.to_str().unwrap()).await?;
            fill(c, "#add-source input[name=series]", "17.0").await?;
            c.find(Locator::Css("#add-source button[type=submit]")).await?.click().await?;
            // The source is stored before the page is reloaded (a reload would cancel the request in flight).
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::XPath(&format!("//section[@id='catalog-sources']//td[.='{source}']")))
                .await?;
            reload_until(c, "/catalog", "//table[@id='catalog']//a[.='partner_contact_birthdate']").await?;

            // A bundle: its closure as it is typed, the dependency added and marked.
            c.goto(&format!("{}/bundles", stack().console)).await?;
            wait_hydrated(c).await?;
            fill(c, "#bundle-form input[name=name]", &unique("Birthdays ")).await?;
            fill(c, "#bundle-form textarea[name=modules]", "partner_contact_birthdate").await?;
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::XPath(
                    "//div[@id='bundle-closure']//li[code='partner_contact_personal_information_page'][contains(., 'added by dependency')]",
                ))
                .await?;
            c.find(Locator::Id("bundle-save")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Id("bundle-saved")).await?;

            // A running instance of the owner's organisation.
            c.goto(&format!("{}/instances", stack().console)).await?;
            wait_hydrated(c).await?;
            let sub = unique("crm");
            fill(c, "#new-instance input[name=name]", "Birthday CRM").await?;
            fill(c, "#new-instance input[name=subdomain]", &sub).await?;
            fill(c, "#new-instance input[name=admin_login]", "owner@e2e.test").await?;
            fill(c, "#new-instance input[name=admin_password]", "a long odoo password").await?;
            c.find(Locator::Css("#new-instance button[type=submit]")).await?.click().await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("#instance-created a")).await?.click().await?;
            c.wait()
                .at_most(Duration::from_secs(240))
                .for_element(Locator::XPath("//span[@id='instance-state'][.='active']"))
                .await?;

            // The bundle, applied: backed up, then installed; the operation says what it added.
            wait_hydrated(c).await?;
            c.wait().at_most(WAIT).for_element(Locator::Css("#apply-bundle button[type=submit]")).await?.click().await?;
            c.wait()
                .at_most(Duration::from_secs(240))
                .for_element(Locator::XPath(
                    "//table[@id='operations']//tr[td[1]='apply_bundle'][.//span[.='done']][contains(., 'adds partner_contact_birthdate')]",
                ))
                .await?;
            Ok(())
        })
    })
    .await;
}
