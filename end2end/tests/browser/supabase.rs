//! The Supabase kit in a real browser: a project admin links a Supabase
//! project (the Management API's stand-in answers), opens the dialog, sees
//! its tables and runs a read-only query; a tester opening the same dialog is
//! offered no writes and refused one; the admin then opens a development
//! build's own database in local mode, reads, writes and reads its log. The
//! token never shows in a page, the site's WASM and scripts, or the console's log.

use crate::support::{
    add_member, browser, create_standin_project, deliver, run, sign_up, stack, standin_repository, unique, wait_count,
    wait_hydrated, workspace, TestResult, WAIT,
};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::time::Duration;

const TOKEN: &str = "sbp_e2e_canary_4f1d2c3b4a5968778695a4b3c2d1e0f1";
const REF: &str = "kitstandinprojectref";

/// The Management API's stand-in: the dialog's calls in the spec's shapes, for the canary token only.
async fn answer(method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes) -> axum::response::Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Unauthorized"}))).into_response();
    }
    let rest = uri.path().strip_prefix(&format!("/v1/projects/{REF}")).unwrap_or_default();
    let sql = serde_json::from_slice::<Value>(&body).ok().and_then(|b| b["query"].as_str().map(str::to_lowercase));
    let json = match (method.as_str(), rest, sql.as_deref()) {
        ("POST", "/database/query/read-only" | "/database/query", Some(q)) if q.contains("from pg_class") => json!([
            {"schema": "public", "table": "portal_orders", "estimated_rows": 42},
            {"schema": "public", "table": "portal_users", "estimated_rows": 7}
        ]),
        ("POST", "/database/query/read-only" | "/database/query", Some(q)) if q.starts_with("select * from") => {
            json!([{"id": 1, "total": "42.00"}])
        }
        ("POST", "/database/query/read-only" | "/database/query", Some(_)) => json!([{"answer": 42}]),
        ("GET", "/database/migrations", _) => json!([{"version": "20261201000000", "name": "portal"}]),
        ("GET", "/config/auth", _) => json!({"site_url": "https://portal.acme.test", "jwt_exp": 3600}),
        ("GET", "/storage/buckets", _) => json!([{"id": "avatars", "name": "avatars", "public": false}]),
        ("GET", "/secrets", _) => json!([{"name": "STRIPE_KEY", "value": "sk_never_shown"}]),
        ("GET", "/analytics/endpoints/logs.all", _) => json!({"result": []}),
        ("GET", "/advisors/performance" | "/advisors/security", _) => json!({"lints": []}),
        _ => return (StatusCode::NOT_FOUND, "no such stand-in route").into_response(),
    };
    axum::Json(json).into_response()
}

/// Starts the stand-in on loopback (its own thread and runtime, for the whole test binary); its base URL.
pub(crate) fn management_api() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = axum::serve(listener, axum::Router::new().fallback(answer)).await;
        });
    });
    format!("http://{addr}")
}

