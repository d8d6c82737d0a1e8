//! Backups for real: production of a stand-in project is backed up by pg_dump
//! into Odoo's zip, downloaded, restored into staging (neutralized, data and
//! filestore byte for byte) and drilled; archives from elsewhere import and
//! hostile ones are refused; a backup interrupted mid-way is failed without
//! touching earlier ones; a corrupted archive is refused before production is
//! touched; a schedule takes backups by itself.

use crate::helpers::{spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use domain::builds::queue::SYSTEM_USER;
use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) async fn wait_backup(api: &Api<'_>, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (status, b) = api.get(&format!("/api/v1/backups/{id}")).await;
        assert_eq!(status, 200, "{b}");
        if b["state"] == "done" || b["state"] == "failed" {
            return b;
        }
        assert!(Instant::now() < deadline, "backup {id} did not finish: {b}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub(crate) async fn wait_build(api: &Api<'_>, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, b) = api.get(&format!("/api/v1/builds/{id}")).await;
        if b["state"] == "done" {
            return b;
        }
        assert!(Instant::now() < deadline, "build {id} did not finish: {b}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub(crate) async fn build_log(api: &Api<'_>, build: &str) -> String {
    let (_, list) = api.get(&format!("/api/v1/builds/{build}/events?limit=5000")).await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| format!("[{}] {}\n", e["source"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect()
}

pub(crate) async fn sql(app: &TestApp, db: &str, statement: &str) -> i64 {
    let infra = app.platform.builds.as_ref().unwrap();
    let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(db)).await.unwrap();
    let n = if statement.trim_start().to_uppercase().starts_with("SELECT") {
        sqlx::query_scalar::<_, i64>(statement).fetch_one(&mut c).await.unwrap()
    } else {
        sqlx::query(statement).execute(&mut c).await.unwrap().rows_affected() as i64
    };
    c.close().await.ok();
    n
}

pub(crate) async fn download(api: &Api<'_>, id: &str, filestore: bool) -> Vec<u8> {
    let r = api
        .http
        .get(format!("{}/api/v1/backups/{id}/download?filestore={filestore}", api.app.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(".zip"));
    r.bytes().await.unwrap().to_vec()
}

fn zip_entries(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut e = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.insert(e.name().to_owned(), data);
    }
    out
}

fn files_below(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

pub(crate) async fn db_of_build(app: &TestApp, build: &str) -> String {
    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    let db: String = sqlx::query_scalar("SELECT db_name FROM ops.builds WHERE id = $1::uuid")
        .bind(build)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db
}

/// Production with some data and filestore of its own; (project, production build).
pub(crate) async fn production(app: &TestApp, api: &Api<'_>, repo: &Path, name: &str) -> (String, Value, String) {
    let project = standin_project(api, name, repo).await;
    let main = git(repo, &["rev-parse", "HEAD"]);
    push(app, api, &project, "main", &main).await;
    let prod = finished(api, &project, &main).await;
    assert_eq!(prod["result"], "ok", "{prod}");
    let db = db_of_build(app, prod["id"].as_str().unwrap()).await;
    sql(
        app,
        &db,
        "INSERT INTO res_users (login, password) SELECT 'user' || g, 'secret' FROM generate_series(1, 500) g",
    )
    .await;
    let store = app.platform.builds.as_ref().unwrap().filestore_dir.join(&db);
    std::fs::create_dir_all(store.join("7f")).unwrap();
    let binary: Vec<u8> = (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(store.join("7f/7f00aa11bb22"), &binary).unwrap();
    (project, prod, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_backs_up_as_an_odoo_zip_and_restores_into_staging_neutralized_byte_for_byte() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, prod, prod_db) = production(&app, &api, &repo, "Backed").await;
    let prod_env = prod["env_id"].as_str().unwrap().to_owned();

    let (status, backup) = api.post(&format!("/api/v1/environments/{prod_env}/backups"), json!({})).await;
    assert_eq!(status, 202, "{backup}");
    let backup = wait_backup(&api, backup["id"].as_str().unwrap()).await;
    assert_eq!(backup["state"], "done", "{backup}");
    assert_eq!(backup["kind"], "manual");
    let id = backup["id"].as_str().unwrap().to_owned();

    // Odoo's format, checksummed, with OdooOps' manifest and the build's log.
    let zip = download(&api, &id, true).await;
    assert_eq!(domain::backups::archive::sha256_bytes(&zip), backup["sha256"].as_str().unwrap());
    let entries = zip_entries(&zip);
    assert!(String::from_utf8_lossy(&entries["dump.sql"]).contains("COPY public.res_users"));
    let manifest: Value = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    assert_eq!(manifest["odoo_dump"], "1");
    assert_eq!(manifest["db_name"], prod_db.as_str());
    assert!(manifest["modules"]["acme_sale"].is_string(), "{manifest}");
    let ours: Value = serde_json::from_slice(&entries["odooops.json"]).unwrap();
    assert_eq!(ours["row_counts"]["public.res_users"], 501, "{ours}");
    assert_eq!(ours["build_id"], prod["id"]);
    assert!(entries.contains_key("odooops/build.log"));
    let prod_files = files_below(&app.platform.builds.as_ref().unwrap().filestore_dir.join(&prod_db));
    for (rel, data) in &prod_files {
        assert_eq!(&entries[&format!("filestore/{rel}")], data, "{rel} is in the zip byte for byte");
    }
    let slim = zip_entries(&download(&api, &id, false).await);
    assert!(slim.contains_key("dump.sql") && !slim.keys().any(|k| k.starts_with("filestore/")));

    // A staging branch, then yesterday's production restored into it.
    let sha = commit_file(&repo, "release/2.0", "CHANGES.md", "next\n", "Next release");
    push(&app, &api, &project, "release/2.0", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    assert_eq!((staging["stage"].as_str(), staging["result"].as_str()), (Some("staging"), Some("ok")), "{staging}");
    sql(&app, &prod_db, "DELETE FROM res_users WHERE login LIKE 'user%'").await;

    let (status, bad) =
        api.post(&format!("/api/v1/backups/{id}/restore"), json!({"target_env": prod_env, "confirm": "nope"})).await;
    assert_eq!(status, 422, "production needs its name typed: {bad}");

    let (status, queued) =
        api.post(&format!("/api/v1/backups/{id}/restore"), json!({"target_env": staging["env_id"]})).await;
    assert_eq!(status, 202, "{queued}");
    let restored = wait_build(&api, queued["build_id"].as_str().unwrap()).await;
    let log = build_log(&api, restored["id"].as_str().unwrap()).await;
    assert_eq!(restored["result"], "ok", "{restored}\n{log}");
    assert!(log.contains("checksum verified"), "{log}");
    assert!(log.contains("[neutralize] verified"), "{log}");
    let staging_db = db_of_build(&app, restored["id"].as_str().unwrap()).await;
    assert_eq!(sql(&app, &staging_db, "SELECT count(*) FROM res_users WHERE login LIKE 'user%'").await, 500);
    assert_eq!(
        sql(
            &app,
            &staging_db,
            "SELECT count(*) FROM ir_config_parameter WHERE key = 'database.is_neutralized' AND value = 'true'"
        )
        .await,
        1
    );
    assert_eq!(sql(&app, &staging_db, "SELECT count(*) FROM payment_provider WHERE state = 'enabled'").await, 0);
    let staging_files = files_below(&app.platform.builds.as_ref().unwrap().filestore_dir.join(&staging_db));
    for (rel, data) in &prod_files {
        assert_eq!(staging_files.get(rel), Some(data), "{rel} restored byte for byte");
    }
    // The restored build serves; the staging build it replaced is retired.
    let (_, now) = api.get(&format!("/api/v1/builds/{}", staging["id"].as_str().unwrap())).await;
    assert_eq!(now["live"], false, "{now}");

    // The drill restores the latest production backup into scratch and checks it.
    let drill = domain::backups::drill::enqueue(&app.platform, project.parse().unwrap()).await.unwrap();
    let report = wait_drill(&app, drill).await;
    assert_eq!(report.0, "passed", "{}", report.1);
    let (_, verified) = api.get(&format!("/api/v1/backups/{id}")).await;
    assert!(verified["verified_at"].is_string(), "{verified}");
    tear_down_builds(&app).await;
}

pub(crate) async fn wait_drill(app: &TestApp, drill: uuid::Uuid) -> (String, Value) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
        let (state, report): (String, Option<Value>) =
            sqlx::query_as("SELECT state, report FROM ops.backup_drills WHERE id = $1")
                .bind(drill)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        if state == "passed" || state == "failed" {
            return (state, report.unwrap_or_default());
        }
        assert!(Instant::now() < deadline, "the drill did not finish");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub(crate) fn zip_file(path: &Path, entries: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
}

pub(crate) async fn upload(api: &Api<'_>, env: &str, body: Vec<u8>) -> (u16, Value) {
    let r = api
        .http
        .post(format!("{}/api/v1/environments/{env}/imports", api.app.addr))
        .bearer_auth(&api.token)
        .header("content-type", "application/zip")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

fn pg_dump(app: &TestApp, db: &str, args: &[&str]) -> Vec<u8> {
    let infra = app.platform.builds.as_ref().unwrap();
    let bin = domain::db::embedded::find_bin_dir().unwrap();
    let out = std::process::Command::new(bin.join("pg_dump"))
        .args(args)
        .envs(infra.databases.owner_env(db))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odoo_zips_and_dumps_from_elsewhere_import_and_hostile_archives_are_refused() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, prod, prod_db) = production(&app, &api, &repo, "Imported").await;
    let sha = commit_file(&repo, "feature", "F.md", "f\n", "Feature");
    push(&app, &api, &project, "feature", &sha).await;
    let dev = finished(&api, &project, &sha).await;
    assert_eq!((dev["stage"].as_str(), dev["result"].as_str()), (Some("development"), Some("ok")), "{dev}");
    let dev_env = dev["env_id"].as_str().unwrap().to_owned();

    // "Elsewhere": a zip as Odoo's database manager makes it (no OdooOps manifest).
    sql(&app, &prod_db, "INSERT INTO res_users (login) VALUES ('from-elsewhere')").await;
    let dump_sql = pg_dump(&app, &prod_db, &["--no-owner", "--format=plain"]);
    let scratch = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/test-imports/{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch).unwrap();
    let odoo_zip = scratch.join("odoo.zip");
    zip_file(
        &odoo_zip,
        &[
            ("dump.sql", &dump_sql),
            (
                "manifest.json",
                br#"{"odoo_dump": "1", "db_name": "elsewhere", "version": "17.0", "modules": {"base": "17.0.1.3"}}"#,
            ),
            ("filestore/c0/c0ffee", b"attachment from elsewhere"),
        ],
    );
    let (status, queued) = upload(&api, &dev_env, std::fs::read(&odoo_zip).unwrap()).await;
    assert_eq!(status, 202, "{queued}");
    let build = wait_build(&api, queued["build_id"].as_str().unwrap()).await;
    assert_eq!(build["result"], "ok", "{build}\n{}", build_log(&api, build["id"].as_str().unwrap()).await);
    let db = db_of_build(&app, build["id"].as_str().unwrap()).await;
    assert_eq!(sql(&app, &db, "SELECT count(*) FROM res_users WHERE login = 'from-elsewhere'").await, 1);
    let fs = app.platform.builds.as_ref().unwrap().filestore_dir.join(&db);
    assert_eq!(std::fs::read(fs.join("c0/c0ffee")).unwrap(), b"attachment from elsewhere");
    let (_, imported) = api.get(&format!("/api/v1/backups/{}", queued["backup_id"].as_str().unwrap())).await;
    assert_eq!((imported["kind"].as_str(), imported["format"].as_str()), (Some("import"), Some("zip")));

    // A pg_dump -Fc made elsewhere.
    let custom = pg_dump(&app, &prod_db, &["--format=custom", "--no-owner"]);
    let (status, queued) = upload(&api, &dev_env, custom).await;
    assert_eq!(status, 202, "{queued}");
    let build = wait_build(&api, queued["build_id"].as_str().unwrap()).await;
    assert_eq!(build["result"], "ok", "{build}");

    // Hostile or broken input: a clear 422, and nothing stored.
    let (_, before) = api.get(&format!("/api/v1/environments/{dev_env}/backups")).await;
    let slip = scratch.join("slip.zip");
    zip_file(&slip, &[("dump.sql", b"SELECT 1;"), ("filestore/../../../../etc/cron.d/evil", b"* * * * * root sh")]);
    let (status, e) = upload(&api, &dev_env, std::fs::read(&slip).unwrap()).await;
    assert_eq!(status, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("outside"), "{e}");
    let bomb = scratch.join("bomb.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
    w.start_file("dump.sql", zip::write::SimpleFileOptions::default().compression_level(Some(9))).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        w.write_all(&zeros).unwrap();
    }
    w.finish().unwrap();
    let (status, e) = upload(&api, &dev_env, std::fs::read(&bomb).unwrap()).await;
    assert_eq!(status, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("bomb"), "{e}");
    let (status, e) = upload(&api, &dev_env, b"this is not a backup".to_vec()).await;
    assert_eq!(status, 422, "{e}");
    let mut truncated = std::fs::read(&odoo_zip).unwrap();
    truncated.truncate(truncated.len() * 2 / 3);
    let (status, e) = upload(&api, &dev_env, truncated).await;
    assert_eq!(status, 422, "{e}");
    let (_, after) = api.get(&format!("/api/v1/environments/{dev_env}/backups")).await;
    assert_eq!(before, after, "refused uploads store nothing");
    // Production never takes an import.
    let (status, e) = upload(&api, prod["env_id"].as_str().unwrap(), std::fs::read(&odoo_zip).unwrap()).await;
    assert_eq!(status, 403, "{e}");
    std::fs::remove_dir_all(scratch).ok();
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_backup_fails_alone_a_corrupted_one_is_refused_and_the_schedule_runs_itself() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, prod, prod_db) = production(&app, &api, &repo, "Guarded").await;
    let prod_env = prod["env_id"].as_str().unwrap().to_owned();
    let infra = app.platform.builds.clone().unwrap();

    // The schedule: every minute, checked as if a minute had passed; the worker takes it.
    let (status, s) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{project}/backup-settings"),
            Some(json!({"backup_cron": "* * * * *"})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let (status, e) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{project}/backup-settings"),
            Some(json!({"backup_cron": "every day"})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    let later = chrono::Utc::now() + chrono::Duration::minutes(2);
    assert_eq!(domain::backups::schedule::enqueue_due(&app.platform, later).await.unwrap(), 1);
    assert_eq!(domain::backups::schedule::enqueue_due(&app.platform, later).await.unwrap(), 0, "a slot is taken once");
    let scheduled = loop {
        let (_, list) = api.get(&format!("/api/v1/environments/{prod_env}/backups")).await;
        if let Some(done) = list.as_array().unwrap().iter().find(|b| b["kind"] == "daily" && b["state"] == "done") {
            break done.clone();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let earlier = scheduled["id"].as_str().unwrap().to_owned();

    // A big enough table that the backup is caught mid-way, then "the server dies".
    sql(
        &app,
        &prod_db,
        "CREATE TABLE bulk AS SELECT g AS id, repeat(md5(g::text), 20) AS filler FROM generate_series(1, 300000) g",
    )
    .await;
    // It runs on another console, alive until it dies below.
    let id = uuid::Uuid::new_v4();
    let owner = app.platform.db.owner();
    sqlx::query(
        "INSERT INTO ops.consoles (id, host, pid, version, heartbeat_at)
         VALUES ('dying-worker', 'elsewhere', 1, 'test', now() + interval '1 hour')",
    )
    .execute(owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, state, worker, started_at)
         SELECT $1, tenant_id, project_id, id, 'manual', 'running', 'dying-worker', now() FROM ops.environments WHERE id = $2::uuid",
    )
    .bind(id)
    .bind(&prod_env)
    .execute(owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ops.jobs (kind, subject, tenant_id, state, attempts, worker, started_at)
         SELECT 'backup', id, tenant_id, 'running', 1, 'dying-worker', now() FROM ops.backups WHERE id = $1",
    )
    .bind(id)
    .execute(owner)
    .await
    .unwrap();
    let partial = infra.backups.scratch.join(format!("{id}.zip.partial"));
    let task = {
        let (p, infra) = (app.platform.clone(), infra.clone());
        tokio::spawn(async move { domain::backups::jobs::run(&p, &infra, id).await })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline && !task.is_finished(), "the backup never started writing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let _ = task.await;
    assert_eq!(domain::backups::jobs::recover(&app.platform, &infra.backups, "dying-worker").await.unwrap(), 1);
    let (_, dead) = api.get(&format!("/api/v1/backups/{id}")).await;
    assert_eq!(dead["state"], "failed", "{dead}");
    assert!(dead["error"].as_str().unwrap().contains("server stopped"), "{dead}");
    assert!(!partial.exists(), "the partial archive is removed");
    let (_, intact) = api.get(&format!("/api/v1/backups/{earlier}")).await;
    assert_eq!(intact["state"], "done");
    assert_eq!(download_sha(&api, &earlier).await, intact["sha256"].as_str().unwrap(), "earlier backups are intact");

    // A corrupted archive: the production restore is refused before production changes.
    let key = format!("{project}/{prod_env}/{earlier}.zip");
    let stored = infra.backups.scratch.parent().unwrap().join("store").join(&key);
    let mut bytes = std::fs::read(&stored).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&stored, &bytes).unwrap();
    let (status, queued) = api
        .post(&format!("/api/v1/backups/{earlier}/restore"), json!({"target_env": prod_env, "confirm": "Guarded"}))
        .await;
    assert_eq!(status, 202, "{queued}");
    let failed = wait_build(&api, queued["build_id"].as_str().unwrap()).await;
    assert_eq!(failed["result"], "ko", "{failed}");
    assert!(failed["reason"].as_str().unwrap().contains("checksum mismatch"), "{failed}");
    let (_, serving) = api.get(&format!("/api/v1/builds/{}", prod["id"].as_str().unwrap())).await;
    assert_eq!(serving["live"], true, "production keeps serving its build: {serving}");
    assert_eq!(sql(&app, &prod_db, "SELECT count(*) FROM bulk").await, 300000, "production's data is untouched");

    // The drill notices, records it, audits it and tells the project's admins.
    let drill = domain::backups::drill::enqueue(&app.platform, project.parse().unwrap()).await.unwrap();
    let (state, _) = wait_drill(&app, drill).await;
    // The newest production backup is the pre-restore one, which is fine; corrupt it too.
    if state == "passed" {
        let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT storage_key FROM ops.backups WHERE state = 'done' AND storage_key IS NOT NULL")
                .fetch_all(&mut *tx)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        for k in keys {
            let path = infra.backups.scratch.parent().unwrap().join("store").join(k);
            let mut bytes = std::fs::read(&path).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0xff;
            std::fs::write(&path, &bytes).unwrap();
        }
        let drill = domain::backups::drill::enqueue(&app.platform, project.parse().unwrap()).await.unwrap();
        let (state, _) = wait_drill(&app, drill).await;
        assert_eq!(state, "failed");
    }
    assert!(app.mailer.sent().iter().any(|m| m.subject.contains("restore drill") && m.to == "ann@acme.test"));
    let (_, audit) = api.get("/api/v1/audit").await;
    assert!(audit.to_string().contains("backup.drill_failed"), "{audit}");
    tear_down_builds(&app).await;
}

async fn download_sha(api: &Api<'_>, id: &str) -> String {
    let r = api
        .http
        .get(format!("{}/api/v1/backups/{id}/download", api.app.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    domain::backups::archive::sha256_bytes(&r.bytes().await.unwrap())
}

/// moto's S3 server, installed by scripts/bootstrap.
fn moto_server() -> PathBuf {
    let path = std::env::var_os("ODOOOPS_MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| {
        let tools = std::env::var_os("ODOOOPS_TOOLS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/odooops"));
        tools.join("moto/bin/moto_server")
    });
    assert!(path.is_file(), "{} is missing: run scripts/bootstrap (it installs moto from PyPI)", path.display());
    path
}

struct Moto(std::process::Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_go_to_an_s3_compatible_store_and_restore_from_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _moto = Moto(
        std::process::Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http.put(format!("{endpoint}/odooops-backups")).send().await.map(|r| !r.status().is_success()).unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "moto did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let s3 = object_store_for(&endpoint);

    let app = spawn_app_with_builds().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (_, prod, _) = production(&app, &api, &repo, "Clouded").await;
    let mut infra = app.platform.builds.clone().unwrap();
    infra.backups.store =
        std::sync::Arc::new(domain::backups::store::ObjectStoreBackend::new(s3, "acme", "moto".into()));

    let id = uuid::Uuid::new_v4();
    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    sqlx::query(
        "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, state, worker, started_at)
         SELECT $1, tenant_id, project_id, id, 'manual', 'running', 's3-test', now() FROM ops.environments WHERE id = $2::uuid",
    )
    .bind(id)
    .bind(prod["env_id"].as_str().unwrap())
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    domain::backups::jobs::run(&app.platform, &infra, id).await.unwrap();
    let listing = http
        .get(format!("{endpoint}/odooops-backups?list-type=2&prefix=acme/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains(&format!("{id}.zip")), "the archive is in the bucket: {listing}");
    assert!(!infra.backups.scratch.join(format!("{id}.zip.partial")).exists());

    let target = format!("ob_{}_s3restore", infra.installation);
    infra.databases.provision(&target, None).await.unwrap();
    let files = infra.backups.scratch.join("s3-filestore");
    domain::backups::restore::load(&app.platform, &infra, id, &target, &files, &|_| {}).await.unwrap();
    assert_eq!(sql(&app, &target, "SELECT count(*) FROM res_users WHERE login LIKE 'user%'").await, 500);
    assert_eq!(
        files_below(&files).len(),
        files_below(&infra.filestore_dir.join(db_of_build(&app, prod["id"].as_str().unwrap()).await)).len()
    );
    infra.databases.drop(&target, &target).await.unwrap();
    tear_down_builds(&app).await;
}

fn object_store_for(endpoint: &str) -> std::sync::Arc<dyn object_store::ObjectStore> {
    std::sync::Arc::new(
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_bucket_name("odooops-backups")
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .build()
            .unwrap(),
    )
}
