//! A custom domain a tenant points at its instance (`erp.example.com`). It
//! becomes a `Host` the router answers and a Traefik rule, so it follows DNS
//! rules strictly: lowercase ASCII (internationalised names in their `xn--`
//! form), labels of 1–63 letters, digits and inner hyphens, at least two
//! labels, at most 253 characters, a top-level label that is not all digits
//! (so no IP address), and no trailing dot. Names that only ever mean this
//! machine or a private network (`localhost`, `.local`, `.internal`, …) are
//! refused here; the console's own domains are refused by the server, which
//! knows them.

use super::{parsed_serde, ParseError};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomDomain(String);

/// Suffixes that never name a public site: a domain under them cannot be verified from the Internet.
const PRIVATE_SUFFIXES: &[&str] =
    &["localhost", "local", "internal", "localdomain", "home.arpa", "in-addr.arpa", "ip6.arpa", "invalid", "onion"];

impl CustomDomain {
    pub const MAX_LEN: usize = 253;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |r: &str| Err(ParseError::new("domain", r));
        let s = s.trim();
        if s.is_empty() {
            return err("is required");
        }
        if s.contains("://") || s.contains('/') || s.contains(':') || s.contains('@') {
            return err("is a host name only, like erp.example.com (no scheme, port or path)");
        }
        if s.chars().any(|c| c.is_ascii_uppercase()) {
            return err("must be lowercase");
        }
        if !s.is_ascii() {
            return err("must be ASCII: write an internationalised name in its xn-- form");
        }
        if s.len() > Self::MAX_LEN {
            return err("must be at most 253 characters");
        }
        if s.ends_with('.') || s.starts_with('.') || s.contains("..") {
            return err("may not start or end with a dot or have two in a row");
        }
        let labels: Vec<&str> = s.split('.').collect();
        if labels.len() < 2 {
            return err("needs at least two labels, like example.com");
        }
        for l in &labels {
            if l.len() > 63 {
                return err("has a label longer than 63 characters");
            }
            if !l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                return err("may contain only lowercase letters, digits, hyphens and dots");
            }
            if l.starts_with('-') || l.ends_with('-') {
                return err("has a label that starts or ends with a hyphen");
            }
        }
        let tld = labels[labels.len() - 1];
        if tld.chars().all(|c| c.is_ascii_digit()) {
            return err("must be a name, not an IP address");
        }
        if PRIVATE_SUFFIXES.iter().any(|p| s == *p || s.ends_with(&format!(".{p}"))) {
            return err("names a private network or this machine, not a public site");
        }
        Ok(CustomDomain(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `domain` or a name under it (the console's own domains are not a tenant's).
    pub fn is_within(&self, domain: &str) -> bool {
        let domain = domain.trim().trim_matches('.').to_ascii_lowercase();
        !domain.is_empty() && (self.0 == domain || self.0.ends_with(&format!(".{domain}")))
    }
}

parsed_serde!(CustomDomain);

#[cfg(test)]
mod tests {
    use super::CustomDomain;

    #[test]
    fn public_host_names_pass() {
        for ok in ["erp.example.com", "example.co.uk", "a-b.c1.io", "xn--bcher-kva.example", "x.y"] {
            assert_eq!(CustomDomain::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(CustomDomain::parse("  erp.example.com ").unwrap().as_str(), "erp.example.com");
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (bad, why) in [
            ("", "required"),
            ("https://erp.example.com", "host name only"),
            ("erp.example.com:8069", "host name only"),
            ("erp.example.com/web", "host name only"),
            ("ERP.example.com", "lowercase"),
            ("bücher.example", "ASCII"),
            ("example", "two labels"),
            ("erp.example.com.", "dot"),
            ("a..b", "dot"),
            ("-a.example.com", "hyphen"),
            ("a_b.example.com", "only lowercase"),
            ("127.0.0.1", "IP address"),
            ("10.1.2.3", "IP address"),
            ("db.localhost", "private"),
            ("printer.local", "private"),
            ("metadata.google.internal", "private"),
            ("1.0.0.127.in-addr.arpa", "private"),
        ] {
            let e = CustomDomain::parse(bad).unwrap_err();
            assert!(e.reason.contains(why), "{bad}: {e}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(CustomDomain::parse(&long).is_err());
        let too_long = format!("{}com", "abcdefghi.".repeat(26));
        assert!(CustomDomain::parse(&too_long).is_err());
    }

    #[test]
    fn the_consoles_domains_are_recognised_at_label_boundaries() {
        let d = CustomDomain::parse("shop.apps.example.com").unwrap();
        assert!(d.is_within("apps.example.com"));
        assert!(d.is_within("example.com"));
        assert!(!d.is_within("ps.example.com"));
        assert!(!d.is_within(""));
    }
}
