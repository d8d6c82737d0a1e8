//! Commands that follow something until it ends: `builds logs -f` (the
//! build's log WebSocket, until the build is done), `builds wait` (exit 0
//! when the build is usable, 1 when it is not — for CI) and
//! `upgrade preview --wait` (exit 1 when the upgrade is blocked).

use super::commands::Call;
use super::ops::{self, Op};
use super::{Api, ClientError};
use clap::{Arg, ArgAction, ArgMatches, Command};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::io::IsTerminal;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The flags of the commands here.
pub fn extend(c: Command, cmd: &str) -> Command {
    match cmd {
        "builds logs" => c
            .arg(
                Arg::new("follow")
                    .short('f')
                    .long("follow")
                    .action(ArgAction::SetTrue)
                    .help("Follow new lines until the build ends"),
            )
            .arg(
                Arg::new("level")
                    .long("level")
                    .value_parser(["debug", "info", "warning", "error"])
                    .help("Only lines at this level or above"),
            )
            .arg(Arg::new("grep").long("grep").value_name("TEXT").help("Only lines containing TEXT")),
        "builds ls" => c
            .arg(Arg::new("branch").long("branch").help("Only builds of this branch"))
            .arg(
                Arg::new("state")
                    .long("state")
                    .value_parser(["pending", "running", "done", "ok", "warn", "ko", "killed"])
                    .help("Only builds in this state, or with this result"),
            )
            .arg(
                Arg::new("commit")
                    .long("commit")
                    .value_name("SHA")
                    .help("Only builds of this commit (a prefix will do)"),
            ),
        "upgrade preview" => c.arg(
            Arg::new("wait")
                .long("wait")
                .action(ArgAction::SetTrue)
                .help("Follow the preview; exit 0 when it is not blocked, 1 when it is"),
        ),
        _ => c,
    }
}

pub fn example(cmd: &str) -> Option<&'static str> {
    match cmd {
        "builds ls" => Some(
            "  odooops builds ls <project> --branch main --state ko\n  odooops builds ls <project> --commit 3f2a9c1 -q",
        ),
        "builds logs" => {
            Some("  odooops builds logs <build> -f --level warning\n  odooops builds logs <build> --grep ERROR --json")
        }
        "upgrade preview" => Some("  odooops upgrade preview <project> 18.0 --branch 18.0 --wait"),
        _ => None,
    }
}

/// `builds wait <build>`: no REST operation of its own (it reads `builds show`).
pub fn wait_command() -> Command {
    Command::new("wait")
        .about("Wait for a build to finish: exit 0 when it is ok (or warn), 1 when it is ko or killed")
        .long_about(
            "Wait for a build to finish, printing its state as it changes. Exits 0 when the build is usable \
             (ok or warn) and 1 when it failed or was killed, so a CI job can gate on it.\n\nCalls GET /api/v1/builds/{id}.",
        )
        .arg(Arg::new("build").value_name("BUILD").required_unless_present("commit").help("The build"))
        .arg(Arg::new("project").long("project").requires("commit").help("With --commit: the project whose build to wait for"))
        .arg(
            Arg::new("commit")
                .long("commit")
                .value_name("SHA")
                .requires("project")
                .conflicts_with("build")
                .help("Wait for the build of this commit (it may not exist yet: a push's webhook starts it)"),
        )
        .arg(Arg::new("branch").long("branch").requires("commit").help("With --commit: the build of this branch"))
        .arg(Arg::new("quiet").long("quiet").short('q').action(ArgAction::SetTrue).help("Print only the build's id"))
        .arg(Arg::new("timeout").long("timeout").value_name("SECONDS").value_parser(clap::value_parser!(u64)).help("Give up (exit 1) after this long"))
        .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("Print the finished build as JSON"))
        .after_help(
            "Examples:\n  odooops builds wait <build> && odooops promote <build>\n  build=$(odooops builds wait --project <project> --commit \"$(git rev-parse HEAD)\" -q)\n  odooops builds wait <build> --timeout 1800",
        )
}

/// Runs the command if it is one of these.
pub async fn run(api: &Api, op: &Op, call: &Call, m: &ArgMatches) -> Option<Result<(), ClientError>> {
    match op.cmd {
        "builds logs" => Some(logs(api, call, m).await),
        "builds ls" => Some(list_builds(api, op, call, m).await),
        "audit verify" => Some(verify(api, op, call, m).await),
        "upgrade preview" if m.get_flag("wait") => Some(preview_and_wait(api, call).await),
        _ => None,
    }
}

fn level_rank(l: &str) -> u8 {
    match l {
        "debug" => 0,
        "info" => 1,
        "warning" => 2,
        _ => 3,
    }
}

/// A line of the build's log, filtered and formatted (`None`: filtered out).
fn line(e: &Value, min_level: u8, grep: Option<&str>, json: bool) -> Option<String> {
    let level = e["level"].as_str().unwrap_or("info");
    let message = e["message"].as_str().unwrap_or_default();
    if level_rank(level) < min_level || grep.is_some_and(|g| !message.contains(g)) {
        return None;
    }
    if json {
        return Some(e.to_string());
    }
    let at = e["created_at"].as_str().and_then(|t| t.get(11..19)).unwrap_or("");
    // What a build printed is the tenant's: its control characters are shown, not obeyed.
    let message = super::output::visible(message);
    Some(format!("{at} {:<7} {:<9} {message}", level.to_uppercase(), e["source"].as_str().unwrap_or_default()))
}

