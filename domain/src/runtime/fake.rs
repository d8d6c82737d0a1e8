//! An in-memory runtime for unit tests: workloads "run" by printing their
//! arguments and exiting with the code a test chose, servers get a made-up
//! endpoint, and everything is labelled and torn down like the real ones,
//! so code above the runtime can be tested without an engine.

use super::{Backend, ExecIo, ExecSpec, Finished, Labelled, Owned, Owner, Runtime, RuntimeInfo, Served, Workload};
use crate::engine::LineSink;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;
use uuid::Uuid;

#[derive(Default)]
pub struct FakeRuntime {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    images: HashMap<String, HashMap<String, String>>,
    workloads: Vec<Labelled>,
    networks: Vec<Labelled>,
    /// The exit code the next jobs end with.
    exit_code: i64,
}

impl FakeRuntime {
    /// Jobs from now on exit with `code`.
    pub fn exit_with(&self, code: i64) {
        self.state.lock().expect("fake runtime").exit_code = code;
    }

    /// Names of the workloads that are running.
    pub fn running(&self) -> Vec<String> {
        self.state.lock().expect("fake runtime").workloads.iter().map(|w| w.id.clone()).collect()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("fake runtime"))
    }
}

#[async_trait]
impl Runtime for FakeRuntime {
    fn backend(&self) -> Backend {
        Backend::Docker
    }
    async fn ping(&self) -> Result<RuntimeInfo, String> {
        Ok(RuntimeInfo { backend: Backend::Docker, version: "fake".into(), api_version: "0".into(), nodes: 1 })
    }
    async fn host_address(&self) -> anyhow::Result<Option<String>> {
        Ok(Some("192.0.2.1".into()))
    }
    async fn network(&self, owner: &Owner) -> anyhow::Result<String> {
        let name = owner.network_name();
        self.with(|s| {
            if !s.networks.iter().any(|n| n.id == name) {
                s.networks.push(Labelled { id: name.clone(), labels: owner.labels() });
            }
        });
        Ok(name)
    }
    async fn build_image(
        &self,
        _: &std::path::Path,
        tag: &str,
        labels: HashMap<String, String>,
        _: Option<&str>,
        out: LineSink,
    ) -> anyhow::Result<String> {
        let _ = out.send(format!("Successfully tagged {tag}")).await;
        self.with(|s| s.images.insert(tag.to_owned(), labels));
        Ok(format!("sha256:{}", Uuid::new_v4().simple()))
    }
    async fn image_exists(&self, image: &str) -> anyhow::Result<bool> {
        Ok(self.with(|s| s.images.contains_key(image)))
    }
    async fn image_labels(&self, image: &str) -> anyhow::Result<Option<HashMap<String, String>>> {
        Ok(self.with(|s| s.images.get(image).cloned()))
    }
    async fn remove_image(&self, image: &str) -> anyhow::Result<()> {
        self.with(|s| s.images.remove(image));
        Ok(())
    }
    async fn images_matching(&self, pattern: &str) -> anyhow::Result<Vec<String>> {
        let prefix = pattern.trim_end_matches('*');
        Ok(self.with(|s| s.images.keys().filter(|t| t.starts_with(prefix)).cloned().collect()))
    }
    async fn run_to_completion(
        &self,
        w: &Workload,
        out: LineSink,
        kill: watch::Receiver<bool>,
    ) -> anyhow::Result<Finished> {
        if *kill.borrow() {
            return Ok(Finished::Killed);
        }
        let _ = out.send(format!("{} {}", w.image, w.args.join(" "))).await;
        Ok(Finished::Exited(self.with(|s| s.exit_code)))
    }
    async fn serve(&self, w: &Workload, out: LineSink) -> anyhow::Result<Served> {
        let _ = out.send(format!("serving {}", w.name)).await;
        self.with(|s| s.workloads.push(Labelled { id: w.name.clone(), labels: w.owner.labels() }));
        Ok(Served {
            handle: w.name.clone(),
            endpoint: format!("192.0.2.10:{}", super::ODOO_PORT),
            logs: tokio::spawn(std::future::pending()),
        })
    }
    async fn exec(&self, _: &str, _: &ExecSpec) -> anyhow::Result<ExecIo> {
        anyhow::bail!("the fake runtime has no processes to exec into")
    }
    async fn resize_exec(&self, _: &str, _: u16, _: u16) -> anyhow::Result<()> {
        Ok(())
    }
    async fn exec_exit_code(&self, _: &str) -> anyhow::Result<Option<i64>> {
        Ok(Some(0))
    }
    async fn workloads_of(&self, build: Uuid) -> anyhow::Result<Vec<Labelled>> {
        let b = build.to_string();
        Ok(self.with(|s| s.workloads.iter().filter(|w| w.labels.get("odooops.build") == Some(&b)).cloned().collect()))
    }
    async fn owned(&self, installation: &str) -> anyhow::Result<Owned> {
        let mine = |l: &Labelled| l.labels.get("odooops.installation").is_some_and(|i| i == installation);
        Ok(self.with(|s| Owned {
            workloads: s.workloads.iter().filter(|w| mine(w)).cloned().collect(),
            networks: s.networks.iter().filter(|n| mine(n)).cloned().collect(),
        }))
    }
    async fn remove_workload(&self, id: &str) -> anyhow::Result<()> {
        self.with(|s| s.workloads.retain(|w| w.id != id));
        Ok(())
    }
    async fn remove_network(&self, name: &str) -> anyhow::Result<()> {
        self.with(|s| s.networks.retain(|n| n.id != name));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(build: Uuid) -> Owner {
        Owner {
            installation: "inst".into(),
            build,
            project: Uuid::nil(),
            branch: "main".into(),
            stage: "production".into(),
            route: Some("b1-demo.localhost".into()),
            also: Vec::new(),
            bus: false,
        }
    }

    fn workload(o: &Owner, network: &str) -> Workload {
        Workload {
            name: format!("{}-x", o.network_name()),
            image: "img".into(),
            args: vec!["-d".into(), "db".into()],
            env: vec![],
            owner: o.clone(),
            network: network.into(),
            filestore: None,
            nano_cpus: None,
            memory_bytes: None,
            db_socket: None,
        }
    }

    #[test]
    fn owner_labels_name_the_build_and_route_its_preview() {
        let o = owner(Uuid::new_v4());
        let l = o.labels();
        assert_eq!(l["odooops.build"], o.build.to_string());
        assert_eq!(l["odooops.installation"], "inst");
        assert_eq!(l["traefik.http.routers.b1-demo.rule"], "Host(`b1-demo.localhost`)");
        assert_eq!(l["traefik.http.services.b1-demo.loadbalancer.server.port"], "8069");
        assert!(o.network_name().starts_with("odooops-inst-b"));
        assert!(!l.keys().any(|k| k.contains("-bus")), "no bus route without workers");
    }

    #[test]
    fn an_instance_with_workers_routes_its_hosts_and_its_bus_port() {
        let mut o = owner(Uuid::new_v4());
        o.also = vec!["acme.apps.test".into(), "erp.acme.com".into()];
        o.bus = true;
        let l = o.labels();
        let hosts = "Host(`b1-demo.localhost`) || Host(`acme.apps.test`) || Host(`erp.acme.com`)";
        assert_eq!(l["traefik.http.routers.b1-demo.rule"], hosts);
        assert_eq!(l["traefik.http.routers.b1-demo-bus.rule"], format!("({hosts}) && Path(`/websocket`)"));
        assert_eq!(l["traefik.http.services.b1-demo-bus.loadbalancer.server.port"], "8072");
        assert_eq!(l["traefik.http.routers.b1-demo.service"], "b1-demo");
    }

    #[tokio::test]
    async fn teardown_by_owner_leaves_other_builds_alone() {
        let rt = FakeRuntime::default();
        let (a, b) = (owner(Uuid::new_v4()), owner(Uuid::new_v4()));
        let (na, nb) = (rt.network(&a).await.unwrap(), rt.network(&b).await.unwrap());
        let (tx, _rx) = tokio::sync::mpsc::channel(64);
        rt.serve(&workload(&a, &na), tx.clone()).await.unwrap();
        rt.serve(&workload(&b, &nb), tx.clone()).await.unwrap();
        rt.teardown(a.build, Some(&na)).await.unwrap();
        let owned = rt.owned("inst").await.unwrap();
        assert_eq!(owned.workloads.len(), 1);
        assert_eq!(owned.workloads[0].labels["odooops.build"], b.build.to_string());
        assert_eq!(owned.networks.iter().map(|n| n.id.clone()).collect::<Vec<_>>(), vec![nb]);
    }

    #[tokio::test]
    async fn a_job_ends_with_its_code_or_is_killed() {
        let rt = FakeRuntime::default();
        let o = owner(Uuid::new_v4());
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let (kill_tx, kill) = watch::channel(false);
        rt.exit_with(3);
        assert_eq!(
            rt.run_to_completion(&workload(&o, "n"), tx.clone(), kill.clone()).await.unwrap(),
            Finished::Exited(3)
        );
        assert_eq!(rx.recv().await.unwrap(), "img -d db");
        kill_tx.send(true).unwrap();
        assert_eq!(rt.run_to_completion(&workload(&o, "n"), tx, kill).await.unwrap(), Finished::Killed);
    }
}
