//! The integrations pages' presentation rules: dashboards typed one per
//! line, how a delivery's outcome reads, and which tenants a person may
//! subscribe or link for.

use domain::wire::{DashboardLink, DeliveryView, Me};

/// `Name https://…` lines as links (the URL is the last word; blank lines skipped).
/// The server checks each URL; this only splits.
pub fn dashboard_lines(text: &str) -> Vec<DashboardLink> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.rsplit_once(char::is_whitespace) {
            Some((name, url)) => DashboardLink { name: name.trim().to_owned(), url: url.to_owned() },
            None => DashboardLink { name: String::new(), url: l.to_owned() },
        })
        .collect()
}

/// Links back into the textarea's form.
pub fn dashboard_text(links: &[DashboardLink]) -> String {
    links.iter().map(|d| format!("{} {}", d.name, d.url)).collect::<Vec<_>>().join("\n")
}

/// What happened to a delivery, in a few words.
pub fn delivery_outcome(d: &DeliveryView) -> String {
    match (d.state.as_str(), d.last_status, d.last_error.as_deref()) {
        ("delivered", Some(s), _) => format!("{s} in {} ms", d.duration_ms.unwrap_or_default()),
        (_, _, Some(e)) => e.to_owned(),
        ("pending", ..) => "not sent yet".into(),
        ("sending", ..) => "sending".into(),
        (s, ..) => s.to_owned(),
    }
}

/// The CSS badge of a delivery state.
pub fn delivery_badge(state: &str) -> &'static str {
    match state {
        "delivered" => "badge badge-ok",
        "gave_up" => "badge badge-ko",
        "failed" => "badge badge-warn",
        _ => "badge",
    }
}

/// The tenants whose automation and links this person manages: all they see
/// for platform staff (given as `all`), else those they administer.
pub fn managed_tenants(me: Option<&Me>, all: &[(String, String)]) -> Vec<(String, String)> {
    if crate::models::is_platform_staff(me) {
        return all.to_vec();
    }
    me.map(|m| {
        m.tenants
            .iter()
            .filter(|t| t.role.as_deref() == Some("tenant_admin"))
            .map(|t| (t.slug.clone(), t.name.clone()))
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboards_are_one_per_line_url_last() {
        let links = dashboard_lines("Sales board https://metabase.acme.example/d/1\n\n  https://x.example/y \n");
        assert_eq!(
            links[0],
            DashboardLink { name: "Sales board".into(), url: "https://metabase.acme.example/d/1".into() }
        );
        assert_eq!(links[1], DashboardLink { name: String::new(), url: "https://x.example/y".into() });
        assert_eq!(dashboard_lines(&dashboard_text(&links[..1])), links[..1].to_vec());
    }

    #[test]
    fn outcomes_read_as_sentences() {
        let d = DeliveryView {
            id: uuid::Uuid::nil(),
            webhook_id: uuid::Uuid::nil(),
            tenant_slug: "acme".into(),
            url: "https://h.example/".into(),
            event: "ping".into(),
            state: "delivered".into(),
            attempts: 1,
            last_status: Some(204),
            last_error: None,
            duration_ms: Some(12),
            created_at: chrono::Utc::now(),
            next_attempt_at: None,
            delivered_at: None,
            payload: serde_json::json!({}),
        };
        assert_eq!(delivery_outcome(&d), "204 in 12 ms");
        let failed = DeliveryView {
            state: "failed".into(),
            last_status: Some(500),
            last_error: Some("answered 500".into()),
            ..d
        };
        assert_eq!(delivery_outcome(&failed), "answered 500");
        assert_eq!(delivery_badge("gave_up"), "badge badge-ko");
    }
}
