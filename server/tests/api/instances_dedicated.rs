//! Dedicated PostgreSQL servers (issue 14): an instance whose needs call for
//! its own server is provisioned on one; platform staff move an instance's
//! database shared → dedicated → shared, and every row and the filestore
//! survive, with the copy verified and the downtime measured; a move that
//! fails reverts and the instance serves as before; tenant admins cannot
//! move databases; no other container reaches a dedicated server, and another tenant's
//! role could not log in to it anyway; outside the
//! plans that include one, only platform staff give an instance its own server.

use crate::helpers::{spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::instances::{
    active_instance, confirmed, ended, odoo_client, operate, serving_build, sign_in, ADMIN_PASSWORD,
};
use serde_json::{json, Value};
use sqlx::{ConnectOptions, Connection};

/// Row counts and checksums of the tables the test wrote and Odoo's users.
async fn fingerprint(app: &TestApp, db: &str) -> Vec<(String, i64, String)> {
    let infra = app.platform.builds.as_ref().unwrap();
    let opts = infra.db(db).owner_options(db).log_statements(tracing::log::LevelFilter::Off);
    let mut c = sqlx::PgConnection::connect_with(&opts).await.unwrap();
    let mut out = Vec::new();
    for table in ["x_notes", "x_tags", "res_users"] {
        let (n, sum): (i64, String) = sqlx::query_as(&format!(
            "SELECT count(*), coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} t"
        ))
        .fetch_one(&mut c)
        .await
        .unwrap();
        out.push((table.to_owned(), n, sum));
    }
    c.close().await.ok();
    out
}

/// Which server `db` is on now: `true` for a dedicated one.
fn on_dedicated(app: &TestApp, db: &str) -> bool {
    let infra = app.platform.builds.as_ref().unwrap();
    infra.db(db).admin.get_port() != infra.databases.admin.get_port()
}

async fn migrate(staff: &Api<'_>, id: &str, to: &str) -> Value {
    let (status, op) = operate(staff, id, json!({"kind": "migrate_database", "db_strategy": to})).await;
    assert_eq!(status, 202, "{op}");
    ended(staff, id, op["id"].as_str().unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_moves_shared_to_dedicated_and_back_keeping_every_row_and_the_filestore() {
    let app = spawn_app_with_builds().await;
    let owner = app.signed_up("ann@platform.test", "Platform").await;
    let staff = app.api(&owner.token().await);
    let bob = confirmed(&app, "bob@bobco.test", "Bobco").await;
    let instance = active_instance(&bob, "bobco", "bob@bobco.test").await;
    let id = instance["id"].as_str().unwrap().to_owned();
    assert_eq!(instance["db_strategy"], "shared");
    let db = serving_build::<(String,)>(&app, &id, "b.db_name").await.0;
    assert!(!on_dedicated(&app, &db));
    let infra = app.platform.builds.as_ref().unwrap().clone();

    // The tenant's data: rows in Odoo's tables and its own, and a stored file.
    let opts = infra.db(&db).owner_options(&db);
    let mut c = sqlx::PgConnection::connect_with(&opts).await.unwrap();
    for sql in [
        "CREATE TABLE x_notes (id serial PRIMARY KEY, body text, amount numeric(12, 2), at timestamptz DEFAULT now())",
        "INSERT INTO x_notes (body, amount) SELECT 'note ' || g, g * 1.25 FROM generate_series(1, 5000) g",
        "CREATE TABLE x_tags (tag text)",
        "INSERT INTO x_tags SELECT 'tag-' || g FROM generate_series(1, 300) g",
    ] {
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
    c.close().await.ok();
    let file = infra.filestore_dir.join(&db).join("ab").join("abcdef0123");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"an attachment").unwrap();
    let before = fingerprint(&app, &db).await;
    assert_eq!(before[0].1, 5000);

    // Tenant admins do not choose where databases live.
    let (status, refused) = operate(&bob, &id, json!({"kind": "migrate_database"})).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(operate(&staff, &id, json!({"kind": "migrate_database", "db_strategy": "shared"})).await.0, 409);

    // Shared → dedicated.
    let op = migrate(&staff, &id, "dedicated").await;
    assert_eq!(op["state"], "done", "{op}");
    let log = op["log"].to_string();
    eprintln!("shared → dedicated: {log}");
    assert!(log.contains("verified") && log.contains("switched over"), "{log}");
    assert!(op["downtime_ms"].as_i64().is_some(), "the downtime is measured: {op}");
    let (_, moved) = bob.get(&format!("/api/v1/instances/{id}")).await;
    assert_eq!(
        (moved["db_strategy"].as_str(), moved["state"].as_str()),
        (Some("dedicated"), Some("active")),
        "{moved}"
    );
    let db2 = serving_build::<(String,)>(&app, &id, "b.db_name").await.0;
    assert_eq!(db2, db, "the database keeps its name (and so its filestore)");
    assert!(on_dedicated(&app, &db), "served from its own server");
    assert!(!infra.databases.list_all().await.unwrap().contains(&db), "the shared server's copy is gone");
    assert_eq!(fingerprint(&app, &db).await, before, "every row survived");
    assert_eq!(std::fs::read(&file).unwrap(), b"an attachment");
    let (odoo, base) = odoo_client(&app, "bobco.localhost");
    assert_eq!(sign_in(&odoo, &base, "bob@bobco.test", ADMIN_PASSWORD).await.status(), 303, "Odoo serves from it");

    // Another tenant's role cannot log in to it, even with its own valid password.
    let carol = confirmed(&app, "carol@carolco.test", "Carolco").await;
    let theirs = active_instance(&carol, "carolco", "carol@carolco.test").await;
    let carol_db = serving_build::<(String,)>(&app, theirs["id"].as_str().unwrap(), "b.db_name").await.0;
    let dedicated = infra.db(&db);
    let intruder = dedicated.owner_options(&carol_db);
    assert!(
        sqlx::PgConnection::connect_with(&intruder).await.is_err(),
        "another tenant's role is a stranger to this server"
    );
    let into_ours =
        dedicated.owner_options(&db).username(&carol_db).password(&infra.databases.role_password(&carol_db));
    assert!(sqlx::PgConnection::connect_with(&into_ours).await.is_err());
    // Nor does any other container reach it at all: it listens on no address a
    // container can route to, and its socket is mounted into this instance's containers alone.
    let port = infra.dedicated.port(id.parse().unwrap()).unwrap();
    let (carol_net, carol_odoo): (String, String) =
        serving_build(&app, theirs["id"].as_str().unwrap(), "b.network, b.preview_target").await;
    let gateway = std::process::Command::new("docker")
        .args(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", &carol_net])
        .output()
        .unwrap();
    let gateway = String::from_utf8_lossy(&gateway.stdout).trim().to_owned();
    let (odoo_host, odoo_port) = carol_odoo.rsplit_once(':').unwrap();
    // The first probe is the control: the container's own Odoo is open.
    for (target, port, open) in
        [(odoo_host, odoo_port.parse().unwrap(), true), (gateway.as_str(), port, false), ("172.17.0.1", port, false)]
    {
        let spec = domain::engine::RunSpec {
            image: domain::builds::infra::STANDIN_IMAGE.to_owned(),
            entrypoint: Some(vec!["/bin/busybox".into(), "sh".into(), "-c".into()]),
            cmd: vec![format!("/bin/busybox nc -w 3 {target} {port} -e /bin/busybox true && echo OPEN || echo CLOSED")],
            network: Some(carol_net.clone()),
            ..Default::default()
        };
        let (_, out) = crate::attacks::support::run_once(&app, spec).await;
        assert_eq!(out.contains("OPEN"), open, "{target}:{port} from another tenant's network: {out}");
    }

    // Dedicated → shared.
    let op = migrate(&staff, &id, "shared").await;
    assert_eq!(op["state"], "done", "{op}");
    assert!(!on_dedicated(&app, &db));
    assert!(!infra.dedicated.exists(id.parse().unwrap()), "the dedicated server is gone, data directory and all");
    assert_eq!(fingerprint(&app, &db).await, before, "every row survived the way back");
    assert_eq!(std::fs::read(&file).unwrap(), b"an attachment");
    let (odoo, base) = odoo_client(&app, "bobco.localhost");
    assert_eq!(sign_in(&odoo, &base, "bob@bobco.test", ADMIN_PASSWORD).await.status(), 303);

    // A move that fails (its server cannot start: something occupies its data directory) reverts.
    let blocker = infra.dedicated.dir(id.parse().unwrap());
    std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    std::fs::write(&blocker, b"in the way").unwrap();
    let op = migrate(&staff, &id, "dedicated").await;
    assert_eq!(op["state"], "failed", "{op}");
    assert!(op["error"].as_str().unwrap().contains("reverted"), "{op}");
    let (_, after) = bob.get(&format!("/api/v1/instances/{id}")).await;
    assert_eq!((after["db_strategy"].as_str(), after["state"].as_str()), (Some("shared"), Some("active")), "{after}");
    assert_eq!(fingerprint(&app, &db).await, before);
    let (odoo, base) = odoo_client(&app, "bobco.localhost");
    assert_eq!(sign_in(&odoo, &base, "bob@bobco.test", ADMIN_PASSWORD).await.status(), 303, "it serves as before");
    std::fs::remove_file(&blocker).unwrap();
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_that_requires_its_own_server_gets_one_and_leaves_nothing_when_closed() {
    let app = spawn_app_with_builds().await;
    let _owner = app.signed_up("ann@platform.test", "Platform").await;
    let dora = confirmed(&app, "dora@vault.test", "Vault").await;
    let ask = |plan: &str| {
        json!({"name": "Vault", "subdomain": "vault", "dedicated_required": true, "plan": plan,
               "admin_login": "dora@vault.test", "admin_password": ADMIN_PASSWORD})
    };
    // A server of its own is a process of the host: self-service gets one with the plan that includes it.
    let (status, refused) = dora.post("/api/v1/instances", ask("starter")).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("enterprise"), "{refused}");
    let (status, created) = dora.post("/api/v1/instances", ask("enterprise")).await;
    assert_eq!(status, 201, "the recommendation (compliance, plan) is dedicated: {created}");
    assert_eq!(created["db_strategy"], "dedicated");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, ops) = dora.get(&format!("/api/v1/instances/{id}/operations")).await;
    let op = ended(&dora, &id, ops[0]["id"].as_str().unwrap()).await;
    assert_eq!(op["state"], "done", "{op}");
    let db = serving_build::<(String,)>(&app, &id, "b.db_name").await.0;
    assert!(on_dedicated(&app, &db), "provisioned on its own server");
    let infra = app.platform.builds.as_ref().unwrap().clone();
    assert!(!infra.databases.list_all().await.unwrap().contains(&db), "nothing on the shared server");
    let (odoo, base) = odoo_client(&app, "vault.localhost");
    assert_eq!(sign_in(&odoo, &base, "dora@vault.test", ADMIN_PASSWORD).await.status(), 303);

    let (_, close) = operate(&dora, &id, json!({"kind": "decommission"})).await;
    let close = ended(&dora, &id, close["id"].as_str().unwrap()).await;
    assert_eq!(close["state"], "done", "{close}");
    assert!(!infra.dedicated.exists(id.parse().unwrap()), "its server and data directory are gone");
    tear_down_builds(&app).await;
}
