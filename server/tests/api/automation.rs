//! Automation for real (issue 15): a tenant admin subscribes an https
//! receiver (Python's, with a certificate from a test authority) to the
//! tenant's events; provisioning an instance delivers `instance.created`,
//! `operation.queued`, `operation.succeeded` signed the Standard Webhooks way;
//! a receiver's 500 and 302 are retried (by hand here), and the history says
//! what happened. And it is attacked: URLs that are not https on a host name
//! are refused as typed; names that resolve inward (the metadata service, a
//! private network) are refused at every delivery without a byte sent;
//! another tenant neither sees nor touches the subscription; the signing
//! secret is shown once and never again.

use crate::canary::{self, Never};
use crate::helpers::spawn_app_with_builds;
use crate::instances::{active_instance, confirmed};
use crate::wizard::{certificates, https_server, HttpsServer};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// An https receiver on loopback: appends each POST (headers and body) to
/// `received.jsonl` and answers the next status in `statuses` (one per line), else 204.
pub(crate) struct Receiver {
    pub(crate) server: HttpsServer,
    dir: std::path::PathBuf,
}

/// The receiver's request handler (Python).
const RECEIVER: &str = "class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('content-length', 0)))
        with open('received.jsonl', 'a') as f:
            f.write(json.dumps({'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()}, 'body': body.decode()}) + '\\n')
        status = 204
        if os.path.exists('statuses'):
            lines = open('statuses').read().split()
            if lines:
                status = int(lines[0])
                open('statuses', 'w').write('\\n'.join(lines[1:]))
        self.send_response(status)
        if status == 302:
            self.send_header('Location', 'https://169.254.169.254/latest/meta-data/')
        self.send_header('Content-Length', '0')
        self.end_headers()
    def log_message(self, *a):
        pass
h = H";

impl Receiver {
    pub(crate) fn start(dir: &Path) -> Receiver {
        Receiver { server: https_server(dir, RECEIVER), dir: dir.to_owned() }
    }

    pub(crate) fn answer_next(&self, statuses: &[u16]) {
        let text: Vec<String> = statuses.iter().map(u16::to_string).collect();
        std::fs::write(self.dir.join("statuses"), text.join("\n")).unwrap();
    }

    pub(crate) fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("received.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Waits (a generous deadline, not a timing assertion) for delivery `id` to reach one of `states`.
async fn delivery(api: &crate::helpers::Api<'_>, id: &str, states: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, page) = api.get("/api/v1/webhook-deliveries").await;
        assert_eq!(status, 200, "{page}");
        if let Some(d) = page["deliveries"].as_array().unwrap().iter().find(|d| d["id"] == id) {
            if states.contains(&d["state"].as_str().unwrap()) {
                return d.clone();
            }
        }
        assert!(Instant::now() < deadline, "delivery {id} never reached {states:?}: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_events_reach_its_receiver_signed_and_retried_and_never_an_inside_address() {
    let app = spawn_app_with_builds().await;
    let checks = app.platform.builds.as_ref().unwrap().custom_domains.checks.clone();
    let dir = std::env::temp_dir().join(format!("odooops-hooks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir, &["hooks.acme.test"]);
    let receiver = Receiver::start(&dir);
    checks.trust_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap();
    checks.pin("hooks.acme.test", ([127, 0, 0, 1], receiver.server.port).into());
    checks.allow(domain::instances::reach::Cidr::parse("127.0.0.1/32").unwrap());
    checks.pin("meta.evil.test", ([169, 254, 169, 254], 443).into());
    checks.pin("intranet.evil.test", ([10, 0, 0, 7], 443).into());

    let ann = confirmed(&app, "ann@acme.test", "Acme").await;
    let (_, me) = ann.get("/api/v1/me").await;
    let tenant = me["tenants"][0]["slug"].as_str().unwrap().to_owned();
    let eve = confirmed(&app, "eve@evil.test", "Evil").await;

    // Refused as typed, before anything is stored.
    for (url, why) in [
        ("http://hooks.acme.test/in", "https://"),
        ("https://127.0.0.1/in", "host, not an address"),
        ("https://[::1]/in", "host, not an address"),
        ("https://user:pw@hooks.acme.test/in", "user name"),
        ("https://localhost/in", "two labels"),
    ] {
        let (status, body) =
            ann.post("/api/v1/webhooks", json!({"tenant": tenant, "url": url, "events": ["operation.failed"]})).await;
        assert_eq!(status, 422, "{url}: {body}");
        assert!(body["message"].as_str().unwrap().contains(why), "{url}: {body}");
    }
    let (status, _) = ann
        .post("/api/v1/webhooks", json!({"tenant": tenant, "url": "https://hooks.acme.test/in", "events": ["ping"]}))
        .await;
    assert_eq!(status, 422, "ping is not subscribable");
    // Another tenant cannot subscribe to Acme's events.
    let (status, _) = eve
        .post(
            "/api/v1/webhooks",
            json!({"tenant": tenant, "url": "https://hooks.evil.test/in", "events": ["instance.created"]}),
        )
        .await;
    assert_eq!(status, 404);

    let all =
        ["instance.created", "instance.state_changed", "operation.queued", "operation.succeeded", "operation.failed"];
    let url = format!("https://hooks.acme.test:{}/n8n/webhook/acme", receiver.server.port);
    let (status, created) =
        ann.post("/api/v1/webhooks", json!({"tenant": tenant, "url": url, "description": "n8n", "events": all})).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    canary::watch(&secret, Never::Logged);
    let hook = created["webhook"]["id"].as_str().unwrap().to_owned();
    let (_, listed) = ann.get("/api/v1/webhooks").await;
    assert!(!listed.to_string().contains(&secret), "the secret is shown once: {listed}");
    assert_eq!(eve.get("/api/v1/webhooks").await.1, json!([]), "another tenant sees none");
    assert_eq!(eve.post(&format!("/api/v1/webhooks/{hook}/test"), json!({})).await.0, 404);
    assert_eq!(eve.call(reqwest::Method::DELETE, &format!("/api/v1/webhooks/{hook}"), None).await.0, 404);

    // A test ping arrives signed; the signature verifies with the secret shown once.
    let (status, ping) = ann.post(&format!("/api/v1/webhooks/{hook}/test"), json!({})).await;
    assert_eq!(status, 202, "{ping}");
    let ping = delivery(&ann, ping["id"].as_str().unwrap(), &["delivered"]).await;
    assert_eq!(ping["last_status"], 204, "{ping}");
    let got = receiver.received();
    let first = &got[0];
    assert_eq!(first["path"], "/n8n/webhook/acme");
    let h = &first["headers"];
    assert_eq!(h["webhook-id"], ping["id"]);
    let ts: i64 = h["webhook-timestamp"].as_str().unwrap().parse().unwrap();
    let body = first["body"].as_str().unwrap();
    let expected =
        domain::automation::deliver::sign(&secret, h["webhook-id"].as_str().unwrap(), ts, body.as_bytes()).unwrap();
    assert_eq!(h["webhook-signature"].as_str().unwrap(), expected, "the signature verifies");
    let sent: Value = serde_json::from_str(body).unwrap();
    assert_eq!((sent["type"].as_str(), sent["data"]["tenant"].as_str()), (Some("ping"), Some(tenant.as_str())));

    // A receiver's error is a failed try with its status, retried by hand; a redirect is never followed.
    receiver.answer_next(&[500, 302]);
    let (_, ping) = ann.post(&format!("/api/v1/webhooks/{hook}/test"), json!({})).await;
    let id = ping["id"].as_str().unwrap().to_owned();
    let failed = delivery(&ann, &id, &["failed"]).await;
    assert_eq!((failed["last_status"].as_i64(), failed["attempts"].as_i64()), (Some(500), Some(1)), "{failed}");
    assert!(failed["next_attempt_at"].is_string(), "a retry is planned: {failed}");
    assert_eq!(eve.post(&format!("/api/v1/webhook-deliveries/{id}/retry"), json!({})).await.0, 404);
    let (status, _) = ann.post(&format!("/api/v1/webhook-deliveries/{id}/retry"), json!({})).await;
    assert_eq!(status, 202);
    let redirected = delivery(&ann, &id, &["failed"]).await;
    assert!(redirected["last_error"].as_str().unwrap().contains("redirects are not followed"), "{redirected}");
    let (status, _) = ann.post(&format!("/api/v1/webhook-deliveries/{id}/retry"), json!({})).await;
    assert_eq!(status, 202);
    delivery(&ann, &id, &["delivered"]).await;
    let (status, body) = ann.post(&format!("/api/v1/webhook-deliveries/{id}/retry"), json!({})).await;
    assert_eq!(status, 409, "a delivered event is not sent again: {body}");

    // Names that resolve inward: stored (the text is fine), refused at delivery, nothing sent.
    let before = receiver.received().len();
    for (host, why) in [("meta.evil.test", "link-local"), ("intranet.evil.test", "private network")] {
        let (status, created) = ann
            .post(
                "/api/v1/webhooks",
                json!({"tenant": tenant, "url": format!("https://{host}/in"), "events": ["operation.failed"]}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let (_, ping) =
            ann.post(&format!("/api/v1/webhooks/{}/test", created["webhook"]["id"].as_str().unwrap()), json!({})).await;
        let d = delivery(&ann, ping["id"].as_str().unwrap(), &["failed"]).await;
        assert!(d["last_error"].as_str().unwrap().contains(why), "{host}: {d}");
        assert_eq!(d["last_status"], Value::Null, "nothing answered: nothing was sent");
        let (status, _) = ann
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/webhooks/{}", created["webhook"]["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(status, 204);
    }
    assert_eq!(receiver.received().len(), before);

    // Provisioning an instance sends its events, in the order they happened.
    let instance = active_instance(&ann, "acme-erp", "admin@acme.test").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let events = loop {
        let events: Vec<String> = receiver
            .received()
            .iter()
            .map(|r| {
                serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["type"].as_str().unwrap().to_owned()
            })
            .filter(|t| t != "ping")
            .collect();
        if events.iter().any(|e| e == "operation.succeeded") {
            break events;
        }
        assert!(Instant::now() < deadline, "no operation.succeeded yet: {events:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(events[..2], ["instance.created", "operation.queued"], "{events:?}");
    assert!(events.iter().any(|e| e == "instance.state_changed"), "{events:?}");
    let succeeded = receiver
        .received()
        .into_iter()
        .map(|r| serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap())
        .find(|b| b["type"] == "operation.succeeded")
        .unwrap();
    assert_eq!(succeeded["data"]["instance"]["id"], instance["id"], "{succeeded}");
    assert_eq!(succeeded["data"]["operation"]["kind"], "provision", "{succeeded}");

    // Paused: nothing more is sent; the audit trail has each change.
    let (status, paused) =
        ann.call(reqwest::Method::PATCH, &format!("/api/v1/webhooks/{hook}"), Some(json!({"active": false}))).await;
    assert_eq!((status, paused["active"].as_bool()), (200, Some(false)), "{paused}");
    let (_, audit) = ann.get("/api/v1/audit?action=webhook.").await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["webhook.create", "webhook.test", "webhook.retry", "webhook.update", "webhook.delete"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    // A tenant with a serving instance is not deleted, even by an owner.
    sqlx::query("UPDATE ops.users SET platform_role = 'platform_owner' WHERE email = 'ann@acme.test'")
        .execute(app.platform.db.owner())
        .await
        .unwrap();
    let (status, body) = ann.call(reqwest::Method::DELETE, &format!("/api/v1/fleet/tenants/{tenant}"), None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains("not decommissioned"), "{body}");
    crate::helpers::tear_down_builds(&app).await;
    let _ = std::fs::remove_dir_all(&dir);
}
