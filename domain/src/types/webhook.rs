//! Outbound webhooks' rules, shared by the browser and the server: which
//! events a tenant may subscribe to, what a subscription's URL may be (an
//! `https://` URL on a host name — never an address, never credentials), and
//! how a delivery is signed (the Standard Webhooks scheme, so receivers can
//! use its libraries: `webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, secrets `whsec_<base64>`).
//!
//! Whether the host resolves to a public address is decided at each delivery
//! (names can be repointed); this is only what can be known from the text.

use super::CustomDomain;

/// The events a subscription may ask for, with what they mean.
pub const WEBHOOK_EVENTS: [(&str, &str); 5] = [
    ("instance.created", "an instance was created"),
    ("instance.state_changed", "an instance changed state (provisioning, active, paused, error, …)"),
    ("operation.queued", "an operation on an instance was asked for"),
    ("operation.succeeded", "an operation finished"),
    ("operation.failed", "an operation failed"),
];

/// The test event the console sends when asked (not subscribable).
pub const PING_EVENT: &str = "ping";

/// How many times a delivery is tried before the console gives up.
pub const WEBHOOK_MAX_ATTEMPTS: i32 = 7;

/// The wait after failed try number `attempt` (1-based): 30 s, 2 min, 8 min,
/// 32 min, about 2 h, then 8.5 h.
pub fn webhook_backoff_secs(attempt: i32) -> i64 {
    30 * 4i64.pow(attempt.clamp(1, 6) as u32 - 1)
}

/// A subscription's URL: `https://host[:port]/path[?query]`.
pub fn webhook_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() > 2000 {
        return Err("a URL of at most 2,000 characters".into());
    }
    let rest = s.strip_prefix("https://").ok_or("the URL starts with https:// (deliveries are encrypted)")?;
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL has no spaces".into());
    }
    if s.contains('#') {
        return Err("the URL has no #fragment".into());
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("the URL carries no user name or password (the signature authenticates)".into());
    }
    if authority.starts_with('[') {
        return Err("the URL names a host, not an address".into());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port {
        if p.parse::<u16>().ok().filter(|p| *p > 0).is_none() {
            return Err(format!("`{p}` is not a port"));
        }
    }
    if !host.is_empty() && host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err("the URL names a host, not an address".into());
    }
    CustomDomain::parse(host).map_err(|e| format!("the URL's host: {}", e.reason))?;
    Ok(s.to_owned())
}

/// A dashboard link people open from the console (never fetched by it):
/// `http(s)://` only, so no `javascript:` reaches an `href`.
pub fn dashboard_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        _ if s.len() > 2000 => Err("a URL of at most 2,000 characters".into()),
        Some(r) if !r.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) => Ok(s.to_owned()),
        _ => Err("an http:// or https:// URL without spaces".into()),
    }
}

/// The events asked for: known ones, at least one, each once, in the list's order.
pub fn webhook_events(asked: &[String]) -> Result<Vec<String>, String> {
    let asked: Vec<&str> = asked.iter().map(|e| e.trim()).filter(|e| !e.is_empty()).collect();
    if let Some(unknown) = asked.iter().find(|e| !WEBHOOK_EVENTS.iter().any(|(k, _)| k == *e)) {
        return Err(format!("`{unknown}` is not an event"));
    }
    let events: Vec<String> =
        WEBHOOK_EVENTS.iter().filter(|(k, _)| asked.contains(k)).map(|(k, _)| (*k).to_owned()).collect();
    if events.is_empty() {
        return Err("choose at least one event".into());
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_on_a_host_name_without_credentials() {
        assert_eq!(
            webhook_url(" https://n8n.acme.example/webhook/3f2a?x=1 ").as_deref(),
            Ok("https://n8n.acme.example/webhook/3f2a?x=1")
        );
        assert!(webhook_url("https://hooks.acme.example:8443/in").is_ok());
        for bad in [
            "http://n8n.acme.example/webhook",
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://user:pw@n8n.acme.example/",
            "https://n8n.acme.example:99999/",
            "https://n8n.acme.example/#x",
            "https://n8n acme/",
            "https://localhost/hook",
            "ftp://x.example/",
            "https://",
        ] {
            assert!(webhook_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dashboard_links_are_web_urls() {
        assert!(dashboard_url("https://metabase.acme.example/d/4").is_ok());
        assert!(dashboard_url("http://10.0.0.5:3000/d/4").is_ok());
        for bad in ["javascript:alert(1)", "https://", "data:text/html,x", "https://a b"] {
            assert!(dashboard_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_are_known_deduplicated_and_in_order() {
        let asked = ["operation.failed", "instance.created", "operation.failed"].map(String::from);
        assert_eq!(webhook_events(&asked).unwrap(), vec!["instance.created", "operation.failed"]);
        assert!(webhook_events(&["ping".into()]).is_err());
        assert!(webhook_events(&[]).is_err());
    }

    #[test]
    fn retries_back_off_to_hours() {
        let waits: Vec<i64> = (1..=WEBHOOK_MAX_ATTEMPTS).map(webhook_backoff_secs).collect();
        assert_eq!(waits, vec![30, 120, 480, 1920, 7680, 30720, 30720]);
    }
}
