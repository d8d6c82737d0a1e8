//! Email addresses identify accounts. They are stored lowercased and trimmed,
//! so that `Ann@Example.com` and `ann@example.com` are one account.
//! The check is deliberately structural (one `@`, a dotted domain, no spaces),
//! not a full RFC 5322 parser: the real proof is the reset mail arriving.

use super::{parsed_serde, ParseError};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim().to_lowercase();
        let err = |r: &str| Err(ParseError::new("email", r));
        if s.is_empty() {
            return err("is required");
        }
        if s.len() > 254 {
            return err("is too long");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return err("must contain an @");
        };
        if local.is_empty() || local.len() > 64 {
            return err("needs a name before the @");
        }
        if domain.contains('@') {
            return err("must contain only one @");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c)) {
            return err("contains characters that are not allowed");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-')) {
            return err("needs a domain such as example.com");
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, used to suggest names.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}
parsed_serde!(Email);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(Email::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "ann@@example.com",
            "a b@example.com",
            "ann@example..com",
            "ann@-example.com",
            "<ann@example.com>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_part() {
        assert_eq!(Email::parse("dev.one@acme.io").unwrap().local_part(), "dev.one");
    }

    proptest! {
        #[test]
        fn simple_addresses_parse(local in "[a-z0-9._+-]{1,20}", host in "[a-z][a-z0-9]{0,10}", tld in "[a-z]{2,6}") {
            let s = format!("{local}@{host}.{tld}");
            let parsed = Email::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }

        #[test]
        fn never_panics(s in ".{0,300}") {
            let _ = Email::parse(&s);
        }
    }
}
