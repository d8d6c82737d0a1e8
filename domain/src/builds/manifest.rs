//! Odoo addon discovery: find `__manifest__.py` files and read the Python
//! dict literal in each (name, version, depends, installable), without Python.
//!
//! The reader understands the literal subset manifests use: dicts, lists,
//! tuples, strings (all quote styles, adjacent-literal concatenation),
//! numbers, `True`/`False`/`None` and comments. Anything else is a clear error
//! naming the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    Str(String),
    Num(String),
    Bool(bool),
    None,
    List(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
}

impl PyValue {
    fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// An addon found in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addon {
    /// The technical name: the directory's name.
    pub name: String,
    pub title: String,
    pub version: String,
    pub depends: Vec<String>,
    pub installable: bool,
    pub path: PathBuf,
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() {
            match self.s[self.i] {
                b' ' | b'\t' | b'\r' | b'\n' => self.i += 1,
                b'#' => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b'\\' if self.s.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }

    /// The rest of a set literal whose first element is `first`.
    fn set_rest(&mut self, first: PyValue, depth: usize) -> Result<PyValue, String> {
        let mut items = vec![first];
        loop {
            if self.peek() == Some(b',') {
                self.i += 1;
            } else {
                self.expect(b'}')?;
                return Ok(PyValue::List(items));
            }
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(PyValue::List(items));
            }
            items.push(self.value(depth + 1)?);
        }
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, String> {
        if depth > 32 {
            return Err("nesting too deep".into());
        }
        match self.peek().ok_or("unexpected end of file")? {
            b'{' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(PyValue::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    if items.is_empty() && self.peek() != Some(b':') {
                        // A set literal (`{"a", "b"}`, as some manifests' assets are): read as a list.
                        return self.set_rest(k, depth);
                    }
                    self.expect(b':')?;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    } else {
                        self.expect(b'}')?;
                        return Ok(PyValue::Dict(items));
                    }
                }
            }
            open @ (b'[' | b'(') => {
                let close = if open == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.i += 1;
                        return Ok(PyValue::List(items));
                    }
                    items.push(self.value(depth + 1)?);
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    } else {
                        self.expect(close)?;
                        return Ok(PyValue::List(items));
                    }
                }
            }
            c if c == b'\''
                || c == b'"'
                || ((c == b'r' || c == b'u' || c == b'R' || c == b'U')
                    && matches!(self.s.get(self.i + 1), Some(b'\'' | b'"'))) =>
            {
                let mut out = String::new();
                // Adjacent literals concatenate: "a" "b" == "ab".
                while let Some(c) = self.peek() {
                    let raw = c == b'r' || c == b'R';
                    if c == b'r' || c == b'u' || c == b'R' || c == b'U' {
                        if !matches!(self.s.get(self.i + 1), Some(b'\'' | b'"')) {
                            break;
                        }
                        self.i += 1;
                    } else if c != b'\'' && c != b'"' {
                        break;
                    }
                    out.push_str(&self.string(raw)?);
                }
                Ok(PyValue::Str(out))
            }
            c if c.is_ascii_digit() || c == b'-' || c == b'.' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || b"._-+".contains(&self.s[self.i]))
                {
                    self.i += 1;
                }
                Ok(PyValue::Num(String::from_utf8_lossy(&self.s[start..self.i]).into_owned()))
            }
            c if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(PyValue::Bool(true)),
                    b"False" => Ok(PyValue::Bool(false)),
                    b"None" => Ok(PyValue::None),
                    other => Err(format!(
                        "`{}` is not a literal (manifests must be plain data)",
                        String::from_utf8_lossy(other)
                    )),
                }
            }
            c => Err(format!("unexpected `{}` at byte {}", c as char, self.i)),
        }
    }

    fn string(&mut self, raw: bool) -> Result<String, String> {
        let q = self.s[self.i];
        let triple = self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
        self.i += if triple { 3 } else { 1 };
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            if triple && self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]) {
                self.i += 3;
                break;
            }
            if !triple && c == q {
                self.i += 1;
                break;
            }
            if !triple && c == b'\n' {
                return Err("unterminated string".into());
            }
            if c == b'\\' && !raw {
                let e = *self.s.get(self.i + 1).ok_or("unterminated string")?;
                self.i += 2;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'\n' => {}
                    other => out.push(other),
                }
                continue;
            }
            out.push(c);
            self.i += 1;
        }
        String::from_utf8(out).map_err(|_| "string is not UTF-8".to_string())
    }
}

/// Parses the dict literal of a manifest file.
pub fn parse_manifest_source(src: &str) -> Result<BTreeMap<String, PyValue>, String> {
    let start = src.find('{').ok_or("no `{` found: a manifest is a dict literal")?;
    let mut lx = Lexer { s: src.as_bytes(), i: start };
    let PyValue::Dict(items) = lx.value(0)? else { unreachable!("starts with a brace") };
    if lx.peek().is_some() {
        return Err(format!("unexpected content after the dict at byte {}", lx.i));
    }
    let mut map = BTreeMap::new();
    for (k, v) in items {
        let k = k.as_str().ok_or("dict keys must be strings")?.to_owned();
        map.insert(k, v);
    }
    Ok(map)
}

