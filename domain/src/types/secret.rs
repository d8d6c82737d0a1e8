//! Passwords as typed by people. Never `Serialize`, never `Debug`-printed.

use super::ParseError;

pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 10;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let n = s.chars().count();
        if n < Self::MIN_LEN {
            return Err(ParseError::new("password", format!("must be at least {} characters", Self::MIN_LEN)));
        }
        if n > 256 {
            return Err(ParseError::new("password", "must be at most 256 characters"));
        }
        if s.trim().is_empty() {
            return Err(ParseError::new("password", "may not be only spaces"));
        }
        Ok(Password(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("          ").is_err());
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert!(Password::parse("correct horse").is_ok());
    }

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(format!("{:?}", Password::parse("correct horse").unwrap()), "Password(***)");
    }
}
