//! What builds need besides the control-plane database: a PostgreSQL server
//! for the builds' own databases (reachable from containers), directories for
//! repository mirrors and work trees, and limits.

use crate::db::embedded::quote_ident;
use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone)]
pub struct BuildInfra {
    pub databases: BuildDatabases,
    /// Bare mirrors, one per project.
    pub repos_dir: PathBuf,
    /// Per-build scratch (checked-out sources).
    pub work_dir: PathBuf,
    /// The stand-in `odoo` binary, to build the stand-in image from scratch.
    pub standin_binary: Option<PathBuf>,
    pub max_concurrent: usize,
    pub health_timeout: Duration,
    /// Name of this host in `ops.builds.worker`.
    pub worker: String,
    /// Previews are served at `http://<slug>.<preview_domain>`.
    pub preview_domain: String,
    /// Signs preview share links.
    pub preview_key: Vec<u8>,
    /// Short id of this installation: its containers, networks and databases
    /// carry it, so installations sharing a Docker host or database server
    /// never touch each other's.
    pub installation: String,
}

/// A short lowercase id derived from an installation secret.
pub fn installation_id(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))[..8].to_owned()
}

pub use crate::wire::STANDIN_IMAGE;

/// The PostgreSQL server that holds build databases.
#[derive(Clone)]
pub struct BuildDatabases {
    /// A role allowed to CREATE ROLE and CREATE DATABASE.
    pub admin: PgConnectOptions,
    /// The address containers use for it (the Docker bridge gateway for the embedded cluster).
    pub host_for_containers: String,
    pub port_for_containers: u16,
}

/// Credentials a build container gets.
#[derive(Clone)]
pub struct DbGrant {
    pub database: String,
    pub role: String,
    pub password: String,
}

impl std::fmt::Debug for DbGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbGrant({} as {})", self.database, self.role)
    }
}

impl BuildDatabases {
    async fn admin(&self) -> anyhow::Result<sqlx::PgConnection> {
        let opts = self.admin.clone().log_statements(tracing::log::LevelFilter::Off);
        sqlx::PgConnection::connect_with(&opts).await.context("connecting to the builds' PostgreSQL server")
    }

    /// A login role and an empty database it owns. With `template`, the new
    /// database is a copy of that one (staging from production).
    pub async fn provision(&self, database: &str, role: &str, template: Option<&str>) -> anyhow::Result<DbGrant> {
        let password = crate::auth::random_token(24);
        let mut c = self.admin().await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(role)
            .fetch_one(&mut c)
            .await?;
        let verb = if exists { "ALTER" } else { "CREATE" };
        sqlx::query(&format!(
            "{verb} ROLE {} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '{}'",
            quote_ident(role),
            password
        ))
        .execute(&mut c)
        .await
        .context("creating the build's database role")?;
        let db_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut c)
            .await?;
        if !db_exists {
            let from = match template {
                Some(t) => format!("TEMPLATE {}", quote_ident(t)),
                None => "TEMPLATE template0 ENCODING 'UTF8'".to_owned(),
            };
            sqlx::query(&format!("CREATE DATABASE {} OWNER {} {from}", quote_ident(database), quote_ident(role)))
                .execute(&mut c)
                .await
                .with_context(|| format!("creating database {database}"))?;
            if template.is_some() {
                // Objects copied from the template belong to the source's role.
                let mut in_db = sqlx::PgConnection::connect_with(&self.admin.clone().database(database)).await?;
                sqlx::query(&format!("REASSIGN OWNED BY CURRENT_USER TO {}", quote_ident(role)))
                    .execute(&mut in_db)
                    .await
                    .ok();
                in_db.close().await.ok();
            }
        }
        c.close().await.ok();
        Ok(DbGrant { database: database.into(), role: role.into(), password })
    }

    /// Drops a build's database and role; missing ones are fine.
    pub async fn drop(&self, database: &str, role: &str) -> anyhow::Result<()> {
        let mut c = self.admin().await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(database))).execute(&mut c).await?;
        sqlx::query(&format!("DROP ROLE IF EXISTS {}", quote_ident(role))).execute(&mut c).await?;
        c.close().await.ok();
        Ok(())
    }

    /// Non-production build databases of `installation` (named `ob_<installation>_…`).
    pub async fn list(&self, installation: &str) -> anyhow::Result<Vec<String>> {
        let mut c = self.admin().await?;
        let names = sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(format!("ob_{installation}_"))
            .fetch_all(&mut c)
            .await?;
        c.close().await.ok();
        Ok(names)
    }

    /// Every database on the server.
    pub async fn list_all(&self) -> anyhow::Result<Vec<String>> {
        let mut c = self.admin().await?;
        let names = sqlx::query_scalar("SELECT datname FROM pg_database").fetch_all(&mut c).await?;
        c.close().await.ok();
        Ok(names)
    }

    /// Options to connect to a build database as the admin (neutralisation, checks).
    pub fn admin_for(&self, database: &str) -> PgConnectOptions {
        self.admin.clone().database(database)
    }
}
