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

    /// Reverse proxies in front of the console (comma-separated addresses):
    /// from these peers, `X-Forwarded-For` names the client (throttling, audit).
    /// From anyone else the header is ignored.
    #[arg(long, env = "ODOOOPS_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,

    /// Allow anyone to sign up (the first account, with the setup token, always may).
    #[arg(long, env = "ODOOOPS_SIGNUP_OPEN", default_value_t = true, action = clap::ArgAction::Set)]
    pub signup_open: bool,

    /// Sign-ups one client address may make in 15 minutes (more for a classroom or a test suite behind one address).
    #[arg(long, env = "ODOOOPS_SIGNUP_LIMIT", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub signup_limit: u16,

    /// Session lifetime in hours.
    #[arg(long, env = "ODOOOPS_SESSION_HOURS", default_value_t = 168)]
    pub session_hours: u64,

    /// Size of the application's database connection pool.
    #[arg(long, env = "ODOOOPS_DB_POOL_SIZE", default_value_t = 10)]
    pub db_pool_size: u32,

    /// Run builds on this server (needs Docker and a builds database).
    #[arg(long, env = "ODOOOPS_BUILDS", default_value_t = true, action = clap::ArgAction::Set)]
    pub builds: bool,

    /// Where builds and previews run: `docker` (the local engine) or `swarm`
    /// (Docker Swarm mode: this engine must be a manager; `docker swarm init`).
    #[arg(long, env = "ODOOOPS_RUNTIME", default_value = "docker")]
    pub runtime: domain::runtime::Backend,

    /// An OCI registry (`host:port`) the swarm's nodes pull build images from;
    /// without one, a swarm service is pinned to the node that built its image.
    #[arg(long, env = "ODOOOPS_REGISTRY")]
    pub registry: Option<String>,

    /// Placement constraints added to every swarm workload (comma-separated),
    /// e.g. `node.labels.odooops.pool==builds`.
    #[arg(long, env = "ODOOOPS_SWARM_CONSTRAINTS", value_delimiter = ',')]
    pub swarm_constraints: Vec<String>,

    /// PostgreSQL server for build databases (a role with CREATEDB and CREATEROLE).
    /// Defaults to the embedded cluster, which then also listens on the Docker bridge.
    #[arg(long, env = "ODOOOPS_BUILDS_DATABASE_URL", hide_env_values = true)]
    pub builds_database_url: Option<String>,

    /// The address build containers use to reach that server.
    #[arg(long, env = "ODOOOPS_BUILDS_DB_HOST")]
    pub builds_db_host: Option<String>,

    /// Previews answer at http://<build>.<preview domain>; `localhost` needs no DNS.
    #[arg(long, env = "ODOOOPS_PREVIEW_DOMAIN", default_value = "localhost")]
    pub preview_domain: String,

    /// Tenant instances answer at http://<subdomain>.<instances domain>; empty: the preview domain.
    #[arg(long, env = "ODOOOPS_INSTANCES_DOMAIN", default_value = "")]
    pub instances_domain: String,

    /// Names the console resolves itself when verifying custom domains,
    /// `host=ip[:port]` (split-horizon DNS; tests).
    #[arg(long, env = "ODOOOPS_DOMAIN_RESOLVE", value_delimiter = ',')]
    pub domain_resolve: Vec<String>,

    /// The key (64 hex digits) that seals stored secrets (SSO client secrets, Management API tokens).
    /// Empty: `seal.key` in the data directory, made on first start. See SECURITY.md for rotation.
    #[arg(long, env = "ODOOOPS_SEAL_KEY", hide_env_values = true)]
    pub seal_key: Option<String>,

    /// Earlier seal keys, separated by commas: values sealed under them still open; writes use the new key.
    #[arg(long, env = "ODOOOPS_SEAL_KEY_PREVIOUS", hide_env_values = true)]
    pub seal_key_previous: Option<String>,

    /// Where the Supabase Management API answers (the Supabase kit's proxy forwards there).
    #[arg(long, env = "ODOOOPS_SUPABASE_API", default_value = "https://api.supabase.com")]
    pub supabase_api: String,

    /// Certificate authorities (a PEM file) the console trusts, besides the system's, when it
    /// fetches from a tenant's services (an identity provider behind a company CA).
    #[arg(long, env = "ODOOOPS_TRUST_CA")]
    pub trust_ca: Option<std::path::PathBuf>,

    /// Networks (CIDR) custom-domain verification may fetch from although they
    /// are not public (a load balancer on a private range). Default: none.
    #[arg(long, env = "ODOOOPS_DOMAIN_CHECK_ALLOW", value_delimiter = ',')]
    pub domain_check_allow: Vec<String>,

    /// Builds run at once on this server.
    #[arg(long, env = "ODOOOPS_MAX_BUILDS", default_value_t = 2)]
    pub max_builds: usize,

    /// Builds one tenant may run at once (0: one less than --max-builds, at least 1).
    #[arg(long, env = "ODOOOPS_MAX_BUILDS_PER_TENANT", default_value_t = 0)]
    pub max_builds_per_tenant: usize,

    /// Longest the image and the install/tests phase may each take, in minutes.
    #[arg(long, env = "ODOOOPS_PHASE_TIMEOUT_MINS", default_value_t = 30)]
    pub phase_timeout_mins: u64,

    /// Longest a git command (clone, fetch, export, ls-remote) may take, in seconds.
    #[arg(long, env = "ODOOOPS_GIT_TIMEOUT_SECS", default_value_t = 600)]
    pub git_timeout_secs: u64,

    /// Allow repositories on this host's filesystem (paths, file://). Off: tenants
    /// may use https:// and ssh:// only (a local path reads any repository the console can).
    #[arg(long, env = "ODOOOPS_ALLOW_LOCAL_REPOS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_local_repos: bool,

    /// Seconds a new build has to answer /web/health.
    #[arg(long, env = "ODOOOPS_HEALTH_TIMEOUT_SECS", default_value_t = 120)]
    pub health_timeout_secs: u64,

    /// The stand-in `odoo` binary (built from `standin/`) for the stand-in image.
    #[arg(long, env = "ODOOOPS_STANDIN_BIN")]
    pub standin_bin: Option<PathBuf>,

    /// Address of the SSH gateway (`ssh <build>@host -p <port>`); `off` disables it.
    #[arg(long, env = "ODOOOPS_SSH_LISTEN", default_value = "127.0.0.1:2222")]
    pub ssh_listen: String,

    /// Seconds after a console's last heartbeat at which the other consoles
    /// take its jobs over (it beats six times per lease).
    #[arg(long, env = "ODOOOPS_JOB_LEASE_SECS", default_value_t = 30)]
    pub job_lease_secs: u64,

    /// Seconds without typing after which a shell is closed.
    #[arg(long, env = "ODOOOPS_SHELL_IDLE_SECS", default_value_t = 600)]
    pub shell_idle_secs: u64,

    /// Bytes of transcript stored per shell session (beyond: counted, not stored).
    #[arg(long, env = "ODOOOPS_SHELL_TRANSCRIPT_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub shell_transcript_bytes: u64,

    /// Port of the mail catcher (SMTP) for development and staging builds; 0 disables it.
    /// It listens on loopback and on the Docker bridge, where build containers reach it.
    #[arg(long, env = "ODOOOPS_SMTP_PORT", default_value_t = 2525)]
    pub smtp_port: u16,

    /// SMTP relay for the console's own mail (password resets), `host[:port]`
    /// (port 587 by default). Without it those mails go to the log, tokens redacted.
    #[arg(long, env = "ODOOOPS_SMTP_RELAY")]
    pub smtp_relay: Option<String>,

    /// `tls` (implicit, the default on port 465), `starttls` (required, the default
    /// otherwise) or `none` (a relay on this host only).
    #[arg(long, env = "ODOOOPS_SMTP_RELAY_SECURITY")]
    pub smtp_relay_security: Option<String>,

    /// User name for the relay (with the password).
    #[arg(long, env = "ODOOOPS_SMTP_RELAY_USER")]
    pub smtp_relay_user: Option<String>,

    /// Password for the relay.
    #[arg(long, env = "ODOOOPS_SMTP_RELAY_PASSWORD", hide_env_values = true)]
    pub smtp_relay_password: Option<String>,

    /// Sender of the console's own mail. Default: `OdooOps <noreply@<public host>>`.
    #[arg(long, env = "ODOOOPS_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Largest message the catcher accepts, in bytes (beyond: SMTP 552).
    #[arg(long, env = "ODOOOPS_MAIL_MAX_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub mail_max_bytes: usize,

    /// Where backups are kept: a directory, or `s3://bucket[/prefix]` for any
    /// S3-compatible store (credentials and endpoint from the `AWS_*` variables,
    /// e.g. `AWS_ENDPOINT` and `AWS_ALLOW_HTTP=true` for MinIO).
    /// Default: `<data dir>/backups/store`.
    #[arg(long, env = "ODOOOPS_BACKUP_STORE")]
    pub backup_store: Option<String>,

    /// Directory of the compiled site (WASM, JS, CSS). Defaults to `target/site`,
    /// or `site` next to the binary's directory.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// The site configuration Leptos reads at run time. Defaults to `Leptos.toml`
    /// in the working directory, or next to the binary's directory; `LEPTOS_*`
    /// variables override what it says.
    #[arg(long, env = "ODOOOPS_LEPTOS_TOML")]
    pub leptos_toml: Option<PathBuf>,
}

