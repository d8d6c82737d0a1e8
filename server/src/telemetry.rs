//! Logging setup. `RUST_LOG` filters; the default is `info` for OdooOps.
//! (The integration tests log through their own canary layer: `tests/api/canary.rs`.)

use tracing_subscriber::EnvFilter;

pub fn init_for_cli() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn,hyper=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(true).try_init();
}
