//! Tenant instances for real: a tenant admin asks for an Odoo workspace on
//! its own subdomain; a production build of the stand-in with the bundle's
//! modules provisions it; its admin signs in to Odoo at that subdomain with
//! the password they chose (admin/admin never works); another tenant neither
//! sees nor touches it; pause, resume and decommission go through the state
//! machine, idempotently, and decommissioning leaves nothing behind.

use crate::helpers::{spawn_app_with_builds, Api, TestApp};
use domain::builds::queue::SYSTEM_USER;
use domain::engine::ContainerEngine as _;
use serde_json::{json, Value};
use sqlx::Connection;
use std::time::{Duration, Instant};

/// The instance admin's password: never logged, never sent, never stored.
pub(crate) const ADMIN_PASSWORD: &str = "tall-orange-kettle-42";

/// Waits (a generous deadline, not a timing assertion) for an operation to end.
pub(crate) async fn ended(api: &Api<'_>, instance: &str, operation: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (status, list) = api.get(&format!("/api/v1/instances/{instance}/operations")).await;
        assert_eq!(status, 200, "{list}");
        if let Some(op) = list.as_array().unwrap().iter().find(|o| o["id"] == operation) {
            if op["state"] == "done" || op["state"] == "failed" {
                return op.clone();
            }
        }
        assert!(Instant::now() < deadline, "operation {operation} did not end: {list}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Signs `email` up with an organisation, confirms the address through the
/// mailed link (the self-service path), and returns their REST client.
pub(crate) async fn confirmed<'a>(app: &'a TestApp, email: &str, org: &str) -> Api<'a> {
    let b = app.signed_up(email, org).await;
    let (status, body) = b.rpc("auth/request_verification", &[]).await;
    assert_eq!(status, 200, "{body}");
    let mail = app.mailer.sent().into_iter().rev().find(|m| m.to == email).expect("the confirmation mail");
    let token =
        mail.body.split("verify-email?token=").nth(1).expect("a link").split_whitespace().next().unwrap().to_owned();
    let (status, body) = b.rpc("auth/verify_email", &[("token", &token)]).await;
    assert!(status == 200 || status == 302 || status == 303, "{status} {body}");
    let (_, me) = b.rpc("auth/me", &[]).await;
    assert_eq!(me["email_verified"], true, "{me}");
    app.api(&b.token().await)
}

