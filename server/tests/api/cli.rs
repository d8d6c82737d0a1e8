//! The `odooops` binary run as a real process: its admin commands, and the
//! client commands (login, whoami, logout) with their exit codes.

use crate::helpers::spawn_app;
use sqlx::ConnectOptions;
use std::io::Write;
use std::process::{Command, Stdio};

fn odooops(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_odooops"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn create_owner_then_sign_in_and_verify_the_audit_trail() {
    let app = spawn_app().await;
    let url = app.db_options.to_url_lossy().to_string();
    let out = odooops(&url, &["admin", "create-owner", "--email", "root@ops.test"], "a very good password\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("platform owner root@ops.test created"));
    let b = app.browser();
    let (status, _) = b.rpc("auth/sign_in", &[("email", "root@ops.test"), ("password", "a very good password")]).await;
    assert_eq!(status, 200);
    assert_eq!(b.rpc("auth/me", &[]).await.1["platform_role"], "platform_owner");

    let out = odooops(&url, &["admin", "create-owner", "--email", "bad"], "a very good password\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("email:"));

    let out = odooops(&url, &["admin", "audit-verify"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit trail intact"));
}

/// Runs the client with its own config directory (no ODOOOPS_* from the test's environment).
fn client(config: &std::path::Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_odooops"));
    cmd.args(args)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("ODOOOPS_URL")
        .env_remove("ODOOOPS_TOKEN")
        .env_remove("ODOOOPS_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_stores_a_checked_token_privately_and_exit_codes_say_what_went_wrong() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let token = ann.token().await;
    let dir = std::env::temp_dir().join(format!("odooops-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };

    // Not logged in: 3. A wrong token is refused before anything is stored: 3.
    let out = client(&dir, &["whoami"], &[], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = client(&dir, &["login", &app.addr, "--token", "oo_not-a-token"], &[], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!dir.join("odooops/login.json").exists());
    // Usage: not an address (2), and clap's own usage errors (2).
    assert_eq!(client(&dir, &["login", "ops.example.com", "--token", "x"], &[], "").status.code(), Some(2));
    assert_eq!(client(&dir, &["whoami", "--nonsense"], &[], "").status.code(), Some(2));

    // The token piped on standard input; stored 0600; whoami reads it.
    let out = client(&dir, &["login", &app.addr], &[], &format!("{token}\n"));
    assert!(out.status.success(), "{}", text(&out));
    let file = dir.join("odooops/login.json");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!text(&out).contains(&token), "the token is not echoed");
    let out = client(&dir, &["whoami"], &[], "");
    assert!(out.status.success() && text(&out).contains("ann@acme.test"), "{}", text(&out));
    let out = client(&dir, &["whoami", "--json"], &[], "");
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["email"], "ann@acme.test");

    // CI's variables win over the stored login; a revoked or wrong one answers 3.
    let out = client(&dir, &["whoami"], &[("ODOOOPS_TOKEN", "oo_wrong")], "");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("odooops login"), "{}", text(&out));

    // Logout forgets it.
    assert!(client(&dir, &["logout"], &[], "").status.success());
    assert!(!file.exists());
    assert_eq!(client(&dir, &["whoami"], &[], "").status.code(), Some(3));
    let _ = std::fs::remove_dir_all(&dir);
}
