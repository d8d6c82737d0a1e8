//! A read-only login for each build database: what the kit's local mode
//! reads through (`crate::supabase::local`), so a person's SQL on an
//! environment's database can look but never change, whatever they type.
//!
//! The role (`kr_<database>`) may log in, is no member of the tenant group
//! (so `pg_hba.conf` lets no container in as it), may connect to its one
//! database only, holds SELECT on what that database's own role owns and
//! nothing else, and starts every transaction read-only with a statement
//! timeout. Its password is derived like the tenant roles'. The admin creates
//! and drops it; the grants inside are made by the database's own role (the
//! admin runs nothing in a tenant's database). A staging copy made at file
//! level carries production's grants: they are revoked in the copy, so the
//! copy's reader is the only one and production's can still be dropped.

use super::databases::BuildDatabases;
use crate::db::embedded::quote_ident;
use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// The reader role's prefix (not `ob_`/`op_`/`od_`: never taken for a tenant role).
const PREFIX: &str = "kr_";

/// How long one statement of a reader may run, in milliseconds.
pub const READER_TIMEOUT_MS: u64 = 5_000;

impl BuildDatabases {
    /// The read-only role of `database`.
    pub fn reader_role(database: &str) -> String {
        format!("{PREFIX}{database}")
    }

    /// Options that log in to `database` as its read-only role (read-only
    /// transactions, a statement timeout), making the role and its grants first.
    pub async fn reader_options(&self, database: &str) -> anyhow::Result<PgConnectOptions> {
        let role = Self::reader_role(database);
        anyhow::ensure!(role.len() <= 63, "the database name {database} is too long for a reader role");
        let ident = quote_ident(&role);
        let mut c = self.admin().await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(&role)
            .fetch_one(&mut c)
            .await?;
        if !exists {
            let made = sqlx::query(&format!(
                "CREATE ROLE {ident} LOGIN NOINHERIT NOCREATEDB NOCREATEROLE CONNECTION LIMIT 4 PASSWORD '{}'",
                self.role_password(&role)
            ))
            .execute(&mut c)
            .await;
            match made {
                Err(e) if !crate::db::is_duplicate_role(&e) => {
                    return Err(e).context("creating the database's read-only role")
                }
                _ => {}
            }
            for setting in [
                "default_transaction_read_only = on".to_owned(),
                format!("statement_timeout = {READER_TIMEOUT_MS}"),
                "idle_in_transaction_session_timeout = 10000".to_owned(),
            ] {
                sqlx::query(&format!("ALTER ROLE {ident} SET {setting}")).execute(&mut c).await?;
            }
        }
        let connects: bool = sqlx::query_scalar("SELECT has_database_privilege($1, $2, 'CONNECT')")
            .bind(&role)
            .bind(database)
            .fetch_one(&mut c)
            .await
            .with_context(|| format!("looking for database {database}"))?;
        if !connects {
            sqlx::query(&format!("GRANT CONNECT ON DATABASE {} TO {ident}", quote_ident(database)))
                .execute(&mut c)
                .await
                .with_context(|| format!("letting the reader into {database}"))?;
        }
        c.close().await.ok();

        // SELECT on what the database's role owns and the reader cannot read yet,
        // granted by that role (new tables since the last look, a restore).
        let mut owner = sqlx::PgConnection::connect_with(&self.owner_options(database))
            .await
            .with_context(|| format!("connecting to {database} as its own role"))?;
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
                AND c.relowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
                AND NOT pg_catalog.has_table_privilege($1, c.oid, 'SELECT')",
        )
        .bind(&role)
        .fetch_all(&mut owner)
        .await?;
        for schema in schemas {
            let s = quote_ident(&schema);
            // `public` belongs to pg_database_owner, whose member the database's role is; another
            // schema may not be the role's to share: its tables stay unread, nothing fails.
            if let Err(e) = sqlx::query(&format!("GRANT USAGE ON SCHEMA {s} TO {ident}")).execute(&mut owner).await {
                tracing::debug!(schema, error = %e, "a schema stays closed to the reader");
            }
            sqlx::query(&format!("GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {ident}")).execute(&mut owner).await?;
        }
        owner.close().await.ok();
        Ok(self
            .admin
            .clone()
            .username(&role)
            .password(&self.role_password(&role))
            .database(database)
            .options([
                ("default_transaction_read_only", "on".to_owned()),
                ("statement_timeout", READER_TIMEOUT_MS.to_string()),
                ("application_name", "odooops-kit".to_owned()),
            ])
            .log_statements(tracing::log::LevelFilter::Off))
    }

    /// In `copy` (a file-level copy of `template`), revokes what `template`'s
    /// reader was granted, as the copy's owner would (the admin is a member of it).
    pub(super) async fn forget_reader_of(&self, copy: &str, template: &str) -> anyhow::Result<()> {
        let role = Self::reader_role(template);
        let mut c = self.admin().await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(&role)
            .fetch_one(&mut c)
            .await?;
        c.close().await.ok();
        if !exists {
            return Ok(());
        }
        // Only catalog objects are named here (search_path pg_catalog): no tenant code runs as the admin.
        let opts = self
            .admin
            .clone()
            .database(copy)
            .options([("search_path", "pg_catalog")])
            .log_statements(tracing::log::LevelFilter::Off);
        let mut c = sqlx::PgConnection::connect_with(&opts).await?;
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
        )
        .fetch_all(&mut c)
        .await?;
        let ident = quote_ident(&role);
        for schema in schemas {
            let s = quote_ident(&schema);
            for sql in [
                format!("REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {ident}"),
                format!("REVOKE ALL ON SCHEMA {s} FROM {ident}"),
            ] {
                sqlx::query(&sql).execute(&mut c).await.with_context(|| format!("in the copy {copy}: {sql}"))?;
            }
        }
        c.close().await.ok();
        Ok(())
    }

    /// Drops `database`'s reader (after the database). A reader still granted
    /// something elsewhere stays, with a warning: a teardown never fails on it.
    pub(super) async fn drop_reader(&self, admin: &mut sqlx::PgConnection, database: &str) {
        let role = Self::reader_role(database);
        if let Err(e) = sqlx::query(&format!("DROP ROLE IF EXISTS {}", quote_ident(&role))).execute(admin).await {
            tracing::warn!(role, error = %e, "the read-only role of a dropped database stays");
        }
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use sqlx::Connection;

    /// A reader reads, writes nothing, and stays out of a file-level copy
    /// (staging from production), so it is dropped with its database.
    #[tokio::test]
    async fn a_reader_reads_only_and_a_copy_forgets_it() {
        let Some(dbs) = crate::testing::build_databases() else { return };
        dbs.prepare("kr").await.unwrap();
        let id = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let (prod, copy) = (format!("op_kr_{id}"), format!("ob_kr_{id}"));
        dbs.provision(&prod, None).await.unwrap();
        let mut owner = sqlx::PgConnection::connect_with(&dbs.owner_options(&prod)).await.unwrap();
        sqlx::query("CREATE TABLE res_partner (id serial PRIMARY KEY, name text)").execute(&mut owner).await.unwrap();
        sqlx::query("INSERT INTO res_partner (name) VALUES ('Acme')").execute(&mut owner).await.unwrap();
        owner.close().await.ok();

        let mut reader = sqlx::PgConnection::connect_with(&dbs.reader_options(&prod).await.unwrap()).await.unwrap();
        let name: String = sqlx::query_scalar("SELECT name FROM res_partner").fetch_one(&mut reader).await.unwrap();
        assert_eq!(name, "Acme");
        for sql in ["SET default_transaction_read_only = off", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"]
        {
            sqlx::query(sql).execute(&mut reader).await.unwrap();
        }
        let e = sqlx::query("UPDATE res_partner SET name = 'Evil'").execute(&mut reader).await.unwrap_err();
        assert!(e.to_string().contains("permission denied"), "without read-only mode, no privilege either: {e}");
        reader.close().await.ok();

        dbs.provision(&copy, Some(&prod)).await.unwrap();
        let mut c = sqlx::PgConnection::connect_with(&dbs.owner_options(&copy)).await.unwrap();
        let granted: bool = sqlx::query_scalar("SELECT has_table_privilege($1, 'res_partner', 'SELECT')")
            .bind(BuildDatabases::reader_role(&prod))
            .fetch_one(&mut c)
            .await
            .unwrap();
        c.close().await.ok();
        assert!(!granted, "production's reader has nothing in the copy");
        dbs.drop(&prod, &prod).await.unwrap();
        let mut admin = dbs.admin().await.unwrap();
        let left: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(BuildDatabases::reader_role(&prod))
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert!(!left, "the reader goes with its database");
        dbs.drop(&copy, &copy).await.unwrap();
    }
}
