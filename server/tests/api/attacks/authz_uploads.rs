//! Attacks on backup imports (security review SEC-13): an upload may be
//! gigabytes, so whoever may not import somewhere must be turned away before
//! the body is read, not after it has been written to scratch; and a tenant
//! that may import cannot open uploads without limit.

use super::authz::fixture;
use crate::helpers::{spawn_app_with_builds_no_worker, TestApp};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const MIB: usize = 1 << 20;
/// What an attacker offers: far more than any buffer between them and the handler.
const OFFERED: u64 = 256 * MIB as u64;

fn uploads_in_scratch(app: &TestApp) -> Vec<String> {
    let scratch = &app.platform.builds.as_ref().unwrap().backups.scratch;
    std::fs::read_dir(scratch)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("upload-"))
        .collect()
}

/// POSTs `OFFERED` bytes of zeros, produced only as fast as they are read; (status, bytes produced).
async fn offer(app: &TestApp, token: &str, env: Uuid) -> (u16, u64) {
    let produced = Arc::new(AtomicU64::new(0));
    let counter = produced.clone();
    let body = futures_util::stream::unfold(0u64, move |sent| {
        let counter = counter.clone();
        async move {
            if sent >= OFFERED {
                return None;
            }
            counter.fetch_add(MIB as u64, Ordering::SeqCst);
            Some((Ok::<_, std::io::Error>(vec![0u8; MIB]), sent + MIB as u64))
        }
    });
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/environments/{env}/imports", app.addr))
        .bearer_auth(token)
        .header("Content-Type", "application/zip")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .expect("the server answers before the body is sent");
    (r.status().as_u16(), produced.load(Ordering::SeqCst))
}

#[tokio::test]
async fn an_unauthorized_upload_is_refused_before_its_body_is_read() {
    let app = spawn_app_with_builds_no_worker().await;
    let f = fixture(&app).await;
    let cases = [
        ("outsider", Uuid::new_v4(), 404),
        ("outsider", f.env("development"), 404),
        ("developer", f.env("staging"), 403),
        ("developer", f.env("production"), 403),
        ("admin", f.env("production"), 403),
    ];
    for (role, env, want) in cases {
        let (status, produced) = offer(&app, &f.person(role).api.token, env).await;
        assert_eq!(status, want, "{role} importing into {env}");
        assert!(produced < OFFERED, "{role}: the whole body was read ({produced} bytes) before the refusal");
        assert!(
            uploads_in_scratch(&app).is_empty(),
            "{role}: an upload reached scratch: {:?}",
            uploads_in_scratch(&app)
        );
    }
}

#[tokio::test]
async fn a_tenant_has_at_most_two_uploads_in_flight() {
    let app = spawn_app_with_builds_no_worker().await;
    let f = fixture(&app).await;
    let slots = app.platform.builds.as_ref().unwrap().backups.uploads.clone();
    let token = f.person("tester").api.token.clone();
    // Two uploads that stay open until their senders are dropped.
    let mut senders = Vec::new();
    let mut answers = Vec::new();
    for _ in 0..domain::backups::uploads::PER_TENANT {
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
        });
        tx.send(b"PK".to_vec()).await.unwrap();
        senders.push(tx);
        let (addr, token, env) = (app.addr.clone(), token.clone(), f.env("development"));
        answers.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{addr}/api/v1/environments/{env}/imports"))
                .bearer_auth(token)
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    // Wait (a generous deadline, not a timing assertion) until both hold a slot.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while slots.in_flight(f.tenant) < domain::backups::uploads::PER_TENANT {
        assert!(tokio::time::Instant::now() < deadline, "the uploads never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, produced) = offer(&app, &token, f.env("staging")).await;
    assert_eq!(status, 429, "a third upload of the tenant waits its turn");
    assert!(produced < OFFERED);
    // Another tenant is not held up by this one (it is refused for its own reasons only).
    let (status, _) = offer(&app, &f.person("outsider").api.token, f.foreign_env).await;
    assert_eq!(status, 403, "the outsider's own production: refused by the matrix, not by the other tenant's uploads");

    // The open uploads end (cut short: not a valid archive); their slots come back.
    senders.clear();
    for a in answers {
        let status = a.await.unwrap().expect("an answer");
        assert_eq!(status, 422, "a truncated archive is refused");
    }
    assert_eq!(slots.in_flight(f.tenant), 0);
    assert!(uploads_in_scratch(&app).is_empty(), "{:?}", uploads_in_scratch(&app));
}
