//! The instance state machine against the real executor (issue 14): random
//! sequences of operations — pause, resume, restart, redeploy, backup,
//! restore, database moves both ways, decommission — asked of real
//! instances (the stand-in on Docker, real PostgreSQL servers). After each,
//! the instance is where the machine says, an operation its state forbids
//! was refused, and what exists matches the state: a paused instance has no
//! container, an active one answers, a dedicated one has its server and a
//! shared one none. Whatever the sequence, decommissioning then leaves no
//! container, network, database, filestore or server behind.

use crate::helpers::{spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::instances::{confirmed, ended, odoo_client, operate, project_databases, ADMIN_PASSWORD};
use domain::builds::queue::SYSTEM_USER;
use domain::engine::ContainerEngine as _;
use domain::types::{InstanceState, OperationKind};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The operations drawn (provisioning happens first, always).
const KINDS: &[OperationKind] = &[
    OperationKind::Pause,
    OperationKind::Resume,
    OperationKind::Restart,
    OperationKind::Redeploy,
    OperationKind::Backup,
    OperationKind::Restore,
    OperationKind::MigrateDatabase,
    OperationKind::Decommission,
];

#[test]
fn random_operation_sequences_on_real_instances_follow_the_machine_and_leave_no_orphan() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = rt.block_on(spawn_app_with_builds());
    let (staff_token, bob_token) = rt.block_on(async {
        let owner = app.signed_up("ann@platform.test", "Platform").await;
        let bob = confirmed(&app, "bob@bobco.test", "Bobco").await;
        (owner.token().await, bob.token)
    });
    let (staff, bob) = (app.api(&staff_token), app.api(&bob_token));
    // Few cases, each a real instance's life; shrinking re-runs them, so it is bounded too.
    let config = Config { cases: 3, max_shrink_iters: 6, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let case = AtomicUsize::new(0);
    let steps = proptest::collection::vec(0..KINDS.len(), 3..8);
    let result = runner.run(&steps, |steps| {
        let n = case.fetch_add(1, Ordering::SeqCst);
        rt.block_on(life(&app, &staff, &bob, n, &steps)).map_err(TestCaseError::fail)
    });
    rt.block_on(tear_down_builds(&app));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// One instance through `steps`, then decommissioned; `Err` says what broke.
async fn life(app: &TestApp, staff: &Api<'_>, bob: &Api<'_>, n: usize, steps: &[usize]) -> Result<(), String> {
    let sub = format!("life{n}");
    let (status, created) = bob
        .post(
            "/api/v1/instances",
            json!({"name": sub, "subdomain": sub, "admin_login": "bob@bobco.test", "admin_password": ADMIN_PASSWORD}),
        )
        .await;
    check(status == 201, format!("create: {status} {created}"))?;
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, ops) = bob.get(&format!("/api/v1/instances/{id}/operations")).await;
    let first = ended(bob, &id, ops[0]["id"].as_str().unwrap()).await;
    check(first["state"] == "done", format!("provisioning: {first}"))?;
    let mut done = Vec::new();
    for &k in steps {
        let kind = KINDS[k];
        let instance = bob.get(&format!("/api/v1/instances/{id}")).await.1;
        let from = InstanceState::parse(instance["state"].as_str().unwrap()).unwrap();
        let mut body = json!({"kind": kind.as_str()});
        if kind == OperationKind::Restore {
            let (_, backups) = bob.get(&format!("/api/v1/instances/{id}/backups")).await;
            match backups.as_array().and_then(|b| b.iter().find(|b| b["state"] == "done")) {
                Some(b) => body["backup_id"] = b["id"].clone(),
                None => continue,
            }
        }
        // Platform staff move databases; the tenant's admin asks for everything else.
        let who = if kind == OperationKind::MigrateDatabase { staff } else { bob };
        let (status, op) = operate(who, &id, body).await;
        if !kind.allowed_from(from) {
            check(status == 409, format!("{kind} from {from} was not refused: {status} {op}"))?;
            continue;
        }
        check(status == 202, format!("{kind} from {from}: {status} {op}"))?;
        let op = ended(bob, &id, op["id"].as_str().unwrap()).await;
        let now = state_of(bob, &id).await;
        let expected = if op["state"] == "done" { kind.success_state(from) } else { kind.failure_state(from) };
        check(
            now == expected || (op["state"] == "failed" && now == InstanceState::Error),
            format!("{kind} from {from} ended {} and left {now}, not {expected}: {op}", op["state"]),
        )?;
        done.push(format!("{kind}→{now}"));
        invariants(app, bob, &id, now).await.map_err(|e| format!("after {done:?}: {e}"))?;
    }
    // Whatever happened: decommissioning leaves nothing.
    if state_of(bob, &id).await != InstanceState::Decommissioned {
        let (status, op) = operate(bob, &id, json!({"kind": "decommission"})).await;
        check(status == 202, format!("decommission: {status} {op}"))?;
        let op = ended(bob, &id, op["id"].as_str().unwrap()).await;
        check(op["state"] == "done", format!("decommission after {done:?}: {op}"))?;
    }
    nothing_left(app, &id).await.map_err(|e| format!("after {done:?} and decommissioning: {e}"))
}

fn check(ok: bool, why: String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why)
    }
}

