//! The build pipeline: checkout → discover addons → preflight (sources) →
//! image → database → install/tests → preflight (database) → start → health → route. Each phase logs its start, end and
//! duration in `ops.run_events`; resources are recorded on the build row as
//! soon as they exist, so cleanup (and the reconciler after a crash) can find them.

pub use super::base_image::ensure_base_image;
use super::base_image::{generated_dockerfile, STANDIN_PROVIDES};
use super::events::{BuildLog, LineStats};
use super::infra::BuildInfra;
use super::queue::{Claimed, SYSTEM_USER};
use super::{lifecycle, manifest, neutralize};

mod bundle;
mod containers;
mod database;
mod facts;
use facts::Facts;
pub mod plan;
mod preflight;
mod upgrade;
use crate::platform::Platform;
use anyhow::{bail, Context};
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::sync::watch;

/// How a build ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: &'static str,
    pub reason: Option<String>,
}

/// Addons one build may discover (each is a log line and an install argument).
const MAX_ADDONS: usize = 2000;

/// The tag of a build's image. Builds of identical sources share an image
/// id, so images are removed by tag: a tag goes, the image when its last tag does.
pub fn image_tag(installation: &str, project: uuid::Uuid, seq: i64) -> String {
    format!("odooops-build/{installation}-{}:b{seq}", short(project))
}

/// CPUs of this host (what a container's CPU limit may reach at most).
fn host_cpus() -> f64 {
    std::thread::available_parallelism().map(|n| n.get() as f64).unwrap_or(1.0)
}

pub(crate) fn short(id: uuid::Uuid) -> String {
    id.simple().to_string()[..12].to_owned()
}

/// Runs one claimed build to its outcome. Never panics on bad input; every
/// failure becomes a `ko` with a reason a person can act on.
pub async fn run(p: &Platform, infra: &BuildInfra, b: &Claimed, kill: watch::Receiver<bool>) -> Outcome {
    let (log, writer) = BuildLog::start(p.clone(), b.tenant_id, b.id, b.env_id);
    log.info(
        "build",
        format!("build of {} at {} ({}), attempt {}", b.branch, &b.commit_sha[..12], b.stage, b.attempts),
    );
    if b.attempts > 1 {
        // A retry after its console died: what the interrupted attempt started goes first (names are per build).
        let left = p.runtime.workloads_of(b.id).await.unwrap_or_default();
        for w in &left {
            if let Err(e) = p.runtime.remove_workload(&w.id).await {
                log.warn("build", format!("could not remove a workload of the interrupted attempt: {e:#}"));
            }
        }
        if !left.is_empty() {
            log.info("build", format!("removed {} workload(s) the interrupted attempt left", left.len()));
        }
    }
    let mut run = Run {
        p,
        infra,
        b,
        log: log.clone(),
        kill,
        stats: LineStats::default(),
        db_was_there: false,
        adding: Vec::new(),
        gates: Vec::new(),
        open_phase: std::sync::Mutex::new(None),
    };
    let outcome = match run.phases().await {
        Ok(o) => o,
        Err(e) => {
            let killed = e.downcast_ref::<KilledError>().is_some();
            run.fail_open_phase(if killed { "killed" } else { "failed" });
            if !killed {
                log.error("build", format!("{e:#}"));
            }
            if let Err(t) = lifecycle::teardown(p, infra, b.id).await {
                log.error("cleanup", format!("cleanup failed (the reconciler will retry): {t:#}"));
            }
            if killed {
                Outcome { result: "killed", reason: Some("killed".into()) }
            } else {
                Outcome { result: "ko", reason: Some(format!("{e:#}").chars().take(500).collect()) }
            }
        }
    };
    let _ = std::fs::remove_dir_all(infra.work_dir.join(short(b.id)));
    log.info(
        "build",
        format!(
            "finished: {}{}",
            outcome.result,
            outcome.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
        ),
    );
    drop(run);
    drop(log);
    let _ = writer.await;
    outcome
}

#[derive(Debug)]
struct KilledError;

impl std::fmt::Display for KilledError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("killed")
    }
}

impl std::error::Error for KilledError {}

