//! The swarm backend beyond what the pipeline suite checks on it: images go
//! through a real OCI registry (Debian's `docker-registry`, on loopback,
//! which Docker trusts without TLS) and services run what they pulled from
//! it; a production deploy starts its new task before the old one stops.
//! These tests need an active swarm (`docker swarm init --advertise-addr
//! 127.0.0.1`); scripts/test makes one when there is none and leaves it after.

use crate::helpers::{docker, TestApp};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use domain::engine::ContainerEngine as _;
use domain::runtime::Backend;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A registry on a free loopback port, storing in a scratch directory; stopped on drop.
struct Registry {
    addr: String,
    child: Child,
    dir: std::path::PathBuf,
}

impl Registry {
    async fn start() -> Registry {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let dir = std::env::temp_dir().join(format!("odooops-registry-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (apt-get install docker-registry; scripts/bootstrap does)");
        let registry = Registry { addr, child, dir };
        for _ in 0..100 {
            if reqwest::get(format!("http://{}/v2/", registry.addr)).await.is_ok_and(|r| r.status() == 200) {
                return registry;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the registry did not answer on {}", registry.addr);
    }

    async fn repositories(&self) -> Vec<String> {
        let v: serde_json::Value =
            reqwest::get(format!("http://{}/v2/_catalog", self.addr)).await.unwrap().json().await.unwrap();
        v["repositories"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn swarm_active() {
    let out = Command::new("docker").args(["info", "--format", "{{.Swarm.LocalNodeState}}"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "active",
        "these tests need a swarm: docker swarm init --advertise-addr 127.0.0.1 (scripts/test does it)"
    );
}

fn service_image(name: &str) -> String {
    let out = Command::new("docker")
        .args(["service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swarm_services_run_images_pulled_from_the_registry_and_are_reachable() {
    swarm_active();
    let registry = Registry::start().await;
    let app = TestApp::builder().builds().runtime(Backend::Swarm).registry(&registry.addr).spawn().await;
    let b = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let project = standin_project(&api, "Fleet", &repo).await;
    let sha = commit_file(&repo, "feature/fleet", "README.md", "fleet\n", "Fleet");
    push(&app, &api, &project, "feature/fleet", &sha).await;
    let build = finished(&api, &project, &sha).await;
    assert_eq!(build["result"], "ok", "{build}");
    let id = build["id"].as_str().unwrap();

    // The build's image is in the registry, and its service runs it from there.
    let infra = app.platform.builds.as_ref().unwrap();
    let repos = registry.repositories().await;
    assert!(
        repos.iter().any(|r| r.starts_with(&format!("odooops-build/{}-", infra.installation))),
        "pushed: {repos:?}"
    );
    let short = &uuid::Uuid::parse_str(id).unwrap().simple().to_string()[..12];
    let service = format!("odooops-{}-b{short}", infra.installation);
    let image = service_image(&service);
    assert!(image.starts_with(&format!("{}/odooops-build/", registry.addr)), "the service runs {image}");

    // It is a service the swarm runs, its task a container with the build's labels.
    let tasks = docker().containers_with_label(&format!("odooops.build={id}")).await.unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(tasks[0].labels.contains_key("com.docker.swarm.service.id"), "{:?}", tasks[0].labels);

    // docker_gwbridge is every tenant's: an answer at an address counts only
    // while this service's running task holds it (a health check or a route
    // must not take another workload's answer for this build's).
    let target: String = sqlx::query_scalar("SELECT preview_target FROM ops.builds WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let runtime = &app.platform.runtime;
    assert!(runtime.still_at(&service, &target).await.unwrap(), "its own address: {target}");
    let (ip, port) = target.rsplit_once(':').unwrap();
    let (net, last) = ip.rsplit_once('.').unwrap();
    let other = format!("{net}.{}:{port}", if last == "250" { 251 } else { 250 });
    assert!(!runtime.still_at(&service, &other).await.unwrap(), "an address it does not hold: {other}");
    assert!(!runtime.still_at("odooops-no-such-service", &target).await.unwrap(), "a service that is not there");

    // Torn down, nothing of it is left: no service, no container, no overlay.
    domain::builds::lifecycle::teardown(&app.platform, infra, uuid::Uuid::parse_str(id).unwrap()).await.unwrap();
    assert_eq!(service_image(&service), "", "the service is gone");
    assert!(docker().containers_with_label(&format!("odooops.build={id}")).await.unwrap().is_empty());
    let network = Command::new("docker")
        .args(["network", "inspect", &format!("odooops-{}-b{short}", infra.installation)])
        .output()
        .unwrap();
    assert!(!network.status.success(), "the overlay network is gone");
    crate::helpers::tear_down_builds(&app).await;
}