/// What a manifest says of its module (the catalog shows all of it; builds use name, version, depends).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub title: String,
    pub version: String,
    pub summary: String,
    pub category: String,
    pub license: String,
    pub author: String,
    pub depends: Vec<String>,
    pub installable: bool,
    /// `external_dependencies`: Python packages and programs it needs.
    pub external_python: Vec<String>,
    pub external_bin: Vec<String>,
}

/// Reads the manifest of module `name` from its source text.
pub fn read_manifest(name: &str, src: &str) -> Result<Manifest, String> {
    let map = parse_manifest_source(src).map_err(|e| format!("{name}/__manifest__.py: {e}"))?;
    let text = |k: &str| map.get(k).and_then(PyValue::as_str).unwrap_or_default().to_owned();
    let strings = |v: Option<&PyValue>, what: &str| -> Result<Vec<String>, String> {
        match v {
            Some(PyValue::List(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or(format!("{name}: `{what}` must list strings")))
                .collect(),
            None => Ok(Vec::new()),
            Some(_) => Err(format!("{name}: `{what}` must be a list")),
        }
    };
    let external = |kind: &str| -> Result<Vec<String>, String> {
        match map.get("external_dependencies") {
            Some(PyValue::Dict(items)) => {
                let v = items.iter().find(|(k, _)| k.as_str() == Some(kind)).map(|(_, v)| v);
                strings(v, &format!("external_dependencies.{kind}"))
            }
            None => Ok(Vec::new()),
            Some(_) => Err(format!("{name}: `external_dependencies` must be a dict")),
        }
    };
    let author = match map.get("author") {
        Some(PyValue::List(items)) => items.iter().filter_map(PyValue::as_str).collect::<Vec<_>>().join(", "),
        _ => text("author"),
    };
    Ok(Manifest {
        title: text("name"),
        version: text("version"),
        summary: text("summary"),
        category: text("category"),
        license: text("license"),
        author,
        depends: strings(map.get("depends"), "depends")?,
        installable: !matches!(map.get("installable"), Some(PyValue::Bool(false))),
        external_python: external("python")?,
        external_bin: external("bin")?,
    })
}

fn addon_from(dir: &Path) -> Result<Addon, String> {
    let file = dir.join("__manifest__.py");
    let name = dir.file_name().and_then(|n| n.to_str()).ok_or("addon directory name is not UTF-8")?.to_owned();
    let src = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let m = read_manifest(&name, &src)?;
    Ok(Addon {
        title: m.title,
        version: m.version,
        depends: m.depends,
        installable: m.installable,
        path: dir.to_path_buf(),
        name,
    })
}

/// Finds addons (directories holding `__manifest__.py`) up to three levels deep,
/// skipping hidden directories. Sorted by name; a name found twice is an error.
pub fn discover(root: &Path) -> Result<Vec<Addon>, String> {
    let mut found: BTreeMap<String, Addon> = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        if dir.join("__manifest__.py").is_file() {
            let addon = addon_from(&dir)?;
            if let Some(prev) = found.get(&addon.name) {
                return Err(format!(
                    "addon `{}` is defined twice: {} and {}",
                    addon.name,
                    prev.path.display(),
                    addon.path.display()
                ));
            }
            found.insert(addon.name.clone(), addon);
            continue;
        }
        if depth >= 3 {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if !hidden && e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    Ok(found.into_values().collect())
}

/// Dependencies that neither the repository nor the image provides, as
/// `(addon, missing dependency)` pairs. Only installable addons count.
pub fn missing_dependencies(addons: &[Addon], provided_by_image: &BTreeSet<String>) -> Vec<(String, String)> {
    let in_repo: BTreeSet<&str> = addons.iter().filter(|a| a.installable).map(|a| a.name.as_str()).collect();
    let mut missing = Vec::new();
    for a in addons.iter().filter(|a| a.installable) {
        for d in &a.depends {
            if !in_repo.contains(d.as_str()) && !provided_by_image.contains(d) {
                missing.push((a.name.clone(), d.clone()));
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_literals_read_as_lists() {
        let m =
            parse_manifest_source(r#"{"assets": {"web.x": {"/a.scss", "/b.scss",}, "y": {"c"}}, "e": {}}"#).unwrap();
        let PyValue::Dict(assets) = &m["assets"] else { panic!("{m:?}") };
        assert_eq!(assets[0].1, PyValue::List(vec![PyValue::Str("/a.scss".into()), PyValue::Str("/b.scss".into())]));
        assert_eq!(assets[1].1, PyValue::List(vec![PyValue::Str("c".into())]));
        assert_eq!(m["e"], PyValue::Dict(vec![]));
    }

    /// Every real OCA manifest among the fixtures reads, and says what the catalog shows.
    #[test]
    fn real_oca_manifests_read_with_their_licenses_and_external_dependencies() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oca");
        let mut read = 0;
        for repo in std::fs::read_dir(&root).unwrap().flatten().filter(|e| e.path().is_dir()) {
            for series in std::fs::read_dir(repo.path()).unwrap().flatten() {
                for module in std::fs::read_dir(series.path()).unwrap().flatten() {
                    let name = module.file_name().to_string_lossy().into_owned();
                    let src = std::fs::read_to_string(module.path().join("__manifest__.py")).unwrap();
                    let m = read_manifest(&name, &src).unwrap_or_else(|e| panic!("{}: {e}", module.path().display()));
                    let series = series.file_name().to_string_lossy().into_owned();
                    assert!(m.version.starts_with(&series), "{name} {series}: {}", m.version);
                    assert!(matches!(m.license.as_str(), "AGPL-3" | "LGPL-3"), "{name}: {}", m.license);
                    read += 1;
                }
            }
        }
        assert!(read >= 100, "{read} manifests");
        let sentry = std::fs::read_to_string(root.join("server-tools/17.0/sentry/__manifest__.py")).unwrap();
        let m = read_manifest("sentry", &sentry).unwrap();
        assert!(m.external_python.iter().any(|p| p.starts_with("sentry")), "{m:?}");
        let old = std::fs::read_to_string(root.join("server-tools/17.0/views_migration_17/__manifest__.py")).unwrap();
        assert!(!read_manifest("views_migration_17", &old).unwrap().installable);
    }

    const MANIFEST: &str = r#"# -*- coding: utf-8 -*-
# Copyright 2024 Acme
{
    'name': "Acme " 'Sales',   # adjacent literals
    'version': '17.0.1.2.0',
    "summary": """Multi
    line""",
    'depends': ['sale', "acme_base",],
    'data': ('views/a.xml',),
    'external_dependencies': {'python': ['requests']},
    'installable': True,
    'auto_install': False,
    'sequence': 10,
    'license': u'LGPL-3',
    'pattern': r'\d+',
}
"#;

    #[test]
    fn parses_a_realistic_manifest() {
        let m = parse_manifest_source(MANIFEST).unwrap();
        assert_eq!(m["name"], PyValue::Str("Acme Sales".into()));
        assert_eq!(m["version"], PyValue::Str("17.0.1.2.0".into()));
        assert_eq!(m["summary"], PyValue::Str("Multi\n    line".into()));
        assert_eq!(m["depends"], PyValue::List(vec![PyValue::Str("sale".into()), PyValue::Str("acme_base".into())]));
        assert_eq!(m["installable"], PyValue::Bool(true));
        assert_eq!(m["sequence"], PyValue::Num("10".into()));
        assert_eq!(m["pattern"], PyValue::Str("\\d+".into()));
    }

    #[test]
    fn refuses_code_and_garbage() {
        assert!(parse_manifest_source("{'a': open('x')}").is_err());
        assert!(parse_manifest_source("no dict here").is_err());
        assert!(parse_manifest_source("{'a': 'unterminated}").is_err());
        assert!(parse_manifest_source("{'a': 1} extra").is_err());
        assert!(parse_manifest_source("{1: 2}").is_err());
        assert!(parse_manifest_source(&format!("{}{}", "[".repeat(100), "]".repeat(100)).replacen('[', "{'a':", 1))
            .is_err());
    }

    #[test]
    fn discovers_addons_and_missing_dependencies() {
        let root = std::env::temp_dir().join(format!("odooops-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (dir, src) in [
            ("acme_base", "{'name': 'Base', 'version': '1.0', 'depends': ['base']}"),
            ("addons/acme_sale", "{'name': 'Sale', 'depends': ['acme_base', 'sale', 'nowhere']}"),
            ("old_thing", "{'name': 'Old', 'depends': ['gone'], 'installable': False}"),
            (".git/hooks_addon", "{'name': 'Hidden'}"),
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
            std::fs::write(root.join(dir).join("__manifest__.py"), src).unwrap();
        }
        let addons = discover(&root).unwrap();
        let names: Vec<&str> = addons.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["acme_base", "acme_sale", "old_thing"]);
        let image: BTreeSet<String> = ["base", "sale"].iter().map(|s| s.to_string()).collect();
        assert_eq!(missing_dependencies(&addons, &image), vec![("acme_sale".to_string(), "nowhere".to_string())]);
        std::fs::write(root.join("acme_base/__manifest__.py"), "{'name': }").unwrap();
        assert!(discover(&root).unwrap_err().contains("acme_base/__manifest__.py"));
        let _ = std::fs::remove_dir_all(&root);
    }
}
