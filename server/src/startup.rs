//! Start-up and shutdown: the database (embedded cluster or `DATABASE_URL`),
//! the platform services, the router, and graceful shutdown on SIGINT/SIGTERM.

use crate::application::{Application, Parts};
use crate::config::ServeConfig;
use crate::{api, middleware};
use anyhow::Context;
use app::{shell, App};
use axum::extract::FromRef;
use axum::Router;
use domain::builds::infra::{BuildDatabases, BuildInfra};
use domain::config::Settings;
use domain::db::embedded::{Durability, EmbeddedPostgres};
use domain::db::Db;
use domain::mail::console::ConsoleMailbox;
use domain::platform::Platform;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub platform: Platform,
    /// Live build-log notifications for WebSockets.
    pub hub: crate::logs::EventHub,
    /// New-mail notifications for the mail viewer.
    pub mail_hub: crate::logs::MailHub,
    /// Environments the monitor has just sampled, for their live charts.
    pub sample_hub: crate::logs::SampleHub,
    /// The `Host` names this console answers to.
    pub hosts: Arc<domain::web_edge::HostAllowList>,
}

impl AppState {
    /// Starts the per-server background listeners too (must run inside a tokio runtime).
    pub fn new(leptos_options: LeptosOptions, platform: Platform) -> AppState {
        // One listening connection for the three live feeds: each would otherwise hold a pool connection.
        let mut hubs =
            crate::logs::EventHub::start_all(platform.clone(), &["ops_run_events", "ops_mail", "ops_samples"])
                .into_iter();
        let mut next = || hubs.next().expect("a hub per channel");
        let (hub, mail_hub, sample_hub) = (next(), crate::logs::MailHub(next()), crate::logs::SampleHub(next()));
        let previews = platform.builds.as_ref().map(|b| b.preview_domain.as_str());
        let instances = platform.builds.as_ref().map(|b| b.instances_domain.as_str());
        let hosts =
            Arc::new(domain::web_edge::HostAllowList::new(&platform.settings.public_url, previews).also(instances));
        if let Some(infra) = platform.builds.as_ref() {
            // Custom domains claimed through any console: this one's router and host check learn them.
            let (domains, p) = (infra.custom_domains.clone(), platform.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
                loop {
                    tick.tick().await;
                    if let Err(e) = domains.refresh(&p).await {
                        tracing::warn!(error = %format!("{e:#}"), "could not reload the custom domains");
                    }
                }
            });
        }
        AppState { leptos_options, platform, hub, mail_hub, sample_hub, hosts }
    }
}

/// The control-plane database and, in the embedded default, the cluster behind it.
pub struct Database {
    pub db: Db,
    embedded: Option<EmbeddedPostgres>,
    /// Where build databases go, when builds can run.
    pub builds: Option<BuildDatabases>,
}

impl Database {
    /// Opens the control-plane database. With `docker_gateway`, the embedded
    /// cluster also listens there and serves build databases.
    pub async fn open(cfg: &ServeConfig, docker_gateway: Option<String>) -> anyhow::Result<Database> {
        match &cfg.database_url {
            Some(url) => {
                let opts =
                    sqlx::postgres::PgConnectOptions::from_str(url).context("DATABASE_URL is not a PostgreSQL URL")?;
                let db = Db::prepare(opts, cfg.db_pool_size).await?;
                let builds = match (&cfg.builds_database_url, &cfg.builds_db_host) {
                    (Some(url), Some(host)) => {
                        let admin = sqlx::postgres::PgConnectOptions::from_str(url)
                            .context("ODOOOPS_BUILDS_DATABASE_URL is not a PostgreSQL URL")?;
                        let port = admin.get_port();
                        Some(BuildDatabases {
                            admin,
                            host_for_containers: host.clone(),
                            port_for_containers: port,
                            socket_dir: None,
                            role_key: db.private_secret("build_role_key").await?.into_bytes(),
                        })
                    }
                    _ => None,
                };
                Ok(Database { db, embedded: None, builds })
            }
            None => {
                std::fs::create_dir_all(&cfg.data_dir)
                    .with_context(|| format!("creating the data directory {}", cfg.data_dir.display()))?;
                let data_dir = std::fs::canonicalize(&cfg.data_dir)?;
                tracing::info!(dir = %data_dir.display(), "no DATABASE_URL: starting the embedded PostgreSQL cluster");
                let extra: Vec<String> = docker_gateway.iter().cloned().collect();
                let pg = EmbeddedPostgres::start_listening(&data_dir, Durability::Full, &extra).await?;
                pg.ensure_database("odooops").await?;
                let db = Db::prepare(pg.connect_options("odooops"), cfg.db_pool_size).await?;
                tracing::info!(port = pg.port(), "embedded PostgreSQL ready");
                let builds = match docker_gateway {
                    Some(gw) => Some(BuildDatabases {
                        admin: pg.builds_admin().await?,
                        host_for_containers: gw,
                        port_for_containers: pg.port(),
                        socket_dir: None,
                        role_key: db.private_secret("build_role_key").await?.into_bytes(),
                    }),
                    None => None,
                };
                Ok(Database { db, embedded: Some(pg), builds })
            }
        }
    }

