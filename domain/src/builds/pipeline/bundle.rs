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
    /// The instance's image and the modules to install.
    pub(super) async fn bundle_image(&self, facts: &Facts) -> anyhow::Result<(String, Vec<String>)> {
        let mut tx = self.p.db.begin_as(SYSTEM_USER).await?;
        let modules: Vec<String> = sqlx::query_scalar("SELECT modules FROM ops.instances WHERE project_id = $1")
            .bind(self.b.project_id)
            .fetch_optional(&mut *tx)
            .await?
            .context("this build's project is not an instance")?;
        tx.commit().await?;
        if facts.base_image.starts_with("odooops/odoo-standin") {
            let missing: Vec<&String> = modules.iter().filter(|m| !STANDIN_PROVIDES.contains(&m.as_str())).collect();
            if !missing.is_empty() {
                let list: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
                bail!("the bundle names modules this Odoo image does not have: {}", list.join(", "));
            }
        }
        ensure_base_image(self.p, self.infra, &facts.base_image, &self.log).await?;
        let dir = self.infra.work_dir.join(short(self.b.id));
        let (empty, context) = (dir.join("bundle"), dir.join("context.tar"));
        std::fs::create_dir_all(&empty).context("the bundle's build directory")?;
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
}
