//! Every setting of the console server, from flags or environment variables.

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// PostgreSQL URL of the control-plane database (its owner). Without it,
    /// odooops starts a private PostgreSQL cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Where OdooOps keeps its state (the embedded cluster, later repositories and backups).
    #[arg(long, env = "ODOOOPS_DATA_DIR", default_value = ".odooops")]
    pub data_dir: PathBuf,

    /// The URL people use to reach the console (mail links, origin checks).
    /// Defaults to http://<listen address>.
    #[arg(long, env = "ODOOOPS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Allow anyone to sign up (the first account always may).
    #[arg(long, env = "ODOOOPS_SIGNUP_OPEN", default_value_t = true, action = clap::ArgAction::Set)]
    pub signup_open: bool,

    /// Session lifetime in hours.
    #[arg(long, env = "ODOOOPS_SESSION_HOURS", default_value_t = 168)]
    pub session_hours: u64,

    /// Size of the application's database connection pool.
    #[arg(long, env = "ODOOOPS_DB_POOL_SIZE", default_value_t = 10)]
    pub db_pool_size: u32,

    /// Directory of the compiled site (WASM, JS, CSS). Defaults to `target/site`,
    /// or `site` next to the binary's directory.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
}

impl ServeConfig {
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn site_root(&self) -> PathBuf {
        if let Some(root) = &self.site_root {
            return root.clone();
        }
        let local = PathBuf::from("target/site");
        if local.exists() {
            return local;
        }
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent()?.parent().map(|p| p.join("site")))
            .filter(|p| p.exists())
            .unwrap_or(local)
    }
}