    /// Closes the pools, then stops the embedded cluster cleanly.
    pub async fn shutdown(self) {
        self.db.close().await;
        if let Some(pg) = self.embedded {
            match pg.stop().await {
                Ok(()) => tracing::info!("embedded PostgreSQL stopped"),
                Err(e) => tracing::warn!(error = %e, "embedded PostgreSQL did not stop cleanly"),
            }
        }
    }
}

pub fn settings(cfg: &ServeConfig) -> Settings {
    let mut s = Settings::for_url(cfg.public_url());
    s.signup_open = cfg.signup_open;
    s.limits.sign_ups = usize::from(cfg.signup_limit);
    s.session_ttl = Duration::from_secs(cfg.session_hours.max(1) * 3600);
    s.shell.idle_timeout = Duration::from_secs(cfg.shell_idle_secs.max(1));
    s.shell.transcript_limit = cfg.shell_transcript_bytes;
    s.mail.max_message_bytes = cfg.mail_max_bytes.max(1024);
    s.trusted_proxies = cfg.trusted_proxy.clone();
    s.jobs.lease = Duration::from_secs(cfg.job_lease_secs.max(2));
    s.supabase_api = cfg.supabase_api.trim_end_matches('/').to_owned();
    if let Ok(Some(addr)) = cfg.ssh_listen() {
        s.shell.ssh_endpoint = Some((s.public_host(), addr.port()));
    }
    s
}

/// The console's own mail: through the SMTP relay when one is configured,
/// else into the console mailbox that platform owners read (`/console-mail`).
fn mailer(cfg: &ServeConfig, db: &Db) -> anyhow::Result<Arc<dyn domain::mailer::Mailer>> {
    let Some(relay) = cfg.smtp_relay.as_deref().filter(|r| !r.trim().is_empty()) else {
        tracing::info!(
            "no SMTP relay: the console's own mail waits in the console mailbox (platform owners: /console-mail)"
        );
        return Ok(Arc::new(ConsoleMailbox::new(db.clone())));
    };
    let from = cfg.mail_from.clone().unwrap_or_else(|| format!("OdooOps <noreply@{}>", settings(cfg).public_host()));
    let relay = crate::relay::RelayConfig::parse(
        relay,
        cfg.smtp_relay_security.as_deref(),
        cfg.smtp_relay_user.as_deref(),
        cfg.smtp_relay_password.as_deref(),
        &from,
    )?;
    tracing::info!(host = %relay.host, port = relay.port, security = ?relay.security, "console mail goes through the SMTP relay");
    Ok(Arc::new(crate::relay::SmtpMailer::new(&relay)?))
}

