//! The client's command tree, built from [`super::ops::OPS`] and the
//! console's own OpenAPI document (compiled into this binary): a path's
//! parameters become positional arguments, query parameters and JSON body
//! fields become `--flags` with the document's descriptions, and every
//! command gets `--json` and an example in its help. Running one fills the
//! path, sends the request and prints the answer; the commands with
//! behaviour of their own hand over to [`super::live`],
//! [`super::transfer`] and [`super::terminal`].

use super::ops::{self, Op, OPS};
use super::{output, Api, ClientError};
use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};

/// Commands that the derived parser owns although they name an operation.
const DERIVED: &[&str] = &["whoami"];

/// The OpenAPI document as JSON.
pub fn document() -> Value {
    use utoipa::OpenApi;
    serde_json::to_value(crate::api::ApiDoc::openapi()).expect("the OpenAPI document serialises")
}

/// The operation object of a row in the document.
fn operation<'a>(doc: &'a Value, op: &Op) -> &'a Value {
    &doc["paths"][op.path][op.method]
}

/// Follows a `$ref` to the schema it names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    }
}

/// How a flag's text becomes a JSON value.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Str,
    Int,
    Num,
    Bool,
    List(Box<Kind>),
    Json,
}

fn kind(doc: &Value, schema: &Value) -> Kind {
    let s = resolve(doc, schema);
    if let Some(one) = s["oneOf"].as_array().or(s["anyOf"].as_array()) {
        let real: Vec<&Value> = one.iter().filter(|o| o["type"] != "null").collect();
        return if real.len() == 1 { kind(doc, real[0]) } else { Kind::Json };
    }
    let t = match &s["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or(""),
        _ if s["enum"].is_array() => "string",
        _ => "",
    };
    match t {
        "string" => Kind::Str,
        "integer" => Kind::Int,
        "number" => Kind::Num,
        "boolean" => Kind::Bool,
        "array" => Kind::List(Box::new(kind(doc, &s["items"]))),
        _ => Kind::Json,
    }
}

fn parse_value(kind: &Kind, text: &str, flag: &str) -> Result<Value, ClientError> {
    let bad = |what: &str| ClientError::Usage(format!("--{flag}: {text:?} is not {what}"));
    if text == "null" && *kind != Kind::Str {
        return Ok(Value::Null);
    }
    Ok(match kind {
        Kind::Str => Value::String(text.to_owned()),
        Kind::Int => Value::from(text.parse::<i64>().map_err(|_| bad("a whole number"))?),
        Kind::Num => Value::from(text.parse::<f64>().map_err(|_| bad("a number"))?),
        Kind::Bool => Value::Bool(match text {
            "true" | "yes" | "on" => true,
            "false" | "no" | "off" => false,
            _ => return Err(bad("true or false")),
        }),
        Kind::List(item) => {
            if text.trim_start().starts_with('[') {
                serde_json::from_str(text).map_err(|_| bad("a JSON list"))?
            } else if text.is_empty() {
                Value::Array(vec![])
            } else {
                Value::Array(text.split(',').map(|t| parse_value(item, t.trim(), flag)).collect::<Result<_, _>>()?)
            }
        }
        Kind::Json => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    })
}

/// A flag of a leaf command and where its value goes.
#[derive(Debug, Clone)]
enum Slot {
    Path,
    Query(Kind),
    Body(Kind),
}

/// The leaf's arguments, by clap id.
fn slots(doc: &Value, op: &Op) -> Vec<(String, String, Slot, String, bool)> {
    // (id, long or positional name, slot, help, required)
    let mut out = Vec::new();
    for p in ops::path_params(op.path) {
        let label = ops::param_label(op.path, p);
        out.push((format!("path:{p}"), label.clone(), Slot::Path, format!("The {label}"), true));
    }
    let o = operation(doc, op);
    for p in o["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query") {
        let name = p["name"].as_str().unwrap_or_default();
        out.push((
            format!("query:{name}"),
            name.replace('_', "-"),
            Slot::Query(kind(doc, &p["schema"])),
            p["description"].as_str().unwrap_or_default().to_owned(),
            false,
        ));
    }
    let body = resolve(doc, &o["requestBody"]["content"]["application/json"]["schema"]);
    let required: Vec<&str> = body["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for (name, schema) in body["properties"].as_object().into_iter().flatten() {
        let help = schema["description"].as_str().or(resolve(doc, schema)["description"].as_str()).unwrap_or_default();
        // A field named like one of every command's own flags takes a prefix.
        let long = name.replace('_', "-");
        let long = if ["data", "json", "output", "quiet", "help"].contains(&long.as_str()) {
            format!("body-{long}")
        } else {
            long
        };
        out.push((
            format!("body:{name}"),
            long,
            Slot::Body(kind(doc, schema)),
            help.to_owned(),
            required.contains(&name.as_str()),
        ));
    }
    // Positionals in order: the path's, then the body fields the row names, in its order.
    let rank = |id: &str| match id.split_once(':') {
        Some(("path", _)) => 0,
        Some(("body", f)) => op.pos.iter().position(|p| *p == f).map_or(usize::MAX, |i| i + 1),
        _ => usize::MAX,
    };
    out.sort_by_key(|(id, ..)| rank(id));
    out
}

