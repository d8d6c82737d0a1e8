//! Odoo's backup zip, written and read without holding it in memory.
//!
//! Written: `dump.sql` streamed from `pg_dump` (plain SQL, `--no-owner`, as
//! Odoo's database manager makes it), `filestore/…`, Odoo's `manifest.json`,
//! the build's log under `odooops/`, and `odooops.json`, OdooOps' own
//! manifest: the sha256 and size of every part and the row count of every
//! table, counted from the dump's `COPY` blocks as they stream past.
//!
//! Read: archives from elsewhere are hostile. [`inspect`] refuses paths that
//! escape (zip-slip), links, absurd compression ratios, too many entries and
//! oversize archives before anything is unpacked, and extraction enforces the
//! declared sizes again.

use anyhow::{bail, Context};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// How big and how compressed an archive may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_archive_bytes: u64,
    pub max_unpacked_bytes: u64,
    /// Unpacked size over packed size, for the archive and for each large entry.
    pub max_ratio: u64,
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_archive_bytes: 20 << 30, max_unpacked_bytes: 200 << 30, max_ratio: 200, max_entries: 2_000_000 }
    }
}

/// The two formats Odoo's database manager produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The zip: `dump.sql`, `filestore/`, `manifest.json`.
    Zip,
    /// `pg_dump --format=c`, without filestore.
    Dump,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Dump => "dump",
        }
    }
}

/// What an archive holds, once it has been found safe to unpack.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub format: Format,
    pub odoo_manifest: Option<Value>,
    pub odooops_manifest: Option<Value>,
    pub unpacked_bytes: u64,
    pub filestore_files: usize,
}

/// The hex sha256 of a file.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The hex sha256 of bytes in memory (tests and small parts).
pub fn sha256_bytes(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A name inside the zip that is safe to unpack below a directory.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains('\0')
        && !name.split('/').any(|p| p == ".." || p == ".")
        // No drive letter (`C:`).
        && name.as_bytes().get(1) != Some(&b':')
}

/// Checks an archive from anywhere. Errors are sentences for the person who uploaded it.
pub fn inspect(path: &Path, limits: &Limits) -> Result<Inspection, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("cannot read the archive: {e}"))?.len();
    if size > limits.max_archive_bytes {
        return Err(format!("the archive is {size} bytes; the limit is {} bytes", limits.max_archive_bytes));
    }
    let mut head = [0u8; 5];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).map_err(|e| e.to_string())?;
    if n == 5 && &head == b"PGDMP" {
        return inspect_dump(path);
    }
    if n < 4 || &head[..4] != b"PK\x03\x04" {
        return Err("this is neither an Odoo backup zip (dump.sql, filestore/, manifest.json) nor a \
                    pg_dump custom-format dump"
            .into());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("the zip is damaged: {e}"))?;
    if zip.len() > limits.max_entries {
        return Err(format!("the zip has {} entries; the limit is {}", zip.len(), limits.max_entries));
    }
    let (mut unpacked, mut files, mut has_dump) = (0u64, 0usize, false);
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| format!("the zip is damaged: {e}"))?;
        let name = entry.name().to_owned();
        if !safe_name(&name) || entry.enclosed_name().is_none() {
            return Err(format!("refused: the entry {name:?} would be written outside the restore directory"));
        }
        if entry.is_symlink() {
            return Err(format!("refused: the entry {name:?} is a symbolic link"));
        }
        unpacked = unpacked.saturating_add(entry.size());
        if entry.size() > 1 << 20 && entry.size() / entry.compressed_size().max(1) > limits.max_ratio {
            return Err(format!(
                "refused: {name:?} claims to unpack {} bytes from {} (a zip bomb?)",
                entry.size(),
                entry.compressed_size()
            ));
        }
        if name == "dump.sql" {
            has_dump = true;
        } else if name.starts_with("filestore/") && !entry.is_dir() {
            files += 1;
        }
    }
    if unpacked > limits.max_unpacked_bytes {
        return Err(format!("the zip unpacks to {unpacked} bytes; the limit is {}", limits.max_unpacked_bytes));
    }
    if unpacked > 1 << 20 && unpacked / size.max(1) > limits.max_ratio {
        return Err(format!("refused: {size} bytes claim to unpack to {unpacked} (a zip bomb?)"));
    }
    if !has_dump {
        return Err("the zip has no dump.sql: not an Odoo backup".into());
    }
    let odoo_manifest = read_json(&mut zip, "manifest.json")?;
    if let Some(m) = &odoo_manifest {
        if !m.is_object() {
            return Err("manifest.json is not a JSON object".into());
        }
    }
    let odooops_manifest = read_json(&mut zip, "odooops.json")?;
    Ok(Inspection {
        format: Format::Zip,
        odoo_manifest,
        odooops_manifest,
        unpacked_bytes: unpacked,
        filestore_files: files,
    })
}

