//! What builds need besides the control-plane database: a PostgreSQL server
//! for the builds' own databases (reachable from containers; see
//! [`databases`](super::databases)), directories for repository mirrors and
//! work trees, filestores, and limits.

pub use super::databases::{BuildDatabases, DbGrant, DB_SOCKET_MOUNT, TENANT_GROUP};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone)]
pub struct BuildInfra {
    /// The shared server: every build database not routed to a dedicated one.
    pub databases: BuildDatabases,
    /// Instances' own PostgreSQL servers (see [`BuildInfra::db`]).
    pub dedicated: crate::instances::dedicated::Servers,
    /// Bare mirrors, one per project.
    pub repos_dir: PathBuf,
    /// Per-build scratch (checked-out sources).
    pub work_dir: PathBuf,
    /// The stand-in `odoo` binary, to build the stand-in image from scratch.
    pub standin_binary: Option<PathBuf>,
    pub max_concurrent: usize,
    /// Builds one tenant may run at once on this server (the rest wait their turn).
    pub max_per_tenant: usize,
    /// Longest the image and install phases may each take.
    pub phase_timeout: Duration,
    pub health_timeout: Duration,
    /// Name of this host in `ops.builds.worker`.
    pub worker: String,
    /// Previews are served at `http://<slug>.<preview_domain>`.
    pub preview_domain: String,
    /// Tenant instances answer at `<subdomain>.<instances_domain>` (by default the preview domain).
    pub instances_domain: String,
    /// Signs preview share links.
    pub preview_key: Vec<u8>,
    /// Short id of this installation: its containers, networks and databases
    /// carry it, so installations sharing a Docker host or database server
    /// never touch each other's.
    pub installation: String,
    /// Where containers reach the mail catcher (`host`, `port`), when it runs.
    pub mail_catcher: Option<(String, u16)>,
    /// Filestores, one directory per database, mounted into its containers.
    pub filestore_dir: PathBuf,
    pub backups: crate::backups::BackupInfra,
    /// Longest a git command (clone, fetch, export, ls-remote) may take.
    pub git_timeout: Duration,
    /// Whether repositories may be local paths or `file://` URLs (an operator's
    /// setting: tenants get `https://` and `ssh://` only).
    pub allow_local_repos: bool,
    /// Instances' custom domains: the names the router knows, and how verification reaches out.
    pub custom_domains: crate::instances::domains::Domains,
    /// The router's requests per serving build since the monitor's last pass.
    pub traffic: crate::monitoring::Traffic,
}

impl BuildInfra {
    /// The server `database` lives on: an instance's dedicated server when it
    /// is routed there, else the shared one. Every statement on a build's
    /// database finds its server here.
    pub fn db(&self, database: &str) -> BuildDatabases {
        self.dedicated.for_database(database).unwrap_or_else(|| self.databases.clone())
    }
}

/// Where Odoo keeps a database's filestore inside its container.
pub fn container_filestore(database: &str) -> String {
    format!("/var/lib/odoo/filestore/{database}")
}

/// Makes a filestore directory writable by Odoo, which runs as uid 101 in
/// the official image (the stand-in runs as root). Odoo only ever adds and
/// unlinks files, so its directories are what must be its own; `tree` walks
/// the directories below too (after a copy or a restore wrote them), otherwise
/// only the top one is touched, so an ordinary build costs no walk.
/// The walk never follows a link a container planted (see `filestore`).
pub fn open_filestore(dir: &std::path::Path, tree: bool) {
    let _ = std::fs::create_dir_all(dir);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    if let Err(e) = super::filestore::chown_dirs(dir, 101, 101, tree) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not give the filestore to Odoo's user");
    }
}

/// Copies a filestore with hard links (Odoo never rewrites a stored file in
/// place, so a staging copy may share them with production). Production's
/// filestore is its containers' to change: links in it are not copied, and
/// nothing is followed or linked through them (see `filestore`).
pub fn copy_filestore(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<u64> {
    super::filestore::copy_tree(from, to)
}

/// A short lowercase id derived from an installation secret.
pub fn installation_id(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))[..8].to_owned()
}

pub use crate::wire::STANDIN_IMAGE;
