//! Monitoring and alerts (issue 18), against a real running stand-in.
//!
//! Production is probed and sampled; its page draws SVG charts from those
//! samples; `/metrics` carries its latest sample and parses. Its container
//! is stopped: an "environment down" alert fires, mailed through the
//! console's mailer (into the console mailbox here, as without a relay) and
//! POSTed, signed, to an https receiver and a Slack-compatible one; a new
//! build brings it back and a recovery notice follows. Attacks: another
//! tenant reads nothing and adds nothing; a developer changes nothing; a
//! channel pointing inside (link-local) fails its test without a connection.

use crate::automation::Receiver;
use crate::helpers::{add_project_member, tear_down_builds, Api, TestApp};
use crate::pipeline::{finished, git, push, repository, standin_project};
use crate::wizard::certificates;
use domain::instances::reach::Cidr;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Runs the monitor now and waits (a generous deadline, not a timing assertion) until `done` holds.
async fn monitor_until<F, Fut>(app: &TestApp, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        domain::jobs::queue::wake(&app.platform, domain::jobs::Kind::Monitor).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if done().await {
            return;
        }
        assert!(Instant::now() < deadline, "never: {what}");
    }
}

async fn samples(app: &TestApp, env: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ops.env_samples WHERE env_id = $1::uuid")
        .bind(env)
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap()
}

async fn alerts(api: &Api<'_>, project: &str) -> Value {
    let (status, page) = api.get(&format!("/api/v1/projects/{project}/alerts")).await;
    assert_eq!(status, 200, "{page}");
    page
}

