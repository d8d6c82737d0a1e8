//! Where an organisation is: its language (Odoo's codes, `fr` or `fr_BE`),
//! country (ISO 3166 alpha-2, `BE`) and time zone (an IANA name,
//! `Europe/Brussels`). Shared by the self-service form, the tenant wizard and
//! the server, so each refuses the same values with the same words.

use super::{parsed_serde, ParseError};

/// An Odoo language code: two lowercase letters, optionally `_` and two uppercase ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Language(String);

impl Language {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let b = s.as_bytes();
        let ok = (b.len() == 2 || (b.len() == 5 && b[2] == b'_' && b[3..].iter().all(u8::is_ascii_uppercase)))
            && b[..2].iter().all(u8::is_ascii_lowercase);
        if ok {
            Ok(Language(s.to_owned()))
        } else {
            Err(ParseError::new("language", format!("`{s}` is not a language code like fr_FR")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(Language);

/// A two-letter country code (any case in, uppercase out).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Country(String);

impl Country {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let c = s.trim().to_ascii_uppercase();
        if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Country(c))
        } else {
            Err(ParseError::new("country", format!("`{}` is not a two-letter country code", s.trim())))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(Country);

/// An IANA time zone name's shape (`Europe/Brussels`, `UTC`, `America/Argentina/Buenos_Aires`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = s.trim();
        let ok = !t.is_empty()
            && t.len() <= 64
            && t.starts_with(|c: char| c.is_ascii_alphabetic())
            && t.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
            && !t.contains("//");
        if ok {
            Ok(TimeZone(t.to_owned()))
        } else {
            Err(ParseError::new("time zone", format!("`{t}` is not a time zone like Europe/Brussels")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(TimeZone);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_countries_and_time_zones() {
        for ok in ["fr", "fr_BE", "en_US"] {
            assert_eq!(Language::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["FR", "fr-BE", "fr_be", "french", ""] {
            assert!(Language::parse(bad).unwrap_err().reason.contains("language code"), "{bad}");
        }
        assert_eq!(Country::parse(" be ").unwrap().as_str(), "BE");
        for bad in ["BEL", "B1", ""] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
        for ok in ["Europe/Brussels", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+2"] {
            assert_eq!(TimeZone::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "/etc/passwd", "Europe//Brussels", "Europe/Brus sels", "../x"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad}");
        }
    }
}
