//! How answers read at a terminal: a list as a table with chosen columns, an
//! object as `key: value` lines (nested lists as indented tables), times to
//! the second. `--json` bypasses all of it for scripts.
//!
//! Much of what is shown comes from tenants (mail subjects, log lines, branch
//! names): control characters are made visible ([`visible`]) so nothing a
//! tenant wrote can move the cursor, retitle the window or rewrite what the
//! terminal shows.

use serde_json::Value;

/// The answer as the person at the terminal reads it.
pub fn render(v: &Value, cols: &str) -> String {
    match v {
        Value::Null => "done\n".to_owned(),
        Value::Array(items) => table(items, cols, ""),
        Value::Object(_) => fields(v, ""),
        other => format!("{}\n", cell(other)),
    }
}

/// A list as aligned columns; `cols` names them (empty: the first scalar fields of the first row).
pub fn table(items: &[Value], cols: &str, indent: &str) -> String {
    if items.is_empty() {
        return format!("{indent}(none)\n");
    }
    if !items[0].is_object() {
        return items.iter().map(|i| format!("{indent}{}\n", cell(i))).collect();
    }
    let mut names: Vec<String> = cols.split_whitespace().map(str::to_owned).collect();
    names.retain(|c| items.iter().any(|i| i.get(c).is_some()));
    if names.is_empty() {
        names = items[0]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, _)| k.clone())
            .take(7)
            .collect();
    }
    let rows: Vec<Vec<String>> =
        items.iter().map(|i| names.iter().map(|n| cell(i.get(n).unwrap_or(&Value::Null))).collect()).collect();
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).chain([names[c].len()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..names.len()).map(width).collect();
    let line = |cells: Vec<String>| {
        let last = cells.len() - 1;
        let mut s = indent.to_owned();
        for (i, c) in cells.into_iter().enumerate() {
            if i == last {
                s.push_str(&c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(names.iter().map(|n| n.to_uppercase()).collect());
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// An object as `key: value` lines; nested objects indent, nested lists of objects become tables.
fn fields(v: &Value, indent: &str) -> String {
    let mut out = String::new();
    for (k, val) in v.as_object().into_iter().flatten() {
        match val {
            Value::Object(_) => {
                out.push_str(&format!("{indent}{k}:\n"));
                out.push_str(&fields(val, &format!("{indent}  ")));
            }
            Value::Array(items) if items.iter().any(Value::is_object) => {
                out.push_str(&format!("{indent}{k}:\n"));
                out.push_str(&table(items, "", &format!("{indent}  ")));
            }
            _ => out.push_str(&format!("{indent}{k}: {}\n", cell(val))),
        }
    }
    out
}

/// One value in a cell: strings as they are (times to the second), lists joined, nothing as `-`.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => short_time(s).unwrap_or_else(|| visible(&s.replace(['\n', '\r'], " "))),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(_) => "{…}".to_owned(),
        other => other.to_string(),
    }
}

/// Text with its control characters (C0 but tab and newline, DEL, C1) shown as `\u{…}` escapes.
pub fn visible(s: &str) -> String {
    if !s.chars().any(is_control) {
        return s.to_owned();
    }
    s.chars().map(|c| if is_control(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

fn is_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// A body that is not JSON, for a terminal: text with its controls made visible; `None` when it is
/// binary (better written to a file).
pub fn for_terminal(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let text = text.replace("\r\n", "\n");
    let binary = text.chars().filter(|c| is_control(*c) && *c != '\u{1b}').count() > text.len() / 100 + 2;
    (!binary).then(|| visible(&text))
}

/// `2026-12-07T04:27:30.123456Z` → `2026-12-07 04:27:30Z`.
fn short_time(s: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    (s.len() >= 20 && s.as_bytes()[10] == b'T')
        .then(|| t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_read_as_tables_and_objects_as_fields() {
        let v = json!([{"id": 1, "name": "shop", "at": "2026-12-07T04:27:30.123456Z", "tags": ["a", "b"]},
                       {"id": 22, "name": null, "at": "x", "tags": []}]);
        let t = render(&v, "id name at tags");
        assert_eq!(t, "ID  NAME  AT                    TAGS\n1   shop  2026-12-07 04:27:30Z  a,b\n22  -     x\n");
        let o = render(&json!({"project": {"name": "shop"}, "members": [{"email": "a@b"}], "n": 3}), "");
        assert!(o.contains("project:\n  name: shop\n"), "{o}");
        assert!(o.contains("members:\n  EMAIL\n  a@b\n"), "{o}");
        assert_eq!(render(&json!([]), "id"), "(none)\n");
        assert_eq!(render(&Value::Null, ""), "done\n");
    }

    /// A hostile mail subject or log line cannot drive the terminal.
    #[test]
    fn control_characters_from_tenants_are_shown_not_obeyed() {
        let v = json!([{"subject": "Invoice\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m", "id": "m1"}]);
        let t = render(&v, "id subject");
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert!(t.contains("Invoice\\u{1b}]0;pwned"), "{t}");
        let raw = b"Subject: \x1b[31mred\r\n\r\nbody\x07\n";
        let shown = for_terminal(raw).unwrap();
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}') && shown.contains("body"), "{shown:?}");
        assert_eq!(for_terminal(&[0, 1, 2, 3, 4, 5, 6, 0xff]), None, "binary is not for a terminal");
    }
}
