//! Stable addresses and projects' custom domains (issue 18).
//!
//! Production keeps `shop.localhost` across two production builds and a
//! rollback, each time answered by the newest healthy build's container; a
//! branch gets `<branch>-shop.localhost`, private unless the project's
//! previews are public; production can be kept private. Attacks: another
//! tenant's project named the same gets another name and never this one's
//! traffic; an instance cannot take a stable address's name; a hostile branch
//! name becomes a plain DNS label; a project's custom domain routes only once
//! verified, and only its admins add or verify it.

use crate::helpers::{add_project_member, spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::instances::odoo_client;
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use domain::instances::reach::Cidr;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn port_of(app: &TestApp) -> u16 {
    app.addr.rsplit(':').next().unwrap().parse().unwrap()
}

/// The address of an environment of the project, from the project's page data.
async fn address(api: &Api<'_>, project: &str, branch: &str) -> Option<String> {
    let (_, detail) = api.get(&format!("/api/v1/projects/{project}")).await;
    detail["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["branch"] == branch)
        .and_then(|e| e["address"].as_str().map(str::to_owned))
}

/// The container (Docker's short id, the stand-in's host name) of a build.
async fn container_of(app: &TestApp, build: &Value) -> String {
    let id: Option<String> = sqlx::query_scalar("SELECT container_id FROM ops.builds WHERE id = $1::uuid")
        .bind(build["id"].as_str().unwrap())
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    id.expect("a live build has a container")[..12].to_owned()
}

/// Which container answered `host`'s login page (`None`: not Odoo's page), and the status.
async fn answered_by(app: &TestApp, host: &str) -> (u16, Option<String>) {
    let (client, base) = odoo_client(app, host);
    let r = client.get(format!("{base}/web/login")).send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let host = text.split("<span id=\"host\">").nth(1).and_then(|t| t.split('<').next()).map(str::to_owned);
    (status, host)
}

async fn wait_build(api: &Api<'_>, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, b) = api.get(&format!("/api/v1/builds/{id}")).await;
        if b["state"] == "done" {
            return b;
        }
        assert!(Instant::now() < deadline, "the build did not finish: {b}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_keeps_its_address_across_builds_and_a_rollback_and_branches_get_theirs() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Shop", &repo).await;
    let port = port_of(&app);

    // The first production build: `shop.localhost`, public by default, served by that build.
    let v1 = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &v1).await;
    let first = finished(&api, &project, &v1).await;
    assert_eq!(first["result"], "ok", "{first}");
    assert_eq!(
        address(&api, &project, "main").await.as_deref(),
        Some(format!("http://shop.localhost:{port}").as_str())
    );
    assert_eq!(answered_by(&app, "shop.localhost").await, (200, Some(container_of(&app, &first).await)));

    // The second: the same address, now the new build's container (the old one retired).
    let v2 = commit_file(&repo, "main", "CHANGES.md", "v2\n", "Second release");
    push(&app, &api, &project, "main", &v2).await;
    let second = finished(&api, &project, &v2).await;
    assert_eq!(second["result"], "ok", "{second}");
    assert_eq!(answered_by(&app, "shop.localhost").await, (200, Some(container_of(&app, &second).await)));

    // A rollback to the first build's image: the address follows it.
    let (status, queued) =
        api.post(&format!("/api/v1/projects/{project}/rollback"), json!({"build_id": first["id"]})).await;
    assert_eq!(status, 202, "{queued}");
    let rolled = wait_build(&api, queued["build_id"].as_str().unwrap()).await;
    assert_eq!(rolled["result"], "ok", "{rolled}");
    assert_eq!(answered_by(&app, "shop.localhost").await, (200, Some(container_of(&app, &rolled).await)));

    // A branch (with a name no DNS label allows): its own stable address, private unless previews are public.
    let feature = commit_file(&repo, "Feature/Add_Invoice.v2", "CHANGES.md", "f\n", "Feature");
    push(&app, &api, &project, "Feature/Add_Invoice.v2", &feature).await;
    let dev = finished(&api, &project, &feature).await;
    assert_eq!((dev["stage"].as_str(), dev["result"].as_str()), (Some("development"), Some("ok")), "{dev}");
    let host = "feature-add-invoice-v2-shop.localhost";
    assert_eq!(
        address(&api, &project, "Feature/Add_Invoice.v2").await.as_deref(),
        Some(format!("http://{host}:{port}").as_str())
    );
    assert_eq!(answered_by(&app, host).await, (401, None), "private without a share link");
    let settings = format!("/api/v1/projects/{project}/settings");
    let (status, s) = api.call(reqwest::Method::PATCH, &settings, Some(json!({"public_previews": true}))).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(answered_by(&app, host).await, (200, Some(container_of(&app, &dev).await)));
    // Production can be kept private: then it needs a share link too.
    let (status, s) = api.call(reqwest::Method::PATCH, &settings, Some(json!({"private_production": true}))).await;
    assert_eq!((status, s["private_production"].as_bool()), (200, Some(true)), "{s}");
    assert_eq!(answered_by(&app, "shop.localhost").await.0, 401);
    let (status, _) = api.call(reqwest::Method::PATCH, &settings, Some(json!({"private_production": false}))).await;
    assert_eq!(status, 200);

    // Another tenant's project of the same name gets another name, and never this one's traffic.
    let bob = app.signed_up("bob@bobco.test", "Bobco").await;
    let bob_api = app.api(&bob.token().await);
    let theirs_repo = repository();
    let theirs = standin_project(&bob_api, "Shop", &theirs_repo).await;
    let head = git(&theirs_repo, &["rev-parse", "HEAD"]);
    push(&app, &bob_api, &theirs, "main", &head).await;
    let their_build = finished(&bob_api, &theirs, &head).await;
    assert_eq!(their_build["result"], "ok", "{their_build}");
    assert_eq!(
        address(&bob_api, &theirs, "main").await.as_deref(),
        Some(format!("http://shop-bobco.localhost:{port}").as_str())
    );
    assert_eq!(answered_by(&app, "shop.localhost").await.1, Some(container_of(&app, &rolled).await));
    assert_eq!(answered_by(&app, "shop-bobco.localhost").await.1, Some(container_of(&app, &their_build).await));
    assert_eq!(bob_api.get(&format!("/api/v1/projects/{project}")).await.0, 404, "nor sees it");
    // No tenant instance can take a name a stable address holds.
    let (status, free) = bob.rpc("instances/available", &[("subdomain", "shop-bobco")]).await;
    assert_eq!((status, free), (200, json!(false)));
    let (status, free) = bob.rpc("instances/available", &[("subdomain", "shop-nobody")]).await;
    assert_eq!((status, free), (200, json!(true)));
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projects_custom_domain_routes_to_production_once_verified_by_its_admins() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Erp", &repo).await;
    let head = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &head).await;
    let prod = finished(&api, &project, &head).await;
    assert_eq!(prod["result"], "ok", "{prod}");
    let dave = add_project_member(&app, &api, &project, "dave@acme.test", "developer").await;
    let dave = app.api(&dave.token().await);
    let eve = app.signed_up("eve@evil.test", "Evil").await;
    let eve = app.api(&eve.token().await);
    let infra = app.platform.builds.as_ref().unwrap();
    infra.custom_domains.checks.pin("erp.acme.test", ([127, 0, 0, 1], port_of(&app)).into());
    infra.custom_domains.checks.allow(Cidr::parse("127.0.0.1/32").unwrap());
    let domains = format!("/api/v1/projects/{project}/domains");

    // Only the project's admins claim; others neither claim nor see.
    assert_eq!(dave.post(&domains, json!({"hostname": "erp.acme.test"})).await.0, 403);
    assert_eq!(eve.post(&domains, json!({"hostname": "erp.acme.test"})).await.0, 404);
    assert_eq!(eve.get(&domains).await.0, 404);
    assert_eq!(api.post(&domains, json!({"hostname": "other.localhost"})).await.0, 422, "the platform's own names");
    let (status, claim) = api.post(&domains, json!({"hostname": "erp.acme.test"})).await;
    assert_eq!(status, 201, "{claim}");
    assert_eq!(claim["dns_target"], "erp.localhost", "a CNAME to production's stable address");
    assert_eq!(claim["project_id"].as_str(), Some(project.as_str()));
    assert_eq!(answered_by(&app, "erp.acme.test").await.0, 404, "no route before verification");
    let verify = format!("{domains}/{}/verify", claim["id"].as_str().unwrap());
    assert_eq!(dave.post(&verify, json!({})).await.0, 403);
    assert_eq!(eve.post(&verify, json!({})).await.0, 404);

    let (status, verified) = api.post(&verify, json!({})).await;
    assert_eq!((status, verified["state"].as_str()), (200, Some("verified")), "{verified}");
    assert_eq!(answered_by(&app, "erp.acme.test").await, (200, Some(container_of(&app, &prod).await)));
    let (_, listed) = dave.get(&domains).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "members see the project's domains");

    let remove = format!("{domains}/{}", claim["id"].as_str().unwrap());
    assert_eq!(dave.call(reqwest::Method::DELETE, &remove, None).await.0, 403);
    assert_eq!(api.call(reqwest::Method::DELETE, &remove, None).await.0, 204);
    let (client, base) = odoo_client(&app, "erp.acme.test");
    assert_eq!(client.get(format!("{base}/web/login")).send().await.unwrap().status(), 421, "nobody's name now");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action LIKE 'project.domain_%'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    assert_eq!(audited, 3, "the claim, its verification and its removal");
    tear_down_builds(&app).await;
}
