//! The PostgreSQL server that holds build databases, and the two kinds of
//! login that reach it: its admin (databases and roles) and each database's
//! own role (everything inside a tenant's database).

use crate::db::embedded::quote_ident;
use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::time::Duration;

/// The PostgreSQL server that holds build databases.
///
/// Two kinds of login reach it, and never mix: the *admin* (CREATEDB and
/// CREATEROLE, never a superuser) creates, copies and drops databases and
/// roles and runs no statement inside a tenant's database but ownership
/// changes; every statement that touches a tenant's objects (restores,
/// neutralization, counts, dumps, manifests) runs over a connection that logs
/// in as that database's own role, named like the database. Role passwords
/// are derived from a key the console keeps, so the console can always log in
/// as a tenant role without storing its password, and a container that knows
/// its own password learns nothing about another's.
#[derive(Clone)]
pub struct BuildDatabases {
    /// A role allowed to CREATE ROLE and CREATE DATABASE, not a superuser.
    pub admin: PgConnectOptions,
    /// The address containers use for it (the Docker bridge gateway for the embedded cluster).
    pub host_for_containers: String,
    pub port_for_containers: u16,
    /// A dedicated server's socket directory on this host: containers reach
    /// the server only through it, mounted read-only at [`DB_SOCKET_MOUNT`]
    /// (then `host_for_containers` is that path). `None`: over TCP.
    pub socket_dir: Option<std::path::PathBuf>,
    /// Derives the tenant roles' passwords (HMAC-SHA256).
    pub role_key: Vec<u8>,
}

/// Where a dedicated server's socket directory appears inside its instance's containers.
pub const DB_SOCKET_MOUNT: &str = "/run/odooops-db";

