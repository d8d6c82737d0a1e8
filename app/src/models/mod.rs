//! Presentation logic, kept out of components so plain unit tests reach it.

use chrono::{DateTime, Utc};
use domain::types::{Allowed, BuildResult, BuildState, Capability, Stage};

pub mod audit;
pub mod backup;
pub mod branch;
pub mod capacity;
pub mod catalog;
pub mod chart;
pub mod instance;
pub mod integrations;
pub mod kit;
pub mod log;
pub mod mail;
pub mod promotion;
pub mod table;
pub mod terminal;
pub mod wizard;

pub use log::{csv_field, events_csv, filter_events, level_class, phase_timeline, sources, PhaseRow};

/// Whether the signed-in person administers the platform (owner or operator): the staff-only parts of a page.
pub fn is_platform_staff(me: Option<&domain::wire::Me>) -> bool {
    me.and_then(|m| m.platform_role.as_deref())
        .and_then(|r| domain::types::PlatformRole::parse(r).ok())
        .is_some_and(domain::types::PlatformRole::administers_platform)
}

/// What the header says one acts as: the platform console with one's platform role, or a tenant's console.
pub fn acting_as(platform_role: Option<&str>) -> &'static str {
    match platform_role {
        Some("platform_owner") => "Platform console · owner",
        Some("platform_operator") => "Platform console · operator",
        Some("auditor") => "Platform console · auditor (read-only)",
        Some("finance_owner") => "Platform console · finance",
        _ => "Tenant console",
    }
}

/// The frame of a shell: production red, staging yellow, development neutral (as on Odoo.sh).
pub fn shell_frame_class(stage: Stage) -> &'static str {
    match stage {
        Stage::Production => "term-frame term-production",
        Stage::Staging => "term-frame term-staging",
        Stage::Development => "term-frame term-development",
    }
}

/// The warning above a shell, when its stage deserves one.
pub fn shell_banner(stage: Stage) -> Option<&'static str> {
    match stage {
        Stage::Production => {
            Some("PRODUCTION — this shell runs in the live production container. Every keystroke is recorded.")
        }
        Stage::Staging => Some("Staging — a neutralized copy of production data. Every keystroke is recorded."),
        Stage::Development => None,
    }
}

/// Whether to offer a Mails link: development and staging only (production's
/// mail is sent, never caught), for those the server lets read it.
pub fn may_read_mails(allowed: &Allowed, stage: Stage) -> bool {
    stage != Stage::Production && allowed.can(stage, Capability::Mails)
}

/// Bytes as a person reads them (`1.5 KiB`).
pub fn human_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / 1024.0 / 1024.0)
    }
}

/// Where to go after signing in: only a plain path of this site, never
/// another one. Browsers strip tabs and newlines from URLs and read `\` as
/// `/`, so `/\t/evil.example` or `/\\evil.example` would become
/// `//evil.example`; percent-escapes are decoded before checking, since a
/// `Location` may be decoded on the way. Anything doubtful goes to `/projects`.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/projects";
    let Some(n) = next else { return HOME.to_owned() };
    let plain = |c: char| c.is_ascii_alphanumeric() || "/_-.~?=&%+,:@!$*'()".contains(c);
    if !n.starts_with('/') || n.len() > 2048 || !n.chars().all(plain) {
        return HOME.to_owned();
    }
    let decoded = percent_decode(n);
    let doubtful = |s: &str| {
        s.starts_with("//") || s.bytes().any(|b| b.is_ascii_control() || b == b'\\' || b >= 0x80) || s.contains("://")
    };
    if doubtful(n) || doubtful(&decoded) || doubtful(&percent_decode(&decoded)) {
        return HOME.to_owned();
    }
    n.to_owned()
}

/// `%XX` escapes decoded to bytes (lossy UTF-8); malformed escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// CSS class for a stage badge.
pub fn stage_class(stage: Stage) -> &'static str {
    match stage {
        Stage::Production => "badge badge-prod",
        Stage::Staging => "badge badge-staging",
        Stage::Development => "badge badge-dev",
    }
}