impl ServeConfig {
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The stand-in binary: the flag, else the musl build of `standin/` in `target/`, else beside the binary.
    pub fn standin_bin(&self) -> Option<PathBuf> {
        if let Some(p) = &self.standin_bin {
            return Some(p.clone());
        }
        let exe_dir = std::env::current_exe().ok().and_then(|e| e.parent().map(PathBuf::from));
        [Some(PathBuf::from("target/x86_64-unknown-linux-musl/release/odoo")), exe_dir.map(|d| d.join("odoo-standin"))]
            .into_iter()
            .flatten()
            .find(|p| p.is_file())
    }

    /// The SSH gateway's address, unless it is off.
    pub fn ssh_listen(&self) -> anyhow::Result<Option<SocketAddr>> {
        match self.ssh_listen.trim() {
            "" | "off" | "false" => Ok(None),
            a => {
                a.parse().map(Some).map_err(|_| anyhow::anyhow!("ODOOOPS_SSH_LISTEN: `{a}` is not host:port or `off`"))
            }
        }
    }

    /// The `Leptos.toml` to read: the flag, else the working directory's, else the
    /// one next to the binary's directory (as the site is found).
    pub fn leptos_toml(&self) -> Option<PathBuf> {
        if let Some(p) = &self.leptos_toml {
            return Some(p.clone());
        }
        let local = PathBuf::from("Leptos.toml");
        if local.is_file() {
            return Some(local);
        }
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent()?.parent().map(|p| p.join("Leptos.toml")))
            .filter(|p| p.is_file())
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
