//! The upgrade advisor's report: what a preview of production on the target
//! series found (module by module, the custom modules with no target version,
//! the migration's duration, the database's size and key tables' rows before
//! and after, the log's errors and warnings, failed tests), its risk, and the
//! standalone HTML file people download. Shared by the server (which fills
//! it) and the browser (which shows it).

use super::{OdooVersion, ParseError};
use serde::{Deserialize, Serialize};

/// The series a project may upgrade to from `current`: the supported ones above it, nearest first.
pub fn upgrade_targets(current: &str) -> Vec<&'static str> {
    let major = |v: &str| v.split('.').next().and_then(|m| m.parse::<u32>().ok()).unwrap_or(0);
    let mut v: Vec<&'static str> =
        OdooVersion::SUPPORTED.iter().copied().filter(|t| major(t) > major(current)).collect();
    v.sort_by_key(|t| major(t));
    v
}

/// A target series the project may upgrade to.
pub fn parse_target(current: &str, target: &str) -> Result<OdooVersion, ParseError> {
    let t = OdooVersion::parse(target)?;
    if !upgrade_targets(current).contains(&t.as_str()) {
        return Err(ParseError::new("target series", format!("must be a supported series above {current}")));
    }
    Ok(t)
}

/// One installed module, before and after the migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ModuleRow {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// A module of the project's repository (not Odoo's or the image's).
    pub custom: bool,
}

/// A key table's rows before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RowCount {
    pub table: String,
    pub before: i64,
    pub after: Option<i64>,
}

/// How risky the upgrade looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum Risk {
    Low,
    Medium,
    Blocked,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::Blocked => "blocked",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UpgradeReport {
    pub source_series: String,
    pub target_series: String,
    pub target_branch: String,
    #[serde(default)]
    pub modules: Vec<ModuleRow>,
    /// Custom modules production has installed that the target branch does not carry.
    #[serde(default)]
    pub missing: Vec<String>,
    #[serde(default)]
    pub duration_ms: Option<i64>,
    #[serde(default)]
    pub size_before: Option<i64>,
    #[serde(default)]
    pub size_after: Option<i64>,
    #[serde(default)]
    pub rows: Vec<RowCount>,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub failed_tests: Vec<String>,
    /// Why the preview failed, when it did.
    #[serde(default)]
    pub failure: Option<String>,
}

impl UpgradeReport {
    /// What blocks the upgrade: a failed migration, errors, failed tests, missing modules.
    pub fn blockers(&self) -> Vec<String> {
        let mut b = Vec::new();
        if let Some(f) = &self.failure {
            b.push(format!("the migration failed: {f}"));
        }
        if !self.missing.is_empty() {
            b.push(format!("no {} version of: {}", self.target_series, self.missing.join(", ")));
        }
        if !self.failed_tests.is_empty() {
            b.push(format!("{} failed test(s)", self.failed_tests.len()));
        }
        if self.failure.is_none() && !self.errors.is_empty() {
            b.push(format!("{} error(s) in the log", self.errors.len()));
        }
        b
    }

    /// What deserves a look: log warnings, tables that lost rows, a database that grew by half.
    pub fn concerns(&self) -> Vec<String> {
        let mut c = Vec::new();
        if !self.warnings.is_empty() {
            c.push(format!("{} warning(s) in the log", self.warnings.len()));
        }
        for r in &self.rows {
            if let Some(after) = r.after.filter(|a| *a < r.before) {
                c.push(format!("{} lost rows: {} → {after}", r.table, r.before));
            }
        }
        if let (Some(b), Some(a)) = (self.size_before, self.size_after) {
            if b > 0 && a > b + b / 2 {
                c.push(format!("the database grew from {} to {}", megabytes(b), megabytes(a)));
            }
        }
        c
    }

    pub fn risk(&self) -> Risk {
        if !self.blockers().is_empty() {
            Risk::Blocked
        } else if !self.concerns().is_empty() {
            Risk::Medium
        } else {
            Risk::Low
        }
    }

