//! The database side: wait for PostgreSQL as the official image does, create
//! Odoo-shaped tables, "install" modules, run "tests", write the filestore.

use crate::behaviour::Behaviour;
use crate::{log, Config};
use postgres::{Client, NoTls};
use std::time::{Duration, Instant};

fn params(c: &Config, database: &str) -> postgres::Config {
    let mut p = postgres::Config::new();
    p.host(&c.db_host).port(c.db_port).user(&c.db_user).password(&c.db_password).dbname(database);
    p.connect_timeout(Duration::from_secs(5));
    p
}

/// Waits up to `wait` for PostgreSQL (the official image waits 30 s).
pub fn connect(c: &Config, wait: Duration) -> Result<Client, String> {
    let deadline = Instant::now() + wait;
    let target = c.database.clone().unwrap_or_else(|| "postgres".into());
    loop {
        match params(c, &target).connect(NoTls) {
            Ok(client) => return Ok(client),
            Err(e) if e.as_db_error().map(|d| d.code().code()) == Some("3D000") => {
                // No such database: create it, as Odoo does with -d.
                let mut admin = params(c, "postgres").connect(NoTls).map_err(|e| e.to_string())?;
                admin
                    .batch_execute(&format!(
                        "CREATE DATABASE \"{}\" ENCODING 'UTF8' TEMPLATE template0",
                        target.replace('"', "")
                    ))
                    .map_err(|e| format!("creating database {target}: {e}"))?;
                log::info(Some(&target), "odoo.service.db", "database created");
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Addon directory names found in the addons paths (directories with a `__manifest__.py`).
pub fn discover_addons(paths: &[String]) -> Vec<String> {
    let mut names: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read_dir(p).ok())
        .flatten()
        .flatten()
        .filter(|e| e.path().join("__manifest__.py").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL UNIQUE, state varchar NOT NULL, latest_version varchar);
CREATE TABLE IF NOT EXISTS ir_model_data (id serial PRIMARY KEY, module varchar NOT NULL, name varchar NOT NULL, model varchar NOT NULL, res_id integer, UNIQUE (module, name));
CREATE TABLE IF NOT EXISTS ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL);
CREATE TABLE IF NOT EXISTS ir_mail_server (id serial PRIMARY KEY, name varchar NOT NULL, smtp_host varchar, smtp_port integer, smtp_user varchar, smtp_pass varchar, smtp_encryption varchar, sequence integer DEFAULT 10, active boolean DEFAULT true);
CREATE TABLE IF NOT EXISTS ir_act_server (id serial PRIMARY KEY, name varchar NOT NULL, model_name varchar);
CREATE TABLE IF NOT EXISTS ir_cron (id serial PRIMARY KEY, cron_name varchar NOT NULL, active boolean DEFAULT true, interval_number integer DEFAULT 1, interval_type varchar DEFAULT 'days', nextcall timestamp DEFAULT now());
ALTER TABLE ir_cron ADD COLUMN IF NOT EXISTS ir_actions_server_id integer;
CREATE TABLE IF NOT EXISTS payment_provider (id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL, state varchar NOT NULL DEFAULT 'disabled');
CREATE TABLE IF NOT EXISTS iap_account (id serial PRIMARY KEY, service_name varchar NOT NULL, account_token varchar);
CREATE TABLE IF NOT EXISTS res_users (id serial PRIMARY KEY, login varchar NOT NULL UNIQUE, password varchar, active boolean DEFAULT true);
CREATE TABLE IF NOT EXISTS ir_attachment (id serial PRIMARY KEY, name varchar NOT NULL, store_fname varchar, file_size integer);
"#;

const SEED: &str = r#"
INSERT INTO ir_config_parameter (key, value) VALUES ('database.uuid', md5(random()::text)), ('web.base.url', 'http://localhost:8069') ON CONFLICT (key) DO NOTHING;
-- As Odoo: the admin account is created with the database, once; a renamed admin is not re-created.
INSERT INTO res_users (login, password) SELECT 'admin', 'admin' WHERE NOT EXISTS (SELECT 1 FROM res_users);
INSERT INTO ir_model_data (module, name, model, res_id) SELECT 'base', 'user_admin', 'res.users', min(id) FROM res_users WHERE login = 'admin' HAVING count(*) > 0 ON CONFLICT DO NOTHING;
INSERT INTO ir_cron (cron_name, active) SELECT 'Base: Auto-vacuum internal data', true WHERE NOT EXISTS (SELECT 1 FROM ir_model_data WHERE module = 'base' AND name = 'autovacuum_job');
INSERT INTO ir_model_data (module, name, model, res_id) SELECT 'base', 'autovacuum_job', 'ir.cron', max(id) FROM ir_cron WHERE cron_name = 'Base: Auto-vacuum internal data' ON CONFLICT DO NOTHING;
INSERT INTO ir_cron (cron_name, active) SELECT 'Mail: Email Queue Manager', true WHERE NOT EXISTS (SELECT 1 FROM ir_cron WHERE cron_name = 'Mail: Email Queue Manager');
INSERT INTO ir_mail_server (name, smtp_host, smtp_port, smtp_user, smtp_pass, smtp_encryption) SELECT 'Company relay', 'smtp.example.com', 587, 'mailer', 'relay-password', 'starttls' WHERE NOT EXISTS (SELECT 1 FROM ir_mail_server);
INSERT INTO payment_provider (name, code, state) SELECT 'Stripe', 'stripe', 'enabled' WHERE NOT EXISTS (SELECT 1 FROM payment_provider);
INSERT INTO iap_account (service_name, account_token) SELECT 'sms', 'iap-live-token' WHERE NOT EXISTS (SELECT 1 FROM iap_account);
"#;

pub fn init(client: &mut Client, db: &str, modules: &[String], c: &Config, b: &Behaviour) -> Result<(), String> {
    client.batch_execute(SCHEMA).map_err(|e| e.to_string())?;
    // A database of an older series updated with -u all: a migration, which can be told to fail.
    let stored: Option<String> = client
        .query_opt("SELECT latest_version FROM ir_module_module WHERE name = 'base'", &[])
        .map_err(|e| e.to_string())?
        .and_then(|r| r.get(0));
    let migrating = stored.as_deref().is_some_and(|v| !v.starts_with(&format!("{}.", c.series)));
    if migrating && c.update.iter().any(|m| m == "all") {
        log::info(
            Some(db),
            "odoo.modules.migration",
            &format!("migrating from {} to {}", stored.unwrap_or_default(), c.series),
        );
        let here = !b.fail_migration_production || db.starts_with("op_");
        if b.fail_migration.as_deref() == Some(c.series.as_str()) && here {
            return Err(format!("migration of module base to {} failed (told to fail by .standin)", c.series));
        }
    }
    client.batch_execute(SEED).map_err(|e| e.to_string())?;
    let mut all = vec!["base".to_owned(), "web".to_owned()];
    all.extend(modules.iter().filter(|m| m.as_str() != "base" && m.as_str() != "web").cloned());
    for (n, m) in all.iter().enumerate() {
        log::info(Some(db), "odoo.modules.loading", &format!("Loading module {m} ({}/{})", n + 1, all.len()));
        client
            .execute(
                "INSERT INTO ir_module_module (name, state, latest_version) VALUES ($1, 'installed', $2)
                 ON CONFLICT (name) DO UPDATE SET state = 'installed', latest_version = EXCLUDED.latest_version",
                &[m, &format!("{}.1.0", c.series)],
            )
            .map_err(|e| e.to_string())?;
    }
    if all.iter().any(|m| m == "auth_oauth") {
        // Odoo's auth_oauth: the providers people sign in through.
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS auth_oauth_provider (id serial PRIMARY KEY, name varchar NOT NULL,
                   client_id varchar, enabled boolean DEFAULT false, body varchar NOT NULL DEFAULT '',
                   auth_endpoint varchar NOT NULL DEFAULT '', scope varchar, validation_endpoint varchar NOT NULL DEFAULT '',
                   data_endpoint varchar, css_class varchar, sequence integer)",
            )
            .map_err(|e| e.to_string())?;
    }
    log::info(Some(db), "odoo.modules.loading", &format!("{} modules loaded", all.len()));
    let store = std::path::Path::new(&c.data_dir).join("filestore").join(db).join("ab");
    if std::fs::create_dir_all(&store).is_ok() {
        let _ = std::fs::write(store.join("abcdef0123456789"), b"stand-in attachment\n");
        let _ = client.execute(
            "INSERT INTO ir_attachment (name, store_fname, file_size) SELECT 'readme.txt', 'ab/abcdef0123456789', 20
              WHERE NOT EXISTS (SELECT 1 FROM ir_attachment WHERE store_fname = 'ab/abcdef0123456789')",
            &[],
        );
    }
    if b.warn {
        log::warning(
            Some(db),
            "odoo.addons.base.models.ir_ui_view",
            "Field 'name' in view is deprecated (told to warn by .standin)",
        );
    }
    if c.test_enable {
        for m in modules {
            log::info(Some(db), "odoo.modules.module", &format!("odoo.addons.{m}.tests.test_{m}: running tests"));
        }
        if b.fail_test {
            let m = modules.first().map(String::as_str).unwrap_or("base");
            log::error(
                Some(db),
                &format!("odoo.addons.{m}.tests.test_{m}"),
                &format!("FAIL: TestStandin.test_told_to_fail (odoo.addons.{m}.tests.test_{m}.TestStandin)"),
            );
            log::error(Some(db), "odoo.tests.result", "1 failed, 0 error(s) of 1 tests");
        } else {
            log::info(Some(db), "odoo.tests.result", &format!("0 failed, 0 error(s) of {} tests", modules.len()));
        }
    }
    Ok(())
}
