//! Reusable UI pieces.

pub mod confirm;
pub mod forms;
pub mod kit;
pub mod kit_tabs;
pub mod layout;
pub mod log_tail;
pub mod pager;
pub mod preflight;
pub mod project_ref;
pub mod restore_requests;
pub mod subdomain_field;
pub mod supabase_panel;
pub mod terminal;
pub mod upgrade_advisor;
pub mod when;
