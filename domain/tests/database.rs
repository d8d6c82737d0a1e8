//! The control-plane database against a real PostgreSQL: migrations, the
//! application role, row-level security in raw SQL, the audit chain.

use domain::accounts::{self, SignUp};
use domain::auth::RequestMeta;
use domain::config::Settings;
use domain::db::Db;
use domain::mailer::MemoryMailer;
use domain::platform::Platform;
use domain::runtime::Unavailable;
use domain::wire::NewProject;
use sqlx::{Connection, Row};
use std::sync::Arc;

async fn platform() -> (Platform, sqlx::postgres::PgConnectOptions) {
    let opts = domain::testing::fresh_database().await;
    let db = Db::prepare(opts.clone(), 5).await.expect("prepare");
    let p = Platform::new(
        db,
        Arc::new(Unavailable("no docker in this test".into())),
        Arc::new(MemoryMailer::default()),
        Settings::for_url("http://localhost"),
    );
    (p, opts)
}

async fn sign_up(p: &Platform, email: &str, org: &str) -> domain::auth::Actor {
    // The first account needs the setup token the console would print.
    let setup = domain::auth::setup::issue(&p.db).await.expect("setup token");
    let (actor, _) = accounts::sign_up(
        p,
        SignUp {
            email,
            password: "long enough password",
            display_name: "",
            organisation: org,
            setup_token: setup.as_deref(),
        },
        RequestMeta::default(),
    )
    .await
    .expect("sign up");
    actor
}

