//! The `odooops` client driven as a process against a spawned console, one
//! command group after another: people and keys and the audit trail; builds
//! followed live to their end, `builds wait`'s exit codes, `shell -c`, and
//! backups created, downloaded through a connection that breaks halfway
//! (resumed with Range) and imported; and the README's CI example, run as
//! it is written, with a Git remote whose push is announced like GitHub's.

use crate::backups::{download, production, wait_backup, wait_build};
use crate::helpers::{add_project_member, spawn_app, spawn_app_with_builds, tear_down_builds, Api};
use crate::pipeline::{commit_file, finished, git, push, repository, standin_project};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// The client's environment: the console and the token from CI-style variables, no stored login.
fn command(addr: &str, token: &str, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_odooops"));
    c.args(args)
        .env("ODOOOPS_URL", addr)
        .env("ODOOOPS_TOKEN", token)
        .env("ODOOOPS_CONFIG", "/nonexistent/odooops-login.json")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    c
}

/// Runs the client to its end with `stdin`; its output.
async fn run(addr: &str, token: &str, args: &[&str], stdin: &str) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut child = command(addr, token, args).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(Duration::from_secs(600), child.wait_with_output()).await.expect("the client ended").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs and expects success; standard output.
async fn ok(api: &Api<'_>, args: &[&str]) -> String {
    let out = run(&api.app.addr, &api.token, args, "").await;
    assert!(out.status.success(), "odooops {args:?} failed: {}", text(&out));
    stdout(&out)
}

