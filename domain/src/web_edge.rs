//! The rules of the console's HTTP edge, as plain functions the server's
//! middleware applies and unit tests reach without a socket.
//!
//! Why this exists: a console on loopback or a private network is reachable
//! from any web page through DNS rebinding (an attacker's name that resolves
//! to 127.0.0.1), and then the browser sends `Host: rebind.attacker.test` and
//! a matching `Origin`. Only the names the operator configured may reach the
//! console ([`HostAllowList`]), and cookie-authenticated mutations must come
//! from the configured public origin ([`public_origin`]). The same edge sends
//! the security headers of every console page ([`console_headers`]) and decides
//! which address is the client's when a reverse proxy sits in front
//! ([`client_ip`]).

use std::net::IpAddr;

/// `scheme://host[:port]` of a URL, lower-cased; `None` when it is not absolute.
pub fn public_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && !scheme.is_empty()).then(|| format!("{}://{}", scheme, host).to_ascii_lowercase())
}

/// A `host[:port]` authority split into a lower-cased host (IPv6 keeps its
/// brackets) and an optional port; `None` when the port is not a number.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let a = authority.trim().to_ascii_lowercase();
    if a.is_empty() || a.contains(['/', '\\', '@', ' ']) {
        return None;
    }
    if let Some(v6) = a.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((format!("[{inner}]"), port));
    }
    match a.rsplit_once(':') {
        Some((h, p)) => Some((h.trim_end_matches('.').to_owned(), Some(p.parse().ok()?))),
        None => Some((a.trim_end_matches('.').to_owned(), None)),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The `Host` values that may reach this console: the public URL's host and
/// port; any loopback name on that port when the public URL itself is on
/// loopback; and `<anything>.<preview domain>` when previews are served.
#[derive(Debug, Clone)]
pub struct HostAllowList {
    host: String,
    port: u16,
    https: bool,
    loopback: bool,
    /// `.<preview domain>`, and `.<instances domain>` when it differs.
    suffixes: Vec<String>,
}

impl HostAllowList {
    /// From the public URL (`https://ops.example.com`) and the preview domain, if previews run here.
    pub fn new(public_url: &str, preview_domain: Option<&str>) -> Self {
        let https = public_url.starts_with("https://");
        let authority = public_origin(public_url).and_then(|o| o.split_once("://").map(|(_, a)| a.to_owned()));
        let (host, port) = authority.as_deref().and_then(split_authority).unwrap_or_default();
        let port = port.unwrap_or(if https { 443 } else { 80 });
        let suffixes = preview_domain
            .map(|d| d.trim().trim_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .map(|d| format!(".{d}"))
            .into_iter()
            .collect();
        HostAllowList { loopback: is_loopback(&host), host, port, https, suffixes }
    }

    /// Also serves `<label>.<domain>` (tenant instances on a domain of their own).
    pub fn also(mut self, domain: Option<&str>) -> Self {
        if let Some(d) = domain.map(|d| d.trim().trim_matches('.').to_ascii_lowercase()).filter(|d| !d.is_empty()) {
            let suffix = format!(".{d}");
            if !self.suffixes.contains(&suffix) {
                self.suffixes.push(suffix);
            }
        }
        self
    }

    /// Whether a request with this `Host` header may be served.
    pub fn allows(&self, host_header: &str) -> bool {
        self.classify(host_header) != HostKind::Refused
    }

    /// What this `Host` is to the console. A missing port means the scheme's
    /// default, as browsers send it.
    pub fn classify(&self, host_header: &str) -> HostKind {
        let Some((host, port)) = split_authority(host_header) else { return HostKind::Refused };
        for suffix in &self.suffixes {
            if let Some(label) = host.strip_suffix(suffix.as_str()) {
                let one_label = !label.is_empty() && !label.contains('.');
                return if one_label { HostKind::Preview } else { HostKind::Refused };
            }
        }
        let port = port.unwrap_or(if self.https { 443 } else { 80 });
        if port != self.port {
            HostKind::Refused
        } else if host == self.host {
            HostKind::Public
        } else if self.loopback && is_loopback(&host) {
            HostKind::LoopbackAlias
        } else {
            HostKind::Refused
        }
    }
}

/// How a request's `Host` relates to the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// The public URL's own host and port.
    Public,
    /// Another loopback name for a console whose public URL is on loopback
    /// (`localhost:3000` for `http://127.0.0.1:3000`). Pages are sent to the
    /// public URL, so cookies and the Origin check see one origin.
    LoopbackAlias,
    /// `<slug>.<preview domain>` (or `<subdomain>.<instances domain>`).
    Preview,
    /// Anything else: answered 421.
    Refused,
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy,
/// in which case the right-most `X-Forwarded-For` entry that is not itself a
/// trusted proxy. Without trusted proxies the header is ignored, so a client
/// cannot choose its own throttle key.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let peer = canon(peer);
    if !trusted.iter().any(|t| canon(*t) == peer) {
        return peer;
    }
    let Some(list) = forwarded_for else { return peer };
    let mut last = peer;
    for entry in list.rsplit(',') {
        let Ok(ip) = entry.trim().parse::<IpAddr>().map(canon) else { return last };
        if !trusted.iter().any(|t| canon(*t) == ip) {
            return ip;
        }
        last = ip;
    }
    last
}

/// The Content-Security-Policy of console responses.
///
/// Scripts: the site's own files, the WASM module (`'wasm-unsafe-eval'` lets
/// the browser compile it), and inline scripts only with this response's
/// nonce: Leptos' hydration bootstrap and the resources it serialises carry
/// it (leptos' `nonce` feature). Responses that are not pages get no nonce,
/// so no inline script at all. Styles allow `'unsafe-inline'` because the
/// terminal screen and the mail viewer set `style` attributes; a style cannot
/// run code. Images may be remote (the mail viewer's "load remote images").
/// WebSockets (terminal, live logs, mail) go to the public origin's `ws:`/`wss:`
/// twin, named explicitly in `connect-src` for browsers whose `'self'` does not cover it.
pub fn content_security_policy(nonce: Option<&str>, public_url: &str) -> String {
    let sockets = public_origin(public_url)
        .and_then(|o| {
            o.strip_prefix("https://")
                .map(|a| format!(" wss://{a}"))
                .or_else(|| o.strip_prefix("http://").map(|a| format!(" ws://{a}")))
        })
        .unwrap_or_default();
    let scripts = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data: cid: http: https:; \
         font-src 'self' data:; connect-src 'self'{sockets}; frame-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

/// Headers every console response carries (not previews: they serve Odoo).
/// `Strict-Transport-Security` only when the console is served over https,
/// and without `includeSubDomains`, so previews under the console's name may
/// stay on plain http.
pub fn console_headers(https: bool) -> Vec<(&'static str, &'static str)> {
    let mut h = vec![
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    if https {
        h.push(("strict-transport-security", "max-age=31536000"));
    }
    h
}

/// The session cookie's name: `__Host-` prefixed under https, so a
/// same-site preview cannot set or shadow it with a `Domain=` cookie.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-odooops_session"
    } else {
        "odooops_session"
    }
}

/// A `Set-Cookie` from a tenant's Odoo made host-only: its `Domain`
/// attribute is dropped, so a preview or an instance cannot set cookies on
/// its sibling hosts (other tenants' instances) or on the console's.
pub fn host_only_cookie(value: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(value);
    let kept: Vec<&str> =
        text.split(';').filter(|part| !part.trim_start().to_ascii_lowercase().starts_with("domain=")).collect();
    kept.join(";").into_bytes()
}

/// Paths of Odoo's database manager (backup, restore, drop, duplicate, the
/// master password): never reachable through OdooOps, which manages
/// databases itself; Odoo's default master password would open them.
pub fn is_database_manager(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let p = p.trim_end_matches('/');
    p == "/web/database" || p.starts_with("/web/database/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(public_origin("https://Ops.Example.com/a/b?c").as_deref(), Some("https://ops.example.com"));
        assert_eq!(public_origin("http://127.0.0.1:3000").as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(public_origin("nonsense"), None);
    }

    #[test]
    fn only_configured_hosts_pass() {
        let local = HostAllowList::new("http://127.0.0.1:3000", Some("localhost"));
        assert!(local.allows("127.0.0.1:3000"));
        assert!(local.allows("localhost:3000"), "loopback names, since the public URL is on loopback");
        assert!(local.allows("[::1]:3000"));
        assert!(local.allows("b12-shop.localhost:3000"), "previews");
        assert_eq!(local.classify("127.0.0.1:3000"), HostKind::Public);
        assert_eq!(local.classify("localhost:3000"), HostKind::LoopbackAlias);
        assert_eq!(local.classify("b12-shop.localhost"), HostKind::Preview);
        assert_eq!(local.classify("evil.test:3000"), HostKind::Refused);
        assert!(!local.allows("a.b.localhost:3000"), "one label only");
        assert!(!local.allows("rebind.attacker.test:3000"));
        assert!(!local.allows("127.0.0.1:3001"));
        assert!(!local.allows(""));
        assert!(!local.allows("127.0.0.1:3000@evil"));

        let public = HostAllowList::new("https://ops.example.com", Some("preview.example.net"));
        assert!(public.allows("ops.example.com"));
        assert!(public.allows("OPS.example.com:443"));
        assert!(!public.allows("ops.example.com:8443"));
        assert!(!public.allows("127.0.0.1:3000"), "loopback only when the public URL is on it");
        assert!(!public.allows("localhost"));
        assert!(public.allows("b1-x.preview.example.net"));
        assert!(!public.allows("preview.example.net"));
        assert!(!public.allows("evil.example.com"));

        let no_previews = HostAllowList::new("http://ops.lan:8080/", None);
        assert!(no_previews.allows("ops.lan:8080"));
        assert!(!no_previews.allows("ops.lan"));
        assert!(!no_previews.allows("b1-x.localhost:8080"));
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let spoof = Some("198.51.100.1, 203.0.113.7");
        assert_eq!(client_ip(client, spoof, &[]), client, "no trusted proxy: the peer");
        assert_eq!(client_ip(proxy, spoof, &[]), proxy);
        assert_eq!(client_ip(proxy, spoof, &[proxy]), client, "the right-most untrusted entry");
        assert_eq!(client_ip(proxy, Some("203.0.113.7, 10.0.0.2"), &[proxy]), client, "proxy chains");
        assert_eq!(client_ip(proxy, Some("junk"), &[proxy]), proxy);
        assert_eq!(client_ip(proxy, None, &[proxy]), proxy);
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(client_ip(mapped, Some("203.0.113.7"), &[proxy]), client, "IPv4-mapped peers");
    }

    #[test]
    fn headers_and_policy() {
        let csp = content_security_policy(Some("abc"), "https://ops.example.com");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("connect-src 'self' wss://ops.example.com;"), "{csp}");
        let plain = content_security_policy(None, "http://127.0.0.1:3000");
        assert!(!plain.contains("nonce") && plain.contains("connect-src 'self' ws://127.0.0.1:3000;"), "{plain}");
        assert!(!plain.contains("'unsafe-inline' 'wasm"), "no inline scripts");
        assert!(console_headers(true).iter().any(|(k, _)| *k == "strict-transport-security"));
        assert!(!console_headers(false).iter().any(|(k, _)| *k == "strict-transport-security"));
        assert_eq!(session_cookie_name(true), "__Host-odooops_session");
        assert_eq!(session_cookie_name(false), "odooops_session");
    }

    #[test]
    fn tenants_cookies_stay_on_their_host_and_the_database_manager_is_closed() {
        assert_eq!(
            host_only_cookie(b"session_id=abc; Domain=.localhost; Path=/; HttpOnly"),
            b"session_id=abc; Path=/; HttpOnly".to_vec()
        );
        assert_eq!(host_only_cookie(b"a=b; domain=evil; Secure"), b"a=b; Secure".to_vec());
        assert_eq!(host_only_cookie(b"a=b"), b"a=b".to_vec());
        for p in
            ["/web/database/manager", "/web/database/backup", "/WEB/DATABASE/drop", "/web/database", "/web/database/"]
        {
            assert!(is_database_manager(p), "{p}");
        }
        assert!(!is_database_manager("/web/login") && !is_database_manager("/web/databases-of-mine"));
    }
}
