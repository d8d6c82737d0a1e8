//! Settings of the control plane that the domain needs (the server crate
//! reads them from the environment and the command line).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The URL people use to reach the console, e.g. `https://ops.example.com`.
    /// Links in mails point here, and cookie-authenticated mutations must come from this origin.
    pub public_url: String,
    /// Whether anyone may sign up (the first account always may).
    pub signup_open: bool,
    pub session_ttl: Duration,
    pub reset_ttl: Duration,
    pub shell: ShellSettings,
    pub mail: MailSettings,
    /// Reverse proxies whose `X-Forwarded-For` names the client; empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How often unauthenticated requests may make the console hash a password or send mail.
    pub limits: RateLimits,
    pub jobs: JobSettings,
    /// Seals stored secrets (see `sealed`); a key of this process unless the server loads the installation's.
    pub sealer: crate::sealed::Sealer,
    /// Where the Supabase Management API answers (`https://api.supabase.com`; a stand-in in tests).
    pub supabase_api: String,
}

/// How consoles share background work.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// A console whose heartbeat is older than this is dead: its jobs are retried by another.
    pub lease: Duration,
}

impl JobSettings {
    /// How often a console beats: often enough that one late beat is not a death.
    pub fn beat(&self) -> Duration {
        (self.lease / 6).max(Duration::from_millis(200))
    }
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings { lease: Duration::from_secs(30) }
    }
}

/// Limits on requests that cost a password hash or a mail, per window.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Failed sign-ins per email and per client address.
    pub sign_in_failures: usize,
    /// Sign-ups per client address.
    pub sign_ups: usize,
    /// Reset requests per email and per client address.
    pub reset_requests: usize,
    pub window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { sign_in_failures: 5, sign_ups: 10, reset_requests: 5, window: Duration::from_secs(15 * 60) }
    }
}

/// The mail catcher's limits.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Larger messages are refused with SMTP 552.
    pub max_message_bytes: usize,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings { max_message_bytes: 25 * 1024 * 1024 }
    }
}

/// Limits of web and SSH shells (the TTL itself is a project setting).
#[derive(Debug, Clone)]
pub struct ShellSettings {
    /// A shell nobody has typed in for this long is closed.
    pub idle_timeout: Duration,
    /// Transcript bytes stored per session; beyond it bytes are counted, not stored.
    pub transcript_limit: u64,
    /// Host and port people give `ssh` to reach the gateway, when it runs.
    pub ssh_endpoint: Option<(String, u16)>,
}

impl ShellSettings {
    /// The command that opens a shell on the build named `slug` over SSH.
    pub fn ssh_command(&self, slug: &str) -> Option<String> {
        let (host, port) = self.ssh_endpoint.as_ref()?;
        Some(match port {
            22 => format!("ssh {slug}@{host}"),
            p => format!("ssh {slug}@{host} -p {p}"),
        })
    }
}

impl Default for ShellSettings {
    fn default() -> Self {
        ShellSettings {
            idle_timeout: Duration::from_secs(10 * 60),
            transcript_limit: 10 * 1024 * 1024,
            ssh_endpoint: None,
        }
    }
}

impl Settings {
    pub fn for_url(public_url: impl Into<String>) -> Self {
        Settings {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            signup_open: true,
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            reset_ttl: Duration::from_secs(3600),
            shell: ShellSettings::default(),
            mail: MailSettings::default(),
            trusted_proxies: Vec::new(),
            limits: RateLimits::default(),
            jobs: JobSettings::default(),
            sealer: crate::sealed::Sealer::default(),
            supabase_api: "https://api.supabase.com".into(),
        }
    }

    /// The host part of the public URL (`ops.example.com`).
    pub fn public_host(&self) -> String {
        let rest = self.public_url.split_once("://").map(|(_, r)| r).unwrap_or(&self.public_url);
        let authority = rest.split('/').next().unwrap_or_default();
        match authority.strip_prefix('[') {
            Some(v6) => format!("[{}]", v6.split(']').next().unwrap_or_default()),
            None => authority.split(':').next().unwrap_or_default().to_owned(),
        }
    }

    /// Whether the console (and with it every preview and instance host) is reached over https.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Cookies get `Secure` when the console is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.is_https()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_commands_name_the_build_host_and_port() {
        let mut s = Settings::for_url("https://ops.example.com:8443/");
        assert_eq!(s.public_host(), "ops.example.com");
        assert_eq!(s.shell.ssh_command("b1-shop"), None, "no gateway, no command");
        s.shell.ssh_endpoint = Some((s.public_host(), 2222));
        assert_eq!(s.shell.ssh_command("b1-shop").unwrap(), "ssh b1-shop@ops.example.com -p 2222");
        s.shell.ssh_endpoint = Some(("ops.example.com".into(), 22));
        assert_eq!(s.shell.ssh_command("b1-shop").unwrap(), "ssh b1-shop@ops.example.com");
        assert_eq!(Settings::for_url("http://127.0.0.1:3000").public_host(), "127.0.0.1");
    }
}
