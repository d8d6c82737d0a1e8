//! Projects: list, create, detail, members.

mod add_member;
mod build_settings;
mod create_project;
mod get_project;
mod list_projects;
mod people;
mod set_branch_stage;

pub use add_member::*;
pub use build_settings::*;
pub use create_project::*;
pub use get_project::*;
pub use list_projects::*;
pub use people::*;
pub use set_branch_stage::*;
