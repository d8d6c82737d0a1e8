//! The kit's local mode on real builds: a development build's database read
//! through its read-only role and written as its own role; production read
//! but never written; the role matrix (a tester on production, a stranger);
//! and what a hostile statement tries — writing through the read-only
//! endpoint, riding a second statement along, reading the server's files or
//! its roles' passwords, running forever, returning everything — each refused
//! with a clear message. One audit event per call; the readers go with their
//! databases.

use crate::helpers::{add_project_member, spawn_app_with_builds_and, tear_down_builds, Api, TestApp};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use serde_json::{json, Value};

async fn read(api: &Api<'_>, build: &str, sql: &str) -> (u16, Value) {
    api.post(&format!("/api/v1/builds/{build}/database/query/read-only"), json!({ "query": sql })).await
}

async fn write(api: &Api<'_>, build: &str, sql: &str) -> (u16, Value) {
    api.post(&format!("/api/v1/builds/{build}/database/query"), json!({ "query": sql })).await
}

fn refused(answer: &(u16, Value), status: u16, says: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    let message = answer.1["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "expected {says:?} in {message:?}");
}

async fn audit_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = 'kit.local_call'")
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_builds_database_is_browsed_read_only_written_where_allowed_and_never_escaped() {
    let app = spawn_app_with_builds_and(|_| {}).await;
    let owner = app.signed_up("owner@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let repo = repository();
    let project = standin_project(&api, "Local kit", &repo).await;
    let main = commit_file(&repo, "main", "README.md", "production\n", "production");
    push(&app, &api, &project, "main", &main).await;
    let prod = finished(&api, &project, &main).await;
    let dev_sha = commit_file(&repo, "feature-x", "README.md", "dev\n", "a change");
    push(&app, &api, &project, "feature-x", &dev_sha).await;
    let dev = finished(&api, &project, &dev_sha).await;
    assert_eq!((prod["result"].as_str(), dev["result"].as_str()), (Some("ok"), Some("ok")), "{prod} {dev}");
    let (prod, dev) = (prod["id"].as_str().unwrap().to_owned(), dev["id"].as_str().unwrap().to_owned());
    let mut calls = 0;

    // Reading: Odoo's tables, in PostgreSQL's own spelling, columns in order.
    let (status, body) = read(&api, &dev, "select name, state from ir_module_module order by name").await;
    calls += 1;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["columns"], json!(["name", "state"]));
    assert!(body["result"].as_array().unwrap().iter().any(|r| r["state"] == "installed"), "{body}");
    let (_, body) = read(&api, &dev, "select current_user, current_setting('transaction_read_only') as ro").await;
    calls += 1;
    let who = body["result"][0]["current_user"].as_str().unwrap().to_owned();
    assert!(who.starts_with("kr_"), "reads log in as the read-only role: {body}");
    assert_eq!(body["result"][0]["ro"], "on");

    // What a hostile statement tries through the read-only endpoint.
    let attacks: [(&str, &str); 8] = [
        ("insert into ir_config_parameter (key, value) values ('kit.x', 'y')", "read-only"),
        ("with gone as (delete from ir_module_module returning 1) select count(*) from gone", "permission denied"),
        ("commit; insert into ir_config_parameter (key, value) values ('kit.x', 'y')", "one statement"),
        ("set transaction read write", ""),
        ("select pg_read_file('/etc/passwd')", "permission denied"),
        ("select rolname, rolpassword from pg_authid", "permission denied"),
        ("copy (select 1) to program 'id'", ""),
        ("select pg_sleep(30)", "ran past 5 s"),
    ];
    for (sql, says) in attacks {
        let answer = read(&api, &dev, sql).await;
        calls += 1;
        if sql == "set transaction read write" {
            // Harmless alone: it changes a transaction that is then rolled back.
            assert_eq!(answer.0, 200, "{sql}: {}", answer.1);
            continue;
        }
        refused(&answer, 422, says);
    }
    let (_, body) = read(&api, &dev, "select count(*) as n from ir_config_parameter where key = 'kit.x'").await;
    calls += 1;
    assert_eq!(body["result"][0]["n"], "0", "nothing was written: {body}");
    // At most 1,000 rows come back, said so.
    let (status, body) = read(&api, &dev, "select generate_series(1, 5000) as n").await;
    calls += 1;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["result"].as_array().unwrap().len(), &body["truncated"]), (1000, &json!(true)));

    // Writing on development (its own role, committed), never on production.
    let (status, body) = write(&api, &dev, "insert into ir_config_parameter (key, value) values ('kit.x', 'y')").await;
    calls += 1;
    assert_eq!((status, &body["rows_affected"]), (200, &json!(1)), "{body}");
    let (_, body) = read(&api, &dev, "select value from ir_config_parameter where key = 'kit.x'").await;
    calls += 1;
    assert_eq!(body["result"][0]["value"], "y");
    refused(&write(&api, &prod, "delete from ir_config_parameter").await, 403, "off for everyone");
    calls += 1;
    let (status, body) = read(&api, &prod, "select count(*) as n from ir_module_module").await;
    calls += 1;
    assert_eq!(status, 200, "a project admin reads production: {body}");

    // The role matrix: a tester reads and writes development, has no tools on production; a stranger sees nothing.
    let tester = add_project_member(&app, &api, &project, "tester@acme.test", "tester").await;
    let tester = app.api(&tester.token().await);
    assert_eq!(read(&tester, &dev, "select 1 as one").await.0, 200);
    assert_eq!(write(&tester, &dev, "delete from ir_config_parameter where key = 'kit.x'").await.0, 200);
    refused(&read(&tester, &prod, "select 1").await, 403, "tools of its stage");
    refused(&write(&tester, &prod, "delete from ir_config_parameter").await, 403, "tools of its stage");
    calls += 4;
    let stranger = app.signed_up("eve@evil.test", "Evil").await;
    let stranger = app.api(&stranger.token().await);
    assert_eq!(read(&stranger, &dev, "select 1").await.0, 404);
    calls += 1;

    // The log: the build's own lines, searched; a level from the list only.
    let (status, body) = api.get(&format!("/api/v1/builds/{dev}/database/logs?search=finished&hours=24")).await;
    calls += 1;
    assert_eq!(status, 200, "{body}");
    assert!(!body["result"].as_array().unwrap().is_empty(), "{body}");
    assert_eq!(api.get(&format!("/api/v1/builds/{dev}/database/logs?level=loud")).await.0, 422);
    calls += 1;

    assert_eq!(audit_count(&app).await, calls, "one audit event per call");

    // The reader reaches its own database only, and goes with it.
    let infra = app.platform.builds.as_ref().unwrap();
    let mut tx = app.platform.db.begin_as(domain::builds::queue::SYSTEM_USER).await.unwrap();
    let names: Vec<String> =
        sqlx::query_scalar("SELECT db_name FROM ops.builds WHERE id = ANY($1::uuid[]) ORDER BY stage")
            .bind(vec![dev.parse::<uuid::Uuid>().unwrap(), prod.parse().unwrap()])
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    let reader = infra.databases.reader_options(&names[0]).await.unwrap();
    use sqlx::ConnectOptions;
    assert!(
        reader.clone().database(&names[1]).connect().await.is_err(),
        "the reader of {} enters {}",
        names[0],
        names[1]
    );
    tear_down_builds(&app).await;
    let mut c = app.platform.builds.as_ref().unwrap().databases.admin.connect().await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_roles WHERE rolname = ANY($1)")
        .bind(names.iter().map(|n| domain::builds::databases::BuildDatabases::reader_role(n)).collect::<Vec<_>>())
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(left, 0, "the readers are dropped with their databases");
}
