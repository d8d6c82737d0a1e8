//! Neutralisation: what makes a copy of production data safe outside
//! production (rules from Odoo's `data/neutralize.sql` files, see
//! `shared/reference/odoo.md`). Only statements whose tables and columns
//! exist run, all in one transaction, each one logged; a verification query
//! afterwards must find no live credential, or the build fails.

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
];

/// Runs the rules on `database`; returns the neutralize log lines.
pub async fn neutralize(opts: PgConnectOptions, catcher: Option<&Catcher>) -> anyhow::Result<Vec<String>> {
    let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
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
    log.push("verified: no live mail server (but the catcher), payment provider or IAP token remains".into());
    conn.close().await.ok();
    Ok(log)
}