/// Human label for a project, tenant or platform role.
/// What an environment the platform keeps for the production branch is for
/// (`main~candidate`, `main~upgrade`: no git branch has `~`); none for a branch's own.
pub fn platform_environment(branch: &str) -> Option<&'static str> {
    match branch.rsplit_once('~') {
        Some((_, "candidate")) => Some("production's candidates, waiting for approval"),
        Some((_, "upgrade")) => Some("upgrade previews"),
        _ => None,
    }
}

pub fn role_label(role: &str) -> &'static str {
    match role {
        "admin" => "Admin",
        "developer" => "Developer",
        "tester" => "Tester",
        "release_manager" => "Release manager",
        "tenant_admin" => "Tenant admin",
        "member" => "Member",
        "platform_owner" => "Platform owner",
        "platform_operator" => "Platform operator",
        "auditor" => "Auditor",
        _ => "—",
    }
}

/// Words separated by commas, spaces or new lines, trimmed and lower-cased (an allow-list typed in a form).
pub fn word_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// A build tile's tooltip: commit, author, the reason of its result, its preflight summary.
pub fn tile_title(b: &domain::wire::BuildView) -> String {
    let mut t = format!("{} by {}", b.subject, b.author);
    if let Some(r) = &b.reason {
        t.push_str(&format!(" ({r})"));
    }
    let gates = domain::types::preflight_summary(&b.preflight);
    if !gates.is_empty() {
        t.push_str(&format!("\n{gates}"));
    }
    t
}

/// CSS class of a build tile, by Runbot's colours: ok green, warn yellow,
/// ko red, running blue, pending and killed grey.
pub fn tile_class(state: BuildState, result: Option<BuildResult>) -> &'static str {
    match (state, result) {
        (BuildState::Done, Some(BuildResult::Ok)) => "tile tile-ok",
        (BuildState::Done, Some(BuildResult::Warn)) => "tile tile-warn",
        (BuildState::Done, Some(BuildResult::Ko)) => "tile tile-ko",
        (BuildState::Done, _) => "tile tile-killed",
        (BuildState::Running, _) => "tile tile-running",
        (BuildState::Pending, _) => "tile tile-pending",
    }
}

/// A build's status in words.
pub fn build_status(state: BuildState, result: Option<BuildResult>) -> &'static str {
    match (state, result) {
        (BuildState::Done, Some(r)) => r.as_str(),
        (s, _) => s.as_str(),
    }
}

/// How many pages `total` rows make at `per_page` a page (at least one).
pub fn page_count(total: u32, per_page: u32) -> usize {
    (total.div_ceil(per_page.max(1)) as usize).max(1)
}

/// Which branches a grid page shows, e.g. "branches 21–40 of 57" (empty
/// when they all fit on one page).
pub fn grid_range_text(page: &domain::wire::GridPage) -> String {
    if page.total <= page.per_page {
        return String::new();
    }
    let first = (page.page - 1) * page.per_page + 1;
    let last = first + page.branches.len() as u32 - 1;
    if page.branches.is_empty() {
        return format!("no branches on this page ({} in all)", page.total);
    }
    format!("branches {first}–{last} of {}", page.total)
}

/// A section's heading.
pub fn section_title(stage: Stage) -> &'static str {
    match stage {
        Stage::Production => "Production",
        Stage::Staging => "Staging",
        Stage::Development => "Development",
    }
}

/// A compact absolute UTC time; relative times would differ between the
/// server render and hydration.
pub fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// How long ago something was, `secs` seconds before now (negative: still to come).
pub fn relative_text(secs: i64) -> String {
    let (n, future) = (secs.unsigned_abs(), secs < 0);
    let amount = match n {
        0..45 => return "just now".into(),
        45..3600 => format!("{} min", (n + 30) / 60),
        3600..86_400 => format!("{} h", (n + 1800) / 3600),
        _ => format!("{} d", (n + 43_200) / 86_400),
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A duration as people read it: `42 s`, `3 min 05 s`, `2 h 04 min`.
pub fn duration_text(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, secs % 3600 / 60),
    }
}

/// The URL of a project's page.
pub fn project_href(tenant: &str, project: &str) -> String {
    format!("/projects/{tenant}/{project}")
}

/// The default stage rules shown in the create-project form.
pub const DEFAULT_STAGE_RULES: &str = "main=production, release/*=staging";

