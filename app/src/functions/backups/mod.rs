//! Backups of an environment: list, take, restore (production's behind an
//! approval when the project requires one), and the project's schedule and retention.

mod backup_settings;
mod backups_context;
mod create_backup;
mod list_backups;
mod restore_approvals;
mod restore_backup;

pub use backup_settings::*;
pub use backups_context::*;
pub use create_backup::*;
pub use list_backups::*;
pub use restore_approvals::*;
pub use restore_backup::*;
