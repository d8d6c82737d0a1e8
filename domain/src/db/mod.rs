//! The control-plane database: migrations, the application role, and
//! transactions scoped to the acting user so row-level security applies.
//!
//! Two kinds of connection exist. The *owner* connection (from `DATABASE_URL`
//! or the embedded cluster's superuser) runs migrations and administrative
//! commands such as `odooops admin create-owner`. Everything a request does goes
//! through the *application* pool, which logs in as `<database>_app`: a member
//! of the `odooops_app` group role that owns nothing and cannot bypass RLS.

pub mod embedded;

use crate::error::DomainResult;
use crate::types::UserId;
use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The pools a running console uses.
#[derive(Clone)]
pub struct Db {
    app: PgPool,
    owner: PgPool,
    app_role: String,
}

/// A transaction in which `odooops.user_id` is set: every statement is
/// filtered by the row-level-security policies for that user.
pub type ScopedTx = Transaction<'static, Postgres>;

impl Db {
    /// Migrates the database, ensures the application login role exists with
    /// its stored password, and opens the application pool.
    pub async fn prepare(owner_opts: PgConnectOptions, app_pool_size: u32) -> anyhow::Result<Db> {
        let owner = PgPoolOptions::new()
            .max_connections(3)
            .connect_with(owner_opts.clone())
            .await
            .context("connecting to PostgreSQL as the owner (DATABASE_URL)")?;
        ensure_group_role(&owner).await?;
        MIGRATOR.run(&owner).await.context("running migrations")?;
        let database: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&owner).await?;
        let app_role = app_role_name(&database);
        let password = ensure_app_role(&owner, &app_role).await?;
        restrict_connect(&owner, &database, &app_role).await;
        let app = PgPoolOptions::new()
            .max_connections(app_pool_size)
            .connect_with(owner_opts.username(&app_role).password(&password))
            .await
            .with_context(|| format!("connecting as the application role {app_role}"))?;
        Ok(Db { app, owner, app_role })
    }

    /// Begins a transaction acting as `user`.
    pub async fn begin_as(&self, user: UserId) -> DomainResult<ScopedTx> {
        // One round trip, not two: the transaction opens with the acting user
        // already set. A uuid prints as hex digits and dashes only.
        let open = format!("BEGIN; SELECT set_config('odooops.user_id', '{}', true)", user.0.hyphenated());
        Ok(self.app.begin_with(open).await?)
    }

    /// The application pool with no user set: only the `auth_*` functions answer.
    pub fn anonymous(&self) -> &PgPool {
        &self.app
    }

    /// The owner pool, for administrative commands only (never for requests).
    pub fn owner(&self) -> &PgPool {
        &self.owner
    }

    pub fn app_role(&self) -> &str {
        &self.app_role
    }

    /// A random secret of this installation (created on first use), kept
    /// where only the owner can read it.
    pub async fn private_secret(&self, key: &str) -> anyhow::Result<String> {
        sqlx::query("INSERT INTO ops_private.settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(crate::auth::random_token(32))
            .execute(&self.owner)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM ops_private.settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.owner)
            .await?)
    }

    /// A stored private value, if set.
    pub async fn private_value(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM ops_private.settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.owner)
            .await?)
    }

    /// Stores `value` unless the key is already set (another server may have
    /// won the race); the stored value.
    pub async fn private_value_once(&self, key: &str, value: &str) -> anyhow::Result<String> {
        sqlx::query("INSERT INTO ops_private.settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.owner)
            .await?;
        Ok(self.private_value(key).await?.unwrap_or_default())
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.app).await.is_ok()
    }

    pub async fn close(&self) {
        self.app.close().await;
        self.owner.close().await;
    }
}

