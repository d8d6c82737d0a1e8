//! The `swarm` backend: Docker Swarm mode, the distributed engine Docker
//! already contains. A build's network is an attachable overlay; a server is
//! a service of one replica (restarted on failure, updated start-first, so an
//! old task serves until its replacement runs); a job is a one-shot service
//! (restart none) whose task's exit code is the job's. Images built here are
//! pushed to `--registry` so every node can pull them; without a registry a
//! service is pinned to this node, which built its image.
//!
//! What is still this node's: logs are followed and execs run through the
//! task's container on this node's engine, and the router reaches a local
//! task at its address on `docker_gwbridge`. A task on another node is
//! reached at that node's address and the port its service publishes (host
//! mode); its log says where it runs. See the README's multi-node section.

mod spec;

use super::{Backend, ExecIo, ExecSpec, Finished, Labelled, Owned, Owner, Runtime, RuntimeInfo, Served, Workload};
use crate::engine::LineSink;
use crate::engine::{ContainerEngine, DockerEngine};
use anyhow::{bail, Context};
use async_trait::async_trait;
use bollard::models::{ServiceSpec, TaskState};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

pub struct SwarmRuntime {
    engine: Arc<DockerEngine>,
    /// `host:port` of an OCI registry every node pulls from.
    registry: Option<String>,
    /// Extra placement constraints for every workload (`node.labels.pool==builds`), operator-set.
    constraints: Vec<String>,
    /// This node's id, asked once (`docker info` is slow).
    node: tokio::sync::OnceCell<String>,
}

impl SwarmRuntime {
    pub fn new(engine: Arc<DockerEngine>, registry: Option<String>, constraints: Vec<String>) -> Self {
        SwarmRuntime {
            engine,
            registry: registry.filter(|r| !r.is_empty()),
            constraints: constraints.into_iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
            node: tokio::sync::OnceCell::new(),
        }
    }

    fn docker(&self) -> anyhow::Result<&bollard::Docker> {
        self.engine.client()
    }

    fn local(&self) -> Arc<dyn ContainerEngine> {
        self.engine.clone()
    }

    /// This node's id; `Err` when the engine is not a swarm manager.
    async fn node_id(&self) -> anyhow::Result<String> {
        self.node.get_or_try_init(|| self.ask_node_id()).await.cloned()
    }

    async fn ask_node_id(&self) -> anyhow::Result<String> {
        let info = self.docker()?.info().await?;
        let swarm = info.swarm.unwrap_or_default();
        if swarm.local_node_state != Some(bollard::models::LocalNodeState::ACTIVE) {
            bail!("this Docker engine is not in a swarm: run `docker swarm init` (see README) or use --runtime docker");
        }
        if swarm.control_available != Some(true) {
            bail!("this Docker engine is a swarm worker: the console needs a manager");
        }
        swarm.node_id.context("the swarm did not say which node this is")
    }

    /// The reference a service runs: a tag (services cannot run an image id),
    /// in the registry when there is one.
    async fn image_ref(&self, image: &str) -> anyhow::Result<String> {
        let tag = if image.starts_with("sha256:") {
            let i = self.docker()?.inspect_image(image).await.with_context(|| format!("the image {image}"))?;
            let tags = i.repo_tags.unwrap_or_default();
            let pushed = self.registry.as_ref().and_then(|r| tags.iter().find(|t| t.starts_with(&format!("{r}/"))));
            pushed.or_else(|| tags.first()).cloned().with_context(|| format!("the image {image} has no tag"))?
        } else {
            image.to_owned()
        };
        Ok(match &self.registry {
            // What this console built was pushed there (see `push`).
            Some(r) if tag.starts_with("odooops") => format!("{r}/{tag}"),
            _ => tag,
        })
    }

