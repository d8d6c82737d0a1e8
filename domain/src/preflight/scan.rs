//! The gates that read sources: a repository's addons (SQL, data files,
//! Python, manifests), its Dockerfile and its scripts. Pure functions over
//! file contents, so fixture modules test them; [`scan_tree`] walks a
//! checkout (never following a link: the tree is tenant input).

use crate::types::{Gate, GateResult};
use std::path::Path;

/// Known PostgreSQL extension names, to recognise them in manifests.
const KNOWN_EXTENSIONS: &[&str] = &[
    "postgis",
    "pg_trgm",
    "unaccent",
    "vector",
    "hstore",
    "uuid-ossp",
    "pgcrypto",
    "citext",
    "ltree",
    "btree_gin",
    "btree_gist",
    "tablefunc",
    "fuzzystrmatch",
    "intarray",
    "cube",
    "earthdistance",
    "pg_stat_statements",
    "dblink",
    "postgres_fdw",
    "pgrouting",
    "timescaledb",
];

/// Package managers a running server must not call.
const INSTALLERS: &[&str] = &[
    "apt-get install",
    "apt install",
    "dpkg -i",
    "yum install",
    "dnf install",
    "apk add",
    "pip install",
    "pip3 install",
];

/// One finding: which gate, whether it fails (else warns), where, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub gate: Gate,
    pub fails: bool,
    pub at: String,
    pub what: String,
}

/// The extension a `CREATE EXTENSION` line names, lower-cased and unquoted.
fn created_extension(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("create extension")?;
    let mut words = lower[at + "create extension".len()..].split_whitespace();
    let mut name = words.next()?;
    if name == "if" {
        // IF NOT EXISTS
        words.next();
        words.next();
        name = words.next()?;
    }
    let name = name.trim_matches(|c: char| c == '"' || c == '\'' || c == ';' || c == ')' || c == ',');
    (!name.is_empty()).then(|| name.to_owned())
}

/// Findings in one file of an addon or of the repository, by its path and text.
pub fn scan_file(path: &str, text: &str, allowed_extensions: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let ext = path.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    let file = path.rsplit('/').next().unwrap_or(path);
    let at = |n: usize| format!("{path}:{}", n + 1);
    let lines: Vec<&str> = text.lines().collect();

    // 1. PostgreSQL extensions: SQL, data files and Python that create one; manifests that ask for one.
    if matches!(ext.as_str(), "sql" | "xml" | "csv" | "py") {
        for (n, line) in lines.iter().enumerate() {
            if let Some(name) = created_extension(line) {
                if !allowed_extensions.contains(&name) {
                    out.push(Finding {
                        gate: Gate::Extensions,
                        fails: true,
                        at: at(n),
                        what: format!("creates the extension {name}"),
                    });
                }
            }
        }
    }
    if file == "__manifest__.py" || file == "__openerp__.py" {
        if let Some(start) = text.find("external_dependencies") {
            let block = &text[start..text[start..].find('}').map_or(text.len(), |e| start + e)];
            for name in KNOWN_EXTENSIONS {
                let quoted = [format!("'{name}'"), format!("\"{name}\"")];
                if quoted.iter().any(|q| block.contains(q.as_str())) && !allowed_extensions.iter().any(|a| a == name) {
                    let n = text[..start].lines().count().saturating_sub(1);
                    out.push(Finding {
                        gate: Gate::Extensions,
                        fails: true,
                        at: at(n),
                        what: format!("depends on the PostgreSQL extension {name}"),
                    });
                }
            }
        }
    }

    // 4. System packages: a Dockerfile's RUN steps after its FROM, scripts, Python calling a package manager.
    let dockerfile = file == "Dockerfile" || file.ends_with(".dockerfile") || file.starts_with("Dockerfile.");
    let script = matches!(ext.as_str(), "sh" | "bash") || file == "entrypoint" || file == "docker-entrypoint";
    let mut after_from = false;
    for (n, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let lower = trimmed.to_ascii_lowercase();
        if dockerfile && lower.starts_with("from ") {
            after_from = true;
            continue;
        }
        let Some(installer) = INSTALLERS.iter().find(|i| lower.contains(*i)) else { continue };
        let hit = if dockerfile {
            after_from
        } else if script {
            !lower.starts_with('#')
        } else if ext == "py" {
            !lower.starts_with('#')
                && ["subprocess", "os.system", "os.popen", "popen(", "check_call", "check_output", "pip.main"]
                    .iter()
                    .any(|c| lower.contains(c) || lines[n.saturating_sub(3)..n].iter().any(|l| l.contains(c)))
        } else {
            false
        };
        if hit {
            out.push(Finding {
                gate: Gate::SystemPackages,
                fails: true,
                at: at(n),
                what: format!("runs `{installer}`"),
            });
        }
    }

    // 6. Long-lived connections in module code (warnings).
    if ext == "py" {
        let has = |needle: &str| text.contains(needle);
        let first = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap_or(0);
        let mut warn = |n: usize, what: &str| {
            out.push(Finding { gate: Gate::LongConnections, fails: false, at: at(n), what: what.to_owned() })
        };
        for import in ["import websocket", "from websocket", "import websockets", "from websockets"] {
            if let Some(n) = lines.iter().position(|l| l.trim_start().starts_with(import)) {
                warn(n, "opens a websocket client");
                break;
            }
        }
        let socket = has("socket.") || has(".recv(");
        if has("while True") && socket {
            warn(first("while True"), "loops forever on a socket");
        }
        if has("threading.Thread") && (socket || has("websocket")) {
            warn(first("threading.Thread"), "keeps a socket in a background thread");
        }
        if has("longpolling") || has("long_polling") {
            warn(first("longpoll").max(first("long_polling")), "relies on long-polling");
        }
    }
    out
}

