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
}

/// Limits of web and SSH shells (the TTL itself is a project setting).
#[derive(Debug, Clone)]
pub struct ShellSettings {
    /// A shell nobody has typed in for this long is closed.
    pub idle_timeout: Duration,
    /// Transcript bytes stored per session; beyond it bytes are counted, not stored.
    pub transcript_limit: u64,
}

impl Default for ShellSettings {
    fn default() -> Self {
        ShellSettings { idle_timeout: Duration::from_secs(10 * 60), transcript_limit: 10 * 1024 * 1024 }
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
        }
    }

    /// Cookies get `Secure` when the console is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
