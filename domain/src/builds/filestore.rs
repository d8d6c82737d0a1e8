//! Filestores are bind-mounted read-write into the tenant's containers, so
//! anything below a filestore's root can be swapped for a symbolic link at
//! any moment, also between the console listing a directory and opening a
//! file in it. Every host-side walk, open, copy and chown of a filestore goes
//! through this module, which resolves paths one component at a time from a
//! directory descriptor with `O_NOFOLLOW`, checks the type of what it opened
//! with `fstat`, hard-links with `linkat` between descriptors and chowns with
//! `fchownat(AT_SYMLINK_NOFOLLOW)`: a link planted by a container is never
//! followed by the host, whatever it points to.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// An open directory: names are resolved relative to it, never through links.
pub struct Dir(OwnedFd);

fn c(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a file name"))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// What a directory entry is, as `fstatat` without following sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Other,
}

impl Dir {
    /// Opens `path` (ours, not the tenant's: the filestore's root) as a directory.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let p = c(path.as_os_str())?;
        // SAFETY: a valid C string; the returned fd is owned below.
        let fd = cvt(unsafe {
            libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        })?;
        // SAFETY: fd was just opened and is owned by nobody else.
        Ok(Dir(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn openat(&self, name: &OsStr, flags: libc::c_int) -> io::Result<OwnedFd> {
        let n = c(name)?;
        // SAFETY: a valid directory fd and C string; the returned fd is owned below.
        let fd =
            cvt(unsafe { libc::openat(self.0.as_raw_fd(), n.as_ptr(), flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) })?;
        // SAFETY: fd was just opened and is owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The subdirectory `name`; a link there is an error (`ELOOP`/`ENOTDIR`).
    pub fn dir(&self, name: &OsStr) -> io::Result<Dir> {
        self.openat(name, libc::O_RDONLY | libc::O_DIRECTORY).map(Dir)
    }

    /// The regular file `name`, opened for reading; anything else is an error.
    pub fn file(&self, name: &OsStr) -> io::Result<File> {
        let fd = self.openat(name, libc::O_RDONLY | libc::O_NONBLOCK)?;
        let file = File::from(fd);
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
        }
        Ok(file)
    }

    /// Entries with their kind (not following links), `.` and `..` left out.
    pub fn entries(&self) -> io::Result<Vec<(OsString, Kind)>> {
        // The descriptor's own directory, whatever its path has become since it was opened.
        let mut out = Vec::new();
        for e in std::fs::read_dir(format!("/proc/self/fd/{}", self.0.as_raw_fd()))? {
            let e = e?;
            let t = e.file_type()?;
            let kind = if t.is_dir() {
                Kind::Dir
            } else if t.is_file() {
                Kind::File
            } else {
                Kind::Other
            };
            out.push((e.file_name(), kind));
        }
        Ok(out)
    }

    /// Hard-links `name` here to `to_name` in `to` without following links; the
    /// source must be a regular file.
    fn link_to(&self, name: &OsStr, to: &Dir, to_name: &OsStr) -> io::Result<()> {
        let (a, b) = (c(name)?, c(to_name)?);
        // SAFETY: valid fds and C strings; flags 0 never follow a final link, and the fds pin the directories.
        cvt(unsafe { libc::linkat(self.0.as_raw_fd(), a.as_ptr(), to.0.as_raw_fd(), b.as_ptr(), 0) }).map(|_| ())
    }

    /// What `name` is here, without following it.
    fn kind_of(&self, name: &OsStr) -> io::Result<Kind> {
        let n = c(name)?;
        // SAFETY: zeroed stat is a valid out-parameter; valid fd and C string.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above: `st` is a valid out-parameter, the fd and C string are valid.
        cvt(unsafe { libc::fstatat(self.0.as_raw_fd(), n.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
        Ok(match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => Kind::File,
            libc::S_IFDIR => Kind::Dir,
            _ => Kind::Other,
        })
    }

    fn unlink(&self, name: &OsStr) -> io::Result<()> {
        let n = c(name)?;
        // SAFETY: a valid directory fd and C string; unlinkat never follows.
        cvt(unsafe { libc::unlinkat(self.0.as_raw_fd(), n.as_ptr(), 0) }).map(|_| ())
    }

    fn mkdir(&self, name: &OsStr) -> io::Result<Dir> {
        let n = c(name)?;
        // SAFETY: a valid directory fd and C string.
        match cvt(unsafe { libc::mkdirat(self.0.as_raw_fd(), n.as_ptr(), 0o755) }) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        self.dir(name)
    }

    fn create(&self, name: &OsStr) -> io::Result<File> {
        let fd = self.openat(name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)?;
        Ok(File::from(fd))
    }

    /// `chown` of `name` here (or of this directory with `None`), never through a link.
    fn chown(&self, name: Option<&OsStr>, uid: u32, gid: u32) -> io::Result<()> {
        let Some(name) = name else {
            // SAFETY: a valid fd.
            return cvt(unsafe { libc::fchown(self.0.as_raw_fd(), uid, gid) }).map(|_| ());
        };
        let n = c(name)?;
        // SAFETY: a valid directory fd and C string.
        cvt(unsafe { libc::fchownat(self.0.as_raw_fd(), n.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) }).map(|_| ())
    }
}

/// Opens the regular file `rel` below `root`, one component at a time, never through a link.
pub fn open_beneath(root: &Path, rel: &Path) -> io::Result<File> {
    let mut dir = Dir::open(root)?;
    let parts: Vec<&OsStr> = rel
        .components()
        .map(|c| match c {
            Component::Normal(n) => Ok(n),
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative path")),
        })
        .collect::<io::Result<_>>()?;
    let (last, dirs) = parts.split_last().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty path"))?;
    for d in dirs {
        dir = dir.dir(d)?;
    }
    dir.file(last)
}

/// Regular files below `root` as sorted relative paths; links and special files are left out.
pub fn walk(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![(Dir::open(root)?, PathBuf::new())];
    while let Some((dir, rel)) = stack.pop() {
        for (name, kind) in dir.entries()? {
            match kind {
                Kind::Dir => match dir.dir(&name) {
                    Ok(sub) => stack.push((sub, rel.join(&name))),
                    // Swapped for a link (or gone) since it was listed: not ours to follow.
                    Err(_) => continue,
                },
                Kind::File => out.push(rel.join(&name)),
                Kind::Other => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Bytes of the regular files below `root`, never through a link (a missing
/// root holds none). More than `limit` entries is an error: a tree built to
/// be expensive to walk is not walked to its end.
pub fn tree_bytes(root: &Path, limit: usize) -> io::Result<u64> {
    let mut stack = match Dir::open(root) {
        Ok(d) => vec![d],
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let (mut total, mut seen) = (0u64, 0usize);
    while let Some(dir) = stack.pop() {
        for (name, kind) in dir.entries()? {
            seen += 1;
            if seen > limit {
                return Err(io::Error::other(format!("more than {limit} entries")));
            }
            match kind {
                Kind::Dir => {
                    if let Ok(sub) = dir.dir(&name) {
                        stack.push(sub);
                    }
                }
                Kind::File => {
                    if let Ok(f) = dir.file(&name) {
                        total = total.saturating_add(f.metadata().map(|m| m.len()).unwrap_or(0));
                    }
                }
                Kind::Other => {}
            }
        }
    }
    Ok(total)
}

/// Whether an open error means the file changed under us (gone, or now a link):
/// a live filestore changes while it is read, so such files are skipped.
pub fn changed_under_us(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ELOOP) | Some(libc::ENOTDIR))
        || e.kind() == io::ErrorKind::InvalidInput
}

/// Copies the tree `from` into `to` (created): regular files as hard links
/// (Odoo never rewrites a stored file in place), or copies across
/// filesystems; links and special files are not copied. Returns the files copied.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let src = match Dir::open(from) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut n = 0;
    let mut stack = vec![(src, Dir::open(to)?)];
    while let Some((s, d)) = stack.pop() {
        for (name, kind) in s.entries()? {
            match kind {
                Kind::Dir => {
                    let Ok(sub) = s.dir(&name) else { continue };
                    stack.push((sub, d.mkdir(&name)?));
                }
                Kind::File => match s.link_to(&name, &d, &name) {
                    // Swapped for a link between the listing and the link: drop what was linked.
                    Ok(()) if d.kind_of(&name)? != Kind::File => d.unlink(&name)?,
                    Ok(()) => n += 1,
                    Err(e) if e.raw_os_error() == Some(libc::EXDEV) || e.raw_os_error() == Some(libc::EPERM) => {
                        let Ok(mut input) = s.file(&name) else { continue };
                        let mut output = d.create(&name)?;
                        io::copy(&mut input, &mut output)?;
                        n += 1;
                    }
                    Err(e) if changed_under_us(&e) => {}
                    Err(e) => return Err(e),
                },
                Kind::Other => {}
            }
        }
    }
    Ok(n)
}

/// Gives `root` (and with `tree`, every directory below it) to `uid:gid`,
/// never through a link.
pub fn chown_dirs(root: &Path, uid: u32, gid: u32, tree: bool) -> io::Result<()> {
    let top = Dir::open(root)?;
    top.chown(None, uid, gid)?;
    if !tree {
        return Ok(());
    }
    let mut stack = vec![top];
    while let Some(dir) = stack.pop() {
        for (name, kind) in dir.entries()? {
            if kind == Kind::Dir {
                let _ = dir.chown(Some(&name), uid, gid);
                if let Ok(sub) = dir.dir(&name) {
                    stack.push(sub);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_regular_files_only_never_through_a_link_and_stop_at_the_limit() {
        let root = std::env::temp_dir().join(format!("odooops-size-{}", uuid::Uuid::new_v4().simple()));
        let store = root.join("store");
        std::fs::create_dir_all(store.join("aa")).unwrap();
        std::fs::create_dir_all(root.join("outside")).unwrap();
        std::fs::write(root.join("outside/big"), vec![0u8; 10_000]).unwrap();
        std::fs::write(store.join("aa/one"), b"12345").unwrap();
        std::fs::write(store.join("two"), b"123").unwrap();
        std::os::unix::fs::symlink(root.join("outside"), store.join("bb")).unwrap();
        std::os::unix::fs::symlink(root.join("outside/big"), store.join("aa/big")).unwrap();
        assert_eq!(tree_bytes(&store, 100).unwrap(), 8, "links to the host are not measured");
        assert!(tree_bytes(&store, 3).is_err(), "more entries than the limit are not walked");
        assert_eq!(tree_bytes(&root.join("missing"), 10).unwrap(), 0);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn links_are_never_followed() {
        let root = std::env::temp_dir().join(format!("odooops-fs-{}", uuid::Uuid::new_v4().simple()));
        let outside = root.join("outside");
        let store = root.join("store");
        std::fs::create_dir_all(store.join("aa")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "host secret").unwrap();
        std::fs::write(store.join("aa/good"), "attachment").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), store.join("aa/leak")).unwrap();
        std::os::unix::fs::symlink(&outside, store.join("zz")).unwrap();

        assert_eq!(walk(&store).unwrap(), vec![PathBuf::from("aa/good")]);
        assert!(open_beneath(&store, Path::new("aa/good")).is_ok());
        let e = open_beneath(&store, Path::new("aa/leak")).unwrap_err();
        assert!(changed_under_us(&e), "{e}");
        let e = open_beneath(&store, Path::new("zz/secret")).unwrap_err();
        assert!(changed_under_us(&e), "{e}");

        // The old race, made deterministic: listed as a file, swapped for a link, then opened.
        std::fs::write(store.join("aa/swapped"), "attachment").unwrap();
        let listed = walk(&store).unwrap();
        assert!(listed.contains(&PathBuf::from("aa/swapped")));
        std::fs::remove_file(store.join("aa/swapped")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), store.join("aa/swapped")).unwrap();
        let e = open_beneath(&store, Path::new("aa/swapped")).unwrap_err();
        assert!(changed_under_us(&e), "{e}");
        std::fs::remove_file(store.join("aa/swapped")).unwrap();

        let copy = root.join("copy");
        assert_eq!(copy_tree(&store, &copy).unwrap(), 1);
        assert!(copy.join("aa/good").is_file());
        assert!(std::fs::symlink_metadata(copy.join("aa/leak")).is_err());
        assert!(std::fs::symlink_metadata(copy.join("zz")).is_err());
        // SAFETY: geteuid and getegid have no preconditions.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        chown_dirs(&copy, uid, gid, true).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
    }
}
