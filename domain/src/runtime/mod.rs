//! The workload runtime: where builds, previews and shells run, at the level
//! the pipeline thinks in (build an image, run a job to completion, serve an
//! environment and get an endpoint back, exec into it, tear down by owner),
//! not at the level of one container engine. Two real backends implement it:
//! [`docker::DockerRuntime`] (one Docker engine) and [`swarm::SwarmRuntime`]
//! (Docker Swarm mode: services, overlay networks, a registry across nodes);
//! [`fake::FakeRuntime`] serves unit tests. Networks, labels, bind mounts and
//! container addresses stay behind this seam.

pub mod docker;
pub mod fake;
pub mod swarm;

use crate::engine::LineSink;
pub use crate::engine::{ExecIo, ExecSpec, Labelled};
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::sync::watch;
use uuid::Uuid;

/// Which backend runs workloads (`--runtime`, `ODOOOPS_RUNTIME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    #[default]
    Docker,
    Swarm,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Docker => "docker",
            Backend::Swarm => "swarm",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docker" => Ok(Backend::Docker),
            "swarm" => Ok(Backend::Swarm),
            other => Err(format!("unknown runtime {other:?}: docker or swarm")),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the runtime reports about itself.
#[derive(Debug, Clone)]
pub struct RuntimeInfo {
    pub backend: Backend,
    pub version: String,
    pub api_version: String,
    /// Nodes that can run workloads (1 for a single engine).
    pub nodes: usize,
}

/// What the nodes that run workloads have together (zero when unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    pub cpus: f64,
    pub memory_bytes: i64,
}

impl RuntimeInfo {
    /// One line for a person (health, the status page).
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Docker => format!("Docker {} (API {})", self.version, self.api_version),
            Backend::Swarm => {
                format!("Docker Swarm, {} node(s), engine {} (API {})", self.nodes, self.version, self.api_version)
            }
        }
    }
}

/// Whom a workload or network belongs to. Its labels are derived from this
/// and nothing else, so teardown and the reconciler find everything by owner.
#[derive(Debug, Clone)]
pub struct Owner {
    pub installation: String,
    pub build: Uuid,
    pub project: Uuid,
    pub branch: String,
    pub stage: String,
    /// The preview host a router in front of the runtime (Traefik) sends to this workload.
    pub route: Option<String>,
    /// More hosts it answers (a tenant instance's own host and verified custom domains).
    pub also: Vec<String>,
    /// Whether Odoo's bus (`/websocket`) answers on [`ODOO_BUS_PORT`] (Odoo with workers).
    pub bus: bool,
}

impl Owner {
    /// The label every runtime object of this installation carries.
    pub fn installation_label(installation: &str) -> String {
        format!("odooops.installation={installation}")
    }

    /// The label every runtime object of one build carries.
    pub fn build_label(build: Uuid) -> String {
        format!("odooops.build={build}")
    }

    pub fn labels(&self) -> HashMap<String, String> {
        let mut labels = HashMap::from([
            ("odooops.managed".to_owned(), "true".to_owned()),
            ("odooops.installation".to_owned(), self.installation.clone()),
            ("odooops.build".to_owned(), self.build.to_string()),
            ("odooops.project".to_owned(), self.project.to_string()),
            ("odooops.branch".to_owned(), self.branch.clone()),
            ("odooops.stage".to_owned(), self.stage.clone()),
        ]);
        if let Some(host) = &self.route {
            let router = host.split('.').next().unwrap_or(host).to_owned();
            let hosts = std::iter::once(host)
                .chain(&self.also)
                .map(|h| format!("Host(`{h}`)"))
                .collect::<Vec<_>>()
                .join(" || ");
            labels.insert("traefik.enable".into(), "true".into());
            labels.insert(format!("traefik.http.routers.{router}.rule"), hosts.clone());
            labels.insert(format!("traefik.http.routers.{router}.service"), router.clone());
            labels.insert(format!("traefik.http.services.{router}.loadbalancer.server.port"), ODOO_PORT.to_string());
            if self.bus {
                // The longer rule wins in Traefik: `/websocket` goes to the bus port.
                labels.insert(
                    format!("traefik.http.routers.{router}-bus.rule"),
                    format!("({hosts}) && Path(`/websocket`)"),
                );
                labels.insert(format!("traefik.http.routers.{router}-bus.service"), format!("{router}-bus"));
                labels.insert(
                    format!("traefik.http.services.{router}-bus.loadbalancer.server.port"),
                    ODOO_BUS_PORT.to_string(),
                );
            }
        }
        labels
    }

    /// The name of the owner's private network (and the prefix of its workloads' names).
    pub fn network_name(&self) -> String {
        format!("odooops-{}-b{}", self.installation, crate::builds::pipeline::short(self.build))
    }
}

/// The port Odoo serves on inside its workload.
pub const ODOO_PORT: u16 = 8069;

