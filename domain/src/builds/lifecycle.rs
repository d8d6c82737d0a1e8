//! Lifecycle with zero orphans: every container, network and database a
//! build creates is labelled or named after it, torn down when the build is
//! superseded, killed, its branch deleted or its preview idle too long, and a
//! reconciler removes anything labelled as OdooOps' that no live build owns
//! (for instance after the server died mid-build).

use super::events::BuildLog;
use super::infra::BuildInfra;
use super::queue::SYSTEM_USER;
use crate::platform::Platform;
use sqlx::Row;
use std::collections::HashSet;
use uuid::Uuid;

/// Removes a build's containers, network and (non-production) database, and
/// marks it not live. Idempotent.
pub async fn teardown(p: &Platform, infra: &BuildInfra, build: Uuid) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let row = sqlx::query(
        "SELECT network, db_name, db_role, image_digest, stage, project_id, seq,
                -- A production restore that never became the serving database owns it alone.
                (restore_from IS NOT NULL AND result IS DISTINCT FROM 'ok' AND result IS DISTINCT FROM 'warn'
                 AND NOT EXISTS (SELECT 1 FROM ops.builds o WHERE o.db_name = b.db_name AND o.id <> b.id
                                  AND (o.live OR o.state = 'running' OR o.result IN ('ok', 'warn')))) AS failed_restore,
                -- A promoted image belongs to production now (rollbacks redeploy it).
                EXISTS (SELECT 1 FROM ops.builds o WHERE o.image_digest = b.image_digest AND o.stage = 'production')
                    AS image_in_production
           FROM ops.builds b WHERE id = $1",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(row) = row else { return Ok(()) };
    p.runtime.teardown(build, row.get::<Option<String>, _>("network").as_deref()).await?;
    // Production images stay: a rollback redeploys the same digest, and so
    // does an image promoted from staging. Others lose their tag (an image
    // shared with another build's tag stays).
    if row.get::<Option<String>, _>("image_digest").is_some()
        && row.get::<String, _>("stage") != "production"
        && !row.get::<bool, _>("image_in_production")
    {
        let tag = super::pipeline::image_tag(&infra.installation, row.get("project_id"), row.get("seq"));
        p.runtime.remove_image(&tag).await?;
    }
    // Production databases are never dropped automatically, except the new
    // one of a production restore that failed before it served.
    if let (Some(db), Some(role)) = (row.get::<Option<String>, _>("db_name"), row.get::<Option<String>, _>("db_role")) {
        if db.starts_with("ob_") || (db.starts_with("op_") && row.get::<bool, _>("failed_restore")) {
            infra.db(&db).drop(&db, &role).await?;
            let _ = std::fs::remove_dir_all(infra.filestore_dir.join(&db));
        }
    }
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.builds SET live = false, preview_target = NULL, bus_target = NULL, container_id = NULL WHERE id = $1")
        .bind(build)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// After a build of `env` went live: stop the older live builds beyond what
/// the stage keeps (development: the project's `keep_dev_builds`; staging and
/// production: only the newest).
pub async fn retire_superseded(p: &Platform, infra: &BuildInfra, env: Uuid, stage: &str, log: &BuildLog) {
    let result: anyhow::Result<Vec<Uuid>> = async {
        let mut tx = p.db.begin_as(SYSTEM_USER).await?;
        let ids = sqlx::query_scalar(
            "SELECT b.id FROM ops.builds b JOIN ops.projects p ON p.id = b.project_id
              WHERE b.env_id = $1 AND b.live
              ORDER BY b.created_at DESC, b.seq DESC
             OFFSET (SELECT CASE WHEN $2 = 'development' THEN p2.keep_dev_builds ELSE 1 END
                       FROM ops.environments e JOIN ops.projects p2 ON p2.id = e.project_id WHERE e.id = $1)",
        )
        .bind(env)
        .bind(stage)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids)
    }
    .await;
    match result {
        Ok(ids) => {
            for id in ids {
                match teardown(p, infra, id).await {
                    Ok(()) => log.info("route", format!("stopped superseded build {id}")),
                    Err(e) => log.error("route", format!("could not stop superseded build {id}: {e:#}")),
                }
            }
        }
        Err(e) => log.error("route", format!("could not list superseded builds: {e:#}")),
    }
}

