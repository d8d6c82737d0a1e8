//! `odooops login <url>`, `logout` and `whoami`: a personal access token
//! (made in the browser's Settings, pasted or piped in) checked against the
//! console before it is stored.

use super::{resolve, store, Api, ClientError, Login};
use std::io::{BufRead, IsTerminal, Write};

/// Checks the token against the console, then stores both.
pub async fn login(url: &str, token: Option<String>) -> Result<(), ClientError> {
    let url = url.trim().trim_end_matches('/').to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ClientError::Usage(format!("{url} is not a console's address (https://ops.example.com)")));
    }
    let token = match token.filter(|t| !t.trim().is_empty()) {
        Some(t) => t,
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("Personal access token (Settings → Tokens in {url}): ");
                let _ = std::io::stderr().flush();
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| ClientError::Failed(format!("reading the token: {e}")))?;
            line
        }
    };
    let login = Login { url, token: token.trim().to_owned() };
    if login.token.is_empty() {
        return Err(ClientError::Usage("no token given".into()));
    }
    let me = Api::new(&login).get("/me").await?;
    let path = store(&login)?;
    println!("logged in to {} as {} (saved in {})", login.url, me["email"].as_str().unwrap_or("?"), path.display());
    Ok(())
}

/// Forgets the stored login (the token itself stays valid until revoked in the console).
pub fn logout() -> Result<(), ClientError> {
    let Some(path) = super::config_path() else { return Ok(()) };
    match std::fs::remove_file(&path) {
        Ok(()) => {
            println!("logged out (the token stays valid until you revoke it in the console)");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("not logged in");
            Ok(())
        }
        Err(e) => Err(ClientError::Failed(format!("removing {}: {e}", path.display()))),
    }
}

/// Who the token belongs to.
pub async fn whoami(json: bool) -> Result<(), ClientError> {
    let login = resolve()?;
    let me = Api::new(&login).get("/me").await?;
    if json {
        println!("{me}");
    } else {
        println!("{} on {}", me["email"].as_str().unwrap_or("?"), login.url);
        if let Some(role) = me["platform_role"].as_str() {
            println!("platform role: {role}");
        }
        for t in me["tenants"].as_array().into_iter().flatten() {
            println!("tenant {}: {}", t["slug"].as_str().unwrap_or("?"), t["role"].as_str().unwrap_or("staff"));
        }
    }
    Ok(())
}