/// The build's log so far (and, with `-f`, live until the build is done).
async fn logs(api: &Api, call: &Call, m: &ArgMatches) -> Result<(), ClientError> {
    let build = call.args.first().cloned().unwrap_or_default();
    let min = m.get_one::<String>("level").map_or(0, |l| level_rank(l));
    let grep = m.get_one::<String>("grep").cloned();
    let json = m.get_flag("json");
    let query = |k: &str| call.query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let mut after: i64 = query("after").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit: Option<usize> = query("limit").and_then(|v| v.parse().ok());
    let print = |events: &[Value], after: &mut i64| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for e in events {
            *after = e["id"].as_i64().unwrap_or(*after);
            if let Some(l) = line(e, min, grep.as_deref(), json) {
                let _ = writeln!(out, "{l}");
            }
        }
        let _ = out.flush();
    };
    let limited = drain(api, &build, &mut after, limit, &print).await?;
    if limited || !m.get_flag("follow") {
        return Ok(());
    }
    let build_path = ops::rest_path("builds show", std::slice::from_ref(&build));
    let done = |b: &Value| b["state"] == "done";
    if done(&api.get(&build_path).await?) {
        return finish(api, &build_path, &build, &mut after, &print).await;
    }
    let spinner = progress_spinner(&format!("following build {build}"));
    let socket = |after: i64| format!("/api/v1/builds/{build}/events/ws?after={after}");
    let mut ws = api.socket(&socket(after)).await?;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let events: Vec<Value> = serde_json::from_str(&t).unwrap_or_default();
                    match &spinner {
                        Some(s) => s.suspend(|| print(&events, &mut after)),
                        None => print(&events, &mut after),
                    }
                }
                Some(Ok(_)) => {}
                // The socket went away (a restart, a proxy): the REST history carries on from `after`.
                Some(Err(_)) | None => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    ws = api.socket(&socket(after)).await?;
                }
            },
            _ = tick.tick() => {
                let b = api.get(&build_path).await?;
                if let Some(s) = &spinner {
                    s.set_message(format!("build #{} {} ({})", b["number"], b["branch"].as_str().unwrap_or(""), b["state"].as_str().unwrap_or("")));
                }
                if done(&b) {
                    if let Some(s) = spinner {
                        s.finish_and_clear();
                    }
                    let _ = ws.send(Message::Close(None)).await;
                    return finish(api, &build_path, &build, &mut after, &print).await;
                }
            }
        }
    }
}

/// Prints the build's stored events after `*after`, page by page, at most `limit` of them;
/// whether the limit stopped it.
async fn drain(
    api: &Api,
    build: &str,
    after: &mut i64,
    limit: Option<usize>,
    print: &dyn Fn(&[Value], &mut i64),
) -> Result<bool, ClientError> {
    let events = ops::rest_path("builds logs", &[build.to_owned()]);
    let mut shown = 0usize;
    loop {
        let page_size = limit.map_or(1000, |l| l.saturating_sub(shown).min(1000));
        if page_size == 0 {
            return Ok(true);
        }
        let page = api.get(&format!("{events}?after={after}&limit={page_size}")).await?;
        let page = page.as_array().cloned().unwrap_or_default();
        shown += page.len();
        print(&page, after);
        if page.len() < page_size {
            return Ok(false);
        }
    }
}

/// Prints what the build logged after `after` (the socket may not have sent its last lines yet) and its result.
async fn finish(
    api: &Api,
    build_path: &str,
    build: &str,
    after: &mut i64,
    print: &dyn Fn(&[Value], &mut i64),
) -> Result<(), ClientError> {
    drain(api, build, after, None, print).await?;
    let b = api.get(build_path).await?;
    eprintln!("build {build} (#{}) finished: {}", b["number"], b["result"].as_str().unwrap_or("?"));
    Ok(())
}

/// `builds ls` with filters the REST list does not take (applied here, on the newest builds it lists).
async fn list_builds(api: &Api, op: &Op, call: &Call, m: &ArgMatches) -> Result<(), ClientError> {
    let answer = api.send(call.request(api)).await?;
    let mut v = answer.json()?;
    let branch = m.get_one::<String>("branch");
    let state = m.get_one::<String>("state");
    let commit = m.get_one::<String>("commit");
    if let Value::Array(items) = &mut v {
        items.retain(|b| {
            branch.is_none_or(|x| b["branch"] == x.as_str())
                && state.is_none_or(|x| b["state"] == x.as_str() || b["result"] == x.as_str())
                && commit.is_none_or(|x| b["commit_sha"].as_str().is_some_and(|s| s.starts_with(x.as_str())))
        });
    }
    let text = super::commands::print_json(op, &v, answer.status, m);
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(&text).and_then(|()| out.flush()).map_err(|e| ClientError::Failed(e.to_string()))
}

