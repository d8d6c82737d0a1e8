//! Custom domains and Odoo's bus with workers (issue 14).
//!
//! A tenant admin claims `erp.bobco.test` for their instance; the router
//! serves the claim's token under `/.well-known/odooops-domain/`, the console
//! fetches it through (pinned) DNS, and only then does the name reach Odoo.
//! Attacks: another tenant cannot see, verify or remove the claim, nor take
//! a verified name; the platform's own names are refused; verification never
//! fetches from link-local, private or loopback addresses, and follows no
//! redirect. An instance whose plan has workers serves its bus from Odoo's
//! gevent port, and the router and Traefik's labels send `/websocket` there.

use crate::helpers::{spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::instances::{
    active_instance, confirmed, ended, odoo_client, operate, serving_build, sign_in, ADMIN_PASSWORD,
};
use domain::builds::queue::SYSTEM_USER;
use domain::instances::reach::Cidr;
use serde_json::{json, Value};
use std::net::SocketAddr;

fn port_of(app: &TestApp) -> u16 {
    app.addr.rsplit(':').next().unwrap().parse().unwrap()
}

async fn claim(api: &Api<'_>, instance: &str, hostname: &str) -> (u16, Value) {
    api.post(&format!("/api/v1/instances/{instance}/domains"), json!({ "hostname": hostname })).await
}

async fn verify(api: &Api<'_>, instance: &str, claim: &Value) -> (u16, Value) {
    api.post(&format!("/api/v1/instances/{instance}/domains/{}/verify", claim["id"].as_str().unwrap()), json!({})).await
}

fn inspect(container: &str, format: &str) -> String {
    let out = std::process::Command::new("docker").args(["inspect", "-f", format, container]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A one-shot HTTP server on loopback that answers every request with a redirect to the metadata service.
async fn redirector() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_domain_routes_to_its_instance_only_once_verified_and_cannot_be_taken_or_abused() {
    let app = spawn_app_with_builds().await;
    let _owner = app.signed_up("ann@platform.test", "Platform").await;
    let bob = confirmed(&app, "bob@bobco.test", "Bobco").await;
    let carol = confirmed(&app, "carol@carolco.test", "Carolco").await;
    let ours = active_instance(&bob, "bobco", "bob@bobco.test").await;
    let theirs = active_instance(&carol, "carolco", "carol@carolco.test").await;
    let (id, their_id) = (ours["id"].as_str().unwrap().to_owned(), theirs["id"].as_str().unwrap().to_owned());
    let infra = app.platform.builds.as_ref().unwrap();
    // Public DNS would send the customer's name to this platform: here it is pinned to the console.
    let console: SocketAddr = ([127, 0, 0, 1], port_of(&app)).into();
    infra.custom_domains.checks.pin("erp.bobco.test", console);
    let (odoo, base) = odoo_client(&app, "erp.bobco.test");
    assert_eq!(odoo.get(format!("{base}/web/login")).send().await.unwrap().status(), 421, "an unclaimed name");

    // The platform's own names, and anything but a host name, are refused.
    for bad in ["carolco.localhost", "new.localhost", "erp.bobco.test:80", "https://erp.bobco.test", "10.0.0.1", "x"] {
        let (status, body) = claim(&bob, &id, bad).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }

    // A claim: pending, with its token served by the router under its challenge path, and nothing else.
    let (status, ours_claim) = claim(&bob, &id, "erp.bobco.test").await;
    assert_eq!(status, 201, "{ours_claim}");
    assert_eq!(
        (ours_claim["state"].as_str(), ours_claim["dns_target"].as_str()),
        (Some("pending"), Some("bobco.localhost"))
    );
    let token = ours_claim["token"].as_str().unwrap();
    let r = odoo.get(format!("{base}/.well-known/odooops-domain/{token}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), token);
    let r = odoo.get(format!("{base}/.well-known/odooops-domain/guess")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = odoo.get(format!("{base}/web/login")).send().await.unwrap();
    assert_eq!(r.status(), 404, "no route before verification");
    assert!(r.text().await.unwrap().contains("not verified"));
    assert_eq!(claim(&bob, &id, "erp.bobco.test").await.0, 409, "once per instance");

    // Another tenant neither sees nor touches the claim.
    assert_eq!(carol.get(&format!("/api/v1/instances/{id}/domains")).await.0, 404);
    assert_eq!(verify(&carol, &id, &ours_claim).await.0, 404);
    let path = format!("/api/v1/instances/{id}/domains/{}", ours_claim["id"].as_str().unwrap());
    assert_eq!(carol.call(reqwest::Method::DELETE, &path, None).await.0, 404);
    // It may claim the same name for its own instance while nobody has verified it…
    let (status, their_claim) = claim(&carol, &their_id, "erp.bobco.test").await;
    assert_eq!(status, 201, "{their_claim}");

    // Verification never fetches from inside: link-local (metadata), private or loopback addresses are refused
    // before any connection, and an unknown name does not resolve. (Bob's name, pinned to the console on
    // loopback, would be refused too: loopback is allowed below, for this test only.)
    infra.custom_domains.checks.pin("meta.carolco.test", ([169, 254, 169, 254], 80).into());
    infra.custom_domains.checks.pin("intranet.carolco.test", ([10, 1, 2, 3], 80).into());
    infra.custom_domains.checks.pin("console.carolco.test", ([127, 0, 0, 1], port_of(&app)).into());
    for (name, why) in [
        ("meta.carolco.test", "link-local"),
        ("intranet.carolco.test", "private network"),
        ("console.carolco.test", "loopback"),
        ("unregistered.carolco.test", "does not resolve"),
    ] {
        let (status, c) = claim(&carol, &their_id, name).await;
        assert_eq!(status, 201, "{c}");
        let (status, refused) = verify(&carol, &their_id, &c).await;
        assert_eq!(status, 422, "{name}: {refused}");
        assert!(refused["message"].as_str().unwrap().contains(why), "{name}: {refused}");
        // Each check is a fetch from the outside: the same claim again at once is throttled.
        assert_eq!(verify(&carol, &their_id, &c).await.0, 429, "{name}");
    }
    infra.custom_domains.checks.allow(Cidr::parse("127.0.0.1/32").unwrap());

    // …but the first verification wins: Bob's, fetched through DNS from the router.
    let (status, verified) = verify(&bob, &id, &ours_claim).await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["state"], "verified");
    let (status, lost) = verify(&carol, &their_id, &their_claim).await;
    assert_eq!(status, 409, "{lost}");
    assert_eq!(claim(&carol, &their_id, "erp.bobco.test").await.0, 409, "a verified name is taken");

    // The name now reaches Bob's Odoo, which signs him in.
    assert_eq!(sign_in(&odoo, &base, "bob@bobco.test", ADMIN_PASSWORD).await.status(), 303);

    // A redirect (to the metadata service) is not followed.
    let redirect = redirector().await;
    infra.custom_domains.checks.pin("moved.carolco.test", redirect);
    let (_, c) = claim(&carol, &their_id, "moved.carolco.test").await;
    let (status, refused) = verify(&carol, &their_id, &c).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("redirects are not followed"), "{refused}");
    let (_, listed) = carol.get(&format!("/api/v1/instances/{their_id}/domains")).await;
    assert!(
        listed.as_array().unwrap().iter().all(|d| d["state"] == "pending" && d["last_error"].is_string()),
        "failures are kept with their reason: {listed}"
    );

    // The next deployment carries the name in Traefik's rule too.
    let (status, op) = operate(&bob, &id, json!({"kind": "redeploy"})).await;
    assert_eq!(status, 202, "{op}");
    assert_eq!(ended(&bob, &id, op["id"].as_str().unwrap()).await["state"], "done");
    let (container, _) = serving_build::<(String, Option<String>)>(&app, &id, "b.container_id, b.bus_target").await;
    let labels = inspect(&container, "{{json .Config.Labels}}");
    assert!(labels.contains("Host(`bobco.localhost`)") && labels.contains("Host(`erp.bobco.test`)"), "{labels}");

    // Removed: the console stops answering the name at once.
    assert_eq!(bob.call(reqwest::Method::DELETE, &path, None).await.0, 204);
    let r = odoo.get(format!("{base}/web/login")).send().await.unwrap();
    assert_eq!(r.status(), 404, "Carol's claim still waits: the name reaches no Odoo");
    let theirs_path = format!("/api/v1/instances/{their_id}/domains/{}", their_claim["id"].as_str().unwrap());
    assert_eq!(carol.call(reqwest::Method::DELETE, &theirs_path, None).await.0, 204);
    assert_eq!(odoo.get(format!("{base}/web/login")).send().await.unwrap().status(), 421, "nobody's name");
    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action LIKE 'instance.domain_%'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    // Claims: Bob 1 + Carol 6; verifications: Bob 1 + Carol 6 (the lost one too); two removals.
    assert_eq!(audited, 16, "every claim, verification and removal is audited");
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_with_workers_serves_its_bus_from_odoos_gevent_port_through_the_router() {
    let app = spawn_app_with_builds().await;
    let _owner = app.signed_up("ann@platform.test", "Platform").await;
    let dan = confirmed(&app, "dan@danco.test", "Danco").await;
    let (status, created) = dan
        .post(
            "/api/v1/instances",
            json!({"name": "Danco", "subdomain": "danco", "plan": "standard",
                   "admin_login": "dan@danco.test", "admin_password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, ops) = dan.get(&format!("/api/v1/instances/{id}/operations")).await;
    assert_eq!(ended(&dan, &id, ops[0]["id"].as_str().unwrap()).await["state"], "done");

    // The plan's two workers are Odoo's, and its bus has its own port, which the router and Traefik know.
    let (container, bus) = serving_build::<(String, Option<String>)>(&app, &id, "b.container_id, b.bus_target").await;
    assert!(inspect(&container, "{{json .Args}}").contains("--workers=2"));
    assert!(bus.as_deref().is_some_and(|b| b.ends_with(":8072")), "{bus:?}");
    let labels = inspect(&container, "{{json .Config.Labels}}");
    assert!(labels.contains("Path(`/websocket`)") && labels.contains("8072"), "{labels}");
    let (odoo, base) = odoo_client(&app, "danco.localhost");
    assert_eq!(sign_in(&odoo, &base, "dan@danco.test", ADMIN_PASSWORD).await.status(), 303);

    // The bus answers through the router (Odoo's HTTP port would refuse it with workers).
    let port = port_of(&app);
    let req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://danco.localhost:{port}/websocket"
    ))
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(req, tcp).await.expect("the bus upgrade passes through");
    use futures_util::{SinkExt, StreamExt};
    ws.send(tokio_tungstenite::tungstenite::Message::Text("hello bus".into())).await.unwrap();
    let echo = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next()).await.expect("an answer");
    match echo {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => assert_eq!(t.as_str(), "echo: hello bus"),
        other => panic!("the bus answered {other:?}"),
    }
    let _ = ws.close(None).await;
    tear_down_builds(&app).await;
}
