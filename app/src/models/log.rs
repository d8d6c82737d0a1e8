//! A build's log as the build page shows it: line classes by level, the
//! level / source / text filters, the CSV export and the phase timeline read
//! from the phase boundary events.

/// CSS class of a log line by level.
pub fn level_class(level: &str) -> &'static str {
    match level {
        "error" => "log-error",
        "warning" => "log-warning",
        "debug" => "log-debug",
        _ => "log-info",
    }
}

/// Events matching the filters: level (`""` = all, else at least that severity),
/// source (`""` = all), and a case-insensitive text search.
pub fn filter_events<'a>(
    events: &'a [domain::wire::RunEventView],
    min_level: &str,
    source: &str,
    query: &str,
) -> Vec<&'a domain::wire::RunEventView> {
    let rank = |l: &str| match l {
        "debug" => 0,
        "info" => 1,
        "warning" => 2,
        "error" => 3,
        _ => 1,
    };
    let min = if min_level.is_empty() { 0 } else { rank(min_level) };
    let q = query.to_lowercase();
    events
        .iter()
        .filter(|e| rank(&e.level) >= min)
        .filter(|e| source.is_empty() || e.source == source)
        .filter(|e| q.is_empty() || e.message.to_lowercase().contains(&q))
        .collect()
}

/// Sources present in the events, in first-seen order (for the filter menu).
pub fn sources(events: &[domain::wire::RunEventView]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if !out.contains(&e.source) {
            out.push(e.source.clone());
        }
    }
    out
}

/// One CSV field: quoted when needed (RFC 4180), and never a formula. Log
/// lines come from containers, and a spreadsheet runs a cell starting with
/// `=`, `+`, `-`, `@`, tab or carriage return as a formula (`=HYPERLINK(…)`,
/// DDE); such a field gets a leading `'`, as OWASP recommends.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// RFC 4180 CSV of events: time, level, source, message.
pub fn events_csv(events: &[&domain::wire::RunEventView]) -> String {
    let mut out = String::from("time,level,source,message\r\n");
    for e in events {
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            e.created_at.to_rfc3339(),
            e.level,
            csv_field(&e.source),
            csv_field(&e.message)
        ));
    }
    out
}

/// One row of a build's phase timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRow {
    pub phase: String,
    /// started, done, or failed (started and the build ended without it finishing).
    pub status: String,
    pub duration_ms: Option<u64>,
}

/// The phase timeline from the phase boundary events.
pub fn phase_timeline(events: &[domain::wire::RunEventView], build_finished: bool) -> Vec<PhaseRow> {
    let mut rows: Vec<PhaseRow> = Vec::new();
    for e in events {
        let (Some(phase), Some(status)) = (e.meta["phase"].as_str(), e.meta["status"].as_str()) else { continue };
        match rows.iter_mut().find(|r| r.phase == phase) {
            Some(r) => {
                r.status = status.to_owned();
                r.duration_ms = e.meta["duration_ms"].as_u64();
            }
            None => rows.push(PhaseRow {
                phase: phase.to_owned(),
                status: status.to_owned(),
                duration_ms: e.meta["duration_ms"].as_u64(),
            }),
        }
    }
    if build_finished {
        for r in rows.iter_mut().filter(|r| r.status == "started") {
            r.status = "failed".into();
        }
    }
    rows
}
