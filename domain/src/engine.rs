//! The container engine (Docker) behind a trait, so tests and machines
//! without Docker can swap it. Operations are idempotent where Docker allows:
//! removing something already gone is not an error, so cleanup can be retried.
//! API reference: <https://docs.docker.com/reference/api/engine/version/v1.41/>.

mod version;

use async_trait::async_trait;
use std::collections::HashMap;

/// Where a stream of output lines goes (an image build's, a container's
/// log). Bounded: when the build's log writer falls behind, reading the
/// stream waits, so what a container prints never piles up in memory and a
/// line reaches the live log soon after it was printed.
pub type LineSink = tokio::sync::mpsc::Sender<String>;

/// Lines a [`LineSink`] holds before its reader catches up.
pub const LINE_SINK_CAPACITY: usize = 1024;

/// What the engine reports about itself.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
}

/// A container to run.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    pub name: String,
    pub image: String,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub labels: HashMap<String, String>,
    pub network: Option<String>,
    /// CPU limit in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    pub memory_bytes: Option<i64>,
    /// `host:ip` entries, e.g. `host.docker.internal:host-gateway`.
    pub extra_hosts: Vec<String>,
    /// Bind mounts, `host-path:container-path` (the filestore).
    pub binds: Vec<String>,
    /// Processes the container may have (default [`DEFAULT_PIDS_LIMIT`]).
    pub pids_limit: Option<i64>,
    /// Replaces the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
}

/// Processes a container may run at once unless its spec says otherwise.
pub const DEFAULT_PIDS_LIMIT: i64 = 512;

/// Memory a `docker build` step may use (the API takes an i32: just under 2 GiB).
pub const BUILD_MEMORY_BYTES: i32 = 2_000_000_000;

/// The only capabilities a container keeps: those an image's entrypoint needs
/// to hand files to its service user and drop to it (Odoo's runs as `odoo`).
/// Gone: raw sockets, mknod, chroot, audit, setfcap, setpcap, bind below 1024.
pub const KEPT_CAPABILITIES: &[&str] = &["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"];

/// A process to run inside a running container (a shell, or one command).
#[derive(Debug, Clone)]
pub struct ExecSpec {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    /// Allocate a pseudo-terminal (interactive shells); without one, output is raw.
    pub tty: bool,
    pub cols: u16,
    pub rows: u16,
}

/// Both ends of a started exec. Dropping `input` closes the process's stdin
/// (and, with a TTY, hangs the terminal up).
pub struct ExecIo {
    pub id: String,
    pub output: std::pin::Pin<Box<dyn futures_util::Stream<Item = anyhow::Result<Vec<u8>>> + Send>>,
    pub input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
}

/// A container or network OdooOps labelled.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub id: String,
    pub labels: HashMap<String, String>,
}

#[async_trait]
pub trait ContainerEngine: Send + Sync {
    /// `Err` says, for a person, why the engine cannot be used.
    async fn ping(&self) -> Result<EngineInfo, String>;
    /// The host's CPUs and memory (`docker info`: slow, so not part of [`ping`](Self::ping)).
    async fn capacity(&self) -> anyhow::Result<crate::runtime::Capacity> {
        Ok(crate::runtime::Capacity::default())
    }
    /// Builds `context` (a tar file with a Dockerfile at its root, streamed from
    /// disk); streams output lines. Returns the image id (`sha256:…`).
    /// `network`: where its RUN steps run (a build network, so the egress rules apply).
    async fn build_image(
        &self,
        context: &std::path::Path,
        tag: &str,
        labels: HashMap<String, String>,
        network: Option<&str>,
        out: LineSink,
    ) -> anyhow::Result<String>;
    async fn image_exists(&self, tag: &str) -> anyhow::Result<bool>;
    /// Removes an image by id or tag; a missing or still-used image is left alone.
    async fn remove_image(&self, image: &str) -> anyhow::Result<()>;
    /// Tags of the images whose reference matches `pattern` (e.g. `odooops-build/abc-*`).
    async fn images_matching(&self, pattern: &str) -> anyhow::Result<Vec<String>>;
    async fn create_network(&self, name: &str, labels: HashMap<String, String>) -> anyhow::Result<()>;
    async fn remove_network(&self, name: &str) -> anyhow::Result<()>;
    /// Creates and starts a container; returns its id.
    async fn start(&self, spec: &RunSpec) -> anyhow::Result<String>;
    /// Sends every log line (stdout and stderr) to `out` until the container stops.
    async fn follow_logs(&self, id: &str, out: LineSink) -> anyhow::Result<()>;
    /// Waits for the container to exit; its exit code.
    async fn wait(&self, id: &str) -> anyhow::Result<i64>;
    /// The container's address on `network`.
    async fn ip_address(&self, id: &str, network: &str) -> anyhow::Result<Option<String>>;
    /// Whether the container runs now (gone: no).
    async fn is_running(&self, id: &str) -> anyhow::Result<bool>;
    async fn remove_container(&self, id: &str) -> anyhow::Result<()>;
    /// Containers (running or not) carrying `label`.
    async fn containers_with_label(&self, label: &str) -> anyhow::Result<Vec<Labelled>>;
    async fn networks_with_label(&self, label: &str) -> anyhow::Result<Vec<Labelled>>;
    /// The gateway address of the default bridge: where containers reach the host.
    async fn bridge_gateway(&self) -> anyhow::Result<Option<String>>;
    /// Labels of an image, `None` when the image is absent.
    async fn image_labels(&self, tag: &str) -> anyhow::Result<Option<HashMap<String, String>>>;
    /// Starts a process in a running container, attached to its stdin and output.
    async fn exec(&self, container: &str, spec: &ExecSpec) -> anyhow::Result<ExecIo>;
    /// Resizes the pseudo-terminal of an exec.
    async fn resize_exec(&self, id: &str, cols: u16, rows: u16) -> anyhow::Result<()>;
    /// The exit code of a finished exec (`None` while it runs).
    async fn exec_exit_code(&self, id: &str) -> anyhow::Result<Option<i64>>;
    /// One reading of a running container's counters (`None`: not running, or none kept).
    async fn stats(&self, _id: &str) -> anyhow::Result<Option<crate::runtime::Counters>> {
        Ok(None)
    }
}

