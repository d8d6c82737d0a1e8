//! Builds: the project grid's data and actions, webhook settings, and the
//! project's answers to preflight gates.

mod branch_commands;
mod build_now;
mod get_build;
mod kill_build;
mod list_builds;
mod preflight_override;
mod rebuild_build;
mod share_build;
mod webhook_settings;

pub use branch_commands::*;
pub use build_now::*;
pub use get_build::*;
pub use kill_build::*;
pub use list_builds::*;
pub use preflight_override::*;
pub use rebuild_build::*;
pub use share_build::*;
pub use webhook_settings::*;
