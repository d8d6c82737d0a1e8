//! A private PostgreSQL cluster that `odooops` starts itself when no
//! `DATABASE_URL` is given, so the console runs with nothing set up.
//!
//! It uses the PostgreSQL server binaries of the machine (Debian's
//! `postgresql` package), keeps its data under the OdooOps data directory,
//! listens on a unix socket in that directory and on a loopback port, and
//! authenticates with SCRAM and a generated superuser password.
//!
//! The postmaster is our direct child (not daemonised through `pg_ctl`), in
//! its own process group so a terminal's Ctrl-C reaches only us, and with a
//! parent-death signal so it never outlives a crashed `odooops`. PostgreSQL
//! refuses to run as root; when we are root it runs as the `postgres` system user.

use anyhow::{bail, Context, Result};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Settings that trade durability for speed, for test clusters only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Full,
    /// `fsync=off`, `synchronous_commit=off`, `full_page_writes=off`.
    Throwaway,
}

/// How a cluster is started beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    /// The port to try first (the one it had before).
    pub port: Option<u16>,
    /// `name=value` server settings, after the defaults.
    pub settings: Vec<String>,
    /// Where the unix socket goes instead of beside the data. When set,
    /// containers reach the server through this directory alone (mounted
    /// into them) and never over TCP: a dedicated server.
    pub socket_dir: Option<PathBuf>,
}

/// Who besides the console (on loopback) may log in, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Containers {
    /// Nobody.
    None,
    /// Tenant roles from Docker's ranges, over TCP on the bridge gateway.
    Bridge,
    /// Tenant roles through the unix socket, whose directory only their own containers mount.
    Socket,
}

pub struct EmbeddedPostgres {
    dir: PathBuf,
    port: u16,
    password: String,
    pid: i32,
    exited: Option<tokio::sync::oneshot::Receiver<()>>,
}

const SUPERUSER: &str = "odooops";

/// The login that creates and drops build databases and roles: CREATEDB and
/// CREATEROLE, never a superuser (see `builds::infra::BuildDatabases`).
pub const BUILDS_ADMIN: &str = "odooops_builds";

impl EmbeddedPostgres {
    /// Initialises the cluster under `root/postgres` if needed, then starts it.
    pub async fn start(root: &Path, durability: Durability) -> Result<Self> {
        Self::start_listening(root, durability, &[]).await
    }

    /// As [`start`](Self::start), also listening on `extra` addresses (the Docker
    /// bridge gateway) so build containers reach their databases, with password
    /// authentication for Docker's private ranges only.
    pub async fn start_listening(root: &Path, durability: Durability, extra: &[String]) -> Result<Self> {
        Self::start_tuned(root, durability, extra, &Tuning::default()).await
    }

