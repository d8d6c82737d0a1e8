//! The console's busiest pages under load, at the size a real team reaches:
//! the project page (the Runbot grid), the REST build list and the dashboard,
//! on a project with `BRANCHES` branches (default 100) and `BUILDS` builds
//! (default 1,000), each fetched by `CLIENTS` concurrent clients (default 20)
//! for `SECONDS` (default 10). Beside them, in the same run and on the same
//! server, the floor: the console's cheapest answer that reaches the
//! database (`/api/health`). Prints requests/s, p50 and p99 of each and the
//! ratios to the floor; then the grid paced at `RATE` requests/s (default 200,
//! open loop: latency counts from when a request was due) with its p99
//! against the budget (≤ 50 ms). Answers that carry more resources than the
//! leanest answer (a part of the page rendered twice on the server) are counted.

use domain::accounts::{self, SignUp};
use domain::auth::RequestMeta;
use domain::config::Settings;
use domain::db::Db;
use domain::mailer::LogMailer;
use domain::runtime::Unavailable;
use server::application::{Application, Parts};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(((v.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Target {
    name: &'static str,
    url: String,
    headers: Vec<(&'static str, String)>,
}

struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
    bytes: usize,
    /// Answers carrying more resources than the leanest (a part rendered twice), of `n`.
    doubled: usize,
    /// Pages whose Content-Security-Policy lacks their scripts' nonce (they would not hydrate).
    no_nonce: usize,
    n: usize,
}

async fn get(http: &reqwest::Client, t: &Target) -> (u16, usize, usize, bool) {
    let mut req = http.get(&t.url).header("accept-encoding", "identity");
    for (k, v) in &t.headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let csp = r.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = r.text().await.unwrap_or_default();
    let no_nonce = body.contains("<script nonce=") && !csp.contains("'nonce-");
    // Resources the answer carries: a part of the page rendered twice sends its resources twice.
    let resources = body.matches("__RESOLVED_RESOURCES[").count();
    if let Ok(dir) = std::env::var("GRID_DUMP") {
        let _ = std::fs::write(format!("{dir}/{}-{resources}.html", t.name.replace(['/', ' ', '(', ')'], "_")), &body);
    }
    (status, body.len(), resources, no_nonce)
}

/// `clients` closed-loop clients for `secs`.
async fn hammer(http: &reqwest::Client, t: &Arc<Target>, clients: usize, secs: u64) -> Figures {
    let end = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, t) = (http.clone(), t.clone());
            tokio::spawn(async move {
                let (mut lat, mut bytes, mut resources, mut no_nonce) = (Vec::new(), 0, Vec::new(), 0);
                while Instant::now() < end {
                    let at = Instant::now();
                    let (status, len, n, missing) = get(&http, &t).await;
                    assert_eq!(status, 200, "{}", t.name);
                    lat.push(at.elapsed());
                    bytes = len;
                    resources.push(n);
                    no_nonce += usize::from(missing);
                }
                (lat, bytes, resources, no_nonce)
            })
        })
        .collect();
    let started = Instant::now();
    let (mut all, mut bytes, mut resources, mut no_nonce) = (Vec::new(), 0, Vec::new(), 0);
    for task in tasks {
        let (lat, b, r, missing) = task.await.unwrap();
        all.extend(lat);
        bytes = b;
        resources.extend(r);
        no_nonce += missing;
    }
    let fewest = resources.iter().copied().min().unwrap_or(0);
    let doubled = resources.iter().filter(|&&n| n > fewest).count();
    let wall = started.elapsed().as_secs_f64();
    Figures {
        rps: all.len() as f64 / wall,
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
        bytes,
        doubled,
        no_nonce,
        n: all.len(),
    }
}

/// Open loop: a request every 1/rate s for `secs`; latency from when it was due.
async fn paced(http: &reqwest::Client, t: &Arc<Target>, rate: u32, secs: u64) -> (f64, Duration, Duration) {
    let n = rate as u64 * secs;
    let every = Duration::from_secs_f64(1.0 / f64::from(rate));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let due = start + every * i as u32;
        tokio::time::sleep_until(due).await;
        let (http, t) = (http.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            let (status, _, _, _) = get(&http, &t).await;
            assert_eq!(status, 200);
            due.elapsed()
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await.unwrap());
    }
    let achieved = n as f64 / start.elapsed().as_secs_f64();
    (achieved, percentile(&lat, 0.5), percentile(&lat, 0.99))
}