fn read_json(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Result<Option<Value>, String> {
    let Ok(entry) = zip.by_name(name) else { return Ok(None) };
    if entry.size() > 16 << 20 {
        return Err(format!("{name} is too large"));
    }
    let mut text = String::new();
    entry.take(16 << 20).read_to_string(&mut text).map_err(|e| format!("{name} cannot be read: {e}"))?;
    serde_json::from_str(&text).map(Some).map_err(|e| format!("{name} is not valid JSON: {e}"))
}

fn inspect_dump(path: &Path) -> Result<Inspection, String> {
    let bin = crate::db::embedded::find_bin_dir().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(bin.join("pg_restore"))
        .arg("--list")
        .arg(path)
        .output()
        .map_err(|e| format!("running pg_restore: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the dump is damaged or from a newer PostgreSQL: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Inspection {
        format: Format::Dump,
        odoo_manifest: None,
        odooops_manifest: None,
        unpacked_bytes: size,
        filestore_files: 0,
    })
}

/// Counts the rows of each table in a plain SQL dump from its `COPY … FROM stdin;` blocks.
#[derive(Debug, Default)]
pub struct RowCounter {
    carry: Vec<u8>,
    table: Option<String>,
    rows: u64,
    pub counts: BTreeMap<String, u64>,
}

impl RowCounter {
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            if self.carry.is_empty() {
                self.line(&chunk[start..nl]);
            } else {
                let mut l = std::mem::take(&mut self.carry);
                let room = (1usize << 16).saturating_sub(l.len());
                l.extend_from_slice(&chunk[start..nl][..(nl - start).min(room)]);
                self.line(&l);
                l.clear();
                self.carry = l;
            }
            start = nl + 1;
        }
        // A line is only ever compared by its start: a long one (a large
        // value) is carried capped, so memory stays flat.
        let room = (1usize << 16).saturating_sub(self.carry.len());
        let rest = &chunk[start..];
        self.carry.extend_from_slice(&rest[..rest.len().min(room)]);
    }

    fn line(&mut self, l: &[u8]) {
        match &self.table {
            Some(t) => {
                if l == b"\\." {
                    self.counts.insert(t.clone(), self.rows);
                    self.table = None;
                } else {
                    self.rows += 1;
                }
            }
            None => {
                if let Some(rest) = l.strip_prefix(b"COPY ").filter(|_| l.ends_with(b" FROM stdin;")) {
                    let name = String::from_utf8_lossy(rest);
                    let name = name.split([' ', '(']).next().unwrap_or_default().to_owned();
                    self.table = Some(name);
                    self.rows = 0;
                }
            }
        }
    }
}

/// A table name as pg_dump writes it for Odoo's tables (`schema.table`, unquoted).
pub fn plain_table_name(name: &str) -> bool {
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !s.as_bytes()[0].is_ascii_digit()
    };
    matches!(name.split_once('.'), Some((schema, table)) if ident(schema) && ident(table))
}

