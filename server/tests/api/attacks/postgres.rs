//! The PostgreSQL boundary (SEC-01, SEC-02, SEC-04, SEC-10): an imported
//! `dump.sql` carrying psql meta-commands or `COPY … TO PROGRAM`; project
//! neutralize statements that try to leave the copy's role; a trigger and a
//! CHECK constraint planted by production that fire in staging copies,
//! restores and drills; containers that try the control plane, another build's
//! database, and the superuser's and the builds admin's passwords.

use crate::backups::{build_log, db_of_build, production, sql, upload, wait_build, wait_drill, zip_file};
use crate::helpers::{spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::pipeline::{commit_file, finished, push, repository};
use domain::engine::RunSpec;
use serde_json::{json, Value};
use sqlx::{ConnectOptions, Connection};
use std::path::PathBuf;

/// A file that must never appear: the attack's proof of execution.
fn marker(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!("odooops-attack-{label}-{}", uuid::Uuid::new_v4().simple()))
}

fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/test-attacks/{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Roles of the whole cluster that are superusers (only its bootstrap superuser may be).
async fn superusers() -> Vec<String> {
    let mut c = sqlx::PgConnection::connect_with(&domain::testing::server()).await.unwrap();
    let names = sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolsuper ORDER BY 1")
        .fetch_all(&mut c)
        .await
        .unwrap();
    c.close().await.ok();
    names
}

async fn release_settings(api: &Api<'_>, project: &str, body: Value) {
    let (status, s) =
        api.call(reqwest::Method::PATCH, &format!("/api/v1/projects/{project}/release-settings"), Some(body)).await;
    assert_eq!(status, 200, "{s}");
}

async fn rebuild(api: &Api<'_>, build: &Value) -> Value {
    let (status, b) = api.post(&format!("/api/v1/builds/{}/rebuild", build["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 201, "{b}");
    wait_build(api, b["id"].as_str().unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_dump_runs_no_meta_command_on_the_host_and_no_sql_as_a_superuser() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, _prod, _) = production(&app, &api, &repo, "Evil").await;
    let sha = commit_file(&repo, "feature", "F.md", "f\n", "Feature");
    push(&app, &api, &project, "feature", &sha).await;
    let dev = finished(&api, &project, &sha).await;
    assert_eq!(dev["result"], "ok", "{dev}");
    let dev_env = dev["env_id"].as_str().unwrap().to_owned();
    let dir = scratch();
    let before = superusers().await;

    let marks: Vec<PathBuf> = (0..5).map(|i| marker(&format!("import{i}"))).collect();
    let m = |i: usize| marks[i].display().to_string();
    let attacks = [
        format!("SELECT 1;\n\\! touch {}\n", m(0)),
        format!("SELECT 1 \\! touch {}\n;\n", m(1)),
        format!("\\o |touch {}\nSELECT 1;\n", m(2)),
        format!("CREATE TABLE t (a int);\nCOPY (SELECT 1) TO PROGRAM 'touch {}';\n", m(3)),
        format!("ALTER ROLE CURRENT_USER SUPERUSER;\nCOPY (SELECT 1) TO '{}';\n", m(4)),
    ];
    for (i, dump) in attacks.iter().enumerate() {
        let zip = dir.join(format!("evil{i}.zip"));
        zip_file(&zip, &[("dump.sql", dump.as_bytes()), ("manifest.json", br#"{"odoo_dump": "1"}"#)]);
        let (status, queued) = upload(&api, &dev_env, std::fs::read(&zip).unwrap()).await;
        assert_eq!(status, 202, "{queued}");
        let build = wait_build(&api, queued["build_id"].as_str().unwrap()).await;
        let log = build_log(&api, build["id"].as_str().unwrap()).await;
        assert_eq!(build["result"], "ko", "attack {i} must fail: {build}\n{log}");
        assert!(!marks[i].exists(), "attack {i} ran on the host:\n{log}");
        let why = build["reason"].as_str().unwrap_or_default();
        assert!(
            why.contains("restricted") || why.contains("permission denied") || why.contains("must be superuser"),
            "attack {i} is refused for the right reason: {why}"
        );
    }
    assert_eq!(superusers().await, before, "no role became a superuser");
    std::fs::remove_dir_all(dir).ok();
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_neutralize_statements_cannot_leave_the_copys_role() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, _prod, _) = production(&app, &api, &repo, "Scrubber").await;

    // RESET ROLE has nowhere to go: the session is the copy's own role.
    release_settings(
        &api,
        &project,
        json!({"neutralize_sql": "RESET ROLE; CREATE TABLE public.whoami AS SELECT current_user::text AS who, session_user::text AS session, current_setting('is_superuser') AS su"}),
    )
    .await;
    let sha = commit_file(&repo, "release/1", "R.md", "r\n", "Release");
    push(&app, &api, &project, "release/1", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    assert_eq!(staging["result"], "ok", "{staging}");
    let db = db_of_build(&app, staging["id"].as_str().unwrap()).await;
    let infra = app.platform.builds.as_ref().unwrap();
    let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(&db)).await.unwrap();
    let (who, session, su): (String, String, String) =
        sqlx::query_as("SELECT who, session, su FROM public.whoami").fetch_one(&mut c).await.unwrap();
    c.close().await.ok();
    assert_eq!((who.as_str(), session.as_str(), su.as_str()), (db.as_str(), db.as_str(), "off"));

    // Statements that need a superuser fail the build, and do nothing.
    let mark = marker("neutralize");
    for sql in [
        "SET SESSION AUTHORIZATION odooops".to_owned(),
        "SET ROLE odooops_builds".to_owned(),
        format!("COPY (SELECT 1) TO PROGRAM 'touch {}'", mark.display()),
        format!("COPY (SELECT 1) TO '{}'", mark.display()),
    ] {
        release_settings(&api, &project, json!({ "neutralize_sql": sql })).await;
        let rebuilt = rebuild(&api, &staging).await;
        assert_eq!(rebuilt["result"], "ko", "`{sql}` must fail: {rebuilt}");
        let why = rebuilt["reason"].as_str().unwrap();
        assert!(why.contains("permission denied") || why.contains("must be superuser"), "`{sql}`: {rebuilt}");
        assert!(!mark.exists(), "`{sql}` reached the host");
    }
    // A neutralized download runs them the same way.
    let env = _prod["env_id"].as_str().unwrap();
    let id = super::support::backup_now(&api, env).await;
    let r = api
        .http
        .get(format!("{}/api/v1/backups/{id}/download?neutralized=true", app.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert!(!r.status().is_success(), "the download fails with the statement that fails");
    assert!(!mark.exists());
    tear_down_builds(&app).await;
}

/// Plants, as production's own role, a trigger on `ir_cron` and a CHECK
/// constraint whose function tries to make its caller a superuser and records who ran it.
async fn plant(app: &TestApp, db: &str) {
    let infra = app.platform.builds.as_ref().unwrap();
    let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(db)).await.unwrap();
    for statement in [
        "CREATE TABLE public.who_ran (who text, su text, at text)",
        "CREATE FUNCTION public.escalate(at text) RETURNS boolean LANGUAGE plpgsql AS $$
         BEGIN
           BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', current_user); EXCEPTION WHEN others THEN NULL; END;
           BEGIN INSERT INTO public.who_ran VALUES (current_user, current_setting('is_superuser'), at); EXCEPTION WHEN others THEN NULL; END;
           RETURN true;
         END $$",
        "CREATE FUNCTION public.on_cron() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM public.escalate('trigger'); RETURN NEW; END $$",
        "CREATE TRIGGER on_cron BEFORE UPDATE ON ir_cron FOR EACH ROW EXECUTE FUNCTION public.on_cron()",
        "CREATE TABLE public.guarded (id int CHECK (public.escalate('check')))",
        "INSERT INTO public.guarded VALUES (1)",
        // A SECURITY DEFINER function of production's role, which a copy must not keep.
        "CREATE FUNCTION public.as_production() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT current_user::text $$",
    ] {
        sqlx::query(statement).execute(&mut c).await.unwrap();
    }
    c.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_planted_in_production_never_runs_with_more_than_the_copys_own_role() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, prod, prod_db) = production(&app, &api, &repo, "Planted").await;
    plant(&app, &prod_db).await;
    let before = superusers().await;

    // A staging copy: neutralization updates ir_cron, which fires the trigger.
    let sha = commit_file(&repo, "release/1", "R.md", "r\n", "Release");
    push(&app, &api, &project, "release/1", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    assert_eq!(staging["result"], "ok", "{staging}");
    let staging_db = db_of_build(&app, staging["id"].as_str().unwrap()).await;
    let ran_as = |db: String| {
        let app = &app;
        async move {
            let infra = app.platform.builds.as_ref().unwrap();
            let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(&db)).await.unwrap();
            let rows: Vec<(String, String, String)> =
                sqlx::query_as("SELECT who, su, at FROM public.who_ran").fetch_all(&mut c).await.unwrap();
            let owner: String = sqlx::query_scalar("SELECT public.as_production()").fetch_one(&mut c).await.unwrap();
            c.close().await.ok();
            (rows, owner)
        }
    };
    let (rows, definer) = ran_as(staging_db.clone()).await;
    assert!(rows.iter().any(|(_, _, at)| at == "trigger"), "the trigger fired in the copy: {rows:?}");
    for (who, su, _) in &rows {
        assert!(who == &staging_db || who == &prod_db, "ran as {who}: {rows:?}");
        assert_eq!(su, "off", "{rows:?}");
    }
    assert_eq!(definer, staging_db, "a SECURITY DEFINER routine of production's role is the copy's in the copy");

    // A backup restored into staging: the CHECK runs while the data loads, the trigger while it is neutralized.
    let env = prod["env_id"].as_str().unwrap();
    let id = super::support::backup_now(&api, env).await;
    let (status, queued) =
        api.post(&format!("/api/v1/backups/{id}/restore"), json!({"target_env": staging["env_id"]})).await;
    assert_eq!(status, 202, "{queued}");
    let restored = wait_build(&api, queued["build_id"].as_str().unwrap()).await;
    assert_eq!(restored["result"], "ok", "{restored}\n{}", build_log(&api, restored["id"].as_str().unwrap()).await);
    let restored_db = db_of_build(&app, restored["id"].as_str().unwrap()).await;
    let (rows, _) = ran_as(restored_db.clone()).await;
    assert!(rows.iter().any(|(_, _, at)| at == "check"), "the CHECK ran during the load: {rows:?}");
    for (who, su, at) in &rows {
        // Rows copied from production name production; what ran here names the restored database's role.
        assert!(who == &restored_db || who == &prod_db, "{at} ran as {who}: {rows:?}");
        assert_eq!(su, "off", "{rows:?}");
    }

    // A drill loads the same backup into scratch as the scratch database's role.
    let drill = domain::backups::drill::enqueue(&app.platform, project.parse().unwrap()).await.unwrap();
    // (The CHECK's own inserts during the load may make the row counts differ: passing is not the point.)
    let (state, report) = wait_drill(&app, drill).await;
    assert!(state == "passed" || state == "failed", "{state}: {report}");

    assert_eq!(superusers().await, before, "no role became a superuser");
    assert_eq!(sql(&app, &prod_db, "SELECT count(*) FROM public.who_ran WHERE su = 'on'").await, 0);
    tear_down_builds(&app).await;
}

/// Runs the stand-in image once, connecting as `user` to `database`; its exit code and log.
async fn try_connect(app: &TestApp, user: &str, password: &str, database: &str) -> (i64, String) {
    let infra = app.platform.builds.as_ref().unwrap();
    let spec = RunSpec {
        image: domain::builds::infra::STANDIN_IMAGE.to_owned(),
        cmd: vec![
            format!("--db_host={}", infra.databases.host_for_containers),
            format!("--db_port={}", infra.databases.port_for_containers),
            format!("--db_user={user}"),
            format!("--db_password={password}"),
            format!("--database={database}"),
            "--stop-after-init".into(),
        ],
        ..Default::default()
    };
    super::support::run_once(app, spec).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_reaches_its_own_database_and_no_other_even_with_leaked_passwords() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let (_, _, own_db) = production(&app, &api, &repository(), "Mine").await;
    let (_, _, other_db) = production(&app, &api, &repository(), "Theirs").await;
    let infra = app.platform.builds.as_ref().unwrap();
    let own_password = infra.databases.role_password(&own_db);
    let control_plane = app.db_options.get_database().unwrap().to_owned();

    // The control: its own role, its own database.
    let (code, log) = try_connect(&app, &own_db, &own_password, &own_db).await;
    assert_eq!(code, 0, "a build reaches its own database:\n{log}");

    let superuser = domain::testing::server().to_url_lossy();
    let superuser_password = superuser.password().unwrap().to_owned();
    let admin = infra.databases.admin.to_url_lossy();
    let admin_password = admin.password().unwrap().to_owned();
    for (user, password, database) in [
        (own_db.as_str(), own_password.as_str(), control_plane.as_str()),
        (own_db.as_str(), own_password.as_str(), other_db.as_str()),
        (own_db.as_str(), own_password.as_str(), "postgres"),
        ("odooops", superuser_password.as_str(), "postgres"),
        ("odooops", superuser_password.as_str(), control_plane.as_str()),
        (admin.username(), admin_password.as_str(), "postgres"),
        (other_db.as_str(), own_password.as_str(), other_db.as_str()),
    ] {
        let (code, log) = try_connect(&app, user, password, database).await;
        assert_ne!(code, 0, "{user} reached {database} from a container:\n{log}");
        assert!(log.contains("could not connect"), "{log}");
    }
    // Nor may a tenant role connect to another database from the host side.
    let err = sqlx::PgConnection::connect_with(&infra.databases.owner_options(&own_db).database(&other_db))
        .await
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("permission denied"), "{err}");
    tear_down_builds(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_planted_in_an_idle_production_never_runs_as_the_builds_admin() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, prod, prod_db) = production(&app, &api, &repo, "Operator").await;
    let infra = app.platform.builds.as_ref().unwrap();
    // An exact-type `=` on (oid, regclass): PostgreSQL has none of its own, so any
    // query comparing a catalog oid with 'x'::regclass would pick this one.
    let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(&prod_db)).await.unwrap();
    for statement in [
        "CREATE TABLE public.hijack (who text)",
        "CREATE FUNCTION public.hijack_eq(oid, regclass) RETURNS boolean LANGUAGE plpgsql AS $$
         BEGIN
           INSERT INTO public.hijack VALUES (current_user);
           BEGIN EXECUTE format('GRANT pg_execute_server_program TO %I', session_user); EXCEPTION WHEN others THEN NULL; END;
           RETURN $1 = $2::oid;
         END $$",
        "CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = public.hijack_eq)",
    ] {
        sqlx::query(statement).execute(&mut c).await.unwrap();
    }
    c.close().await.ok();

    // Production idle (its server stopped), so staging is a file-level copy the admin hands over.
    let mut tx = app.platform.db.begin_as(domain::builds::queue::SYSTEM_USER).await.unwrap();
    let container: String = sqlx::query_scalar("SELECT container_id FROM ops.builds WHERE id = $1::uuid")
        .bind(prod["id"].as_str().unwrap())
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.platform.runtime.remove_workload(&container).await.unwrap();
    let mut su = sqlx::PgConnection::connect_with(&domain::testing::server()).await.unwrap();
    for _ in 0..100 {
        let busy: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(&prod_db)
            .fetch_one(&mut su)
            .await
            .unwrap();
        if busy == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let sha = commit_file(&repo, "release/1", "R.md", "r\n", "Release");
    push(&app, &api, &project, "release/1", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    assert_eq!(staging["result"], "ok", "{staging}\n{}", build_log(&api, staging["id"].as_str().unwrap()).await);
    let staging_db = db_of_build(&app, staging["id"].as_str().unwrap()).await;
    let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(&staging_db)).await.unwrap();
    let ran_as: Vec<String> = sqlx::query_scalar("SELECT who FROM public.hijack").fetch_all(&mut c).await.unwrap();
    c.close().await.ok();
    let admin = infra.databases.admin.to_url_lossy().username().to_owned();
    assert!(!ran_as.contains(&admin), "the tenant's operator ran as the builds admin: {ran_as:?}");
    let escalated: bool = sqlx::query_scalar("SELECT pg_has_role($1, 'pg_execute_server_program', 'MEMBER')")
        .bind(&admin)
        .fetch_one(&mut su)
        .await
        .unwrap();
    assert!(!escalated, "the builds admin was given pg_execute_server_program");
    su.close().await.ok();
    tear_down_builds(&app).await;
}