/// Waits until the receiver got a notice of `kind` (`alert.fired` …) on `path`.
async fn received(receiver: &Receiver, path: &str, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(r) = receiver.received().into_iter().find(|r| {
            r["path"] == path && (r["headers"]["odooops-event"] == kind || r["body"].as_str().unwrap().contains(kind))
        }) {
            return r;
        }
        assert!(Instant::now() < deadline, "{path} never got {kind}: {:?}", receiver.received());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The signature the console sent verifies with the channel's secret.
fn verify_signature(r: &Value, secret: &str) {
    let h = &r["headers"];
    let expected = domain::automation::deliver::sign(
        secret,
        h["webhook-id"].as_str().unwrap(),
        h["webhook-timestamp"].as_str().unwrap().parse().unwrap(),
        r["body"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    assert_eq!(h["webhook-signature"].as_str(), Some(expected.as_str()), "signed with the channel's secret: {r}");
}

/// The next message of the monitor's WebSocket (a generous deadline, not a timing assertion).
async fn next_monitor<S>(live: &mut S) -> domain::wire::EnvMonitor
where
    S: futures_util::Stream<
            Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>,
        > + Unpin,
{
    use futures_util::StreamExt;
    match tokio::time::timeout(Duration::from_secs(90), live.next()).await {
        Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => {
            serde_json::from_str(t.as_str()).expect("an EnvMonitor")
        }
        other => panic!("no monitor message: {other:?}"),
    }
}

/// Waits until the console mailbox holds a message to `to` whose subject contains `part`.
async fn mailed(owner: &Api<'_>, to: &str, part: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, list) = owner.get("/api/v1/console-mail").await;
        if let Some(m) =
            list.as_array().unwrap().iter().find(|m| m["to"] == to && m["subject"].as_str().unwrap().contains(part))
        {
            return m.clone();
        }
        assert!(Instant::now() < deadline, "no mail to {to} with {part}: {list}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_production_raises_an_alert_by_mail_and_signed_webhook_then_a_recovery_and_charts_show_it() {
    let app = TestApp::builder().builds().console_mailbox().spawn().await;
    let root = app.signed_up("root@ops.test", "Ops").await;
    let owner = app.api(&root.token().await);
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let api = app.api(&ann.token().await);
    let repo = repository();
    let project = standin_project(&api, "Watched", &repo).await;
    let head = git(&repo, &["rev-parse", "HEAD"]);
    push(&app, &api, &project, "main", &head).await;
    let prod = finished(&api, &project, &head).await;
    assert_eq!(prod["result"], "ok", "{prod}");
    let env = prod["env_id"].as_str().unwrap().to_owned();
    let dave = add_project_member(&app, &api, &project, "dave@acme.test", "developer").await;
    let dave = app.api(&dave.token().await);
    let eve = app.signed_up("eve@evil.test", "Evil").await;
    let eve = app.api(&eve.token().await);

    // Receivers: a webhook and a Slack-compatible one, on https with a test authority.
    let checks = app.platform.builds.as_ref().unwrap().custom_domains.checks.clone();
    let dir = std::env::temp_dir().join(format!("odooops-alerts-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir, &["hooks.acme.test"]);
    let receiver = Receiver::start(&dir);
    checks.trust_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap();
    checks.pin("hooks.acme.test", ([127, 0, 0, 1], receiver.server.port).into());
    checks.allow(Cidr::parse("127.0.0.1/32").unwrap());
    checks.pin("meta.evil.test", ([169, 254, 169, 254], 443).into());
    let base = format!("https://hooks.acme.test:{}", receiver.server.port);
    let channels = format!("/api/v1/projects/{project}/alert-channels");

    // Channels: refused when hostile or not the admins'.
    for (kind, target) in [
        ("webhook", "http://hooks.acme.test/in"),
        ("webhook", "https://127.0.0.1/in"),
        ("email", "not an address"),
        ("pager", "x"),
    ] {
        let (status, body) = api.post(&channels, json!({"kind": kind, "name": "x", "target": target})).await;
        assert_eq!(status, 422, "{kind} {target}: {body}");
    }
    let hook = json!({"kind": "webhook", "name": "On-call hook", "target": format!("{base}/alerts")});
    assert_eq!(dave.post(&channels, hook.clone()).await.0, 403, "a developer adds no channel");
    assert_eq!(eve.post(&channels, hook.clone()).await.0, 404, "another tenant does not even see the project");
    assert_eq!(eve.get(&format!("/api/v1/environments/{env}/monitor")).await.0, 404);
    let (status, created) = api.post(&channels, hook).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["signing_secret"].as_str().unwrap().to_owned();
    let hook_id = created["channel"]["id"].as_str().unwrap().to_owned();
    let (status, slack) =
        api.post(&channels, json!({"kind": "slack", "name": "#ops", "target": format!("{base}/slack")})).await;
    assert_eq!(status, 201, "{slack}");
    let (status, mail) =
        api.post(&channels, json!({"kind": "email", "name": "On-call", "target": "oncall@acme.test"})).await;
    assert_eq!(status, 201, "{mail}");
    let (status, inside) =
        api.post(&channels, json!({"kind": "webhook", "name": "inside", "target": "https://meta.evil.test/x"})).await;
    assert_eq!(status, 201, "{inside}");

    // Send test: signed, to the receiver; the inside address fails with its reason, never reached.
    let (status, test) = api.post(&format!("{channels}/{hook_id}/test"), json!({})).await;
    assert_eq!(status, 202, "{test}");
    verify_signature(&received(&receiver, "/alerts", "alert.test").await, &secret);
    let inside_id = inside["channel"]["id"].as_str().unwrap();
    let (status, probe) = api.post(&format!("{channels}/{inside_id}/test"), json!({})).await;
    assert_eq!(status, 202, "{probe}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = alerts(&api, &project).await;
        let d = page["deliveries"].as_array().unwrap().iter().find(|d| d["id"] == probe["id"]).cloned().unwrap();
        if d["state"] == "failed" {
            assert!(d["last_error"].as_str().unwrap().contains("link-local"), "{d}");
            break;
        }
        assert!(Instant::now() < deadline, "the inside test never failed: {d}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let remove = format!("{channels}/{inside_id}");
    assert_eq!(dave.call(reqwest::Method::DELETE, &remove, None).await.0, 403);
    assert_eq!(api.call(reqwest::Method::DELETE, &remove, None).await.0, 204);

    // Alert at the first failed probe.
    let page = alerts(&api, &project).await;
    let rule = page["rules"].as_array().unwrap().iter().find(|r| r["kind"] == "env_down").unwrap().clone();
    assert_eq!((rule["enabled"].as_bool(), rule["threshold"].as_i64()), (Some(true), Some(2)), "on by default: {rule}");
    let rule_path = format!("/api/v1/projects/{project}/alert-rules/{}", rule["id"].as_str().unwrap());
    assert_eq!(dave.call(reqwest::Method::PATCH, &rule_path, Some(json!({"threshold": 0}))).await.0, 403);
    let (status, changed) = api.call(reqwest::Method::PATCH, &rule_path, Some(json!({"threshold": 0}))).await;
    assert_eq!((status, changed["threshold"].as_i64()), (200, Some(0)), "{changed}");

    // The monitor samples the serving stand-in; its page draws the charts from them.
    monitor_until(&app, "two samples of production", || async { samples(&app, &env).await >= 2 }).await;
    let (status, m) = api.get(&format!("/api/v1/environments/{env}/monitor?range=1h")).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["up"], true, "{m}");
    let latency = m["series"].as_array().unwrap().iter().find(|s| s["metric"] == "latency_ms").unwrap();
    assert!(!latency["points"].as_array().unwrap().is_empty(), "{m}");
    assert!(
        m["series"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["metric"] == "mem_bytes" && !s["points"].as_array().unwrap().is_empty()),
        "container statistics from the runtime: {m}"
    );
    for metric in ["db_bytes", "filestore_bytes", "up_pct"] {
        let s = m["series"].as_array().unwrap().iter().find(|s| s["metric"] == metric).unwrap();
        assert!(!s["points"].as_array().unwrap().is_empty(), "{metric} is sampled: {m}");
    }
    let html = ann.get(&format!("/environments/{env}/monitoring?range=1h")).await.text().await.unwrap();
    assert!(html.contains("data-metric=\"latency_ms\"") && html.contains("class=\"chart-line\""), "SVG charts: {html}");
    let text = reqwest::Client::new()
        .get(format!("{}/metrics", app.addr))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = crate::metrics::assert_parses(&text);
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "odooops_environment_up" && s.labels.get("env") == Some(env.as_str())),
        "{text}"
    );

    // The page's WebSocket sends the data, then again at each pass.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "{}/api/v1/environments/{env}/monitor/ws?range=1h",
        app.addr.replace("http://", "ws://")
    ))
    .unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {}", api.token).parse().unwrap());
    let (mut live, _) = tokio_tungstenite::connect_async(req).await.expect("the monitor WebSocket");
    let first = next_monitor(&mut live).await;
    assert_eq!(first.up, Some(true));
    domain::jobs::queue::wake(&app.platform, domain::jobs::Kind::Monitor).await.unwrap();
    let second = next_monitor(&mut live).await;
    let points = |m: &domain::wire::EnvMonitor| m.series.iter().map(|s| s.points.len()).sum::<usize>();
    assert!(points(&second) >= points(&first), "a pass later, the same or more points");

    // Roll-ups feed the long ranges.
    let (buckets, _) = domain::monitoring::store::rollup_and_prune(&app.platform).await.unwrap();
    assert!(buckets >= 1);
    let (_, week) = api.get(&format!("/api/v1/environments/{env}/monitor?range=7d")).await;
    let up = week["series"].as_array().unwrap().iter().find(|s| s["metric"] == "up_pct").unwrap();
    assert!(!up["points"].as_array().unwrap().is_empty(), "{week}");
    assert_eq!(week["uptime_7d"].as_f64(), Some(100.0), "{week}");

    // Runtime logs: the serving Odoo's lines (the probes' requests among them), filtered, tailed, exported, kept 14 days.
    let logs = format!("/api/v1/environments/{env}/logs");
    let (status, lines) = api.get(&format!("{logs}?logger=werkzeug&text=%2Fweb%2Fhealth")).await;
    assert_eq!(status, 200, "{lines}");
    let lines = lines.as_array().unwrap().clone();
    assert!(!lines.is_empty() && lines.iter().all(|l| l["logger"] == "werkzeug"), "{lines:?}");
    assert!(lines.windows(2).all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()), "newest first");
    let newest = lines[0]["id"].as_i64().unwrap();
    assert_eq!(api.get(&format!("{logs}?after={newest}&logger=werkzeug&text=nothing-like-this")).await.1, json!([]));
    assert_eq!(api.get(&format!("{logs}?text=%25%25%25")).await.1, json!([]), "wildcards are literal");
    assert_eq!(api.get(&format!("{logs}?level=loud")).await.0, 422);
    assert_eq!(dave.get(&logs).await.0, 403, "production's logs follow the role matrix");
    assert_eq!(eve.get(&logs).await.0, 404);
    let r = reqwest::Client::new()
        .get(format!("{}{logs}.csv?logger=werkzeug", app.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("at,build,level,logger,message\n") && csv.contains("/web/health"), "{csv}");
    let settings = format!("/api/v1/projects/{project}/settings");
    assert_eq!(api.get(&settings).await.1["log_retention_days"], 14);
    assert_eq!(api.call(reqwest::Method::PATCH, &settings, Some(json!({"log_retention_days": 0}))).await.0, 422);
    let (status, _) = api.call(reqwest::Method::PATCH, &settings, Some(json!({"log_retention_days": 2}))).await;
    assert_eq!(status, 200);
    sqlx::query("UPDATE ops.run_events SET created_at = now() - interval '3 days' WHERE id = $1")
        .bind(newest)
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    assert!(domain::monitoring::logs::forget_old(&app.platform).await.unwrap() >= 1);
    let (_, after) = api.get(&format!("{logs}?logger=werkzeug&limit=2000")).await;
    assert!(after.as_array().unwrap().iter().all(|l| l["id"].as_i64() != Some(newest)), "past its retention: gone");

    // Stopped: down, alerted by mail and by the signed webhook and Slack.
    let container: String = sqlx::query_scalar("SELECT container_id FROM ops.builds WHERE id = $1::uuid")
        .bind(prod["id"].as_str().unwrap())
        .fetch_one(app.platform.db.owner())
        .await
        .unwrap();
    let out = std::process::Command::new("docker").args(["stop", "-t", "1", &container]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    monitor_until(&app, "an environment-down alert", || async {
        alerts(&api, &project).await["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "env_down" && a["state"] == "firing")
    })
    .await;
    let fired = received(&receiver, "/alerts", "alert.fired").await;
    verify_signature(&fired, &secret);
    let body: Value = serde_json::from_str(fired["body"].as_str().unwrap()).unwrap();
    assert!(body["alert"]["summary"].as_str().unwrap().contains("is down"), "{body}");
    let slack_body: Value =
        serde_json::from_str(received(&receiver, "/slack", "ALERT").await["body"].as_str().unwrap()).unwrap();
    assert!(slack_body["text"].as_str().unwrap().contains("ALERT"), "{slack_body}");
    mailed(&owner, "oncall@acme.test", "ALERT").await;
    let (_, m) = api.get(&format!("/api/v1/environments/{env}/monitor?range=1h")).await;
    assert_eq!(m["up"], false, "{m}");
    assert!(m["changes"].as_array().unwrap().iter().any(|c| c["up"] == false), "the change is recorded: {m}");

    // A new build serves again: the alert recovers, and says so.
    let (status, rebuilt) =
        api.post(&format!("/api/v1/builds/{}/rebuild", prod["id"].as_str().unwrap()), json!({})).await;
    assert!(status == 201 || status == 202, "{status}: {rebuilt}");
    let id = rebuilt["id"].as_str().or(rebuilt["build_id"].as_str()).unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, b) = api.get(&format!("/api/v1/builds/{id}")).await;
        if b["state"] == "done" {
            assert_eq!(b["result"], "ok", "{b}");
            break;
        }
        assert!(Instant::now() < deadline, "{b}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    monitor_until(&app, "the alert's recovery", || async {
        alerts(&api, &project).await["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "env_down" && a["state"] == "resolved")
    })
    .await;
    verify_signature(&received(&receiver, "/alerts", "alert.resolved").await, &secret);
    mailed(&owner, "oncall@acme.test", "RESOLVED").await;
    let page = alerts(&api, &project).await;
    assert!(
        page["deliveries"].as_array().unwrap().iter().any(|d| d["notice"] == "resolved" && d["state"] == "delivered"),
        "{page}"
    );
    for action in [
        "alert.fired",
        "alert.resolved",
        "alert.delivery",
        "alert.channel_add",
        "alert.channel_test",
        "alert.rule_change",
    ] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(app.platform.db.owner())
            .await
            .unwrap();
        assert!(n >= 1, "{action} is audited");
    }
    assert_eq!(eve.get(&format!("/api/v1/projects/{project}/alerts")).await.0, 404);
    tear_down_builds(&app).await;
}
