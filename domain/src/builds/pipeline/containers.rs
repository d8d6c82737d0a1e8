//! The phases that run the build's image: install/tests in a one-shot
//! container, then Odoo itself, until `/web/health` answers. Both get the
//! project's limits (the engine adds the hardening every container gets).

use super::{short, Facts, KilledError, Run};
use crate::builds::events::{BuildLog, LineStats};
use crate::builds::infra::DbGrant;
use crate::engine::RunSpec;
use anyhow::{bail, Context};
use std::collections::HashMap;
use std::time::{Duration, Instant};

impl Run<'_> {
    /// The filestore mount of a build's containers.
    pub(super) fn binds(&self, grant: &DbGrant) -> Vec<String> {
        let host = self.infra.filestore_dir.join(&grant.database);
        vec![format!("{}:{}", host.display(), crate::builds::infra::container_filestore(&grant.database))]
    }

    pub(super) fn env(&self, grant: &DbGrant) -> Vec<String> {
        let d = &self.infra.databases;
        vec![
            format!("HOST={}", d.host_for_containers),
            format!("PORT={}", d.port_for_containers),
            format!("USER={}", grant.role),
            format!("PASSWORD={}", grant.password),
        ]
    }

    pub(super) async fn install(
        &mut self,
        image: &str,
        grant: &DbGrant,
        network: &str,
        addons: &[String],
        fresh: bool,
        labels: &HashMap<String, String>,
        smtp: &[String],
        facts: &Facts,
    ) -> anyhow::Result<()> {
        let modules = if addons.is_empty() { "base".to_owned() } else { addons.join(",") };
        let mut cmd = vec![
            "-d".to_owned(),
            grant.database.clone(),
            if fresh { "-i" } else { "-u" }.to_owned(),
            modules,
            "--stop-after-init".to_owned(),
        ];
        cmd.push("--addons-path=/mnt/extra-addons".into());
        cmd.extend(smtp.iter().cloned());
        if self.b.stage == "development" {
            cmd.push("--test-enable".into());
        }
        let spec = RunSpec {
            name: format!("odooops-{}-b{}-install", self.infra.installation, short(self.b.id)),
            image: image.to_owned(),
            cmd,
            env: self.env(grant),
            labels: labels.clone(),
            network: Some(network.to_owned()),
            binds: self.binds(grant),
            // Install and tests run the tenant's code too: the project's limits apply.
            nano_cpus: Some(facts.nano_cpus),
            memory_bytes: Some(facts.memory_bytes),
            ..Default::default()
        };
        let engine = self.p.engine.clone();
        let id = engine.start(&spec).await.context("starting the install container")?;
        let (lines, stats) = self.log.lines("install", true);
        let follow = {
            let engine = engine.clone();
            let id = id.clone();
            tokio::spawn(async move { engine.follow_logs(&id, lines).await })
        };
        let mut kill = self.kill.clone();
        let code = tokio::select! {
            code = engine.wait(&id) => code?,
            _ = async { let _ = kill.wait_for(|k| *k).await; } => {
                let _ = engine.remove_container(&id).await;
                return Err(KilledError.into());
            }
        };
        let _ = follow.await;
        self.stats = stats.await.unwrap_or_default();
        engine.remove_container(&id).await.ok();
        if code != 0 {
            bail!(
                "Odoo exited with code {code} during install{}",
                self.stats.first_error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            );
        }
        Ok(())
    }

    pub(super) async fn start(
        &self,
        image: &str,
        grant: &DbGrant,
        network: &str,
        labels: &HashMap<String, String>,
        facts: &Facts,
        smtp: &[String],
    ) -> anyhow::Result<(String, String, tokio::task::JoinHandle<LineStats>)> {
        let mut cmd = vec!["-d".to_owned(), grant.database.clone(), "--addons-path=/mnt/extra-addons".to_owned()];
        cmd.extend(smtp.iter().cloned());
        let spec = RunSpec {
            name: format!("odooops-{}-b{}", self.infra.installation, short(self.b.id)),
            image: image.to_owned(),
            cmd,
            env: self.env(grant),
            labels: labels.clone(),
            network: Some(network.to_owned()),
            nano_cpus: Some(facts.nano_cpus),
            memory_bytes: Some(facts.memory_bytes),
            extra_hosts: Vec::new(),
            binds: self.binds(grant),
            pids_limit: None,
            entrypoint: None,
        };
        let engine = self.p.engine.clone();
        let id = engine.start(&spec).await.context("starting Odoo")?;
        self.record("UPDATE ops.builds SET container_id = $2 WHERE id = $1", &id).await?;
        // The server's log outlives this pipeline: it gets its own writer, so
        // the pipeline's log can be flushed and closed when the build ends.
        let (server_log, _writer) = BuildLog::start(self.p.clone(), self.b.tenant_id, self.b.id, self.b.env_id);
        let (lines, stats) = server_log.lines("odoo", true);
        drop(server_log);
        {
            let engine = engine.clone();
            let id = id.clone();
            tokio::spawn(async move { engine.follow_logs(&id, lines).await });
        }
        let ip = engine.ip_address(&id, network).await?.context("the container has no address on its network")?;
        Ok((id, ip, stats))
    }

    pub(super) async fn health(
        &self,
        ip: &str,
        server_logs: &tokio::task::JoinHandle<LineStats>,
    ) -> anyhow::Result<()> {
        let url = format!("http://{ip}:8069/web/health");
        let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build()?;
        let deadline = Instant::now() + self.infra.health_timeout;
        let mut pause = Duration::from_millis(25);
        loop {
            self.check_kill()?;
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    let body: serde_json::Value = r.json().await.unwrap_or_default();
                    if body["status"] == "pass" {
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
