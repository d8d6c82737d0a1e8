//! A repository is hostile: its tree becomes files on this host (for addon
//! discovery) and a Docker build context. Both steps go through this module,
//! which never lets the tree reach outside itself:
//!
//! - the commit is exported by `git archive` into a file, never into memory,
//!   and unpacked entry by entry: only regular files, directories and
//!   symbolic links; a link must be relative and stay inside the tree; total
//!   size and entry count are capped (a pack of zeros can be small);
//! - the build context is written to a file with links kept as links (never
//!   dereferenced on the host) and streamed to Docker from there, so memory
//!   stays bounded and a link to a host file ships only the link.

use anyhow::{bail, Context};
use std::path::{Component, Path, PathBuf};

/// How much a commit may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct TreeLimits {
    pub max_bytes: u64,
    pub max_entries: u64,
}

impl Default for TreeLimits {
    fn default() -> Self {
        TreeLimits { max_bytes: 4 << 30, max_entries: 200_000 }
    }
}

/// What an unpacked tree holds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unpacked {
    pub files: u64,
    pub links: u64,
    pub bytes: u64,
}

/// Whether `target`, a link at `link` (both relative to the tree's root),
/// resolves inside the tree by its words alone.
pub fn link_stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() || target.as_os_str().is_empty() {
        return false;
    }
    let mut depth: i64 = 0;
    for c in link.parent().unwrap_or(Path::new("")).components().chain(target.components()) {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Whether the link at `link` (relative to `root`) resolves inside `root` when
/// followed as the kernel would, link by link: a target that stays inside by its
/// words can still climb out through another link (`s -> .`, then
/// `a -> ../s/s/../../..`). Only for trees no one else writes to (ours, just unpacked).
pub fn resolves_inside(root: &Path, link: &Path) -> bool {
    use std::collections::VecDeque;
    use std::ffi::OsString;
    enum Part {
        Up,
        Name(OsString),
    }
    fn parts(p: &Path) -> Option<Vec<Part>> {
        p.components()
            .filter_map(|c| match c {
                Component::CurDir => None,
                Component::ParentDir => Some(Some(Part::Up)),
                Component::Normal(n) => Some(Some(Part::Name(n.to_owned()))),
                Component::RootDir | Component::Prefix(_) => Some(None),
            })
            .collect()
    }
    let Some(start) = parts(link) else { return false };
    let mut pending: VecDeque<Part> = start.into();
    let mut resolved: Vec<OsString> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        let name = match part {
            Part::Up => {
                if resolved.pop().is_none() {
                    return false;
                }
                continue;
            }
            Part::Name(n) => n,
        };
        resolved.push(name);
        let path: PathBuf = resolved.iter().fold(root.to_path_buf(), |p, c| p.join(c));
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            continue;
        }
        hops += 1;
        let Ok(target) = std::fs::read_link(&path) else { return false };
        let Some(spliced) = parts(&target) else { return false };
        if hops > 40 {
            return false;
        }
        resolved.pop();
        for p in spliced.into_iter().rev() {
            pending.push_front(p);
        }
    }
    true
}

/// Unpacks the tar at `archive` into the empty directory `dest`, refusing
/// anything but files, directories and links that stay inside the tree.
pub fn unpack(archive: &Path, dest: &Path, limits: TreeLimits) -> anyhow::Result<Unpacked> {
    let file = std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(std::io::BufReader::new(file));
    tar.set_preserve_permissions(false);
    tar.set_unpack_xattrs(false);
    tar.set_overwrite(false);
    let mut seen = Unpacked::default();
    let mut entries = 0u64;
    let mut links = Vec::new();
    for entry in tar.entries().context("reading the exported commit")? {
        let mut entry = entry.context("reading the exported commit")?;
        let kind = entry.header().entry_type();
        if matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader) {
            continue;
        }
        entries += 1;
        if entries > limits.max_entries {
            bail!("the commit has more than {} files and directories", limits.max_entries);
        }
        let path = entry.path().context("a path in the commit is not valid")?.into_owned();
        if path.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
            bail!("refused: the path {} leaves the repository", path.display());
        }
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                seen.files += 1;
                seen.bytes += entry.size();
                if seen.bytes > limits.max_bytes {
                    bail!("the commit unpacks to more than {} MiB", limits.max_bytes >> 20);
                }
            }
            tar::EntryType::Directory => {}
            tar::EntryType::Symlink => {
                let target = entry.link_name().context("a link in the commit")?.unwrap_or_default().into_owned();
                if !link_stays_inside(&path, &target) {
                    bail!(
                        "refused: the link {} points outside the repository ({}); links must be relative and stay inside it",
                        path.display(),
                        target.display()
                    );
                }
                seen.links += 1;
                links.push(path.clone());
            }
            other => bail!("refused: {} is a {other:?}, not a file, directory or link", path.display()),
        }
        // unpack_in also refuses to write through a link that leaves `dest`.
        if !entry.unpack_in(dest).with_context(|| format!("unpacking {}", path.display()))? {
            bail!("refused: the path {} leaves the repository", path.display());
        }
    }
    // Each link on its own stays inside; followed through the others, too?
    for link in &links {
        if !resolves_inside(dest, link) {
            bail!(
                "refused: the link {} points outside the repository (through other links); links must stay inside it",
                link.display()
            );
        }
    }
    Ok(seen)
}

