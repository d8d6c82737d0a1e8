//! Repositories are hostile (SEC-03, SEC-08, SEC-09): links that point at the
//! host's files (the cluster's superuser password, `/etc/hostname`) and link
//! loops; `file://` and paths to other tenants' mirrors; a remote that never
//! answers; a commit of large zero-filled files that must not land in the
//! console's memory.

use crate::backups::build_log;
use crate::helpers::{spawn_app, spawn_app_with_builds, tear_down_builds};
use crate::pipeline::{finished, git, push, repository, standin_project};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// Files on this host that a link in a repository points at.
fn host_secrets() -> Vec<(PathBuf, String)> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let password = target.join(format!("test-pg/{}/postgres/superuser-password", std::process::id()));
    [PathBuf::from("/etc/hostname"), password]
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?.trim().to_owned())))
        .filter(|(_, s)| s.len() >= 6)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_out_of_the_repository_fail_the_build_and_ship_no_host_file() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let secrets = host_secrets();
    assert!(!secrets.is_empty(), "the test needs a host file to aim at");
    for (i, (path, _)) in secrets.iter().enumerate() {
        std::os::unix::fs::symlink(path, repo.join(format!("leak{i}"))).unwrap();
    }
    std::os::unix::fs::symlink("../../../../../../../../etc/hostname", repo.join("climb")).unwrap();
    let cat: Vec<String> = (0..secrets.len()).map(|i| format!("\"/x/leak{i}\"")).collect();
    std::fs::write(
        repo.join("Dockerfile"),
        format!(
            "FROM {}\nCOPY . /x\nRUN [\"/bin/busybox\", \"cat\", {}, \"/x/climb\"]\n",
            domain::builds::infra::STANDIN_IMAGE,
            cat.join(", ")
        ),
    )
    .unwrap();
    git(&repo, &["checkout", "-q", "-b", "leaky"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "links to the host"]);
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    let project = standin_project(&api, "Leaky", &repo).await;
    push(&app, &api, &project, "leaky", &sha).await;
    let build = finished(&api, &project, &sha).await;
    let log = build_log(&api, build["id"].as_str().unwrap()).await;
    assert_eq!(build["result"], "ko", "{build}\n{log}");
    assert!(build["reason"].as_str().unwrap().contains("points outside the repository"), "{build}");
    for (path, content) in &secrets {
        assert!(!log.contains(content.as_str()), "{} reached the build log:\n{log}", path.display());
    }

    // Links inside the tree stay links (a loop costs nothing), and the build works.
    for (i, _) in secrets.iter().enumerate() {
        std::fs::remove_file(repo.join(format!("leak{i}"))).unwrap();
    }
    std::fs::remove_file(repo.join("climb")).unwrap();
    std::fs::remove_file(repo.join("Dockerfile")).unwrap();
    std::os::unix::fs::symlink(".", repo.join("loop_a")).unwrap();
    std::os::unix::fs::symlink(".", repo.join("loop_b")).unwrap();
    std::os::unix::fs::symlink("acme_sale/__manifest__.py", repo.join("manifest_link")).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "links inside"]);
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "leaky", &sha).await;
    let build = finished(&api, &project, &sha).await;
    let log = build_log(&api, build["id"].as_str().unwrap()).await;
    assert_eq!(build["result"], "ok", "{build}\n{log}");
    assert!(log.contains("3 link(s)"), "{log}");
    tear_down_builds(&app).await;
}

#[tokio::test]
async fn tenants_may_not_use_local_repositories() {
    let app = spawn_app().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let victim = format!("/proc/self/cwd/.odooops/repos/{}.git", uuid::Uuid::new_v4());
    for url in [
        "file:///etc",
        victim.as_str(),
        "http://169.254.169.254/latest/meta-data/x",
        "https://169.254.169.254/latest/meta-data/x",
        "https://127.0.0.1:5432/x.git",
        "ssh://git@10.0.0.5/x.git",
        "git@localhost:x.git",
        "ext::sh -c id",
    ] {
        let (status, e) =
            api.post("/api/v1/projects", json!({"name": "Thief", "repo_url": url, "odoo_version": "17.0"})).await;
        assert_eq!(status, 422, "{url}: {e}");
    }
    let (status, e) = api
        .post(
            "/api/v1/projects",
            json!({"name": "Honest", "repo_url": "https://github.com/acme/addons.git", "odoo_version": "17.0"}),
        )
        .await;
    assert_eq!(status, 201, "{e}");
}

