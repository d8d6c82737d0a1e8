//! Canary secrets: the suite's password, every access token and deploy key its
//! helpers make, and any secret a test hands over ([`watch`]), must never turn
//! up in a log line the console writes, nor (for those that no response may
//! carry) in a response body it sends.
//!
//! Every test app logs through [`init`]'s layer at the console's production
//! level (`info`), and its router streams each response through [`responses`].
//! A sighting is kept as a violation and fails the test whose app is dropped
//! next ([`assert_clean`]); a secret watched late is also searched for in the
//! lines logged before (kept up to [`KEEP_BYTES`]).
//! WebSocket messages are not scanned here; their tests assert on what they carry.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The captured log lines kept for secrets watched after they were logged.
pub const KEEP_BYTES: usize = 32 << 20;

/// Where a watched secret must not appear.
#[derive(Clone, Copy, PartialEq)]
pub enum Never {
    /// Not in any log line (a response may carry it: a webhook secret on its settings page).
    Logged,
    /// Neither logged nor in any response after it was made.
    LoggedOrSent,
}

struct Watched {
    secret: String,
    never: Never,
    /// The self-test's planted leak: its sightings go to [`SELFTEST`], failing no one.
    selftest: bool,
}

#[derive(Default)]
struct State {
    watched: Vec<Watched>,
    lines: VecDeque<String>,
    bytes: usize,
    violations: Vec<String>,
    selftest: Vec<String>,
}

fn state() -> &'static Mutex<State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(|| {
        Mutex::new(State {
            watched: vec![Watched {
                secret: crate::helpers::PASSWORD.into(),
                never: Never::LoggedOrSent,
                selftest: false,
            }],
            ..State::default()
        })
    })
}

fn lock() -> std::sync::MutexGuard<'static, State> {
    state().lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    fn sighted(&mut self, text: &str, responses: bool, place: &str) {
        let hits: Vec<(bool, String)> = self
            .watched
            .iter()
            .filter(|w| (!responses || w.never == Never::LoggedOrSent) && text.contains(&w.secret))
            .map(|w| (w.selftest, format!("{place}: a watched secret ({}…) in {}", preview(&w.secret), excerpt(text))))
            .collect();
        for (selftest, v) in hits {
            if selftest {
                self.selftest.push(v)
            } else {
                self.violations.push(v)
            }
        }
    }
}

fn preview(secret: &str) -> String {
    secret.chars().take(6).collect()
}

fn excerpt(text: &str) -> String {
    let t: String = text.chars().take(300).collect();
    t.replace('\n', "⏎")
}

/// Watches `secret` from now on, and searches the lines already logged.
pub fn watch(secret: &str, never: Never) {
    watch_as(secret, never, false);
}

fn watch_as(secret: &str, never: Never, selftest: bool) {
    assert!(secret.len() >= 8, "a canary that short would match by chance");
    let mut s = lock();
    if s.watched.iter().any(|w| w.secret == secret) {
        return;
    }
    s.watched.push(Watched { secret: secret.to_owned(), never, selftest });
    let earlier: Vec<String> = s.lines.iter().filter(|l| l.contains(secret)).cloned().collect();
    for line in earlier {
        let v = format!("log (before it was watched): a watched secret ({}…) in {}", preview(secret), excerpt(&line));
        if selftest {
            s.selftest.push(v)
        } else {
            s.violations.push(v)
        }
    }
}

/// Watches the secrets a test app stored: deploy keys (their key lines; no
/// response may carry them) and webhook secrets (admins are shown those).
/// Runs on a thread of its own, so it works from `Drop` inside any runtime.
pub fn watch_stored(db: &sqlx::postgres::PgConnectOptions) {
    let db = db.clone();
    let rows = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            use sqlx::ConnectOptions;
            let mut conn = db.connect().await.ok()?;
            sqlx::query_as::<_, (String, Option<String>)>("SELECT webhook_secret, deploy_key FROM ops.project_secrets")
                .fetch_all(&mut conn)
                .await
                .ok()
        })
    })
    .join()
    .ok()
    .flatten()
    .unwrap_or_default();
    for (webhook, key) in rows {
        watch(&webhook, Never::Logged);
        for line in key.iter().flat_map(|k| k.lines()).filter(|l| l.len() >= 40 && !l.starts_with("-----")) {
            watch(line, Never::LoggedOrSent);
        }
    }
}