/// Writes a build context (tar) of the tree `src` to `out`, links kept as
/// links, plus `extra` files (a generated Dockerfile) at its root.
pub fn write(src: &Path, out: &Path, extra: &[(&str, &[u8])]) -> anyhow::Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut ctx = tar::Builder::new(std::io::BufWriter::new(file));
    ctx.follow_symlinks(false);
    ctx.append_dir_all(".", src).context("writing the build context")?;
    for (name, data) in extra {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        ctx.append_data(&mut header, name, *data)?;
    }
    let mut w = ctx.into_inner()?;
    std::io::Write::flush(&mut w)?;
    Ok(())
}

/// A scratch directory for one build's checkout and context, removed on drop.
pub struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::fs::remove_file(&self.0).is_err() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_must_stay_inside() {
        let ok = |l: &str, t: &str| link_stays_inside(Path::new(l), Path::new(t));
        assert!(ok("a", "b"));
        assert!(ok("a", "."));
        assert!(ok("d/e/a", "../../b"));
        assert!(ok("d/a", "./x/../y"));
        assert!(!ok("a", "/etc/hostname"));
        assert!(!ok("a", ".."));
        assert!(!ok("d/a", "../../x"));
        assert!(!ok("d/a", "x/../../../y"));
        assert!(!ok("a", ""));
    }

    fn tar_with(entries: &[(&str, Option<&str>)]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("odooops-ctx-{}.tar", uuid::Uuid::new_v4().simple()));
        let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
        for (name, link) in entries {
            let mut h = tar::Header::new_gnu();
            match link {
                Some(target) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    h.set_mode(0o777);
                    b.append_link(&mut h, name, target).unwrap();
                }
                None => {
                    h.set_size(2);
                    h.set_mode(0o644);
                    h.set_cksum();
                    b.append_data(&mut h, name, &b"hi"[..]).unwrap();
                }
            }
        }
        b.finish().unwrap();
        path
    }

    #[test]
    fn unpack_refuses_links_out_and_keeps_links_in() {
        let dest = std::env::temp_dir().join(format!("odooops-unpack-{}", uuid::Uuid::new_v4().simple()));
        let good = tar_with(&[("a/f", None), ("a/l", Some("f")), ("loop", Some("."))]);
        std::fs::create_dir_all(&dest).unwrap();
        let u = unpack(&good, &dest, TreeLimits::default()).unwrap();
        assert_eq!((u.files, u.links), (1, 2));
        assert!(dest.join("a/l").symlink_metadata().unwrap().file_type().is_symlink());
        for (bad, why) in [
            (tar_with(&[("host", Some("/etc/hostname"))]), "outside"),
            (tar_with(&[("d/up", Some("../../etc/hostname"))]), "outside"),
        ] {
            let d = dest.with_extension(uuid::Uuid::new_v4().simple().to_string());
            std::fs::create_dir_all(&d).unwrap();
            let e = unpack(&bad, &d, TreeLimits::default()).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
            assert!(std::fs::symlink_metadata(d.join("host")).is_err());
            let _ = std::fs::remove_dir_all(&d);
            let _ = std::fs::remove_file(&bad);
        }
        // Each link stays inside by its words; followed through `s -> .`, the second climbs out.
        let chain = tar_with(&[("s", Some(".")), ("a/m", Some("../s/s/s/../../../etc/hostname"))]);
        let d = dest.with_extension("chain");
        std::fs::create_dir_all(&d).unwrap();
        let e = unpack(&chain, &d, TreeLimits::default()).unwrap_err().to_string();
        assert!(e.contains("through other links"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::remove_file(&chain);
        let inside = tar_with(&[("s", Some(".")), ("d/f", None), ("a/m", Some("../s/s/d/f"))]);
        let d = dest.with_extension("inside");
        std::fs::create_dir_all(&d).unwrap();
        assert!(unpack(&inside, &d, TreeLimits::default()).is_ok());
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::remove_file(&inside);

        let big = tar_with(&[("a", None), ("b", None)]);
        let d = dest.with_extension("big");
        std::fs::create_dir_all(&d).unwrap();
        let e = unpack(&big, &d, TreeLimits { max_bytes: 3, max_entries: 10 }).unwrap_err().to_string();
        assert!(e.contains("more than"), "{e}");

        // The context keeps links as links: a loop costs nothing.
        let ctx = dest.with_extension("ctx.tar");
        write(&dest, &ctx, &[("Dockerfile", b"FROM scratch\n")]).unwrap();
        let mut names = Vec::new();
        for e in tar::Archive::new(std::fs::File::open(&ctx).unwrap()).entries().unwrap() {
            let e = e.unwrap();
            names.push((e.path().unwrap().display().to_string(), e.header().entry_type()));
        }
        assert!(names.iter().any(|(n, t)| n.ends_with("loop") && *t == tar::EntryType::Symlink), "{names:?}");
        assert!(names.iter().any(|(n, _)| n == "Dockerfile"));
        for p in [&good, &big, &ctx] {
            let _ = std::fs::remove_file(p);
        }
        let _ = std::fs::remove_dir_all(&dest);
        let _ = std::fs::remove_dir_all(&d);
    }
}