/// A TCP server that accepts and never answers.
async fn tarpit() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_that_never_answers_times_out_and_delays_no_other_build() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let (port, pit) = tarpit().await;
    let (status, stuck) = api
        .post(
            "/api/v1/projects",
            json!({"name": "Stuck", "repo_url": format!("https://127.0.0.1:{port}/x.git"), "odoo_version": "17.0"}),
        )
        .await;
    assert_eq!(status, 201, "{stuck}");
    let (status, s) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{}/settings", stuck["id"].as_str().unwrap()),
            Some(json!({"poll_minutes": 1})),
        )
        .await;
    assert_eq!(status, 200, "{s}");

    // The worker polls the tarpit beside its claim loop: another project's push still builds.
    let repo = repository();
    let project = standin_project(&api, "Fine", &repo).await;
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &sha).await;
    assert_eq!(finished(&api, &project, &sha).await["result"], "ok");

    // And a poll of the tarpit ends by itself, with the git timeout.
    let p = super::support::with_infra(&app, |infra| infra.git_timeout = Duration::from_secs(2));
    let mut tx = app.platform.db.begin_as(domain::builds::queue::SYSTEM_USER).await.unwrap();
    sqlx::query("UPDATE ops.projects SET last_polled_at = NULL WHERE id = $1::uuid")
        .bind(stuck["id"].as_str().unwrap())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let polled = tokio::time::timeout(Duration::from_secs(120), domain::builds::poll::poll_due(&p)).await;
    assert!(polled.is_ok(), "polling a silent remote never ended");
    pit.abort();
    tear_down_builds(&app).await;
}

/// The process's peak resident memory, in bytes (reset by [`reset_peak`]).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

fn reset_peak() {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

const FILE: usize = 256 << 20;

/// Peak RSS is per process, and other tests in this binary allocate (uploads
/// of hundreds of MiB): the build runs in a process of its own, this binary
/// again with only the ignored test below, which prints how far the peak grew.
#[test]
fn a_commit_of_large_zero_files_keeps_the_consoles_memory_bounded() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["attacks::repository::zero_files_build_in_its_own_process", "--exact", "--ignored", "--nocapture"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let grew: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("peak RSS grew by bytes: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no measurement in:\n{text}"));
    assert!(grew < FILE as u64, "the console held the commit in memory: +{} MiB", grew >> 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run in a process of its own by a_commit_of_large_zero_files_keeps_the_consoles_memory_bounded"]
async fn zero_files_build_in_its_own_process() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let zeros = vec![0u8; 1 << 20];
    for name in ["zeros1.bin", "zeros2.bin"] {
        use std::io::Write;
        let mut f = std::fs::File::create(repo.join(name)).unwrap();
        for _ in 0..FILE >> 20 {
            f.write_all(&zeros).unwrap();
        }
    }
    // The image keeps only the addon: the zeros travel in the context, not in a layer.
    std::fs::write(
        repo.join("Dockerfile"),
        format!("FROM {}\nCOPY acme_sale /mnt/extra-addons/acme_sale\n", domain::builds::infra::STANDIN_IMAGE),
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "zeros"]);
    let sha = git(&repo, &["rev-parse", "HEAD"]);
    let project = standin_project(&api, "Zeros", &repo).await;
    reset_peak();
    let before = peak_rss();
    push(&app, &api, &project, "main", &sha).await;
    let build = finished(&api, &project, &sha).await;
    assert_eq!(build["result"], "ok", "{build}");
    let grew = peak_rss().saturating_sub(before);
    tear_down_builds(&app).await;
    println!("peak RSS grew by {} MiB for {} MiB of files", grew >> 20, (2 * FILE) >> 20);
    println!("peak RSS grew by bytes: {grew}");
}
