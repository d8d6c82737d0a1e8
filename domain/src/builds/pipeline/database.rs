//! The database phase of a build: production keeps its database (backed up
//! first), staging gets a fresh copy of production, a restore loads a backup
//! into a new one, development starts empty; copies are neutralized, logging
//! in as the copy's own role.

use super::plan::Database;
use super::{short, Run};
use crate::builds::infra::DbGrant;
use crate::builds::neutralize;
use crate::builds::queue::SYSTEM_USER;
use anyhow::Context;

impl Run<'_> {
    pub(super) async fn database(&mut self, s: &str, plan: Database) -> anyhow::Result<DbGrant> {
        let (inst, env_short) = (&self.infra.installation, short(self.b.env_id));
        let restore = match plan {
            Database::Restore { backup } => Some(backup),
            _ => None,
        };
        let production = self.b.stage == "production";
        // Production keeps its database across builds; a restore gives it a new one,
        // so the serving build keeps the old one until the restored build is healthy.
        let current = if production { self.env_db().await? } else { None };
        let name = match (production, restore, &current) {
            (true, Some(_), _) => format!("op_{inst}_{env_short}_{s}"),
            (true, None, Some(db)) => db.clone(),
            (true, None, None) => format!("op_{inst}_{env_short}"),
            _ => format!("ob_{inst}_{s}"),
        };
        // An instance's production may live on its dedicated server.
        let dbs = self.infra.db(&name);
        let template = match plan {
            Database::CopyOfProduction => self.production_db().await?,
            _ => None,
        };
        let existing = dbs.list_all().await?;
        self.db_was_there = existing.contains(&name) || template.is_some() || restore.is_some();
        if let Some(t) = &template {
            self.log.info("database", format!("staging: a fresh copy of production ({t})"));
        }
        if production && current.as_ref().is_some_and(|db| existing.contains(db)) {
            // Production is about to change: back it up first, as a full backup.
            let kind = if restore.is_some() { "pre_restore" } else { "pre_update" };
            let log = self.log.clone();
            let mirror = move |level: &str, message: &str| match level {
                "error" => log.error("backup", message),
                "warning" => log.warn("backup", message),
                _ => log.info("backup", message),
            };
            let id = crate::backups::jobs::run_inline(self.p, self.infra, self.b.env_id, kind, self.b.id, &mirror)
                .await
                .context("the backup of production before changing it")?;
            self.log.info("database", format!("{} backup of production: {id}", kind.replace('_', "-")));
            let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
            sqlx::query("UPDATE ops.builds SET pre_backup = $2 WHERE id = $1")
                .bind(self.b.id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        let grant = dbs.provision(&name, template.as_deref()).await?;
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        sqlx::query("UPDATE ops.builds SET db_name = $2, db_role = $3 WHERE id = $1")
            .bind(self.b.id)
            .bind(&grant.database)
            .bind(&grant.role)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let filestore = self.infra.filestore_dir.join(&grant.database);
        if let Some(backup) = restore {
            self.log.info("database", format!("restoring backup {backup} into {}", grant.database));
            let log = self.log.clone();
            let say = move |m: &str| log.info("restore", m.to_owned());
            let loaded = crate::backups::restore::load(self.p, self.infra, backup, &grant.database, &filestore, &say)
                .await
                .context("restoring the backup")?;
            self.log.info("restore", format!("{} restored into {}", loaded.format, grant.database));
            // A dump without a filestore still needs its directory, Odoo's own
            // (a swarm refuses to mount a missing one; Docker would make it root's).
            crate::builds::infra::open_filestore(&filestore, false);
        } else if let Some(t) = &template {
            let n = crate::builds::infra::copy_filestore(&self.infra.filestore_dir.join(t), &filestore)
                .context("copying production's filestore")?;
            self.log.info("database", format!("filestore: {n} file(s) from production"));
            crate::builds::infra::open_filestore(&filestore, true);
        } else {
            crate::builds::infra::open_filestore(&filestore, false);
        }
        if !production && (template.is_some() || restore.is_some()) {
            let catcher = self.catcher().await?;
            let extra = self.scrubbing().await?;
            let lines = neutralize::neutralize(dbs.owner_options(&grant.database), catcher.as_ref(), &extra)
                .await
                .context("neutralizing the copy")?;
            for l in lines {
                self.log.info("neutralize", l);
            }
        }
        Ok(grant)
    }

    /// The project's own neutralize statements and secret patterns.
    async fn scrubbing(&self) -> anyhow::Result<neutralize::Extra> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        let (sql, secret_patterns): (String, Vec<String>) =
            sqlx::query_as("SELECT neutralize_sql, secret_patterns FROM ops.projects WHERE id = $1")
                .bind(self.b.project_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(neutralize::Extra { sql, secret_patterns })
    }

    /// The database this environment serves now (production keeps one across builds).
    async fn env_db(&self) -> anyhow::Result<Option<String>> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        let db = crate::backups::jobs::current_database(&mut tx, self.b.env_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .map(|(db, _)| db);
        tx.commit().await?;
        Ok(db)
    }

    /// Production's database, if production has been built.
    async fn production_db(&self) -> anyhow::Result<Option<String>> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        let name: Option<String> = sqlx::query_scalar(
            "SELECT b.db_name FROM ops.builds b JOIN ops.environments e ON e.id = b.env_id
              WHERE b.project_id = $1 AND e.stage = 'production' AND b.db_name IS NOT NULL AND b.result IN ('ok', 'warn')
              ORDER BY b.finished_at DESC LIMIT 1",
        )
        .bind(self.b.project_id)
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        tx.commit().await?;
        Ok(name)
    }
}