async fn state_of(api: &Api<'_>, id: &str) -> InstanceState {
    let (_, i) = api.get(&format!("/api/v1/instances/{id}")).await;
    InstanceState::parse(i["state"].as_str().unwrap()).unwrap()
}

/// The instance's project, its serving database (if any) and its strategy.
async fn facts(app: &TestApp, id: &str) -> (String, Option<String>, String) {
    let mut tx = app.platform.db.begin_as(SYSTEM_USER).await.unwrap();
    let row: (String, Option<String>, String) = sqlx::query_as(
        "SELECT i.project_id::text,
                (SELECT b.db_name FROM ops.builds b WHERE b.env_id = i.env_id AND b.db_name IS NOT NULL
                   AND (b.live OR b.result IN ('ok', 'warn')) ORDER BY b.live DESC, b.finished_at DESC NULLS LAST LIMIT 1),
                i.db_strategy
           FROM ops.instances i WHERE i.id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    row
}

/// What exists matches the state.
async fn invariants(app: &TestApp, api: &Api<'_>, id: &str, state: InstanceState) -> Result<(), String> {
    check(!state.working(), format!("left working: {state}"))?;
    let (project, db, strategy) = facts(app, id).await;
    let infra = app.platform.builds.as_ref().unwrap();
    let containers = crate::helpers::docker()
        .containers_with_label(&format!("odooops.project={project}"))
        .await
        .map_err(|e| e.to_string())?;
    let instance: uuid::Uuid = id.parse().unwrap();
    let dedicated = infra.dedicated.exists(instance);
    // A dedicated server exists exactly while a dedicated instance holds resources.
    let wanted = strategy == "dedicated" && state.holds_resources();
    check(dedicated == wanted, format!("{state} {strategy} instance, dedicated server present: {dedicated}"))?;
    match state {
        InstanceState::Paused => check(containers.is_empty(), format!("paused with containers {containers:?}"))?,
        InstanceState::Active => {
            let sub = api.get(&format!("/api/v1/instances/{id}")).await.1["subdomain"].as_str().unwrap().to_owned();
            let (odoo, base) = odoo_client(app, &format!("{sub}.localhost"));
            let page = odoo.get(format!("{base}/web/login")).send().await.map_err(|e| e.to_string())?;
            check(page.status() == 200, format!("active but its address answers {}", page.status()))?;
        }
        _ => {}
    }
    if matches!(state, InstanceState::Active | InstanceState::Paused) {
        let db = db.ok_or("no database")?;
        let on = infra.db(&db).list_all().await.map_err(|e| e.to_string())?;
        check(on.contains(&db), format!("{db} is not on the server it is routed to"))?;
    }
    Ok(())
}

/// No container, network, database, filestore or dedicated server of the instance.
async fn nothing_left(app: &TestApp, id: &str) -> Result<(), String> {
    let (project, _, _) = facts(app, id).await;
    let infra = app.platform.builds.as_ref().unwrap();
    let docker = crate::helpers::docker();
    let containers =
        docker.containers_with_label(&format!("odooops.project={project}")).await.map_err(|e| e.to_string())?;
    check(containers.is_empty(), format!("containers left: {containers:?}"))?;
    let networks = std::process::Command::new("docker")
        .args(["network", "ls", "-q", "--filter", &format!("label=odooops.project={project}")])
        .output()
        .map_err(|e| e.to_string())?;
    let networks = String::from_utf8_lossy(&networks.stdout).trim().to_owned();
    check(networks.is_empty(), format!("networks left: {networks}"))?;
    let dbs = project_databases(app, &project).await;
    let shared = infra.databases.list_all().await.map_err(|e| e.to_string())?;
    for db in &dbs {
        check(!shared.contains(db), format!("database {db} left on the shared server"))?;
        check(!infra.filestore_dir.join(db).exists(), format!("filestore of {db} left"))?;
    }
    check(!infra.dedicated.exists(id.parse().unwrap()), "a dedicated server left".into())
}