/// Docker through bollard: `DOCKER_HOST`, or the default unix socket.
pub struct DockerEngine {
    docker: Result<bollard::Docker, String>,
}

impl DockerEngine {
    /// Connects speaking the newest API version both this client and the
    /// engine know: engines older than the client refuse its default version.
    pub fn from_env() -> Self {
        let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        let version = version::engine_api_version(&host)
            .filter(|v| (v.major_version, v.minor_version) < (1, bollard::API_DEFAULT_VERSION.minor_version))
            .unwrap_or(*bollard::API_DEFAULT_VERSION);
        let docker = if host.starts_with("unix://") {
            bollard::Docker::connect_with_unix(&host, 120, &version)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            bollard::Docker::connect_with_http(&host, 120, &version)
        } else {
            bollard::Docker::connect_with_defaults()
        };
        DockerEngine { docker: docker.map_err(|e| format!("cannot reach Docker: {e}")) }
    }

    /// The bollard client (the swarm backend speaks to the same engine).
    pub fn client(&self) -> anyhow::Result<&bollard::Docker> {
        self.docker.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

#[async_trait]
impl ContainerEngine for DockerEngine {
    async fn capacity(&self) -> anyhow::Result<crate::runtime::Capacity> {
        let docker = self.docker.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        let info = anyhow::Context::context(docker.info().await, "docker info")?;
        Ok(crate::runtime::Capacity {
            cpus: info.ncpu.unwrap_or_default() as f64,
            memory_bytes: info.mem_total.unwrap_or_default(),
        })
    }

    async fn ping(&self) -> Result<EngineInfo, String> {
        let docker = self.docker.as_ref().map_err(Clone::clone)?;
        let v = docker.version().await.map_err(|e| {
            format!(
                "Docker is not reachable ({e}); builds, previews and shells need it. Set DOCKER_HOST or start dockerd."
            )
        })?;
        Ok(EngineInfo { version: v.version.unwrap_or_default(), api_version: v.api_version.unwrap_or_default() })
    }

    async fn build_image(
        &self,
        context: &std::path::Path,
        tag: &str,
        labels: HashMap<String, String>,
        network: Option<&str>,
        out: LineSink,
    ) -> anyhow::Result<String> {
        use futures_util::StreamExt;
        use tokio::io::AsyncReadExt;
        // A tenant's Dockerfile runs here: its RUN steps get the same limits as its containers.
        let mut opts = bollard::query_parameters::BuildImageOptionsBuilder::new();
        if let Some(network) = network {
            opts = opts.networkmode(network);
        }
        let opts = opts
            .t(tag)
            .rm(true)
            .forcerm(true)
            .labels(&labels)
            .memory(BUILD_MEMORY_BYTES)
            .memswap(BUILD_MEMORY_BYTES)
            .cpuperiod(100_000)
            .cpuquota(200_000)
            .build();
        let file = tokio::fs::File::open(context).await?;
        let chunks = futures_util::stream::unfold(Some(file), |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; 1 << 20];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(bytes::Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        });
        let mut stream = self.client()?.build_image(opts, None, Some(bollard::body_try_stream(chunks)));
        let mut image_id = None;
        // Docker frames the build's output per write, not per line.
        let mut lines = crate::builds::events::LineJoiner::default();
        let mut pending: Vec<String> = Vec::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| anyhow::anyhow!("image build failed: {e}"))?;
            if let Some(err) = info.error {
                anyhow::bail!("image build failed: {}", err.trim());
            }
            if let Some(piece) = info.stream {
                lines.push(piece.as_bytes(), |l| pending.push(l));
                send_lines(&out, &mut pending, false).await;
            }
            if let Some(aux) = info.aux.and_then(|a| a.id) {
                image_id = Some(aux);
            }
        }
        lines.finish(|l| pending.push(l));
        send_lines(&out, &mut pending, false).await;
        match image_id {
            Some(id) => Ok(id),
            None => Ok(self.client()?.inspect_image(tag).await?.id.unwrap_or_default()),
        }
    }

    async fn image_exists(&self, tag: &str) -> anyhow::Result<bool> {
        match self.client()?.inspect_image(tag).await {
            Ok(_) => Ok(true),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn remove_image(&self, image: &str) -> anyhow::Result<()> {
        let opts = bollard::query_parameters::RemoveImageOptionsBuilder::new().force(true).build();
        match self.client()?.remove_image(image, Some(opts), None).await {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn images_matching(&self, pattern: &str) -> anyhow::Result<Vec<String>> {
        let filters = HashMap::from([("reference", vec![pattern])]);
        let opts = bollard::query_parameters::ListImagesOptionsBuilder::new().filters(&filters).build();
        // Tags, not ids: identical builds share an id, and each build owns only its tag.
        let prefix = pattern.trim_end_matches('*');
        Ok(self
            .client()?
            .list_images(Some(opts))
            .await?
            .into_iter()
            .flat_map(|i| i.repo_tags)
            .filter(|t| t.starts_with(prefix))
            .collect())
    }

    async fn create_network(&self, name: &str, labels: HashMap<String, String>) -> anyhow::Result<()> {
        let docker = self.client()?;
        if docker.inspect_network(name, None::<bollard::query_parameters::InspectNetworkOptions>).await.is_ok() {
            return Ok(());
        }
        // A bridge named `odo…`: the egress rules (see `builds::egress`) apply to it.
        let options =
            HashMap::from([("com.docker.network.bridge.name".to_owned(), crate::builds::egress::bridge_name(name))]);
        let req = bollard::models::NetworkCreateRequest {
            name: name.to_owned(),
            labels: Some(labels),
            options: Some(options),
            ..Default::default()
        };
        docker.create_network(req).await?;
        Ok(())
    }

    async fn remove_network(&self, name: &str) -> anyhow::Result<()> {
        // A container being removed concurrently may still hold an endpoint for a moment.
        for attempt in 0..20 {
            match self.client()?.remove_network(name).await {
                Ok(()) => return Ok(()),
                Err(e) if not_found(&e) => return Ok(()),
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 403, .. }) if attempt < 19 => {
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn start(&self, spec: &RunSpec) -> anyhow::Result<String> {
        let docker = self.client()?;
        // What runs in here is the tenant's: no capability it does not need, no
        // privilege gained through setuid files, a bounded number of processes.
        let host = bollard::models::HostConfig {
            nano_cpus: spec.nano_cpus,
            memory: spec.memory_bytes,
            memory_swap: spec.memory_bytes,
            pids_limit: Some(spec.pids_limit.unwrap_or(DEFAULT_PIDS_LIMIT)),
            cap_drop: Some(vec!["ALL".into()]),
            cap_add: Some(KEPT_CAPABILITIES.iter().map(|c| c.to_string()).collect()),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            network_mode: spec.network.clone(),
            extra_hosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.clone()),
            binds: (!spec.binds.is_empty()).then(|| spec.binds.clone()),
            ..Default::default()
        };
        let body = bollard::models::ContainerCreateBody {
            image: Some(spec.image.clone()),
            entrypoint: spec.entrypoint.clone(),
            cmd: Some(spec.cmd.clone()),
            env: Some(spec.env.clone()),
            labels: Some(spec.labels.clone()),
            host_config: Some(host),
            ..Default::default()
        };
        let opts = bollard::query_parameters::CreateContainerOptionsBuilder::new().name(&spec.name).build();
        let created = docker.create_container(Some(opts), body).await?;
        docker.start_container(&created.id, None::<bollard::query_parameters::StartContainerOptions>).await?;
        Ok(created.id)
    }

    async fn follow_logs(&self, id: &str, out: LineSink) -> anyhow::Result<()> {
        use futures_util::StreamExt;
        let opts = bollard::query_parameters::LogsOptionsBuilder::new().follow(true).stdout(true).stderr(true).build();
        let mut stream = self.client()?.logs(id, Some(opts));
        let mut lines = crate::builds::events::LineJoiner::default();
        let mut pending = Vec::new();
        while let Some(item) = stream.next().await {
            let chunk = match item {
                Ok(c) => c.into_bytes(),
                Err(e) if not_found(&e) => break,
                Err(e) => return Err(e.into()),
            };
            lines.push(&chunk, |l| pending.push(l));
            send_lines(&out, &mut pending, true).await;
        }
        lines.finish(|l| pending.push(l));
        send_lines(&out, &mut pending, true).await;
        Ok(())
    }

    async fn wait(&self, id: &str) -> anyhow::Result<i64> {
        use futures_util::StreamExt;
        let mut stream = self.client()?.wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>);
        match stream.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            // bollard reports a non-zero exit as an error carrying the code.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(e.into()),
            None => anyhow::bail!("the engine ended the wait without an exit code"),
        }
    }

    async fn ip_address(&self, id: &str, network: &str) -> anyhow::Result<Option<String>> {
        let c =
            self.client()?.inspect_container(id, None::<bollard::query_parameters::InspectContainerOptions>).await?;
        Ok(c.network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(network))
            .and_then(|n| n.ip_address)
            .filter(|ip| !ip.is_empty()))
    }

    async fn stats(&self, id: &str) -> anyhow::Result<Option<crate::runtime::Counters>> {
        use futures_util::StreamExt;
        let opts = bollard::query_parameters::StatsOptions { stream: false, one_shot: true };
        let mut stream = self.client()?.stats(id, Some(opts));
        let s = match stream.next().await {
            Some(Ok(s)) => s,
            Some(Err(e)) if not_found(&e) => return Ok(None),
            Some(Err(e)) => return Err(e.into()),
            None => return Ok(None),
        };
        let cpu = s.cpu_stats.as_ref();
        let (net_rx, net_tx) = s
            .networks
            .iter()
            .flatten()
            .fold((0u64, 0u64), |(rx, tx), (_, n)| (rx + n.rx_bytes.unwrap_or(0), tx + n.tx_bytes.unwrap_or(0)));
        let io = s.blkio_stats.as_ref().and_then(|b| b.io_service_bytes_recursive.clone()).unwrap_or_default();
        let io_sum = |op: &str| {
            io.iter()
                .filter(|e| e.op.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(op)))
                .filter_map(|e| e.value)
                .sum()
        };
        let memory = s.memory_stats.as_ref();
        // What `docker stats` shows: usage less the page cache that can be given back.
        let cache = memory.and_then(|m| m.stats.as_ref()).and_then(|st| st.get("inactive_file").copied()).unwrap_or(0);
        Ok(Some(crate::runtime::Counters {
            cpu_total_ns: cpu.and_then(|c| c.cpu_usage.as_ref()).and_then(|u| u.total_usage).unwrap_or(0),
            system_ns: cpu.and_then(|c| c.system_cpu_usage).unwrap_or(0),
            online_cpus: cpu.and_then(|c| c.online_cpus).unwrap_or(1).max(1),
            mem_bytes: memory.and_then(|m| m.usage).map(|u| u.saturating_sub(cache)),
            mem_limit_bytes: memory.and_then(|m| m.limit),
            net_rx_bytes: net_rx,
            net_tx_bytes: net_tx,
            blk_read_bytes: io_sum("read"),
            blk_write_bytes: io_sum("write"),
        }))
    }

    async fn is_running(&self, id: &str) -> anyhow::Result<bool> {
        match self.client()?.inspect_container(id, None::<bollard::query_parameters::InspectContainerOptions>).await {
            Ok(c) => Ok(c.state.and_then(|s| s.running) == Some(true)),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn remove_container(&self, id: &str) -> anyhow::Result<()> {
        let opts = bollard::query_parameters::RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match self.client()?.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            // 409: removal already in progress.
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn containers_with_label(&self, label: &str) -> anyhow::Result<Vec<Labelled>> {
        let filters = HashMap::from([("label", vec![label])]);
        let opts = bollard::query_parameters::ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
        let list = self.client()?.list_containers(Some(opts)).await?;
        Ok(list
            .into_iter()
            .map(|c| Labelled { id: c.id.unwrap_or_default(), labels: c.labels.unwrap_or_default() })
            .collect())
    }

    async fn networks_with_label(&self, label: &str) -> anyhow::Result<Vec<Labelled>> {
        let filters = HashMap::from([("label", vec![label])]);
        let opts = bollard::query_parameters::ListNetworksOptionsBuilder::new().filters(&filters).build();
        let list = self.client()?.list_networks(Some(opts)).await?;
        Ok(list
            .into_iter()
            .map(|n| Labelled { id: n.name.unwrap_or_default(), labels: n.labels.unwrap_or_default() })
            .collect())
    }

    async fn bridge_gateway(&self) -> anyhow::Result<Option<String>> {
        let n =
            self.client()?.inspect_network("bridge", None::<bollard::query_parameters::InspectNetworkOptions>).await?;
        let configs = n.ipam.and_then(|i| i.config).unwrap_or_default();
        // Older engines omit the default bridge's gateway: it is the subnet's first address.
        Ok(configs
            .iter()
            .find_map(|c| c.gateway.clone().filter(|g| !g.is_empty()))
            .or_else(|| configs.iter().find_map(|c| c.subnet.as_deref().and_then(first_host))))
    }

    async fn image_labels(&self, tag: &str) -> anyhow::Result<Option<HashMap<String, String>>> {
        match self.client()?.inspect_image(tag).await {
            Ok(i) => Ok(Some(i.config.and_then(|c| c.labels).unwrap_or_default())),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn exec(&self, container: &str, spec: &ExecSpec) -> anyhow::Result<ExecIo> {
        use futures_util::StreamExt;
        let docker = self.client()?;
        let config = bollard::models::ExecConfig {
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(spec.tty),
            env: Some(spec.env.clone()),
            cmd: Some(spec.cmd.clone()),
            console_size: spec.tty.then(|| vec![spec.rows as usize, spec.cols as usize]),
            ..Default::default()
        };
        let created = docker.create_exec(container, config).await.map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError { status_code: 404 | 409, .. } => {
                anyhow::anyhow!("the build's container is not running")
            }
            e => anyhow::Error::new(e).context("creating the exec"),
        })?;
        let opts = bollard::exec::StartExecOptions { detach: false, tty: spec.tty, output_capacity: None };
        match docker.start_exec(&created.id, Some(opts)).await? {
            bollard::exec::StartExecResults::Attached { output, input } => {
                let output = output.map(|item| item.map(|o| o.into_bytes().to_vec()).map_err(anyhow::Error::new));
                if spec.tty {
                    // The size given at creation is ignored by older engines.
                    let _ = self.resize_exec(&created.id, spec.cols, spec.rows).await;
                }
                Ok(ExecIo { id: created.id, output: Box::pin(output), input })
            }
            bollard::exec::StartExecResults::Detached => anyhow::bail!("the engine detached the exec"),
        }
    }

    async fn resize_exec(&self, id: &str, cols: u16, rows: u16) -> anyhow::Result<()> {
        let opts = bollard::query_parameters::ResizeExecOptionsBuilder::new()
            .h(i32::from(rows.max(1)))
            .w(i32::from(cols.max(1)))
            .build();
        self.client()?.resize_exec(id, opts).await?;
        Ok(())
    }

    async fn exec_exit_code(&self, id: &str) -> anyhow::Result<Option<i64>> {
        let i = self.client()?.inspect_exec(id).await?;
        Ok(if i.running == Some(true) { None } else { i.exit_code })
    }
}

/// The first host address of an IPv4 subnet (`172.17.0.0/16` → `172.17.0.1`).
fn first_host(cidr: &str) -> Option<String> {
    let (net, _) = cidr.split_once('/')?;
    let ip: std::net::Ipv4Addr = net.parse().ok()?;
    Some(std::net::Ipv4Addr::from(u32::from(ip) + 1).to_string())
}

/// Completed lines handed on in order, waiting while the reader is behind
/// (an image build's blank lines are left out; a container log keeps them).
async fn send_lines(out: &LineSink, pending: &mut Vec<String>, keep_blank: bool) {
    for l in pending.drain(..) {
        if keep_blank || !l.trim().is_empty() {
            let _ = out.send(l).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_host_of_a_subnet() {
        assert_eq!(super::first_host("172.17.0.0/16").as_deref(), Some("172.17.0.1"));
        assert_eq!(super::first_host("fd00::/64"), None);
    }
}
