//! What the benchmarks share: the application (built as `odooops serve` builds it) running builds on the stand-in
//! image against the test cluster, a project on a local git repository, and
//! small statistics.

use domain::accounts::{self, SignUp};
use domain::auth::{Actor, RequestMeta};
use domain::builds::infra::{BuildInfra, STANDIN_IMAGE};
use domain::config::Settings;
use domain::db::Db;
use domain::engine::{ContainerEngine, DockerEngine, RunSpec};
use domain::mailer::LogMailer;
use domain::platform::Platform;
use domain::runtime::Backend;
use server::application::{Application, Parts};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@ops.test")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@ops.test")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The value below which `q` of the samples fall (0.5 = median).
pub fn percentile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// A running build platform with one signed-up account and a stand-in project.
pub struct Bench {
    pub p: Platform,
    pub actor: Actor,
    pub project: uuid::Uuid,
    pub secret: String,
    pub repo: PathBuf,
    pub scratch: PathBuf,
    pub infra: BuildInfra,
    /// The engine itself, for raw floors measured beside the runtime.
    #[allow(dead_code, reason = "only the benches with a raw floor use it")]
    pub engine: Arc<dyn ContainerEngine>,
    /// The console's HTTP address (the same application `odooops serve` runs).
    // Each bench compiles this module on its own; `#[expect]` would fire in the one that reads it.
    #[allow(dead_code, reason = "only the keystroke bench talks HTTP")]
    pub addr: std::net::SocketAddr,
}

#[allow(dead_code, reason = "swarm_vs_docker sets its backends up itself")]
pub async fn setup(settings: Settings) -> Bench {
    setup_on(settings, Backend::Docker).await
}

/// As [`setup`], builds running on `backend`.
pub async fn setup_on(settings: Settings, backend: Backend) -> Bench {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let standin = root.join("target/x86_64-unknown-linux-musl/release/odoo");
    assert!(
        standin.is_file(),
        "build the stand-in first: cargo build -p odoo-standin --release --target x86_64-unknown-linux-musl"
    );
    let databases = domain::testing::build_databases().expect("the benchmark needs Docker");
    let db = Db::prepare(domain::testing::fresh_database().await, 5).await.expect("database");
    let scratch = root.join(format!("target/bench/{}", uuid::Uuid::new_v4().simple()));
    let infra = BuildInfra {
        databases,
        repos_dir: scratch.join("repos"),
        work_dir: scratch.join("work"),
        standin_binary: Some(standin),
        max_concurrent: 1,
        max_per_tenant: 1,
        phase_timeout: Duration::from_secs(1800),
        health_timeout: Duration::from_secs(120),
        worker: "bench".into(),
        preview_domain: "localhost".into(),
        instances_domain: "localhost".into(),
        preview_key: b"bench".to_vec(),
        installation: domain::builds::infra::installation_id(&uuid::Uuid::new_v4().to_string()),
        mail_catcher: None,
        filestore_dir: scratch.join("filestore"),
        dedicated: domain::instances::dedicated::Servers::new(scratch.join("dedicated")),
        backups: domain::backups::BackupInfra::local(&scratch.join("backups")).unwrap(),
        git_timeout: Duration::from_secs(600),
        allow_local_repos: true,
        custom_domains: Default::default(),
        traffic: Default::default(),
    };
    let engine: Arc<dyn ContainerEngine> = Arc::new(DockerEngine::from_env());
    let app = Application::build(Parts {
        db,
        runtime: domain::runtime::from_env(backend, None, Vec::new()),
        mailer: Arc::new(LogMailer),
        settings,
        builds: Some(infra.clone()),
        leptos: leptos::prelude::LeptosOptions::builder().output_name("odooops").site_root("target/site").build(),
        http: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        worker: true,
        mail_catcher: Vec::new(),
        ssh: None,
    })
    .await
    .expect("building the application");
    let (p, addr, setup) = (app.platform.clone(), app.addr, app.setup_token.clone());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let (actor, _) = accounts::sign_up(
        &p,
        SignUp {
            email: "bench@ops.test",
            password: "bench password 1",
            display_name: "",
            organisation: "Bench",
            setup_token: setup.as_deref(),
        },
        RequestMeta::default(),
    )
    .await
    .expect("sign up");
    let repo = scratch.join("repo");
    std::fs::create_dir_all(repo.join("acme_sale")).unwrap();
    std::fs::write(
        repo.join("acme_sale/__manifest__.py"),
        "{'name': 'Acme Sale', 'version': '1.0', 'depends': ['sale']}",
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "addon"]);
    let project = domain::projects::create(
        &p,
        &actor,
        domain::wire::NewProject {
            tenant: None,
            name: "Bench".into(),
            slug: None,
            repo_url: repo.to_str().unwrap().into(),
            odoo_version: "17.0".into(),
            stage_rules: None,
            production_requires_approval: Some(false),
            base_image: Some(STANDIN_IMAGE.into()),
        },
    )
    .await
    .expect("project");
    let secret = domain::builds::webhooks::settings(&p, &actor, project.id).await.unwrap().secret;
    Bench { p, actor, project: project.id, secret, repo, scratch, infra, engine, addr }
}