async fn json(api: &Api<'_>, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = ok(api, &all).await;
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("odooops {args:?} --json: {e}\n{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_members_tokens_keys_and_the_audit_trail_from_the_command_line() {
    let app = spawn_app().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);

    // projects create | ls | show, with the body's fields as flags and positionals.
    let p = json(
        &api,
        &["projects", "create", "Shop", "--repo-url", "https://github.com/acme/shop.git", "--odoo-version", "17.0"],
    )
    .await;
    let project = p["id"].as_str().unwrap_or_else(|| p["project"]["id"].as_str().unwrap()).to_owned();
    let table = ok(&api, &["projects", "ls"]).await;
    assert!(table.starts_with("ID ") && table.contains("Shop") && table.contains("17.0"), "{table}");
    assert_eq!(ok(&api, &["projects", "ls", "-q"]).await.trim(), project);
    let shown = ok(&api, &["projects", "show", &project]).await;
    assert!(shown.contains("name: Shop"), "{shown}");

    // members add | ls | rm.
    let dev = add_project_member(&app, &api, &project, "dev@acme.test", "developer").await;
    let dev = app.api(&dev.token().await);
    let members = ok(&api, &["members", "ls", &project]).await;
    assert!(members.contains("dev@acme.test") && members.contains("developer"), "{members}");
    ok(&api, &["members", "add", &project, "dev@acme.test", "tester"]).await;
    let listed = json(&api, &["members", "ls", &project]).await;
    let row = listed.as_array().unwrap().iter().find(|m| m["email"] == "dev@acme.test").unwrap().clone();
    assert_eq!(row["role"], "tester");

    // Exit codes: 4 forbidden (a tester adds nobody), 5 not found, 3 a bad token, 2 usage.
    let out = run(&app.addr, &dev.token, &["members", "add", &project, "x@acme.test", "admin"], "").await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).starts_with("error: "), "the server's message: {}", text(&out));
    let out = run(&app.addr, &api.token, &["projects", "show", &uuid::Uuid::new_v4().to_string()], "").await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let out = run(&app.addr, "odo_wrong", &["projects", "ls"], "").await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = run(&app.addr, &api.token, &["members", "add", &project], "").await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let user = row["user_id"].as_str().unwrap();
    assert!(ok(&api, &["members", "rm", &project, user]).await.contains("done"));
    let out = run(&app.addr, &dev.token, &["projects", "show", &project], "").await;
    assert!(matches!(out.status.code(), Some(4) | Some(5)), "removed: {}", text(&out));

    // tokens: an access token lists tokens and revokes them, but never makes one (the browser does).
    let out = run(&app.addr, &api.token, &["tokens", "create", "ci", "--expires-in-days", "7"], "").await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("cannot create access tokens"), "{}", text(&out));
    let secret = ann.token().await;
    let out = run(&app.addr, &secret, &["whoami"], "").await;
    assert!(out.status.success() && text(&out).contains("ann@acme.test"), "{}", text(&out));
    let tokens = json(&api, &["tokens", "ls"]).await;
    assert!(tokens.as_array().unwrap().len() >= 2, "{tokens}");
    let newest =
        tokens.as_array().unwrap().iter().max_by_key(|t| t["created_at"].as_str().unwrap().to_owned()).unwrap();
    ok(&api, &["tokens", "rm", newest["id"].as_str().unwrap()]).await;
    assert_eq!(run(&app.addr, &secret, &["whoami"], "").await.status.code(), Some(3), "revoked");

    // ssh-keys: add, list, remove.
    let dir = scratch();
    let keyfile = dir.join("id_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "cli@test", "-f"])
        .arg(&keyfile)
        .status()
        .unwrap();
    assert!(made.success());
    let key = std::fs::read_to_string(keyfile.with_extension("pub")).unwrap();
    let added = json(&api, &["ssh-keys", "add", key.trim(), "--name", "laptop"]).await;
    assert!(ok(&api, &["ssh-keys", "ls"]).await.contains("laptop"));
    ok(&api, &["ssh-keys", "rm", added["id"].as_str().unwrap()]).await;
    assert!(!ok(&api, &["ssh-keys", "ls"]).await.contains("laptop"));

    // audit ls | verify | export.
    let audit = ok(&api, &["audit", "ls", "--action", "project."]).await;
    assert!(audit.contains("project.create") || audit.contains("project.member"), "{audit}");
    assert!(ok(&api, &["audit", "verify"]).await.contains("intact: true"));
    let csv = dir.join("audit.csv");
    ok(&api, &["audit", "export", "-o", csv.to_str().unwrap()]).await;
    assert!(std::fs::read_to_string(&csv).unwrap().lines().count() > 3);

    // Completions and help.
    for shell in ["bash", "zsh", "fish"] {
        let out = ok(&api, &["completions", shell]).await;
        assert!(out.contains("odooops") && out.contains("builds"), "{shell}");
    }
    let help = ok(&api, &["backups", "download", "--help"]).await;
    assert!(help.contains("Examples:") && help.contains("GET /api/v1/backups/{id}/download"), "{help}");
    let _ = std::fs::remove_dir_all(dir);
}

fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../target/cli-tests/{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A TCP proxy to the console that cuts its first connection after `cut` bytes of answer
/// (it names the console in `Host`, which the console checks).
async fn breaking_proxy(upstream: &str, cut: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (me, them) = (addr.to_string(), upstream.clone());
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut client, _)) = listener.accept().await {
            let mut server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
            let limit = if first { Some(cut) } else { None };
            first = false;
            let (me, them) = (me.clone(), them.clone());
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0u8; 16 << 10];
                    loop {
                        let n = cr.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        let chunk = String::from_utf8_lossy(&buf[..n]).replace(&me, &them);
                        if sw.write_all(chunk.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                };
                let down = async {
                    let mut sent = 0usize;
                    let mut buf = vec![0u8; 16 << 10];
                    loop {
                        let n = sr.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        let n = limit.map_or(n, |l| n.min(l - sent));
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        sent += n;
                        if limit.is_some_and(|l| sent >= l) {
                            break;
                        }
                    }
                };
                tokio::select! { _ = up => {}, _ = down => {} }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_are_followed_waited_for_and_shelled_into_and_backups_download_resuming_and_import() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let (project, prod, _db) = production(&app, &api, &repo, "Cli").await;

    // A push: `builds wait` starts before the build exists; `builds logs -f` follows it to its end.
    let sha = commit_file(&repo, "feature-cli", "README.md", "cli\n", "A change");
    let waiting = command(&app.addr, &api.token, &["builds", "wait", "--project", &project, "--commit", &sha, "-q"])
        .spawn()
        .unwrap();
    push(&app, &api, &project, "feature-cli", &sha).await;
    let build = loop {
        let listed = json(&api, &["builds", "ls", &project, "--commit", &sha[..10]]).await;
        if let Some(b) = listed.as_array().unwrap().first() {
            break b["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let following = command(&app.addr, &api.token, &["builds", "logs", &build, "-f"]).spawn().unwrap();
    let followed = tokio::time::timeout(Duration::from_secs(600), following.wait_with_output()).await.unwrap().unwrap();
    assert!(followed.status.success(), "{}", text(&followed));
    let done = wait_build(&api, &build).await;
    assert_eq!(done["result"], "ok", "{done}");
    let (_, events) = api.get(&format!("/api/v1/builds/{build}/events?limit=5000")).await;
    let events = events.as_array().unwrap();
    let printed = stdout(&followed);
    assert_eq!(printed.lines().count(), events.len(), "every line once, none lost:\n{printed}");
    assert!(printed.contains(events.last().unwrap()["message"].as_str().unwrap()), "to the end: {printed}");
    assert!(String::from_utf8_lossy(&followed.stderr).contains("finished: ok"), "{}", text(&followed));
    let waited = tokio::time::timeout(Duration::from_secs(600), waiting.wait_with_output()).await.unwrap().unwrap();
    assert_eq!(waited.status.code(), Some(0), "{}", text(&waited));
    assert_eq!(stdout(&waited).trim(), build);
    let warnings = ok(&api, &["builds", "logs", &build, "--level", "warning", "--json"]).await;
    assert!(warnings.lines().all(|l| serde_json::from_str::<Value>(l).is_ok_and(|e| e["level"] != "info")));

    // A build that fails: `builds wait` exits 1 and says why.
    let bad = commit_file(&repo, "feature-bad", ".standin", "fail-test\n", "Break a test");
    push(&app, &api, &project, "feature-bad", &bad).await;
    let out = run(&app.addr, &api.token, &["builds", "wait", "--project", &project, "--commit", &bad], "").await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("ko"), "{}", text(&out));

    // shell -c: the command's output and exit status; standard input reaches it.
    let out = run(&app.addr, &api.token, &["shell", &build, "-c", "echo from-the-shell; exit 3"], "").await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(stdout(&out).contains("from-the-shell"), "{}", text(&out));
    let out = run(&app.addr, &api.token, &["shell", &build, "-c", "tr a-z A-Z"], "piped input\n").await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("PIPED INPUT"), "{}", text(&out));
    // Interactively, in a real terminal (util-linux `script` gives it one): the window's size reaches
    // the container's terminal, typed lines run, `exit` ends the session.
    let inner = format!("stty cols 123 rows 45; exec '{}' shell {build}", env!("CARGO_BIN_EXE_odooops"));
    let mut term = tokio::process::Command::new("script");
    term.args(["-qec", &inner, "/dev/null"])
        .env("ODOOOPS_URL", &app.addr)
        .env("ODOOOPS_TOKEN", &api.token)
        .env("ODOOOPS_CONFIG", "/nonexistent/odooops-login.json")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = term.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut input = child.stdin.take().unwrap();
        input.write_all(b"echo typed-$((6*7)); stty size; exit\n").await.unwrap();
        // Standard input stays open (a person at the keyboard) until the session ends by itself.
        let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output()).await.unwrap().unwrap();
        drop(input);
        let seen = text(&out);
        assert!(seen.contains("typed-42"), "{seen}");
        assert!(seen.contains("45 123"), "the window's size reached the container: {seen}");
        assert!(seen.contains("shell closed"), "{seen}");
    }
    let sessions = ok(&api, &["shells", "ls", &build]).await;
    assert!(sessions.contains("ann@acme.test"), "{sessions}");

    // backups create | show | ls, then a download through a connection that breaks halfway.
    let env = prod["env_id"].as_str().unwrap();
    let created = json(&api, &["backups", "create", env]).await;
    let backup = created["id"].as_str().unwrap().to_owned();
    assert_eq!(wait_backup(&api, &backup).await["state"], "done");
    assert!(ok(&api, &["backups", "ls", env, "-q"]).await.contains(&backup));
    let whole = download(&api, &backup, true).await;
    assert!(whole.len() > 4096, "{} bytes", whole.len());
    let proxy = breaking_proxy(&app.addr, whole.len() / 2).await;
    let dir = scratch();
    let target = dir.join("production.zip");
    let out = run(&proxy, &api.token, &["backups", "download", &backup, "-o", target.to_str().unwrap()], "").await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("resuming at byte"), "it resumed rather than starting over: {}", text(&out));
    assert!(std::fs::read(&target).unwrap() == whole, "the resumed file is the backup, byte for byte");
    assert!(!dir.join("production.zip.part").exists());
    // A part left by an earlier run resumes on the next one; a part of something else starts over.
    let again = dir.join("again.zip");
    std::fs::write(dir.join("again.zip.part"), &whole[..1000]).unwrap();
    std::fs::write(dir.join("again.zip.part.etag"), format!("\"{}-{}\"", backup.replace('-', ""), whole.len()))
        .unwrap();
    let out = run(&app.addr, &api.token, &["backups", "download", &backup, "-o", again.to_str().unwrap()], "").await;
    assert!(out.status.success() && text(&out).contains("resuming at byte 1000"), "{}", text(&out));
    assert!(std::fs::read(&again).unwrap() == whole);
    std::fs::write(dir.join("again.zip.part"), b"something else entirely").unwrap();
    std::fs::write(dir.join("again.zip.part.etag"), "\"stale\"").unwrap();
    let out = run(&app.addr, &api.token, &["backups", "download", &backup, "-o", again.to_str().unwrap()], "").await;
    assert!(out.status.success() && !text(&out).contains("resuming"), "{}", text(&out));
    assert!(std::fs::read(&again).unwrap() == whole);

    // backups import into the development branch: a new build loads it.
    let dev_env = done["env_id"].as_str().unwrap();
    let out = run(&app.addr, &api.token, &["backups", "import", dev_env, target.to_str().unwrap()], "").await;
    assert!(out.status.success() && text(&out).contains("imported into a new build"), "{}", text(&out));

    // mails, promotions and restores read as tables (nothing caught, nothing promoted yet).
    assert!(ok(&api, &["mails", "ls", dev_env]).await.contains("(none)"));
    assert!(ok(&api, &["promotions", "ls", &project]).await.contains("(none)"));
    let out = run(&app.addr, &api.token, &["builds", "show", &uuid::Uuid::new_v4().to_string()], "").await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));

    // instances create | ops | show | op <kind> | ls, as a customer with a confirmed address.
    let bob = crate::instances::confirmed(&app, "bob@customer.test", "Customer").await;
    let password = crate::instances::ADMIN_PASSWORD;
    let made = json(
        &bob,
        &[
            "instances",
            "create",
            "--name",
            "clishop",
            "--subdomain",
            "clishop",
            "--admin-login",
            "bob@customer.test",
            "--admin-password",
            password,
        ],
    )
    .await;
    let instance = made["id"].as_str().unwrap().to_owned();
    let provision = json(&bob, &["instances", "ops", &instance]).await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(crate::instances::ended(&bob, &instance, &provision).await["state"], "done");
    assert!(ok(&bob, &["instances", "show", &instance]).await.contains("subdomain: clishop"));
    let paused = json(&bob, &["instances", "op", &instance, "pause"]).await;
    assert_eq!(crate::instances::ended(&bob, &instance, paused["id"].as_str().unwrap()).await["state"], "done");
    assert!(ok(&bob, &["instances", "ls"]).await.contains("paused"));
    let out = run(&app.addr, &bob.token, &["instances", "op", &instance, "explode"], "").await;
    assert_eq!(out.status.code(), Some(1), "an unknown kind fails with the console's reason: {}", text(&out));
    assert!(text(&out).starts_with("error: ") && text(&out).len() > 10, "{}", text(&out));
    let _ = std::fs::remove_dir_all(dir);
    tear_down_builds(&app).await;
}