/// The values a field's schema allows, when it lists them.
fn choices(doc: &Value, op: &Op, field: &str, slot: &Slot) -> Option<Vec<String>> {
    let o = operation(doc, op);
    let schema = match slot {
        Slot::Path => return None,
        Slot::Query(_) => o["parameters"].as_array()?.iter().find(|p| p["name"] == field)?["schema"].clone(),
        Slot::Body(_) => {
            resolve(doc, &o["requestBody"]["content"]["application/json"]["schema"])["properties"][field].clone()
        }
    };
    let s = resolve(doc, &schema);
    let from = |s: &Value| {
        s["enum"].as_array().map(|e| e.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>())
    };
    from(s).or_else(|| s["oneOf"].as_array()?.iter().find_map(|o| from(resolve(doc, o)))).filter(|v| !v.is_empty())
}

fn has_json_body(doc: &Value, op: &Op) -> bool {
    !operation(doc, op)["requestBody"]["content"]["application/json"].is_null()
}

/// One leaf command: positionals for the path (and `pos` body fields), flags for the rest.
fn leaf(doc: &Value, op: &'static Op, name: &str) -> Command {
    let o = operation(doc, op);
    let summary = o["summary"].as_str().unwrap_or_default().to_owned();
    let mut c = Command::new(name.to_owned()).about(summary.clone());
    let mut example = format!("  odooops {}", op.cmd);
    let all = slots(doc, op);
    // An optional body field is positional only when no required one follows it (else it is a flag).
    let required_after = |field: &str| {
        let at = op.pos.iter().position(|p| *p == field).unwrap_or(usize::MAX);
        all.iter().any(|(id, _, _, _, req)| {
            *req && id.strip_prefix("body:").and_then(|f| op.pos.iter().position(|p| *p == f)).is_some_and(|i| i > at)
        })
    };
    for (id, long, slot, help, required) in all.clone() {
        let field = id.split_once(':').map(|(_, f)| f).unwrap_or_default().to_owned();
        let positional =
            matches!(slot, Slot::Path) || (op.pos.contains(&field.as_str()) && (required || !required_after(&field)));
        let mut arg = Arg::new(id).help(help).value_name(long.to_uppercase());
        if let Some(values) = choices(doc, op, &field, &slot) {
            arg = arg.value_parser(clap::builder::PossibleValuesParser::new(values));
        }
        if positional {
            let required = required || matches!(slot, Slot::Path);
            example.push_str(&format!(" <{long}>"));
            c = c.arg(arg.required(required));
        } else {
            if required {
                example.push_str(&format!(" --{long} …"));
            }
            c = c.arg(arg.long(long).required(false));
        }
    }
    if has_json_body(doc, op) {
        c =
            c.arg(
                Arg::new("data").long("data").short('d').value_name("JSON|@FILE").help(
                    "The request's JSON body (flags set fields over it); @file reads it from a file, @- from stdin",
                ),
            );
    }
    if op.method == "get" {
        c = c.arg(
            Arg::new("output")
                .long("output")
                .short('o')
                .value_name("FILE")
                .help("Write the answer to a file instead of standard output"),
        );
    }
    if op.method == "get" {
        c = c.arg(
            Arg::new("quiet")
                .long("quiet")
                .short('q')
                .action(ArgAction::SetTrue)
                .help("Print only ids, one per line (for scripts)"),
        );
    }
    c = c.arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("Print the console's JSON as it is"));
    let mut c = super::live::extend(super::transfer::extend(super::terminal::extend(c, op.cmd), op.cmd), op.cmd);
    let description = o["description"].as_str().unwrap_or_default();
    let route = format!("{} {}", op.method.to_uppercase(), op.path);
    let more = super::live::example(op.cmd).or(super::transfer::example(op.cmd)).or(super::terminal::example(op.cmd));
    let examples = match more {
        Some(m) => format!("{example}\n{m}"),
        None => format!("{example}\n{example} --json"),
    };
    c = c.long_about(format!(
        "{summary}{}\n\nCalls {route}.",
        if description.is_empty() { String::new() } else { format!("\n\n{description}") }
    ));
    c.after_help(format!("Examples:\n{examples}"))
}

