//! Neutralisation: what makes a copy of production data safe outside
//! production (rules from Odoo's `data/neutralize.sql` files, see
//! `shared/reference/odoo.md`). Only statements whose tables and columns
//! exist run, all in one transaction, each one logged; a verification query
//! afterwards must find no live credential, or the build fails. Projects add
//! their own statements and secret patterns that must match nothing afterwards.
//!
//! Everything here runs over a connection that logs in as the copy's own role
//! (the tables, their triggers and the project's statements are the tenant's):
//! never a superuser, never `SET ROLE` from a privileged session, so neither a
//! `RESET ROLE` in the project's statements nor a trigger planted in
//! production gains anything.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Row};

/// (table, required columns, statement).
const RULES: &[(&str, &[&str], &str)] = &[
    ("ir_mail_server", &["active"], "UPDATE ir_mail_server SET active = false"),
    (
        "ir_mail_server",
        &["name", "smtp_host", "smtp_port", "active"],
        "INSERT INTO ir_mail_server (name, smtp_host, smtp_port, active) VALUES ('neutralization - disable emails', 'invalid', 1025, true)",
    ),
    (
        "ir_cron",
        &["active"],
        "UPDATE ir_cron SET active = false WHERE id NOT IN (SELECT res_id FROM ir_model_data WHERE module = 'base' AND name = 'autovacuum_job' AND res_id IS NOT NULL)",
    ),
    ("payment_provider", &["state"], "UPDATE payment_provider SET state = 'disabled' WHERE state NOT IN ('test', 'disabled')"),
    ("delivery_carrier", &["prod_environment"], "UPDATE delivery_carrier SET prod_environment = false"),
    ("iap_account", &["account_token"], "UPDATE iap_account SET account_token = account_token || '+disabled' WHERE account_token NOT LIKE '%+disabled'"),
    ("res_users", &["google_calendar_token"], "UPDATE res_users SET google_calendar_token = NULL, google_calendar_rtoken = NULL"),
    ("res_users", &["microsoft_calendar_token"], "UPDATE res_users SET microsoft_calendar_token = NULL, microsoft_calendar_rtoken = NULL"),
    ("auth_oauth_provider", &["client_secret"], "UPDATE auth_oauth_provider SET client_secret = NULL"),
    ("website", &["domain"], "UPDATE website SET domain = NULL"),
    ("website", &["cdn_activated"], "UPDATE website SET cdn_activated = false"),
    (
        "website",
        &["robots_txt"],
        "UPDATE website SET robots_txt = E'User-agent: *\\nDisallow: /\\n'",
    ),
    ("ir_act_server", &["webhook_url"], "UPDATE ir_act_server SET webhook_url = 'https://neutralized.invalid/' WHERE webhook_url IS NOT NULL"),
    (
        "ir_ui_view",
        &["active"],
        "UPDATE ir_ui_view SET active = true WHERE id IN (SELECT res_id FROM ir_model_data WHERE module = 'web' AND name = 'neutralize_banner')",
    ),
    (
        "ir_config_parameter",
        &["key", "value"],
        "INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'true') ON CONFLICT (key) DO UPDATE SET value = 'true'",
    ),
];

/// Where a neutralized copy sends its mail instead: this console's catcher,
/// with the environment's credentials (the dummy server then points there).
#[derive(Debug, Clone)]
pub struct Catcher {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

/// Queries that must each return 0 after neutralisation (only for existing tables);
/// `$1` is the catcher's host (or `invalid`).
const CHECKS: &[(&str, &str)] = &[
    (
        "ir_mail_server",
        "SELECT count(*) FROM ir_mail_server WHERE active AND coalesce(smtp_host, '') NOT IN ('invalid', $1)",
    ),
    ("payment_provider", "SELECT count(*) FROM payment_provider WHERE state NOT IN ('test', 'disabled')"),
    (
        "iap_account",
        "SELECT count(*) FROM iap_account WHERE account_token IS NOT NULL AND account_token NOT LIKE '%+disabled'",
    ),
    ("auth_oauth_provider", "SELECT count(*) FROM auth_oauth_provider WHERE client_secret IS NOT NULL"),
    ("delivery_carrier", "SELECT count(*) FROM delivery_carrier WHERE prod_environment"),
];

/// What a project adds to neutralisation.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Statements separated by `;`, run inside the same transaction as the rules.
    pub sql: String,
    /// PostgreSQL regular expressions that no credential-like column may match afterwards.
    pub secret_patterns: Vec<String>,
}

/// Columns that hold credentials by their name.
const CREDENTIAL_COLUMNS: &str = "(token|secret|password|passwd|api_?key|webhook|credential)";

