//! The `docker` backend: every workload is a container on one Docker engine,
//! each build on a bridge network of its own (named `odo…`, so the egress
//! rules apply), its filestore a bind mount, and the router reaches Odoo at
//! the container's address on that bridge.

use super::{Backend, ExecIo, ExecSpec, Finished, Labelled, Owned, Owner, Runtime, RuntimeInfo, Served, Workload};
use crate::engine::LineSink;
use crate::engine::{ContainerEngine, RunSpec};
use anyhow::Context;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;
use uuid::Uuid;

pub struct DockerRuntime {
    engine: Arc<dyn ContainerEngine>,
}

impl DockerRuntime {
    pub fn new(engine: Arc<dyn ContainerEngine>) -> Self {
        DockerRuntime { engine }
    }
}

/// The container a workload becomes (the engine adds the hardening every container gets).
pub(super) fn run_spec(w: &Workload) -> RunSpec {
    RunSpec {
        name: w.name.clone(),
        image: w.image.clone(),
        cmd: w.args.clone(),
        env: w.env.clone(),
        labels: w.owner.labels(),
        network: Some(w.network.clone()),
        nano_cpus: w.nano_cpus,
        memory_bytes: w.memory_bytes,
        binds: w
            .filestore
            .iter()
            .map(|f| format!("{}:{}", f.host.display(), f.container))
            .chain(w.db_socket.iter().map(|d| format!("{}:{}:ro", d.display(), crate::builds::infra::DB_SOCKET_MOUNT)))
            .collect(),
        ..Default::default()
    }
}

/// Runs a started container to its end on `engine`, following its log;
/// a kill removes it. The container is removed afterwards.
pub(super) async fn wait_for_end(
    engine: &Arc<dyn ContainerEngine>,
    id: &str,
    out: LineSink,
    mut kill: watch::Receiver<bool>,
) -> anyhow::Result<Finished> {
    let follow = {
        let (engine, id) = (engine.clone(), id.to_owned());
        tokio::spawn(async move { engine.follow_logs(&id, out).await })
    };
    let code = tokio::select! {
        code = engine.wait(id) => code?,
        _ = async { let _ = kill.wait_for(|k| *k).await; } => {
            let _ = engine.remove_container(id).await;
            return Ok(Finished::Killed);
        }
    };
    let _ = follow.await;
    engine.remove_container(id).await.ok();
    Ok(Finished::Exited(code))
}

#[async_trait]
impl Runtime for DockerRuntime {
    fn backend(&self) -> Backend {
        Backend::Docker
    }

    async fn ping(&self) -> Result<RuntimeInfo, String> {
        let i = self.engine.ping().await?;
        Ok(RuntimeInfo { backend: Backend::Docker, version: i.version, api_version: i.api_version, nodes: 1 })
    }

    async fn capacity(&self) -> anyhow::Result<super::Capacity> {
        self.engine.capacity().await
    }

    async fn host_address(&self) -> anyhow::Result<Option<String>> {
        self.engine.bridge_gateway().await
    }

    async fn network(&self, owner: &Owner) -> anyhow::Result<String> {
        let name = owner.network_name();
        self.engine.create_network(&name, owner.labels()).await?;
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
        self.engine.build_image(context, tag, labels, network, out).await
    }

    async fn stats(&self, handle: &str) -> anyhow::Result<Option<super::Counters>> {
        self.engine.stats(handle).await
    }

    async fn image_exists(&self, image: &str) -> anyhow::Result<bool> {
        self.engine.image_exists(image).await
    }

    async fn image_labels(&self, image: &str) -> anyhow::Result<Option<HashMap<String, String>>> {
        self.engine.image_labels(image).await
    }

    async fn remove_image(&self, image: &str) -> anyhow::Result<()> {
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
        let id = self.engine.start(&run_spec(w)).await.context("starting the container")?;
        wait_for_end(&self.engine, &id, out, kill).await
    }

    async fn serve(&self, w: &Workload, out: LineSink) -> anyhow::Result<Served> {
        let id = self.engine.start(&run_spec(w)).await.context("starting the container")?;
        let logs = {
            let (engine, id) = (self.engine.clone(), id.clone());
            tokio::spawn(async move {
                let _ = engine.follow_logs(&id, out).await;
            })
        };
        let ip =
            self.engine.ip_address(&id, &w.network).await?.context("the container has no address on its network")?;
        Ok(Served { handle: id, endpoint: format!("{ip}:{}", super::ODOO_PORT), logs })
    }

    async fn still_at(&self, handle: &str, _endpoint: &str) -> anyhow::Result<bool> {
        // Its address is on the build's own network, and a container keeps it while it runs.
        self.engine.is_running(handle).await
    }

    async fn exec(&self, handle: &str, spec: &ExecSpec) -> anyhow::Result<ExecIo> {
        self.engine.exec(handle, spec).await
    }

    async fn resize_exec(&self, exec: &str, cols: u16, rows: u16) -> anyhow::Result<()> {
        self.engine.resize_exec(exec, cols, rows).await
    }

    async fn exec_exit_code(&self, exec: &str) -> anyhow::Result<Option<i64>> {
        self.engine.exec_exit_code(exec).await
    }

    async fn workloads_of(&self, build: Uuid) -> anyhow::Result<Vec<Labelled>> {
        self.engine.containers_with_label(&Owner::build_label(build)).await
    }

    async fn owned(&self, installation: &str) -> anyhow::Result<Owned> {
        let mine = Owner::installation_label(installation);
        Ok(Owned {
            workloads: self.engine.containers_with_label(&mine).await?,
            networks: self.engine.networks_with_label(&mine).await?,
        })
    }

    async fn remove_workload(&self, id: &str) -> anyhow::Result<()> {
        self.engine.remove_container(id).await
    }

    async fn remove_network(&self, name: &str) -> anyhow::Result<()> {
        self.engine.remove_network(name).await
    }
}
