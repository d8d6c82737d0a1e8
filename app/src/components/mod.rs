//! Reusable UI pieces.

pub mod forms;
pub mod layout;
pub mod log_tail;
pub mod subdomain_field;
pub mod terminal;