/// Leptos options: `Leptos.toml`, read with Leptos' own `get_configuration`
/// (`LEPTOS_*` variables override it, as cargo-leptos sets them when it runs
/// us), then this server's listen address and site root. Without the file:
/// the same values as built in.
pub fn leptos_options(cfg: &ServeConfig) -> anyhow::Result<LeptosOptions> {
    let mut options = match cfg.leptos_toml() {
        Some(path) => {
            let text = path.to_str().with_context(|| format!("{} is not a UTF-8 path", path.display()))?;
            leptos::config::get_configuration(Some(text))
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
                .leptos_options
        }
        None => {
            tracing::info!("no Leptos.toml: using the built-in site configuration");
            LeptosOptions::builder().output_name("odooops").site_pkg_dir("pkg").build()
        }
    };
    options.site_root = cfg.site_root().to_string_lossy().into();
    options.site_addr = cfg.listen;
    Ok(options)
}

/// The whole HTTP surface: console pages and server functions, the REST API, static files.
///
/// Layers, outermost first: the Host allow-list (421), the preview router
/// (preview hosts end there), security headers, the Origin check, then who is calling.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let platform = state.platform.clone();
    let fallback_platform = state.platform.clone();
    Router::new()
        .nest("/api", api::router())
        .route("/builds/{id}/connect", axum::routing::post(api::builds::connect))
        .route("/metrics", axum::routing::get(api::metrics::metrics))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(platform.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || provide_context(fallback_platform.clone()),
            shell,
        ))
        .layer(compression())
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::check_origin))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::edge::security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::preview::route))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::edge::allow_hosts))
        .with_state(state)
}

/// Pages, server functions, JSON, CSS and the WASM go out compressed (brotli or gzip, as the
/// client accepts): the WASM is about a third of its size gzipped. Downloads are not: archives
/// and dumps are compressed already, and their byte ranges must stay the stored bytes.
fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new("application/octet-stream"));
    tower_http::compression::CompressionLayer::new().compress_when(predicate)
}

/// Serves until SIGINT/SIGTERM, then shuts everything down in order.
pub async fn serve(cfg: ServeConfig) -> anyhow::Result<()> {
    let runtime = domain::runtime::from_env(cfg.runtime, cfg.registry.clone(), cfg.swarm_constraints.clone());
    let gateway = match runtime.ping().await {
        Ok(info) => {
            tracing::info!(runtime = %info.describe(), "runtime reachable");
            if cfg.builds {
                runtime.host_address().await.unwrap_or_default()
            } else {
                None
            }
        }
        Err(why) => {
            tracing::warn!("{why}");
            None
        }
    };
    let database = Database::open(&cfg, gateway).await?;
    let builds = match &database.builds {
        Some(dbs) if cfg.builds => Some(build_infra(&cfg, &database.db, dbs.clone()).await?),
        _ => {
            tracing::warn!("builds are off on this server: they need Docker and a builds database (see README)");
            None
        }
    };
    let catcher_host = database.builds.as_ref().map(|b| b.host_for_containers.clone());
    let http =
        tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("listening on {}", cfg.listen))?;
    let app = Application::build(Parts {
        db: database.db.clone(),
        runtime,
        mailer: mailer(&cfg, &database.db)?,
        settings: Settings {
            sealer: domain::sealed::Sealer::load(
                &cfg.data_dir,
                cfg.seal_key.as_deref(),
                cfg.seal_key_previous.as_deref(),
            )
            .context("the key that seals stored secrets")?,
            ..settings(&cfg)
        },
        builds,
        leptos: leptos_options(&cfg)?,
        http,
        worker: true,
        mail_catcher: mail_catcher_listeners(&cfg, catcher_host).await?,
        ssh: cfg.ssh_listen()?,
    })
    .await?;
    tracing::info!("OdooOps console on {} (site files from {})", cfg.public_url(), cfg.site_root().display());
    let served = app.run_until_stopped(shutdown_signal()).await;
    tracing::info!("shutting down");
    database.shutdown().await;
    served
}

