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
    /// Where containers reach the mail catcher (`host`, `port`), when it runs.
    pub mail_catcher: Option<(String, u16)>,
    /// Filestores, one directory per database, mounted into its containers.
    pub filestore_dir: PathBuf,
    pub backups: crate::backups::BackupInfra,
}

/// Where Odoo keeps a database's filestore inside its container.
pub fn container_filestore(database: &str) -> String {
    format!("/var/lib/odoo/filestore/{database}")
}

/// Makes a filestore directory writable by Odoo, which runs as uid 101 in
/// the official image (the stand-in runs as root). Odoo only ever adds and
/// unlinks files, so its directories are what must be its own; `tree` walks
/// the directories below too (after a copy or a restore wrote them), otherwise
/// only the top one is touched, so an ordinary build costs no walk.
pub fn open_filestore(dir: &std::path::Path, tree: bool) {
    let _ = std::fs::create_dir_all(dir);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let _ = std::os::unix::fs::chown(&d, Some(101), Some(101));
        if tree {
            let dirs = std::fs::read_dir(&d).into_iter().flatten().flatten();
            stack.extend(dirs.filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()));
        }
    }
}

/// Copies a filestore with hard links (Odoo never rewrites a stored file in
/// place, so a staging copy may share them with production).
pub fn copy_filestore(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<u64> {
    let mut n = 0;
    std::fs::create_dir_all(to)?;
    if !from.is_dir() {
        return Ok(0);
    }
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dest) = (e.path(), to.join(e.file_name()));
        let t = e.file_type()?;
        if t.is_dir() {
            n += copy_filestore(&src, &dest)?;
        } else if t.is_file() {
            if std::fs::hard_link(&src, &dest).is_err() {
                std::fs::copy(&src, &dest)?;
            }
            n += 1;
        }
    }
    Ok(n)
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
            let create =
                |from: String| format!("CREATE DATABASE {} OWNER {} {from}", quote_ident(database), quote_ident(role));
            let empty = create("TEMPLATE template0 ENCODING 'UTF8'".to_owned());
            match template {
                None => {
                    sqlx::query(&empty)
                        .execute(&mut c)
                        .await
                        .with_context(|| format!("creating database {database}"))?;
                }
                Some(t) => {
                    // A file-level copy is fastest, but needs the source idle; a serving
                    // production database is copied with pg_dump | pg_restore instead.
                    let copied = sqlx::query(&create(format!("TEMPLATE {}", quote_ident(t)))).execute(&mut c).await;
                    if let Err(e) = copied {
                        let busy = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("55006"));
                        if !busy {
                            return Err(e).with_context(|| format!("copying {t} to {database}"));
                        }
                        sqlx::query(&empty)
                            .execute(&mut c)
                            .await
                            .with_context(|| format!("creating database {database}"))?;
                        self.dump_restore(t, database).await?;
                    }
                    self.take_ownership(database, role).await?;
                }
            }
        }
        c.close().await.ok();
        Ok(DbGrant { database: database.into(), role: role.into(), password })
    }

    /// Gives `role` every table, view and sequence (and the schemas) of a
    /// copied database, which still belong to the source's owner.
    pub(crate) async fn take_ownership(&self, database: &str, role: &str) -> anyhow::Result<()> {
        let mut c = sqlx::PgConnection::connect_with(&self.admin.clone().database(database)).await?;
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
        )
        .fetch_all(&mut c)
        .await?;
        for schema in &schemas {
            sqlx::query(&format!("ALTER SCHEMA {} OWNER TO {}", quote_ident(schema), quote_ident(role)))
                .execute(&mut c)
                .await?;
        }
        let relations: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')",
        )
        .bind(&schemas)
        .fetch_all(&mut c)
        .await?;
        for (schema, name, kind) in relations {
            let what = match kind.as_str() {
                "S" => "SEQUENCE",
                "v" => "VIEW",
                "m" => "MATERIALIZED VIEW",
                "f" => "FOREIGN TABLE",
                _ => "TABLE",
            };
            sqlx::query(&format!(
                "ALTER {what} {}.{} OWNER TO {}",
                quote_ident(&schema),
                quote_ident(&name),
                quote_ident(role)
            ))
            .execute(&mut c)
            .await?;
        }
        c.close().await.ok();
        Ok(())
    }

    /// libpq environment for the admin connection to `database` (keeps the
    /// password out of process arguments).
    pub fn pg_env(&self, database: &str) -> Vec<(&'static str, String)> {
        let url = self.admin.to_url_lossy();
        let mut env = vec![
            ("PGHOST", url.host_str().unwrap_or("127.0.0.1").trim_matches(['[', ']']).to_owned()),
            ("PGPORT", url.port().unwrap_or(5432).to_string()),
            ("PGUSER", percent_decode(url.username())),
            ("PGDATABASE", database.to_owned()),
        ];
        if let Some(pw) = url.password() {
            env.push(("PGPASSWORD", percent_decode(pw)));
        }
        env
    }

    /// Copies `from` into the existing empty `to` with `pg_dump -Fc | pg_restore`.
    pub async fn dump_restore(&self, from: &str, to: &str) -> anyhow::Result<()> {
        use std::process::Stdio;
        let bin = crate::db::embedded::find_bin_dir()?;
        let mut dump = tokio::process::Command::new(bin.join("pg_dump"))
            .args(["--format=custom", "--no-owner", "--no-acl"])
            .envs(self.pg_env(from))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running pg_dump")?;
        let pipe: Stdio = dump.stdout.take().context("pg_dump output")?.try_into()?;
        let restore = tokio::process::Command::new(bin.join("pg_restore"))
            .args(["--no-owner", "--no-acl", "--exit-on-error", "--dbname", to])
            .envs(self.pg_env(to))
            .stdin(pipe)
            .stderr(Stdio::piped())
            .output();
        let (dumped, restored) = tokio::join!(dump.wait_with_output(), restore);
        let (dumped, restored) = (dumped?, restored?);
        anyhow::ensure!(
            dumped.status.success(),
            "pg_dump of {from} failed: {}",
            String::from_utf8_lossy(&dumped.stderr).trim()
        );
        anyhow::ensure!(
            restored.status.success(),
            "pg_restore into {to} failed: {}",
            String::from_utf8_lossy(&restored.stderr).trim()
        );
        Ok(())
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

/// Decodes `%XX` escapes (URL user and password parts).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding() {
        assert_eq!(super::percent_decode("a%2Db%5Fc"), "a-b_c");
        assert_eq!(super::percent_decode("plain"), "plain");
        assert_eq!(super::percent_decode("bad%zz%"), "bad%zz%");
    }
}
