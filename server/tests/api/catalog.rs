//! The module catalog and bundles (issue 15), against real git and real
//! manifests from OCA repositories (`domain/tests/fixtures/oca`, committed
//! as files): a source is mirrored and read per series; the catalog is
//! searched and filtered and each module's page shows its dependents; bundles
//! are refused when a module is missing for their series or not installable;
//! tenants see only their own bundles and the platform's; and a bundle is
//! applied to a running instance: backed up first, its modules' code copied
//! from the mirror into the image and installed.

use crate::helpers::{spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::instances::{active_instance, confirmed, ended, operate, serving_build};
use serde_json::{json, Value};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Fixture", "-c", "user.email=fixture@example.test", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A git repository in the OCA layout made from the fixtures of `repo`: one branch per series folder.
pub(crate) fn oca_repository(repo: &str) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/tests/fixtures/oca").join(repo);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/test-builds/oca-{repo}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README.md"), format!("{repo}\n")).unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "readme"]);
    let mut series: Vec<_> = std::fs::read_dir(&fixtures).unwrap().flatten().map(|e| e.file_name()).collect();
    series.sort();
    for s in series {
        let s = s.to_string_lossy().into_owned();
        git(&dir, &["checkout", "-q", "--orphan", &s]);
        git(&dir, &["rm", "-rq", "--cached", "."]);
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_name() != ".git" {
                let _ = std::fs::remove_dir_all(e.path()).or_else(|_| std::fs::remove_file(e.path()));
            }
        }
        copy_tree(&fixtures.join(&s), &dir);
        std::fs::write(dir.join("setup.py"), "# not a module\n").unwrap();
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", &format!("{repo} {s}")]);
    }
    dir
}