/// The README's CI example, between `<!-- ci-example -->` and the end of its code block.
fn readme_ci_example() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let from = readme.find("<!-- ci-example -->").expect("the README has a CI example");
    let block = &readme[from..];
    let start = block.find("```sh\n").unwrap() + "```sh\n".len();
    let end = block[start..].find("```").unwrap();
    block[start..start + end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_ci_example_pushes_waits_for_the_build_and_promotes_it() {
    let app = spawn_app_with_builds().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    // The project builds from a bare repository, the "Git host": its post-receive hook records each push,
    // which the test then announces with a signed webhook as GitHub would.
    let work = repository();
    let host = work.with_extension("git");
    git(work.parent().unwrap(), &["clone", "-q", "--bare", work.to_str().unwrap(), host.to_str().unwrap()]);
    let pushes = host.join("pushes.log");
    std::fs::write(
        host.join("hooks/post-receive"),
        format!("#!/bin/sh\nwhile read old new ref; do echo \"$new $ref\" >> '{}'; done\n", pushes.display()),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(host.join("hooks/post-receive"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    git(&work, &["remote", "add", "origin", host.to_str().unwrap()]);
    let project = standin_project(&api, "Ci", &host).await;
    let main = git(&work, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &main).await;
    assert_eq!(finished(&api, &project, &main).await["result"], "ok");

    // The release commit, then the README's script as a CI job runs it.
    commit_file(&work, "ci-work", "CHANGES.md", "1.0\n", "Release 1.0");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_odooops")).parent().unwrap().to_owned();
    let script = readme_ci_example();
    let mut job = tokio::process::Command::new("bash");
    job.arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()))
        .env("ODOOOPS_URL", &app.addr)
        .env("ODOOOPS_TOKEN", &api.token)
        .env("ODOOOPS_CONFIG", "/nonexistent/odooops-login.json")
        .env("PROJECT", &project)
        .env("VERSION", "1.0")
        .env("GIT_AUTHOR_NAME", "CI")
        .env("GIT_AUTHOR_EMAIL", "ci@acme.test")
        .env("GIT_COMMITTER_NAME", "CI")
        .env("GIT_COMMITTER_EMAIL", "ci@acme.test")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let job = job.spawn().unwrap();
    // GitHub's part: the push reaches the host, the host's webhook reaches the console.
    let (sha, branch) = loop {
        if let Some(line) = std::fs::read_to_string(&pushes).ok().and_then(|t| t.lines().last().map(str::to_owned)) {
            let (sha, r) = line.split_once(' ').unwrap();
            break (sha.to_owned(), r.trim_start_matches("refs/heads/").to_owned());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(branch, "release/1.0");
    push(&app, &api, &project, &branch, &sha).await;
    let out = tokio::time::timeout(Duration::from_secs(900), job.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "the CI example failed:\n{script}\n{}", text(&out));
    let staging = finished(&api, &project, &sha).await;
    assert_eq!((staging["stage"].as_str(), staging["result"].as_str()), (Some("staging"), Some("ok")), "{staging}");
    let (_, promotions) = api.get(&format!("/api/v1/projects/{project}/promotions")).await;
    let promoted = promotions.as_array().unwrap().iter().find(|p| p["source_build"] == staging["id"]);
    assert!(promoted.is_some(), "the staging build was promoted: {promotions}\n{}", text(&out));
    tear_down_builds(&app).await;
}