/// The NOLOGIN group every tenant role belongs to: `pg_hba.conf` lets Docker's
/// ranges in only as a member of it, and only into the database of the same name.
pub const TENANT_GROUP: &str = "odooops_tenants";

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
    pub(super) async fn admin(&self) -> anyhow::Result<sqlx::PgConnection> {
        let opts = self.admin.clone().log_statements(tracing::log::LevelFilter::Off);
        sqlx::PgConnection::connect_with(&opts).await.context("connecting to the builds' PostgreSQL server")
    }

    /// The password of a tenant role: HMAC-SHA256 of its name under the console's key.
    pub fn role_password(&self, role: &str) -> String {
        use base64::Engine;
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.role_key).expect("HMAC takes any key length");
        mac.update(b"odooops build role\0");
        mac.update(role.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Options that log in to `database` as its own role (same name): what every
    /// statement on a tenant's objects uses.
    pub fn owner_options(&self, database: &str) -> PgConnectOptions {
        self.admin
            .clone()
            .username(database)
            .password(&self.role_password(database))
            .database(database)
            .log_statements(tracing::log::LevelFilter::Off)
    }

    /// Checks the admin is no superuser, creates the tenant group, and adopts
    /// the roles of `installation` made before roles were separated (group
    /// membership, derived password, no PUBLIC connect). Idempotent.
    pub async fn prepare(&self, installation: &str) -> anyhow::Result<()> {
        let mut c = self.admin().await?;
        let (superuser, createrole, createdb): (bool, bool, bool) =
            sqlx::query_as("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
                .fetch_one(&mut c)
                .await?;
        anyhow::ensure!(
            !superuser,
            "the builds' PostgreSQL login must not be a superuser: tenant databases are reached only through it \
             (create a role WITH LOGIN CREATEDB CREATEROLE and use it in ODOOOPS_BUILDS_DATABASE_URL)"
        );
        anyhow::ensure!(createrole && createdb, "the builds' PostgreSQL login needs CREATEDB and CREATEROLE");
        let signals: bool = sqlx::query_scalar("SELECT pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')")
            .fetch_one(&mut c)
            .await?;
        if !signals {
            tracing::warn!(
                "the builds' PostgreSQL login is not in pg_signal_backend: dropping a build database waits for autovacuum \
                 (GRANT pg_signal_backend TO it)"
            );
        }
        let group_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(TENANT_GROUP)
            .fetch_one(&mut c)
            .await?;
        if !group_exists {
            let made = sqlx::query(&format!("CREATE ROLE {TENANT_GROUP} NOLOGIN NOINHERIT")).execute(&mut c).await;
            if let Err(e) = made {
                // Another console created it at the same moment: fine.
                if !crate::db::is_duplicate_role(&e) {
                    return Err(e).context("creating the tenant group role");
                }
            }
        }
        // Roles of this installation that are not in the group yet (made before it existed).
        let legacy: Vec<String> = sqlx::query_scalar(
            "SELECT r.rolname FROM pg_roles r
              WHERE r.rolcanlogin AND NOT r.rolsuper
                AND (starts_with(r.rolname, $1) OR starts_with(r.rolname, $2) OR starts_with(r.rolname, $3))
                AND NOT pg_has_role(r.oid, $4, 'MEMBER')",
        )
        .bind(format!("ob_{installation}_"))
        .bind(format!("op_{installation}_"))
        .bind(format!("od_{installation}_"))
        .bind(TENANT_GROUP)
        .fetch_all(&mut c)
        .await?;
        for role in &legacy {
            self.adopt(&mut c, role).await.with_context(|| format!("adopting the build role {role}"))?;
            let has_db: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(role)
                .fetch_one(&mut c)
                .await?;
            if has_db {
                sqlx::query(&format!("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC", quote_ident(role)))
                    .execute(&mut c)
                    .await?;
            }
        }
        if !legacy.is_empty() {
            tracing::warn!(
                roles = legacy.len(),
                "build database roles were given new passwords: rebuild the builds that serve them"
            );
        }
        c.close().await.ok();
        Ok(())
    }

    /// Makes `role` a tenant role: in the group, with its derived password, and
    /// one the admin acts for (to copy, hand over and drop what it owns).
    async fn adopt(&self, c: &mut sqlx::PgConnection, role: &str) -> anyhow::Result<()> {
        // (SUPERUSER, REPLICATION and BYPASSRLS are not the admin's to give, nor to take: tenant roles never have them.)
        let ident = quote_ident(role);
        sqlx::query(&format!(
            "ALTER ROLE {ident} LOGIN NOCREATEROLE NOCREATEDB INHERIT PASSWORD '{}'",
            self.role_password(role)
        ))
        .execute(&mut *c)
        .await?;
        sqlx::query(&format!("GRANT {TENANT_GROUP} TO {ident}")).execute(&mut *c).await?;
        let admin_is_member: bool =
            sqlx::query_scalar("SELECT pg_has_role(current_user, $1, 'MEMBER')").bind(role).fetch_one(&mut *c).await?;
        if !admin_is_member {
            sqlx::query(&format!("GRANT {ident} TO CURRENT_USER")).execute(&mut *c).await?;
        }
        Ok(())
    }

    /// A login role and an empty database it owns, both named `database`. With
    /// `template`, the new database is a copy of that one (staging from production).
    pub async fn provision(&self, database: &str, template: Option<&str>) -> anyhow::Result<DbGrant> {
        let role = database;
        let mut c = self.admin().await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(role)
            .fetch_one(&mut c)
            .await?;
        if !exists {
            sqlx::query(&format!("CREATE ROLE {} LOGIN", quote_ident(role)))
                .execute(&mut c)
                .await
                .context("creating the build's database role")?;
        }
        self.adopt(&mut c, role).await.context("setting up the build's database role")?;
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
                    // production database is copied with pg_dump | pg_restore instead,
                    // each side logged in as its own database's role.
                    let copied = sqlx::query(&create(format!("TEMPLATE {}", quote_ident(t)))).execute(&mut c).await;
                    let file_copy = match copied {
                        Ok(_) => true,
                        Err(e) => {
                            let busy = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("55006"));
                            if !busy {
                                return Err(e).with_context(|| format!("copying {t} to {database}"));
                            }
                            sqlx::query(&empty)
                                .execute(&mut c)
                                .await
                                .with_context(|| format!("creating database {database}"))?;
                            false
                        }
                    };
                    sqlx::query(&format!(
                        "REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC",
                        quote_ident(database)
                    ))
                    .execute(&mut c)
                    .await?;
                    if file_copy {
                        self.take_ownership(database, role).await?;
                        self.forget_reader_of(database, t).await?;
                    } else {
                        self.dump_restore(t, database).await?;
                    }
                }
            }
        }
        sqlx::query(&format!("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC", quote_ident(database)))
            .execute(&mut c)
            .await?;
        c.close().await.ok();
        Ok(DbGrant { database: database.into(), role: role.into(), password: self.role_password(role) })
    }

    /// Gives `role` everything in a file-level copy that still belongs to the
    /// source's owner: schemas, relations, routines, types, operators,
    /// collations and text search objects. These catalog
    /// reads and `ALTER … OWNER` are the only statements the admin runs inside a
    /// tenant's database; they run no tenant code. Afterwards nothing in the copy
    /// may belong to another role (checked in `pg_shdepend`), so no SECURITY
    /// DEFINER routine of the source's role survives into the copy.
    async fn take_ownership(&self, database: &str, role: &str) -> anyhow::Result<()> {
        // Only pg_catalog is searched: an operator or function the tenant defined
        // in its own schemas (an exact-type `=` on oid and regclass, say) can
        // never be picked for these queries, so no tenant code runs as the admin.
        let opts = self
            .admin
            .clone()
            .database(database)
            .options([("search_path", "pg_catalog")])
            .log_statements(tracing::log::LevelFilter::Off);
        let mut c = sqlx::PgConnection::connect_with(&opts).await?;
        let path: String =
            sqlx::query_scalar("SELECT pg_catalog.current_setting('search_path')").fetch_one(&mut c).await?;
        anyhow::ensure!(path == "pg_catalog", "the admin's search_path in a tenant database must be pg_catalog alone");
        let q = quote_ident;
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
        )
        .fetch_all(&mut c)
        .await?;
        let mut statements: Vec<String> =
            schemas.iter().map(|s| format!("ALTER SCHEMA {} OWNER TO {}", q(s), q(role))).collect();
        let relations: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e') AND (c.relkind = 'S' OR d.deptype = 'e'))",
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
            statements.push(format!("ALTER {what} {}.{} OWNER TO {}", q(&schema), q(&name), q(role)));
        }
        // Everything else a role can own in a schema, as (what, qualified name), except an extension's own:
        // routines, free-standing types and domains (not a row type, not an array), operators,
        // collations and text search objects.
        let owned: Vec<(String, String)> = sqlx::query_as(
            "SELECT CASE p.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                    format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass::oid AND d.objid = p.oid AND d.deptype = 'e')
             UNION ALL
             SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, format('%I.%I', n.nspname, t.typname)
               FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = ANY($1) AND t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typelem = 0
                AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_type'::regclass::oid AND d.objid = t.oid AND d.deptype IN ('e', 'i'))
             UNION ALL
             SELECT 'OPERATOR', format('%I.%s(%s, %s)', n.nspname, o.oprname,
                      CASE WHEN o.oprleft = 0 THEN 'NONE' ELSE format_type(o.oprleft, NULL) END,
                      CASE WHEN o.oprright = 0 THEN 'NONE' ELSE format_type(o.oprright, NULL) END)
               FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
              WHERE n.nspname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_operator'::regclass::oid AND d.objid = o.oid AND d.deptype = 'e')
             UNION ALL
             SELECT 'COLLATION', format('%I.%I', n.nspname, c.collname)
               FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
              WHERE n.nspname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_collation'::regclass::oid AND d.objid = c.oid AND d.deptype = 'e')
             UNION ALL
             SELECT 'TEXT SEARCH CONFIGURATION', format('%I.%I', n.nspname, t.cfgname)
               FROM pg_ts_config t JOIN pg_namespace n ON n.oid = t.cfgnamespace
              WHERE n.nspname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_ts_config'::regclass::oid AND d.objid = t.oid AND d.deptype = 'e')
             UNION ALL
             SELECT 'TEXT SEARCH DICTIONARY', format('%I.%I', n.nspname, t.dictname)
               FROM pg_ts_dict t JOIN pg_namespace n ON n.oid = t.dictnamespace
              WHERE n.nspname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_ts_dict'::regclass::oid AND d.objid = t.oid AND d.deptype = 'e')",
        )
        .bind(&schemas)
        .fetch_all(&mut c)
        .await?;
        for (what, name) in owned {
            statements.push(format!("ALTER {what} {name} OWNER TO {}", q(role)));
        }
        for sql in &statements {
            sqlx::query(sql).execute(&mut c).await.with_context(|| format!("handing over ownership: {sql}"))?;
        }
        let strangers: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT pg_describe_object(s.classid, s.objid, s.objsubid) || ' (' || r.rolname || ')'
               FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid
              WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND s.deptype = 'o' AND r.rolname <> $1
                -- an extension keeps its creator (it has no ALTER OWNER); its objects are the bootstrap superuser's
                AND s.classid <> 'pg_extension'::regclass::oid
              LIMIT 5",
        )
        .bind(role)
        .fetch_all(&mut c)
        .await?;
        c.close().await.ok();
        anyhow::ensure!(
            strangers.is_empty(),
            "the copy still holds objects of another role, refused: {}",
            strangers.join(", ")
        );
        Ok(())
    }

    /// libpq environment that logs in to `database` as its own role (keeps the
    /// password out of process arguments).
    pub fn owner_env(&self, database: &str) -> Vec<(&'static str, String)> {
        let url = self.admin.to_url_lossy();
        vec![
            ("PGHOST", url.host_str().unwrap_or("127.0.0.1").trim_matches(['[', ']']).to_owned()),
            ("PGPORT", url.port().unwrap_or(5432).to_string()),
            ("PGUSER", database.to_owned()),
            ("PGDATABASE", database.to_owned()),
            ("PGPASSWORD", self.role_password(database)),
            // Nothing from the console's own environment or home directory.
            ("PGSERVICEFILE", "/dev/null".to_owned()),
            ("PGPASSFILE", "/dev/null".to_owned()),
            ("PSQLRC", "/dev/null".to_owned()),
        ]
    }

    /// Copies `from` into the existing empty `to` with `pg_dump -Fc | pg_restore`,
    /// each side logged in as its database's own role.
    pub async fn dump_restore(&self, from: &str, to: &str) -> anyhow::Result<()> {
        self.dump_restore_into(from, self, to).await
    }

    /// As [`dump_restore`](Self::dump_restore), into `to` on another server
    /// (an instance's database moving between the shared and its own server).
    pub async fn dump_restore_into(&self, from: &str, target: &BuildDatabases, to: &str) -> anyhow::Result<()> {
        use std::process::Stdio;
        let bin = crate::db::embedded::find_bin_dir()?;
        // Straight into pg_restore through a pipe: compressing would only cost CPU on both sides.
        let mut dump = tokio::process::Command::new(bin.join("pg_dump"))
            .args(["--format=custom", "--compress=0", "--no-owner", "--no-acl"])
            .envs(self.owner_env(from))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running pg_dump")?;
        let pipe: Stdio = dump.stdout.take().context("pg_dump output")?.try_into()?;
        let restore = tokio::process::Command::new(bin.join("pg_restore"))
            .args(["--no-owner", "--no-acl", "--exit-on-error", "--dbname", to])
            .envs(target.owner_env(to))
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
        // A tenant role can revoke the admin's membership in itself: take it again, or its database could not be dropped.
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(role)
            .fetch_one(&mut c)
            .await?;
        if exists {
            match sqlx::query(&format!("GRANT {} TO CURRENT_USER", quote_ident(role))).execute(&mut c).await {
                Ok(_) => {}
                // Dropped meanwhile by another teardown of the same build (a kill racing a cleanup): done already.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42704") => {}
                Err(e) => return Err(e).with_context(|| format!("taking membership of role {role}")),
            }
        }
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(database));
        // Without pg_signal_backend (an operator's builds server), an autovacuum
        // worker in the database cannot be ended: it finishes soon, so try again.
        let mut attempt = 0;
        loop {
            match sqlx::query(&statement).execute(&mut c).await {
                Ok(_) => break,
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") && attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("dropping database {database}")),
            }
        }
        sqlx::query(&format!("DROP ROLE IF EXISTS {}", quote_ident(role))).execute(&mut c).await?;
        self.drop_reader(&mut c, database).await;
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

    /// Sizes (bytes) of those of `names` on this server that exist and can be measured.
    pub async fn sizes(&self, names: &[String]) -> anyhow::Result<std::collections::HashMap<String, i64>> {
        let mut c = self.admin().await?;
        let mut out = std::collections::HashMap::new();
        for name in names {
            // One at a time: a database being dropped meanwhile fails alone.
            let size: Result<Option<i64>, _> = sqlx::query_scalar(
                "SELECT pg_database_size(datname) FROM pg_database WHERE datname = $1 AND has_database_privilege(datname, 'CONNECT')",
            )
            .bind(name)
            .fetch_optional(&mut c)
            .await
            .map(Option::flatten);
            if let Ok(Some(size)) = size {
                out.insert(name.clone(), size);
            }
        }
        c.close().await.ok();
        Ok(out)
    }

    /// The statements of `database` that took the most time in all, from
    /// `pg_stat_statements` (`Err` says why there are none: the extension is
    /// not loaded on this server, or not created in its maintenance database).
    pub async fn slow_queries(&self, database: &str, limit: i64) -> Result<Vec<(String, i64, f64, f64)>, String> {
        let mut c = self.admin().await.map_err(|e| format!("{e:#}"))?;
        let rows = sqlx::query_as(
            "SELECT left(s.query, 2000), s.calls, s.mean_exec_time, s.total_exec_time
               FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
              WHERE d.datname = $1 ORDER BY s.total_exec_time DESC LIMIT $2",
        )
        .bind(database)
        .bind(limit)
        .fetch_all(&mut c)
        .await
        .map_err(|e| match e.as_database_error().and_then(|d| d.code()).as_deref() {
            Some("42P01") => "pg_stat_statements is not installed on this database server".to_owned(),
            Some("55000") => "pg_stat_statements is not loaded (shared_preload_libraries) on this server".to_owned(),
            _ => "the statistics could not be read".to_owned(),
        });
        c.close().await.ok();
        rows
    }

    /// Every database on the server.
    pub async fn list_all(&self) -> anyhow::Result<Vec<String>> {
        let mut c = self.admin().await?;
        let names = sqlx::query_scalar("SELECT datname FROM pg_database").fetch_all(&mut c).await?;
        c.close().await.ok();
        Ok(names)
    }
}

