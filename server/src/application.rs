//! One wiring for every OdooOps process: `odooops serve`, the integration
//! tests and the benchmarks all assemble the running application here, so
//! what the tests exercise is what production runs. Callers choose the
//! parts (database, runtime, mailer, build infrastructure, bound listeners);
//! [`Application::build`] starts the platform's services on them.

use crate::startup::{router, AppState};
use anyhow::Context;
use axum::Router;
use domain::builds::infra::BuildInfra;
use domain::config::Settings;
use domain::db::Db;
use domain::mailer::Mailer;
use domain::platform::Platform;
use domain::runtime::Runtime;
use leptos::prelude::LeptosOptions;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What an application is made of. Listeners come bound, so a caller can
/// use port 0 and still put the address in its settings.
pub struct Parts {
    pub db: Db,
    pub runtime: Arc<dyn Runtime>,
    pub mailer: Arc<dyn Mailer>,
    pub settings: Settings,
    /// Where builds run, when they can here.
    pub builds: Option<BuildInfra>,
    pub leptos: LeptosOptions,
    /// The console's HTTP listener.
    pub http: TcpListener,
    /// Run this process's build and backup workers.
    pub worker: bool,
    /// The mail catcher's SMTP listeners (loopback, and where containers reach the host).
    pub mail_catcher: Vec<TcpListener>,
    /// The SSH gateway's address, if it runs.
    pub ssh: Option<SocketAddr>,
}

/// A built application: its services run; [`Application::run_until_stopped`] serves HTTP.
pub struct Application {
    pub addr: SocketAddr,
    pub platform: Platform,
    /// The mail catcher's bound addresses.
    pub smtp: Vec<SocketAddr>,
    /// The SSH gateway's bound address.
    pub ssh: Option<SocketAddr>,
    /// While the installation has no account: the one-time token the first owner needs (also logged).
    pub setup_token: Option<String>,
    listener: TcpListener,
    router: Router,
    runs_jobs: bool,
}

impl Application {
    pub async fn build(parts: Parts) -> anyhow::Result<Application> {
        let platform = Platform::with_builds(parts.db, parts.runtime, parts.mailer, parts.settings, parts.builds);
        let setup_token = domain::auth::setup::issue(&platform.db).await.context("issuing the setup token")?;
        if let Some(token) = &setup_token {
            tracing::warn!("{}", domain::auth::setup::log_line(&platform.settings.public_url, token));
        }
        if parts.worker {
            // Instances' own PostgreSQL servers run before anything that reaches them.
            if let Some(infra) = &platform.builds {
                domain::instances::dedicated::start_all(&platform, infra)
                    .await
                    .context("starting the dedicated PostgreSQL servers")?;
            }
            crate::worker::spawn(platform.clone());
        }
        let runs_jobs = parts.worker;
        let mut smtp = Vec::new();
        for listener in parts.mail_catcher {
            let addr = listener.local_addr()?;
            tracing::info!("mail catcher (SMTP) on {addr}");
            smtp.push(addr);
            tokio::spawn(domain::mail::smtp::serve(platform.clone(), listener));
        }
        let ssh = match parts.ssh {
            Some(addr) => {
                let bound = crate::ssh::start(platform.clone(), addr).await?;
                tracing::info!("SSH gateway on {bound}: ssh <build>@host -p {}", bound.port());
                Some(bound)
            }
            None => None,
        };
        let addr = parts.http.local_addr()?;
        let router = router(AppState::new(parts.leptos, platform.clone()));
        Ok(Application { addr, platform, smtp, ssh, setup_token, listener: parts.http, router, runs_jobs })
    }

    /// Wraps the whole router in one more layer (the tests watch responses so).
    pub fn map_router(mut self, wrap: impl FnOnce(Router) -> Router) -> Self {
        self.router = wrap(self.router);
        self
    }

    /// Serves until `stop` resolves; open connections (terminals, live logs)
    /// then get a 10 s grace period, not forever.
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        use axum::serve::ListenerExt;
        // Without TCP_NODELAY a small response waits for the client's delayed ACK (Nagle): 40 ms stalls.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        let server = axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                stop.await;
                let _ = stopping.send(true);
            });
        let served = tokio::select! {
            r = std::future::IntoFuture::into_future(server) => r,
            _ = async {
                let _ = stopped.wait_for(|s| *s).await;
                tokio::time::sleep(Duration::from_secs(10)).await;
            } => {
                tracing::warn!("connections still open 10 s after the stop signal; closing them");
                Ok(())
            }
        };
        if self.runs_jobs {
            // The other consoles take over what this one leaves at once, not after the lease.
            if let Err(e) = domain::jobs::queue::stopped(&self.platform, self.platform.console()).await {
                tracing::warn!(error = %e, "could not record this console's stop");
            }
        }
        served.context("serving HTTP")
    }
}