/// What the reconciler removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    pub containers: usize,
    pub networks: usize,
    pub databases: usize,
    pub images: usize,
    pub builds: usize,
}

/// Tears down live builds of deleted environments and idle development
/// builds, then removes every labelled container and network, and every
/// `ob_` database and build image, that no live or running build owns.
pub async fn reconcile(p: &Platform, infra: &BuildInfra) -> anyhow::Result<Reconciled> {
    let mut out = Reconciled::default();
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let stale: Vec<Uuid> = sqlx::query_scalar(
        "SELECT b.id FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id JOIN ops.projects p ON p.id = b.project_id
          WHERE b.live AND (e.deleted_at IS NOT NULL
                 OR (b.stage = 'development' AND e.last_activity < now() - make_interval(hours => p.dev_idle_hours)))",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for id in stale {
        // One stubborn build must not stop the sweep; it is retried next time.
        match teardown(p, infra, id).await {
            Ok(()) => out.builds += 1,
            Err(e) => tracing::warn!(build = %id, error = %format!("{e:#}"), "teardown failed"),
        }
    }
    // What the engine and the builds' server hold is listed before the builds
    // are read: a build creates its network, containers, image and database
    // only once it is running, so anything listed here whose build is not
    // live or running (read afterwards) is truly left over. Read the other
    // way round, a build claimed in between would lose what it just made.
    let held = p.runtime.owned(&infra.installation).await?;
    let images = p.runtime.images_matching(&format!("odooops-build/{}-*", infra.installation)).await?;
    let databases = infra.databases.list(&infra.installation).await?;

    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let rows = sqlx::query("SELECT id, network, db_name FROM ops.builds WHERE live OR state = 'running'")
        .fetch_all(&mut *tx)
        .await?;
    // Image tags of builds that neither serve, run, nor belong to production (rollbacks).
    let kept: HashSet<String> = sqlx::query_as::<_, (Uuid, i64)>(
        "SELECT project_id, seq FROM ops.builds
          WHERE state = 'running'
             OR (image_digest IS NOT NULL
                 AND (live OR stage = 'production'
                      OR image_digest IN (SELECT image_digest FROM ops.builds WHERE stage = 'production' AND image_digest IS NOT NULL)))",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(project, seq)| super::pipeline::image_tag(&infra.installation, project, seq))
    .collect();
    tx.commit().await?;
    let owners: HashSet<String> = rows.iter().map(|r| r.get::<Uuid, _>("id").to_string()).collect();
    // A running build's database may not be recorded yet: its name ends with the build's short id.
    let suffixes: Vec<String> = rows.iter().map(|r| format!("_{}", super::pipeline::short(r.get("id")))).collect();
    let networks: HashSet<String> = rows.iter().filter_map(|r| r.get::<Option<String>, _>("network")).collect();
    let dbs: HashSet<String> = rows.iter().filter_map(|r| r.get::<Option<String>, _>("db_name")).collect();
    let owned = |labels: &std::collections::HashMap<String, String>| {
        labels.get("odooops.build").is_some_and(|b| owners.contains(b))
    };
    for w in held.workloads {
        if !owned(&w.labels) {
            p.runtime.remove_workload(&w.id).await?;
            out.containers += 1;
        }
    }
    for n in held.networks {
        if !networks.contains(&n.id) && !owned(&n.labels) {
            p.runtime.remove_network(&n.id).await?;
            out.networks += 1;
        }
    }
    for image in images {
        if !kept.contains(&image) {
            p.runtime.remove_image(&image).await?;
            out.images += 1;
        }
    }
    for db in databases {
        if !dbs.contains(&db) && !suffixes.iter().any(|s| db.ends_with(s.as_str())) {
            // Build databases and their roles share the name.
            infra.databases.drop(&db, &db).await?;
            let _ = std::fs::remove_dir_all(infra.filestore_dir.join(&db));
            out.databases += 1;
        }
    }
    Ok(out)
}
