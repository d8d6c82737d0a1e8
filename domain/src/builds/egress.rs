//! Build containers must not reach link-local addresses (169.254.0.0/16):
//! on clouds that is the metadata service, which hands out the host's
//! credentials (and, if backups use the instance's role, every backup).
//! OdooOps names the bridges of its build networks `odo…` (see
//! [`bridge_name`]) and, when it runs as root with iptables, rejects traffic
//! from those bridges to link-local addresses, both forwarded (`DOCKER-USER`)
//! and to the host itself (`INPUT`). Other containers on the host are not
//! touched. Without root or iptables it says what the operator must do.
//! Under the swarm backend a task leaves its overlay network through
//! `docker_gwbridge`, so the same rules are set on that bridge too (which
//! every swarm task on the host shares: the operator chose the swarm for it).

use std::process::Command;

/// The network's Linux bridge name: `odo` and 12 hex digits (15 characters, the kernel's limit).
pub fn bridge_name(network: &str) -> String {
    use sha2::Digest;
    format!("odo{}", &hex::encode(sha2::Sha256::digest(network.as_bytes()))[..12])
}

/// The rules, as iptables arguments after `-I`/`-C`.
const RULES: &[(&str, &[&str])] = &[
    ("DOCKER-USER", &["-i", "odo+", "-d", "169.254.0.0/16", "-j", "REJECT"]),
    ("INPUT", &["-i", "odo+", "-d", "169.254.0.0/16", "-j", "REJECT"]),
];

/// The rules for the swarm's gateway bridge.
const SWARM_RULES: &[(&str, &[&str])] = &[
    ("DOCKER-USER", &["-i", "docker_gwbridge", "-d", "169.254.0.0/16", "-j", "REJECT"]),
    ("INPUT", &["-i", "docker_gwbridge", "-d", "169.254.0.0/16", "-j", "REJECT"]),
];

/// Installs the rules for `backend` (idempotent). `Err` says why it could not, for the operator.
pub fn guard(backend: crate::runtime::Backend) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not running as root".into());
    }
    // One check-then-insert at a time in this process (two would insert twice).
    static ONCE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _held = ONCE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let swarm = if backend == crate::runtime::Backend::Swarm { SWARM_RULES } else { &[] };
    for (chain, rule) in RULES.iter().chain(swarm) {
        let present = Command::new("iptables")
            .args(["-w", "-C", chain])
            .args(*rule)
            .output()
            .map_err(|e| format!("iptables: {e}"))?
            .status
            .success();
        if present {
            continue;
        }
        let out = Command::new("iptables")
            .args(["-w", "-I", chain, "1"])
            .args(*rule)
            .output()
            .map_err(|e| format!("iptables: {e}"))?;
        if !out.status.success() {
            return Err(format!("iptables -I {chain}: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn bridge_names_fit_the_kernels_limit_and_match_the_rule() {
        let n = super::bridge_name("odooops-abcdef12-b0123456789ab");
        assert_eq!(n.len(), 15);
        assert!(n.starts_with("odo"));
        assert_ne!(n, super::bridge_name("odooops-abcdef12-b0123456789ac"));
    }
}
