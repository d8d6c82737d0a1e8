//! Builds of tenant instances: the image comes from the Odoo version's image
//! and the instance's bundle of modules (no repository), and a fresh
//! database gets the admin login and password the requester chose before
//! anything serves it, so `admin`/`admin` is never reachable.

use super::{image_tag, short, Facts, Run};
use crate::builds::base_image::{ensure_base_image, generated_dockerfile, STANDIN_PROVIDES};
use crate::builds::infra::DbGrant;
use crate::builds::queue::SYSTEM_USER;
use anyhow::{bail, Context};
use sqlx::{Connection, Row};
use std::collections::HashMap;

impl Run<'_> {
    /// The instance's image and the modules to install: Odoo's own come with
    /// the base image; modules of the catalog (and their dependencies) are
    /// copied in from the catalog's mirrors at the commits it read. A bundle
    /// being applied adds its modules ([`Run::adding`]).
    pub(super) async fn bundle_image(&mut self, facts: &Facts) -> anyhow::Result<(String, Vec<String>)> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        let r = sqlx::query(
            "SELECT i.modules, i.odoo_version,
                    coalesce((SELECT o.added_modules FROM ops.instance_operations o WHERE o.build_id = $2), '{}') AS adding
               FROM ops.instances i WHERE i.project_id = $1",
        )
        .bind(self.b.project_id)
        .bind(self.b.id)
        .fetch_optional(&mut *tx)
        .await?
        .context("this build's project is not an instance")?;
        let (mut modules, series, adding): (Vec<String>, String, Vec<String>) =
            (r.get("modules"), r.get("odoo_version"), r.get("adding"));
        for m in &adding {
            if !modules.contains(m) {
                modules.push(m.clone());
            }
        }
        let catalog = crate::catalog::facts(&mut tx, &series).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut closure = crate::types::closure(&catalog, &modules);
        let standin = facts.base_image.starts_with("odooops/odoo-standin");
        if !standin && !closure.missing.is_empty() {
            // Another image may hold modules OdooOps does not list as Odoo's own (Enterprise, a
            // custom image): those are left to Odoo, which refuses, with its reason, what it lacks.
            let left: Vec<String> = closure.missing.drain(..).map(|n| n.module).collect();
            self.log.info("image", format!("left to the image (not in the catalog): {}", left.join(", ")));
        }
        if let Some(why) = crate::catalog::bundles::refusal(&closure) {
            bail!("the modules cannot be installed on {series}: {why}");
        }
        let from_catalog = closure.to_install();
        let sources: Vec<(uuid::Uuid, String, String)> = sqlx::query_as(
            "SELECT DISTINCT ON (m.name) m.source_id, m.commit, m.name
               FROM ops.catalog_modules m JOIN ops.catalog_sources s ON s.id = m.source_id
              WHERE m.series = $1 AND m.name = ANY ($2) ORDER BY m.name, s.name",
        )
        .bind(&series)
        .bind(&from_catalog)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        if standin {
            let missing: Vec<&String> = closure
                .modules
                .iter()
                .filter(|(m, o)| **o == crate::types::Origin::Odoo && !STANDIN_PROVIDES.contains(&m.as_str()))
                .map(|(m, _)| m)
                .collect();
            if !missing.is_empty() {
                let list: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
                bail!("the bundle names modules this Odoo image does not have: {}", list.join(", "));
            }
        }
        self.adding = adding;
        for m in &from_catalog {
            if !modules.contains(m) {
                modules.push(m.clone());
            }
        }
        ensure_base_image(self.p, self.infra, &facts.base_image, &self.log).await?;
        let dir = self.infra.work_dir.join(short(self.b.id));
        let (empty, context) = (dir.join("bundle"), dir.join("context.tar"));
        let _ = std::fs::remove_dir_all(&empty);
        std::fs::create_dir_all(&empty).context("the bundle's build directory")?;
        self.catalog_code(&sources, &empty, &dir).await?;
        let dockerfile = generated_dockerfile(&facts.base_image, false);
        let (from, to) = (empty.clone(), context.clone());
        tokio::task::spawn_blocking(move || {
            super::super::context::write(&from, &to, &[("Dockerfile", dockerfile.as_bytes())])
        })
        .await??;
        let tag = image_tag(&self.infra.installation, self.b.project_id, facts.seq);
        let (lines, forward) = self.log.lines("image", false);
        let network = self.owner(facts).network_name();
        let built = self.p.runtime.build_image(&context, &tag, HashMap::new(), Some(&network), lines).await;
        let _ = std::fs::remove_dir_all(&dir);
        let _ = forward.await;
        let id = built?;
        self.record("UPDATE ops.builds SET image_digest = $2 WHERE id = $1", &id).await?;
        self.record_addons(&modules).await?;
        self.log.info("image", format!("{} module(s) from the bundle: {}", modules.len(), modules.join(", ")));
        Ok((id, modules))
    }

    /// Copies the catalog's modules into `into` (the image's addons), each from
    /// its source's mirror at the commit the catalog read, unpacked with the
    /// same checks as a repository (links stay inside the tree, sizes capped).
    async fn catalog_code(
        &self,
        sources: &[(uuid::Uuid, String, String)],
        into: &std::path::Path,
        scratch: &std::path::Path,
    ) -> anyhow::Result<()> {
        let mut by_commit: std::collections::BTreeMap<(uuid::Uuid, &str), Vec<String>> = Default::default();
        for (source, commit, name) in sources {
            by_commit.entry((*source, commit.as_str())).or_default().push(name.clone());
        }
        for ((source, commit), names) in by_commit {
            let mirror = crate::catalog::refresh::mirror_dir(self.infra, source);
            let tar = scratch.join(format!("catalog-{}.tar", &commit[..12.min(commit.len())]));
            crate::builds::git::archive_paths(&mirror, commit, &names, &tar, self.infra.git_timeout)
                .await
                .with_context(|| format!("taking {} from the catalog's mirror", names.join(", ")))?;
            let (from, to) = (tar.clone(), into.to_path_buf());
            tokio::task::spawn_blocking(move || super::super::context::unpack(&from, &to, Default::default()))
                .await??;
            let _ = std::fs::remove_file(&tar);
            self.log.info(
                "image",
                format!("from the catalog at {}: {}", &commit[..12.min(commit.len())], names.join(", ")),
            );
        }
        Ok(())
    }

    /// Hands the database's admin account to the requester: their login, and
    /// the hash of the password they chose (the password itself never reached
    /// OdooOps' storage). The hash is forgotten once written. Idempotent: a
    /// retried build finds the account already handed over. A new database
    /// with no password to hand over fails the build: it would serve
    /// `admin`/`admin`.
    pub(super) async fn instance_credentials(&self, grant: &DbGrant, fresh: bool) -> anyhow::Result<()> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        // The hash's column is readable only through this system-only function.
        let pending = sqlx::query("SELECT operation, hash, login FROM ops.pending_admin_hash($1)")
            .bind(self.b.id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        let Some(r) = pending else {
            if fresh {
                bail!("a new instance database needs the admin password its requester chose; provision again with it");
            }
            return Ok(());
        };
        let (op, hash, login): (uuid::Uuid, String, String) = (r.get("operation"), r.get("hash"), r.get("login"));
        let mut conn = sqlx::PgConnection::connect_with(&self.infra.db(&grant.database).owner_options(&grant.database))
            .await
            .context("connecting to the instance's database")?;
        let renamed = sqlx::query("UPDATE res_users SET login = $1, password = $2 WHERE login = 'admin'")
            .bind(&login)
            .bind(&hash)
            .execute(&mut conn)
            .await
            .context("handing over the admin account")?
            .rows_affected();
        if renamed == 0 {
            let n = sqlx::query("UPDATE res_users SET password = $2 WHERE login = $1")
                .bind(&login)
                .bind(&hash)
                .execute(&mut conn)
                .await?
                .rows_affected();
            if n == 0 {
                bail!("the new database has no admin account to hand over");
            }
        }
        let _ = conn.close().await;
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        sqlx::query("UPDATE ops.instance_operations SET admin_password_hash = NULL WHERE id = $1")
            .bind(op)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.log.info("install", format!("the admin account is now {login}, with the password chosen at sign-up"));
        Ok(())
    }

    /// A new instance of a tenant with single sign-on gets its provider (see `wizard::sso`).
    pub(super) async fn instance_sso(&self, grant: &DbGrant, fresh: bool) -> anyhow::Result<()> {
        if !fresh {
            return Ok(());
        }
        let mut conn = sqlx::PgConnection::connect_with(&self.infra.db(&grant.database).owner_options(&grant.database))
            .await
            .context("connecting to the instance's database")?;
        let said = crate::wizard::sso::configure_instance(self.p, self.b.project_id, &mut conn).await;
        let _ = conn.close().await;
        if let Some(line) = said? {
            self.log.info("install", line);
        }
        Ok(())
    }
}
