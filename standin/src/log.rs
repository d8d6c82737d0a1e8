//! Odoo's log line format on stderr:
//! `2024-05-02 10:51:39,267 4 INFO mydb odoo.modules.loading: 42 modules loaded`.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DD HH:MM:SS,mmm` in UTC, without a date library.
pub fn timestamp(since_epoch_ms: u128) -> String {
    let ms = (since_epoch_ms % 1000) as u32;
    let secs = (since_epoch_ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{ms:03}", rem / 3600, rem % 3600 / 60, rem % 60)
}

pub fn line(level: &str, db: Option<&str>, logger: &str, message: &str) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let text = format!("{} {} {level} {} {logger}: {message}\n", timestamp(now), std::process::id(), db.unwrap_or("?"));
    let _ = std::io::stderr().write_all(text.as_bytes());
}

pub fn info(db: Option<&str>, logger: &str, message: &str) {
    line("INFO", db, logger, message);
}

pub fn warning(db: Option<&str>, logger: &str, message: &str) {
    line("WARNING", db, logger, message);
}

pub fn error(db: Option<&str>, logger: &str, message: &str) {
    line("ERROR", db, logger, message);
}

pub fn critical(db: Option<&str>, logger: &str, message: &str) {
    line("CRITICAL", db, logger, message);
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps() {
        assert_eq!(super::timestamp(0), "1970-01-01 00:00:00,000");
        assert_eq!(super::timestamp(1_714_647_099_267), "2024-05-02 10:51:39,267");
        assert_eq!(super::timestamp(951_782_400_000), "2000-02-29 00:00:00,000");
    }
}
