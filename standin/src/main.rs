//! `odoo`, the stand-in: a small static program that behaves, from the
//! outside, like the official `odoo` image, so OdooOps can build, test and
//! serve branches on machines that cannot pull that image (tests, demos).
//!
//! The contract it honours (see `shared/reference/odoo.md`): database from env
//! `HOST`/`PORT`/`USER`/`PASSWORD` (or `--db_*` flags); `-d`, `-i`, `-u`,
//! `--stop-after-init`, `--test-enable`, `--addons-path`; port 8069 with
//! `/web/health` and `/web/login`; Odoo's log line format; real tables named
//! and shaped like Odoo's so neutralisation runs against real SQL; a filestore
//! under the data directory.
//!
//! A file `.standin` at the root of an addons path changes its behaviour, one
//! word per line: `fail-test`, `warn`, `crash`, `crash-serving`, `crash-serving-production`, `slow-start <seconds>`,
//! `send-mail <n>` (send n mails through `--smtp*` when the server starts; `mail-subject <value>` gives
//! them that Subject header, verbatim) and `slow-cron <seconds>`
//! (a scheduled action whose every run takes that long), `fail-migration <series>` (`-u all`
//! fails when the stand-in runs as that series: `ODOO_VERSION`, default 17.0; `… production`: only
//! on a production database).

mod auth;
mod behaviour;
mod cron;
mod db;
mod http;
mod log;
mod mail;
mod websocket;

use std::time::Duration;

/// Parsed command line and environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub db_host: String,
    pub db_port: u16,
    pub db_user: String,
    pub db_password: String,
    pub database: Option<String>,
    pub install: Vec<String>,
    pub update: Vec<String>,
    pub stop_after_init: bool,
    pub test_enable: bool,
    pub addons_paths: Vec<String>,
    pub http_port: u16,
    /// Odoo's `--workers`: above 0 the bus moves to `gevent_port`.
    pub workers: u32,
    pub gevent_port: u16,
    pub data_dir: String,
    pub smtp: mail::Smtp,
    /// The series this stand-in pretends to be (`ODOO_VERSION`, as the official image sets it).
    pub series: String,
}

fn env_or(names: &[&str], default: &str) -> String {
    names.iter().find_map(|n| std::env::var(n).ok()).unwrap_or_else(|| default.to_owned())
}

fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut c = Config {
        db_host: env_or(&["HOST", "PGHOST"], "db"),
        db_port: env_or(&["PORT", "PGPORT"], "5432").parse().map_err(|_| "PORT must be a number")?,
        db_user: env_or(&["USER", "PGUSER"], "odoo"),
        db_password: env_or(&["PASSWORD", "PGPASSWORD"], "odoo"),
        database: None,
        install: Vec::new(),
        update: Vec::new(),
        stop_after_init: false,
        test_enable: false,
        addons_paths: vec!["/mnt/extra-addons".into()],
        http_port: 8069,
        workers: 0,
        gevent_port: 8072,
        data_dir: "/var/lib/odoo".into(),
        smtp: mail::Smtp { port: 25, ..Default::default() },
        series: env_or(&["ODOO_VERSION"], "17.0"),
    };
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned()).ok_or(format!("{flag} needs a value"));
        let list =
            |v: String| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>();
        match flag {
            "-d" | "--database" => c.database = Some(value()?),
            "-i" | "--init" => c.install.extend(list(value()?)),
            "-u" | "--update" => c.update.extend(list(value()?)),
            "--stop-after-init" => c.stop_after_init = true,
            "--test-enable" => c.test_enable = true,
            "--addons-path" => c.addons_paths = list(value()?),
            "--db_host" | "--db-host" => c.db_host = value()?,
            "--db_port" | "--db-port" => c.db_port = value()?.parse().map_err(|_| "--db_port must be a number")?,
            "--db_user" | "--db-user" => c.db_user = value()?,
            "--db_password" | "--db-password" => c.db_password = value()?,
            "-p" | "--http-port" => c.http_port = value()?.parse().map_err(|_| "--http-port must be a number")?,
            "--workers" => c.workers = value()?.parse().map_err(|_| "--workers must be a number")?,
            "--gevent-port" | "--longpolling-port" => {
                c.gevent_port = value()?.parse().map_err(|_| "--gevent-port must be a number")?
            }
            "-D" | "--data-dir" => c.data_dir = value()?,
            "--smtp" => c.smtp.host = Some(value()?),
            "--smtp-port" => c.smtp.port = value()?.parse().map_err(|_| "--smtp-port must be a number")?,
            "--smtp-user" => c.smtp.user = Some(value()?),
            "--smtp-password" => c.smtp.password = Some(value()?),
            // Accepted and ignored, like flags a platform passes that change nothing here.
            "--without-demo" | "--test-tags" | "--db-filter" | "--limit-time-cpu" | "--limit-time-real"
            | "--log-level" => {
                if inline.is_none() && it.peek().is_some_and(|n| !n.starts_with('-')) {
                    it.next();
                }
            }
            "--smtp-ssl" | "--proxy-mode" | "--no-database-list" => {}
            "odoo" | "server" => {}
            other => log::warning(None, "odoo.tools.config", &format!("unknown option {other} ignored")),
        }
    }
    Ok(c)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("odoo: error: {e}");
            std::process::exit(2);
        }
    };
    std::process::exit(run(config));
}