/// What goes into a new backup archive.
pub struct WriteSpec {
    pub out: PathBuf,
    /// `pg_dump` of the database, ready to spawn (plain format to stdout).
    pub pg_dump: std::process::Command,
    pub filestore: Option<PathBuf>,
    pub odoo_manifest: Value,
    /// Extra files under `odooops/` (the build's log).
    pub extras: Vec<(String, Vec<u8>)>,
    /// What OdooOps knows of the backup (project, branch, build, image…); parts are added.
    pub about: Value,
    pub progress: Arc<AtomicU64>,
}

pub struct Written {
    pub size: u64,
    pub sha256: String,
    pub manifest: Value,
}

fn deflate() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true)
}

/// Writes the archive (blocking: run it on a blocking thread).
pub fn write(mut spec: WriteSpec) -> anyhow::Result<Written> {
    use std::process::Stdio;
    if let Some(dir) = spec.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(&spec.out).with_context(|| format!("creating {}", spec.out.display()))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));

    zip.start_file("dump.sql", deflate())?;
    let mut child = spec.pg_dump.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().context("running pg_dump")?;
    let mut stdout = child.stdout.take().context("pg_dump output")?;
    let mut stderr = child.stderr.take().context("pg_dump errors")?;
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (mut h, mut counter, mut dump_bytes) = (Sha256::new(), RowCounter::default(), 0u64);
    let mut buf = vec![0u8; 1 << 20];
    let copied: anyhow::Result<()> = (|| loop {
        let n = stdout.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
        counter.feed(&buf[..n]);
        zip.write_all(&buf[..n])?;
        dump_bytes += n as u64;
        spec.progress.fetch_add(n as u64, Ordering::Relaxed);
    })();
    let status = child.wait()?;
    let errors = errors.join().unwrap_or_default();
    copied.context("writing dump.sql")?;
    if !status.success() {
        bail!("pg_dump failed: {}", errors.trim());
    }
    let dump_sha = hex::encode(h.finalize());

    let mut fs_files = 0u64;
    let mut fs_bytes = 0u64;
    let mut hashes: Vec<(String, String)> = Vec::new();
    if let Some(root) = spec.filestore.as_ref().filter(|r| r.is_dir()) {
        for rel in crate::builds::filestore::walk(root)? {
            let name = rel.to_string_lossy().replace('\\', "/");
            // Opened one component at a time, never through a link: the filestore is the tenant's.
            let mut f = match crate::builds::filestore::open_beneath(root, &rel) {
                Ok(f) => f,
                Err(e) if crate::builds::filestore::changed_under_us(&e) => continue,
                Err(e) => return Err(e).with_context(|| format!("reading filestore/{name}")),
            };
            zip.start_file(format!("filestore/{name}"), deflate())?;
            let mut fh = Sha256::new();
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                fh.update(&buf[..n]);
                zip.write_all(&buf[..n])?;
                fs_bytes += n as u64;
                spec.progress.fetch_add(n as u64, Ordering::Relaxed);
            }
            hashes.push((name, hex::encode(fh.finalize())));
            fs_files += 1;
        }
    }
    let manifest_json = serde_json::to_vec_pretty(&spec.odoo_manifest)?;
    let manifest_text = indent4(&manifest_json);
    zip.start_file("manifest.json", deflate())?;
    zip.write_all(manifest_text.as_bytes())?;
    let mut extras = serde_json::Map::new();
    for (name, data) in &spec.extras {
        zip.start_file(format!("odooops/{name}"), deflate())?;
        zip.write_all(data)?;
        extras.insert(name.clone(), json!({"bytes": data.len(), "sha256": hex::encode(Sha256::digest(data))}));
    }
    let mut manifest = spec.about.clone();
    manifest["odooops_backup"] = json!(1);
    manifest["parts"] = json!({
        "dump.sql": {"bytes": dump_bytes, "sha256": dump_sha},
        "filestore": {"files": fs_files, "bytes": fs_bytes, "sha256": tree_hash(hashes)},
        "manifest.json": {"bytes": manifest_text.len(), "sha256": hex::encode(Sha256::digest(manifest_text.as_bytes()))},
        "odooops": extras,
    });
    manifest["row_counts"] = json!(counter.counts);
    zip.start_file("odooops.json", deflate())?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    let mut out = zip.finish()?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let size = std::fs::metadata(&spec.out)?.len();
    let sha256 = sha256_file(&spec.out)?;
    Ok(Written { size, sha256, manifest })
}