/// Where Odoo with workers serves its bus (`/websocket`): the gevent port.
pub const ODOO_BUS_PORT: u16 = 8072;

/// A filestore: a directory on the console's side, mounted where Odoo keeps
/// the database's files.
#[derive(Debug, Clone)]
pub struct Filestore {
    pub host: PathBuf,
    pub container: String,
}

/// Something to run: a job (install, tests) or a server (Odoo).
#[derive(Debug, Clone)]
pub struct Workload {
    /// Unique among the installation's workloads (the build's id is in it).
    pub name: String,
    pub image: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub owner: Owner,
    /// The owner's network, from [`Runtime::network`].
    pub network: String,
    pub filestore: Option<Filestore>,
    /// A dedicated PostgreSQL server's socket directory on the host, mounted
    /// read-only at [`DB_SOCKET_MOUNT`](crate::builds::infra::DB_SOCKET_MOUNT).
    pub db_socket: Option<PathBuf>,
    /// CPU limit in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    pub memory_bytes: Option<i64>,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Exited(i64),
    /// Stopped because its build was killed.
    Killed,
}

/// A serving workload.
pub struct Served {
    /// What exec and teardown take (a container, a service).
    pub handle: String,
    /// `host:port` where the console's router reaches Odoo.
    pub endpoint: String,
    /// Ends when the server's log ends (it stopped).
    pub logs: tokio::task::JoinHandle<()>,
}

/// One reading of a workload's cumulative counters; CPU % comes from two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// CPU time the workload used, in total (ns).
    pub cpu_total_ns: u64,
    /// CPU time the host used, in total (ns).
    pub system_ns: u64,
    pub online_cpus: u32,
    pub mem_bytes: Option<u64>,
    pub mem_limit_bytes: Option<u64>,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub blk_read_bytes: u64,
    pub blk_write_bytes: u64,
}

impl Counters {
    /// CPU % between two readings, as `docker stats` shows it (100 % is one whole CPU).
    pub fn cpu_pct_since(&self, before: &Counters) -> Option<f64> {
        let used = self.cpu_total_ns.checked_sub(before.cpu_total_ns)? as f64;
        let system = self.system_ns.checked_sub(before.system_ns)? as f64;
        (system > 0.0).then(|| used / system * f64::from(self.online_cpus) * 100.0)
    }
}

/// What the runtime holds for an installation, for the reconciler.
#[derive(Debug, Default, Clone)]
pub struct Owned {
    pub workloads: Vec<Labelled>,
    pub networks: Vec<Labelled>,
}

#[async_trait]
pub trait Runtime: Send + Sync {
    fn backend(&self) -> Backend;
    /// `Err` says, for a person, why the runtime cannot be used.
    async fn ping(&self) -> Result<RuntimeInfo, String>;
    /// One reading of a serving workload's counters (`None`: this runtime keeps none, or it is not running).
    async fn stats(&self, _handle: &str) -> anyhow::Result<Option<Counters>> {
        Ok(None)
    }
    /// The CPUs and memory of its nodes (the dashboard's capacity; slower than `ping`).
    async fn capacity(&self) -> anyhow::Result<Capacity> {
        Ok(Capacity::default())
    }
    /// The address workloads reach this host at (the builds' database, the
    /// mail catcher); `None` when there is none to listen on.
    async fn host_address(&self) -> anyhow::Result<Option<String>>;

    /// Creates the owner's private network (idempotent); its name.
    async fn network(&self, owner: &Owner) -> anyhow::Result<String>;
    /// Builds `context` (a tar file with a Dockerfile at its root, streamed
    /// from disk), its RUN steps on `network`; streams output lines. Returns
    /// the image id. With a registry, the image is pushed so every node can pull it.
    async fn build_image(
        &self,
        context: &std::path::Path,
        tag: &str,
        labels: HashMap<String, String>,
        network: Option<&str>,
        out: LineSink,
    ) -> anyhow::Result<String>;
    async fn image_exists(&self, image: &str) -> anyhow::Result<bool>;
    /// Labels of an image, `None` when it is absent.
    async fn image_labels(&self, image: &str) -> anyhow::Result<Option<HashMap<String, String>>>;
    /// Removes an image by tag; a missing or still-used one is left alone.
    async fn remove_image(&self, image: &str) -> anyhow::Result<()>;
    /// Tags of the images matching `pattern` (e.g. `odooops-build/abc-*`).
    async fn images_matching(&self, pattern: &str) -> anyhow::Result<Vec<String>>;

    /// Runs `w` to its end, its log lines to `out`; a kill stops it.
    async fn run_to_completion(
        &self,
        w: &Workload,
        out: LineSink,
        kill: watch::Receiver<bool>,
    ) -> anyhow::Result<Finished>;
    /// Starts `w` as a server and says where it is reachable; its log lines go to `out`.
    async fn serve(&self, w: &Workload, out: LineSink) -> anyhow::Result<Served>;
    /// Whether the workload `serve` started as `handle` still holds `endpoint`. An
    /// answer at an address proves nothing on its own: a workload that stopped
    /// lets its address go, and on an address space shared between tenants (the
    /// swarm's `docker_gwbridge`) the next workload to start may take it.
    async fn still_at(&self, _handle: &str, _endpoint: &str) -> anyhow::Result<bool> {
        Ok(true)
    }