/// Runs the rules on the database `opts` logs in to, as its owner; returns the
/// neutralize log lines. Refuses a privileged login.
pub async fn neutralize(
    opts: PgConnectOptions,
    catcher: Option<&Catcher>,
    extra: &Extra,
) -> anyhow::Result<Vec<String>> {
    let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
    let (superuser, owner): (bool, bool) = sqlx::query_as(
        "SELECT current_setting('is_superuser') = 'on',
                (SELECT datdba = (SELECT oid FROM pg_roles WHERE rolname = session_user) FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&mut conn)
    .await?;
    anyhow::ensure!(!superuser && owner, "neutralization must log in as the copy's own role");
    let mut log = Vec::new();
    let mut tx = conn.begin().await?;
    for (table, columns, sql) in RULES {
        let present: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = ANY($2)",
        )
        .bind(table)
        .bind(columns.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .fetch_one(&mut *tx)
        .await?;
        if present as usize != columns.len() {
            log.push(format!("skipped (no {table}.{}): {sql}", columns.join("/")));
            continue;
        }
        let n = sqlx::query(sql).execute(&mut *tx).await?.rows_affected();
        log.push(format!("{n} row(s): {sql}"));
    }
    if let Some(c) = catcher {
        let columns: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'ir_mail_server'
               AND column_name IN ('smtp_host', 'smtp_port', 'smtp_user', 'smtp_pass')",
        )
        .fetch_one(&mut *tx)
        .await?;
        if columns == 4 {
            let n = sqlx::query(
                "UPDATE ir_mail_server SET name = 'OdooOps mail catcher', smtp_host = $1, smtp_port = $2, smtp_user = $3, smtp_pass = $4
                  WHERE name = 'neutralization - disable emails'",
            )
            .bind(&c.host)
            .bind(i32::from(c.port))
            .bind(&c.user)
            .bind(&c.password)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            log.push(format!("{n} row(s): the dummy mail server sends to the OdooOps catcher {}:{}", c.host, c.port));
        }
    }
    let statements: Vec<&str> = extra.sql.split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
    if !statements.is_empty() {
        // The project's own statements: the session is the copy's role, so there is no other to return to.
        for sql in statements {
            let n = sqlx::query(sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| anyhow::anyhow!("the project's neutralize statement `{sql}` failed: {e}"))?
                .rows_affected();
            log.push(format!("{n} row(s) (project): {sql}"));
        }
    }
    tx.commit().await?;
    let catcher_host = catcher.map(|c| c.host.as_str()).unwrap_or("invalid");
    for (table, check) in CHECKS {
        let exists: bool = sqlx::query("SELECT to_regclass($1) IS NOT NULL AS e")
            .bind(format!("public.{table}"))
            .fetch_one(&mut conn)
            .await?
            .get("e");
        if !exists {
            continue;
        }
        let live: i64 = if check.contains("$1") {
            sqlx::query_scalar(check).bind(catcher_host).fetch_one(&mut conn).await?
        } else {
            sqlx::query_scalar(check).fetch_one(&mut conn).await?
        };
        if live != 0 {
            anyhow::bail!("verification failed: {live} live credential(s) remain in {table}");
        }
    }
    if !extra.secret_patterns.is_empty() {
        // Credential-like columns, and system parameters (where Odoo keeps API keys).
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')
                AND (column_name ~* $1 OR (table_name = 'ir_config_parameter' AND column_name = 'value'))",
        )
        .bind(CREDENTIAL_COLUMNS)
        .fetch_all(&mut conn)
        .await?;
        // One pass per column, all patterns at once.
        let q = crate::db::embedded::quote_ident;
        for (table, column) in &columns {
            let hits: i64 =
                sqlx::query_scalar(&format!("SELECT count(*) FROM {} WHERE {} ~ ANY($1)", q(table), q(column)))
                    .bind(&extra.secret_patterns)
                    .fetch_one(&mut conn)
                    .await?;
            if hits != 0 {
                anyhow::bail!(
                    "verification failed: {hits} value(s) in {table}.{column} match a secret pattern of the project ({})",
                    extra.secret_patterns.join(", ")
                );
            }
        }
        log.push(format!(
            "verified: {} secret pattern(s) match nothing in {} credential column(s)",
            extra.secret_patterns.len(),
            columns.len()
        ));
    }
    log.push(
        "verified: no live mail server (but the catcher), payment provider, carrier, OAuth secret or IAP token remains"
            .into(),
    );
    conn.close().await.ok();
    Ok(log)
}
