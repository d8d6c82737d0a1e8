//! The audit page's filters: what people type, as a filter and as the CSV link.

use chrono::{NaiveDate, TimeZone, Utc};
use domain::wire::AuditFilter;

fn day(s: &str, what: &str) -> Result<Option<NaiveDate>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| format!("{what}: write a date as YYYY-MM-DD"))
}

/// The filter for the typed fields; `to` includes its whole day; `project` is an id or empty.
pub fn filter(actor: &str, action: &str, project: &str, from: &str, to: &str) -> Result<AuditFilter, String> {
    let project = match project.trim() {
        "" => None,
        p => Some(p.parse::<uuid::Uuid>().map_err(|_| "project: not a project id".to_owned())?),
    };
    let since = day(from, "from")?.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| Utc.from_utc_datetime(&t));
    let until = day(to, "to")?
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t));
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(AuditFilter { actor: text(actor), action: text(action), project, tenant: None, since, until, limit: Some(500) })
}

/// `/api/v1/audit/export.csv?…` for the same filter.
pub fn csv_href(f: &AuditFilter) -> String {
    let enc = domain::wire::url_component;
    let mut q = Vec::new();
    if let Some(a) = &f.actor {
        q.push(format!("actor={}", enc(a)));
    }
    if let Some(a) = &f.action {
        q.push(format!("action={}", enc(a)));
    }
    if let Some(p) = f.project {
        q.push(format!("project={p}"));
    }
    if let Some(t) = f.since {
        q.push(format!("since={}", enc(&t.to_rfc3339())));
    }
    if let Some(t) = f.until {
        q.push(format!("until={}", enc(&t.to_rfc3339())));
    }
    if q.is_empty() {
        "/api/v1/audit/export.csv".into()
    } else {
        format!("/api/v1/audit/export.csv?{}", q.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_a_half_open_range() {
        let f = filter(" ann ", "backup.", "", "2026-11-01", "2026-11-30").unwrap();
        assert_eq!(f.actor.as_deref(), Some("ann"));
        assert_eq!(f.since.unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(f.until.unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert!(filter("", "", "", "30/11/2026", "").unwrap_err().contains("YYYY-MM-DD"));
        let href = csv_href(&f);
        assert!(
            href.starts_with(
                "/api/v1/audit/export.csv?actor=ann&action=backup.&since=2026-11-01T00%3A00%3A00%2B00%3A00"
            ),
            "{href}"
        );
        assert_eq!(csv_href(&filter("", "", "", "", "").unwrap()), "/api/v1/audit/export.csv");
        let p = uuid::Uuid::nil();
        assert!(csv_href(&filter("", "", &p.to_string(), "", "").unwrap()).ends_with(&format!("project={p}")));
        assert!(filter("", "", "acme", "", "").is_err());
    }
}
