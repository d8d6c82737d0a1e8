//! This console's share of the background work: the jobs runner over the
//! installation's one jobs table (see `domain::jobs`).

use domain::platform::Platform;

/// Starts the runner; it runs until the process ends.
pub fn spawn(p: Platform) -> tokio::task::JoinHandle<()> {
    domain::jobs::runner::Runner::new(p).spawn()
}
