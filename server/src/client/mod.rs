//! The `odooops` command line as a client of a console's REST API (issue
//! 19): where the console is and which token to send (a config file in the
//! user's config directory, mode 0600, that `ODOOOPS_URL` / `ODOOOPS_TOKEN`
//! override for CI), one HTTP helper that turns the console's answers into
//! the documented exit codes, and the commands themselves ([`account`]).
//!
//! Exit codes: 0 success, 1 the action failed, 2 usage (clap's own), 3 not
//! authenticated, 4 forbidden, 5 not found. Errors print the server's message.

pub mod account;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Why a command failed, with its exit code.
#[derive(Debug)]
pub enum ClientError {
    /// The action failed (1).
    Failed(String),
    /// Bad usage the parser could not see (2).
    Usage(String),
    /// No usable token (3).
    Unauthenticated(String),
    /// The token may not do this (4).
    Forbidden(String),
    /// No such thing, or not visible to this token (5).
    NotFound(String),
}

impl ClientError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Failed(_) => 1,
            ClientError::Usage(_) => 2,
            ClientError::Unauthenticated(_) => 3,
            ClientError::Forbidden(_) => 4,
            ClientError::NotFound(_) => 5,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ClientError::Failed(m)
            | ClientError::Usage(m)
            | ClientError::Unauthenticated(m)
            | ClientError::Forbidden(m)
            | ClientError::NotFound(m) => m,
        }
    }

    /// The error for an HTTP answer that is not a success, with the console's message.
    pub fn from_status(status: u16, message: &str) -> ClientError {
        let m = message.to_owned();
        match status {
            401 => ClientError::Unauthenticated(format!("{m} (log in again: odooops login <url>)")),
            403 => ClientError::Forbidden(m),
            404 => ClientError::NotFound(m),
            _ => ClientError::Failed(m),
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ClientError {}

/// Where the console is and the token to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub url: String,
    pub token: String,
}

/// `$ODOOOPS_CONFIG`, else `$XDG_CONFIG_HOME/odooops/login.json`, else `~/.config/odooops/login.json`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ODOOOPS_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|p| !p.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("odooops").join("login.json"))
}

/// The stored login, if any.
pub fn stored() -> Option<Login> {
    let text = std::fs::read_to_string(config_path()?).ok()?;
    serde_json::from_str(&text).ok()
}

/// Stores the login readable by its owner only (the file is made 0600 before the token is written).
pub fn store(login: &Login) -> Result<PathBuf, ClientError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path =
        config_path().ok_or_else(|| ClientError::Failed("no config directory: set HOME or ODOOOPS_CONFIG".into()))?;
    let fail = |e: std::io::Error| ClientError::Failed(format!("writing {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(fail)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
    f.write_all(serde_json::to_string_pretty(login).expect("a login serialises").as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)?;
    Ok(path)
}

/// The login to use: `ODOOOPS_URL` and `ODOOOPS_TOKEN` over the stored one.
pub fn resolve() -> Result<Login, ClientError> {
    let stored = stored();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let url = env("ODOOOPS_URL").or_else(|| stored.as_ref().map(|s| s.url.clone()));
    let token = env("ODOOOPS_TOKEN").or_else(|| stored.as_ref().map(|s| s.token.clone()));
    match (url, token) {
        (Some(url), Some(token)) => Ok(Login { url, token }),
        _ => Err(ClientError::Unauthenticated(
            "not logged in: run `odooops login <url>` (or set ODOOOPS_URL and ODOOOPS_TOKEN)".into(),
        )),
    }
}

/// A console's REST API, with the login's token.
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(login: &Login) -> Api {
        Api {
            base: login.url.trim_end_matches('/').to_owned(),
            token: login.token.clone(),
            http: reqwest::Client::builder()
                .user_agent(concat!("odooops-cli/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// `GET /api/v1{path}`: the JSON answer, or the error with its exit code.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.send(self.http.get(format!("{}/api/v1{path}", self.base))).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<serde_json::Value, ClientError> {
        let r = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| ClientError::Failed(format!("{} did not answer: {e}", self.base)))?;
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(ClientError::from_status(status, body["message"].as_str().unwrap_or("the console gave no reason")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_exit_codes() {
        assert_eq!(ClientError::from_status(401, "sign in first").exit_code(), 3);
        assert_eq!(ClientError::from_status(403, "no").exit_code(), 4);
        assert_eq!(ClientError::from_status(404, "project not found").exit_code(), 5);
        assert_eq!(ClientError::from_status(409, "busy").exit_code(), 1);
        assert_eq!(ClientError::from_status(422, "bad").message(), "bad");
    }
}