fn run(config: Config) -> i32 {
    let behaviour = behaviour::Behaviour::load(&config.addons_paths);
    let db_label = config.database.clone();
    log::info(None, "odoo", &format!("OdooOps stand-in {} (Odoo image contract)", env!("CARGO_PKG_VERSION")));
    log::info(None, "odoo", &format!("addons paths: {:?}", config.addons_paths));
    log::info(None, "odoo", &format!("database: {}@{}:{}", config.db_user, config.db_host, config.db_port));
    if behaviour.crash {
        log::critical(
            db_label.as_deref(),
            "odoo.service.server",
            "Failed to initialize database (told to crash by .standin)",
        );
        return 255;
    }
    let mut client = match db::connect(&config, Duration::from_secs(30)) {
        Ok(c) => c,
        Err(e) => {
            log::critical(db_label.as_deref(), "odoo.sql_db", &format!("could not connect to PostgreSQL: {e}"));
            return 1;
        }
    };
    if let Some(db) = &config.database {
        let addons = db::discover_addons(&config.addons_paths);
        let wanted = |list: &[String]| -> Vec<String> {
            if list.iter().any(|m| m == "all") {
                addons.clone()
            } else {
                list.to_vec()
            }
        };
        let mut modules = wanted(&config.install);
        modules.extend(wanted(&config.update));
        if let Err(e) = db::init(&mut client, db, &modules, &config, &behaviour) {
            log::error(Some(db), "odoo.modules.loading", &format!("module installation failed: {e}"));
            return 1;
        }
    }
    if config.stop_after_init {
        log::info(db_label.as_deref(), "odoo.service.server", "Stopping gracefully (--stop-after-init)");
        return 0;
    }
    if behaviour.slow_start_secs > 0 {
        log::info(
            db_label.as_deref(),
            "odoo.service.server",
            &format!("slow start: waiting {} s", behaviour.slow_start_secs),
        );
        std::thread::sleep(Duration::from_secs(behaviour.slow_start_secs));
    }
    for i in 1..=behaviour.send_mails {
        let subject = behaviour.mail_subject.clone().unwrap_or_else(|| format!("Stand-in mail {i}"));
        let from = format!("odoo@{}.example", db_label.as_deref().unwrap_or("odoo"));
        match mail::send(&config, &from, "customer@example.com", &subject, "Sent by the OdooOps stand-in.\n") {
            Ok(()) => log::info(
                db_label.as_deref(),
                "odoo.addons.base.models.ir_mail_server",
                &format!("Mail \"{subject}\" sent"),
            ),
            Err(e) => log::error(
                db_label.as_deref(),
                "odoo.addons.base.models.ir_mail_server",
                &format!("Mail delivery failed: {e}"),
            ),
        }
    }
    let production = db_label.as_deref().is_some_and(|d| d.starts_with("op_"));
    if behaviour.crash_serving || (behaviour.crash_serving_production && production) {
        log::critical(
            db_label.as_deref(),
            "odoo.service.server",
            "Worker crashed (told to crash when serving by .standin)",
        );
        return 3;
    }
    if behaviour.slow_cron_secs > 0 && config.database.is_some() {
        cron::spawn(&config, behaviour.slow_cron_secs);
    }
    http::serve(&config, client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_platform_flags() {
        let c = parse_args(&args("-d b1 -i sale,acme_base --stop-after-init --test-enable --db_host=10.0.0.1 --db_port 6543 --without-demo all")).unwrap();
        assert_eq!(c.database.as_deref(), Some("b1"));
        assert_eq!(c.install, ["sale", "acme_base"]);
        assert!(c.stop_after_init && c.test_enable);
        assert_eq!((c.db_host.as_str(), c.db_port), ("10.0.0.1", 6543));
        let c =
            parse_args(&args("--smtp=172.17.0.1 --smtp-port 2525 --smtp-user env-1 --smtp-password s3cret")).unwrap();
        assert_eq!(c.smtp.host.as_deref(), Some("172.17.0.1"));
        assert_eq!(
            (c.smtp.port, c.smtp.user.as_deref(), c.smtp.password.as_deref()),
            (2525, Some("env-1"), Some("s3cret"))
        );
        assert!(parse_args(&args("-d")).is_err());
        let c = parse_args(&args("--workers=2 --gevent-port 9072")).unwrap();
        assert_eq!((c.workers, c.gevent_port), (2, 9072));
        assert_eq!(parse_args(&args("-d b1")).unwrap().workers, 0, "threaded by default, the bus on 8069");
        assert!(parse_args(&args("--db_port x")).is_err());
    }
}
