//! Git branch names and the rules that map them to stages.
//!
//! A project says which branch is production and which patterns are staging;
//! everything else is development. The rules are ordered, the first match
//! wins, and exactly one rule names the production branch without wildcards,
//! because a project has exactly one production branch (as on Odoo.sh).

use super::{parsed_serde, ParseError, Stage};
use serde::{Deserialize, Serialize};

/// A branch name as `git check-ref-format --branch` would accept it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BranchName(String);

impl BranchName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        check_ref_chars("branch", s, false)?;
        Ok(BranchName(s.to_owned()))
    }

    /// Strips `refs/heads/`; `None` for tags and other refs.
    pub fn from_ref(r: &str) -> Option<Result<Self, ParseError>> {
        r.strip_prefix("refs/heads/").map(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(BranchName);

fn check_ref_chars(field: &'static str, s: &str, allow_glob: bool) -> Result<(), ParseError> {
    let err = |r: &str| Err(ParseError::new(field, r));
    if s.is_empty() {
        return err("is required");
    }
    if s.len() > 200 {
        return err("is longer than 200 characters");
    }
    if s == "@" || s.contains("@{") || s.contains("..") || s.contains("//") {
        return err("may not be `@` or contain `@{`, `..` or `//`");
    }
    if s.starts_with('/') || s.ends_with('/') || s.ends_with('.') || s.ends_with(".lock") || s.starts_with('-') {
        return err("may not start with `/` or `-`, nor end with `/`, `.` or `.lock`");
    }
    if s.split('/').any(|part| part.starts_with('.')) {
        return err("no path component may start with a dot");
    }
    let forbidden = |c: char| c.is_ascii_control() || c == ' ' || "~^:?[\\".contains(c) || (!allow_glob && c == '*');
    if s.chars().any(forbidden) {
        return err("may not contain spaces, control characters or any of ~ ^ : ? * [ \\");
    }
    Ok(())
}

/// A branch pattern: a branch name in which `*` matches any run of characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BranchPattern(String);

impl BranchPattern {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s == "*" {
            return Ok(BranchPattern(s.to_owned()));
        }
        check_ref_chars("branch pattern", s, true)?;
        Ok(BranchPattern(s.to_owned()))
    }

    pub fn is_exact(&self) -> bool {
        !self.0.contains('*')
    }

    pub fn matches(&self, branch: &BranchName) -> bool {
        glob_match(self.0.as_bytes(), branch.as_str().as_bytes())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(BranchPattern);

/// Iterative glob match with `*` only; linear-ish, no recursion blow-up.
fn glob_match(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pat.len() && pat[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRule {
    pub pattern: BranchPattern,
    pub stage: Stage,
}

/// Ordered branch→stage rules of a project; unmatched branches are development.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageRules(Vec<StageRule>);

impl StageRules {
    pub fn new(rules: Vec<StageRule>) -> Result<Self, ParseError> {
        let prod: Vec<_> = rules.iter().filter(|r| r.stage == Stage::Production).collect();
        match prod.as_slice() {
            [one] if one.pattern.is_exact() => {}
            [_] => return Err(ParseError::new("stage rules", "the production rule must name one branch, without `*`")),
            [] => return Err(ParseError::new("stage rules", "one branch must be production")),
            _ => return Err(ParseError::new("stage rules", "only one branch can be production")),
        }
        if rules.len() > 50 {
            return Err(ParseError::new("stage rules", "at most 50 rules"));
        }
        Ok(StageRules(rules))
    }

    /// `main`→production, `release/*`→staging, everything else→development.
    pub fn default_for(production: &BranchName) -> Self {
        StageRules(vec![
            StageRule { pattern: BranchPattern(production.as_str().to_owned()), stage: Stage::Production },
            StageRule { pattern: BranchPattern("release/*".into()), stage: Stage::Staging },
        ])
    }

    /// Parses the compact text form used in forms: one `pattern=stage` per line or comma.
    pub fn parse_text(s: &str) -> Result<Self, ParseError> {
        let mut rules = Vec::new();
        for item in s.split([',', '\n']).map(str::trim).filter(|x| !x.is_empty()) {
            let Some((pat, stage)) = item.split_once('=') else {
                return Err(ParseError::new("stage rules", format!("`{item}` should look like `main=production`")));
            };
            rules.push(StageRule { pattern: BranchPattern::parse(pat.trim())?, stage: Stage::parse(stage.trim())? });
        }
        Self::new(rules)
    }

    pub fn to_text(&self) -> String {
        self.0.iter().map(|r| format!("{}={}", r.pattern, r.stage.as_str())).collect::<Vec<_>>().join(", ")
    }

    pub fn stage_of(&self, branch: &BranchName) -> Stage {
        self.0.iter().find(|r| r.pattern.matches(branch)).map(|r| r.stage).unwrap_or(Stage::Development)
    }

    pub fn production_branch(&self) -> BranchName {
        let rule = self.0.iter().find(|r| r.stage == Stage::Production).expect("checked in new");
        BranchName(rule.pattern.0.clone())
    }

    pub fn rules(&self) -> &[StageRule] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for StageRules {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        StageRules::new(Vec::<StageRule>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> BranchName {
        BranchName::parse(s).unwrap()
    }

    #[test]
    fn branch_names_follow_git_rules() {
        for ok in ["main", "feature/x-1", "release/17.0", "fix_ABC", "a.b"] {
            assert!(BranchName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a b", "a..b", "/a", "a/", "a.lock", "a.", "@", "a@{1}", "a~1", "a^", "a:b", "a*", "a?", "a[", "a\\b",
            ".hidden", "x/.y", "-x", "a//b", "a\u{7}",
        ] {
            assert!(BranchName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn from_ref_ignores_tags() {
        assert_eq!(BranchName::from_ref("refs/heads/main").unwrap().unwrap().as_str(), "main");
        assert!(BranchName::from_ref("refs/tags/v1").is_none());
    }

    #[test]
    fn glob_matches() {
        let p = BranchPattern::parse("release/*").unwrap();
        assert!(p.matches(&b("release/17.0")));
        assert!(p.matches(&b("release/a/b")));
        assert!(!p.matches(&b("release")));
        assert!(!p.matches(&b("hotfix/release/x")));
        assert!(BranchPattern::parse("*").unwrap().matches(&b("anything")));
        assert!(BranchPattern::parse("*-staging").unwrap().matches(&b("acme-staging")));
        assert!(BranchPattern::parse("a*b*c").unwrap().matches(&b("aXbYc")));
        assert!(!BranchPattern::parse("a*b*c").unwrap().matches(&b("aXbY")));
    }

    #[test]
    fn default_rules() {
        let r = StageRules::default_for(&b("main"));
        assert_eq!(r.stage_of(&b("main")), Stage::Production);
        assert_eq!(r.stage_of(&b("release/1")), Stage::Staging);
        assert_eq!(r.stage_of(&b("feature/x")), Stage::Development);
        assert_eq!(r.production_branch().as_str(), "main");
    }

    #[test]
    fn exactly_one_exact_production_branch() {
        assert!(StageRules::parse_text("main=production, release/*=staging").is_ok());
        assert!(StageRules::parse_text("release/*=staging").is_err());
        assert!(StageRules::parse_text("main=production,prod=production").is_err());
        assert!(StageRules::parse_text("ma*=production").is_err());
        assert!(StageRules::parse_text("main").is_err());
        assert!(StageRules::parse_text("main=prod-ish").is_err());
    }

    #[test]
    fn first_match_wins_and_text_round_trips() {
        let r = StageRules::parse_text("main=production\nrelease/x=development\nrelease/*=staging").unwrap();
        assert_eq!(r.stage_of(&b("release/x")), Stage::Development);
        assert_eq!(r.stage_of(&b("release/y")), Stage::Staging);
        assert_eq!(StageRules::parse_text(&r.to_text()).unwrap(), r);
    }
}
