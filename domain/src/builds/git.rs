//! Every git command OdooOps runs on a tenant's repository, in one place,
//! because a repository URL is the tenant's and hostile:
//!
//! - only `https://` and `ssh://` (and scp-style) transports, unless the
//!   operator allows local repositories (`--allow-local-repos`); `ext::`,
//!   `file://`, `git://` and plain `http://` never run;
//! - nothing of the console's own identity: no user or system git config
//!   (credential helpers, `insteadOf` rewrites), no ssh config, no ssh agent
//!   and no default key: ssh offers the project's deploy key or nothing;
//! - a timeout on every command, and the process is killed when it fires, so
//!   a remote that never answers cannot hold a build slot or the poller;
//! - the remote's host must resolve to public addresses only: not loopback,
//!   private, link-local or shared ranges, so a URL cannot make the console
//!   probe its own network (the operator's `--allow-local-repos` lifts this).
//!   The name is resolved again by git itself; a name that changes its answer
//!   in between (DNS rebinding) is outside what this check stops.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// How a command may reach remotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remotes {
    /// `https` and `ssh` only.
    Network,
    /// Also local paths and `file://` (an operator's setting, for tests and own mirrors).
    AlsoLocal,
}

/// Whether a repository URL names a local repository (a path or `file://`).
pub fn is_local(url: &str) -> bool {
    let u = url.trim();
    u.starts_with('/') || u.starts_with('.') || u.starts_with('~') || u.to_ascii_lowercase().starts_with("file:")
}

/// The host a repository URL names (`https://`, `ssh://` or scp-style `user@host:path`).
pub fn remote_host(url: &str) -> Option<String> {
    let u = url.trim();
    let authority = if let Some(rest) = u.strip_prefix("https://").or_else(|| u.strip_prefix("ssh://")) {
        rest.split('/').next()?
    } else {
        let (user_host, _) = u.split_once(':')?;
        user_host
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host =
        if let Some(v6) = host_port.strip_prefix('[') { v6.split_once(']')?.0 } else { host_port.split(':').next()? };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether an address is one a tenant's URL may make the console connect to.
pub fn is_global(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_global(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6.is_multicast())
        }
    }
}

/// Refuses a URL whose host is an address (or `localhost`) that is not global, without resolving names.
pub fn literal_host_allowed(url: &str) -> Result<(), String> {
    let Some(host) = remote_host(url) else { return Ok(()) };
    if host == "localhost" || host.ends_with(".localhost") {
        return Err(format!("{host} is this server: use a repository host on the internet"));
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if !is_global(ip) => Err(format!("{ip} is not a public address: use a repository host on the internet")),
        _ => Ok(()),
    }
}

/// Resolves the URL's host and refuses it unless every address is global.
pub async fn check_remote(url: &str) -> anyhow::Result<()> {
    literal_host_allowed(url).map_err(anyhow::Error::msg)?;
    let Some(host) = remote_host(url) else { bail!("the repository URL names no host") };
    let addrs: Vec<std::net::SocketAddr> =
        tokio::time::timeout(Duration::from_secs(30), tokio::net::lookup_host((host.as_str(), 0)))
            .await
            .map_err(|_| anyhow::anyhow!("resolving {host} took too long"))?
            .with_context(|| format!("resolving {host}"))?
            .collect();
    if let Some(bad) = addrs.iter().find(|a| !is_global(a.ip())) {
        bail!("{host} resolves to {}, which is not a public address: refused", bad.ip());
    }
    Ok(())
}

/// Which remotes a command for the tenant's repository `url` may reach: local
/// paths only when the operator allows them, otherwise a public host (checked
/// before anything connects). Every git command on a tenant's URL asks here.
pub async fn remotes_for(allow_local: bool, url: &str) -> anyhow::Result<Remotes> {
    if allow_local {
        return Ok(Remotes::AlsoLocal);
    }
    if is_local(url) {
        bail!("local repositories are not allowed on this server: use an https:// or ssh:// URL");
    }
    check_remote(url).await.context("checking the repository's host")?;
    Ok(Remotes::Network)
}

/// The ssh command for git: the deploy key when there is one, nothing else of ours.
pub fn ssh_command(key: Option<&Path>, known_hosts: &Path) -> String {
    let identity = match key {
        Some(k) => format!("-i {}", k.display()),
        None => "-o IdentityFile=none".to_owned(),
    };
    format!(
        "ssh -F /dev/null {identity} -o IdentitiesOnly=yes -o IdentityAgent=none \
         -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={} -o ConnectTimeout=30 \
         -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o ForwardAgent=no -o ClearAllForwardings=yes",
        known_hosts.display()
    )
}

/// The ssh command git uses for a project: its deploy key, or no key at all.
pub async fn ssh_command_for(
    p: &crate::platform::Platform,
    infra: &super::infra::BuildInfra,
    project: uuid::Uuid,
) -> anyhow::Result<String> {
    let mut tx = p.db.begin_as(super::queue::SYSTEM_USER).await?;
    let key = crate::projects::deploy_key_private(&mut tx, project).await?;
    tx.commit().await?;
    std::fs::create_dir_all(&infra.repos_dir)?;
    let known = infra.repos_dir.join("known_hosts");
    let Some(key) = key else { return Ok(ssh_command(None, &known)) };
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let file = infra.repos_dir.join(format!("{project}.key"));
    let mut f = std::fs::OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&file)?;
    f.write_all(key.as_bytes())?;
    Ok(ssh_command(Some(&file), &known))
}

