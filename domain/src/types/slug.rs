//! Slugs name tenants and projects in URLs, hostnames and container labels,
//! so they follow DNS label rules: lowercase letters, digits and single
//! hyphens, 2 to 40 characters, starting with a letter, not ending with a hyphen.

use super::{parsed_serde, ParseError};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 40;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |r: &str| Err(ParseError::new("slug", r));
        if s.len() < 2 {
            return err("must be at least 2 characters");
        }
        if s.len() > Self::MAX_LEN {
            return err("must be at most 40 characters");
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return err("must start with a lowercase letter");
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return err("may contain only lowercase letters, digits and hyphens");
        }
        if s.ends_with('-') || s.contains("--") {
            return err("may not end with a hyphen or contain two in a row");
        }
        Ok(Slug(s.to_owned()))
    }

    /// Derives a slug from a free-form name ("ACME Corp." → "acme-corp").
    /// Falls back to `fallback` when nothing usable remains.
    pub fn from_name(name: &str, fallback: &str) -> Slug {
        let mut out = String::new();
        for c in name.trim().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-').to_owned();
        let mut s: String = trimmed.chars().take(Self::MAX_LEN - 7).collect();
        while s.ends_with('-') {
            s.pop();
        }
        Slug::parse(&s).unwrap_or_else(|_| Slug::parse(fallback).expect("fallback slug is valid"))
    }

    /// The slug with a short suffix, still valid (used to resolve name clashes).
    pub fn with_suffix(&self, suffix: &str) -> Slug {
        let base: String = self.0.chars().take(Self::MAX_LEN - suffix.len() - 1).collect();
        Slug::parse(&format!("{}-{}", base.trim_end_matches('-'), suffix)).unwrap_or_else(|_| self.clone())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(Slug);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels() {
        for ok in ["ab", "acme", "acme-corp", "a1", "x-1-2"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_bad_slugs() {
        for bad in ["", "a", "1abc", "-abc", "abc-", "a--b", "ABC", "a_b", "a b", "é-x", &"a".repeat(41)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn derives_from_names() {
        assert_eq!(Slug::from_name("ACME Corp.", "org").as_str(), "acme-corp");
        assert_eq!(Slug::from_name("  42 Things ", "org").as_str(), "things");
        assert_eq!(Slug::from_name("!!!", "org").as_str(), "org");
        assert!(Slug::from_name(&"long name ".repeat(20), "org").as_str().len() <= 33);
    }

    #[test]
    fn suffix_keeps_it_valid() {
        let s = Slug::parse(&"a".repeat(40)).unwrap().with_suffix("x7k2");
        assert!(s.as_str().len() <= 40 && s.as_str().ends_with("-x7k2"));
    }

    #[test]
    fn serde_refuses_invalid() {
        assert!(serde_json::from_str::<Slug>("\"Bad Slug\"").is_err());
        assert_eq!(serde_json::from_str::<Slug>("\"good\"").unwrap().as_str(), "good");
    }
}
