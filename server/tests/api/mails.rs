//! The mail catcher for real: a development build of the stand-in sends mail
//! through the credentials it was given; lettre and swaks send plain,
//! multipart, attachment, legacy-charset, encoded-word and malformed
//! messages; downloads are byte-exact; bad credentials, production's, and
//! oversize messages are refused; retention keeps the newest; production's
//! mail goes to the project's relay and never to the catcher.

use crate::helpers::{spawn_app_with_builds_and, Api, TestApp};
use crate::pipeline::{commit_file, finished, push, repository, standin_project};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A project whose `branch` builds on the stand-in, sending `mails` mails when it starts; (project, build).
async fn mailing_build(app: &TestApp, api: &Api<'_>, name: &str, branch: &str, mails: u32) -> (String, Value) {
    let repo = repository();
    let project = standin_project(api, name, &repo).await;
    let sha = commit_file(&repo, branch, ".standin", &format!("send-mail {mails}\n"), "send mail");
    push(app, api, &project, branch, &sha).await;
    let build = finished(api, &project, &sha).await;
    assert_eq!(build["result"], "ok", "{build}");
    (project, build)
}

async fn mails(api: &Api<'_>, env: &str, q: &str) -> Vec<Value> {
    let (status, list) = api.get(&format!("/api/v1/environments/{env}/mails?q={}", urlencode(q))).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

fn urlencode(s: &str) -> String {
    domain::wire::url_component(s)
}

async fn raw(api: &Api<'_>, env: &str, id: &str) -> (String, Vec<u8>) {
    let r = api
        .http
        .get(format!("{}/api/v1/environments/{env}/mails/{id}/raw", api.app.addr))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
    (ctype, r.bytes().await.unwrap().to_vec())
}

/// Speaks SMTP by hand: returns every reply line, so tests can see codes.
async fn converse(addr: &str, lines: &[&[u8]]) -> Vec<String> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut replies = Vec::new();
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    replies.push(std::mem::take(&mut line));
    let mut in_data = false;
    for l in lines {
        w.write_all(l).await.unwrap();
        // Message lines get no reply; the final dot does.
        if in_data && *l != b".\r\n" {
            continue;
        }
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap() == 0 {
                return replies;
            }
            let done = line.as_bytes().get(3) != Some(&b'-');
            replies.push(line.clone());
            if done {
                break;
            }
        }
        in_data = line.starts_with("354");
    }
    replies
}