/// Replaces the SQL editor's text and runs it; the result's (or error's) text.
async fn run_sql(c: &Client, sql: &str) -> Result<String, Box<dyn std::error::Error>> {
    let editor = c.find(Locator::Id("kit-sql")).await?;
    editor.clear().await?;
    editor.send_keys(sql).await?;
    let runs = |c: &Client| {
        let c = c.clone();
        async move {
            let n = c.find(Locator::Id("kit-output")).await?.attr("data-runs").await?.unwrap_or_default();
            Ok::<u32, Box<dyn std::error::Error>>(n.parse().unwrap_or(0))
        }
    };
    let before = runs(c).await?;
    c.find(Locator::Id("kit-run")).await?.click().await?;
    let deadline = std::time::Instant::now() + WAIT;
    while runs(c).await? <= before {
        if std::time::Instant::now() > deadline {
            return Err(format!("{sql:?} never finished").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(c.find(Locator::Id("kit-output")).await?.text().await?)
}

/// Waits until the element's text contains `needle`.
async fn wait_text(c: &Client, id: &str, needle: &str) -> TestResult {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(e) = c.find(Locator::Id(id)).await {
            if e.text().await.is_ok_and(|t| t.contains(needle)) {
                return Ok(());
            }
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("#{id} never showed {needle:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_admin_manages_supabase_and_a_builds_own_database_in_the_kit() {
    run("supabase_kit", |admin| {
        Box::pin(async move {
            let (repo, dev_sha) = standin_repository("feature/kit", "")?;
            sign_up(admin, &format!("{}@kit.test", unique("ann")), &unique("Portal ")).await?;
            let (hook_url, secret) = create_standin_project(admin, &repo).await?;
            let project_path = admin.current_url().await?.path().to_owned();
            deliver(&hook_url, &secret, json!({"ref": "refs/heads/feature/kit", "after": dev_sha, "deleted": false}))
                .await?;

            // Link the Supabase project; the token goes to the server and never comes back.
            admin.find(Locator::Css("#supabase-panel details summary")).await?.click().await?;
            admin.find(Locator::Css("#supabase-link input[name=reference]")).await?.send_keys(REF).await?;
            admin.find(Locator::Css("#supabase-link input[name=token]")).await?.send_keys(TOKEN).await?;
            admin.find(Locator::Css("#supabase-link button[type=submit]")).await?.click().await?;
            wait_text(admin, "supabase-ref", REF).await?;

            // The dialog: the stand-in's tables, a read-only query, Esc closes it.
            admin.find(Locator::Id("open-kit")).await?.click().await?;
            wait_text(admin, "kit-tables", "public.portal_orders").await?;
            let result = run_sql(admin, "select 42 as answer").await?;
            assert!(result.to_lowercase().contains("answer") && result.contains("42"), "{result}");
            assert!(admin.find_all(Locator::Id("kit-write")).await?.len() == 1, "an admin may turn writes on");
            admin.find(Locator::Id("kit-tab-secrets")).await?.click().await?;
            wait_text(admin, "kit-secrets", "STRIPE_KEY").await?;
            assert!(!admin.source().await?.contains("sk_never_shown"), "a secret's value reached the page");
            admin.find(Locator::Id("kit-close")).await?.send_keys("\u{e00c}").await?;
            admin.wait().at_most(WAIT).for_element(Locator::Css("body:not(:has(#kit-dialog))")).await?;

            // A tester: the dialog from the URL, reads, no write toggle, a write refused by the proxy.
            let tester = browser().await;
            let outcome: TestResult = async {
                let email = format!("{}@kit.test", unique("tess"));
                sign_up(&tester, &email, &unique("Own ")).await?;
                add_member(admin, &tester, &email, &hook_url, "tester").await?;
                tester.goto(&format!("{}{project_path}?kit=database", stack().console)).await?;
                wait_hydrated(&tester).await?;
                wait_text(&tester, "kit-tables", "public.portal_users").await?;
                let result = run_sql(&tester, "select 42 as answer").await?;
                assert!(result.contains("42"), "{result}");
                assert!(tester.find_all(Locator::Id("kit-write")).await?.is_empty(), "a tester is offered writes");
                let status = tester
                    .execute_async(
                        "const done = arguments[arguments.length - 1];
                         fetch(arguments[0], {method: 'POST', headers: {'content-type': 'application/json'},
                               body: JSON.stringify({query: 'delete from portal_orders'})})
                           .then(r => done(r.status), () => done(0));",
                        vec![json!(format!("/api/supabase-proxy/v1/projects/{REF}/database/query"))],
                    )
                    .await?;
                assert_eq!(status, json!(403), "a tester's write passed the proxy");
                Ok(())
            }
            .await;
            if outcome.is_err() {
                if let Ok(png) = tester.screenshot().await {
                    let _ = std::fs::write(workspace().join("target/e2e-screenshots/supabase_kit_tester.png"), png);
                }
            }
            let _ = tester.close().await;
            outcome?;

            // Local mode: the development build's own database, from its page.
            admin.goto(&format!("{}{project_path}", stack().console)).await?;
            wait_hydrated(admin).await?;
            wait_count(admin, ".tile-ok", 1, ".tile-ko", Duration::from_secs(240)).await?;
            admin
                .wait()
                .at_most(WAIT)
                .for_element(Locator::XPath(
                    "//tr[.//code[text()='feature/kit']]//div[contains(@class,'tile-ok')]//a[starts-with(@href,'/builds/')]",
                ))
                .await?
                .click()
                .await?;
            wait_hydrated(admin).await?;
            admin.wait().at_most(WAIT).for_element(Locator::Id("open-kit")).await?.click().await?;
            wait_text(admin, "kit-tables", "ir_module_module").await?;
            let who = run_sql(admin, "select current_user as who").await?;
            assert!(who.contains("kr_"), "read as the read-only role: {who}");
            let refused = run_sql(admin, "insert into ir_config_parameter (key, value) values ('e2e.kit', 'yes')").await?;
            assert!(refused.contains("read-only"), "{refused}");
            admin.find(Locator::Id("kit-write")).await?.click().await?;
            run_sql(admin, "insert into ir_config_parameter (key, value) values ('e2e.kit', 'yes')").await?;
            admin.find(Locator::Id("kit-write")).await?.click().await?;
            let value = run_sql(admin, "select value from ir_config_parameter where key = 'e2e.kit'").await?;
            assert!(value.contains("yes"), "{value}");
            admin.find(Locator::Id("kit-tab-logs")).await?.click().await?;
            admin.wait().at_most(WAIT).for_element(Locator::Css("#kit-logs td")).await?;

            // The token: in no page, no file of the site, not in the console's log.
            assert!(!admin.source().await?.contains(TOKEN), "the token reached a page");
            let mut files = vec![];
            for dir in [workspace().join("target/site/pkg"), workspace().join(format!("target/e2e-data/{}", std::process::id()))] {
                for entry in std::fs::read_dir(dir)?.flatten() {
                    if entry.path().is_file() {
                        files.push(entry.path());
                    }
                }
            }
            assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "wasm")), "{files:?}");
            for f in files {
                let bytes = std::fs::read(&f)?;
                assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "the token is in {}", f.display());
            }
            Ok(())
        })
    })
    .await;
}