    /// Starts a process in a serving workload, attached to its stdin and output.
    async fn exec(&self, handle: &str, spec: &ExecSpec) -> anyhow::Result<ExecIo>;
    async fn resize_exec(&self, exec: &str, cols: u16, rows: u16) -> anyhow::Result<()>;
    /// The exit code of a finished exec (`None` while it runs).
    async fn exec_exit_code(&self, exec: &str) -> anyhow::Result<Option<i64>>;

    /// The workloads of one build (running or not).
    async fn workloads_of(&self, build: Uuid) -> anyhow::Result<Vec<Labelled>>;
    /// Everything the runtime holds for `installation`.
    async fn owned(&self, installation: &str) -> anyhow::Result<Owned>;
    /// Removes a workload and what it runs; gone already is fine.
    async fn remove_workload(&self, id: &str) -> anyhow::Result<()>;
    async fn remove_network(&self, name: &str) -> anyhow::Result<()>;

    /// Removes a build's workloads, then its network. Idempotent.
    async fn teardown(&self, build: Uuid, network: Option<&str>) -> anyhow::Result<()> {
        for w in self.workloads_of(build).await? {
            self.remove_workload(&w.id).await?;
        }
        if let Some(net) = network {
            self.remove_network(net).await?;
        }
        Ok(())
    }
}

/// The runtime selected by configuration. Swarm only: `registry`, where
/// images go so that every node can pull them; `constraints`, placement
/// constraints added to every workload.
pub fn from_env(backend: Backend, registry: Option<String>, constraints: Vec<String>) -> std::sync::Arc<dyn Runtime> {
    let engine = std::sync::Arc::new(crate::engine::DockerEngine::from_env());
    match backend {
        Backend::Docker => std::sync::Arc::new(docker::DockerRuntime::new(engine)),
        Backend::Swarm => std::sync::Arc::new(swarm::SwarmRuntime::new(engine, registry, constraints)),
    }
}

/// A runtime that is never there, for tests and consoles without builds.
pub struct Unavailable(pub String);

#[async_trait]
impl Runtime for Unavailable {
    fn backend(&self) -> Backend {
        Backend::Docker
    }
    async fn ping(&self) -> Result<RuntimeInfo, String> {
        Err(self.0.clone())
    }
    async fn host_address(&self) -> anyhow::Result<Option<String>> {
        Ok(None)
    }
    async fn network(&self, _: &Owner) -> anyhow::Result<String> {
        anyhow::bail!("{}", self.0)
    }
    async fn build_image(
        &self,
        _: &std::path::Path,
        _: &str,
        _: HashMap<String, String>,
        _: Option<&str>,
        _: LineSink,
    ) -> anyhow::Result<String> {
        anyhow::bail!("{}", self.0)
    }
    async fn image_exists(&self, _: &str) -> anyhow::Result<bool> {
        anyhow::bail!("{}", self.0)
    }
    async fn image_labels(&self, _: &str) -> anyhow::Result<Option<HashMap<String, String>>> {
        anyhow::bail!("{}", self.0)
    }
    async fn remove_image(&self, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("{}", self.0)
    }
    async fn images_matching(&self, _: &str) -> anyhow::Result<Vec<String>> {
        anyhow::bail!("{}", self.0)
    }
    async fn run_to_completion(&self, _: &Workload, _: LineSink, _: watch::Receiver<bool>) -> anyhow::Result<Finished> {
        anyhow::bail!("{}", self.0)
    }
    async fn serve(&self, _: &Workload, _: LineSink) -> anyhow::Result<Served> {
        anyhow::bail!("{}", self.0)
    }
    async fn exec(&self, _: &str, _: &ExecSpec) -> anyhow::Result<ExecIo> {
        anyhow::bail!("{}", self.0)
    }
    async fn resize_exec(&self, _: &str, _: u16, _: u16) -> anyhow::Result<()> {
        anyhow::bail!("{}", self.0)
    }
    async fn exec_exit_code(&self, _: &str) -> anyhow::Result<Option<i64>> {
        anyhow::bail!("{}", self.0)
    }
    async fn workloads_of(&self, _: Uuid) -> anyhow::Result<Vec<Labelled>> {
        anyhow::bail!("{}", self.0)
    }
    async fn owned(&self, _: &str) -> anyhow::Result<Owned> {
        anyhow::bail!("{}", self.0)
    }
    async fn remove_workload(&self, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("{}", self.0)
    }
    async fn remove_network(&self, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("{}", self.0)
    }
}
