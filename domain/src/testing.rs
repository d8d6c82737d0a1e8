//! Test support shared by every crate's suites: one private PostgreSQL
//! cluster per test process (started on first use, under `target/test-pg/`),
//! and a fresh database in it for each test. When Docker is there, the cluster
//! also listens on the Docker bridge so build containers reach their databases.
//! `TEST_DATABASE_URL` points the suites at an existing server instead (it must
//! allow CREATE DATABASE and CREATE ROLE; `TEST_DOCKER_GATEWAY` then says where
//! containers reach it).

use crate::db::embedded::{quote_ident, Durability, EmbeddedPostgres};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

struct Shared {
    admin: PgConnectOptions,
    /// The builds' admin: CREATEDB and CREATEROLE, not a superuser.
    builds_admin: PgConnectOptions,
    /// The Docker bridge gateway the cluster also listens on, when Docker is there.
    gateway: Option<String>,
    /// The same logins as URLs (with `{db}` for the database), for processes tests start.
    admin_url: String,
    builds_admin_url: String,
}

fn shared() -> &'static Shared {
    static SERVER: OnceLock<Shared> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            let admin = PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL is a postgres URL");
            let builds_admin = std::env::var("TEST_BUILDS_DATABASE_URL")
                .map(|u| PgConnectOptions::from_str(&u).expect("TEST_BUILDS_DATABASE_URL is a postgres URL"))
                .unwrap_or_else(|_| admin.clone());
            let builds_admin_url = std::env::var("TEST_BUILDS_DATABASE_URL").unwrap_or_else(|_| url.clone());
            let admin_url = match url.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{{db}}"),
                None => url.clone(),
            };
            return Shared {
                admin,
                builds_admin,
                gateway: std::env::var("TEST_DOCKER_GATEWAY").ok(),
                admin_url,
                builds_admin_url,
            };
        }
        // A dedicated thread owns the runtime that started the cluster and
        // lives as long as the process.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                use crate::engine::ContainerEngine;
                let engine = crate::engine::DockerEngine::from_env();
                let gateway = match engine.ping().await {
                    Ok(_) => engine.bridge_gateway().await.ok().flatten(),
                    Err(_) => None,
                };
                let extra: Vec<String> = gateway.iter().cloned().collect();
                let pg = EmbeddedPostgres::start_listening(&test_root(), Durability::Throwaway, &extra)
                    .await
                    .expect("starting the test PostgreSQL cluster");
                let builds_admin = pg.builds_admin().await.expect("the builds' admin role");
                let dbs = crate::builds::infra::BuildDatabases {
                    admin: builds_admin.clone(),
                    host_for_containers: String::new(),
                    port_for_containers: 0,
                    socket_dir: None,
                    role_key: role_key().to_vec(),
                };
                dbs.prepare("test").await.expect("preparing the builds' server");
                let shared = Shared {
                    admin: pg.connect_options("postgres"),
                    builds_admin,
                    gateway,
                    admin_url: pg.url("{db}"),
                    builds_admin_url: pg.builds_admin_url().expect("the builds' admin URL"),
                };
                tx.send(shared).expect("send");
                std::mem::forget(pg);
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("test cluster thread")
    })
}

/// The URL of `database` on the shared test server, for processes a test starts.
pub fn database_url(database: &str) -> String {
    shared().admin_url.replace("{db}", database)
}

/// The builds' admin login on the test server as a URL, and where containers reach it (with Docker).
pub fn build_databases_url() -> Option<(String, String)> {
    let s = shared();
    Some((s.builds_admin_url.clone(), s.gateway.clone()?))
}

/// Admin connection options of the shared test server.
pub fn server() -> PgConnectOptions {
    shared().admin.clone().log_statements(tracing::log::LevelFilter::Off)
}

/// The test server as a builds database server, when Docker is available.
pub fn build_databases() -> Option<crate::builds::infra::BuildDatabases> {
    let s = shared();
    let gateway = s.gateway.clone()?;
    Some(crate::builds::infra::BuildDatabases {
        admin: s.builds_admin.clone().log_statements(tracing::log::LevelFilter::Off),
        host_for_containers: gateway,
        port_for_containers: s.admin.get_port(),
        socket_dir: None,
        role_key: role_key().to_vec(),
    })
}

/// This test process's key for the build roles' passwords.
fn role_key() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| crate::auth::random_token(32).into_bytes())
}

fn test_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let base = target.join("test-pg");
    // Clusters of earlier test processes that are gone: remove them.
    for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
        let pid: Option<i32> = entry.file_name().to_str().and_then(|s| s.parse().ok());
        // SAFETY: kill with signal 0 only checks whether the pid exists.
        if pid.is_some_and(|p| unsafe { libc::kill(p, 0) } != 0) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let root = base.join(std::process::id().to_string());
    std::fs::create_dir_all(&root).expect("creating the test cluster directory");
    root
}

/// Creates an empty database with a unique name; returns its owner options.
pub async fn fresh_database() -> PgConnectOptions {
    let server = server();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect_with(&server).await.expect("connecting to the test server");
    sqlx::query(&format!("CREATE DATABASE {}", quote_ident(&name))).execute(&mut conn).await.expect("CREATE DATABASE");
    conn.close().await.ok();
    server.database(&name)
}