/// Fails with every sighting so far (called when a test app is dropped).
pub fn assert_clean() {
    let found = std::mem::take(&mut lock().violations);
    assert!(found.is_empty(), "canary secrets leaked:\n{}", found.join("\n"));
}

/// Installs the capturing layer (and, with `TEST_LOG`, a readable log) once.
pub fn init() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let production = tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn,hyper=warn");
        let readable = std::env::var_os("TEST_LOG").is_some().then(|| {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug,sqlx=warn,hyper=warn"));
            tracing_subscriber::fmt::layer().with_test_writer().with_filter(filter)
        });
        let _ = tracing_subscriber::registry().with(Capture.with_filter(production)).with(readable).try_init();
    });
}

/// Formats each event the way a log shipper would see it, and checks it.
struct Capture;

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut line = format!("{} {}:", event.metadata().level(), event.metadata().target());
        event.record(&mut Fields(&mut line));
        let mut s = lock();
        s.sighted(&line, false, "log");
        s.bytes += line.len();
        s.lines.push_back(line);
        while s.bytes > KEEP_BYTES {
            let Some(old) = s.lines.pop_front() else { break };
            s.bytes -= old.len();
        }
    }
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

/// Router middleware: streams each response body past the canaries (a secret
/// split across two chunks is still seen).
pub async fn responses(req: Request, next: Next) -> Response {
    let place = format!("response to {} {}", req.method(), req.uri().path());
    let resp = next.run(req).await;
    if resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let mut tail: Vec<u8> = Vec::new();
    let stream = body.into_data_stream().map(move |chunk| {
        if let Ok(bytes) = &chunk {
            let longest = lock().watched.iter().map(|w| w.secret.len()).max().unwrap_or(0);
            let mut window = std::mem::take(&mut tail);
            window.extend_from_slice(bytes);
            lock().sighted(&String::from_utf8_lossy(&window), true, &place);
            let keep = longest.saturating_sub(1).min(window.len());
            tail = window.split_off(window.len() - keep);
        }
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

#[tokio::test]
async fn the_canaries_see_a_planted_leak_in_logs_and_responses() {
    let _app = crate::helpers::spawn_app().await;
    // A secret logged before it is watched, and one logged after.
    tracing::info!(target: "odooops::selftest", "leaking early: planted-canary-early-5d1e");
    watch_as("planted-canary-early-5d1e", Never::Logged, true);
    watch_as("planted-canary-late-77ab", Never::LoggedOrSent, true);
    tracing::warn!(target: "odooops::selftest", secret = "planted-canary-late-77ab", "leaking late");
    // A response that carries one, split across two chunks, through the same middleware.
    let split =
        || futures_util::stream::iter(["{\"x\":\"planted-canary-", "late-77ab\"}"].map(Ok::<_, std::io::Error>));
    let echo = axum::Router::new()
        .route("/leak", axum::routing::get(move || async move { Body::from_stream(split()) }))
        .layer(axum::middleware::from_fn(responses));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, echo).await.unwrap() });
    let body = reqwest::get(format!("http://{addr}/leak")).await.unwrap().text().await.unwrap();
    assert_eq!(body, "{\"x\":\"planted-canary-late-77ab\"}", "the middleware passes bodies through unchanged");
    let seen = std::mem::take(&mut lock().selftest);
    assert!(seen.iter().any(|v| v.starts_with("log (before it was watched)")), "{seen:?}");
    assert!(seen.iter().any(|v| v.starts_with("log:") && v.contains("leaking late")), "{seen:?}");
    assert!(seen.iter().any(|v| v.starts_with("response to GET /leak")), "{seen:?}");
    // The real suite's canaries are clean at this point of this test.
    assert!(lock().violations.iter().all(|v| !v.contains("planted-canary")), "self-test sightings count as real ones");
}
