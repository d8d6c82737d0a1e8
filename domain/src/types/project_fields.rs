//! Fields of a project that come from a form: its name, git URL and Odoo version.

use super::{parsed_serde, ParseError};

/// A human name for a project or tenant: 1–80 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("name", "is required"));
        }
        if s.chars().count() > 80 {
            return Err(ParseError::new("name", "must be at most 80 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new("name", "may not contain control characters"));
        }
        Ok(ProjectName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(ProjectName);

/// Where a project's code lives: `https://…`, `ssh://…`, `git@host:path`, or
/// an absolute local path / `file://` URL (useful for on-premise mirrors and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoUrl(String);

impl RepoUrl {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let err = |r: &str| Err(ParseError::new("git URL", r));
        if s.is_empty() {
            return err("is required");
        }
        if s.len() > 500 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("must be one line without spaces");
        }
        if s.starts_with('-') {
            return err("may not start with `-`");
        }
        if s.starts_with("http://") {
            return err("use https:// (plain http is not allowed)");
        }
        let ok = if let Some(rest) = s.strip_prefix("https://") {
            host_then_path(rest, '/')
        } else if let Some(rest) = s.strip_prefix("ssh://") {
            host_then_path(rest.rsplit_once('@').map_or(rest, |(_, h)| h), '/')
        } else if let Some(rest) = s.strip_prefix("file://") {
            rest.starts_with('/') && rest.len() > 1
        } else if s.starts_with('/') {
            s.len() > 1
        } else if let Some((user_host, path)) = s.split_once(':') {
            // scp-like syntax: git@github.com:acme/addons.git
            user_host.contains('@') && !path.is_empty() && !user_host.contains('/')
        } else {
            false
        };
        if !ok {
            return err("use https://host/path, ssh://host/path, git@host:path or an absolute path");
        }
        Ok(RepoUrl(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A repository on the server's own filesystem (a path or `file://`):
    /// only the operator may allow those (it could read any repository there).
    pub fn is_local(&self) -> bool {
        self.0.starts_with('/') || self.0.starts_with("file://")
    }
}
parsed_serde!(RepoUrl);

fn host_then_path(rest: &str, sep: char) -> bool {
    match rest.split_once(sep) {
        Some((host, path)) => !host.is_empty() && !path.is_empty(),
        None => false,
    }
}

/// A supported Odoo major version such as `17.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdooVersion(u8);

impl OdooVersion {
    pub const SUPPORTED: &'static [&'static str] = &["19.0", "18.0", "17.0", "16.0", "15.0"];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if !Self::SUPPORTED.contains(&s) {
            return Err(ParseError::new("Odoo version", format!("must be one of {}", Self::SUPPORTED.join(", "))));
        }
        let major = s.trim_end_matches(".0").parse().expect("listed versions parse");
        Ok(OdooVersion(major))
    }

    pub fn as_str(&self) -> &'static str {
        Self::SUPPORTED.iter().find(|v| v.starts_with(&format!("{}.", self.0))).expect("constructed from the list")
    }

    /// The official image a production build of this version runs on.
    pub fn official_image(&self) -> String {
        format!("odoo:{}", self.as_str())
    }
}
parsed_serde!(OdooVersion);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_urls() {
        for ok in [
            "https://github.com/acme/addons.git",
            "ssh://git@github.com/acme/x.git",
            "git@github.com:acme/addons.git",
            "/srv/git/addons.git",
            "file:///srv/git/a",
        ] {
            assert!(RepoUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "github.com/acme",
            "https://",
            "https://host",
            "-oProxyCommand=x",
            "ftp://x/y",
            "a b",
            "relative/path",
            "git@host:",
            "http://github.com/acme/addons.git",
            "ext::sh -c touch% /tmp/pwned",
        ] {
            assert!(RepoUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(RepoUrl::parse("file:///srv/a").unwrap().is_local());
        assert!(RepoUrl::parse("/srv/a.git").unwrap().is_local());
        assert!(!RepoUrl::parse("git@github.com:a/b.git").unwrap().is_local());
    }

    #[test]
    fn odoo_versions() {
        assert_eq!(OdooVersion::parse("17.0").unwrap().as_str(), "17.0");
        assert_eq!(OdooVersion::parse("18.0").unwrap().official_image(), "odoo:18.0");
        assert!(OdooVersion::parse("17").is_err());
        assert!(OdooVersion::parse("8.0").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(ProjectName::parse("  Acme ERP ").unwrap().as_str(), "Acme ERP");
        assert!(ProjectName::parse(" ").is_err());
        assert!(ProjectName::parse(&"x".repeat(81)).is_err());
        assert!(ProjectName::parse("a\nb").is_err());
    }
}
