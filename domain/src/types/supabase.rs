//! A Supabase project ref: the 20 lowercase letters that name a project in
//! its URLs (`https://<ref>.supabase.co`) and in the Management API's paths.
//! It goes into URLs the console builds, so nothing else gets through.

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SupabaseRef(String);

impl SupabaseRef {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.len() == 20 && s.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(SupabaseRef(s.to_owned()))
        } else {
            Err(ParseError::new(
                "project ref",
                "is the 20 lowercase letters of the project's URL (https://<ref>.supabase.co)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SupabaseRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ref_is_twenty_lowercase_letters() {
        assert_eq!(SupabaseRef::parse(" abcdefghijklmnopqrst ").unwrap().as_str(), "abcdefghijklmnopqrst");
        for bad in ["abcdefghijklmnopqrs", "abcdefghijklmnopqrstu", "Abcdefghijklmnopqrst", "abcdefghij/lmnopqrst", ""]
        {
            assert!(SupabaseRef::parse(bad).is_err(), "{bad}");
        }
    }
}
