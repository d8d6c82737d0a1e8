//! What a build is made of, read once at its start: its project's image,
//! limits and relay, an instance's workers and hosts, the environment's
//! stable address (claimed here) and production's custom domains, and the
//! Odoo series an upgrade targets.

use super::{host_cpus, Run};
use crate::builds::queue::SYSTEM_USER;
use sqlx::Row;

pub(super) struct Facts {
    pub(super) project_slug: String,
    pub(super) repo_url: String,
    pub(super) base_image: String,
    pub(super) nano_cpus: i64,
    pub(super) memory_bytes: i64,
    pub(super) seq: i64,
    pub(super) smtp_relay: Option<(String, i32)>,
    /// A tenant instance's plan's Odoo workers (0: threaded, the bus on Odoo's own port).
    pub(super) workers: i32,
    /// A tenant instance's own host and verified custom domains (Traefik routes them too).
    pub(super) hosts: Vec<String>,
    /// `ODOO_VERSION` in its containers: an upgrade's target series, or the stand-in's own.
    pub(super) series: Option<String>,
    /// A preview or an approved upgrade: every module is updated (`-u all`).
    pub(super) upgrade: bool,
}

impl Run<'_> {
    pub(super) async fn facts(&self) -> anyhow::Result<Facts> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        let r = sqlx::query(
            "SELECT p.slug, p.repo_url, p.base_image, p.odoo_version, p.cpu_limit::float8 AS cpu, p.memory_limit_mb, b.seq,
                    p.smtp_relay_host, p.smtp_relay_port, i.subdomain,
                    COALESCE((SELECT pl.workers FROM ops.plans pl WHERE pl.slug = i.plan), 0) AS workers,
                    ARRAY(SELECT d.hostname FROM ops.custom_domains d
                           WHERE d.instance_id = i.id AND d.state = 'verified' ORDER BY d.hostname) AS domains
               FROM ops.builds b JOIN ops.projects p ON p.id = b.project_id
               LEFT JOIN ops.instances i ON i.project_id = p.id
              WHERE b.id = $1",
        )
        .bind(self.b.id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let target = self.upgrade_target().await?;
        let base_image: String = r.get("base_image");
        let standin = base_image.starts_with("odooops/odoo-standin");
        // A preview runs the target series' image: the official one, or the stand-in told which series it is.
        let base_image = match &target {
            Some(s) if !standin => format!("odoo:{s}"),
            _ => base_image,
        };
        let upgrade = target.is_some();
        let series = target.or_else(|| standin.then(|| r.get::<String, _>("odoo_version")));
        // The environment's stable address (and production's verified custom domains): Traefik routes them too.
        let mut stable = Vec::new();
        if let Some(label) = crate::addresses::claim(self.p, self.b.env_id).await? {
            stable.push(format!("{label}.{}", self.infra.preview_domain));
            if self.b.stage == "production" {
                stable.extend(crate::addresses::project_domains(self.p, self.b.project_id).await?);
            }
        }
        Ok(Facts {
            project_slug: r.get("slug"),
            repo_url: r.get("repo_url"),
            base_image,
            series,
            upgrade,
            // Docker refuses more CPUs than the host has: a plan's larger figure is capped to them.
            nano_cpus: (r.get::<f64, _>("cpu").min(host_cpus()) * 1e9) as i64,
            memory_bytes: i64::from(r.get::<i32, _>("memory_limit_mb")) * 1024 * 1024,
            seq: r.get("seq"),
            smtp_relay: r
                .get::<Option<String>, _>("smtp_relay_host")
                .map(|h| (h, r.get::<Option<i32>, _>("smtp_relay_port").unwrap_or(587))),
            workers: r.get::<i32, _>("workers").clamp(0, 64),
            hosts: r
                .get::<Option<String>, _>("subdomain")
                .map(|s| format!("{s}.{}", self.infra.instances_domain))
                .into_iter()
                .chain(r.get::<Vec<String>, _>("domains"))
                .chain(stable)
                .collect(),
        })
    }
}