/// A node of the tree while it is built.
struct Node {
    name: String,
    op: Option<&'static Op>,
    children: Vec<Node>,
}

impl Node {
    fn child(&mut self, name: &str) -> &mut Node {
        if let Some(i) = self.children.iter().position(|c| c.name == name) {
            return &mut self.children[i];
        }
        self.children.push(Node { name: name.to_owned(), op: None, children: vec![] });
        self.children.last_mut().expect("just pushed")
    }

    fn command(&self, doc: &Value) -> Command {
        match self.op {
            Some(op) => leaf(doc, op, &self.name),
            None => {
                let mut c = Command::new(self.name.clone())
                    .about(group_about(&self.name))
                    .subcommand_required(true)
                    .arg_required_else_help(true);
                for child in &self.children {
                    c = c.subcommand(child.command(doc));
                }
                if self.name == "builds" {
                    c = c.subcommand(super::live::wait_command());
                }
                c
            }
        }
    }
}

fn group_about(name: &str) -> String {
    match name {
        "tokens" => "Personal access tokens: list, create, revoke",
        "tenants" => "Tenants (customer organisations): list, create, invite",
        "invitations" => "Your invitations to tenants: list, accept, decline",
        "projects" => "Projects: list, create, show; their settings and preflight gates",
        "members" => "People of a project: list, add (or change a role), remove",
        "environments" => "Environments: change a stage, health, monitoring, runtime logs",
        "audit" => "The audit trail: list, verify its hash chain, export as CSV",
        "builds" => "Builds of a project: list, show, follow logs, wait, rebuild, kill, share",
        "shells" => "Shell sessions of a build and their transcripts",
        "ssh-keys" => "Your SSH keys for the SSH gateway: list, add, remove",
        "mails" => "Mail caught from an environment: list, show, raw, delete",
        "console-mail" => "Mail the console sent without a relay",
        "backups" => "Backups of an environment: list, create, download, restore, import; settings",
        "restores" => "Production restores waiting for approval",
        "promotions" => "Promotions to production: list, show, approve, reject; release settings",
        "upgrade" => "Odoo upgrades: preview production on a newer series, then request the upgrade",
        "instances" => "Tenant instances: list, create, show, operations, domains",
        "domains" => "A project's custom domains: list, add, verify, remove",
        "alerts" => "A project's alerts, rules and channels",
        "catalog" => "Module catalog: sources (OCA and others) and their modules",
        "bundles" => "Module bundles for instances",
        "wizard" => "The tenant onboarding wizard's drafts",
        "platform" => "Platform roles and settings (platform team)",
        "billing" => "Subscriptions and plan changes (platform team)",
        "fleet" => "Every tenant at a glance: tenants, findings, capacity (platform team)",
        "support" => "Support requests and runbooks",
        "webhooks" => "Outgoing webhooks and their deliveries",
        "analytics" => "Analytics settings per tenant",
        "supabase" => "Supabase links and a build's database: query, logs",
        other => return format!("{} commands", other.replace('-', " ")),
    }
    .to_owned()
}

/// The whole command line: the derived commands (serve, admin, login…) and the client's, from `doc`.
pub fn augment(root: Command, doc: &Value) -> Command {
    let mut top = Node { name: String::new(), op: None, children: vec![] };
    for op in OPS.iter().filter(|o| !DERIVED.contains(&o.cmd)) {
        let mut node = &mut top;
        for w in op.cmd.split(' ') {
            node = node.child(w);
        }
        node.op = Some(op);
    }
    let mut root = root;
    for child in &top.children {
        root = root.subcommand(child.command(doc));
    }
    root.subcommand(
        Command::new("completions")
            .about("Print shell completions")
            .long_about(
                "Print the completion script of a shell.\n\n  bash: odooops completions bash > /etc/bash_completion.d/odooops\n  zsh:  odooops completions zsh > \"${fpath[1]}/_odooops\"\n  fish: odooops completions fish > ~/.config/fish/completions/odooops.fish",
            )
            .arg(Arg::new("shell").required(true).value_parser(["bash", "zsh", "fish", "elvish", "powershell"])),
    )
}

