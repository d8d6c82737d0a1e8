use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the dashboard shows about the installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallStatus {
    /// `Ok(version)` or why Docker cannot be used.
    pub docker: Result<String, String>,
}

#[server(prefix = "/rpc", endpoint = "system/status")]
pub async fn system_status() -> Result<InstallStatus, AppError> {
    use super::super::ssr;
    ssr::actor().await?;
    // Asked at most every few seconds, not on every dashboard view.
    let docker = ssr::platform()?.runtime_status().await.map(|i| i.describe());
    Ok(InstallStatus { docker })
}