/// The minutes a runtime-log range reaches back (`15m`, `1h`, `24h`, `7d`; anything else: all that is kept).
pub fn runtime_log_since(range: &str) -> Option<i64> {
    match range {
        "15m" => Some(15),
        "1h" => Some(60),
        "24h" => Some(1440),
        "7d" => Some(7 * 1440),
        _ => None,
    }
}

/// Now, on the server or in the browser (chrono's own clock panics in WASM).
pub fn now() -> DateTime<Utc> {
    #[cfg(target_arch = "wasm32")]
    {
        DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_times_read_as_people_say_them() {
        use super::relative_text as r;
        assert_eq!(r(10), "just now");
        assert_eq!(r(-10), "just now");
        assert_eq!(r(90), "2 min ago");
        assert_eq!(r(3 * 3600), "3 h ago");
        assert_eq!(r(-2 * 86_400), "in 2 d");
    }

    #[test]
    fn platform_environments_say_what_they_are() {
        assert!(super::platform_environment("main~candidate").unwrap().contains("candidates"));
        assert_eq!(super::platform_environment("main~upgrade"), Some("upgrade previews"));
        assert_eq!(super::platform_environment("feature/x"), None);
    }

    #[test]
    fn word_lists_split_on_commas_and_spaces() {
        assert_eq!(super::word_list(" pg_trgm, Unaccent\nvector,,"), ["pg_trgm", "unaccent", "vector"]);
    }

    use super::*;

    #[test]
    fn shells_and_mails_follow_what_the_server_allowed() {
        use domain::types::ProjectRole;
        let dev = Allowed::of_role(ProjectRole::Developer);
        let tester = Allowed::of_role(ProjectRole::Tester);
        let everything = Allowed::from_fn(|_, _| true);
        assert_eq!(shell_frame_class(Stage::Production), "term-frame term-production");
        assert!(shell_banner(Stage::Production).unwrap().starts_with("PRODUCTION"));
        assert_eq!(shell_banner(Stage::Development), None);
        assert_eq!(human_bytes(512), "512 B");
        assert!(may_read_mails(&dev, Stage::Development) && !may_read_mails(&dev, Stage::Staging));
        assert!(may_read_mails(&tester, Stage::Staging));
        assert!(!may_read_mails(&everything, Stage::Production), "production's mail is never caught");
        assert!(!may_read_mails(&Allowed::default(), Stage::Development));
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/projects/a/b")), "/projects/a/b");
        assert_eq!(safe_next(Some("//evil.example")), "/projects");
        assert_eq!(safe_next(Some("https://evil.example")), "/projects");
        assert_eq!(safe_next(Some("/\\evil")), "/projects");
        assert_eq!(safe_next(None), "/projects");
        for evil in [
            "/%09/evil",
            "/\t/evil",
            "//evil",
            "/\\evil",
            "/%5C/evil",
            "/%2F/evil",
            "/%252F/evil",
            "/\n/evil",
            "/%0d%0a/evil",
            " /evil",
            "/a b",
            "/javascript://x",
            "/\u{00e9}",
        ] {
            assert_eq!(safe_next(Some(evil)), "/projects", "{evil:?}");
        }
        assert_eq!(safe_next(Some("/builds/5f0c?tab=logs&x=1")), "/builds/5f0c?tab=logs&x=1");
        assert_eq!(safe_next(Some("/projects/acme/erp%20x")), "/projects/acme/erp%20x");
    }

    #[test]
    fn labels_and_classes() {
        assert_eq!(stage_class(Stage::Production), "badge badge-prod");
        assert_eq!(stage_class(Stage::Development), "badge badge-dev");
        assert_eq!(role_label("tenant_admin"), "Tenant admin");
        assert_eq!(role_label("??"), "—");
        assert_eq!(project_href("acme", "erp"), "/projects/acme/erp");
    }

    #[test]
    fn tiles_follow_runbot_colours() {
        use BuildState::*;
        assert_eq!(tile_class(Done, Some(BuildResult::Ok)), "tile tile-ok");
        assert_eq!(tile_class(Done, Some(BuildResult::Ko)), "tile tile-ko");
        assert_eq!(tile_class(Done, Some(BuildResult::Killed)), "tile tile-killed");
        assert_eq!(tile_class(Running, None), "tile tile-running");
        assert_eq!(tile_class(Pending, None), "tile tile-pending");
        assert_eq!(build_status(Done, Some(BuildResult::Warn)), "warn");
        assert_eq!(build_status(Running, None), "running");
    }

    #[test]
    fn grid_pages_say_which_branches_they_show() {
        use domain::wire::{EnvironmentView, GridBranch, GridPage};
        let branch = |n: u128| GridBranch {
            environment: EnvironmentView {
                id: uuid::Uuid::from_u128(n),
                branch: format!("b{n}"),
                stage: Stage::Development,
                created_at: Utc::now(),
                address: None,
            },
            builds: Vec::new(),
        };
        let page = |page: u32, shown: u128, total: u32| GridPage {
            branches: (0..shown).map(branch).collect(),
            page,
            per_page: 20,
            total,
        };
        assert_eq!(grid_range_text(&page(1, 5, 5)), "", "one page needs no range");
        assert_eq!(grid_range_text(&page(2, 20, 57)), "branches 21–40 of 57");
        assert_eq!(grid_range_text(&page(3, 17, 57)), "branches 41–57 of 57");
        assert_eq!(grid_range_text(&page(9, 0, 57)), "no branches on this page (57 in all)");
        assert_eq!((page_count(0, 20), page_count(20, 20), page_count(57, 20)), (1, 1, 3));
    }

    fn ev(id: i64, level: &str, source: &str, message: &str, meta: serde_json::Value) -> domain::wire::RunEventView {
        use chrono::TimeZone;
        domain::wire::RunEventView {
            id,
            level: level.into(),
            source: source.into(),
            message: message.into(),
            meta,
            created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn log_filters_and_csv() {
        let events = vec![
            ev(1, "info", "install", "Loading module sale", serde_json::json!({})),
            ev(2, "warning", "install", "deprecated, \"view\"", serde_json::json!({})),
            ev(3, "error", "odoo", "FAIL: test_x", serde_json::json!({})),
        ];
        assert_eq!(filter_events(&events, "", "", "").len(), 3);
        assert_eq!(filter_events(&events, "warning", "", "").len(), 2);
        assert_eq!(filter_events(&events, "", "install", "").len(), 2);
        assert_eq!(filter_events(&events, "", "", "fail").len(), 1);
        assert_eq!(sources(&events), ["install", "odoo"]);
        let csv = events_csv(&filter_events(&events, "warning", "install", ""));
        assert_eq!(
            csv,
            "time,level,source,message\r\n2023-11-14T22:13:20+00:00,warning,install,\"deprecated, \"\"view\"\"\"\r\n"
        );
        assert_eq!(level_class("error"), "log-error");
    }

    #[test]
    fn csv_cells_are_never_formulas() {
        assert_eq!(csv_field("=HYPERLINK(\"http://evil\")"), "\"'=HYPERLINK(\"\"http://evil\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-2+3"), "'-2+3");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field("plain, text"), "\"plain, text\"");
        let events = vec![ev(1, "error", "odoo", "=cmd|' /C calc'!A0", serde_json::json!({}))];
        let csv = events_csv(&filter_events(&events, "", "", ""));
        assert!(csv.ends_with(",error,odoo,'=cmd|' /C calc'!A0\r\n"), "{csv}");
    }

    #[test]
    fn phase_timeline_marks_unfinished_phases_failed() {
        let p = |phase: &str, status: &str, ms: Option<u64>| {
            ev(0, "info", phase, "", serde_json::json!({"phase": phase, "status": status, "duration_ms": ms}))
        };
        let events =
            vec![p("checkout", "started", None), p("checkout", "done", Some(120)), p("image", "started", None)];
        let rows = phase_timeline(&events, true);
        assert_eq!(rows[0], PhaseRow { phase: "checkout".into(), status: "done".into(), duration_ms: Some(120) });
        assert_eq!(rows[1].status, "failed");
        assert_eq!(phase_timeline(&events, false)[1].status, "started");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(-3), "0 s");
        assert_eq!(duration_text(42), "42 s");
        assert_eq!(duration_text(185), "3 min 05 s");
        assert_eq!(duration_text(7440), "2 h 04 min");
    }

    #[test]
    fn default_rules_parse() {
        assert!(domain::types::StageRules::parse_text(DEFAULT_STAGE_RULES).is_ok());
    }
}
