//! The Supabase kit dialog's rules, out of the components: its tabs and
//! what each may do, the SQL the Schema and Auth tabs run (read-only), the
//! log query built from a range and a search (quotes escaped), and query
//! results as a table and as CSV.

use serde_json::Value;

/// The dialog's tabs, in order: (key, label).
pub const KIT_TABS: [(&str, &str); 7] = [
    ("database", "Database"),
    ("schema", "Schema"),
    ("auth", "Auth"),
    ("storage", "Storage"),
    ("secrets", "Secrets"),
    ("logs", "Logs"),
    ("advisors", "Advisors"),
];

/// The tabs of local mode (a build's own database has no auth, storage, secrets or advisors).
pub const LOCAL_TABS: [(&str, &str); 3] = [("database", "Database"), ("schema", "Schema"), ("logs", "Logs")];

/// What the kit manages: a linked Supabase project (by its ref), or — local
/// mode — a build's own Odoo database and log.
#[derive(Debug, Clone, PartialEq)]
pub enum KitTarget {
    Supabase(String),
    Local(uuid::Uuid),
}

impl KitTarget {
    pub fn tabs(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            KitTarget::Supabase(_) => &KIT_TABS,
            KitTarget::Local(_) => &LOCAL_TABS,
        }
    }

    /// The tab `?kit=<key>` names, among this target's (Database when unknown).
    pub fn tab(&self, key: &str) -> &'static str {
        self.tabs().iter().find(|(k, _)| *k == key).map_or("database", |(k, _)| k)
    }

    /// Where SQL goes: the read-only endpoint unless `write`.
    pub fn query_url(&self, write: bool) -> String {
        let rest = if write { "/database/query" } else { "/database/query/read-only" };
        match self {
            KitTarget::Supabase(r) => kit_url(r, rest),
            KitTarget::Local(build) => format!("/api/v1/builds/{build}{rest}"),
        }
    }
}

/// The tab `?kit=<key>` names on a Supabase project (Database when unknown).
pub fn kit_tab(key: &str) -> &'static str {
    KitTarget::Supabase(String::new()).tab(key)
}

/// The proxy's URL for a call on project `reference` (the path after `/v1/projects/{ref}`).
pub fn kit_url(reference: &str, rest: &str) -> String {
    format!("/api/supabase-proxy/v1/projects/{reference}{rest}")
}

/// Local mode's log lines of a build: a level (or all), a search, the last `hours`.
pub fn local_logs_url(build: uuid::Uuid, level: &str, search: &str, hours: i64) -> String {
    format!(
        "/api/v1/builds/{build}/database/logs?level={}&search={}&hours={hours}",
        domain::wire::url_component(level),
        domain::wire::url_component(search.trim())
    )
}

/// Local mode's migrations history: Odoo's modules as installed, with their versions.
pub const MODULES_SQL: &str = "select name as module, latest_version as version, state from ir_module_module \
     where state in ('installed', 'to upgrade', 'to remove') order by name limit 1000";

/// Tables with their estimated row counts.
pub const TABLES_SQL: &str = "select n.nspname as schema, c.relname as table, c.reltuples::bigint as estimated_rows \
     from pg_class c join pg_namespace n on n.oid = c.relnamespace \
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') \
       and n.nspname not like 'pg_%' order by 1, 2 limit 500";

/// Columns, indexes and row-level security policies of the public schemas.
pub const SCHEMA_SQL: [(&str, &str); 3] = [
    (
        "Columns",
        "select table_schema as schema, table_name as table, column_name as column, data_type as type, is_nullable as nullable \
         from information_schema.columns where table_schema not in ('pg_catalog', 'information_schema') \
         order by 1, 2, ordinal_position limit 1000",
    ),
    (
        "Indexes",
        "select schemaname as schema, tablename as table, indexname as index, indexdef as definition from pg_indexes \
         where schemaname not in ('pg_catalog', 'information_schema') order by 1, 2, 3 limit 1000",
    ),
    (
        "RLS policies",
        "select schemaname as schema, tablename as table, policyname as policy, cmd as command, roles, qual as using, \
         with_check from pg_policies order by 1, 2, 3 limit 1000",
    ),
];

/// Auth users (from `auth.users`: no password hashes, no tokens).
pub const AUTH_USERS_SQL: &str = "select id, email, phone, created_at, last_sign_in_at, confirmed_at, banned_until \
     from auth.users order by created_at desc limit 200";

/// A page of a table's rows (`schema.table` quoted as identifiers).
pub fn rows_sql(schema: &str, table: &str, page: u32) -> String {
    let ident = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    format!("select * from {}.{} limit 50 offset {}", ident(schema), ident(table), page.saturating_mul(50))
}

