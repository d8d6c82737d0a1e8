//! Dedicated PostgreSQL servers: an instance whose strategy is `dedicated`
//! gets its own server process with its own data directory, port and memory
//! settings, started from the machine's PostgreSQL binaries like the embedded
//! cluster. It holds nothing but that instance's database and role, and no
//! container reaches it over the network: it listens on loopback (for the
//! console) and on a unix socket in a directory of its own, which is
//! mounted read-only into its instance's containers and nobody else's. Its
//! `pg_hba.conf` admits through that socket only tenant roles into the
//! database of their own name, and the instance's role is the only tenant
//! role it has.
//!
//! Every statement on the instance's database goes through
//! [`BuildInfra::db`](crate::builds::infra::BuildInfra::db), which answers
//! the dedicated server for the databases routed to it here and the shared
//! server for everything else; the pipeline, backups, restores and teardown
//! work unchanged on either.

use crate::builds::infra::{BuildDatabases, DB_SOCKET_MOUNT};
use crate::db::embedded::{Durability, EmbeddedPostgres, Tuning};
use anyhow::Context;
use sqlx::ConnectOptions;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A dedicated server's memory and connection settings (a plan's size).
pub const SETTINGS: &[&str] =
    &["shared_buffers=64MB", "max_connections=40", "work_mem=8MB", "maintenance_work_mem=64MB", "max_wal_size=256MB"];

struct Running {
    pg: EmbeddedPostgres,
    dbs: BuildDatabases,
    /// Databases named this, or this and `_…`, live here once routed.
    prefix: String,
    routed: bool,
}

/// The dedicated servers this console runs, and which databases live on them.
#[derive(Clone)]
pub struct Servers {
    root: PathBuf,
    /// Where the servers' socket directories go (short: see [`socket_root`]).
    sockets: PathBuf,
    running: Arc<Mutex<HashMap<Uuid, Running>>>,
}

impl Servers {
    /// Servers kept under `root/<instance>`.
    pub fn new(root: PathBuf) -> Servers {
        Servers { root, sockets: socket_root(), running: Arc::default() }
    }

    /// The directory of the instance's socket, mounted into its containers.
    pub fn socket_dir(&self, instance: Uuid) -> PathBuf {
        self.sockets.join(&instance.simple().to_string()[..16])
    }

    /// Where the instance's server keeps its data.
    pub fn dir(&self, instance: Uuid) -> PathBuf {
        self.root.join(instance.simple().to_string())
    }

    /// Starts the instance's server (initialising it on first use) on `port`
    /// when it is free, reachable by containers through its socket directory
    /// only ([`BuildDatabases::socket_dir`]). Its databases are not routed to it yet. Returns the server and its port.
    pub async fn ensure(
        &self,
        instance: Uuid,
        prefix: &str,
        port: Option<u16>,
        shared: &BuildDatabases,
        installation: &str,
    ) -> anyhow::Result<(BuildDatabases, u16)> {
        if let Some(r) = self.running.lock().expect("servers lock").get(&instance) {
            return Ok((r.dbs.clone(), r.pg.port()));
        }
        let dir = self.dir(instance);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let socket_dir = self.socket_dir(instance);
        safe_socket_root(&self.sockets)?;
        let tuning = Tuning {
            port,
            settings: SETTINGS.iter().map(|s| (*s).to_owned()).collect(),
            socket_dir: Some(socket_dir.clone()),
        };
        let pg = EmbeddedPostgres::start_tuned(&dir, Durability::Full, &[], &tuning)
            .await
            .context("starting the instance's dedicated PostgreSQL server")?;
        let admin = pg.builds_admin().await.context("the dedicated server's admin role")?;
        let dbs = BuildDatabases {
            // Tenant statements are not the console's log.
            admin: admin.log_statements(tracing::log::LevelFilter::Off),
            host_for_containers: DB_SOCKET_MOUNT.to_owned(),
            port_for_containers: pg.port(),
            socket_dir: Some(socket_dir),
            role_key: shared.role_key.clone(),
        };
        dbs.prepare(installation).await.context("preparing the dedicated server")?;
        let mut running = self.running.lock().expect("servers lock");
        // Another task may have started it meanwhile: keep the first (dropping ours stops it).
        let r = running.entry(instance).or_insert(Running { pg, dbs, prefix: prefix.to_owned(), routed: false });
        Ok((r.dbs.clone(), r.pg.port()))
    }

    /// From now on the instance's databases are reached on its dedicated server.
    pub fn route(&self, instance: Uuid) {
        if let Some(r) = self.running.lock().expect("servers lock").get_mut(&instance) {
            r.routed = true;
        }
    }

