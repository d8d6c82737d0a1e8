//! The services a running console holds, in one cloneable handle that server
//! functions, REST handlers and the CLI share.

use crate::auth::LoginThrottle;
use crate::builds::infra::BuildInfra;
use crate::config::Settings;
use crate::db::Db;
use crate::mailer::Mailer;
use crate::runtime::Runtime;
use std::sync::Arc;

#[derive(Clone)]
pub struct Platform(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    /// Where builds, previews and shells run (see `runtime`).
    pub runtime: Arc<dyn Runtime>,
    pub mailer: Arc<dyn Mailer>,
    /// Failed sign-ins per email and per client address.
    pub throttle: LoginThrottle,
    /// Sign-ups per client address.
    pub signups: LoginThrottle,
    /// Password-reset requests per email and per client address.
    pub resets: LoginThrottle,
    pub settings: Settings,
    /// Present when builds can run here (a container engine and a builds database).
    pub builds: Option<BuildInfra>,
    /// This process's name among the installation's consoles (`ops.consoles`).
    console: String,
    /// The runtime's last answer to a ping, and when: the dashboard shows it
    /// without asking Docker on every page view.
    runtime_seen: std::sync::Mutex<Option<(std::time::Instant, Result<crate::runtime::RuntimeInfo, String>)>>,
}

/// How long the dashboard's view of the runtime is reused.
pub const RUNTIME_STATUS_AGE: std::time::Duration = std::time::Duration::from_secs(10);

impl Platform {
    /// The guard for requests to URLs tenants chose (SSO discovery, webhooks,
    /// domain checks): the operator's pins, allowed networks and trusted roots.
    pub fn outbound_checks(&self) -> crate::instances::reach::Checks {
        self.builds.as_ref().map(|b| b.custom_domains.checks.clone()).unwrap_or_default()
    }

    pub fn new(db: Db, runtime: Arc<dyn Runtime>, mailer: Arc<dyn Mailer>, settings: Settings) -> Self {
        Self::with_builds(db, runtime, mailer, settings, None)
    }

    pub fn with_builds(
        db: Db,
        runtime: Arc<dyn Runtime>,
        mailer: Arc<dyn Mailer>,
        settings: Settings,
        builds: Option<BuildInfra>,
    ) -> Self {
        let l = &settings.limits;
        let console = builds.as_ref().map_or_else(crate::jobs::console_name, |b| b.worker.clone());
        Platform(Arc::new(Inner {
            db,
            runtime,
            mailer,
            throttle: LoginThrottle::new(l.sign_in_failures, l.window),
            signups: LoginThrottle::new(l.sign_ups, l.window),
            resets: LoginThrottle::new(l.reset_requests, l.window),
            settings,
            builds,
            console,
            runtime_seen: std::sync::Mutex::new(None),
        }))
    }

    /// The runtime's answer to a ping, at most [`RUNTIME_STATUS_AGE`] old.
    pub async fn runtime_status(&self) -> Result<crate::runtime::RuntimeInfo, String> {
        if let Ok(seen) = self.runtime_seen.lock() {
            if let Some((_, answer)) = seen.as_ref().filter(|(at, _)| at.elapsed() < RUNTIME_STATUS_AGE) {
                return answer.clone();
            }
        }
        let answer = self.runtime.ping().await;
        if let Ok(mut seen) = self.runtime_seen.lock() {
            *seen = Some((std::time::Instant::now(), answer.clone()));
        }
        answer
    }

    /// This process's name among the installation's consoles: its jobs and the shells it bridges carry it.
    pub fn console(&self) -> &str {
        &self.console
    }
}

impl std::ops::Deref for Platform {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