/// The log query of the Logs tab: the last lines of `source` whose message
/// contains `search` (quotes escaped), newest first.
pub fn logs_sql(source: &str, search: &str) -> String {
    let source = match source {
        "postgres_logs" | "auth_logs" | "function_logs" | "storage_logs" => source,
        _ => "edge_logs",
    };
    let search = search.trim().replace('\\', "\\\\").replace('\'', "\\'");
    let filter = if search.is_empty() { String::new() } else { format!(" where event_message like '%{search}%'") };
    format!("select id, timestamp, event_message from {source}{filter} order by timestamp desc limit 100")
}

/// A query result (a JSON array of objects) as columns and rows of text, in the order the first row gives.
pub fn result_table(v: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    let rows = match v {
        Value::Array(a) => a.as_slice(),
        Value::Object(o) => match o.get("result") {
            Some(Value::Array(a)) => a.as_slice(),
            _ => std::slice::from_ref(v),
        },
        _ => return (vec!["value".into()], vec![vec![cell(v)]]),
    };
    // The server's column order when it says it (local mode), else the first row's.
    let mut columns: Vec<String> = match v.get("columns") {
        Some(Value::Array(c)) => c.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    for r in rows {
        if let Value::Object(o) = r {
            for k in o.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let table = rows.iter().map(|r| columns.iter().map(|c| r.get(c).map(cell).unwrap_or_default()).collect()).collect();
    (columns, table)
}

/// The Tables list from [`TABLES_SQL`]'s answer: (schema, table, estimated rows), by
/// column name (a JSON object's keys may come in any order).
pub fn table_list(v: &Value) -> Vec<(String, String, String)> {
    let (columns, rows) = result_table(v);
    let at = |name: &str| columns.iter().position(|c| c == name);
    let (Some(s), Some(t)) = (at("schema"), at("table")) else { return Vec::new() };
    let n = at("estimated_rows");
    rows.into_iter().map(|r| (r[s].clone(), r[t].clone(), n.map(|n| r[n].clone()).unwrap_or_default())).collect()
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The table as CSV (cells that look like formulas are quoted, as everywhere in the console).
pub fn result_csv(columns: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| cells.iter().map(|c| super::csv_field(c)).collect::<Vec<_>>().join(",");
    let mut out = line(columns);
    for r in rows {
        out.push('\n');
        out.push_str(&line(r));
    }
    out
}

/// What the browser sends to run `sql` (the proxy decides which endpoint writes).
pub fn query_body(sql: &str) -> Value {
    serde_json::json!({ "query": sql })
}

/// Whether the SQL editor's text is worth sending.
pub fn runnable(sql: &str) -> bool {
    let s = sql.trim();
    !s.is_empty() && s.len() <= 100_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_become_tables_and_csv() {
        let (cols, rows) = result_table(&json!([{"id": 1, "name": "Acme"}, {"id": 2, "name": null, "extra": true}]));
        assert_eq!(cols, ["id", "name", "extra"]);
        assert_eq!(rows[1], ["2", "", "true"]);
        assert_eq!(result_csv(&cols, &rows).lines().next(), Some("id,name,extra"));
        let tables = table_list(&json!([{"estimated_rows": 42, "schema": "public", "table": "orders"}]));
        assert_eq!(tables, [("public".to_owned(), "orders".to_owned(), "42".to_owned())]);
        let (cols, _) = result_table(&json!({"columns": ["z", "a"], "result": [{"a": "1", "z": "2"}]}));
        assert_eq!(cols, ["z", "a"], "the server's order");
        let (cols, rows) = result_table(&json!({"result": [{"t": "x"}]}));
        assert_eq!((cols, rows), (vec!["t".to_owned()], vec![vec!["x".to_owned()]]));
        assert!(result_csv(&["a".into()], &[vec!["=HYPERLINK(1)".into()]]).contains("'=HYPERLINK"));
    }

    #[test]
    fn generated_sql_cannot_be_broken_out_of() {
        assert_eq!(rows_sql("public", "a\"b", 2), "select * from \"public\".\"a\"\"b\" limit 50 offset 100");
        let logs = logs_sql("edge_logs; drop", "it's");
        assert!(logs.starts_with("select id, timestamp, event_message from edge_logs where"), "{logs}");
        assert!(logs.contains("it\\'s"), "{logs}");
        assert_eq!(kit_tab("secrets"), "secrets");
        let local = KitTarget::Local(uuid::Uuid::nil());
        assert_eq!(local.tab("secrets"), "database", "local mode has no secrets");
        assert_eq!(local.tab("logs"), "logs");
        assert!(local.query_url(false).ends_with("/database/query/read-only"));
        assert!(local_logs_url(uuid::Uuid::nil(), "error", "a&b", 24).contains("search=a%26b&hours=24"));
        assert_eq!(kit_tab("nope"), "database");
        assert_eq!(
            kit_url("abcdefghijklmnopqrst", "/health"),
            "/api/supabase-proxy/v1/projects/abcdefghijklmnopqrst/health"
        );
    }
}
