//! Tenant instances attacked from inside (issue 14): a shell in one tenant's
//! Odoo container's network reaches neither another tenant's instance nor
//! the console; its own instance answers (the control). Databases are
//! covered by `postgres` (a role gets into its own database only).

use crate::helpers::{spawn_app_with_builds, tear_down_builds, Api, TestApp};
use crate::instances::{active_instance, confirmed, serving_build};
use domain::engine::RunSpec;

/// An HTTP GET of `/web/health` at `addr` with busybox, from a container on `network`: the answer.
async fn health_from(app: &TestApp, network: &str, addr: &str) -> (bool, String) {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let script = format!("printf 'GET /web/health HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 {host} {port}");
    let spec = RunSpec {
        image: domain::builds::infra::STANDIN_IMAGE.to_owned(),
        entrypoint: Some(vec!["/bin/busybox".into(), "sh".into(), "-c".into()]),
        cmd: vec![script],
        network: Some(network.to_owned()),
        ..Default::default()
    };
    let (_, out) = super::support::run_once(app, spec).await;
    (out.contains("\"pass\""), out)
}

/// The serving build's network, Odoo's address there, and its database role.
const COLUMNS: &str = "b.network, b.preview_target, b.db_role";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_reaches_neither_another_tenants_instance_nor_the_console() {
    let app = spawn_app_with_builds().await;
    let _owner = app.signed_up("ann@platform.test", "Platform").await;
    let mallory: Api<'_> = confirmed(&app, "mallory@evil.test", "Evil").await;
    let victim: Api<'_> = confirmed(&app, "vic@victim.test", "Victim").await;
    let evil = active_instance(&mallory, "evil", "mallory@evil.test").await;
    let good = active_instance(&victim, "victim", "vic@victim.test").await;
    let (evil_net, evil_addr, _): (String, String, String) =
        serving_build(&app, evil["id"].as_str().unwrap(), COLUMNS).await;
    let (_, good_addr, _): (String, String, String) = serving_build(&app, good["id"].as_str().unwrap(), COLUMNS).await;

    let (own, own_out) = health_from(&app, &evil_net, &evil_addr).await;
    assert!(own, "the control: an instance's network reaches its own Odoo: {own_out}");
    let (reached, out) = health_from(&app, &evil_net, &good_addr).await;
    assert!(!reached, "another tenant's instance answered: {out}");
    // The console listens on loopback only: not from a container.
    let port = app.addr.rsplit(':').next().unwrap();
    let gateway = std::process::Command::new("docker")
        .args(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", &evil_net])
        .output()
        .unwrap();
    let gateway = String::from_utf8_lossy(&gateway.stdout).trim().to_owned();
    let (console, out) = health_from(&app, &evil_net, &format!("{gateway}:{port}")).await;
    assert!(!console, "the console answered a container: {out}");
    tear_down_builds(&app).await;
}