    /// From now on the instance's databases are reached on the shared server.
    pub fn unroute(&self, instance: Uuid) {
        if let Some(r) = self.running.lock().expect("servers lock").get_mut(&instance) {
            r.routed = false;
        }
    }

    /// The dedicated server `database` lives on, if it is routed to one.
    pub fn for_database(&self, database: &str) -> Option<BuildDatabases> {
        let running = self.running.lock().expect("servers lock");
        running
            .values()
            .find(|r| {
                r.routed
                    && database
                        .strip_prefix(r.prefix.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
            })
            .map(|r| r.dbs.clone())
    }

    /// The port the instance's server listens on, when it runs here.
    pub fn port(&self, instance: Uuid) -> Option<u16> {
        self.running.lock().expect("servers lock").get(&instance).map(|r| r.pg.port())
    }

    /// Stops the instance's server and deletes its data directory.
    pub async fn remove(&self, instance: Uuid) -> anyhow::Result<()> {
        let r = self.running.lock().expect("servers lock").remove(&instance);
        if let Some(r) = r {
            r.pg.stop().await.context("stopping the dedicated server")?;
        }
        let socket = self.socket_dir(instance);
        if std::fs::symlink_metadata(&socket).is_ok_and(|m| m.is_dir()) {
            std::fs::remove_dir_all(&socket).with_context(|| format!("removing {}", socket.display()))?;
        }
        let dir = self.dir(instance);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display())),
            // Not a server's directory (nothing of ours to remove there).
            Ok(_) => {
                tracing::warn!(dir = %dir.display(), "not a directory: left alone");
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
        }
    }

    /// Whether the instance has a data directory here (a server to start or remove).
    pub fn exists(&self, instance: Uuid) -> bool {
        self.dir(instance).is_dir()
    }
}

/// Where dedicated servers' socket directories go: `/run/odooops` for root,
/// else the user's runtime directory, else `/tmp/odooops-<uid>`. Short,
/// because a socket's whole path must fit in 107 bytes, and on this host,
/// because Docker mounts it into containers.
pub fn socket_root() -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    if uid == 0 {
        return PathBuf::from("/run/odooops");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("odooops"),
        _ => std::env::temp_dir().join(format!("odooops-{uid}")),
    }
}

/// Creates `root` if missing and refuses it unless it is a real directory of
/// ours that nobody else may write (in `/tmp`, someone could have put a link
/// or their own directory there first).
fn safe_socket_root(root: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o755).create(root) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", root.display())),
    }
    let m = std::fs::symlink_metadata(root).with_context(|| format!("reading {}", root.display()))?;
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    anyhow::ensure!(
        m.is_dir() && m.uid() == uid && m.mode() & 0o022 == 0,
        "{} must be a directory of this user that others cannot write (the dedicated servers' sockets go there)",
        root.display()
    );
    Ok(())
}

/// The names of an instance's production databases: `op_<installation>_<env>`,
/// and `…_<suffix>` for restores (see the pipeline's database phase).
pub fn database_prefix(installation: &str, env: Uuid) -> String {
    format!("op_{installation}_{}", crate::builds::pipeline::short(env))
}

/// Starts the dedicated servers of this installation's instances that have
/// one, and routes their databases to them (at console start).
pub async fn start_all(p: &crate::platform::Platform, infra: &crate::builds::infra::BuildInfra) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(crate::builds::queue::SYSTEM_USER).await?;
    let rows: Vec<(Uuid, Uuid, Option<i32>)> = sqlx::query_as(
        "SELECT id, env_id, db_port FROM ops.instances
          WHERE db_strategy = 'dedicated' AND state NOT IN ('draft', 'decommissioned')",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for (instance, env, port) in rows {
        let prefix = database_prefix(&infra.installation, env);
        let port = port.and_then(|p| u16::try_from(p).ok());
        match infra.dedicated.ensure(instance, &prefix, port, &infra.databases, &infra.installation).await {
            Ok((_, got)) => {
                infra.dedicated.route(instance);
                if Some(got) != port {
                    tracing::warn!(%instance, port = got, "the dedicated server got a new port: redeploy the instance");
                    record_port(p, instance, Some(got)).await?;
                }
            }
            Err(e) => {
                tracing::error!(%instance, error = %format!("{e:#}"), "a dedicated PostgreSQL server did not start")
            }
        }
    }
    Ok(())
}

/// Keeps the instance's server port (or none, on the shared server) and strategy.
pub async fn record_port(p: &crate::platform::Platform, instance: Uuid, port: Option<u16>) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(crate::builds::queue::SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.instances SET db_port = $2 WHERE id = $1")
        .bind(instance)
        .bind(port.map(i32::from))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