/// `audit verify`: exit 1 when the chain is broken (a scheduled job can alert on it).
async fn verify(api: &Api, op: &Op, call: &Call, m: &ArgMatches) -> Result<(), ClientError> {
    let answer = api.send(call.request(api)).await?;
    super::commands::print_answer(op, &answer, m)?;
    match answer.json()?["intact"].as_bool() {
        Some(false) => Err(ClientError::Failed("the audit trail is broken".into())),
        _ => Ok(()),
    }
}

/// A spinner on standard error when it is a terminal (plain output otherwise).
fn progress_spinner(msg: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(msg.to_owned());
    s.enable_steady_tick(Duration::from_millis(120));
    Some(s)
}

/// `builds wait <build>`.
pub async fn wait(m: &ArgMatches) -> Result<(), ClientError> {
    let api = Api::from_login()?;
    let deadline = m.get_one::<u64>("timeout").map(|s| tokio::time::Instant::now() + Duration::from_secs(*s));
    let build = match (m.get_one::<String>("build"), m.get_one::<String>("project"), m.get_one::<String>("commit")) {
        (Some(b), _, _) => b.clone(),
        (None, Some(project), Some(commit)) => {
            let list = ops::rest_path("builds ls", std::slice::from_ref(project));
            let branch = m.get_one::<String>("branch");
            let mut said = false;
            loop {
                let builds = api.get(&list).await?;
                let found = builds.as_array().into_iter().flatten().find(|b| {
                    b["commit_sha"].as_str().is_some_and(|s| s.starts_with(commit.as_str()))
                        && branch.is_none_or(|br| b["branch"] == br.as_str())
                });
                if let Some(b) = found {
                    break b["id"].as_str().unwrap_or_default().to_owned();
                }
                if !said {
                    eprintln!("waiting for a build of {commit}");
                    said = true;
                }
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    return Err(ClientError::Failed(format!("no build of {commit} appeared: gave up waiting")));
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        _ => return Err(ClientError::Usage("give a build, or --project and --commit".into())),
    };
    let path = ops::rest_path("builds show", std::slice::from_ref(&build));
    let mut last = String::new();
    loop {
        let b = api.get(&path).await?;
        let state = b["state"].as_str().unwrap_or("?").to_owned();
        if state != last {
            eprintln!("build #{} {}: {state}", b["number"], b["branch"].as_str().unwrap_or(""));
            last = state;
        }
        if b["state"] == "done" {
            let result = b["result"].as_str().unwrap_or("?");
            if m.get_flag("json") {
                println!("{b}");
            } else if m.get_flag("quiet") {
                println!("{build}");
            } else {
                println!("build #{} {}: {result}", b["number"], b["branch"].as_str().unwrap_or(""));
            }
            return match result {
                "ok" | "warn" => Ok(()),
                _ => Err(ClientError::Failed(format!(
                    "build {build} ended {result}{}",
                    b["reason"].as_str().map(|r| format!(": {r}")).unwrap_or_default()
                ))),
            };
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return Err(ClientError::Failed(format!("build {build} is still {last}: gave up waiting")));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// `upgrade preview … --wait`: starts it, then follows it; exit 1 when blocked.
async fn preview_and_wait(api: &Api, call: &Call) -> Result<(), ClientError> {
    let started = api.send(call.request(api)).await?.json()?;
    let id = started["id"].as_str().unwrap_or_default().to_owned();
    println!("preview {id} started: build {}", started["build_id"].as_str().unwrap_or_default());
    let path = ops::rest_path("upgrade show", std::slice::from_ref(&id));
    loop {
        let v = api.get(&path).await?;
        if v["state"] != "running" {
            println!(
                "preview {id}: {} (risk {})",
                v["state"].as_str().unwrap_or("?"),
                v["risk"].as_str().unwrap_or("?")
            );
            for b in v["blockers"].as_array().into_iter().flatten() {
                println!("  blocker: {}", b.as_str().unwrap_or_default());
            }
            if v["risk"] == "blocked" {
                return Err(ClientError::Failed("the upgrade is blocked".into()));
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_lines_filter_by_level_and_text() {
        let e = json!({"id": 3, "level": "warning", "source": "install", "message": "module x: deprecated", "created_at": "2026-12-07T04:27:30Z"});
        assert_eq!(line(&e, 0, None, false).unwrap(), "04:27:30 WARNING install   module x: deprecated");
        assert!(line(&e, 3, None, false).is_none(), "below error");
        assert!(line(&e, 2, Some("deprecated"), false).is_some());
        assert!(line(&e, 0, Some("nope"), false).is_none());
        assert!(line(&e, 0, None, true).unwrap().starts_with('{'));
        let hostile = json!({"id": 4, "level": "info", "source": "odoo", "message": "\u{1b}]52;c;cm0gLXJmIH4=\u{7}done", "created_at": "2026-12-07T04:27:30Z"});
        let shown = line(&hostile, 0, None, false).unwrap();
        assert!(!shown.contains('\u{1b}') && shown.ends_with("\\u{7}done"), "{shown:?}");
    }
}