/// Odoo writes its manifest with an indent of 4.
fn indent4(pretty2: &[u8]) -> String {
    String::from_utf8_lossy(pretty2)
        .lines()
        .map(|l| {
            let spaces = l.len() - l.trim_start_matches(' ').len();
            format!("{}{}", " ".repeat(spaces * 2), l.trim_start_matches(' '))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What [`extract_filestore`] unpacked.
#[derive(Debug, Default)]
pub struct Extracted {
    pub files: u64,
    pub bytes: u64,
    /// The filestore's sha256, as [`write`] computes it (checked by drills).
    pub tree_sha256: String,
}

/// Unpacks `filestore/…` into `dest` (blocking), hashing it on the way. Call
/// [`inspect`] first; the sizes are enforced again here in case the headers lie.
pub fn extract_filestore(archive: &Path, dest: &Path) -> anyhow::Result<Extracted> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive)?)?;
    std::fs::create_dir_all(dest)?;
    let mut out = Extracted::default();
    let mut hashes: Vec<(String, String)> = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    for i in 0..zip.len() {
        let entry = zip.by_index(i)?;
        let name = entry.name().to_owned();
        let Some(rel) = name.strip_prefix("filestore/") else { continue };
        if rel.is_empty() || entry.is_dir() {
            continue;
        }
        if !safe_name(rel) || entry.is_symlink() {
            bail!("refused: the entry {name:?} would be written outside the filestore");
        }
        let target = dest.join(rel);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let declared = entry.size();
        let mut file = std::fs::File::create(&target)?;
        let (mut reader, mut h, mut n) = (entry.take(declared + 1), Sha256::new(), 0u64);
        loop {
            let k = reader.read(&mut buf)?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            file.write_all(&buf[..k])?;
            n += k as u64;
        }
        if n > declared {
            bail!("refused: {name:?} unpacks to more than it declares");
        }
        hashes.push((rel.to_owned(), hex::encode(h.finalize())));
        out.files += 1;
        out.bytes += n;
    }
    out.tree_sha256 = tree_hash(hashes);
    Ok(out)
}

/// One sha256 for a filestore: over `path NUL sha256 LF` of every file, by path.
fn tree_hash(mut files: Vec<(String, String)>) -> String {
    files.sort();
    let mut tree = Sha256::new();
    for (path, sha) in &files {
        tree.update(format!("{path}\0{sha}\n"));
    }
    hex::encode(tree.finalize())
}

/// Streams `dump.sql` of the archive into `sink` (psql's stdin), hashing it on the way.
pub fn copy_dump_sql(archive: &Path, sink: &mut dyn Write, progress: &AtomicU64) -> anyhow::Result<String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive)?)?;
    let mut entry = zip.by_name("dump.sql").context("the archive has no dump.sql")?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = entry.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        sink.write_all(&buf[..n])?;
        progress.fetch_add(n as u64, Ordering::Relaxed);
    }
    Ok(hex::encode(h.finalize()))
}