/// Waits (a generous deadline, not a timing assertion) until no source waits for its refresh.
async fn refreshed(api: &Api<'_>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, list) = api.get("/api/v1/catalog/sources").await;
        assert_eq!(status, 200, "{list}");
        if list.as_array().unwrap().iter().all(|s| s["refresh_requested"] == false) {
            return list;
        }
        assert!(Instant::now() < deadline, "the catalog was not read: {list}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn staff(app: &TestApp) -> Api<'_> {
    let owner = app.signed_up("ann@platform.test", "Platform").await;
    app.api(&owner.token().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_oca_repositories_are_read_searched_and_bundled_and_a_bundle_is_applied_to_a_running_instance() {
    let app = spawn_app_with_builds().await;
    let staff = staff(&app).await;
    let bob = confirmed(&app, "bob@bobco.test", "Bobco").await;
    let carol = confirmed(&app, "carol@carolco.test", "Carolco").await;

    // Only platform staff add sources.
    let partner = oca_repository("partner-contact");
    let body = json!({"name": "partner-contact", "repo_url": partner.display().to_string(), "series": ["16.0", "17.0", "18.0"]});
    assert_eq!(bob.post("/api/v1/catalog/sources", body.clone()).await.0, 403);
    assert_eq!(staff.post("/api/v1/catalog/sources", body).await.0, 201);
    let tools = oca_repository("server-tools");
    let body =
        json!({"name": "server-tools", "repo_url": tools.display().to_string(), "series": ["16.0", "17.0", "15.0"]});
    assert_eq!(staff.post("/api/v1/catalog/sources", body).await.0, 201);
    let sources = refreshed(&staff).await;
    let tools = sources.as_array().unwrap().iter().find(|s| s["name"] == "server-tools").unwrap();
    assert!(tools["refresh_error"].as_str().unwrap().contains("15.0"), "a missing branch is said: {tools}");
    assert!(tools["modules"].as_i64().unwrap() >= 20, "the other branches were read: {tools}");

    // Search and filters.
    let (_, page) = bob.get("/api/v1/catalog/modules?series=17.0&q=company_group").await;
    let names: Vec<&str> = page["modules"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"partner_company_group") && names.contains(&"base_partner_company_group"), "{page}");
    assert!(page["modules"].as_array().unwrap().iter().all(|m| m["series"] == "17.0"));
    let (_, lgpl) = bob.get("/api/v1/catalog/modules?license=LGPL-3&source=server-tools").await;
    assert!(lgpl["total"].as_i64().unwrap() > 0, "{lgpl}");
    assert!(lgpl["modules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["license"] == "LGPL-3" && m["source"] == "server-tools"));
    let (_, all) = bob.get("/api/v1/catalog/modules?limit=5").await;
    assert_eq!(all["modules"].as_array().unwrap().len(), 5, "pages");
    assert!(all["series"].as_array().unwrap().contains(&json!("18.0")), "{all}");
    let (_, sentry) = bob.get("/api/v1/catalog/modules?q=sentry&series=17.0").await;
    assert!(sentry["modules"][0]["external_python"][0].as_str().unwrap().starts_with("sentry"), "{sentry}");
    let (_, old) = bob.get("/api/v1/catalog/modules?q=views_migration_17").await;
    assert_eq!(old["modules"][0]["installable"], false, "{old}");

    // A module's page: its series and who depends on it.
    let (status, ident) = bob.get("/api/v1/catalog/modules/partner_identification").await;
    assert_eq!(status, 200, "{ident}");
    let series: Vec<&str> =
        ident["versions"].as_array().unwrap().iter().map(|v| v["series"].as_str().unwrap()).collect();
    assert_eq!(series, ["18.0", "17.0", "16.0"]);
    assert!(ident["dependents"].as_array().unwrap().contains(&json!("17.0: partner_identification_gln")), "{ident}");
    assert_eq!(bob.get("/api/v1/catalog/modules/no_such_module").await.0, 404);

    // Closures: dependencies are added and marked; missing and uninstallable modules refuse a bundle.
    let (_, c) =
        bob.post("/api/v1/bundles/closure", json!({"series": "17.0", "modules": "partner_company_group"})).await;
    assert_eq!(c["modules"]["partner_company_group"], "chosen", "{c}");
    assert_eq!(c["modules"]["base_partner_company_group"], "dependency");
    assert_eq!(c["modules"]["sale"], "odoo");
    let (status, refused) = bob
        .post(
            "/api/v1/bundles",
            json!({"tenant": "bobco", "name": "Files", "series": "16.0", "modules": "attachment_synchronize"}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("queue_job"), "{refused}");
    let (status, refused) = bob
        .post(
            "/api/v1/bundles",
            json!({"tenant": "bobco", "name": "Old", "series": "17.0", "modules": "views_migration_17"}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(refused["message"].as_str().unwrap().contains("not installable"), "{refused}");

    // Bundles: the platform's for everyone, a tenant's for its members; only their owners change them.
    let platform = json!({"name": "Contacts", "series": "17.0", "modules": "partner_firstname, partner_tz"});
    assert_eq!(bob.post("/api/v1/bundles", platform.clone()).await.0, 403, "platform bundles are staff's");
    let (status, shared) = staff.post("/api/v1/bundles", platform).await;
    assert_eq!(status, 201, "{shared}");
    let (status, ours) = bob
        .post(
            "/api/v1/bundles",
            json!({"tenant": "bobco", "name": "Names", "series": "17.0", "modules": "partner_firstname"}),
        )
        .await;
    assert_eq!(status, 201, "{ours}");
    let ours_id = ours["id"].as_str().unwrap();
    assert_eq!(carol.get(&format!("/api/v1/bundles/{ours_id}")).await.0, 404);
    let (_, seen) = carol.get("/api/v1/bundles").await;
    assert_eq!(seen.as_array().unwrap().len(), 1, "only the platform's: {seen}");
    let edit = json!({"tenant": "bobco", "name": "Mine now", "series": "17.0", "modules": "partner_tz"});
    assert_eq!(carol.call(reqwest::Method::PUT, &format!("/api/v1/bundles/{ours_id}"), Some(edit)).await.0, 404);
    assert_eq!(
        carol
            .post("/api/v1/bundles", json!({"tenant": "bobco", "name": "X", "series": "17.0", "modules": "partner_tz"}))
            .await
            .0,
        404,
        "a tenant she cannot see"
    );

    // Applied to a running instance: backed up first, the module's code comes from the mirror, and it is installed.
    let instance = active_instance(&bob, "bobco", "bob@bobco.test").await;
    let id = instance["id"].as_str().unwrap();
    let (status, op) = operate(&bob, id, json!({"kind": "apply_bundle", "bundle_id": ours_id})).await;
    assert_eq!(status, 202, "{op}");
    assert_eq!(op["added_modules"], json!(["partner_firstname"]));
    let done = ended(&bob, id, op["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "done", "{done}");
    assert!(done["backup_id"].is_string(), "backed up before: {done}");
    let (_, after) = bob.get(&format!("/api/v1/instances/{id}")).await;
    assert!(after["modules"].as_array().unwrap().contains(&json!("partner_firstname")), "{after}");
    assert_eq!(after["state"], "active");
    let (container, db): (String, String) = serving_build(&app, id, "b.container_id, b.db_name").await;
    let listed = Command::new("docker")
        .args(["exec", &container, "/bin/busybox", "cat", "/mnt/extra-addons/partner_firstname/__manifest__.py"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"name\""), "the module's code is in the image");
    let infra = app.platform.builds.as_ref().unwrap();
    let mut c = sqlx::PgConnection::connect_with(&infra.db(&db).owner_options(&db)).await.unwrap();
    let state: String = sqlx::query_scalar("SELECT state FROM ir_module_module WHERE name = 'partner_firstname'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(state, "installed");
    // Nothing left to add; another tenant's bundle is nobody's here; a bundle of another series does not fit.
    assert_eq!(operate(&bob, id, json!({"kind": "apply_bundle", "bundle_id": ours_id})).await.0, 409);
    let (_, theirs) = carol
        .post("/api/v1/bundles", json!({"tenant": "carolco", "name": "Tz", "series": "17.0", "modules": "partner_tz"}))
        .await;
    assert_eq!(operate(&bob, id, json!({"kind": "apply_bundle", "bundle_id": theirs["id"]})).await.0, 404);
    let (_, newer) = bob
        .post("/api/v1/bundles", json!({"tenant": "bobco", "name": "Next", "series": "18.0", "modules": "partner_tz"}))
        .await;
    assert_eq!(operate(&bob, id, json!({"kind": "apply_bundle", "bundle_id": newer["id"]})).await.0, 422);
    tear_down_builds(&app).await;
}