    /// Tags `tag` into the registry and pushes it.
    async fn push(&self, tag: &str, out: &LineSink) -> anyhow::Result<()> {
        use futures_util::StreamExt;
        let Some(registry) = &self.registry else { return Ok(()) };
        let (repo, version) = tag.rsplit_once(':').unwrap_or((tag, "latest"));
        let target = format!("{registry}/{repo}");
        let opts = bollard::query_parameters::TagImageOptionsBuilder::new().repo(&target).tag(version).build();
        self.docker()?.tag_image(tag, Some(opts)).await.context("tagging the image for the registry")?;
        let _ = out.send(format!("pushing {target}:{version}")).await;
        let opts = bollard::query_parameters::PushImageOptionsBuilder::new().tag(version).build();
        let mut stream = self.docker()?.push_image(&target, Some(opts), None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| anyhow::anyhow!("pushing to {registry}: {e}"))?;
            if let Some(e) = info.error {
                bail!("pushing to {registry}: {e}");
            }
        }
        Ok(())
    }

    async fn spec(&self, w: &Workload, job: bool) -> anyhow::Result<ServiceSpec> {
        let mut constraints = self.constraints.clone();
        if self.registry.is_none() {
            // Only this node has the image.
            constraints.push(format!("node.id=={}", self.node_id().await?));
        }
        // A server on another node is reached through the port it publishes on that node.
        let publish =
            !job && self.docker()?.list_nodes(None::<bollard::query_parameters::ListNodesOptions>).await?.len() > 1;
        Ok(spec::service_spec(w, job, self.image_ref(&w.image).await?, constraints, publish))
    }

    /// Creates the service, replacing one of the same name an interrupted attempt left.
    async fn create(&self, spec: ServiceSpec) -> anyhow::Result<String> {
        let name = spec.name.clone().unwrap_or_default();
        let docker = self.docker()?;
        match docker.create_service(spec.clone(), None).await {
            Ok(r) => r.id.context("the swarm gave the service no id"),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => {
                self.remove_workload(&name).await?;
                let r = docker.create_service(spec, None).await.context("creating the service")?;
                r.id.context("the swarm gave the service no id")
            }
            Err(e) => Err(anyhow::Error::new(e).context("creating the service")),
        }
    }

    /// The service's current task once it has a container; with `running`,
    /// once that container runs (attached to its networks).
    async fn task(&self, service: &str, running: bool) -> anyhow::Result<Task> {
        let filters = HashMap::from([("service", vec![service]), ("desired-state", vec!["running", "shutdown"])]);
        let opts = bollard::query_parameters::ListTasksOptionsBuilder::new().filters(&filters).build();
        let mut pause = Duration::from_millis(25);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            let tasks = self.docker()?.list_tasks(Some(opts.clone())).await?;
            // The newest task (a restarted server has older ones). Timestamps are
            // compared as times: their fractions vary in length.
            let created = |t: &bollard::models::Task| {
                t.created_at.as_deref().and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            };
            if let Some(t) = tasks.into_iter().max_by_key(created) {
                let status = t.status.clone().unwrap_or_default();
                let state = status.state.unwrap_or(TaskState::NEW);
                let container =
                    status.container_status.as_ref().and_then(|c| c.container_id.clone()).filter(|c| !c.is_empty());
                match state {
                    TaskState::REJECTED | TaskState::FAILED if container.is_none() => {
                        bail!(
                            "the swarm could not start the task: {}",
                            status.err.or(status.message).unwrap_or_default()
                        )
                    }
                    _ => {}
                }
                let ended = matches!(state, TaskState::COMPLETE | TaskState::FAILED | TaskState::SHUTDOWN);
                if running && ended {
                    bail!("the service's task ended: {}", status.err.or(status.message).unwrap_or_default());
                }
                if let Some(container) = container {
                    if !running || state == TaskState::RUNNING {
                        return Ok(Task { node: t.node_id.unwrap_or_default(), container });
                    }
                }
            }
            if tokio::time::Instant::now() > deadline {
                bail!("the swarm did not start the service {service} within 10 min");
            }
            // A task goes through half a dozen states in about a second: poll briskly.
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(Duration::from_millis(50));
        }
    }

    /// A local task's address on `docker_gwbridge`, where this host reaches it.
    async fn local_address(&self, container: &str) -> anyhow::Result<Option<String>> {
        for _ in 0..50 {
            let n = self
                .docker()?
                .inspect_network("docker_gwbridge", None::<bollard::query_parameters::InspectNetworkOptions>)
                .await?;
            let ip = n
                .containers
                .unwrap_or_default()
                .get(container)
                .and_then(|c| c.ipv4_address.clone())
                .and_then(|a| a.split('/').next().map(str::to_owned));
            if ip.is_some() {
                return Ok(ip);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(None)
    }

    /// Where a task on another node is reached: that node's address and the published port.
    async fn remote_endpoint(&self, service: &str, node: &str) -> anyhow::Result<String> {
        let n = self.docker()?.inspect_node(node).await?;
        let addr = n.status.and_then(|s| s.addr).context("the node has no address")?;
        let filters = HashMap::from([("service", vec![service]), ("desired-state", vec!["running"])]);
        let opts = bollard::query_parameters::ListTasksOptionsBuilder::new().filters(&filters).build();
        for _ in 0..100 {
            let tasks = self.docker()?.list_tasks(Some(opts.clone())).await?;
            let port = tasks
                .iter()
                .filter_map(|t| t.status.as_ref()?.port_status.as_ref()?.ports.as_ref())
                .flatten()
                .find_map(|p| p.published_port);
            if let Some(port) = port {
                return Ok(format!("{addr}:{port}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the service {service} published no port on node {node}")
    }

    /// The node and container of the service's running task, if one runs.
    async fn running_task(&self, service: &str) -> anyhow::Result<Option<(String, String)>> {
        let filters = HashMap::from([("service", vec![service]), ("desired-state", vec!["running"])]);
        let opts = bollard::query_parameters::ListTasksOptionsBuilder::new().filters(&filters).build();
        let tasks = match self.docker()?.list_tasks(Some(opts)).await {
            Ok(tasks) => tasks,
            // The service is gone: no task of it runs.
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(tasks.into_iter().find_map(|t| {
            let s = t.status?;
            let container = s.container_status?.container_id.filter(|c| !c.is_empty())?;
            (s.state == Some(TaskState::RUNNING)).then(|| (t.node_id.unwrap_or_default(), container))
        }))
    }

    /// The container of a service's running task on this node, looked up
    /// once: a shell into a build that is gone is refused, not waited for.
    async fn local_container(&self, service: &str) -> anyhow::Result<String> {
        let Some((node, container)) = self.running_task(service).await? else {
            bail!("the build's container is not running")
        };
        if node != self.node_id().await? {
            bail!("the build runs on another swarm node ({node}): shells reach tasks on this console's node only");
        }
        Ok(container)
    }

    async fn services_with_label(&self, label: &str) -> anyhow::Result<Vec<Labelled>> {
        let filters = HashMap::from([("label", vec![label])]);
        let opts = bollard::query_parameters::ListServicesOptionsBuilder::new().filters(&filters).build();
        Ok(self
            .docker()?
            .list_services(Some(opts))
            .await?
            .into_iter()
            .map(|s| Labelled {
                id: s.spec.as_ref().and_then(|s| s.name.clone()).or(s.id).unwrap_or_default(),
                labels: s.spec.and_then(|s| s.labels).unwrap_or_default(),
            })
            .collect())
    }
}

struct Task {
    node: String,
    container: String,
}

#[async_trait]
impl Runtime for SwarmRuntime {
    fn backend(&self) -> Backend {
        Backend::Swarm
    }

    async fn ping(&self) -> Result<RuntimeInfo, String> {
        let i = self.engine.ping().await?;
        self.ask_node_id().await.map_err(|e| format!("{e:#}"))?;
        let nodes = self
            .docker()
            .map_err(|e| e.to_string())?
            .list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
            .await
            .map_err(|e| format!("listing the swarm's nodes: {e}"))?
            .len();
        Ok(RuntimeInfo { backend: Backend::Swarm, version: i.version, api_version: i.api_version, nodes })
    }

    async fn capacity(&self) -> anyhow::Result<super::Capacity> {
        let nodes = self.docker()?.list_nodes(None::<bollard::query_parameters::ListNodesOptions>).await?;
        let resources: Vec<_> =
            nodes.iter().filter_map(|n| n.description.as_ref().and_then(|d| d.resources.as_ref())).collect();
        Ok(super::Capacity {
            cpus: resources.iter().map(|r| r.nano_cpus.unwrap_or_default() as f64 / 1e9).sum(),
            memory_bytes: resources.iter().map(|r| r.memory_bytes.unwrap_or_default()).sum(),
        })
    }

    async fn host_address(&self) -> anyhow::Result<Option<String>> {
        // Tasks leave their overlay through docker_gwbridge; this host's docker0
        // address is one of its own, so they reach it as containers of the docker backend do.
        self.engine.bridge_gateway().await
    }

    async fn network(&self, owner: &Owner) -> anyhow::Result<String> {
        let name = owner.network_name();
        let docker = self.docker()?;
        if docker.inspect_network(&name, None::<bollard::query_parameters::InspectNetworkOptions>).await.is_ok() {
            return Ok(name);
        }
        let req = bollard::models::NetworkCreateRequest {
            name: name.clone(),
            driver: Some("overlay".into()),
            attachable: Some(true),
            labels: Some(owner.labels()),
            ..Default::default()
        };
        docker.create_network(req).await.context("creating the overlay network")?;
        Ok(name)
    }

    async fn build_image(
        &self,
        context: &std::path::Path,
        tag: &str,
        labels: HashMap<String, String>,
        network: Option<&str>,
        out: LineSink,
    ) -> anyhow::Result<String> {
        let id = self.engine.build_image(context, tag, labels, network, out.clone()).await?;
        self.push(tag, &out).await?;
        Ok(id)
    }

    async fn image_exists(&self, image: &str) -> anyhow::Result<bool> {
        self.engine.image_exists(image).await
    }

    async fn image_labels(&self, image: &str) -> anyhow::Result<Option<HashMap<String, String>>> {
        self.engine.image_labels(image).await
    }

    async fn remove_image(&self, image: &str) -> anyhow::Result<()> {
        if let Some(r) = &self.registry {
            self.engine.remove_image(&format!("{r}/{image}")).await?;
        }
        self.engine.remove_image(image).await
    }

    async fn images_matching(&self, pattern: &str) -> anyhow::Result<Vec<String>> {
        self.engine.images_matching(pattern).await
    }

    async fn run_to_completion(
        &self,
        w: &Workload,
        out: LineSink,
        kill: watch::Receiver<bool>,
    ) -> anyhow::Result<Finished> {
        let spec = self.spec(w, true).await?;
        let service = self.create(spec).await?;
        let mut killed = kill.clone();
        let started = tokio::select! {
            t = self.task(&service, false) => t.map(Some),
            _ = async {
                // A dropped sender is no kill.
                if killed.wait_for(|k| *k).await.is_err() {
                    std::future::pending::<()>().await;
                }
            } => Ok(None),
        };
        let task = match started {
            Ok(Some(t)) => t,
            Ok(None) => {
                let _ = self.remove_workload(&w.name).await;
                return Ok(Finished::Killed);
            }
            Err(e) => {
                let _ = self.remove_workload(&w.name).await;
                return Err(e);
            }
        };
        let finished = if task.node == self.node_id().await? {
            super::docker::wait_for_end(&self.local(), &task.container, out, kill).await
        } else {
            let _ = out.send(format!("the job runs on swarm node {}; its log stays there", task.node)).await;
            self.wait_remote(&service, kill).await
        };
        // The job is over: its service and exited container go in the background
        // (the next phase need not wait; teardown and the reconciler find any left).
        let (engine, name) = (self.engine.clone(), w.name.clone());
        tokio::spawn(async move {
            if let Err(e) = remove_service(&engine, &name).await {
                tracing::warn!(service = %name, error = %format!("{e:#}"), "removing a finished job's service");
            }
        });
        finished
    }

    async fn serve(&self, w: &Workload, out: LineSink) -> anyhow::Result<Served> {
        let spec = self.spec(w, false).await?;
        let service = self.create(spec).await?;
        let task = self.task(&service, true).await?;
        let local = task.node == self.node_id().await?;
        let logs = if local {
            let (engine, container) = (self.local(), task.container.clone());
            tokio::spawn(async move {
                let _ = engine.follow_logs(&container, out).await;
            })
        } else {
            let _ = out.send(format!("Odoo runs on swarm node {}; its log stays there", task.node)).await;
            tokio::spawn(std::future::pending())
        };
        let endpoint = match local {
            true => {
                let ip = self.local_address(&task.container).await?.context("the task has no local address")?;
                format!("{ip}:{}", super::ODOO_PORT)
            }
            false => self.remote_endpoint(&service, &task.node).await?,
        };
        Ok(Served { handle: w.name.clone(), endpoint, logs })
    }

    async fn still_at(&self, handle: &str, endpoint: &str) -> anyhow::Result<bool> {
        // A local task is reached on docker_gwbridge, which every tenant's tasks
        // share: the address must still be that of this service's running container.
        // (A task on another node is reached at that node's published port: running is enough.)
        let Some((node, container)) = self.running_task(handle).await? else { return Ok(false) };
        if node != self.node_id().await? {
            return Ok(true);
        }
        let Some((host, _)) = endpoint.rsplit_once(':') else { return Ok(false) };
        Ok(self.engine.is_running(&container).await?
            && self.local_address(&container).await?.is_some_and(|ip| ip == host))
    }

    async fn exec(&self, handle: &str, spec: &ExecSpec) -> anyhow::Result<ExecIo> {
        let container = self.local_container(handle).await?;
        self.engine.exec(&container, spec).await
    }

    async fn resize_exec(&self, exec: &str, cols: u16, rows: u16) -> anyhow::Result<()> {
        self.engine.resize_exec(exec, cols, rows).await
    }

    async fn exec_exit_code(&self, exec: &str) -> anyhow::Result<Option<i64>> {
        self.engine.exec_exit_code(exec).await
    }

    async fn workloads_of(&self, build: Uuid) -> anyhow::Result<Vec<Labelled>> {
        let label = Owner::build_label(build);
        let mut out = self.services_with_label(&label).await?;
        // A task's container outlives its service for a moment: it goes too.
        out.extend(self.engine.containers_with_label(&label).await?);
        Ok(out)
    }

    async fn owned(&self, installation: &str) -> anyhow::Result<Owned> {
        let mine = Owner::installation_label(installation);
        let mut workloads = self.services_with_label(&mine).await?;
        workloads.extend(self.engine.containers_with_label(&mine).await?);
        Ok(Owned { workloads, networks: self.engine.networks_with_label(&mine).await? })
    }

    async fn remove_workload(&self, id: &str) -> anyhow::Result<()> {
        remove_service(&self.engine, id).await
    }

    async fn remove_network(&self, name: &str) -> anyhow::Result<()> {
        // An overlay stays in use until the swarm has let go of its removed
        // services' tasks, a few seconds after their containers are gone.
        let docker = self.docker()?;
        for attempt in 0..120 {
            match docker.remove_network(name).await {
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(()),
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 403 | 500, .. })
                    if attempt < 119 => {}
                Err(e) => return Err(anyhow::Error::new(e).context(format!("removing the network {name}"))),
                Ok(()) => {
                    let gone = docker
                        .inspect_network(name, None::<bollard::query_parameters::InspectNetworkOptions>)
                        .await
                        .is_err();
                    if gone {
                        return Ok(());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        bail!("the network {name} is still in use after 30 s")
    }
}

impl SwarmRuntime {
    /// Waits for a task on another node to end; its exit code.
    async fn wait_remote(&self, service: &str, mut kill: watch::Receiver<bool>) -> anyhow::Result<Finished> {
        let filters = HashMap::from([("service", vec![service])]);
        let opts = bollard::query_parameters::ListTasksOptionsBuilder::new().filters(&filters).build();
        loop {
            let tasks = self.docker()?.list_tasks(Some(opts.clone())).await?;
            for t in tasks {
                let s = t.status.unwrap_or_default();
                if matches!(s.state, Some(TaskState::COMPLETE | TaskState::FAILED | TaskState::SHUTDOWN)) {
                    let code = s.container_status.and_then(|c| c.exit_code).unwrap_or(-1);
                    return Ok(Finished::Exited(code));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                // A dropped sender is no kill.
                Ok(_) = kill.wait_for(|k| *k) => return Ok(Finished::Killed),
            }
        }
    }
}

/// Removes a service (or a task's container left behind) and, on this
/// node, its tasks' containers: removal is asynchronous in the swarm, and
/// "torn down" means gone, as with the docker backend.
async fn remove_service(engine: &DockerEngine, id: &str) -> anyhow::Result<()> {
    let docker = engine.client()?;
    let service = match docker.inspect_service(id, None::<bollard::query_parameters::InspectServiceOptions>).await {
        Ok(s) => s.id,
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let Some(service) = service else {
        // Not a service: a task's container left behind.
        return engine.remove_container(id).await;
    };
    match docker.delete_service(&service).await {
        Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
        Err(e) => return Err(e.into()),
    }
    for c in engine.containers_with_label(&format!("com.docker.swarm.service.id={service}")).await? {
        engine.remove_container(&c.id).await?;
    }
    Ok(())
}
