//! Builds: the project grid's data and actions, and webhook settings.

mod kill_build;
mod list_builds;
mod rebuild_build;
mod webhook_settings;

pub use kill_build::*;
pub use list_builds::*;
pub use rebuild_build::*;
pub use webhook_settings::*;
