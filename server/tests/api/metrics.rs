//! `/metrics`: platform staff read the console's figures in Prometheus'
//! format with a token scoped to metrics; that token opens nothing else; a
//! tenant's admin may neither mint one nor read the figures.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn a_metrics_token_reads_metrics_and_nothing_else() {
    let app = spawn_app().await;
    // The first account is the platform's owner.
    let owner = app.signed_up("root@ops.test", "Ops").await;
    let (status, created) =
        owner.rpc("tokens/create", &[("name", "scraper"), ("expires_in_days", "30"), ("scope", "metrics")]).await;
    assert_eq!(status, 200, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let addr = app.addr.clone();
    let get = |path: &str, token: &str| app_get(addr.clone(), path.to_owned(), token.to_owned());
    let (status, ctype, body) = get("/metrics", &secret).await;
    assert_eq!(status, 200, "{body}");
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    assert!(body.contains("# TYPE odooops_jobs gauge") && body.contains("odooops_queue_due "), "{body}");
    assert!(body.contains("odooops_db_pool_connections{state=\"idle\"}"), "{body}");
    // A Prometheus text parser reads every sample, and every line has the exposition's shape.
    assert_parses(&body);
    for path in ["/api/v1/projects", "/api/v1/me", "/projects"] {
        let (status, _, body) = get(path, &secret).await;
        assert_eq!(status, 403, "a metrics token opened {path}: {body}");
    }
    let api = app.api(&secret);
    let (status, _) = api.post("/api/v1/tokens", json!({"name": "escalate"})).await;
    assert_eq!(status, 403, "nor does it mint tokens");

    // A tenant's admin: no metrics token, no figures.
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let (status, body) =
        ann.rpc("tokens/create", &[("name", "scraper"), ("expires_in_days", "30"), ("scope", "metrics")]).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (_, full) = ann.rpc("tokens/create", &[("name", "mine"), ("expires_in_days", "30")]).await;
    let (status, _, _) = get("/metrics", full["secret"].as_str().unwrap()).await;
    assert_eq!(status, 403);
    let (status, _, _) = get("/metrics", "").await;
    assert_eq!(status, 401);
}

async fn app_get(addr: String, path: String, token: String) -> (u16, String, String) {
    let mut r = reqwest::Client::new().get(format!("{addr}{path}"));
    if !token.is_empty() {
        r = r.bearer_auth(token);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, ctype, r.text().await.unwrap())
}

/// The exposition parses with a Prometheus text parser, with the families the console promises.
pub(crate) fn assert_parses(body: &str) -> prometheus_parse::Scrape {
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("parses");
    let names: std::collections::HashSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for family in [
        "odooops_jobs",
        "odooops_queue_due",
        "odooops_db_pool_connections",
        "odooops_http_requests_total",
        "odooops_websocket_clients",
    ] {
        assert!(names.contains(family), "{family} is missing: {body}");
    }
    let samples = body.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).count();
    assert_eq!(scrape.samples.len(), samples, "every sample line was read: {body}");
    for line in body.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name: {line}"
        );
    }
    scrape
}
