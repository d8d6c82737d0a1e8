//! The `odooops` command line as a client of a console's REST API (issue
//! 19): where the console is and which token to send (a config file in the
//! user's config directory, mode 0600, that `ODOOOPS_URL` / `ODOOOPS_TOKEN`
//! override for CI), one HTTP helper that turns the console's answers into
//! the documented exit codes, and the commands: [`ops`] names the command
//! of every REST operation, [`commands`] builds the command tree from those
//! rows and the OpenAPI document and runs it; following live output
//! ([`live`]), transfers ([`transfer`]) and the terminal ([`terminal`]) are
//! the commands with behaviour of their own.
//!
//! Exit codes: 0 success, 1 the action failed, 2 usage (clap's own), 3 not
//! authenticated, 4 forbidden, 5 not found. Errors print the server's message.

pub mod account;
pub mod commands;
pub mod live;
pub mod ops;
mod output;
pub mod terminal;
pub mod transfer;

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
    /// A remote command's own exit status (`shell -c`); it printed its own output.
    Exited(u8),
}

impl ClientError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Failed(_) => 1,
            ClientError::Usage(_) => 2,
            ClientError::Unauthenticated(_) => 3,
            ClientError::Forbidden(_) => 4,
            ClientError::NotFound(_) => 5,
            ClientError::Exited(code) => *code,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ClientError::Failed(m)
            | ClientError::Usage(m)
            | ClientError::Unauthenticated(m)
            | ClientError::Forbidden(m)
            | ClientError::NotFound(m) => m,
            ClientError::Exited(_) => "",
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

/// A successful answer: its content type and body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`null` when empty).
    pub fn json(&self) -> Result<serde_json::Value, ClientError> {
        if self.body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ClientError::Failed(format!("the console's answer is not JSON: {e}")))
    }

    pub fn is_json(&self) -> bool {
        self.content_type.starts_with("application/json") || (self.content_type.is_empty() && self.body.is_empty())
    }
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

    /// The stored (or CI's) login's API.
    pub fn from_login() -> Result<Api, ClientError> {
        Ok(Api::new(&resolve()?))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// `GET /api/v1{path}`: the JSON answer, or the error with its exit code.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.send(self.http.get(format!("{}/api/v1{path}", self.base))).await?.json()
    }

    /// `POST /api/v1{path}` with a JSON body.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, ClientError> {
        self.send(self.http.post(format!("{}/api/v1{path}", self.base)).json(body)).await?.json()
    }

    /// A request to a path as the OpenAPI document spells it (`/api/v1/…`, filled in).
    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method =
            reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap_or(reqwest::Method::GET);
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// Sends with the token; a success's body, or the console's message with its exit code.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Answer, ClientError> {
        let r = self.send_raw(req).await?;
        let status = r.status().as_u16();
        let content_type =
            r.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let body = r.bytes().await.map_err(|e| ClientError::Failed(format!("reading the answer: {e}")))?.to_vec();
        Ok(Answer { status, content_type, body })
    }

    /// Sends with the token; the response when it is a success (its body unread).
    pub async fn send_raw(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        refused(self.send_any(req).await?).await
    }

    /// Sends with the token; the response whatever its status.
    pub async fn send_any(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        req.bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| ClientError::Failed(format!("{} did not answer: {e}", self.base)))
    }

    /// A WebSocket of the console (`ws://` or `wss://` after the console's scheme), with the token.
    pub async fn socket(
        &self,
        path_and_query: &str,
    ) -> Result<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>, ClientError>
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}{path_and_query}", self.base.replacen("http", "ws", 1));
        let mut req = url.as_str().into_client_request().map_err(|e| ClientError::Failed(format!("{url}: {e}")))?;
        let auth = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| ClientError::Unauthenticated("the token is not a valid header value".into()))?;
        req.headers_mut().insert("Authorization", auth);
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                let body: serde_json::Value =
                    r.body().as_deref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
                Err(ClientError::from_status(
                    r.status().as_u16(),
                    body["message"].as_str().unwrap_or("the console refused the connection"),
                ))
            }
            Err(e) => Err(ClientError::Failed(format!("{url}: {e}"))),
        }
    }
}

/// A success as it is; anything else as the console's message with its exit code.
pub async fn refused(r: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = r.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(r);
    }
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    Err(ClientError::from_status(status, body["message"].as_str().unwrap_or("the console gave no reason")))
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