#[tokio::main]
async fn main() {
    let branches: i32 = env_or("BRANCHES", 100);
    let builds: i32 = env_or("BUILDS", 1000);
    let clients: usize = env_or("CLIENTS", 20);
    let secs: u64 = env_or("SECONDS", 10);
    let rate: u32 = env_or("RATE", 200);
    let db = Db::prepare(domain::testing::fresh_database().await, 10).await.expect("database");
    // The console answers only to its public URL's host: this listener's.
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", http.local_addr().unwrap());
    let app = Application::build(Parts {
        db,
        runtime: Arc::new(Unavailable("not used".into())),
        mailer: Arc::new(LogMailer),
        settings: Settings::for_url(&public_url),
        builds: None,
        leptos: leptos::prelude::LeptosOptions::builder().output_name("odooops").build(),
        http,
        worker: false,
        mail_catcher: vec![],
        ssh: None,
    })
    .await
    .expect("building the application");
    let (p, addr, setup) = (app.platform.clone(), app.addr, app.setup_token.clone());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let (actor, session) = accounts::sign_up(
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
    let token = accounts::create_token(
        &p,
        &actor,
        domain::wire::NewToken { name: "bench".into(), expires_in_days: None, scope: None },
    )
    .await
    .unwrap()
    .secret;
    let project = domain::projects::create(
        &p,
        &actor,
        domain::wire::NewProject {
            tenant: None,
            name: "Grid bench".into(),
            slug: None,
            repo_url: "https://github.com/acme/addons.git".into(),
            odoo_version: "17.0".into(),
            stage_rules: None,
            production_requires_approval: Some(false),
            base_image: None,
        },
    )
    .await
    .unwrap();
    // The project's branches (production exists) and its builds, spread evenly, as the owner.
    let owner = p.db.owner();
    sqlx::query(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage)
         SELECT gen_random_uuid(), p.tenant_id, p.id,
                CASE WHEN g <= 3 THEN 'release/' || g ELSE 'feature/' || g END,
                CASE WHEN g <= 3 THEN 'staging' ELSE 'development' END
           FROM ops.projects p, generate_series(1, $2 - 1) g WHERE p.id = $1",
    )
    .bind(project.id)
    .bind(branches)
    .execute(owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ops.builds (id, tenant_id, project_id, env_id, branch, stage, commit_sha, subject, author, trigger,
                                 state, result, reason, created_at, started_at, finished_at)
         SELECT gen_random_uuid(), e.tenant_id, e.project_id, e.id, e.branch, e.stage, md5(g::text) || substr(md5(e.branch), 1, 8),
                'Commit ' || g, 'Bench <bench@ops.test>', 'push', 'done',
                CASE WHEN g % 7 = 0 THEN 'ko' ELSE 'ok' END, CASE WHEN g % 7 = 0 THEN 'tests failed' END,
                now() - make_interval(mins => g), now() - make_interval(mins => g), now() - make_interval(mins => g)
           FROM (SELECT e.*, row_number() OVER (ORDER BY e.branch) - 1 AS n, count(*) OVER () AS m
                   FROM ops.environments e WHERE e.project_id = $1) e,
                generate_series(1, $2) g
          WHERE g % e.m = e.n",
    )
    .bind(project.id)
    .bind(builds)
    .execute(owner)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(owner).await.unwrap();

    let base = format!("http://{addr}");
    let cookie = ("cookie", format!("odooops_session={}", session.0));
    let targets: Vec<Arc<Target>> = vec![
        Target { name: "floor /api/health", url: format!("{base}/api/health"), headers: vec![] },
        Target {
            name: "grid (project page)",
            url: format!("{base}/projects/{}/{}", project.tenant_slug, project.slug),
            headers: vec![cookie.clone()],
        },
        Target {
            name: "REST build list",
            url: format!("{base}/api/v1/projects/{}/builds", project.id),
            headers: vec![("authorization", format!("Bearer {token}"))],
        },
        Target { name: "dashboard /", url: format!("{base}/"), headers: vec![cookie.clone()] },
    ]
    .into_iter()
    .map(Arc::new)
    .collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients * 2).build().unwrap();
    for t in &targets {
        let mut req = http.get(&t.url);
        for (k, v) in &t.headers {
            req = req.header(*k, v);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "{}: {status} {}", t.name, &text[..text.len().min(500)]);
    }
    println!(
        "{branches} branches, {builds} builds; {clients} clients, {secs} s per target (Accept-Encoding: identity)"
    );
    let mut floor: Option<Figures> = None;
    for t in &targets {
        let f = hammer(&http, t, clients, secs).await;
        let (rps_ratio, p99_ratio) = floor.as_ref().map_or((1.0, 1.0), |fl| (f.rps / fl.rps, ms(f.p99) / ms(fl.p99)));
        println!(
            "{:>22}: {:>7.1} rps  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>7} B   rps {:.3}× floor, p99 {:.2}× floor{}",
            t.name,
            f.rps,
            ms(f.p50),
            ms(f.p99),
            f.bytes,
            rps_ratio,
            p99_ratio,
            if f.doubled > 0 {
                format!("  ({} of {} answers rendered a part twice)", f.doubled, f.n)
            } else {
                String::new()
            }
        );
        if f.no_nonce > 0 {
            println!("{:>22}  {} of {} pages lacked their scripts' nonce in their CSP", "", f.no_nonce, f.n);
        }
        floor.get_or_insert(f);
    }
    let (achieved, p50, p99) = paced(&http, &targets[1], rate, secs).await;
    let (_, _, floor_p99) = paced(&http, &targets[0], rate, secs).await;
    println!(
        "grid paced at {rate}/s: achieved {achieved:.1}/s, p50 {:.2} ms, p99 {:.2} ms (floor p99 {:.2} ms, {:.2}×); \
         budget p99 ≤ 50 ms: {}",
        ms(p50),
        ms(p99),
        ms(floor_p99),
        ms(p99) / ms(floor_p99).max(0.001),
        if ms(p99) <= 50.0 && achieved >= f64::from(rate) * 0.95 { "met" } else { "NOT met" }
    );
}
