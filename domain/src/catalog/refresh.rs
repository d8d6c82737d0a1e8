//! Refreshing the catalog: each source is mirrored (every branch, with the
//! builds' guarded git), then every branch it names is read without a
//! checkout: the top-level folders of the branch's tree, and each one's
//! `__manifest__.py` through one `git cat-file --batch`. A manifest that does
//! not read keeps the module listed with its problem (never installable); a
//! branch that is missing is said in the source's error while the others are
//! read. A periodic job runs it for sources asked for or older than six hours.

use crate::builds::git::{self, Remotes};
use crate::builds::infra::BuildInfra;
use crate::builds::manifest::{read_manifest, Manifest};
use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use crate::types::ModuleName;
use anyhow::{bail, Context};
use sqlx::Row;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use uuid::Uuid;

/// Folders read per branch, at most.
const MAX_MODULES: usize = 3000;
/// A larger manifest is a problem, not a module.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
/// Sources are read again after this long.
const STALE_AFTER_HOURS: i32 = 6;

/// Where a source's mirror lives.
pub fn mirror_dir(infra: &BuildInfra, source: Uuid) -> PathBuf {
    infra.repos_dir.join(format!("catalog-{source}.git"))
}

/// Refreshes the sources that are due; how many.
#[tracing::instrument(skip_all)]
pub async fn run_due(p: &Platform, infra: &BuildInfra) -> anyhow::Result<usize> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let due: Vec<(Uuid, String, Vec<String>)> = sqlx::query_as(
        "SELECT id, repo_url, series FROM ops.catalog_sources
          WHERE refresh_requested OR refreshed_at IS NULL OR refreshed_at < now() - make_interval(hours => $1)
          ORDER BY refreshed_at NULLS FIRST LIMIT 20",
    )
    .bind(STALE_AFTER_HOURS)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for (id, url, series) in &due {
        let outcome = refresh(p, infra, *id, url, series).await;
        let error = match &outcome {
            Ok(missing) if missing.is_empty() => None,
            Ok(missing) => Some(format!("branches not found: {}", missing.join(", "))),
            Err(e) => Some(format!("{e:#}")),
        };
        if let Some(e) = &error {
            tracing::warn!(source = %id, error = %e, "a catalog source did not refresh fully");
        }
        let mut tx = p.db.begin_as(SYSTEM_USER).await?;
        sqlx::query(
            "UPDATE ops.catalog_sources SET refresh_requested = false, refreshed_at = now(), refresh_error = $2
              WHERE id = $1",
        )
        .bind(id)
        .bind(error.map(|e| e.chars().take(2000).collect::<String>()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(due.len())
}

/// Mirrors one source and stores its modules; the branches it did not find.
async fn refresh(
    p: &Platform,
    infra: &BuildInfra,
    id: Uuid,
    url: &str,
    series: &[String],
) -> anyhow::Result<Vec<String>> {
    let remotes = git::remotes_for(infra.allow_local_repos, url).await?;
    std::fs::create_dir_all(&infra.repos_dir)?;
    let ssh = git::ssh_command(None, &infra.repos_dir.join("known_hosts"));
    let mirror = mirror_dir(infra, id);
    git::sync_mirror(&mirror, url, remotes, &ssh, infra.git_timeout).await?;
    let mut missing = Vec::new();
    for branch in series {
        let Some(commit) = head(&mirror, branch, infra.git_timeout).await? else {
            missing.push(branch.clone());
            continue;
        };
        let modules = read_branch(&mirror, &commit, infra.git_timeout).await?;
        store(p, id, branch, &commit, &modules).await?;
    }
    Ok(missing)
}

fn git_at(mirror: &Path) -> tokio::process::Command {
    let mut cmd = git::command(Remotes::Network, "false");
    cmd.arg("--git-dir").arg(mirror);
    cmd
}

/// The commit a branch points at, if the branch exists.
async fn head(mirror: &Path, branch: &str, timeout: Duration) -> anyhow::Result<Option<String>> {
    let mut cmd = git_at(mirror);
    cmd.args(["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}^{{commit}}")]);
    match git::run(cmd, "rev-parse", timeout).await {
        Ok(out) => Ok(Some(String::from_utf8_lossy(&out).trim().to_owned())),
        Err(_) => Ok(None),
    }
}

/// Feeds `input` to `git cat-file <mode>` and returns its output.
async fn cat_file(mirror: &Path, mode: &str, input: String, timeout: Duration) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncWriteExt;
    let mut cmd = git_at(mirror);
    cmd.args(["cat-file", mode]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().context("running git")?;
    let mut stdin = child.stdin.take().context("git's input")?;
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(input.as_bytes()).await;
    });
    let out = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| anyhow::anyhow!("git cat-file: no answer within {} s", timeout.as_secs()))??;
    let _ = writer.await;
    if !out.status.success() {
        bail!("git cat-file: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(out.stdout)
}

/// Every top-level folder of `commit` with a manifest, read.
async fn read_branch(
    mirror: &Path,
    commit: &str,
    timeout: Duration,
) -> anyhow::Result<Vec<(String, Result<Manifest, String>)>> {
    let mut cmd = git_at(mirror);
    cmd.args(["ls-tree", "-z", "-d", "--name-only", commit]);
    let listing = git::run(cmd, "ls-tree", timeout).await?;
    let folders: Vec<String> = listing
        .split(|b| *b == 0)
        .filter_map(|n| std::str::from_utf8(n).ok())
        .filter(|n| ModuleName::parse(n).is_ok())
        .take(MAX_MODULES)
        .map(str::to_owned)
        .collect();
    // First the sizes (a huge blob is never read), then the manifests that are small enough.
    let query: String = folders.iter().map(|f| format!("{commit}:{f}/__manifest__.py\n")).collect();
    let checked = cat_file(mirror, "--batch-check", query, timeout).await?;
    let mut wanted = Vec::new();
    let mut out = Vec::new();
    for (folder, line) in folders.iter().zip(String::from_utf8_lossy(&checked).lines()) {
        let parts: Vec<&str> = line.split(' ').collect();
        // Anything but a blob (`missing`): no manifest there, not a module (docs, setup, …).
        if let [oid, "blob", size] = parts.as_slice() {
            match size.parse::<u64>() {
                Ok(n) if n <= MAX_MANIFEST_BYTES => wanted.push((folder.clone(), (*oid).to_owned())),
                _ => out.push((folder.clone(), Err(format!("the manifest is larger than {MAX_MANIFEST_BYTES} bytes")))),
            }
        }
    }
    let query: String = wanted.iter().map(|(_, oid)| format!("{oid}\n")).collect();
    let blobs = cat_file(mirror, "--batch", query, timeout).await?;
    let mut rest = blobs.as_slice();
    for (folder, _) in wanted {
        let nl = rest.iter().position(|b| *b == b'\n').context("git cat-file: a header without its end")?;
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        let size: usize = header.rsplit(' ').next().and_then(|s| s.parse().ok()).context("git cat-file: a header")?;
        let body = rest.get(nl + 1..nl + 1 + size).context("git cat-file: a short blob")?;
        let read = std::str::from_utf8(body)
            .map_err(|_| "the manifest is not UTF-8".to_owned())
            .and_then(|src| read_manifest(&folder, src));
        out.push((folder, read));
        rest = rest.get(nl + 2 + size..).unwrap_or_default();
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Replaces a source's modules of one series with `modules`, in one transaction.
async fn store(
    p: &Platform,
    source: Uuid,
    series: &str,
    commit: &str,
    modules: &[(String, Result<Manifest, String>)],
) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("DELETE FROM ops.catalog_modules WHERE source_id = $1 AND series = $2")
        .bind(source)
        .bind(series)
        .execute(&mut *tx)
        .await?;
    let cap = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    for (name, m) in modules {
        let (m, problem) = match m {
            Ok(m) => (m.clone(), None),
            Err(e) => (Manifest::default(), Some(cap(e, 500))),
        };
        let list = |v: &[String]| v.iter().take(200).map(|s| cap(s, 200)).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO ops.catalog_modules (source_id, series, name, title, version, summary, category, license,
                    author, depends, installable, external_python, external_bin, problem, commit)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(source)
        .bind(series)
        .bind(name)
        .bind(cap(&m.title, 200))
        .bind(cap(&m.version, 50))
        .bind(cap(&m.summary, 500))
        .bind(cap(&m.category, 100))
        .bind(cap(&m.license, 50))
        .bind(cap(&m.author, 500))
        .bind(list(&m.depends))
        .bind(m.installable && problem.is_none())
        .bind(list(&m.external_python))
        .bind(list(&m.external_bin))
        .bind(problem)
        .bind(commit)
        .execute(&mut *tx)
        .await?;
    }
    let count: i64 = sqlx::query("SELECT count(*) FROM ops.catalog_modules WHERE source_id = $1")
        .bind(source)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    tx.commit().await?;
    tracing::info!(%source, series, modules = count, "catalog source read");
    Ok(())
}