/// An instance of `api`'s tenant on `subdomain`, provisioned and active.
pub(crate) async fn active_instance(api: &Api<'_>, subdomain: &str, login: &str) -> Value {
    let (status, created) = api
        .post(
            "/api/v1/instances",
            json!({"name": subdomain, "subdomain": subdomain, "admin_login": login, "admin_password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, ops) = api.get(&format!("/api/v1/instances/{id}/operations")).await;
    let op = ended(api, &id, ops[0]["id"].as_str().unwrap()).await;
    assert_eq!(op["state"], "done", "{op}");
    api.get(&format!("/api/v1/instances/{id}")).await.1
}

/// Every database the builds of `project` used.
pub(crate) async fn project_databases(app: &TestApp, project: &str) -> Vec<String> {
    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    let dbs = sqlx::query_scalar(
        "SELECT DISTINCT db_name FROM ops.builds WHERE project_id = $1::uuid AND db_name IS NOT NULL",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    dbs
}

/// Columns (`b.` is the build) of the build serving an instance.
pub(crate) async fn serving_build<T>(app: &crate::helpers::TestApp, instance: &str, columns: &str) -> T
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    let row = sqlx::query_as(&format!(
        "SELECT {columns} FROM ops.builds b JOIN ops.instances i ON i.env_id = b.env_id WHERE i.id = $1::uuid AND b.live"
    ))
    .bind(instance)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    row
}

pub(crate) async fn operate(api: &Api<'_>, instance: &str, body: Value) -> (u16, Value) {
    api.post(&format!("/api/v1/instances/{instance}/operations"), body).await
}

/// An HTTP client that reaches `<subdomain>.localhost` on the app's port.
pub(crate) fn odoo_client(app: &TestApp, host: &str) -> (reqwest::Client, String) {
    let port: u16 = app.addr.rsplit(':').next().unwrap().parse().unwrap();
    let client = reqwest::Client::builder()
        .resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, format!("http://{host}:{port}"))
}

pub(crate) async fn sign_in(client: &reqwest::Client, base: &str, login: &str, password: &str) -> reqwest::Response {
    client.post(format!("{base}/web/login")).form(&[("login", login), ("password", password)]).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_admin_gets_an_odoo_workspace_on_its_subdomain_signs_in_and_closes_it_leaving_nothing() {
    crate::canary::watch(ADMIN_PASSWORD, crate::canary::Never::LoggedOrSent);
    let app = spawn_app_with_builds().await;
    let owner = app.signed_up("ann@platform.test", "Platform").await;
    let staff = app.api(&owner.token().await);
    // An unconfirmed address gets no instance.
    let eve = app.signed_up("eve@unconfirmed.test", "Eve").await;
    let eve = app.api(&eve.token().await);
    let (status, refused) = eve
        .post(
            "/api/v1/instances",
            json!({"name": "E", "subdomain": "eve", "admin_login": "eve@unconfirmed.test",
                                           "admin_password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("confirm your e-mail"), "{refused}");
    let bob = confirmed(&app, "bob@bobco.test", "Bobco").await;
    let carol = confirmed(&app, "carol@carolco.test", "Carolco").await;

    // Bad requests are refused with the reason, and store nothing.
    let good = json!({"name": "Bobco ERP", "subdomain": "bobco", "modules": ["sale", "crm", "sale"],
                      "admin_login": "bob@bobco.test", "admin_password": ADMIN_PASSWORD});
    for (patch, status, why) in [
        (json!({"subdomain": "www"}), 422, "reserved"),
        (json!({"subdomain": "b12-shop"}), 422, "preview"),
        (json!({"admin_password": "admin12345"}), 422, "admin"),
        (json!({"modules": ["Sale; DROP"]}), 422, "module"),
        (json!({"db_strategy": "dedicated"}), 403, "recommendation"),
        (json!({"modules": ["not_a_standin_module"]}), 201, "accepted, refused by its build"),
    ] {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        if status == 201 {
            body["subdomain"] = json!("bobco-bad");
        }
        let (got, answer) = bob.post("/api/v1/instances", body).await;
        assert_eq!(got, status, "{why}: {answer}");
        assert!(!answer.to_string().contains(ADMIN_PASSWORD));
    }

    // The instance: created, provisioned by a build, active.
    let (status, created) = bob.post("/api/v1/instances", good.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["modules"], json!(["crm", "sale"]), "sorted, without duplicates");
    assert_eq!(bob.post("/api/v1/instances", good.clone()).await.0, 409, "the subdomain is taken");
    let (_, ops) = bob.get(&format!("/api/v1/instances/{id}/operations")).await;
    let provision = ops[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(ops[0]["kind"], "provision");
    let op = ended(&bob, &id, &provision).await;
    assert_eq!(op["state"], "done", "{op}");
    let (_, instance) = bob.get(&format!("/api/v1/instances/{id}")).await;
    assert_eq!(instance["state"], "active", "{instance}");
    assert_eq!(
        instance["offered"],
        json!([
            "pause",
            "restart",
            "redeploy",
            "backup",
            "restore",
            "migrate_database",
            "decommission",
            "apply_bundle"
        ])
    );

    // A bundle the image does not have fails its provisioning, with the reason.
    let (_, bad_list) = bob.get("/api/v1/instances?state=error").await;
    let bad = bad_list.as_array().unwrap().iter().find(|i| i["subdomain"] == "bobco-bad").cloned();
    let bad = match bad {
        Some(b) => b,
        None => {
            let (_, all) = bob.get("/api/v1/instances").await;
            let b = all.as_array().unwrap().iter().find(|i| i["subdomain"] == "bobco-bad").unwrap().clone();
            let (_, ops) = bob.get(&format!("/api/v1/instances/{}/operations", b["id"].as_str().unwrap())).await;
            ended(&bob, b["id"].as_str().unwrap(), ops[0]["id"].as_str().unwrap()).await;
            bob.get(&format!("/api/v1/instances/{}", b["id"].as_str().unwrap())).await.1
        }
    };
    assert_eq!(bad["state"], "error", "{bad}");
    assert!(bad["reason"].as_str().unwrap().contains("not_a_standin_module"), "{bad}");
    let (status, again) = operate(&bob, bad["id"].as_str().unwrap(), json!({"kind": "provision"})).await;
    assert_eq!(status, 422, "provisioning again needs the password, which OdooOps did not keep: {again}");

    // Odoo answers at bobco.localhost; admin/admin does not exist, the chosen password does.
    let (odoo, base) = odoo_client(&app, "bobco.localhost");
    let login = odoo.get(format!("{base}/web/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains("Login | Odoo"));
    let refused = sign_in(&odoo, &base, "admin", "admin").await;
    assert_eq!(refused.status(), 200);
    assert!(refused.text().await.unwrap().contains("Wrong login/password"));
    let wrong = sign_in(&odoo, &base, "bob@bobco.test", "admin").await;
    assert!(wrong.text().await.unwrap().contains("Wrong login/password"));
    let signed = sign_in(&odoo, &base, "bob@bobco.test", ADMIN_PASSWORD).await;
    assert_eq!(signed.status(), 303, "the chosen password signs in");
    let home = odoo.get(format!("{base}/odoo")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("bob@bobco.test"), "{home}");
    // Odoo's database manager (its default master password is `admin`) is closed on the instance's host.
    for path in ["/web/database/manager", "/web/database/backup", "/web/database/drop"] {
        let r =
            odoo.post(format!("{base}{path}")).form(&[("master_pwd", "admin"), ("name", "x")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    // Its tenant's admin gets a shell into it (the serving build); another tenant's admin does not see it.
    let serving = instance["serving_build"].as_str().expect("a serving build").to_owned();
    let (status, ticket) = bob.post(&format!("/api/v1/builds/{serving}/shell"), json!({})).await;
    assert!(status == 200 || status == 201, "{status} {ticket}");
    assert_eq!(carol.post(&format!("/api/v1/builds/{serving}/shell"), json!({})).await.0, 404);
    // Platform staff administer it but do not get inside a tenant's container by their office.
    let (status, refused) = staff.post(&format!("/api/v1/builds/{serving}/shell"), json!({})).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("shell"), "{refused}");
    // Odoo's bus WebSocket passes through the router to the instance.
    let port: u16 = app.addr.rsplit(':').next().unwrap().parse().unwrap();
    let req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://bobco.localhost:{port}/websocket"
    ))
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut bus, _) = tokio_tungstenite::client_async(req, tcp).await.expect("the /websocket upgrade passes through");
    use futures_util::{SinkExt, StreamExt};
    bus.send(tokio_tungstenite::tungstenite::Message::Text("hello bus".into())).await.unwrap();
    let echo = tokio::time::timeout(Duration::from_secs(30), bus.next()).await.expect("an answer");
    match echo {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => assert_eq!(t.as_str(), "echo: hello bus"),
        other => panic!("the bus answered {other:?}"),
    }
    let _ = bus.close(None).await;
    // OdooOps kept no password, and no hash once it was written (counted as the database's superuser:
    // the application role cannot read that column at all, not even as a tenant's member).
    let mut su = sqlx::PgConnection::connect_with(&app.db_options).await.unwrap();
    let hashes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.instance_operations WHERE admin_password_hash IS NOT NULL")
            .fetch_one(&mut su)
            .await
            .unwrap();
    assert_eq!(hashes, 0);
    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    let read =
        sqlx::query_scalar::<_, Option<String>>("SELECT admin_password_hash FROM ops.instance_operations LIMIT 1")
            .fetch_optional(&mut *tx)
            .await;
    assert!(read.is_err(), "the hash's column is not readable by the application role");
    drop(tx);
    su.close().await.ok();

    // Another tenant's admin neither sees nor touches it.
    let (status, theirs) = carol.get("/api/v1/instances").await;
    assert_eq!((status, theirs.as_array().unwrap().len()), (200, 0), "{theirs}");
    assert_eq!(carol.get(&format!("/api/v1/instances/{id}")).await.0, 404);
    assert_eq!(operate(&carol, &id, json!({"kind": "pause"})).await.0, 404);

    // Pause, idempotently; a paused workspace answers 503 with Retry-After.
    let (status, pause) = operate(&bob, &id, json!({"kind": "pause", "idempotency_key": "pause-1"})).await;
    assert_eq!(status, 202, "{pause}");
    let (_, again) = operate(&bob, &id, json!({"kind": "pause", "idempotency_key": "pause-1"})).await;
    assert_eq!(again["id"], pause["id"], "the same key answers the same operation");
    assert_eq!(operate(&bob, &id, json!({"kind": "resume"})).await.0, 409, "one operation at a time");
    assert_eq!(ended(&bob, &id, pause["id"].as_str().unwrap()).await["state"], "done");
    let paused = odoo.get(format!("{base}/web/login")).send().await.unwrap();
    assert_eq!(paused.status(), 503);
    assert!(paused.headers().contains_key("retry-after"));
    assert_eq!(operate(&bob, &id, json!({"kind": "pause"})).await.0, 409, "a paused instance cannot pause");
    let (_, resume) = operate(&bob, &id, json!({"kind": "resume"})).await;
    assert_eq!(ended(&bob, &id, resume["id"].as_str().unwrap()).await["state"], "done");
    assert_eq!(odoo.get(format!("{base}/web/login")).send().await.unwrap().status(), 200);
    let again = sign_in(&odoo, &base, "bob@bobco.test", ADMIN_PASSWORD).await;
    assert_eq!(again.status(), 303, "the data survived the pause");

    // Decommission: a final backup, then no container, database or filestore left.
    let project = instance["project_id"].as_str().unwrap().to_owned();
    let dbs = project_databases(&app, &project).await;
    assert!(!dbs.is_empty());
    let (_, close) = operate(&bob, &id, json!({"kind": "decommission"})).await;
    let close = ended(&bob, &id, close["id"].as_str().unwrap()).await;
    assert_eq!(close["state"], "done", "{close}");
    assert!(close["backup_id"].is_string(), "a final backup was taken: {close}");
    let (_, instance) = bob.get(&format!("/api/v1/instances/{id}")).await;
    assert_eq!(instance["state"], "decommissioned");
    assert_eq!(instance["offered"], json!([]));
    let left = crate::helpers::docker().containers_with_label(&format!("odooops.project={project}")).await.unwrap();
    assert!(left.is_empty(), "containers left: {left:?}");
    let infra = app.platform.builds.as_ref().unwrap();
    let existing = infra.databases.list_all().await.unwrap();
    for db in &dbs {
        assert!(!existing.contains(db), "database {db} was dropped");
        assert!(!infra.filestore_dir.join(db).exists(), "filestore of {db} was removed");
    }
    assert_eq!(odoo.get(format!("{base}/web/login")).send().await.unwrap().status(), 503);
    crate::helpers::tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_self_service_sign_ups_at_once_all_get_their_own_workspace() {
    // Ten people sign up from ten addresses; here they share one, so its sign-up limit is raised.
    let app = crate::helpers::spawn_app_with_builds_and(|s| s.limits.sign_ups = 20).await;
    let _owner = app.signed_up("ann@platform.test", "Platform").await;
    let mut apis = Vec::new();
    for n in 0..10 {
        apis.push(confirmed(&app, &format!("owner{n}@shop{n}.test"), &format!("Shop {n}")).await);
    }
    // All ten ask at once.
    let created = futures_util::future::join_all(apis.iter().enumerate().map(|(n, api)| async move {
        api.post(
            "/api/v1/instances",
            json!({"name": format!("Shop {n}"), "subdomain": format!("shop{n}"), "modules": ["sale"],
                   "admin_login": format!("owner{n}@shop{n}.test"), "admin_password": format!("{ADMIN_PASSWORD}-{n}")}),
        )
        .await
    }))
    .await;
    for (n, (status, body)) in created.iter().enumerate() {
        assert_eq!(*status, 201, "shop{n}: {body}");
    }
    for (n, api) in apis.iter().enumerate() {
        let id = created[n].1["id"].as_str().unwrap();
        let (_, ops) = api.get(&format!("/api/v1/instances/{id}/operations")).await;
        let op = ended(api, id, ops[0]["id"].as_str().unwrap()).await;
        assert_eq!(op["state"], "done", "shop{n}: {op}");
        // Each tenant sees its own workspace only.
        let (_, mine) = api.get("/api/v1/instances").await;
        assert_eq!(mine.as_array().unwrap().len(), 1, "shop{n} sees {mine}");
    }
    // Each answers at its own address, to its own admin only.
    for n in 0..10 {
        let (odoo, base) = odoo_client(&app, &format!("shop{n}.localhost"));
        let own = sign_in(&odoo, &base, &format!("owner{n}@shop{n}.test"), &format!("{ADMIN_PASSWORD}-{n}")).await;
        assert_eq!(own.status(), 303, "shop{n} signs its admin in");
        let other = (n + 1) % 10;
        let (odoo, base) = odoo_client(&app, &format!("shop{other}.localhost"));
        let foreign = sign_in(&odoo, &base, &format!("owner{n}@shop{n}.test"), &format!("{ADMIN_PASSWORD}-{n}")).await;
        assert!(
            foreign.text().await.unwrap().contains("Wrong login/password"),
            "shop{n}'s admin is a stranger to shop{other}"
        );
    }
    crate::helpers::tear_down_builds(&app).await;
}
