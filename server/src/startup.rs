//! Start-up and shutdown: the database (embedded cluster or `DATABASE_URL`),
//! the platform services, the router, and graceful shutdown on SIGINT/SIGTERM.

use crate::config::ServeConfig;
use crate::{api, middleware};
use anyhow::Context;
use app::{shell, App};
use axum::extract::FromRef;
use axum::Router;
use domain::config::Settings;
use domain::db::embedded::{Durability, EmbeddedPostgres};
use domain::db::Db;
use domain::engine::{ContainerEngine, DockerEngine};
use domain::mailer::LogMailer;
use domain::platform::Platform;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub platform: Platform,
}

/// The control-plane database and, in the embedded default, the cluster behind it.
pub struct Database {
    pub db: Db,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    pub async fn open(cfg: &ServeConfig) -> anyhow::Result<Database> {
        match &cfg.database_url {
            Some(url) => {
                let opts =
                    sqlx::postgres::PgConnectOptions::from_str(url).context("DATABASE_URL is not a PostgreSQL URL")?;
                let db = Db::prepare(opts, cfg.db_pool_size).await?;
                Ok(Database { db, embedded: None })
            }
            None => {
                std::fs::create_dir_all(&cfg.data_dir)
                    .with_context(|| format!("creating the data directory {}", cfg.data_dir.display()))?;
                let data_dir = std::fs::canonicalize(&cfg.data_dir)?;
                tracing::info!(dir = %data_dir.display(), "no DATABASE_URL: starting the embedded PostgreSQL cluster");
                let pg = EmbeddedPostgres::start(&data_dir, Durability::Full).await?;
                pg.ensure_database("odooops").await?;
                let db = Db::prepare(pg.connect_options("odooops"), cfg.db_pool_size).await?;
                tracing::info!(port = pg.port(), "embedded PostgreSQL ready");
                Ok(Database { db, embedded: Some(pg) })
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
    s.session_ttl = Duration::from_secs(cfg.session_hours.max(1) * 3600);
    s
}

/// Leptos options: from cargo-leptos' environment when it runs us, else our defaults.
pub fn leptos_options(cfg: &ServeConfig) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "odooops".into()))
        .site_root(cfg.site_root().to_string_lossy().to_string())
        .site_pkg_dir(std::env::var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|_| "pkg".into()))
        .site_addr(cfg.listen)
        .build()
}

/// The whole HTTP surface: console pages and server functions, the REST API, static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let platform = state.platform.clone();
    Router::new()
        .nest("/api", api::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(platform.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::check_origin))
        .with_state(state)
}

/// Serves until SIGINT/SIGTERM, then shuts everything down in order.
pub async fn serve(cfg: ServeConfig) -> anyhow::Result<()> {
    let database = Database::open(&cfg).await?;
    let engine: Arc<dyn ContainerEngine> = Arc::new(DockerEngine::from_env());
    match engine.ping().await {
        Ok(info) => tracing::info!(version = %info.version, "Docker engine reachable"),
        Err(why) => tracing::warn!("{why}"),
    }
    let platform = Platform::new(database.db.clone(), engine, Arc::new(LogMailer), settings(&cfg));
    let state = AppState { leptos_options: leptos_options(&cfg), platform };
    let listener =
        tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("listening on {}", cfg.listen))?;
    tracing::info!("OdooOps console on {} (site files from {})", cfg.public_url(), cfg.site_root().display());
    let served = axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    tracing::info!("shutting down");
    database.shutdown().await;
    served.context("serving HTTP")
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
