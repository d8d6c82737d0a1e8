//! Mail catcher throughput: messages/s accepted and stored over N concurrent
//! SMTP connections on loopback, beside the storage floor measured in the
//! same run (the same messages inserted straight into PostgreSQL over N
//! connections); and the time from the end of DATA until the viewer's query
//! returns the message (p50/p95). The viewer itself refreshes every second.
//!
//! `CONNECTIONS` (default 8) and `MESSAGES` per connection (default 250).

use domain::accounts::{self, SignUp};
use domain::auth::RequestMeta;
use domain::config::Settings;
use domain::db::Db;
use domain::mailer::LogMailer;
use domain::runtime::Unavailable;
use server::application::{Application, Parts};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn percentile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn message(i: usize) -> Vec<u8> {
    let body = "Dear customer,\r\nyour order is confirmed. ".repeat(80);
    format!(
        "From: Shop <shop@acme.test>\r\nTo: customer{i}@example.com\r\nSubject: Order {i}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

struct Smtp {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    line: String,
}

impl Smtp {
    async fn reply(&mut self) -> String {
        loop {
            self.line.clear();
            self.r.read_line(&mut self.line).await.unwrap();
            if self.line.as_bytes().get(3) != Some(&b'-') {
                return self.line.clone();
            }
        }
    }

    async fn cmd(&mut self, c: &str) -> String {
        self.w.write_all(c.as_bytes()).await.unwrap();
        self.reply().await
    }

    async fn connect(addr: &str, user: &str, pass: &str) -> Smtp {
        use base64::Engine as _;
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        // As a real client does: the end of DATA goes out at once, not after the body's ACK.
        stream.set_nodelay(true).unwrap();
        let (r, w) = stream.into_split();
        let mut s = Smtp { r: BufReader::new(r), w, line: String::new() };
        s.reply().await;
        s.cmd("EHLO bench\r\n").await;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
        let reply = s.cmd(&format!("AUTH PLAIN {auth}\r\n")).await;
        assert!(reply.starts_with("235"), "{reply}");
        s
    }

    /// Sends one message; the time from the end of DATA to the 250.
    async fn send(&mut self, raw: &[u8]) -> Duration {
        self.cmd("MAIL FROM:<shop@acme.test>\r\n").await;
        self.cmd("RCPT TO:<customer@example.com>\r\n").await;
        assert!(self.cmd("DATA\r\n").await.starts_with("354"));
        self.w.write_all(raw).await.unwrap();
        let t = Instant::now();
        let reply = self.cmd(".\r\n").await;
        assert!(reply.starts_with("250"), "{reply}");
        t.elapsed()
    }
}

#[tokio::main]
async fn main() {
    let conns: usize = std::env::var("CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let per: usize = std::env::var("MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(250);
    let options = domain::testing::fresh_database().await;
    let db = Db::prepare(options.clone(), (conns as u32 + 2).max(5)).await.expect("database");
    let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::build(Parts {
        db,
        runtime: Arc::new(Unavailable("not used".into())),
        mailer: Arc::new(LogMailer),
        settings: Settings::for_url("http://127.0.0.1"),
        builds: None,
        leptos: leptos::prelude::LeptosOptions::builder().output_name("odooops").build(),
        http: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        worker: false,
        mail_catcher: vec![smtp],
        ssh: None,
    })
    .await
    .expect("building the application");
    let (p, addr, setup) = (app.platform.clone(), app.smtp[0].to_string(), app.setup_token.clone());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let (actor, _) = accounts::sign_up(
        &p,
        SignUp {
            email: "bench@ops.test",
            password: "bench password 1",
            display_name: "",
            organisation: "Bench",
            setup_token: setup.as_deref(),
        },
        RequestMeta::default(),
    )
    .await
    .unwrap();
    let project = domain::projects::create(
        &p,
        &actor,
        domain::wire::NewProject {
            tenant: None,
            name: "Mail bench".into(),
            slug: None,
            repo_url: "https://github.com/acme/addons.git".into(),
            odoo_version: "17.0".into(),
            stage_rules: None,
            production_requires_approval: Some(false),
            base_image: Some(domain::builds::infra::STANDIN_IMAGE.into()),
        },
    )
    .await
    .unwrap();
    // A development environment, from a push (no worker runs here, so nothing builds).
    let secret = domain::builds::webhooks::settings(&p, &actor, project.id).await.unwrap().secret;
    let body =
        serde_json::to_vec(&serde_json::json!({"ref": "refs/heads/feature/mail", "after": "a".repeat(40)})).unwrap();
    let sig = domain::builds::github::sign(secret.as_bytes(), &body);
    domain::builds::webhooks::receive(
        &p,
        project.id,
        domain::builds::webhooks::Delivery { event: "push", delivery_id: "mail", signature: Some(&sig), body: &body },
    )
    .await
    .unwrap();
    let env = domain::projects::detail_by_id(&p, &actor, project.id)
        .await
        .unwrap()
        .environments
        .into_iter()
        .find(|e| e.branch == "feature/mail")
        .expect("the pushed branch's environment")
        .id;
    sqlx::query("UPDATE ops.projects SET mail_keep_count = 100000 WHERE id = $1")
        .bind(project.id)
        .execute(p.db.owner())
        .await
        .unwrap();
    let (user, pass) = domain::mail::store::credentials(&p, env).await.unwrap();

    // Ours: N connections, each sending its share.
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (addr, user, pass) = (addr.clone(), user.clone(), pass.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Smtp::connect(&addr, &user, &pass).await;
            let mut lat = Vec::with_capacity(per);
            for i in 0..per {
                lat.push(s.send(&message(c * per + i)).await);
            }
            lat
        }));
    }
    let mut accept = Vec::new();
    for t in tasks {
        accept.extend(t.await.unwrap());
    }
    let ours = t.elapsed();
    let total = conns * per;

    // The floor: the same messages stored straight into PostgreSQL over N connections.
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(conns as u32).connect_with(options).await.unwrap();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let pool = pool.clone();
        let (tenant, project) = (project.tenant_id, project.id);
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let raw = message(c * per + i);
                sqlx::query(
                    "INSERT INTO ops.mailbox_messages (id, tenant_id, project_id, env_id, envelope_from, envelope_to, raw, size)
                     VALUES ($1, $2, $3, $4, 'shop@acme.test', ARRAY['customer@example.com'], $5, $6)",
                )
                .bind(uuid::Uuid::new_v4())
                .bind(tenant)
                .bind(project)
                .bind(env)
                .bind(&raw)
                .bind(raw.len() as i32)
                .execute(&pool)
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let floor = t.elapsed();

    // DATA end → the viewer's query returns it.
    let mut s = Smtp::connect(&addr, &user, &pass).await;
    let mut visible = Vec::new();
    for i in 0..100 {
        let subject = format!("Visible {i}");
        let raw = format!("From: a@acme.test\r\nSubject: {subject}\r\n\r\nx\r\n").into_bytes();
        let t = Instant::now();
        s.send(&raw).await;
        loop {
            let list = domain::mail::store::list(&p, &actor, env, &format!("subject:\"{subject}\""), 1).await.unwrap();
            if !list.is_empty() {
                break;
            }
        }
        visible.push(t.elapsed());
    }

    let rate = |d: Duration| total as f64 / d.as_secs_f64();
    println!("{total} messages of {} bytes over {conns} connections:", message(0).len());
    println!("  catcher (SMTP + parse + store): {:>8.0} msg/s", rate(ours));
    println!("  floor (INSERT only)           : {:>8.0} msg/s", rate(floor));
    println!("  ratio: {:.2}x of the floor", rate(ours) / rate(floor));
    println!(
        "  DATA end → 250: p50 {:.2} ms, p95 {:.2} ms",
        percentile(&accept, 0.5).as_secs_f64() * 1000.0,
        percentile(&accept, 0.95).as_secs_f64() * 1000.0
    );
    println!(
        "  DATA end → in the viewer's query: p50 {:.2} ms, p95 {:.2} ms (the open viewer re-reads every 1 s)",
        percentile(&visible, 0.5).as_secs_f64() * 1000.0,
        percentile(&visible, 0.95).as_secs_f64() * 1000.0
    );
}
