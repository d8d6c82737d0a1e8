//! Odoo's cron worker, as far as a platform sees it: a scheduled action is
//! taken with `SELECT … FOR NO KEY UPDATE SKIP LOCKED` on its `ir_cron` row
//! and the lock is held while the job runs (Odoo 16+). With `slow-cron <s>`
//! in `.standin`, the stand-in runs one such job, "Stand-in: slow job" on
//! `res.partner`, that takes `s` seconds inside the locking transaction, over
//! and over while the cron is active, so a watcher can find it running, stop
//! its backend and disable it.

use crate::{db, log, Config};
use std::time::Duration;

pub const SLOW_JOB: &str = "Stand-in: slow job";

/// Creates the slow job's cron (once) and runs it on a thread.
pub fn spawn(c: &Config, seconds: u64) {
    let c = c.clone();
    std::thread::spawn(move || loop {
        if let Err(e) = run_once(&c, seconds) {
            log::error(c.database.as_deref(), "odoo.addons.base.models.ir_cron", &format!("cron job failed: {e}"));
        }
        std::thread::sleep(Duration::from_secs(1));
    });
}

fn run_once(c: &Config, seconds: u64) -> Result<(), String> {
    let database = c.database.as_deref();
    let mut client = db::connect(c, Duration::from_secs(5))?;
    client
        .batch_execute(&format!(
            "INSERT INTO ir_act_server (name, model_name) SELECT '{SLOW_JOB}', 'res.partner'
              WHERE NOT EXISTS (SELECT 1 FROM ir_act_server WHERE name = '{SLOW_JOB}');
             INSERT INTO ir_cron (cron_name, active, interval_number, interval_type, ir_actions_server_id)
             SELECT '{SLOW_JOB}', true, 1, 'minutes', (SELECT min(id) FROM ir_act_server WHERE name = '{SLOW_JOB}')
              WHERE NOT EXISTS (SELECT 1 FROM ir_cron WHERE cron_name = '{SLOW_JOB}')"
        ))
        .map_err(|e| e.to_string())?;
    let mut tx = client.transaction().map_err(|e| e.to_string())?;
    let job = tx
        .query_opt("SELECT id FROM ir_cron WHERE cron_name = $1 AND active FOR NO KEY UPDATE SKIP LOCKED", &[&SLOW_JOB])
        .map_err(|e| e.to_string())?;
    if job.is_none() {
        return Ok(());
    }
    log::info(database, "odoo.addons.base.models.ir_cron", &format!("Starting job `{SLOW_JOB}`."));
    tx.execute("SELECT pg_sleep($1)", &[&(seconds as f64)]).map_err(|e| e.to_string())?;
    tx.execute("UPDATE ir_cron SET nextcall = now() WHERE cron_name = $1", &[&SLOW_JOB]).map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    log::info(database, "odoo.addons.base.models.ir_cron", &format!("Job `{SLOW_JOB}` done."));
    Ok(())
}