/// Whether a top-level command is the client's (built here) rather than derived.
pub fn owns(name: &str) -> bool {
    name == "completions" || OPS.iter().any(|o| !DERIVED.contains(&o.cmd) && o.cmd.split(' ').next() == Some(name))
}

/// Runs a client command from its matches (`name` is the top-level word).
pub async fn run(mut root: Command, doc: &Value, name: &str, m: &ArgMatches) -> Result<(), ClientError> {
    if name == "completions" {
        let shell: clap_complete::Shell = m
            .get_one::<String>("shell")
            .and_then(|s| s.parse().ok())
            .ok_or(ClientError::Usage("which shell?".into()))?;
        clap_complete::generate(shell, &mut root, "odooops", &mut std::io::stdout());
        return Ok(());
    }
    let mut words = vec![name.to_owned()];
    let mut m = m;
    while let Some((sub, sm)) = m.subcommand() {
        words.push(sub.to_owned());
        m = sm;
    }
    let cmd = words.join(" ");
    if cmd == "builds wait" {
        return super::live::wait(m).await;
    }
    let op = ops::by_cmd(&cmd);
    let call = Call::from_matches(doc, op, m)?;
    let api = Api::from_login()?;
    if let Some(done) = super::live::run(&api, op, &call, m).await {
        return done;
    }
    if let Some(done) = super::transfer::run(&api, op, &call, m).await {
        return done;
    }
    if let Some(done) = super::terminal::run(&api, op, &call, m).await {
        return done;
    }
    let answer = api.send(call.request(&api)).await?;
    print_answer(op, &answer, m)
}

/// Prints an answer: JSON as a table or fields (or as it is with `--json`), anything else as bytes.
pub fn print_answer(op: &Op, answer: &super::Answer, m: &ArgMatches) -> Result<(), ClientError> {
    let out_file = m.try_get_one::<String>("output").ok().flatten();
    let text = if out_file.is_some() {
        answer.body.clone()
    } else if !answer.is_json() {
        // Raw mail, CSV, HTML: as they are into a pipe; on a terminal, text with its controls
        // made visible (a caught mail is a tenant's), and binary not at all.
        if std::io::stdout().is_terminal() {
            match output::for_terminal(&answer.body) {
                Some(text) => text.into_bytes(),
                None => {
                    return Err(ClientError::Usage(
                        "the answer is binary: write it to a file with -o FILE (or pipe it)".into(),
                    ))
                }
            }
        } else {
            answer.body.clone()
        }
    } else {
        print_json(op, &answer.json()?, answer.status, m)
    };
    match out_file {
        Some(f) => std::fs::write(f, &text).map_err(|e| ClientError::Failed(format!("writing {f}: {e}")))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&text).and_then(|()| out.flush()).map_err(|e| ClientError::Failed(format!("{e}")))?;
        }
    }
    Ok(())
}

/// A JSON answer as the flags ask: ids only (`-q`), as it is (`--json`), or for reading.
pub fn print_json(op: &Op, v: &Value, status: u16, m: &ArgMatches) -> Vec<u8> {
    if m.try_get_one::<bool>("quiet").ok().flatten().copied().unwrap_or(false) {
        let items = match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        items.iter().filter_map(|i| i["id"].as_str().map(|id| format!("{id}\n"))).collect::<String>().into_bytes()
    } else if m.get_flag("json") {
        format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default()).into_bytes()
    } else if v.is_null() && status == 204 {
        format!("{}: done\n", op.cmd).into_bytes()
    } else {
        output::render(v, op.cols).into_bytes()
    }
}

/// A request ready to send: the filled path, the query and the JSON body.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    /// The path's parameters as given (`builds logs <build>` → the build).
    pub args: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Call {
    pub fn from_matches(doc: &Value, op: &'static Op, m: &ArgMatches) -> Result<Call, ClientError> {
        let mut path_values = Vec::new();
        let mut query = Vec::new();
        let mut body = match m.try_get_one::<String>("data").ok().flatten() {
            Some(d) => read_data(d)?,
            None => Map::new(),
        };
        for (id, long, slot, _, _) in slots(doc, op) {
            let Some(text) = m.get_one::<String>(&id) else { continue };
            match slot {
                Slot::Path => path_values.push(text.clone()),
                Slot::Query(k) => {
                    let v = match parse_value(&k, text, &long)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    query.push((id["query:".len()..].to_owned(), v));
                }
                Slot::Body(k) => {
                    body.insert(id["body:".len()..].to_owned(), parse_value(&k, text, &long)?);
                }
            }
        }
        let body = (op.method != "get" && op.method != "delete" || !body.is_empty()).then_some(Value::Object(body));
        Ok(Call { method: op.method, path: ops::fill(op.path, &path_values), args: path_values, query, body })
    }

    pub fn request(&self, api: &Api) -> reqwest::RequestBuilder {
        let mut r = api.request(self.method, &self.path);
        if !self.query.is_empty() {
            r = r.query(&self.query);
        }
        if let Some(b) = &self.body {
            r = r.json(b);
        }
        r
    }
}