/// Only the application role (and the owner) may connect to the control
/// plane: PUBLIC's CONNECT goes. An owner that does not own the database
/// cannot change that; it is then the operator's to do, and said once.
async fn restrict_connect(owner: &PgPool, database: &str, app_role: &str) {
    let db = embedded::quote_ident(database);
    for sql in [
        format!("GRANT CONNECT ON DATABASE {db} TO {}", embedded::quote_ident(app_role)),
        format!("REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC"),
    ] {
        if let Err(e) = sqlx::query(&sql).execute(owner).await {
            tracing::warn!(error = %e, "could not run `{sql}`: run it as the database's owner");
            return;
        }
    }
}

/// `<database>_app`, kept within PostgreSQL's 63-byte identifier limit.
pub fn app_role_name(database: &str) -> String {
    let base: String = database.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(58).collect();
    format!("{}_app", base.to_lowercase())
}

/// The NOLOGIN group role the migrations grant to. Roles are cluster-wide, so
/// two databases of one cluster may race to create it: the loser just uses it.
async fn ensure_group_role(owner: &PgPool) -> anyhow::Result<()> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'odooops_app')")
        .fetch_one(owner)
        .await?;
    if !exists {
        let res = sqlx::query("CREATE ROLE odooops_app NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE")
            .execute(owner)
            .await;
        if let Err(e) = res {
            if !is_duplicate_role(&e) {
                return Err(e).context("creating the odooops_app group role (the owner needs CREATEROLE)");
            }
        }
    }
    Ok(())
}

pub(crate) fn is_duplicate_role(e: &sqlx::Error) -> bool {
    // 42710 duplicate_object; 23505 when two CREATE ROLE race on pg_authid's unique index.
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("42710") | Some("23505")))
}

async fn ensure_app_role(owner: &PgPool, role: &str) -> anyhow::Result<String> {
    sqlx::query(
        "INSERT INTO ops_private.settings (key, value) VALUES ('app_role_password', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(crate::auth::random_token(32))
    .execute(owner)
    .await?;
    let password: String = sqlx::query_scalar("SELECT value FROM ops_private.settings WHERE key = 'app_role_password'")
        .fetch_one(owner)
        .await?;
    let ident = embedded::quote_ident(role);
    let literal = format!("'{}'", password.replace('\'', "''"));
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(role)
        .fetch_one(owner)
        .await?;
    if !exists {
        let create = format!(
            "CREATE ROLE {ident} LOGIN INHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE odooops_app PASSWORD {literal}"
        );
        if let Err(e) = sqlx::query(&create).execute(owner).await {
            // Another process created it at the same moment: fine.
            if !is_duplicate_role(&e) {
                return Err(e).context("creating the application role (the owner needs CREATEROLE)");
            }
        }
    }
    sqlx::query(&format!("ALTER ROLE {ident} WITH LOGIN NOBYPASSRLS PASSWORD {literal}"))
        .execute(owner)
        .await
        .context("setting the application role's password")?;
    Ok(password)
}

/// A text column holding a closed vocabulary ([`crate::types::Stage`],
/// [`crate::types::BuildState`], …), typed. The database's CHECK constraints
/// keep it in range; a value outside it is a bug, reported as one.
pub(crate) fn vocabulary<T>(r: &sqlx::postgres::PgRow, column: &str) -> DomainResult<T>
where
    T: std::str::FromStr<Err = crate::types::ParseError>,
{
    use sqlx::Row;
    let s: &str = r.try_get(column)?;
    Ok(s.parse().map_err(|e| anyhow::anyhow!("stored {column} `{s}`: {e}"))?)
}

/// [`vocabulary`] for a nullable column.
pub(crate) fn vocabulary_opt<T>(r: &sqlx::postgres::PgRow, column: &str) -> DomainResult<Option<T>>
where
    T: std::str::FromStr<Err = crate::types::ParseError>,
{
    use sqlx::Row;
    let s: Option<&str> = r.try_get(column)?;
    Ok(s.map(str::parse).transpose().map_err(|e| anyhow::anyhow!("stored {column}: {e}"))?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn app_role_names() {
        assert_eq!(super::app_role_name("odooops"), "odooops_app");
        assert_eq!(super::app_role_name("t-1\"x"), "t1x_app");
        assert!(super::app_role_name(&"a".repeat(100)).len() <= 63);
    }
}
