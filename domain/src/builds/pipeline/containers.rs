//! The phases that run the build's image: install/tests in a one-shot
//! container, then Odoo itself, until `/web/health` answers. Both get the
//! project's limits (the runtime adds the hardening every workload gets).

use super::{short, Facts, KilledError, Run};
use crate::builds::events::{BuildLog, LineStats};
use crate::builds::infra::DbGrant;
use crate::runtime::{Filestore, Finished, Workload};
use anyhow::{bail, Context};
use std::time::{Duration, Instant};

impl Run<'_> {
    /// A workload of this build: the image on the build's network, the
    /// database reached as its own role, the filestore mounted, the project's limits.
    fn workload(&self, name: String, image: &str, args: Vec<String>, grant: &DbGrant, facts: &Facts) -> Workload {
        let d = self.infra.db(&grant.database);
        let owner = self.owner(facts);
        Workload {
            name,
            image: image.to_owned(),
            args,
            env: vec![
                format!("HOST={}", d.host_for_containers),
                format!("PORT={}", d.port_for_containers),
                format!("USER={}", grant.role),
                format!("PASSWORD={}", grant.password),
            ]
            .into_iter()
            .chain(facts.series.as_ref().map(|s| format!("ODOO_VERSION={s}")))
            .collect(),
            network: owner.network_name(),
            owner,
            filestore: Some(Filestore {
                host: self.infra.filestore_dir.join(&grant.database),
                container: crate::builds::infra::container_filestore(&grant.database),
            }),
            // Install and tests run the tenant's code too: the project's limits apply.
            nano_cpus: Some(facts.nano_cpus),
            memory_bytes: Some(facts.memory_bytes),
            db_socket: d.socket_dir.clone(),
        }
    }

    pub(super) async fn install(
        &mut self,
        image: &str,
        grant: &DbGrant,
        addons: &[String],
        fresh: bool,
        tests: bool,
        smtp: &[String],
        facts: &Facts,
    ) -> anyhow::Result<()> {
        let modules = if addons.is_empty() { "base".to_owned() } else { addons.join(",") };
        let mut args = vec![
            "-d".to_owned(),
            grant.database.clone(),
            if fresh { "-i" } else { "-u" }.to_owned(),
            modules,
            "--stop-after-init".to_owned(),
        ];
        if !fresh && !self.adding.is_empty() {
            // New to this database: installed (an update leaves a module that is not installed alone).
            args.extend(["-i".to_owned(), self.adding.join(",")]);
        }
        args.push("--addons-path=/mnt/extra-addons".into());
        args.extend(smtp.iter().cloned());
        if tests {
            args.push("--test-enable".into());
        }
        let name = format!("odooops-{}-b{}-install", self.infra.installation, short(self.b.id));
        let w = self.workload(name, image, args, grant, facts);
        let (lines, stats) = self.log.lines("install", true);
        let finished = self.p.runtime.run_to_completion(&w, lines, self.kill.clone()).await;
        self.stats = stats.await.unwrap_or_default();
        let code = match finished.context("running install/tests")? {
            Finished::Killed => return Err(KilledError.into()),
            Finished::Exited(code) => code,
        };
        if code != 0 {
            bail!(
                "Odoo exited with code {code} during install{}",
                self.stats.first_error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Starts Odoo; the handle the runtime knows it by, the endpoint the router uses, and its log's stats.
    pub(super) async fn start(
        &self,
        image: &str,
        grant: &DbGrant,
        facts: &Facts,
        smtp: &[String],
    ) -> anyhow::Result<(String, String, tokio::task::JoinHandle<LineStats>)> {
        // Serving never lists databases (nor offers the database manager with them), as on Odoo.sh.
        let mut args = vec![
            "-d".to_owned(),
            grant.database.clone(),
            "--addons-path=/mnt/extra-addons".to_owned(),
            "--no-database-list".to_owned(),
        ];
        args.extend(smtp.iter().cloned());
        if facts.workers > 0 {
            // A plan's workers: Odoo forks them, and its bus moves to the gevent port (the router follows).
            args.push(format!("--workers={}", facts.workers));
        }
        let name = format!("odooops-{}-b{}", self.infra.installation, short(self.b.id));
        let w = self.workload(name, image, args, grant, facts);
        // The server's log outlives this pipeline: it gets its own writer, so
        // the pipeline's log can be flushed and closed when the build ends.
        let (server_log, _writer) = BuildLog::start(self.p.clone(), self.b.tenant_id, self.b.id, self.b.env_id);
        let (lines, stats) = server_log.lines("odoo", true);
        drop(server_log);
        let served = self.p.runtime.serve(&w, lines).await.context("starting Odoo")?;
        self.record("UPDATE ops.builds SET container_id = $2 WHERE id = $1", &served.handle).await?;
        Ok((served.handle, served.endpoint, stats))
    }

    pub(super) async fn health(
        &self,
        handle: &str,
        endpoint: &str,
        server_logs: &tokio::task::JoinHandle<LineStats>,
    ) -> anyhow::Result<()> {
        let url = format!("http://{endpoint}/web/health");
        let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build()?;
        let deadline = Instant::now() + self.infra.health_timeout;
        let mut pause = Duration::from_millis(25);
        loop {
            self.check_kill()?;
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    let body: serde_json::Value = r.json().await.unwrap_or_default();
                    if body["status"] == "pass" {
                        // Only if it came from this build's Odoo: one that stopped
                        // may have let its address go to another workload.
                        if !self.p.runtime.still_at(handle, endpoint).await? {
                            bail!(
                                "Odoo stopped before answering /web/health (another workload answered at its address)"
                            );
                        }
                        return Ok(());
                    }
                }
            }
            if server_logs.is_finished() {
                bail!("Odoo stopped before answering /web/health (see the odoo log)");
            }
            if Instant::now() > deadline {
                bail!("/web/health did not pass within {} s", self.infra.health_timeout.as_secs());
            }
            // Poll briskly while Odoo is likely to come up, then back off.
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(Duration::from_millis(500));
        }
    }
}