    /// A standalone HTML page (no scripts, no outside resources); every value escaped.
    pub fn to_html(&self, project: &str) -> String {
        let e = escape;
        let mut h = String::new();
        h.push_str("<!doctype html><html><head><meta charset=\"utf-8\">");
        h.push_str(&format!(
            "<title>Upgrade report: {} {} → {}</title>",
            e(project),
            e(&self.source_series),
            e(&self.target_series)
        ));
        h.push_str("<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}td,th{padding:.2em .6em;text-align:left}.blocked{color:#b00}.medium{color:#a60}.low{color:#070}</style></head><body>");
        h.push_str(&format!(
            "<h1>Upgrade report: {} from {} to {}</h1>",
            e(project),
            e(&self.source_series),
            e(&self.target_series)
        ));
        let risk = self.risk();
        h.push_str(&format!(
            "<p>Risk: <strong class=\"{0}\">{0}</strong>. Target branch <code>{1}</code>.</p>",
            risk.as_str(),
            e(&self.target_branch)
        ));
        let list = |title: &str, items: &[String]| -> String {
            if items.is_empty() {
                return String::new();
            }
            let li: String = items.iter().map(|i| format!("<li>{}</li>", e(i))).collect();
            format!("<h2>{title}</h2><ul>{li}</ul>")
        };
        h.push_str(&list("Blockers", &self.blockers()));
        h.push_str(&list("Concerns", &self.concerns()));
        h.push_str("<h2>Figures</h2><table>");
        let opt = |v: Option<i64>, f: fn(i64) -> String| v.map(f).unwrap_or_else(|| "—".into());
        h.push_str(&format!("<tr><th>Migration</th><td>{}</td></tr>", opt(self.duration_ms, seconds)));
        h.push_str(&format!(
            "<tr><th>Database size</th><td>{} → {}</td></tr></table>",
            opt(self.size_before, megabytes),
            opt(self.size_after, megabytes)
        ));
        if !self.rows.is_empty() {
            h.push_str("<h2>Rows of key tables</h2><table><tr><th>Table</th><th>Before</th><th>After</th></tr>");
            for r in &self.rows {
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    e(&r.table),
                    r.before,
                    r.after.map(|a| a.to_string()).unwrap_or_else(|| "—".into())
                ));
            }
            h.push_str("</table>");
        }
        h.push_str("<h2>Modules</h2><table><tr><th>Module</th><th>Before</th><th>After</th><th></th></tr>");
        for m in &self.modules {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(&m.name),
                e(m.before.as_deref().unwrap_or("—")),
                e(m.after.as_deref().unwrap_or("—")),
                if m.custom { "custom" } else { "" }
            ));
        }
        h.push_str("</table>");
        h.push_str(&list("Failed tests", &self.failed_tests));
        h.push_str(&list("Errors", &self.errors));
        h.push_str(&list("Warnings", &self.warnings));
        h.push_str("</body></html>\n");
        h
    }
}

fn megabytes(b: i64) -> String {
    format!("{:.1} MB", b as f64 / 1_048_576.0)
}

fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> UpgradeReport {
        UpgradeReport {
            source_series: "17.0".into(),
            target_series: "18.0".into(),
            target_branch: "18.0".into(),
            modules: vec![ModuleRow {
                name: "acme_sale".into(),
                before: Some("17.0.1.0".into()),
                after: Some("18.0.1.0".into()),
                custom: true,
            }],
            rows: vec![RowCount { table: "res_users".into(), before: 3, after: Some(3) }],
            size_before: Some(10 << 20),
            size_after: Some(11 << 20),
            duration_ms: Some(1500),
            ..Default::default()
        }
    }

    #[test]
    fn targets_are_the_supported_series_above() {
        assert_eq!(upgrade_targets("17.0"), ["18.0", "19.0"]);
        assert!(upgrade_targets("19.0").is_empty());
        assert!(parse_target("17.0", "18.0").is_ok());
        assert!(parse_target("17.0", "16.0").is_err(), "never down");
        assert!(parse_target("17.0", "17.0").is_err());
        assert!(parse_target("17.0", "20.0").is_err());
    }

    #[test]
    fn risk_follows_blockers_and_concerns() {
        let mut r = report();
        assert_eq!(r.risk(), Risk::Low);
        r.rows[0].after = Some(2);
        assert_eq!(r.risk(), Risk::Medium, "{:?}", r.concerns());
        r.missing = vec!["acme_legacy".into()];
        assert_eq!(r.risk(), Risk::Blocked);
        assert!(r.blockers()[0].contains("no 18.0 version of: acme_legacy"));
        let mut r = report();
        r.failure = Some("Odoo exited with code 1".into());
        assert_eq!(r.risk(), Risk::Blocked);
    }

    #[test]
    fn the_html_file_escapes_what_tenants_wrote() {
        let mut r = report();
        r.errors = vec!["<script>alert(1)</script>".into()];
        r.target_branch = "\"><img src=x>".into();
        let html = r.to_html("Acme & Co");
        assert!(html.contains("Acme &amp; Co") && html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>") && !html.contains("<img"));
        assert!(html.contains("Risk: <strong class=\"blocked\">blocked</strong>"));
    }
}
