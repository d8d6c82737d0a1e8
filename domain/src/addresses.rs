//! Stable addresses: production at `<project>.<preview domain>` and every
//! other branch at `<branch>-<project>.<preview domain>`, following the
//! environment's newest live build. A build goes live only once its health
//! check passed, so the address moves to a new build only when it is healthy,
//! and a rollback (a new build of the old image) takes it back the same way.
//!
//! The label is claimed the first time a build of the environment starts,
//! in one namespace shared with tenant instances' subdomains (the database
//! refuses a name already held). Candidate environments (`main~candidate`)
//! and upgrade previews have none: their builds keep their own previews.

use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use sqlx::Row;
use uuid::Uuid;

/// The environment's label, claimed now if it has none; `None` for
/// environments without a stable address (tenant instances have their own
/// host; candidates and upgrade previews have only their builds').
pub async fn claim(p: &Platform, env: Uuid) -> anyhow::Result<Option<String>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let r = sqlx::query(
        "SELECT e.branch, e.stage, e.candidate_for IS NOT NULL AS candidate, p.slug, t.slug AS tenant_slug,
                EXISTS (SELECT 1 FROM ops.instances i WHERE i.project_id = p.id) AS instance
           FROM ops.environments e JOIN ops.projects p ON p.id = e.project_id JOIN ops.tenants t ON t.id = e.tenant_id
          WHERE e.id = $1",
    )
    .bind(env)
    .fetch_one(&mut *tx)
    .await?;
    let branch: String = r.get("branch");
    if r.get::<bool, _>("instance") || r.get::<bool, _>("candidate") || branch.contains('~') {
        tx.commit().await?;
        return Ok(None);
    }
    let stage: String = r.get("stage");
    let candidates = crate::types::stable_label_candidates(
        r.get("slug"),
        r.get("tenant_slug"),
        (stage != "production").then_some(branch.as_str()),
        &env.simple().to_string(),
    );
    let label: Option<String> =
        sqlx::query_scalar("SELECT ops.claim_env_host($1, $2)").bind(env).bind(&candidates).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(label)
}

/// The verified custom domains of a project (production answers them too).
pub async fn project_domains(p: &Platform, project: Uuid) -> anyhow::Result<Vec<String>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let names = sqlx::query_scalar(
        "SELECT hostname FROM ops.custom_domains WHERE project_id = $1 AND state = 'verified' ORDER BY hostname",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(names)
}

/// Where the router sends a stable address.
pub struct Target {
    pub env_id: Uuid,
    pub stage: String,
    /// Opens without a share link.
    pub public: bool,
    /// The newest live build's Odoo, when one serves.
    pub target: Option<String>,
    pub bus_target: Option<String>,
}

/// The router's lookup: `None` when no environment has this label.
pub async fn target(p: &Platform, label: &str) -> anyhow::Result<Option<Target>> {
    let r = sqlx::query("SELECT * FROM ops.env_host_target($1)").bind(label).fetch_optional(p.db.anonymous()).await?;
    Ok(r.map(|r| Target {
        env_id: r.get("env_id"),
        stage: r.get("stage"),
        public: r.get("public"),
        target: r.get("target"),
        bus_target: r.get("bus_target"),
    }))
}

/// `scheme://<label>.<preview domain>[:port]`: the stable address as people open it.
pub fn url(p: &Platform, label: &str) -> Option<String> {
    let infra = p.builds.as_ref()?;
    Some(crate::builds::preview::preview_origin(&p.settings.public_url, label, &infra.preview_domain))
}