#[cfg(all(test, feature = "testing"))]
mod adoption {
    use super::*;
    use sqlx::Connection;

    /// An installation from before roles were separated: a build role made by
    /// the superuser with its own password, owning a database anyone could connect to.
    #[tokio::test]
    async fn roles_of_an_existing_installation_are_adopted_at_start() {
        let Some(dbs) = crate::testing::build_databases() else { return };
        let installation = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let legacy = format!("ob_{installation}_legacy");
        let mut su = sqlx::PgConnection::connect_with(&crate::testing::server()).await.unwrap();
        for sql in [
            format!("CREATE ROLE {legacy} LOGIN PASSWORD 'old-random-password'"),
            format!("CREATE DATABASE {legacy} OWNER {legacy}"),
            format!("GRANT CONNECT ON DATABASE {legacy} TO PUBLIC"),
        ] {
            sqlx::query(&sql).execute(&mut su).await.unwrap();
        }

        dbs.prepare(installation).await.unwrap();
        dbs.prepare(installation).await.unwrap();

        // It logs in with its derived password, is a tenant, and the admin acts for it.
        let mut c = sqlx::PgConnection::connect_with(&dbs.owner_options(&legacy)).await.unwrap();
        let (tenant, public_connect): (bool, bool) = sqlx::query_as(
            "SELECT pg_has_role(current_user, $1, 'MEMBER'), has_database_privilege('public', current_database(), 'CONNECT')",
        )
        .bind(TENANT_GROUP)
        .fetch_one(&mut c)
        .await
        .unwrap();
        c.close().await.ok();
        assert!(tenant, "in the tenant group (pg_hba lets only those in from containers)");
        assert!(!public_connect, "PUBLIC's CONNECT is revoked");
        dbs.drop(&legacy, &legacy).await.unwrap();
        su.close().await.ok();
    }

    #[tokio::test]
    async fn a_superuser_is_refused_as_the_builds_admin() {
        let Some(mut dbs) = crate::testing::build_databases() else { return };
        dbs.admin = crate::testing::server();
        let e = dbs.prepare("x").await.unwrap_err().to_string();
        assert!(e.contains("must not be a superuser"), "{e}");
    }
}