/// The SMTP catcher's listeners: loopback and, when builds run here, where their containers reach this host.
async fn mail_catcher_listeners(
    cfg: &ServeConfig,
    container_host: Option<String>,
) -> anyhow::Result<Vec<tokio::net::TcpListener>> {
    if cfg.smtp_port == 0 {
        return Ok(Vec::new());
    }
    let mut hosts = vec!["127.0.0.1".to_owned()];
    hosts.extend(container_host.filter(|h| h != "127.0.0.1" && h.parse::<std::net::IpAddr>().is_ok()));
    let mut listeners = Vec::new();
    for host in hosts {
        let addr = format!("{host}:{}", cfg.smtp_port);
        listeners.push(
            tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("mail catcher: listening on {addr}"))?,
        );
    }
    Ok(listeners)
}

/// Directories, limits and keys of the build runner.
pub async fn build_infra(cfg: &ServeConfig, db: &Db, databases: BuildDatabases) -> anyhow::Result<BuildInfra> {
    std::fs::create_dir_all(&cfg.data_dir)?;
    let data = std::fs::canonicalize(&cfg.data_dir)?;
    let mail_catcher = (cfg.smtp_port != 0).then(|| (databases.host_for_containers.clone(), cfg.smtp_port));
    let installation = domain::builds::infra::installation_id(&db.private_secret("installation").await?);
    databases.prepare(&installation).await.context("preparing the builds' PostgreSQL server")?;
    if let Err(why) = domain::builds::egress::guard(cfg.runtime) {
        tracing::warn!(
            "build containers can reach link-local addresses (cloud metadata): {why}; \
             block 169.254.0.0/16 from Docker's bridges at the host firewall"
        );
    }
    Ok(BuildInfra {
        databases,
        repos_dir: data.join("repos"),
        work_dir: data.join("work"),
        standin_binary: cfg.standin_bin(),
        max_concurrent: cfg.max_builds.max(1),
        max_per_tenant: match cfg.max_builds_per_tenant {
            0 => cfg.max_builds.saturating_sub(1).max(1),
            n => n,
        },
        phase_timeout: Duration::from_secs(cfg.phase_timeout_mins.max(1) * 60),
        health_timeout: Duration::from_secs(cfg.health_timeout_secs.max(5)),
        worker: domain::jobs::console_name(),
        preview_domain: cfg.preview_domain.trim_start_matches('.').to_lowercase(),
        instances_domain: match cfg.instances_domain.trim().trim_start_matches('.') {
            "" => cfg.preview_domain.trim_start_matches('.').to_lowercase(),
            d => d.to_lowercase(),
        },
        preview_key: db.private_secret("preview_signing_key").await?.into_bytes(),
        installation,
        git_timeout: Duration::from_secs(cfg.git_timeout_secs.max(5)),
        allow_local_repos: cfg.allow_local_repos,
        custom_domains: domain::instances::domains::Domains::new(outbound_checks(cfg)?),
        traffic: Default::default(),
        mail_catcher,
        filestore_dir: data.join("filestore"),
        dedicated: domain::instances::dedicated::Servers::new(data.join("dedicated")),
        backups: domain::backups::BackupInfra::with_store(
            &data.join("backups"),
            domain::backups::store::from_setting(cfg.backup_store.as_deref(), data.join("backups").join("store"))?,
        )?,
    })
}

/// What the console checks before it fetches from an address a tenant chose
/// (custom-domain verification, an SSO issuer's discovery document).
fn outbound_checks(cfg: &ServeConfig) -> anyhow::Result<domain::instances::reach::Checks> {
    let checks = domain::instances::reach::Checks::from_settings(&cfg.domain_resolve, &cfg.domain_check_allow)
        .map_err(|e| anyhow::anyhow!("ODOOOPS_DOMAIN_RESOLVE / ODOOOPS_DOMAIN_CHECK_ALLOW: {e}"))?;
    if let Some(file) = &cfg.trust_ca {
        let pem = std::fs::read(file).with_context(|| format!("reading ODOOOPS_TRUST_CA {}", file.display()))?;
        checks.trust_pem(&pem).map_err(|e| anyhow::anyhow!("ODOOOPS_TRUST_CA {}: {e}", file.display()))?;
    }
    Ok(checks)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
