//! What a branch asks the stand-in to do, through a `.standin` file at the
//! root of an addons path: fail a test, warn, crash, crash once serving, start slowly, send mail,
//! run a scheduled action that takes too long, or fail a migration to a series.

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Behaviour {
    pub fail_test: bool,
    pub warn: bool,
    pub crash: bool,
    /// Installs fine, then dies instead of serving (a build that fails its health check).
    pub crash_serving: bool,
    /// Like `crash_serving`, only against a production database (OdooOps names them `op_…`):
    /// a build that is healthy in staging and fails its health check in production.
    pub crash_serving_production: bool,
    pub slow_start_secs: u64,
    /// Mails to send through the configured SMTP server when the server starts.
    pub send_mails: u32,
    /// `mail-subject <header value>`: the Subject header of those mails, verbatim (an RFC 2047
    /// encoded word in a legacy charset, say), instead of `Stand-in mail <n>`.
    pub mail_subject: Option<String>,
    /// Seconds each run of a scheduled action takes while serving (0: no such cron).
    pub slow_cron_secs: u64,
    /// The series (`18.0`) whose migration (`-u all` on a database of an older series) fails.
    pub fail_migration: Option<String>,
    /// `fail-migration <series> production`: only against a production database (`op_…`).
    pub fail_migration_production: bool,
}

impl Behaviour {
    pub fn load(addons_paths: &[String]) -> Behaviour {
        addons_paths
            .iter()
            .find_map(|p| std::fs::read_to_string(std::path::Path::new(p).join(".standin")).ok())
            .map(|s| Behaviour::parse(&s))
            .unwrap_or_default()
    }

    pub fn parse(text: &str) -> Behaviour {
        let mut b = Behaviour::default();
        for line in text.lines().map(str::trim) {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("fail-test") => b.fail_test = true,
                Some("warn") => b.warn = true,
                Some("crash") => b.crash = true,
                Some("crash-serving") => b.crash_serving = true,
                Some("crash-serving-production") => b.crash_serving_production = true,
                Some("send-mail") => b.send_mails = words.next().and_then(|s| s.parse().ok()).unwrap_or(1).min(100),
                // Printable ASCII only: a header value, never a line break.
                Some("mail-subject") => {
                    let rest = line["mail-subject".len()..].trim();
                    b.mail_subject =
                        (!rest.is_empty() && rest.bytes().all(|c| (b' '..=b'~').contains(&c))).then(|| rest.to_owned());
                }
                Some("fail-migration") => {
                    b.fail_migration = words.next().map(str::to_owned);
                    b.fail_migration_production = words.next() == Some("production");
                }
                Some("slow-cron") => {
                    b.slow_cron_secs = words.next().and_then(|s| s.parse().ok()).unwrap_or(60).min(86_400)
                }
                Some("slow-start") => {
                    b.slow_start_secs = words.next().and_then(|s| s.parse().ok()).unwrap_or(5).min(600)
                }
                _ => {}
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words() {
        let b = Behaviour::parse("# comment\nfail-test\nslow-start 3\nnonsense\n");
        assert_eq!(
            b,
            Behaviour {
                fail_test: true,
                warn: false,
                crash: false,
                crash_serving: false,
                crash_serving_production: false,
                slow_start_secs: 3,
                send_mails: 0,
                mail_subject: None,
                slow_cron_secs: 0,
                fail_migration: None,
                fail_migration_production: false
            }
        );
        assert_eq!(Behaviour::parse("send-mail 2").send_mails, 2);
        let jp = Behaviour::parse("mail-subject =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=");
        assert_eq!(jp.mail_subject.as_deref(), Some("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="));
        assert_eq!(Behaviour::parse("mail-subject caf\u{e9}").mail_subject, None, "ASCII header values only");
        assert_eq!(Behaviour::parse("slow-cron 600").slow_cron_secs, 600);
        assert_eq!(Behaviour::parse("fail-migration 18.0").fail_migration.as_deref(), Some("18.0"));
        assert!(Behaviour::parse("fail-migration 18.0 production").fail_migration_production);
        assert_eq!(Behaviour::parse("slow-start 99999").slow_start_secs, 600);
    }
}
