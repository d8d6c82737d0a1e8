//! Backups of an environment: list, take, restore, and the project's schedule and retention.

mod backup_settings;
mod backups_context;
mod create_backup;
mod list_backups;
mod restore_backup;

pub use backup_settings::*;
pub use backups_context::*;
pub use create_backup::*;
pub use list_backups::*;
pub use restore_backup::*;