fn auth_plain(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    format!("AUTH PLAIN {}\r\n", base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_mail_is_caught_exactly_and_bad_input_is_kept_or_refused() {
    let app = spawn_app_with_builds_and(|s| s.mail.max_message_bytes = 64 * 1024).await;
    let owner = app.signed_up("owner@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let (project, build) = mailing_build(&app, &api, "Mailer", "feature-mail", 1).await;
    let env = build["env_id"].as_str().unwrap().to_owned();

    // The build's own mail, sent by the stand-in with the credentials OdooOps injected.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let first = loop {
        if let Some(m) = mails(&api, &env, "").await.into_iter().next() {
            break m;
        }
        assert!(tokio::time::Instant::now() < deadline, "the build's mail never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(first["subject"].as_str().unwrap().starts_with("Stand-in mail"), "{first}");

    let (user, pass) = domain::mail::store::credentials(&app.platform, env.parse().unwrap()).await.unwrap();
    let catcher = app.smtp_addr.clone().expect("the catcher runs with builds");
    let (host, port) = catcher.rsplit_once(':').unwrap();
    let smtp = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port.parse().unwrap())
        .credentials(Credentials::new(user.clone(), pass.clone()))
        .build();

    // lettre: plain, multipart/alternative, and one with an attachment; downloads are byte-exact.
    let from: Mailbox = "Ann <ann@acme.test>".parse().unwrap();
    let plain = Message::builder()
        .from(from.clone())
        .to("bob@customer.test".parse().unwrap())
        .subject("Your order 42")
        .body("Thank you.\n.a line starting with a dot\n".to_owned())
        .unwrap();
    let alternative = Message::builder()
        .from(from.clone())
        .to("carol@customer.test".parse().unwrap())
        .subject("Newsletter")
        .multipart(MultiPart::alternative_plain_html(
            "Hello".to_owned(),
            "<p>Hello <img src=\"https://t.example/p.gif\"></p>".to_owned(),
        ))
        .unwrap();
    let with_file = Message::builder()
        .from(from.clone())
        .to("dave@customer.test".parse().unwrap())
        .subject("Invoice")
        .multipart(
            MultiPart::mixed().singlepart(SinglePart::plain("See attached".to_owned())).singlepart(
                Attachment::new("invoice.pdf".into())
                    .body(b"%PDF-1.4 fake".to_vec(), ContentType::parse("application/pdf").unwrap()),
            ),
        )
        .unwrap();
    // An open viewer hears of new mail at once.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "{}/api/v1/environments/{env}/mails/ws",
        app.addr.replace("http://", "ws://")
    ))
    .unwrap();
    req.headers_mut().insert("Authorization", format!("Bearer {}", api.token).parse().unwrap());
    let (mut live, _) = tokio_tungstenite::connect_async(req).await.expect("the mail WebSocket");
    for m in [&plain, &alternative, &with_file] {
        smtp.send_raw(m.envelope(), &m.formatted()).await.expect("lettre sends");
    }
    use futures_util::StreamExt;
    let news = tokio::time::timeout(Duration::from_secs(30), live.next()).await.expect("told of new mail");
    assert!(
        matches!(news, Some(Ok(tokio_tungstenite::tungstenite::Message::Text(ref t))) if t.as_str() == "new"),
        "{news:?}"
    );
    let list = mails(&api, &env, "subject:\"order 42\"").await;
    assert_eq!(list.len(), 1);
    let (ctype, bytes) = raw(&api, &env, list[0]["id"].as_str().unwrap()).await;
    assert_eq!(ctype, "message/rfc822");
    // lettre ends DATA with CRLF.CRLF after the message's own final CRLF, so one empty line was sent too.
    assert_eq!(
        bytes,
        [plain.formatted(), b"\r\n".to_vec()].concat(),
        "the .eml is exactly what was sent (dots unstuffed)"
    );
    let att = mails(&api, &env, "has:attachment").await;
    assert_eq!(att.len(), 1, "{att:?}");
    let (_, view) = api.get(&format!("/api/v1/environments/{env}/mails/{}", att[0]["id"].as_str().unwrap())).await;
    assert_eq!(view["attachments"][0]["name"], "invoice.pdf", "{view}");
    let file = api
        .http
        .get(format!("{}/api/v1/environments/{env}/mails/{}/attachments/0", app.addr, att[0]["id"].as_str().unwrap()))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&file[..], b"%PDF-1.4 fake");
    let html = mails(&api, &env, "from:ann to:carol").await;
    let (_, view) = api.get(&format!("/api/v1/environments/{env}/mails/{}", html[0]["id"].as_str().unwrap())).await;
    assert!(view["html"].as_str().unwrap().contains("<p>Hello"));
    assert_eq!(view["text"].as_str().unwrap().trim(), "Hello");

    // swaks: a Latin-1 body and an RFC 2047 subject, as Debian's swaks sends it.
    let body = b"Subject: =?ISO-8859-1?Q?R=E9sum=E9?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nD\xe9j\xe0 vu\r\n";
    let data = std::env::temp_dir().join(format!("swaks-{}.eml", uuid::Uuid::new_v4()));
    std::fs::write(&data, body).unwrap();
    let out = tokio::process::Command::new("swaks")
        // `=`: a password may start with a dash, which swaks would take for an option.
        .args([
            "--server",
            &catcher,
            "--auth",
            "PLAIN",
            &format!("--auth-user={user}"),
            &format!("--auth-password={pass}"),
        ])
        .args(["--timeout", "120", "--from", "eve@acme.test", "--to", "frank@customer.test", "--data"])
        .arg(&data)
        .output()
        .await
        .expect("swaks (apt-get install swaks)");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let latin = mails(&api, &env, "from:eve").await;
    assert_eq!(latin[0]["subject"], "Résumé");
    let (_, view) = api.get(&format!("/api/v1/environments/{env}/mails/{}", latin[0]["id"].as_str().unwrap())).await;
    assert_eq!(view["text"].as_str().unwrap().trim(), "Déjà vu");

    // Garbage is kept and shown as such; byte-exact too.
    let garbage: &[u8] = b"\x00\xff\xfe not a message at all\r\n";
    let replies = converse(
        &catcher,
        &[
            b"EHLO t\r\n",
            auth_plain(&user, &pass).as_bytes(),
            b"MAIL FROM:<g@x.test>\r\n",
            b"RCPT TO:<h@x.test>\r\n",
            b"DATA\r\n",
            garbage,
            b".\r\n",
            b"QUIT\r\n",
        ],
    )
    .await;
    assert!(replies.iter().any(|r| r.starts_with("250 2.0.0 OK: caught")), "{replies:?}");
    let all = mails(&api, &env, "").await;
    let bad = all.iter().find(|m| m["malformed"] == true).expect("the malformed message is listed");
    assert_eq!(raw(&api, &env, bad["id"].as_str().unwrap()).await.1, garbage);

    // Eight senders at once share the writer's commits; hostile ones among
    // them (NUL in a header and in the body, a lone CR, bytes that are no
    // UTF-8) are caught byte-exact, and none costs the others their mail.
    let hostile: [&[u8]; 4] = [
        b"Subject: nul\x00inside\r\nX-Evil: a\x00b\r\n\r\nbody\x00with nul\r\n",
        b"Subject: lone\rcr\r\n\r\nx\r\n",
        b"Subject: \xc3\x28 not utf-8\r\n\r\n\xff\xfe\r\n",
        b"Subject: plain\r\n\r\nhello\r\n",
    ];
    let before = mails(&api, &env, "").await.len();
    let sends = (0..8).map(|i| {
        let (catcher, auth) = (catcher.clone(), auth_plain(&user, &pass));
        let body: Vec<u8> = [hostile[i % 4], format!("n{i}\r\n").as_bytes()].concat();
        async move {
            let lines: [&[u8]; 8] = [
                b"EHLO t\r\n",
                auth.as_bytes(),
                b"MAIL FROM:<many@x.test>\r\n",
                b"RCPT TO:<h@x.test>\r\n",
                b"DATA\r\n",
                &body,
                b".\r\n",
                b"QUIT\r\n",
            ];
            (converse(&catcher, &lines).await, body)
        }
    });
    for (replies, _) in futures_util::future::join_all(sends).await {
        assert!(replies.iter().any(|r| r.starts_with("250 2.0.0 OK: caught")), "{replies:?}");
    }
    let all = mails(&api, &env, "").await;
    assert_eq!(all.len(), before + 8, "every sender's message is kept");
    let nul = all.iter().find(|m| m["subject"].as_str().is_some_and(|s| s.starts_with("nul"))).expect("{all:?}");
    let (_, bytes) = raw(&api, &env, nul["id"].as_str().unwrap()).await;
    assert!(bytes.starts_with(hostile[0]), "byte-exact: {bytes:?}");

    // Refusals: no AUTH, wrong password, unknown user, production's credentials, oversize.
    let r = converse(&catcher, &[b"EHLO t\r\n", b"MAIL FROM:<a@x.test>\r\n"]).await;
    assert!(r.last().unwrap().starts_with("530"), "{r:?}");
    assert!(r.iter().any(|l| l.contains("AUTH PLAIN LOGIN")) && r.iter().any(|l| l.contains("SIZE 65536")));
    let r = converse(&catcher, &[b"EHLO t\r\n", auth_plain(&user, "wrong").as_bytes()]).await;
    assert!(r.last().unwrap().starts_with("535"), "{r:?}");
    let (_, list) = api.get(&format!("/api/v1/projects/{project}")).await;
    let production = list["environments"].as_array().unwrap().iter().find(|e| e["stage"] == "production");
    if let Some(prod) = production {
        let (pu, pp) = domain::mail::store::credentials(&app.platform, prod["id"].as_str().unwrap().parse().unwrap())
            .await
            .unwrap();
        let r = converse(&catcher, &[b"EHLO t\r\n", auth_plain(&pu, &pp).as_bytes()]).await;
        assert!(r.last().unwrap().starts_with("535"), "production is never caught: {r:?}");
    }
    let big = vec![b'x'; 70 * 1024];
    let big_lines = big.chunks(998).flat_map(|c| [c, b"\r\n".as_slice()].concat()).collect::<Vec<u8>>();
    let r = converse(
        &catcher,
        &[b"EHLO t\r\n", auth_plain(&user, &pass).as_bytes(), b"MAIL FROM:<a@x.test> SIZE=999999\r\n"],
    )
    .await;
    assert!(r.last().unwrap().starts_with("552"), "declared SIZE over the limit: {r:?}");
    let r = converse(
        &catcher,
        &[
            b"EHLO t\r\n",
            auth_plain(&user, &pass).as_bytes(),
            b"MAIL FROM:<a@x.test>\r\n",
            b"RCPT TO:<b@x.test>\r\n",
            b"DATA\r\n",
            b"Subject: big\r\n\r\n",
            &big_lines,
            b".\r\n",
        ],
    )
    .await;
    assert!(r.last().unwrap().starts_with("552"), "{r:?}");
    assert!(mails(&api, &env, "subject:big").await.is_empty());

    // Retention keeps the newest N.
    let owner_pool = sqlx::PgPool::connect_with(app.db_options.clone()).await.unwrap();
    sqlx::query("UPDATE ops.projects SET mail_keep_count = 3 WHERE id = $1::uuid")
        .bind(&project)
        .execute(&owner_pool)
        .await
        .unwrap();
    for i in 0..3 {
        let m = Message::builder()
            .from(from.clone())
            .to("x@y.test".parse().unwrap())
            .subject(format!("keep {i}"))
            .body(String::new())
            .unwrap();
        smtp.send(m).await.unwrap();
    }
    // Retention runs shortly after a burst, off the sender's path: wait for its pass.
    let mut kept: Vec<String> = Vec::new();
    for _ in 0..600 {
        kept = mails(&api, &env, "").await.iter().map(|m| m["subject"].as_str().unwrap_or("").to_owned()).collect();
        if kept.len() <= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kept, ["keep 2", "keep 1", "keep 0"]);

    // Delete all (audited).
    let (status, _) = api.call(reqwest::Method::DELETE, &format!("/api/v1/environments/{env}/mails"), None).await;
    assert_eq!(status, 204);
    assert!(mails(&api, &env, "").await.is_empty());
}