// Each bench compiles this module on its own; `#[expect]` would fire in the ones that use these.
#[allow(
    dead_code,
    reason = "push_to_preview, swarm_vs_docker and instance_provision use these, the other benches do not"
)]
impl Bench {
    /// Commits a change to `branch`, sends its signed push, and waits until
    /// the build serves; the time from push to live preview. Prints the phases.
    pub async fn push_until_live(&self, branch: &str, round: usize) -> (String, Duration) {
        use domain::builds::{github, webhooks};
        // Each bench app's commits differ, so no app builds on another's cached layers.
        std::fs::write(self.repo.join("round.txt"), format!("{} {branch} {round}", self.infra.installation)).unwrap();
        git(&self.repo, &["add", "."]);
        git(&self.repo, &["commit", "-q", "-m", &format!("round {round}")]);
        let sha = git(&self.repo, &["rev-parse", "HEAD"]);
        let body = serde_json::to_vec(
            &serde_json::json!({"ref": format!("refs/heads/{branch}"), "after": sha, "deleted": false}),
        )
        .unwrap();
        let t = std::time::Instant::now();
        let sig = github::sign(self.secret.as_bytes(), &body);
        let delivery = format!("bench-{branch}-{round}");
        webhooks::receive(
            &self.p,
            self.project,
            webhooks::Delivery { event: "push", delivery_id: &delivery, signature: Some(&sig), body: &body },
        )
        .await
        .expect("webhook");
        loop {
            let builds = domain::builds::grid::page_builds(&self.p, &self.actor, self.project, Default::default())
                .await
                .unwrap();
            if let Some(b) =
                builds.iter().find(|b| b.commit_sha == sha && (b.live || b.state == domain::types::BuildState::Done))
            {
                assert!(b.live, "build failed: {:?}", b.reason);
                let events = domain::builds::queue::events(&self.p, &self.actor, b.id, 0, 5000).await.unwrap();
                let phases: Vec<String> = events
                    .iter()
                    .filter(|e| e.meta["status"] == "done")
                    .map(|e| format!("{} {}ms", e.source, e.meta["duration_ms"]))
                    .collect();
                let waited = b.started_at.map(|s| (s - b.created_at).num_milliseconds()).unwrap_or(-1);
                println!("round {round}: queued→started {waited}ms; {}", phases.join(", "));
                return (sha, t.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The raw floor once an image exists: a new database, `odoo -d <db>
    /// <install…>` from `image` to its end, the server started and polled
    /// until `/web/health` passes; then all of it removed. The time it took.
    pub async fn floor_serve(&self, image: &str, round: usize, install: &[&str]) -> Duration {
        let (engine, databases) = (&self.engine, &self.infra.databases);
        let t = Instant::now();
        let name = format!("ob_{}_floor{round}", self.infra.installation);
        let grant = databases.provision(&name, None).await.unwrap();
        let env = vec![
            format!("HOST={}", databases.host_for_containers),
            format!("PORT={}", databases.port_for_containers),
            format!("USER={}", grant.role),
            format!("PASSWORD={}", grant.password),
        ];
        let mut cmd = vec!["-d".to_owned(), name.clone()];
        cmd.extend(install.iter().map(|a| a.to_string()));
        let spec = RunSpec {
            name: format!("odooops-bench-install-{}", uuid::Uuid::new_v4().simple()),
            image: image.to_owned(),
            cmd,
            env: env.clone(),
            ..Default::default()
        };
        let id = engine.start(&spec).await.unwrap();
        assert_eq!(engine.wait(&id).await.unwrap(), 0);
        engine.remove_container(&id).await.unwrap();
        let server = RunSpec {
            name: format!("odooops-bench-server-{}", uuid::Uuid::new_v4().simple()),
            image: image.to_owned(),
            cmd: vec!["-d".into(), name.clone()],
            env,
            network: Some("bridge".into()),
            ..Default::default()
        };
        let id = engine.start(&server).await.unwrap();
        let ip = engine.ip_address(&id, "bridge").await.unwrap().expect("ip");
        let client = reqwest::Client::new();
        while !client
            .get(format!("http://{ip}:8069/web/health"))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let took = t.elapsed();
        engine.remove_container(&id).await.unwrap();
        databases.drop(&name, &name).await.unwrap();
        took
    }

    /// Tears down every live build and removes the scratch directory.
    pub async fn tear_down(&self) {
        let mut tx = self.p.db.begin_as(domain::builds::queue::SYSTEM_USER).await.unwrap();
        let live: Vec<uuid::Uuid> =
            sqlx::query_scalar("SELECT id FROM ops.builds WHERE live").fetch_all(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        for id in live {
            domain::builds::lifecycle::teardown(&self.p, &self.infra, id).await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}
