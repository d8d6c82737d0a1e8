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
//!   a remote that never answers cannot hold a build slot or the poller.

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

/// Exports `sha` of the bare repository `mirror` as a tar file at `out`,
/// streamed to disk (never held in memory).
pub async fn archive(mirror: &Path, sha: &str, out: &Path, timeout: Duration) -> anyhow::Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut cmd = command(Remotes::Network, "false");
    cmd.arg("--git-dir").arg(mirror).args(["archive", "--format=tar", sha]);
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
    fn local_urls() {
        for u in ["/srv/x.git", "./x", "file:///srv/x.git", "FILE:///x", "~/x"] {
            assert!(super::is_local(u), "{u}");
        }
        for u in ["https://github.com/a/b.git", "git@github.com:a/b.git", "ssh://git@host/x.git"] {
            assert!(!super::is_local(u), "{u}");
        }
    }
}
