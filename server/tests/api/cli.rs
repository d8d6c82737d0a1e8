//! The `odooops` binary's admin commands, run as a real process.

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