/// A copy of the archive without its filestore (the "without filestore" download).
pub fn without_filestore(archive: &Path, out: &Path) -> anyhow::Result<()> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive)?)?;
    let mut w = zip::ZipWriter::new(std::fs::File::create(out)?);
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i)?;
        if entry.name().starts_with("filestore/") {
            continue;
        }
        w.raw_copy_file(entry)?;
    }
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_copy_rows_across_chunk_boundaries() {
        let dump = b"SET x;\nCOPY public.res_partner (id, name) FROM stdin;\n1\ta\n2\tb\\nc\n3\tc\n\\.\n\nCOPY public.empty (id) FROM stdin;\n\\.\nSELECT 1;\n";
        for split in 1..dump.len() {
            let mut c = RowCounter::default();
            for part in dump.chunks(split) {
                c.feed(part);
            }
            assert_eq!(c.counts.get("public.res_partner"), Some(&3), "split {split}");
            assert_eq!(c.counts.get("public.empty"), Some(&0));
        }
    }

    #[test]
    fn names_that_escape_are_unsafe() {
        for bad in ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\x", "./a", ""] {
            assert!(!safe_name(bad), "{bad:?}");
        }
        assert!(safe_name("filestore/ab/abcdef"));
        assert!(safe_name("dump.sql"));
    }

    #[test]
    fn odoo_table_names() {
        assert!(plain_table_name("public.res_partner"));
        assert!(!plain_table_name("public.\"Weird\""));
        assert!(!plain_table_name("res_partner"));
        assert!(!plain_table_name("public.x; DROP TABLE y"));
    }

    fn zip_with(entries: &[(&str, &[u8])]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("odooops-zip-{}.zip", uuid::Uuid::new_v4().simple()));
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (name, data) in entries {
            w.start_file(*name, deflate()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        path
    }

    #[test]
    fn inspect_accepts_an_odoo_zip_and_refuses_hostile_ones() {
        let ok = zip_with(&[
            ("dump.sql", b"SELECT 1;\n"),
            ("manifest.json", b"{\"odoo_dump\": \"1\"}"),
            ("filestore/ab/x", b"x"),
        ]);
        let i = inspect(&ok, &Limits::default()).unwrap();
        assert_eq!(i.format, Format::Zip);
        assert_eq!(i.filestore_files, 1);

        let slip = zip_with(&[("dump.sql", b"SELECT 1;\n"), ("filestore/../../etc/cron.d/x", b"x")]);
        assert!(inspect(&slip, &Limits::default()).unwrap_err().contains("outside"));

        let no_dump = zip_with(&[("manifest.json", b"{}")]);
        assert!(inspect(&no_dump, &Limits::default()).unwrap_err().contains("dump.sql"));

        let bad_manifest = zip_with(&[("dump.sql", b"x"), ("manifest.json", b"{not json")]);
        assert!(inspect(&bad_manifest, &Limits::default()).unwrap_err().contains("manifest.json"));

        let zeros = vec![0u8; 8 << 20];
        let bomb = zip_with(&[("dump.sql", &zeros)]);
        assert!(inspect(&bomb, &Limits::default()).unwrap_err().contains("bomb"));

        let small = Limits { max_archive_bytes: 10, ..Limits::default() };
        assert!(inspect(&ok, &small).unwrap_err().contains("limit"));

        let junk = std::env::temp_dir().join(format!("odooops-junk-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&junk, b"hello, not a backup").unwrap();
        assert!(inspect(&junk, &Limits::default()).unwrap_err().contains("neither"));

        let mut truncated = std::fs::read(&ok).unwrap();
        truncated.truncate(truncated.len() / 2);
        std::fs::write(&junk, &truncated).unwrap();
        assert!(inspect(&junk, &Limits::default()).unwrap_err().contains("damaged"));
        for p in [ok, slip, no_dump, bad_manifest, bomb, junk] {
            std::fs::remove_file(p).ok();
        }
    }

    #[test]
    fn manifest_is_indented_by_four() {
        let v = json!({"odoo_dump": "1", "modules": {"base": "17.0.1.3"}});
        let text = indent4(&serde_json::to_vec_pretty(&v).unwrap());
        assert!(text.contains("\n    \"modules\": {\n        \"base\""), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