    /// As [`start_listening`](Self::start_listening), on `tuning`'s port when it
    /// is free (so containers that were given it reach the server again after a
    /// restart) and with its settings (a dedicated server's memory).
    pub async fn start_tuned(root: &Path, durability: Durability, extra: &[String], tuning: &Tuning) -> Result<Self> {
        let bin = find_bin_dir()?;
        let run_as = RunAs::detect()?;
        let dir = root.join("postgres");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        run_as.own(&dir)?;
        let pgdata = dir.join("data");
        let password_file = dir.join("superuser-password");
        if !pgdata.join("PG_VERSION").exists() {
            init_cluster(&bin, &dir, &pgdata, &password_file, &run_as)?;
        }
        let password = std::fs::read_to_string(&password_file)
            .with_context(|| format!("reading {}", password_file.display()))?
            .trim()
            .to_owned();
        let access = match (&tuning.socket_dir, extra.is_empty()) {
            (Some(_), _) => Containers::Socket,
            (None, false) => Containers::Bridge,
            (None, true) => Containers::None,
        };
        allow_containers(&pgdata, access)?;
        let listen = std::iter::once("127.0.0.1".to_owned()).chain(extra.iter().cloned()).collect::<Vec<_>>().join(",");
        let socket_dir = tuning.socket_dir.clone().unwrap_or_else(|| dir.join("run"));
        if tuning.socket_dir.is_some() && !socket_fits(&socket_dir) {
            bail!("the socket directory {} is too long for a unix socket (107 bytes in all)", socket_dir.display());
        }
        std::fs::create_dir_all(&socket_dir)?;
        run_as.own(&socket_dir)?;
        {
            use std::os::unix::fs::PermissionsExt;
            // Containers run as their own users: they traverse it and connect (PostgreSQL's socket is 0777).
            std::fs::set_permissions(&socket_dir, std::fs::Permissions::from_mode(0o755))?;
        }

        let mut last_err = None;
        for attempt in 0..5 {
            let port = match tuning.port {
                Some(p) if attempt == 0 => p,
                _ => free_port()?,
            };
            match Self::launch(&bin, &dir, &pgdata, &socket_dir, port, durability, &run_as, &listen, &tuning.settings) {
                Ok((pid, exited)) => {
                    let mut pg = EmbeddedPostgres {
                        dir: dir.clone(),
                        port,
                        password: password.clone(),
                        pid,
                        exited: Some(exited),
                    };
                    match pg.wait_ready().await {
                        Ok(()) => return Ok(pg),
                        Err(e) => {
                            last_err = Some(e);
                            pg.kill_now();
                        }
                    }
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    fn launch(
        bin: &Path,
        dir: &Path,
        pgdata: &Path,
        socket_dir: &Path,
        port: u16,
        durability: Durability,
        run_as: &RunAs,
        listen: &str,
        settings: &[String],
    ) -> Result<(i32, tokio::sync::oneshot::Receiver<()>)> {
        use std::os::unix::process::CommandExt;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("postgres.log"))?;
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D").arg(pgdata).arg("-p").arg(port.to_string()).arg("-k");
        // A socket path longer than the kernel's 107 bytes fails the start: then
        // no unix socket at all (everything here connects over TCP).
        if socket_fits(socket_dir) {
            cmd.arg(socket_dir);
        } else {
            cmd.arg("");
        }
        cmd.arg("-c").arg(format!("listen_addresses={listen}"));
        for setting in
            ["max_connections=300", "shared_buffers=128MB", "logging_collector=off", "log_min_messages=warning"]
        {
            cmd.arg("-c").arg(setting);
        }
        // Later settings win: a dedicated server's own memory and connections.
        for setting in settings {
            cmd.arg("-c").arg(setting);
        }
        if durability == Durability::Throwaway {
            for setting in ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] {
                cmd.arg("-c").arg(setting);
            }
        }
        cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).process_group(0);
        run_as.apply(&mut cmd);
        // SAFETY: prctl is async-signal-safe and touches only this child.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        // The waiter thread owns the child: the parent-death signal fires when
        // the *thread* that spawned the child ends, so that thread must live
        // exactly as long as the postmaster.
        let (pid_tx, pid_rx) = std::sync::mpsc::channel();
        let (exit_tx, exit_rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name("postgres-waiter".into()).spawn(move || {
            match cmd.spawn() {
                Ok(mut child) => {
                    let _ = pid_tx.send(Ok(child.id() as i32));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = pid_tx.send(Err(e));
                }
            }
            let _ = exit_tx.send(());
        })?;
        let pid = pid_rx.recv().context("postgres waiter thread died")?.context("spawning postgres")?;
        Ok((pid, exit_rx))
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let opts = self.connect_options("postgres").log_statements(tracing::log::LevelFilter::Off);
            match sqlx::PgConnection::connect_with(&opts).await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                Err(e) => {
                    let exited = self.exited.as_mut().map(|rx| rx.try_recv().is_ok()).unwrap_or(true);
                    if exited || Instant::now() > deadline {
                        bail!(
                            "PostgreSQL did not become ready ({e}); last lines of {}:\n{}",
                            self.log_path().display(),
                            tail(&self.log_path(), 15)
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Connection options for a database of this cluster, as its superuser.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(SUPERUSER)
            .password(&self.password)
            .database(database)
    }

    /// The superuser's URL for `database` (for processes started by tests).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}", self.password, self.port)
    }

    /// The builds' admin login as a URL (after [`EmbeddedPostgres::builds_admin`] created it).
    pub fn builds_admin_url(&self) -> Result<String> {
        let password = std::fs::read_to_string(self.dir.join("builds-admin-password"))?;
        Ok(format!("postgres://{BUILDS_ADMIN}:{}@127.0.0.1:{}/postgres", password.trim(), self.port))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    /// The builds' admin login (created on first use, its password kept beside
    /// the superuser's), with PUBLIC's CONNECT revoked on the databases the
    /// cluster holds besides build databases, so only those who must can connect:
    /// the admin to `postgres`, the application roles to the control plane.
    pub async fn builds_admin(&self) -> Result<PgConnectOptions> {
        use std::os::unix::fs::PermissionsExt;
        let file = self.dir.join("builds-admin-password");
        if !file.exists() {
            let tmp = self.dir.join("builds-admin-password.tmp");
            std::fs::write(&tmp, crate::auth::random_token(24))?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
            std::fs::rename(&tmp, &file)?;
        }
        let password = std::fs::read_to_string(&file)?.trim().to_owned();
        let mut conn = sqlx::PgConnection::connect_with(&self.connect_options("postgres")).await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(BUILDS_ADMIN)
            .fetch_one(&mut conn)
            .await?;
        let verb = if exists { "ALTER" } else { "CREATE" };
        sqlx::query(&format!(
            "{verb} ROLE {BUILDS_ADMIN} LOGIN NOSUPERUSER CREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD '{}'",
            password.replace('\'', "''")
        ))
        .execute(&mut conn)
        .await
        .context("creating the builds' admin role")?;
        let databases: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datallowconn AND datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)",
        )
        .fetch_all(&mut conn)
        .await?;
        for db in databases {
            sqlx::query(&format!("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC", quote_ident(&db)))
                .execute(&mut conn)
                .await?;
        }
        sqlx::query(&format!("GRANT CONNECT ON DATABASE postgres TO {BUILDS_ADMIN}")).execute(&mut conn).await?;
        // Dropping a build database ends its sessions, autovacuum's (which has no role) included.
        sqlx::query(&format!("GRANT pg_signal_backend TO {BUILDS_ADMIN}")).execute(&mut conn).await?;
        conn.close().await?;
        Ok(PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(BUILDS_ADMIN)
            .password(&password)
            .database("postgres"))
    }

    /// Creates `name` if it does not exist yet.
    pub async fn ensure_database(&self, name: &str) -> Result<()> {
        let mut conn = sqlx::PgConnection::connect_with(&self.connect_options("postgres")).await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0", quote_ident(name)))
                .execute(&mut conn)
                .await
                .with_context(|| format!("creating database {name}"))?;
        }
        conn.close().await?;
        Ok(())
    }

    /// Fast shutdown (SIGINT): clients are disconnected, data is flushed.
    pub async fn stop(mut self) -> Result<()> {
        let Some(exited) = self.exited.take() else { return Ok(()) };
        // SAFETY: sending a signal to our own child's pid.
        unsafe { libc::kill(self.pid, libc::SIGINT) };
        if tokio::time::timeout(Duration::from_secs(30), exited).await.is_err() {
            // SAFETY: as above; SIGQUIT is PostgreSQL's immediate shutdown.
            unsafe { libc::kill(self.pid, libc::SIGQUIT) };
            bail!("PostgreSQL did not stop within 30 s; sent SIGQUIT");
        }
        Ok(())
    }

    fn kill_now(&mut self) {
        if self.exited.take().is_some() {
            // SAFETY: sending a signal to our own child's pid.
            unsafe { libc::kill(self.pid, libc::SIGQUIT) };
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if self.exited.take().is_some() {
            // SAFETY: sending a signal to our own child's pid.
            unsafe { libc::kill(self.pid, libc::SIGINT) };
        }
    }
}

fn init_cluster(bin: &Path, dir: &Path, pgdata: &Path, password_file: &Path, run_as: &RunAs) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let password = crate::auth::random_token(24);
    std::fs::write(password_file, &password)?;
    std::fs::set_permissions(password_file, std::fs::Permissions::from_mode(0o600))?;
    run_as.own(password_file)?;
    // Initialise into a scratch directory and rename: a crash mid-initdb never
    // leaves a half-made cluster that looks real.
    let scratch = dir.join("data.init");
    let _ = std::fs::remove_dir_all(&scratch);
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D")
        .arg(&scratch)
        .arg("-U")
        .arg(SUPERUSER)
        .arg("--auth-local=scram-sha-256")
        .arg("--auth-host=scram-sha-256")
        .arg(format!("--pwfile={}", password_file.display()))
        .arg("-E")
        .arg("UTF8")
        .arg("--no-locale")
        .stdin(Stdio::null());
    run_as.apply(&mut cmd);
    let out = cmd.output().context("running initdb")?;
    if !out.status.success() {
        bail!("initdb failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    std::fs::rename(&scratch, pgdata)?;
    Ok(())
}

const HBA_MARKER: &str = "# odooops: build containers on Docker networks, with passwords";
const HBA_SOCKET_MARKER: &str = "# odooops: the instance's containers, through the socket mounted into them only";
const HBA_SOCKET_END: &str = "# odooops: end of the socket lines";

/// Whether a socket of any port fits the kernel's 107 bytes in `dir`.
fn socket_fits(dir: &Path) -> bool {
    dir.join(".s.PGSQL.65535").as_os_str().len() <= 107
}

/// Adds (or removes) the pg_hba.conf lines that let build containers in, so the
/// file always matches how containers reach the cluster. From Docker's ranges
/// (`Bridge`) only a tenant role may log in, and only to the database of its
/// own name (`sameuser`): never the superuser, the builds' admin or the
/// application roles, never the control plane, never another build's database.
/// Through the socket (`Socket`, a dedicated server: its directory is mounted
/// into its instance's containers alone) the same rule, and the socket admits
/// nobody else; these lines come first, as PostgreSQL takes the first match.
fn allow_containers(pgdata: &Path, access: Containers) -> Result<()> {
    let path = pgdata.join("pg_hba.conf");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    // Ours: the head between the socket markers, and the tail after the bridge
    // marker (earlier versions' `host all all` lines included).
    let mut kept = Vec::new();
    let mut in_head = false;
    for line in text.lines() {
        match line {
            HBA_MARKER => break,
            HBA_SOCKET_MARKER => in_head = true,
            HBA_SOCKET_END => in_head = false,
            _ if !in_head => kept.push(line),
            _ => {}
        }
    }
    let group = crate::builds::infra::TENANT_GROUP;
    let mut out = String::new();
    if access == Containers::Socket {
        out.push_str(&format!(
            "{HBA_SOCKET_MARKER}\nlocal sameuser +{group} scram-sha-256\nlocal all all reject\n{HBA_SOCKET_END}\n"
        ));
    }
    out.push_str(&kept.join("\n"));
    out.push('\n');
    if access == Containers::Bridge {
        out.push_str(HBA_MARKER);
        out.push('\n');
        // First the refusals: the privileged logins, whatever role memberships a
        // tenant grants them (on PostgreSQL 15 a role may grant itself to others).
        for range in ["172.16.0.0/12", "192.168.0.0/16"] {
            out.push_str(&format!("host all {SUPERUSER},{BUILDS_ADMIN} {range} reject\n"));
            out.push_str(&format!("host all +odooops_app {range} reject\n"));
        }
        for range in ["172.16.0.0/12", "192.168.0.0/16"] {
            out.push_str(&format!("host sameuser +{group} {range} scram-sha-256\n"));
        }
    }
    if out != text {
        std::fs::write(&path, out)?;
    }
    Ok(())
}

/// Finds PostgreSQL's server binaries: `ODOOOPS_PG_BIN_DIR`, Debian's
/// `/usr/lib/postgresql/<newest>/bin`, or `initdb` on `PATH`.
pub fn find_bin_dir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("ODOOOPS_PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, p): &(u32, PathBuf)| p.join("postgres").exists())
        .collect();
    versions.sort();
    if let Some((_, p)) = versions.pop() {
        return Ok(p);
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir);
        if p.join("initdb").exists() && p.join("postgres").exists() {
            return Ok(p.to_path_buf());
        }
    }
    bail!(
        "PostgreSQL server binaries not found: install them (Debian: `apt-get install postgresql`), \
           set ODOOOPS_PG_BIN_DIR, or set DATABASE_URL to use an existing server"
    )
}

/// Who the cluster's processes run as: ourselves, or `postgres` when we are root.
struct RunAs(Option<(u32, u32)>);

impl RunAs {
    fn detect() -> Result<Self> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(RunAs(None));
        }
        let name = std::ffi::CString::new("postgres").expect("static");
        // SAFETY: getpwnam returns a pointer into static storage or null; we copy the ids at once.
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        if pw.is_null() {
            bail!(
                "running as root, and PostgreSQL refuses root: create the `postgres` user \
                   (Debian's postgresql package does) or run odooops as an ordinary user"
            );
        }
        // SAFETY: pw is non-null and points to a valid passwd record.
        let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
        Ok(RunAs(Some((uid, gid))))
    }

    fn apply(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        if let Some((uid, gid)) = self.0 {
            cmd.uid(uid).gid(gid);
        }
    }

    fn own(&self, path: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.0 {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .with_context(|| format!("giving {} to the postgres user", path.display()))?;
        }
        Ok(())
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Quotes an SQL identifier.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod hba {
    #[test]
    fn container_lines_admit_only_tenant_roles_to_their_own_database_and_replace_older_ones() {
        let dir = std::env::temp_dir().join(format!("odooops-hba-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pg_hba.conf");
        // What an earlier version wrote: any role, any database, from Docker's ranges.
        std::fs::write(
            &file,
            format!(
                "local all all scram-sha-256\n{}\nhost all all 172.16.0.0/12 scram-sha-256\nhost all all 192.168.0.0/16 scram-sha-256\n",
                super::HBA_MARKER
            ),
        )
        .unwrap();
        super::allow_containers(&dir, super::Containers::Bridge).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("host all all"), "{text}");
        assert_eq!(text.matches("host sameuser +odooops_tenants").count(), 2, "{text}");
        let refused =
            text.find("host all odooops,odooops_builds 172.16.0.0/12 reject").expect("privileged logins refused");
        assert!(refused < text.find("host sameuser").unwrap(), "refusals come first: {text}");
        assert!(text.starts_with("local all all scram-sha-256\n"));
        super::allow_containers(&dir, super::Containers::None).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "local all all scram-sha-256\n");
        // A dedicated server: its socket admits tenant roles into their own database, then nobody, before
        // the defaults; no container line over TCP. Idempotent, and undone like the others.
        super::allow_containers(&dir, super::Containers::Socket).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("172.16.0.0/12"), "{text}");
        let first: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).take(2).collect();
        assert_eq!(first, ["local sameuser +odooops_tenants scram-sha-256", "local all all reject"], "{text}");
        super::allow_containers(&dir, super::Containers::Socket).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "idempotent");
        super::allow_containers(&dir, super::Containers::None).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "local all all scram-sha-256\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
