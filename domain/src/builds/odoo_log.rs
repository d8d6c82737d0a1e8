//! Odoo's server log format, parsed into level, database and logger so the
//! log tail can filter and colour it:
//! `2024-05-02 10:51:39,267 4 INFO mydb odoo.modules.loading: 42 modules loaded`.
//! Lines without that prefix (tracebacks) continue the previous record.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdooLogLine<'a> {
    pub timestamp: &'a str,
    pub pid: u32,
    pub level: &'a str,
    /// `None` when Odoo printed `?` (no database).
    pub database: Option<&'a str>,
    pub logger: &'a str,
    pub message: &'a str,
}

const LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

/// Parses one line; `None` for a continuation line (or anything else).
pub fn parse_line(line: &str) -> Option<OdooLogLine<'_>> {
    // "YYYY-MM-DD HH:MM:SS,mmm" is 23 bytes.
    let ts = line.get(..23)?;
    let b = ts.as_bytes();
    let shape_ok = b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b':' && b[16] == b':' && b[19] == b',';
    let digits_ok = b.iter().enumerate().all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit());
    if !shape_ok || !digits_ok {
        return None;
    }
    let rest = line.get(24..)?;
    let mut parts = rest.splitn(4, ' ');
    let pid = parts.next()?.parse().ok()?;
    let level = parts.next()?;
    if !LEVELS.contains(&level) {
        return None;
    }
    let db = parts.next()?;
    let (logger, message) = parts.next()?.split_once(": ")?;
    Some(OdooLogLine { timestamp: ts, pid, level, database: (db != "?").then_some(db), logger, message })
}

/// Our level names for Odoo's.
pub fn normalized_level(odoo_level: &str) -> &'static str {
    match odoo_level {
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARNING" => "warning",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_odoo_lines() {
        let l = parse_line("2024-05-02 10:51:39,267 4 INFO mydb odoo.modules.loading: 42 modules loaded").unwrap();
        assert_eq!(l.timestamp, "2024-05-02 10:51:39,267");
        assert_eq!((l.pid, l.level, l.database, l.logger), (4, "INFO", Some("mydb"), "odoo.modules.loading"));
        assert_eq!(l.message, "42 modules loaded");
        let l = parse_line("2024-05-02 10:51:39,267 12 WARNING ? odoo.service.server: a: b").unwrap();
        assert_eq!((l.database, l.message), (None, "a: b"));
    }

    #[test]
    fn continuation_and_garbage() {
        assert!(parse_line("Traceback (most recent call last):").is_none());
        assert!(parse_line("  File \"x.py\", line 1").is_none());
        assert!(parse_line("").is_none());
        assert!(parse_line("2024-05-02 10:51:39,267 4 LOUD db x: y").is_none());
        assert!(parse_line("2024-05-02 10:51:39,267 x INFO db x: y").is_none());
        assert!(parse_line("2024-05-02T10:51:39,267 4 INFO db x: y").is_none());
        assert!(parse_line("é€2024-05-02 10:51:39,26").is_none());
    }

    #[test]
    fn levels() {
        assert_eq!(normalized_level("CRITICAL"), "error");
        assert_eq!(normalized_level("WARNING"), "warning");
    }
}