/// A git command with the transports and identity above.
pub fn command(remotes: Remotes, ssh: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("git");
    let file = if remotes == Remotes::AlsoLocal { "always" } else { "never" };
    cmd.args(["-c", "protocol.allow=never", "-c", "protocol.https.allow=always", "-c", "protocol.ssh.allow=always"])
        .args(["-c", &format!("protocol.file.allow={file}")])
        // A transfer slower than 1 KB/s for a minute is a dead one.
        .args(["-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
        .env("HOME", "/nonexistent")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false")
        .env("SSH_ASKPASS", "/bin/false")
        .env("GIT_SSH_COMMAND", ssh)
        .env("GIT_PROTOCOL_FROM_USER", "0")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Runs `cmd` to completion within `timeout`; its standard output on success.
pub async fn run(mut cmd: tokio::process::Command, what: &str, timeout: Duration) -> anyhow::Result<Vec<u8>> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().context("running git (is it installed?)")?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(out) => out?,
        Err(_) => bail!("git {what}: no answer within {} s (stopped)", timeout.as_secs()),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("git {what}: {}", err.trim().chars().take(2000).collect::<String>());
    }
    Ok(out.stdout)
}

/// Brings the bare mirror at `mirror` up to date with `url` (every branch),
/// cloning it first if it is not there yet (into a scratch directory that is
/// renamed, so a half-made clone never looks like a mirror).
pub async fn sync_mirror(
    mirror: &Path,
    url: &str,
    remotes: Remotes,
    ssh: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let git = |what: &'static str, args: Vec<std::ffi::OsString>| {
        let mut cmd = command(remotes, ssh);
        cmd.args(args);
        run(cmd, what, timeout)
    };
    if mirror.join("HEAD").exists() {
        let mut args: Vec<std::ffi::OsString> = vec!["--git-dir".into(), mirror.into()];
        args.extend(["fetch", "--prune", "--quiet", "origin", "+refs/heads/*:refs/heads/*"].map(Into::into));
        git("fetch", args).await.context("fetching the repository")?;
    } else {
        let tmp = mirror.with_extension("git.tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        let mut args: Vec<std::ffi::OsString> = ["clone", "--mirror", "--quiet", "--", url].map(Into::into).to_vec();
        args.push(tmp.clone().into());
        git("clone", args)
            .await
            .context("cloning the repository (a private repository needs the project's deploy key)")?;
        std::fs::rename(&tmp, mirror)?;
    }
    Ok(())
}

/// Exports `sha` of the bare repository `mirror` as a tar file at `out`,
/// streamed to disk (never held in memory).
pub async fn archive(mirror: &Path, sha: &str, out: &Path, timeout: Duration) -> anyhow::Result<()> {
    archive_paths(mirror, sha, &[], out, timeout).await
}

/// As [`archive`], only the folders `paths` of the tree (all of it when empty).
pub async fn archive_paths(
    mirror: &Path,
    sha: &str,
    paths: &[String],
    out: &Path,
    timeout: Duration,
) -> anyhow::Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut cmd = command(Remotes::Network, "false");
    cmd.arg("--git-dir").arg(mirror).args(["archive", "--format=tar", sha, "--"]);
    cmd.args(paths.iter().map(|p| format!("{p}/")));
    cmd.stdout(Stdio::from(file)).stderr(Stdio::piped());
    let child = cmd.spawn().context("running git (is it installed?)")?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(out) => out?,
        Err(_) => bail!("git archive: not done within {} s (stopped)", timeout.as_secs()),
    };
    if !out.status.success() {
        bail!("git archive: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_and_addresses() {
        use super::*;
        assert_eq!(remote_host("https://user:pw@GitHub.com:443/a/b.git").as_deref(), Some("github.com"));
        assert_eq!(remote_host("ssh://git@[::1]:22/x.git").as_deref(), Some("::1"));
        assert_eq!(remote_host("git@host.example:acme/x.git").as_deref(), Some("host.example"));
        for bad in [
            "https://127.0.0.1/x.git",
            "https://169.254.169.254/latest",
            "ssh://git@10.1.2.3/x.git",
            "git@192.168.1.1:x.git",
            "https://[::1]/x.git",
            "https://[fd00::1]/x.git",
            "https://localhost/x.git",
            "https://100.64.0.1/x.git",
            "https://[::ffff:127.0.0.1]/x.git",
        ] {
            assert!(literal_host_allowed(bad).is_err(), "{bad}");
        }
        assert!(literal_host_allowed("https://140.82.112.3/a/b.git").is_ok());
        assert!(literal_host_allowed("https://github.com/a/b.git").is_ok());
    }

    #[test]
    fn local_urls() {
        for u in ["/srv/x.git", "./x", "file:///srv/x.git", "FILE:///x", "~/x"] {
            assert!(super::is_local(u), "{u}");
        }
        for u in ["https://github.com/a/b.git", "git@github.com:a/b.git", "ssh://git@host/x.git"] {
            assert!(!super::is_local(u), "{u}");
        }
    }
}