/// A relay standing in for the project's real SMTP server: accepts anything, keeps the DATA.
async fn relay() -> (String, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let gateway = domain::testing::build_databases().unwrap().host_for_containers;
    let listener = tokio::net::TcpListener::bind(format!("{gateway}:0")).await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 relay\r\n").await;
                let mut line = String::new();
                let mut data: Option<Vec<u8>> = None;
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    match &mut data {
                        Some(d) if line == ".\r\n" => {
                            let _ = tx.send(std::mem::take(d));
                            data = None;
                            let _ = w.write_all(b"250 queued\r\n").await;
                        }
                        Some(d) => d.extend_from_slice(line.as_bytes()),
                        None if line.starts_with("DATA") => {
                            data = Some(Vec::new());
                            let _ = w.write_all(b"354 go\r\n").await;
                        }
                        None if line.starts_with("QUIT") => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        None if line.starts_with("AUTH") => {
                            let _ = w.write_all(b"235 ok\r\n").await;
                        }
                        None => {
                            let _ = w.write_all(b"250 ok\r\n").await;
                        }
                    }
                    line.clear();
                }
            });
        }
    });
    (addr, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mail_goes_to_the_relay_and_never_to_the_catcher() {
    let app = spawn_app_with_builds_and(|_| {}).await;
    let owner = app.signed_up("owner@acme.test", "Acme").await;
    let api = app.api(&owner.token().await);
    let (relay_addr, mut relayed) = relay().await;
    let (host, port) = relay_addr.rsplit_once(':').unwrap();
    let repo = repository();
    let project = standin_project(&api, "Shop", &repo).await;
    // The relay listens on a test port, not 465/587: platform staff waive the SMTP-port gate for it.
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/projects/{project}/preflight/smtp_ports"),
            Some(serde_json::json!({"waive": true, "reason": "the test relay listens on a loopback port"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/projects/{project}/settings"),
            Some(serde_json::json!({"smtp_relay": format!("{host}:{port}")})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sha = commit_file(&repo, "main", ".standin", "send-mail 1\n", "send mail");
    push(&app, &api, &project, "main", &sha).await;
    let build = finished(&api, &project, &sha).await;
    assert_eq!((build["result"].as_str(), build["stage"].as_str()), (Some("ok"), Some("production")), "{build}");
    let mail =
        tokio::time::timeout(Duration::from_secs(60), relayed.recv()).await.expect("the relay got the mail").unwrap();
    assert!(String::from_utf8_lossy(&mail).contains("Subject: Stand-in mail"));
    let env = build["env_id"].as_str().unwrap();
    let (status, list) = api.get(&format!("/api/v1/environments/{env}/mails")).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing of production's is caught");
    let owner_pool = sqlx::PgPool::connect_with(app.db_options.clone()).await.unwrap();
    let caught: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.mailbox_messages").fetch_one(&owner_pool).await.unwrap();
    assert_eq!(caught, 0);
}