fn read_data(d: &str) -> Result<Map<String, Value>, ClientError> {
    let text = match d.strip_prefix('@') {
        Some("-") => {
            std::io::read_to_string(std::io::stdin()).map_err(|e| ClientError::Failed(format!("stdin: {e}")))?
        }
        Some(f) => std::fs::read_to_string(f).map_err(|e| ClientError::Failed(format!("{f}: {e}")))?,
        None => d.to_owned(),
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ClientError::Usage("--data: not a JSON object".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every REST operation of the document has a command, and every command names an operation that exists.
    #[test]
    fn the_openapi_document_and_the_commands_stay_in_step() {
        let doc = document();
        let in_doc: BTreeSet<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |m| format!("{m} {p}")))
            .collect();
        let in_client: BTreeSet<String> = OPS.iter().map(|o| format!("{} {}", o.method, o.path)).collect();
        let missing: Vec<_> = in_doc.difference(&in_client).collect();
        assert!(missing.is_empty(), "REST operations without a client command: {missing:#?}");
        let gone: Vec<_> = in_client.difference(&in_doc).collect();
        assert!(gone.is_empty(), "client commands calling routes that do not exist: {gone:#?}");

        // And each row is a command of the built tree.
        let root = augment(<crate::cli::Cli as clap::CommandFactory>::command(), &doc);
        for op in OPS {
            let mut c = &root;
            for w in op.cmd.split(' ') {
                c = c.find_subcommand(w).unwrap_or_else(|| panic!("`odooops {}` is not a command", op.cmd));
            }
        }
        root.clone().debug_assert();
        // Every command says how it is used.
        fn leaves(c: &Command, path: String, out: &mut Vec<(String, String)>) {
            for s in c.get_subcommands() {
                leaves(s, format!("{path} {}", s.get_name()), out);
            }
            if c.get_subcommands().next().is_none() {
                out.push((path, c.get_after_help().map(|h| h.to_string()).unwrap_or_default()));
            }
        }
        let mut all = Vec::new();
        for name in OPS.iter().filter_map(|o| o.cmd.split(' ').next()).filter(|n| owns(n)) {
            leaves(root.find_subcommand(name).unwrap(), name.to_owned(), &mut all);
        }
        for (path, help) in all {
            assert!(help.contains("Examples:\n  odooops "), "`odooops {path} --help` has no example");
        }
    }

    #[test]
    fn flags_read_as_the_fields_types() {
        let doc = document();
        let root = augment(<crate::cli::Cli as clap::CommandFactory>::command(), &doc);
        let m = root
            .clone()
            .try_get_matches_from([
                "odooops",
                "members",
                "add",
                "7e0c3ad8-0000-4000-8000-000000000001",
                "dev@acme.test",
                "developer",
            ])
            .unwrap();
        let (_, m) = m.subcommand().unwrap();
        let (_, m) = m.subcommand().unwrap();
        let call = Call::from_matches(&doc, ops::by_cmd("members add"), m).unwrap();
        assert_eq!(call.path, "/api/v1/projects/7e0c3ad8-0000-4000-8000-000000000001/members");
        assert_eq!(call.body.unwrap(), serde_json::json!({"email": "dev@acme.test", "role": "developer"}));
        assert_eq!(parse_value(&Kind::Int, "12", "x").unwrap(), serde_json::json!(12));
        assert_eq!(parse_value(&Kind::List(Box::new(Kind::Str)), "a, b", "x").unwrap(), serde_json::json!(["a", "b"]));
        assert!(parse_value(&Kind::Bool, "maybe", "x").is_err());
        // A flag that is not there is a usage error (exit 2).
        assert!(root.try_get_matches_from(["odooops", "builds", "ls", "x", "--nonsense"]).is_err());
    }
}
