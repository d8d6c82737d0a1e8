//! The build's `preflight` phase (see `crate::preflight`): the sources'
//! gates right after checkout, the database's after install. Results go on
//! the build row and into its log, the project's overrides applied; an
//! effective failure ends the build `ko` with the gate's reason.

use super::{Facts, Run};
use crate::builds::infra::DbGrant;
use crate::builds::queue::SYSTEM_USER;
use crate::preflight::{self, scan};
use crate::types::{worst, Verdict};
use anyhow::{bail, Context};
use std::path::Path;

/// The most files of a checkout the scanner reads.
const MAX_SCANNED_FILES: usize = 20_000;

impl Run<'_> {
    async fn preflight_limits(&self) -> anyhow::Result<preflight::Limits> {
        preflight::limits(self.p.db.owner()).await.map_err(|e| anyhow::anyhow!("the platform's limits: {e}"))
    }

    /// The gates read from the sources (extensions, system packages, long-lived connections).
    pub(super) async fn preflight_sources(&mut self, src: &Path) -> anyhow::Result<String> {
        let limits = self.preflight_limits().await?;
        let (root, allowed) = (src.to_path_buf(), limits.extensions.clone());
        let findings = tokio::task::spawn_blocking(move || scan::scan_tree(&root, &allowed, MAX_SCANNED_FILES))
            .await?
            .context("reading the sources")?;
        self.gates = scan::results(&findings);
        self.settle_gates().await
    }

    /// The gates read from the database (extensions present, object count, production's SMTP ports).
    pub(super) async fn preflight_database(&mut self, grant: &DbGrant, facts: &Facts) -> anyhow::Result<String> {
        let limits = self.preflight_limits().await?;
        let owner = self.infra.db(&grant.database).owner_options(&grant.database);
        let production = self.b.stage == "production";
        let relay = facts.smtp_relay.as_ref().map(|(_, port)| *port);
        let more = preflight::database_gates(&owner, &limits, production, relay)
            .await
            .context("reading the database's gates")?;
        preflight::merge(&mut self.gates, more);
        self.settle_gates().await
    }

    /// Applies the project's overrides, stores and logs the results; an effective failure ends the build.
    async fn settle_gates(&mut self) -> anyhow::Result<String> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        preflight::apply_overrides(&mut tx, self.b.project_id, &mut self.gates)
            .await
            .map_err(|e| anyhow::anyhow!("the project's preflight overrides: {e}"))?;
        sqlx::query("UPDATE ops.builds SET preflight = $2 WHERE id = $1")
            .bind(self.b.id)
            .bind(serde_json::to_value(&self.gates)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        for r in &self.gates {
            let line = format!(
                "{}: {} — {}{}",
                r.gate.title(),
                r.verdict.as_str(),
                r.reason,
                r.overridden.as_ref().map(|o| format!(" ({o})")).unwrap_or_default()
            );
            match r.effective() {
                Verdict::Fail => self.log.error("preflight", line),
                Verdict::Warn => self.log.warn("preflight", line),
                Verdict::Pass => self.log.info("preflight", line),
            }
        }
        if let (Verdict::Fail, Some(r)) = worst(&self.gates) {
            bail!("preflight: {} failed: {} — {}", r.gate.title(), r.reason, r.gate.remedy());
        }
        Ok(crate::types::preflight_summary(&self.gates))
    }
}
