//! Build containers reach no link-local address (SEC-10): a metadata-like
//! HTTP server on 169.254.x.x of this host answers, yet a container on a
//! build network cannot reach it, while it still reaches the host on its own
//! network's gateway (where its database and the mail catcher are).

use crate::backups::production;
use crate::helpers::{spawn_app_with_builds, tear_down_builds, TestApp};
use crate::pipeline::repository;
use domain::engine::ContainerEngine as _;
use domain::engine::RunSpec;
use std::collections::HashMap;
use std::process::Command;

const IMDS: &str = "169.254.211.7";

fn ip(args: &[&str]) -> bool {
    Command::new("ip").args(args).status().map(|s| s.success()).unwrap_or(false)
}

/// A TCP server that says `secret` to whoever connects, on `addr`; its port.
async fn serve(addr: &str) -> (u16, tokio::task::JoinHandle<()>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind(format!("{addr}:0")).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(b"secret").await;
        }
    });
    (port, task)
}

/// busybox `nc` to `host:port` from a container on `network`: whether it heard the secret, and what it said.
async fn fetch_from_container(app: &TestApp, network: &str, host: &str, port: u16) -> (bool, String) {
    let spec = RunSpec {
        image: domain::builds::infra::STANDIN_IMAGE.to_owned(),
        entrypoint: Some(vec!["/bin/busybox".into(), "nc".into()]),
        cmd: vec!["-w".into(), "5".into(), host.into(), port.to_string()],
        network: Some(network.to_owned()),
        ..Default::default()
    };
    let (code, out) = super::support::run_once(app, spec).await;
    (code == 0 && out.contains("secret"), out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_network_reaches_no_link_local_address() {
    let app = spawn_app_with_builds().await;
    domain::builds::egress::guard(crate::helpers::runtime_backend())
        .expect("the egress rules install (root and iptables)");
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    // A real build first: the stand-in image exists, as on any server that builds.
    production(&app, &api, &repository(), "Egress").await;
    let infra = app.platform.builds.as_ref().unwrap();

    let network = format!("odooops-{}-e{}", infra.installation, &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let labels = HashMap::from([
        ("odooops.managed".to_owned(), "true".to_owned()),
        ("odooops.installation".to_owned(), infra.installation.clone()),
    ]);
    crate::helpers::docker().create_network(&network, labels).await.unwrap();
    let gateway = Command::new("docker")
        .args(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", &network])
        .output()
        .unwrap();
    let gateway = String::from_utf8_lossy(&gateway.stdout).trim().to_owned();

    // A "metadata service" on a link-local address of this host.
    // (A veth pair: it needs no kernel module beyond what Docker uses.)
    let short = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let (link, peer) = (format!("odt{short}"), format!("odp{short}"));
    assert!(ip(&["link", "add", &link, "type", "veth", "peer", "name", &peer]), "creating a veth pair (root)");
    assert!(ip(&["addr", "add", &format!("{IMDS}/32"), "dev", &link]));
    assert!(ip(&["link", "set", &link, "up"]) && ip(&["link", "set", &peer, "up"]));
    let (imds_port, imds) = serve(IMDS).await;
    let (own_port, own) = serve(&gateway).await;

    let (control, control_out) = fetch_from_container(&app, &network, &gateway, own_port).await;
    let (reached, out) = fetch_from_container(&app, &network, IMDS, imds_port).await;

    ip(&["link", "del", &link]);
    imds.abort();
    own.abort();
    crate::helpers::docker().remove_network(&network).await.unwrap();
    assert!(control, "the container reaches the host on its own network: {control_out}");
    assert!(!reached, "a build container reached a link-local address: {out}");
    tear_down_builds(&app).await;
}