/// Walks a checkout (at most `max_files` files of at most 1 MiB, links never
/// followed) and scans every file worth reading.
pub fn scan_tree(root: &Path, allowed_extensions: &[String], max_files: usize) -> std::io::Result<Vec<Finding>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_symlink() || name == ".git" || name == "node_modules" {
                continue;
            }
            if kind.is_dir() {
                stack.push(entry.path());
                continue;
            }
            let worth = name == "Dockerfile"
                || name.starts_with("Dockerfile.")
                || name == "entrypoint"
                || name == "docker-entrypoint"
                || [".py", ".sql", ".xml", ".csv", ".sh", ".bash", ".dockerfile"].iter().any(|e| name.ends_with(e));
            if !worth || entry.metadata()?.len() > 1 << 20 {
                continue;
            }
            seen += 1;
            if seen > max_files {
                return Ok(out);
            }
            let text = String::from_utf8_lossy(&std::fs::read(entry.path())?).into_owned();
            let rel = entry.path().strip_prefix(root).unwrap_or(&entry.path()).to_string_lossy().into_owned();
            out.extend(scan_file(&rel, &text, allowed_extensions));
        }
    }
    Ok(out)
}

/// The static gates' results from their findings: each gate passes, or
/// warns/fails naming its first findings.
pub fn results(findings: &[Finding]) -> Vec<GateResult> {
    [Gate::Extensions, Gate::SystemPackages, Gate::LongConnections]
        .into_iter()
        .map(|gate| {
            let mine: Vec<&Finding> = findings.iter().filter(|f| f.gate == gate).collect();
            if mine.is_empty() {
                return GateResult::pass(gate, "nothing found in the sources");
            }
            let mut reason: Vec<String> = mine.iter().take(3).map(|f| format!("{} {}", f.at, f.what)).collect();
            if mine.len() > 3 {
                reason.push(format!("and {} more", mine.len() - 3));
            }
            let reason = reason.join("; ");
            if mine.iter().any(|f| f.fails) {
                GateResult::fail(gate, reason)
            } else {
                GateResult::warn(gate, reason)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Verdict;

    fn allowed() -> Vec<String> {
        vec!["plpgsql".to_owned()]
    }

    fn verdict(path: &str, text: &str, gate: Gate) -> Verdict {
        let found = scan_file(path, text, &allowed());
        results(&found).into_iter().find(|r| r.gate == gate).unwrap().verdict
    }

    #[test]
    fn extensions_created_or_asked_for_fail_unless_allowed() {
        let sql = "-- setup\nCREATE EXTENSION IF NOT EXISTS \"pg_trgm\";\n";
        assert_eq!(verdict("acme/data/init.sql", sql, Gate::Extensions), Verdict::Fail);
        let py = "def init(cr):\n    cr.execute('create extension postgis')\n";
        let found = scan_file("acme/hooks.py", py, &allowed());
        assert_eq!(found[0].at, "acme/hooks.py:2");
        assert!(found[0].what.contains("postgis"), "{found:?}");
        let manifest = "{'name': 'Geo', 'external_dependencies': {'python': ['shapely'], 'postgresql': ['postgis']}}";
        assert_eq!(verdict("geo/__manifest__.py", manifest, Gate::Extensions), Verdict::Fail);
        assert_eq!(verdict("acme/init.sql", "CREATE EXTENSION plpgsql;", Gate::Extensions), Verdict::Pass);
        let wider = vec!["plpgsql".to_owned(), "pg_trgm".to_owned()];
        assert!(scan_file("a.sql", sql, &wider).is_empty());
        assert_eq!(verdict("acme/models.py", "# no extension here\n", Gate::Extensions), Verdict::Pass);
    }

    #[test]
    fn installing_system_packages_at_run_time_fails() {
        let dockerfile = "RUN echo before\nFROM odoo:17\nRUN apt-get update && apt-get install -y wkhtmltopdf\n";
        let found = scan_file("Dockerfile", dockerfile, &allowed());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].at, "Dockerfile:3");
        assert_eq!(
            verdict("entrypoint.sh", "#!/bin/sh\napk add curl\nexec odoo\n", Gate::SystemPackages),
            Verdict::Fail
        );
        let py = "import subprocess\n\ndef post_init(env):\n    subprocess.run(['pip', 'install', 'x'])\n    subprocess.check_call('pip install requests', shell=True)\n";
        assert_eq!(verdict("acme/hooks.py", py, Gate::SystemPackages), Verdict::Fail);
        assert_eq!(
            verdict("acme/doc.py", "# run pip install -r requirements.txt first\n", Gate::SystemPackages),
            Verdict::Pass
        );
        assert_eq!(verdict("README.md", "apt-get install foo", Gate::SystemPackages), Verdict::Pass);
        assert_eq!(
            verdict("scripts/setup.sh", "# apt-get install is done in the image\n", Gate::SystemPackages),
            Verdict::Pass
        );
    }

    #[test]
    fn long_lived_connections_warn() {
        let py = "import websocket\nimport threading\n\ndef start():\n    threading.Thread(target=loop).start()\n";
        let found = scan_file("acme/models/feed.py", py, &allowed());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(verdict("acme/models/feed.py", py, Gate::LongConnections), Verdict::Warn);
        let loop_ = "import socket\ns = socket.socket()\nwhile True:\n    data = s.recv(1024)\n";
        assert_eq!(verdict("acme/listen.py", loop_, Gate::LongConnections), Verdict::Warn);
        assert_eq!(verdict("acme/models/sale.py", "while True:\n    break\n", Gate::LongConnections), Verdict::Pass);
    }

    #[test]
    fn a_tree_is_walked_without_following_links() {
        let root = std::env::temp_dir().join(format!("preflight-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("acme/data")).unwrap();
        std::fs::write(root.join("acme/data/init.sql"), "CREATE EXTENSION vector;").unwrap();
        std::fs::write(root.join("acme/__manifest__.py"), "{'name': 'Acme'}").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("acme/etc")).unwrap();
        let found = scan_tree(&root, &allowed(), 1000).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].at, "acme/data/init.sql:1");
        let _ = std::fs::remove_dir_all(&root);
    }
}
