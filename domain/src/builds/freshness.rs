//! Production deploys the branch's head, never an old commit.
//!
//! A webhook's signature covers its body but not its delivery id, so a
//! captured push can be sent again (security review SEC-14). Replays of the
//! same body are refused on arrival (`ops.webhook_deliveries` is unique on the
//! body's hash per project); this is the second line: when a worker takes a
//! production build queued by a push, a poll or a pull request, the freshly
//! fetched mirror must still have the branch at that commit. Otherwise the
//! build ends `ko` and says why, and production keeps serving what it served.
//! Rebuilds, promotions and rollbacks are deliberate choices of an admin and
//! are not affected.

use super::queue::Claimed;
use anyhow::Context;
use std::path::Path;

/// Why `b` must not be deployed, if it is a production build of a commit that
/// is no longer its branch's head in `mirror` (fetched just before).
pub(crate) async fn stale_for_production(mirror: &Path, b: &Claimed) -> anyhow::Result<Option<String>> {
    use super::pipeline::plan::Source;
    if b.stage != "production" || !matches!(b.source(), Ok(Source::Push | Source::Poll | Source::PullRequest)) {
        return Ok(None);
    }
    let out = tokio::process::Command::new("git")
        .arg("--git-dir")
        .arg(mirror)
        .args(["rev-parse", "--verify", "--quiet", &format!("refs/heads/{}^{{commit}}", b.branch)])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .context("reading the branch's head (is git installed?)")?;
    let head = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() && head == b.commit_sha {
        return Ok(None);
    }
    let now = if head.is_empty() {
        "no longer exists".to_owned()
    } else {
        format!("is now at {}", &head[..12.min(head.len())])
    };
    Ok(Some(format!(
        "not deployed: {} {now}, and production only deploys the branch's head (this build is of {}; a replayed or late push?)",
        b.branch,
        &b.commit_sha[..12]
    )))
}