struct Run<'a> {
    p: &'a Platform,
    infra: &'a BuildInfra,
    b: &'a Claimed,
    log: BuildLog,
    kill: watch::Receiver<bool>,
    stats: LineStats,
    /// Whether the database existed (or was copied) before this build: then modules are updated, not installed.
    db_was_there: bool,
    /// Modules this build adds to an existing database (a bundle applied to an instance): installed, not updated.
    adding: Vec<String>,
    /// The preflight gates' results so far.
    gates: Vec<crate::types::GateResult>,
    /// The phase begun and not yet ended: when the build fails, it is the phase that failed.
    open_phase: std::sync::Mutex<Option<(String, Instant)>>,
}

impl Run<'_> {
    fn check_kill(&self) -> anyhow::Result<()> {
        if *self.kill.borrow() {
            return Err(KilledError.into());
        }
        Ok(())
    }

    fn begin(&self, phase: &str) -> Instant {
        let now = Instant::now();
        if let Ok(mut open) = self.open_phase.lock() {
            *open = Some((phase.to_owned(), now));
        }
        self.log.emit(
            "info",
            phase,
            format!("{phase}: started"),
            serde_json::json!({"phase": phase, "status": "started"}),
        );
        now
    }

    /// Marks the phase that was running when the build stopped (the timeline shows it red).
    fn fail_open_phase(&self, status: &str) {
        let Some((phase, started)) = self.open_phase.lock().ok().and_then(|mut o| o.take()) else { return };
        let ms = started.elapsed().as_millis() as u64;
        self.log.emit(
            "info",
            &phase,
            format!("{phase}: {status} after {:.1} s", ms as f64 / 1000.0),
            serde_json::json!({"phase": phase, "status": status, "duration_ms": ms}),
        );
    }

    fn end(&self, phase: &str, started: Instant, note: &str) {
        if let Ok(mut open) = self.open_phase.lock() {
            *open = None;
        }
        let ms = started.elapsed().as_millis() as u64;
        self.log.emit(
            "info",
            phase,
            format!(
                "{phase}: done in {:.1} s{}",
                ms as f64 / 1000.0,
                if note.is_empty() { String::new() } else { format!(" ({note})") }
            ),
            serde_json::json!({"phase": phase, "status": "done", "duration_ms": ms}),
        );
    }

    async fn record(&self, sql: &str, value: &str) -> anyhow::Result<()> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        sqlx::query(sql).bind(self.b.id).bind(value).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The catcher with this environment's credentials (development and staging).
    async fn catcher(&self) -> anyhow::Result<Option<neutralize::Catcher>> {
        let Some((host, port)) = &self.infra.mail_catcher else { return Ok(None) };
        if self.b.stage == "production" {
            return Ok(None);
        }
        let (user, password) = crate::mail::store::credentials(self.p, self.b.env_id)
            .await
            .map_err(|e| anyhow::anyhow!("mail credentials: {e}"))?;
        Ok(Some(neutralize::Catcher { host: host.clone(), port: *port, user, password }))
    }

    /// Where Odoo sends mail: development and staging to this console's
    /// catcher with the environment's own credentials; production to the
    /// project's relay (never the catcher), or nowhere when none is set.
    async fn smtp_flags(&self, facts: &Facts) -> anyhow::Result<Vec<String>> {
        if self.b.stage == "production" {
            return Ok(match &facts.smtp_relay {
                Some((host, port)) => vec![format!("--smtp={host}"), format!("--smtp-port={port}")],
                None => Vec::new(),
            });
        }
        Ok(match self.catcher().await? {
            Some(c) => vec![
                format!("--smtp={}", c.host),
                format!("--smtp-port={}", c.port),
                format!("--smtp-user={}", c.user),
                format!("--smtp-password={}", c.password),
            ],
            None => Vec::new(),
        })
    }

    async fn phases(&mut self) -> anyhow::Result<Outcome> {
        let plan = self.b.plan().context("what this build deploys")?;
        let facts = self.facts().await?;
        let s = short(self.b.id);

        // The build's network first: the image's RUN steps run on it too (egress rules apply).
        let network = self.p.runtime.network(&self.owner(&facts)).await.context("creating the build network")?;
        self.record("UPDATE ops.builds SET network = $2 WHERE id = $1", &network).await?;

        let (image, addons) = match plan.code {
            // A promotion or rollback deploys an image that exists: the very one tested.
            plan::Code::Deploy { from } => {
                let t = self.begin("image");
                let (image, addons) = self.reuse_image(from).await?;
                self.end("image", t, &format!("{image} from build {from}"));
                (image, addons)
            }
            plan::Code::Bundle => {
                let t = self.begin("image");
                let (image, modules) = self.bundle_image(&facts).await?;
                self.end("image", t, &image);
                (image, modules)
            }
            plan::Code::Build => {
                let t = self.begin("checkout");
                let src = self.checkout(&facts).await?;
                self.end("checkout", t, &self.b.commit_sha[..12]);
                self.check_kill()?;

                let t = self.begin("discover");
                let addons = self.discover(&src, &facts)?;
                self.record_addons(&addons).await?;
                self.end("discover", t, &format!("{} addon(s)", addons.len()));

                let t = self.begin("preflight");
                let summary = self.preflight_sources(&src).await?;
                self.end("preflight", t, &summary);
                self.check_kill()?;

                let t = self.begin("image");
                let limit = self.infra.phase_timeout;
                let image = tokio::time::timeout(limit, self.image(&src, &facts)).await.map_err(|_| {
                    anyhow::anyhow!("the image phase did not finish within {} min", limit.as_secs() / 60)
                })??;
                self.end("image", t, &image);
                (image, addons)
            }
        };
        self.check_kill()?;

        let t = self.begin("database");
        let grant = self.database(&s, plan.database).await?;
        self.end("database", t, &grant.database);
        self.check_kill()?;

        let smtp = self.smtp_flags(&facts).await?;
        let t = self.begin("install");
        let fresh = self.b.stage == "development" || !self.db_was_there;
        let limit = self.infra.phase_timeout;
        let preview = self.b.source()? == plan::Source::UpgradePreview;
        let install = async {
            if preview {
                self.upgrade_install(&image, &grant, &addons, &smtp, &facts).await
            } else if facts.upgrade {
                // An approved upgrade of production: the preview's image, every module updated.
                self.install(&image, &grant, &["all".to_owned()], false, plan.tests, &smtp, &facts).await
            } else {
                self.install(&image, &grant, &addons, fresh, plan.tests, &smtp, &facts).await
            }
        };
        tokio::time::timeout(limit, install)
            .await
            .map_err(|_| anyhow::anyhow!("install/tests did not finish within {} min", limit.as_secs() / 60))??;
        if self.stats.errors > 0 {
            // The install phase is the one that failed (marked so by `run`).
            let first = self.stats.first_error.clone().unwrap_or_default();
            bail!("install/tests logged {} error(s); first: {first}", self.stats.errors);
        }
        self.end("install", t, &format!("{} error(s), {} warning(s)", self.stats.errors, self.stats.warnings));
        let t = self.begin("preflight");
        let summary = self.preflight_database(&grant, &facts).await?;
        self.end("preflight", t, &summary);
        if plan.code == plan::Code::Bundle {
            self.instance_credentials(&grant, fresh).await?;
            self.instance_sso(&grant, fresh).await?;
        }
        self.check_kill()?;

        let t = self.begin("start");
        let (handle, endpoint, server_logs) = self.start(&image, &grant, &facts, &smtp).await?;
        self.end("start", t, &endpoint);

        let t = self.begin("health");
        self.health(&handle, &endpoint, &server_logs).await?;
        self.end("health", t, "/web/health answered pass");

        let t = self.begin("route");
        let slug = format!("b{}-{}", facts.seq, facts.project_slug);
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        // With workers, Odoo's bus listens on its own port beside the HTTP one.
        let bus = (facts.workers > 0)
            .then(|| endpoint.rsplit_once(':').map(|(host, _)| format!("{host}:{}", crate::runtime::ODOO_BUS_PORT)))
            .flatten();
        sqlx::query(
            "UPDATE ops.builds SET container_id = $2, preview_target = $3, preview_slug = $4, bus_target = $5, live = true
              WHERE id = $1",
        )
        .bind(self.b.id)
        .bind(&handle)
        .bind(&endpoint)
        .bind(&slug)
        .bind(&bus)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.end("route", t, &format!("http://{slug}.{}", self.infra.preview_domain));
        // The new preview is serving: stopping the builds it supersedes need not delay the result.
        {
            let (p, infra, env, stage, log) =
                (self.p.clone(), self.infra.clone(), self.b.env_id, self.b.stage.clone(), self.log.clone());
            tokio::spawn(async move { lifecycle::retire_superseded(&p, &infra, env, &stage, &log).await });
        }
        Ok(match crate::types::worst(&self.gates) {
            (crate::types::Verdict::Warn, Some(r)) => {
                Outcome { result: "warn", reason: Some(format!("preflight: {} warns: {}", r.gate.title(), r.reason)) }
            }
            _ if self.stats.warnings > 0 => {
                Outcome { result: "warn", reason: Some(format!("{} warning(s) during install", self.stats.warnings)) }
            }
            _ => Outcome { result: "ok", reason: None },
        })
    }

    /// Whom this build's workloads and network belong to (their labels come from it).
    fn owner(&self, facts: &Facts) -> crate::runtime::Owner {
        crate::runtime::Owner {
            installation: self.infra.installation.clone(),
            build: self.b.id,
            project: self.b.project_id,
            branch: self.b.branch.clone(),
            stage: self.b.stage.clone(),
            route: Some(format!("b{}-{}.{}", facts.seq, facts.project_slug, self.infra.preview_domain)),
            also: facts.hosts.clone(),
            bus: facts.workers > 0,
        }
    }

    async fn checkout(&self, facts: &Facts) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(&self.infra.repos_dir)?;
        let remotes = super::git::remotes_for(self.infra.allow_local_repos, &facts.repo_url).await?;
        let ssh = self.ssh_command().await?;
        let timeout = self.infra.git_timeout;
        let git = |what: &'static str, args: Vec<String>| {
            let mut cmd = super::git::command(remotes, &ssh);
            cmd.args(args);
            super::git::run(cmd, what, timeout)
        };
        // Two builds of a project (a push to two branches) share its mirror:
        // one clones or fetches at a time.
        let lock = mirror_lock(self.b.project_id);
        let _held = lock.lock().await;
        let mirror = self.infra.repos_dir.join(format!("{}.git", self.b.project_id));
        super::git::sync_mirror(&mirror, &facts.repo_url, remotes, &ssh, timeout).await?;
        let sha = &self.b.commit_sha;
        let commit = format!("{sha}^{{commit}}");
        if git("cat-file", ["--git-dir", path(&mirror), "cat-file", "-e", &commit].map(str::to_owned).to_vec())
            .await
            .is_err()
        {
            bail!("commit {sha} is not in the repository (force-pushed away?)");
        }
        if let Some(reason) = super::freshness::stale_for_production(&mirror, self.b).await? {
            bail!(reason);
        }
        // The commit goes to a file, never into memory, then is unpacked entry
        // by entry: links must stay inside the tree (see `context`).
        let work = self.infra.work_dir.join(short(self.b.id));
        let dir = work.join("src");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let archive = work.join("commit.tar");
        super::git::archive(&mirror, sha, &archive, self.infra.git_timeout).await.context("exporting the commit")?;
        let (tar, dest) = (archive.clone(), dir.clone());
        let unpacked = tokio::task::spawn_blocking(move || super::context::unpack(&tar, &dest, Default::default()))
            .await?
            .context("unpacking the commit")?;
        let _ = std::fs::remove_file(&archive);
        self.log.info(
            "checkout",
            format!(
                "{} at {sha}: {} file(s), {} link(s), {} MiB",
                facts.repo_url,
                unpacked.files,
                unpacked.links,
                unpacked.bytes >> 20
            ),
        );
        Ok(dir)
    }

    fn discover(&self, src: &Path, facts: &Facts) -> anyhow::Result<Vec<String>> {
        let addons = manifest::discover(src).map_err(|e| anyhow::anyhow!("{e}"))?;
        if addons.len() > MAX_ADDONS {
            bail!("the repository has {} addons; at most {MAX_ADDONS} are built", addons.len());
        }
        for a in &addons {
            // Names, versions and dependencies are the tenant's text: counted like what it prints.
            self.log.printed(
                "discover",
                format!(
                    "{} {} depends on [{}]{}",
                    a.name,
                    a.version,
                    a.depends.join(", "),
                    if a.installable { "" } else { " (not installable)" }
                ),
            );
        }
        if facts.base_image.starts_with("odooops/odoo-standin") {
            let provided: BTreeSet<String> = STANDIN_PROVIDES.iter().map(|s| s.to_string()).collect();
            let missing = manifest::missing_dependencies(&addons, &provided);
            if !missing.is_empty() {
                let list: Vec<String> = missing.iter().map(|(a, d)| format!("{a} needs {d}")).collect();
                bail!("missing dependencies: {}", list.join("; "));
            }
        } else {
            self.log.info("discover", "dependencies on the image's own modules are checked by Odoo during install");
        }
        Ok(addons.into_iter().filter(|a| a.installable).map(|a| a.name).collect())
    }

    async fn image(&self, src: &Path, facts: &Facts) -> anyhow::Result<String> {
        let own_dockerfile = src.join("Dockerfile").is_file();
        // The stand-in is made here, not pulled: a repository's own Dockerfile may start FROM it too.
        if !own_dockerfile || facts.base_image == super::infra::STANDIN_IMAGE {
            ensure_base_image(self.p, self.infra, &facts.base_image, &self.log).await?;
        }
        let dockerfile = if own_dockerfile {
            self.log.info("image", "using the repository's Dockerfile");
            None
        } else {
            Some(generated_dockerfile(&facts.base_image, src.join("requirements.txt").is_file()))
        };
        // Written to disk with links kept as links, streamed to Docker from there.
        let context = self.infra.work_dir.join(short(self.b.id)).join("context.tar");
        let (from, to) = (src.to_path_buf(), context.clone());
        tokio::task::spawn_blocking(move || {
            let extra: Vec<(&str, &[u8])> = dockerfile.iter().map(|d| ("Dockerfile", d.as_bytes())).collect();
            super::context::write(&from, &to, &extra)
        })
        .await??;
        let tag = image_tag(&self.infra.installation, self.b.project_id, facts.seq);
        let (lines, forward) = self.log.lines("image", false);
        // Labels go on containers, not images: a labelled build costs an extra image commit.
        let network = self.owner(facts).network_name();
        let built = self.p.runtime.build_image(&context, &tag, HashMap::new(), Some(&network), lines).await;
        let _ = std::fs::remove_file(&context);
        let _ = forward.await;
        let id = built?;
        self.record("UPDATE ops.builds SET image_digest = $2 WHERE id = $1", &id).await?;
        Ok(tag)
    }

    /// The image and addons of an earlier build, which must still be on this host.
    async fn reuse_image(&self, from: uuid::Uuid) -> anyhow::Result<(String, Vec<String>)> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        let r = sqlx::query("SELECT image_digest, addons, seq FROM ops.builds WHERE id = $1")
            .bind(from)
            .fetch_optional(&mut *tx)
            .await?
            .context("the build whose image is deployed is gone")?;
        tx.commit().await?;
        let image: String = r.get::<Option<String>, _>("image_digest").context("that build has no image")?;
        if !self.p.runtime.image_exists(&image).await? {
            bail!("the image {image} of build #{} is no longer on this host", r.get::<i64, _>("seq"));
        }
        self.record("UPDATE ops.builds SET image_digest = $2 WHERE id = $1", &image).await?;
        let addons: Vec<String> = r.get::<Option<Vec<String>>, _>("addons").unwrap_or_default();
        self.record_addons(&addons).await?;
        Ok((image, addons))
    }

    async fn record_addons(&self, addons: &[String]) -> anyhow::Result<()> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        sqlx::query("UPDATE ops.builds SET addons = $2 WHERE id = $1")
            .bind(self.b.id)
            .bind(addons)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Run<'_> {
    /// `GIT_SSH_COMMAND` using the project's deploy key (written 0600 beside the mirrors).
    async fn ssh_command(&self) -> anyhow::Result<String> {
        super::git::ssh_command_for(self.p, self.infra, self.b.project_id).await
    }
}

/// The lock of a project's bare mirror in this process.
pub(crate) fn mirror_lock(project: uuid::Uuid) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::LazyLock<std::sync::Mutex<HashMap<uuid::Uuid, std::sync::Arc<tokio::sync::Mutex<()>>>>> =
        std::sync::LazyLock::new(Default::default);
    LOCKS.lock().expect("mirror locks").entry(project).or_default().clone()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}