fn project(name: &str) -> NewProject {
    NewProject {
        tenant: None,
        name: name.into(),
        slug: None,
        repo_url: "https://github.com/acme/addons.git".into(),
        odoo_version: "17.0".into(),
        stage_rules: None,
        base_image: None,
        production_requires_approval: None,
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_the_app_role_is_unprivileged() {
    let (p, opts) = platform().await;
    // A second start on the same database changes nothing and still connects.
    let again = Db::prepare(opts, 2).await.expect("second prepare");
    let role = again.app_role().to_owned();
    let (superuser, bypass, owns): (bool, bool, i64) = sqlx::query_as(
        "SELECT r.rolsuper, r.rolbypassrls, (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)
           FROM pg_roles r WHERE r.rolname = $1",
    )
    .bind(&role)
    .fetch_one(p.db.owner())
    .await
    .unwrap();
    assert!(!superuser && !bypass, "{role} must not be superuser or bypass RLS");
    assert_eq!(owns, 0, "{role} owns no relation");
}

#[tokio::test]
async fn raw_sql_as_the_app_role_sees_only_its_tenant() {
    let (p, opts) = platform().await;
    let alice = sign_up(&p, "alice@a.test", "Alpha").await;
    let bob = sign_up(&p, "bob@b.test", "Beta").await;
    let pa = domain::projects::create(&p, &alice, project("Alpha ERP")).await.unwrap();
    let pb = domain::projects::create(&p, &bob, project("Beta ERP")).await.unwrap();

    // Log in exactly as the application does.
    let password: String = sqlx::query_scalar("SELECT value FROM ops_private.settings WHERE key = 'app_role_password'")
        .fetch_one(p.db.owner())
        .await
        .unwrap();
    let app = opts.username(p.db.app_role()).password(&password);
    let mut conn = sqlx::PgConnection::connect_with(&app).await.unwrap();

    // No user set: nothing is visible.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.projects").fetch_one(&mut conn).await.unwrap();
    assert_eq!(n, 0);

    // As Bob (not the platform owner: Alice signed up first).
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('odooops.user_id', $1, true)")
        .bind(bob.user_id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM ops.projects").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(names, vec!["Beta ERP".to_string()]);
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.tenants").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(tenants, 1);
    let changed = sqlx::query("UPDATE ops.projects SET name = 'pwned' WHERE id = $1")
        .bind(pa.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 0, "cannot update another tenant's project");
    let deleted = sqlx::query("DELETE FROM ops.projects WHERE id = $1").bind(pa.id).execute(&mut *tx).await.unwrap();
    assert_eq!(deleted.rows_affected(), 0, "cannot delete another tenant's project");
    let insert = sqlx::query("INSERT INTO ops.projects (id, tenant_id, slug, name, repo_url, odoo_version, base_image, stage_rules) VALUES (gen_random_uuid(), $1, 'x', 'x', '/x', '17.0', 'odoo:17.0', '[]')")
        .bind(pa.tenant_id).execute(&mut *tx).await;
    assert!(insert.is_err(), "cannot create a project in another tenant");
    tx.rollback().await.unwrap();

    // Secrets are not readable at all, and audit rows cannot be changed.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('odooops.user_id', $1, true)")
        .bind(bob.user_id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    assert!(sqlx::query("SELECT password_hash FROM ops.users").fetch_all(&mut *tx).await.is_err());
    tx.rollback().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('odooops.user_id', $1, true)")
        .bind(bob.user_id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    assert!(sqlx::query("UPDATE ops.audit_events SET action = 'x'").execute(&mut *tx).await.is_err());
    tx.rollback().await.unwrap();
    assert!(sqlx::query("SET ROLE odooops").execute(&mut conn).await.is_err(), "cannot become the owner");

    // Alice, the platform owner, reads everything.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('odooops.user_id', $1, true)")
        .bind(alice.user_id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.projects WHERE id = ANY($1)")
        .bind(vec![pa.id, pb.id])
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 2);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn audit_chain_detects_tampering() {
    let (p, _) = platform().await;
    let alice = sign_up(&p, "alice@a.test", "Alpha").await;
    domain::projects::create(&p, &alice, project("One")).await.unwrap();
    domain::projects::create(&p, &alice, project("Two")).await.unwrap();
    let report = domain::audit::verify(p.db.owner()).await.unwrap();
    assert!(matches!(report, domain::audit::ChainReport::Intact { events } if events >= 3), "{report:?}");

    // As superuser, bypass the append-only trigger and edit a row.
    let mut tx = p.db.owner().begin().await.unwrap();
    sqlx::query("ALTER TABLE ops.audit_events DISABLE TRIGGER audit_append_only").execute(&mut *tx).await.unwrap();
    let id: i64 = sqlx::query("SELECT id FROM ops.audit_events WHERE action = 'project.create' ORDER BY id LIMIT 1")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("id");
    sqlx::query("UPDATE ops.audit_events SET target = 'project:forged' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE ops.audit_events ENABLE TRIGGER audit_append_only").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    match domain::audit::verify(p.db.owner()).await.unwrap() {
        domain::audit::ChainReport::BrokenAt { id: at, .. } => assert_eq!(at, id),
        other => panic!("tampering not detected: {other:?}"),
    }
}

#[tokio::test]
async fn password_reset_by_mail() {
    let opts = domain::testing::fresh_database().await;
    let db = Db::prepare(opts, 3).await.unwrap();
    let mailer = Arc::new(MemoryMailer::default());
    let p = Platform::new(
        db,
        Arc::new(Unavailable("none".into())),
        mailer.clone(),
        Settings::for_url("http://console.test"),
    );
    sign_up(&p, "carol@c.test", "Gamma").await;
    accounts::request_password_reset(&p, "nobody@c.test", &RequestMeta::default()).await.unwrap();
    assert!(mailer.sent().is_empty(), "unknown emails get no mail");
    accounts::request_password_reset(&p, "Carol@C.test", &RequestMeta::default()).await.unwrap();
    let mail = mailer.sent().pop().expect("a reset mail");
    let token = mail.body.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(accounts::reset_password(&p, &token, "short").await.is_err());
    accounts::reset_password(&p, &token, "a brand new password").await.unwrap();
    assert!(accounts::reset_password(&p, &token, "another new password").await.is_err(), "single use");
    assert!(accounts::sign_in(&p, "carol@c.test", "long enough password", RequestMeta::default()).await.is_err());
    assert!(accounts::sign_in(&p, "carol@c.test", "a brand new password", RequestMeta::default()).await.is_ok());
}

#[tokio::test]
async fn sign_in_is_throttled() {
    let (p, _) = platform().await;
    sign_up(&p, "dave@d.test", "Delta").await;
    for _ in 0..5 {
        let e = accounts::sign_in(&p, "dave@d.test", "wrong password!", RequestMeta::default()).await.unwrap_err();
        assert_eq!(e.code(), domain::ErrorCode::Invalid);
    }
    let e = accounts::sign_in(&p, "dave@d.test", "long enough password", RequestMeta::default()).await.unwrap_err();
    assert_eq!(e.code(), domain::ErrorCode::Throttled);
}

async fn queue_builds(p: &Platform, n: usize) -> Vec<uuid::Uuid> {
    use domain::builds::queue::{enqueue, NewBuild, SYSTEM_USER};
    let alice = sign_up(p, "q@a.test", "Queue").await;
    let project = domain::projects::create(p, &alice, project("Queue ERP")).await.unwrap();
    let env: uuid::Uuid = sqlx::query_scalar("SELECT id FROM ops.environments WHERE project_id = $1")
        .bind(project.id)
        .fetch_one(p.db.owner())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let mut tx = p.db.begin_as(SYSTEM_USER).await.unwrap();
        let sha = format!("{:040x}", i + 1);
        let b = NewBuild {
            tenant_id: project.tenant_id,
            project_id: project.id,
            env_id: env,
            branch: "main",
            stage: "production",
            commit_sha: &sha,
            subject: "s",
            author: "a",
            source: domain::builds::pipeline::plan::Source::Api,
        };
        ids.push(enqueue(&mut tx, b).await.unwrap());
        tx.commit().await.unwrap();
    }
    ids
}

#[tokio::test]
async fn concurrent_workers_never_claim_the_same_build() {
    let (p, _) = platform().await;
    let ids = queue_builds(&p, 6).await;
    let mut handles = Vec::new();
    for w in 0..4 {
        let p = p.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(b) = domain::builds::queue::claim(&p, &format!("w{w}")).await.unwrap() {
                mine.push(b.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for h in handles {
        claimed.extend(h.await.unwrap());
    }
    claimed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(claimed, expected, "each build claimed exactly once");
}

#[tokio::test]
async fn builds_interrupted_by_a_restart_are_retried_once_then_closed() {
    use domain::builds::queue::{claim, recover};
    let (p, _) = platform().await;
    let ids = queue_builds(&p, 1).await;
    let first = claim(&p, "host-a").await.unwrap().unwrap();
    assert_eq!((first.id, first.attempts), (ids[0], 1));
    // host-a "dies" and starts again.
    assert_eq!(recover(&p, "host-a").await.unwrap(), (1, 0));
    let again = claim(&p, "host-a").await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (ids[0], 2));
    assert_eq!(recover(&p, "host-a").await.unwrap(), (0, 1));
    let (state, result, reason): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT state, result, reason FROM ops.builds WHERE id = $1")
            .bind(ids[0])
            .fetch_one(p.db.owner())
            .await
            .unwrap();
    assert_eq!((state.as_str(), result.as_deref()), ("done", Some("ko")));
    assert!(reason.unwrap().contains("server stopped"));
    assert!(claim(&p, "host-a").await.unwrap().is_none());
    assert!(!domain::builds::queue::finish(&p, ids[0], "ok", None).await.unwrap(), "finishing twice changes nothing");
}

#[tokio::test]
async fn a_dead_consoles_build_is_taken_over_by_a_live_one_and_a_live_ones_is_not() {
    use domain::builds::queue::claim;
    use domain::jobs::recovery::{recover, Dead, Recovered};
    use domain::jobs::{queue, Kind};
    let (p, _) = platform().await;
    let ids = queue_builds(&p, 1).await;
    queue::register(&p, "console-a").await.unwrap();
    let first = claim(&p, "console-a").await.unwrap().unwrap();
    assert_eq!((first.id, first.attempts), (ids[0], 1));
    let lease = std::time::Duration::from_secs(30);
    // console-a beats: its build is its own.
    queue::beat(&p, "console-a").await.unwrap();
    assert_eq!(recover(&p, Dead::Stale(lease), &Kind::ALL).await.unwrap(), Recovered::default());
    assert!(claim(&p, "console-b").await.unwrap().is_none());
    // console-a stops beating (its process died): another console retries its build.
    sqlx::query("UPDATE ops.consoles SET heartbeat_at = now() - interval '1 hour' WHERE id = 'console-a'")
        .execute(p.db.owner())
        .await
        .unwrap();
    assert_eq!(recover(&p, Dead::Stale(lease), &Kind::ALL).await.unwrap(), Recovered { retried: 1, closed: 0 });
    let again = claim(&p, "console-b").await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (ids[0], 2));
    let (state, worker): (String, String) = sqlx::query_as("SELECT state, worker FROM ops.builds WHERE id = $1")
        .bind(ids[0])
        .fetch_one(p.db.owner())
        .await
        .unwrap();
    assert_eq!((state.as_str(), worker.as_str()), ("running", "console-b"));
    // Finishing closes the build and its job together.
    assert!(domain::builds::queue::finish(&p, ids[0], "ok", None).await.unwrap());
    let job: String = sqlx::query_scalar("SELECT state FROM ops.jobs WHERE subject = $1")
        .bind(ids[0])
        .fetch_one(p.db.owner())
        .await
        .unwrap();
    assert_eq!(job, "done");
}

#[tokio::test]
async fn each_periodic_task_is_one_row_and_runs_on_one_console_at_a_time() {
    use domain::jobs::{queue, Kind};
    let (p, _) = platform().await;
    // Two consoles start and seed the periodic tasks.
    queue::seed_periodic(&p, &Kind::ALL).await.unwrap();
    queue::seed_periodic(&p, &Kind::ALL).await.unwrap();
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, count(*) FROM ops.jobs WHERE subject IS NULL GROUP BY kind ORDER BY kind")
            .fetch_all(p.db.owner())
            .await
            .unwrap();
    assert_eq!(rows.len(), Kind::ALL.iter().filter(|k| k.period().is_some()).count(), "{rows:?}");
    assert!(rows.iter().all(|(_, n)| *n == 1), "{rows:?}");

    let take = |who: &'static str| {
        let p = p.clone();
        async move {
            let mut tx = p.db.begin_as(domain::builds::queue::SYSTEM_USER).await.unwrap();
            let job = queue::claim(&mut tx, who, &[Kind::Retention], i64::MAX).await.unwrap();
            tx.commit().await.unwrap();
            job
        }
    };
    let a = take("console-a").await.expect("due at once");
    assert!(take("console-b").await.is_none(), "it runs on one console at a time");
    queue::reschedule(&p, &a).await.unwrap();
    assert!(take("console-b").await.is_none(), "then it waits for its period");
    queue::wake(&p, Kind::Retention).await.unwrap();
    let b = take("console-b").await;
    assert!(b.is_some(), "woken, it is due again");
    // Woken while it runs (what the wake is about may have come too late for this run): due again once it ends.
    queue::wake(&p, Kind::Retention).await.unwrap();
    queue::reschedule(&p, &b.unwrap()).await.unwrap();
    assert!(take("console-a").await.is_some(), "a wake during a run is not lost");
}
